/* SPDX-License-Identifier: MIT */
/*
 * libcohbuf: a small C library over cohbuf's uapi (/dev/cohbuf and
 * /dev/cohbuf-importer), the standard dma-buf ioctls, and the vgem calls
 * used to share buffers and fences with DRM drivers.
 *
 * Conventions: functions return 0 (or an fd, or a handle) on success and a
 * negative errno on failure; they never print.  File descriptors returned
 * are close-on-exec.
 */
#ifndef LIBCOHBUF_H
#define LIBCOHBUF_H

#include <stddef.h>
#include <stdint.h>

#include <linux/cohbuf.h>
#include <linux/cohbuf_importer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- the exporter ------------------------------------------------------- */

/* Open /dev/cohbuf. */
int cohbuf_open(void);

struct cohbuf_buffer_desc {
	uint64_t size;		/* bytes, rounded up to the page size */
	uint32_t flags;		/* COHBUF_ALLOC_* */
	uint32_t cache_mode;	/* COHBUF_CACHE_* */
	int read_only;		/* export O_RDONLY instead of O_RDWR */
	const char *name;	/* NULL or up to COHBUF_NAME_LEN - 1 chars */
};

/* Allocate a buffer; returns its dma-buf fd, the id through @id. */
int cohbuf_alloc(int dev, const struct cohbuf_buffer_desc *desc, uint64_t *id);

/* Describe a cohbuf dma-buf; room for @cap entries at @chunks (may be 0). */
int cohbuf_info(int dev, int buf, struct cohbuf_info_data *info,
		struct cohbuf_chunk_info *chunks, uint32_t cap);

/* Map [@offset, @offset + @len) of a dma-buf, shared; NULL on failure. */
void *cohbuf_map(int buf, uint64_t offset, size_t len, int writable);
int cohbuf_unmap(void *addr, size_t len);

/* --- any dma-buf -------------------------------------------------------- */

/* DMA_BUF_IOCTL_SYNC around CPU access; @flags is DMA_BUF_SYNC_READ/WRITE/RW. */
int cohbuf_cpu_access_begin(int buf, uint64_t flags);
int cohbuf_cpu_access_end(int buf, uint64_t flags);

/* The buffer's fences as a sync_file (DMA_BUF_SYNC_READ/WRITE semantics). */
int cohbuf_export_sync_file(int buf, uint32_t flags);
/* Add a sync_file's fence to the buffer (as a writer with DMA_BUF_SYNC_WRITE). */
int cohbuf_import_sync_file(int buf, int sync_file, uint32_t flags);
/* Wait up to @timeout_ms (-1: forever) for a dma-buf or sync_file fd. */
int cohbuf_fd_wait(int fd, int timeout_ms);
/* Name a dma-buf (DMA_BUF_SET_NAME). */
int cohbuf_set_name(int buf, const char *name);

/* CRC-32 as zlib's crc32(0, p, len): what the importer's CHECKSUM computes. */
uint32_t cohbuf_crc32(const void *p, size_t len);

/* Pass an fd to another process over a unix socket, and receive it. */
int cohbuf_send_fd(int sock, int fd);
int cohbuf_recv_fd(int sock);

/* --- the importer ------------------------------------------------------- */

/* Open a context on /dev/cohbuf-importer. */
int cohbuf_imp_open(void);
/* Import any dma-buf; returns the handle, size and entries through @out. */
int cohbuf_imp_import(int ctx, int buf, struct cohbuf_imp_import_data *out);
int cohbuf_imp_release(int ctx, uint32_t handle);
/* Submit a job described by @job (job_id and out_fence_fd are filled in). */
int cohbuf_imp_submit(int ctx, struct cohbuf_imp_submit_data *job);
/* Wait and reap: 0 with @status/@checksum filled, or -ETIME, -ENOENT, ... */
int cohbuf_imp_wait(int ctx, uint64_t job_id, uint64_t timeout_ns,
		    int *status, uint32_t *checksum);

/* --- vgem (DRM) --------------------------------------------------------- */

/* Find and open vgem's card node (loading vgem with modprobe if needed). */
int cohbuf_vgem_open(void);
/* PRIME: import a dma-buf into a DRM device, and export a handle again. */
int cohbuf_drm_import(int drm, int buf, uint32_t *handle);
int cohbuf_drm_export(int drm, uint32_t handle);
int cohbuf_drm_close_handle(int drm, uint32_t handle);
/* vgem fences: attach one to a handle (returns its id), and signal it. */
int cohbuf_vgem_fence_attach(int drm, uint32_t handle, int write);
int cohbuf_vgem_fence_signal(int drm, uint32_t fence);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHBUF_H */
