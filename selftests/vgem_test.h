/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vgem from the tests' side: finding its card node, and its fence ioctls,
 * which Debian's libdrm-dev does not ship a header for.  The two ioctls are
 * defined here from the kernel's documented vgem uapi.  A vgem fence stays
 * unsignalled until VGEM_FENCE_SIGNAL or until vgem's own 10 s timeout, which
 * makes it the tests' controllable foreign fence (Debian's kernels have no
 * sw_sync).
 */
#ifndef COHBUF_VGEM_TEST_H
#define COHBUF_VGEM_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/dma-buf.h>
#include <xf86drm.h>

struct test_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
#define TEST_VGEM_FENCE_WRITE 0x1
	__u32 out_fence;
	__u32 pad;
};

struct test_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define TEST_DRM_VGEM_FENCE_ATTACH 0x1
#define TEST_DRM_VGEM_FENCE_SIGNAL 0x2
#define TEST_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + TEST_DRM_VGEM_FENCE_ATTACH, struct test_vgem_fence_attach)
#define TEST_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + TEST_DRM_VGEM_FENCE_SIGNAL, struct test_vgem_fence_signal)

/* Open the vgem card node, loading vgem if needed; -1 if there is none. */
static inline int vgem_open(void)
{
	char path[64];
	int i, fd, tries;

	for (tries = 0; tries < 2; tries++) {
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
		if (system("modprobe vgem >/dev/null 2>&1") != 0)
			break;
	}
	return -1;
}

/* Attach a vgem fence to @handle; returns the fence id or -errno. */
static inline int vgem_fence_attach(int drm, __u32 handle, int write)
{
	struct test_vgem_fence_attach a = {
		.handle = handle, .flags = write ? TEST_VGEM_FENCE_WRITE : 0,
	};

	if (ioctl(drm, TEST_IOCTL_VGEM_FENCE_ATTACH, &a))
		return -errno;
	return (int)a.out_fence;
}

static inline int vgem_fence_signal(int drm, __u32 fence)
{
	struct test_vgem_fence_signal s = { .fence = fence };

	return ioctl(drm, TEST_IOCTL_VGEM_FENCE_SIGNAL, &s) ? -errno : 0;
}

/*
 * A controllable fence as a sync_file: a vgem buffer with a vgem write
 * fence on it, exported from that buffer's dma-buf.  *@fence is the vgem
 * fence id for vgem_fence_signal(); the buffer itself is released here.
 */
static inline int vgem_sync_file(int drm, __u32 *fence)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = 1, .bpp = 32 };
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };
	int buf_fd, f;

	if (drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -errno;
	f = vgem_fence_attach(drm, dumb.handle, 1);
	if (f < 0 || drmPrimeHandleToFD(drm, dumb.handle, DRM_CLOEXEC, &buf_fd)) {
		drmCloseBufferHandle(drm, dumb.handle);
		return f < 0 ? f : -errno;
	}
	if (ioctl(buf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		exp.fd = -errno;
	close(buf_fd);
	drmCloseBufferHandle(drm, dumb.handle);
	*fence = (__u32)f;
	return exp.fd;
}

#endif /* COHBUF_VGEM_TEST_H */
