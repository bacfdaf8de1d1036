/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the exporter's in-kernel API, for drivers that allocate cohbuf
 * buffers themselves (see Documentation/exporter.rst).
 *
 * A module either links against cohbuf.ko (and keeps it loaded for as long
 * as it is loaded itself), or calls through symbol_get()/symbol_put() and
 * copes with cohbuf not being loaded. Either way the returned dma-buf pins
 * cohbuf.ko until its last reference is dropped.
 */
#ifndef COHBUF_KAPI_H
#define COHBUF_KAPI_H

#include <linux/types.h>
#include <linux/cohbuf.h>

struct dma_buf;

struct dma_buf *cohbuf_alloc_dmabuf(size_t len, u32 fd_flags, u32 flags,
				    u32 cache_mode);

#endif /* COHBUF_KAPI_H */
