/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vivid, the kernel's virtual video test driver, for the V4L2 test and
 * the benchmark: load it with two capture instances (one per videobuf2
 * allocator), find an instance's capture node, set its format, and the
 * few V4L2 calls a capture loop makes.  Harness-free.
 */
#ifndef COHBUF_VIVID_TEST_H
#define COHBUF_VIVID_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include <linux/videodev2.h>

#include "cohbuf_test.h"

#define VIVID_PARAM(name)	"/sys/module/vivid/parameters/" name
/* What vivid_load() loads vivid with, if nobody loaded it before. */
#define VIVID_OPTIONS	"n_devs=2 allocators=0,1 node_types=0x1,0x1 num_inputs=1,1 input_types=0,0"
#define VIVID_VMALLOC		0	/* vivid's allocators=0 */
#define VIVID_DMA_CONTIG	1	/* vivid's allocators=1 */

/* Does this kernel have vivid, loaded or as a module modprobe can find? */
static inline int vivid_exists(void)
{
	char path[256];
	struct utsname u;

	if (test_module_loaded("vivid"))
		return 1;
	if (uname(&u))
		return 0;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	return test_count_lines(path, "/vivid.ko") > 0;
}

/* Load vivid unless it is loaded: 0, or -1 if modprobe failed. */
static inline int vivid_load(void)
{
	if (test_module_loaded("vivid"))
		return 0;
	if (system("modprobe vivid " VIVID_OPTIONS " >/dev/null 2>&1"))
		return -1;
	return test_module_loaded("vivid") ? 0 : -1;
}

/* The allocator vivid instance @inst uses (its "allocators" entry), or -1. */
static inline int vivid_allocator(unsigned int inst)
{
	char text[1024], *p = text;
	unsigned int i;

	if (read_text(VIVID_PARAM("allocators"), text, sizeof(text)) < 0)
		return -1;
	for (i = 0; i < inst && p; i++) {
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return p ? atoi(p) : -1;
}

/*
 * Open the video capture node of the first vivid instance that uses
 * @allocator: the fd (its path in @path), or -1.  vivid's bus_info is
 * "platform:vivid-NNN".
 */
static inline int vivid_open(int allocator, char *path, size_t len)
{
	struct v4l2_capability cap;
	unsigned int inst;
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, len, "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    sscanf((char *)cap.bus_info, "platform:vivid-%u", &inst) == 1 &&
		    vivid_allocator(inst) == allocator)
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Webcam input 0, @width x @height YUYV, @fps frames a second: 0 with the
 * format the driver settled on in @pix, or -errno.
 */
static inline int vivid_configure(int fd, __u32 width, __u32 height, __u32 fps,
				  struct v4l2_pix_format *pix)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int input = 0;

	if (ioctl(fd, VIDIOC_S_INPUT, &input))
		return -errno;
	f.fmt.pix.width = width;
	f.fmt.pix.height = height;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(fd, VIDIOC_S_FMT, &f) || ioctl(fd, VIDIOC_G_FMT, &f))
		return -errno;
	parm.parm.capture.timeperframe.numerator = 1;
	parm.parm.capture.timeperframe.denominator = fps;
	if (ioctl(fd, VIDIOC_S_PARM, &parm))
		return -errno;
	*pix = f.fmt.pix;
	return 0;
}

/* VIDIOC_REQBUFS: the number of buffers granted, or -errno. */
static inline int v4l2_reqbufs(int fd, __u32 memory, __u32 count)
{
	struct v4l2_requestbuffers r = {
		.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = memory,
	};

	return ioctl(fd, VIDIOC_REQBUFS, &r) ? -errno : (int)r.count;
}

/* VIDIOC_QBUF of dma-buf @buf (@length bytes; 0: its size) at @index: 0 or -errno. */
static inline int v4l2_qbuf_dmabuf(int fd, __u32 index, int buf, __u32 length)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .m.fd = buf, .length = length,
	};

	return ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
}

/* VIDIOC_QBUF of vivid's own buffer @index: 0 or -errno. */
static inline int v4l2_qbuf_mmap(int fd, __u32 index)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};

	return ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
}

/* Wait up to @wait_ms for a frame, then VIDIOC_DQBUF it into @b: 0 or -errno. */
static inline int v4l2_dqbuf(int fd, __u32 memory, struct v4l2_buffer *b, int wait_ms)
{
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = memory;
	if (cohbuf_fd_wait(fd, wait_ms))
		return -ETIME;
	return ioctl(fd, VIDIOC_DQBUF, b) ? -errno : 0;
}

static inline int v4l2_stream(int fd, int on)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return ioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type) ? -errno : 0;
}

#endif /* COHBUF_VIVID_TEST_H */
