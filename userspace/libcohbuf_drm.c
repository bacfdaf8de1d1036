// SPDX-License-Identifier: MIT
/*
 * libcohbuf-drm: PRIME through libdrm, and vgem's two fence ioctls, defined
 * here from the kernel's documented uapi since Debian's libdrm-dev has no
 * vgem header (see libcohbuf_drm.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>

#include "libcohbuf_drm.h"
#include "libcohbuf_internal.h"

/* vgem's fence uapi (drivers/gpu/drm/vgem, include/uapi/drm/vgem_drm.h). */
struct cohbuf_vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct cohbuf_vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define COHBUF_VGEM_FENCE_WRITE		0x1
#define COHBUF_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct cohbuf_vgem_fence_attach)
#define COHBUF_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct cohbuf_vgem_fence_signal)

static int open_vgem_card(void)
{
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		drmVersionPtr v;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -ENODEV;
}

int cohbuf_vgem_open(void)
{
	int fd = open_vgem_card();

	if (fd >= 0 || system("modprobe vgem >/dev/null 2>&1") != 0)
		return fd;
	return open_vgem_card();
}

int cohbuf_drm_import(int drm, int buf, uint32_t *handle)
{
	return drmPrimeFDToHandle(drm, buf, handle) ? -errno : 0;
}

int cohbuf_drm_export(int drm, uint32_t handle)
{
	int fd;

	if (drmPrimeHandleToFD(drm, handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	return fd;
}

int cohbuf_drm_close_handle(int drm, uint32_t handle)
{
	return drmCloseBufferHandle(drm, handle) ? -errno : 0;
}

int cohbuf_vgem_fence_attach(int drm, uint32_t handle, int write, uint32_t *fence)
{
	struct cohbuf_vgem_fence_attach a = {
		.handle = handle, .flags = write ? COHBUF_VGEM_FENCE_WRITE : 0,
	};
	int ret = lib_ioctl(drm, COHBUF_IOCTL_VGEM_FENCE_ATTACH, &a);

	if (ret)
		return ret;
	*fence = a.out_fence;
	return 0;
}

int cohbuf_vgem_fence_signal(int drm, uint32_t fence)
{
	struct cohbuf_vgem_fence_signal s = { .fence = fence };

	return lib_ioctl(drm, COHBUF_IOCTL_VGEM_FENCE_SIGNAL, &s);
}
