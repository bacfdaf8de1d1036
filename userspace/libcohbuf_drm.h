/* SPDX-License-Identifier: MIT */
/*
 * libcohbuf-drm: the optional DRM part of libcohbuf, for sharing buffers and
 * fences with DRM drivers: PRIME import/export and vgem's fences.  Links
 * libdrm (pkg-config cohbuf-drm); same return convention as libcohbuf.h.
 * vgem is a test driver: these calls exist for tests and demonstrations.
 */
#ifndef LIBCOHBUF_DRM_H
#define LIBCOHBUF_DRM_H

#include <stdint.h>

#include "libcohbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Find and open vgem's card node (loading vgem with modprobe if needed): an fd. */
int cohbuf_vgem_open(void);
/* PRIME: import a dma-buf into a DRM device (handle through @handle); export a handle (an fd). */
int cohbuf_drm_import(int drm, int buf, uint32_t *handle);
int cohbuf_drm_export(int drm, uint32_t handle);
int cohbuf_drm_close_handle(int drm, uint32_t handle);
/* vgem fences: attach one to a handle (its id through @fence), and signal it. */
int cohbuf_vgem_fence_attach(int drm, uint32_t handle, int write, uint32_t *fence);
int cohbuf_vgem_fence_signal(int drm, uint32_t fence);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHBUF_DRM_H */
