/* SPDX-License-Identifier: MIT */
/*
 * Transitional: libcohbuf's old names and return conventions, for callers
 * not yet converted (the selftests, which define COHBUF_LEGACY_NAMES).
 * Removed together with that define by the selftests' rename commit.
 */
#ifndef LIBCOHBUF_LEGACY_H
#define LIBCOHBUF_LEGACY_H

#include "libcohbuf.h"
#include "libcohbuf_drm.h"

#define cohbuf_open			cohbuf_exporter_open
#define cohbuf_alloc			cohbuf_exporter_alloc
#define cohbuf_info			cohbuf_exporter_info
#define cohbuf_map			cohbuf_dmabuf_map
#define cohbuf_unmap			cohbuf_dmabuf_unmap
#define cohbuf_cpu_access_begin		cohbuf_dmabuf_cpu_access_begin
#define cohbuf_cpu_access_end		cohbuf_dmabuf_cpu_access_end
#define cohbuf_export_sync_file		cohbuf_dmabuf_export_sync_file
#define cohbuf_import_sync_file		cohbuf_dmabuf_import_sync_file
#define cohbuf_set_name			cohbuf_dmabuf_set_name
#define cohbuf_send_fd			cohbuf_fd_send
#define cohbuf_recv_fd			cohbuf_fd_recv
#define cohbuf_crc32			cohbuf_importer_crc32
#define cohbuf_imp_open			cohbuf_importer_open
#define cohbuf_imp_release		cohbuf_importer_release
#define cohbuf_imp_submit		cohbuf_importer_submit
#define cohbuf_imp_wait			cohbuf_importer_wait

static inline int cohbuf_imp_import(int ctx, int buf, struct cohbuf_imp_import_data *out)
{
	uint32_t handle;
	int ret = cohbuf_importer_import(ctx, buf, &handle, out);

	return ret ? ret : (int)handle;
}

static inline int cohbuf_vgem_fence_attach_legacy(int drm, uint32_t handle, int write)
{
	uint32_t fence;
	int ret = cohbuf_vgem_fence_attach(drm, handle, write, &fence);

	return ret ? ret : (int)fence;
}

#define cohbuf_vgem_fence_attach	cohbuf_vgem_fence_attach_legacy

#endif /* LIBCOHBUF_LEGACY_H */
