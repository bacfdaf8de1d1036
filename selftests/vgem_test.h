/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vgem from the tests' side, on top of libcohbuf.  A vgem fence stays
 * unsignalled until VGEM_FENCE_SIGNAL or until vgem's own 10 s timeout,
 * which makes it the tests' controllable foreign fence (Debian's kernels
 * have no sw_sync).
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

#include <libcohbuf.h>
#include <libcohbuf_drm.h>

/*
 * A controllable fence as a sync_file: a vgem buffer with a vgem write
 * fence on it, exported from that buffer's dma-buf.  *@fence is the vgem
 * fence id for cohbuf_vgem_fence_signal(); the buffer itself is released here.
 */
static inline int vgem_sync_file(int drm, __u32 *fence)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = 1, .bpp = 32 };
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };
	int buf_fd, ret;
	__u32 f;

	if (drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		return -errno;
	ret = cohbuf_vgem_fence_attach(drm, dumb.handle, 1, &f);
	if (ret || drmPrimeHandleToFD(drm, dumb.handle, DRM_CLOEXEC, &buf_fd)) {
		drmCloseBufferHandle(drm, dumb.handle);
		return ret ? ret : -errno;
	}
	if (ioctl(buf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		exp.fd = -errno;
	close(buf_fd);
	drmCloseBufferHandle(drm, dumb.handle);
	*fence = f;
	return exp.fd;
}

#endif /* COHBUF_VGEM_TEST_H */
