// SPDX-License-Identifier: MIT
/*
 * cohbuf v4l2: a V4L2 capture device streams into cohbuf buffers.
 *
 *   The device's current format says how large a frame is; the tool
 *     allocates TOOL_V4L2_BUFFERS cohbuf buffers of that size and queues
 *     them with V4L2_MEMORY_DMABUF, so the capture driver writes straight
 *     into cohbuf memory (zero copies).
 *   Each frame it dequeues goes to cohbuf's importer, a second device, as
 *     a CHECKSUM job on the same dma-buf; the CPU computes the CRC of the
 *     same bytes between DMA_BUF_IOCTL_SYNC start and end, and the two
 *     must agree.
 *   The sequence numbers the driver gives must not go back; a jump is a
 *     frame the driver dropped (no buffer queued in time), a number given
 *     twice a frame of a driver that numbers frames by time and woke twice
 *     in one frame time (vivid under emulation); both are counted.
 *
 * Single-planar capture devices only (vivid's default, most webcams and
 * capture cards); a multi-planar one is refused with a message.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "cohbuf_tool.h"

#define TOOL_V4L2_BUFFERS	4
#define FRAME_TIMEOUT_MS	10000
#define NS_PER_S		1000000000ULL

struct v4l2_frame_buf {
	int fd;			/* the cohbuf dma-buf */
	uint32_t handle;	/* its import into the importer context */
	unsigned char *map;
};

struct v4l2_run {
	int video, dev, ctx;
	struct v4l2_format fmt;
	struct v4l2_frame_buf bufs[TOOL_V4L2_BUFFERS];
	unsigned int nr_bufs;
	uint64_t size;		/* bytes of each buffer */
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret && errno == EINTR);
	return ret ? -errno : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Open @path and check that it captures single-planar frames by streaming. */
static int open_capture(struct v4l2_run *r, const char *path)
{
	struct v4l2_capability cap = { 0 };
	uint32_t caps;
	int ret;

	r->video = open(path, O_RDWR | O_CLOEXEC);
	if (r->video < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = xioctl(r->video, VIDIOC_QUERYCAP, &cap);
	if (ret) {
		fprintf(stderr, "%s: VIDIOC_QUERYCAP: %s (not a V4L2 device?)\n", path,
			strerror(-ret));
		return -1;
	}
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
		fprintf(stderr, "%s: %s is no single-planar streaming capture device\n",
			path, (const char *)cap.card);
		return -1;
	}
	r->fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ret = xioctl(r->video, VIDIOC_G_FMT, &r->fmt);
	if (ret || !r->fmt.fmt.pix.sizeimage) {
		fprintf(stderr, "%s: VIDIOC_G_FMT: %s\n", path, ret ? strerror(-ret) : "no size");
		return -1;
	}
	printf("%s: %s (driver %s), %ux%u %.4s, %u bytes a frame\n", path,
	       (const char *)cap.card, (const char *)cap.driver, r->fmt.fmt.pix.width,
	       r->fmt.fmt.pix.height, (const char *)&r->fmt.fmt.pix.pixelformat,
	       r->fmt.fmt.pix.sizeimage);
	return 0;
}

/* The cohbuf buffers, imported into one importer context, and REQBUFS. */
static int alloc_buffers(struct v4l2_run *r, const struct cohbuf_buffer_desc *desc)
{
	struct v4l2_requestbuffers req = {
		.count = TOOL_V4L2_BUFFERS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	struct cohbuf_buffer_desc d = *desc;
	uint64_t page = tool_page_size();
	unsigned int i;
	int ret;

	r->size = (r->fmt.fmt.pix.sizeimage + page - 1) / page * page;
	d.size = r->size;
	r->dev = cohbuf_exporter_open();
	r->ctx = cohbuf_importer_open();
	if (r->dev < 0 || r->ctx < 0) {
		fprintf(stderr, "%s: %s\n", r->dev < 0 ? "/dev/cohbuf" : "/dev/cohbuf-importer",
			strerror(-(r->dev < 0 ? r->dev : r->ctx)));
		return -1;
	}
	for (i = 0; i < TOOL_V4L2_BUFFERS; i++) {
		struct v4l2_frame_buf *b = &r->bufs[i];

		b->fd = cohbuf_exporter_alloc(r->dev, &d, NULL);
		if (b->fd < 0) {
			fprintf(stderr, "COHBUF_IOCTL_ALLOC of %llu bytes: %s\n",
				(unsigned long long)r->size, strerror(-b->fd));
			return -1;
		}
		r->nr_bufs++;
		ret = cohbuf_importer_import(r->ctx, b->fd, &b->handle, NULL);
		b->map = cohbuf_dmabuf_map(b->fd, 0, r->size, 0);
		if (ret || !b->map) {
			fprintf(stderr, "buffer %u: %s\n", i,
				ret ? "the importer refused it" : "mmap failed");
			return -1;
		}
	}
	ret = xioctl(r->video, VIDIOC_REQBUFS, &req);
	if (ret) {
		fprintf(stderr, "VIDIOC_REQBUFS (V4L2_MEMORY_DMABUF): %s\n", strerror(-ret));
		return -1;
	}
	if (req.count < r->nr_bufs)
		r->nr_bufs = req.count;
	printf("%u cohbuf buffers of %llu bytes (%s%s) queued with V4L2_MEMORY_DMABUF\n",
	       r->nr_bufs, (unsigned long long)r->size,
	       desc->cache_mode == COHBUF_CACHE_WC ? "write-combine" : "cached",
	       desc->flags & COHBUF_ALLOC_CONTIGUOUS ? ", contiguous" : "");
	return 0;
}

static int queue_buffer(struct v4l2_run *r, unsigned int i)
{
	struct v4l2_buffer vb = {
		.index = i,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
		.m.fd = r->bufs[i].fd,
		.length = (uint32_t)r->size,
	};
	int ret = xioctl(r->video, VIDIOC_QBUF, &vb);

	if (ret)
		fprintf(stderr, "VIDIOC_QBUF of buffer %u: %s%s\n", i, strerror(-ret),
			ret == -EFAULT || ret == -EINVAL ?
			" (a contiguous-only driver needs --contiguous)" : "");
	return ret;
}

/* Wait for a frame and dequeue it into @vb: 0, or -1 after a message. */
static int dequeue_frame(struct v4l2_run *r, struct v4l2_buffer *vb)
{
	struct pollfd p = { .fd = r->video, .events = POLLIN };
	int ret = poll(&p, 1, FRAME_TIMEOUT_MS);

	if (ret <= 0) {
		fprintf(stderr, "no frame within %d ms\n", FRAME_TIMEOUT_MS);
		return -1;
	}
	memset(vb, 0, sizeof(*vb));
	vb->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	vb->memory = V4L2_MEMORY_DMABUF;
	ret = xioctl(r->video, VIDIOC_DQBUF, vb);
	if (ret || vb->index >= r->nr_bufs || vb->bytesused > r->size) {
		fprintf(stderr, "VIDIOC_DQBUF: %s\n", ret ? strerror(-ret) : "a bad buffer");
		return -1;
	}
	return 0;
}

/* The importer's CRC of the frame in buffer @i against the CPU's: 0 if equal. */
static int check_frame(struct v4l2_run *r, unsigned int i, uint32_t bytes)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_CHECKSUM,
		.src_handle = r->bufs[i].handle,
		.len = bytes,
	};
	uint32_t dev_crc = 0, cpu_crc;
	int status = 1;
	int ret;

	ret = cohbuf_importer_submit(r->ctx, &job);
	if (!ret)
		ret = cohbuf_importer_wait(r->ctx, job.job_id, 10 * NS_PER_S, &status, &dev_crc);
	if (ret || status) {
		fprintf(stderr, "CHECKSUM job: %s\n", strerror(ret ? -ret : -status));
		return -1;
	}
	if (cohbuf_dmabuf_cpu_access_begin(r->bufs[i].fd, DMA_BUF_SYNC_READ))
		return -1;
	cpu_crc = cohbuf_importer_crc32(r->bufs[i].map, bytes);
	cohbuf_dmabuf_cpu_access_end(r->bufs[i].fd, DMA_BUF_SYNC_READ);
	if (cpu_crc != dev_crc) {
		fprintf(stderr, "buffer %u: importer CRC %#010x, CPU CRC %#010x\n", i,
			dev_crc, cpu_crc);
		return -1;
	}
	return 0;
}

/* Stream @frames frames, each checked; the summary on stdout. */
static int capture(struct v4l2_run *r, uint64_t frames)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, failed = 0;
	uint64_t n, dropped = 0, repeated = 0, bytes = 0, t0;
	struct v4l2_buffer vb;
	int64_t last = -1;
	unsigned int i;

	for (i = 0; i < r->nr_bufs; i++)
		if (queue_buffer(r, i))
			return -1;
	if (xioctl(r->video, VIDIOC_STREAMON, &type)) {
		perror("VIDIOC_STREAMON");
		return -1;
	}
	t0 = now_ns();
	for (n = 0; n < frames && !failed; n++) {
		if (dequeue_frame(r, &vb)) {
			failed = 1;
			break;
		}
		if (last >= 0 && (int64_t)vb.sequence < last) {
			fprintf(stderr, "sequence %u after %lld\n", vb.sequence, (long long)last);
			failed = 1;
		} else if (last >= 0 && (int64_t)vb.sequence == last) {
			repeated++;	/* a driver that numbers by time, woken twice */
		} else if (last >= 0) {
			dropped += vb.sequence - (uint64_t)last - 1;
		}
		last = vb.sequence;
		bytes += vb.bytesused;
		if (vb.flags & V4L2_BUF_FLAG_ERROR)
			fprintf(stderr, "frame %u: the driver flagged an error\n", vb.sequence);
		if (check_frame(r, vb.index, vb.bytesused) || queue_buffer(r, vb.index))
			failed = 1;
	}
	xioctl(r->video, VIDIOC_STREAMOFF, &type);
	printf("%llu frames (%llu bytes) in %.2f s, last sequence %lld, %llu dropped, %llu twice\n",
	       (unsigned long long)n, (unsigned long long)bytes,
	       (double)(now_ns() - t0) / NS_PER_S, (long long)last,
	       (unsigned long long)dropped, (unsigned long long)repeated);
	if (!failed)
		printf("every frame's importer CRC-32 matched the CPU's\n");
	return failed ? -1 : 0;
}

static void release(struct v4l2_run *r)
{
	struct v4l2_requestbuffers req = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	unsigned int i;

	if (r->video >= 0) {
		xioctl(r->video, VIDIOC_REQBUFS, &req);	/* count 0: free them */
		close(r->video);
	}
	for (i = 0; i < TOOL_V4L2_BUFFERS; i++) {
		if (r->bufs[i].map)
			cohbuf_dmabuf_unmap(r->bufs[i].map, r->size);
		if (r->bufs[i].fd >= 0)
			close(r->bufs[i].fd);
	}
	if (r->ctx >= 0)
		close(r->ctx);
	if (r->dev >= 0)
		close(r->dev);
}

int tool_v4l2(const char *path, uint64_t frames, const struct cohbuf_buffer_desc *desc)
{
	struct v4l2_run r = { .video = -1, .dev = -1, .ctx = -1 };
	unsigned int i;
	int ret;

	for (i = 0; i < TOOL_V4L2_BUFFERS; i++)
		r.bufs[i].fd = -1;
	ret = open_capture(&r, path) || alloc_buffers(&r, desc) || capture(&r, frames);
	release(&r);
	return ret ? TOOL_FAILED : TOOL_OK;
}
