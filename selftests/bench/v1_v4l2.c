// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench V1: V4L2 capture frame rate.  vivid's vb2-vmalloc instance
 * (loaded as cohbuf_v4l2_test loads it) captures 320x180 YUYV at the
 * highest frame rate its webcam input offers, into four cohbuf buffers
 * queued with V4L2_MEMORY_DMABUF (side A) and into four of vivid's own
 * V4L2_MEMORY_MMAP buffers (side B); the consumer dequeues and queues
 * again at once.  Frames a second, from the first frame dequeued to the
 * last; the ratio says whether cohbuf buffers cost the driver frames.
 * vivid paces its frames itself, so the rate is bounded by the one asked
 * for; under TCG drawing a frame may take longer than a frame time.
 */
#include <stdio.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"
#include "../vivid_test.h"

#define V1_WIDTH	320
#define V1_HEIGHT	180
#define V1_FPS		60
#define V1_BUFS		4
#define V1_WAIT_MS	10000

struct v1_side {
	int video;
	__u32 memory;		/* V4L2_MEMORY_DMABUF or _MMAP */
	int bufs[V1_BUFS];	/* DMABUF: the cohbuf dma-bufs */
	__u32 len;		/* the frame size */
	unsigned int frames;	/* per run */
};

static int v1_queue(const struct v1_side *s, __u32 index)
{
	if (s->memory == V4L2_MEMORY_DMABUF)
		return v4l2_qbuf_dmabuf(s->video, index, s->bufs[index], s->len);
	return v4l2_qbuf_mmap(s->video, index);
}

/* One run: REQBUFS, stream s->frames frames, free the buffers; frames/s or -1. */
static double v1_run(void *ctx)
{
	const struct v1_side *s = ctx;
	double t0 = 0, t1 = 0;
	struct v4l2_buffer b;
	unsigned int n;
	int ok = 1;
	__u32 i;

	if (v4l2_reqbufs(s->video, s->memory, V1_BUFS) < V1_BUFS)
		return -1;
	for (i = 0; i < V1_BUFS && ok; i++)
		ok = !v1_queue(s, i);
	ok = ok && !v4l2_stream(s->video, 1);
	for (n = 0; n < s->frames && ok; n++) {
		ok = !v4l2_dqbuf(s->video, s->memory, &b, V1_WAIT_MS) && b.index < V1_BUFS;
		if (!ok)
			break;
		if (!n)
			t0 = bench_now();
		t1 = bench_now();
		ok = !v1_queue(s, b.index);
	}
	v4l2_stream(s->video, 0);
	v4l2_reqbufs(s->video, s->memory, 0);
	return ok && t1 > t0 ? (s->frames - 1) / (t1 - t0) : -1;
}

void bench_v1(void)
{
	struct bench_figure f = {
		.group = "V1", .name = "capture_320x180", .a = "cohbuf_dmabuf",
		.b = "vivid_mmap", .unit = "frames/s", .higher_better = 1,
	};
	struct v1_side a = { .memory = V4L2_MEMORY_DMABUF }, b = { .memory = V4L2_MEMORY_MMAP };
	struct cohbuf_buffer_desc desc = { 0 };
	struct v4l2_pix_format pix = { 0 };
	char path[32] = "";
	int dev = -1, i;

	for (i = 0; i < V1_BUFS; i++)
		a.bufs[i] = -1;
	if (!vivid_exists()) {
		bench_skip(&f, "this kernel has no vivid module (CONFIG_VIDEO_VIVID is not set)");
		return;
	}
	a.video = vivid_load() ? -1 : vivid_open(VIVID_VMALLOC, path, sizeof(path));
	if (a.video < 0 || vivid_configure(a.video, V1_WIDTH, V1_HEIGHT, V1_FPS, &pix)) {
		bench_fail(&f, "cannot load or configure vivid's vb2-vmalloc instance");
		goto out;
	}
	b.video = a.video;
	a.len = pix.sizeimage;
	b.len = a.len;
	a.frames = bench_cfg.quick ? 3 : 2 * V1_FPS;
	b.frames = a.frames;
	desc.size = a.len;
	dev = cohbuf_exporter_open();
	for (i = 0; i < V1_BUFS; i++)
		a.bufs[i] = dev >= 0 ? cohbuf_exporter_alloc(dev, &desc, NULL) : -1;
	if (a.bufs[V1_BUFS - 1] < 0) {
		bench_fail(&f, "cannot allocate the cohbuf buffers");
		goto out;
	}
	printf("# V1: %s, %ux%u, %u bytes a frame, asked for %u frames/s, %u frames a run\n",
	       path, pix.width, pix.height, pix.sizeimage, V1_FPS, a.frames);
	bench_pair(&f, v1_run, &a, v1_run, &b);
out:
	for (i = 0; i < V1_BUFS; i++)
		if (a.bufs[i] >= 0)
			close(a.bufs[i]);
	if (dev >= 0)
		close(dev);
	if (a.video >= 0)
		close(a.video);
}
