/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the only place that depends on the kernel version.
 *
 * Built and checked against 6.1 and 6.12; the namespace case covers 6.13+.
 * An out-of-tree module that supports several kernels cannot avoid testing
 * LINUX_VERSION_CODE, so the test is confined to this one macro (and
 * scripts/static-checks lets checkpatch accept it in this file only).
 */
#ifndef COHBUF_COMPAT_H
#define COHBUF_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/version.h>

#define COHBUF_KERNEL_AT_LEAST(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/* Symbol namespace names are string literals from 6.13 on. */
#if COHBUF_KERNEL_AT_LEAST(6, 13)
#define COHBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define COHBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/* vm_flags is read-only from 6.3 on and changed through vm_flags_mod(). */
static inline void cohbuf_vm_flags_mod(struct vm_area_struct *vma,
				       vm_flags_t set, vm_flags_t clear)
{
#if COHBUF_KERNEL_AT_LEAST(6, 3)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * dma_buf_vmap() expects the reservation lock held from 6.2 on, and the
 * _unlocked variants take it. 6.1 has no _unlocked vmap: its dma_buf_vmap()
 * serialises on dmabuf->lock by itself and must be called without the
 * reservation lock. (dma_buf_map_attachment_unlocked() exists on both.)
 */
static inline int cohbuf_dma_buf_vmap_unlocked(struct dma_buf *dmabuf,
					       struct iosys_map *map)
{
#if COHBUF_KERNEL_AT_LEAST(6, 2)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void cohbuf_dma_buf_vunmap_unlocked(struct dma_buf *dmabuf,
						  struct iosys_map *map)
{
#if COHBUF_KERNEL_AT_LEAST(6, 2)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

#endif /* COHBUF_COMPAT_H */
