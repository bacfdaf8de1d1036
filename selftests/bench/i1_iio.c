// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench I1: IIO read() against IIO DMABUF, the same stream of
 * cohbuf_iio (the simulated ADC as an IIO device, issue 15) in the same
 * boot.  Four channels, blocks of I1_BLOCK bytes, the manual clock: the
 * consumer writes a block's worth of frames to cohbuf_advance and the
 * device produces them at once, in that write, so the producer runs
 * exactly as fast as the consumer asks and neither side waits for a
 * timer or loses a frame.  Side A enqueues I1_DEPTH cohbuf dma-bufs with
 * IIO_BUFFER_DMABUF_ENQUEUE, and for each block waits for its fence
 * (poll on the dma-buf), reads every sample in place between
 * DMA_BUF_IOCTL_SYNC start and end, and enqueues it again; side B reads
 * each block with read() on the buffer fd (one copy out of the IIO
 * ring) and reads every sample of its copy.  Both check the first and
 * the last sample of each block against the payload.  MiB/s of samples
 * consumed, from the enable to the last block read; the ratio A/B is the
 * figure ADI reported as 4.1x on a ZCU102.  The producer is the CPU in
 * both, so its cost is in both sides.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"
#include "../iio_test.h"

#define I1_FRAME	(S_SAMPLE_BYTES * IIO_NR_CHANNELS)
#define I1_BLOCK	(64u << 10)		/* bytes: 8192 frames, under one tick's 65536 */
#define I1_BLOCK_FRAMES	(I1_BLOCK / I1_FRAME)
#define I1_DEPTH	4			/* blocks enqueued; the read ring holds as many */
#define I1_BLOCKS	256			/* a run: 16 MiB */
#define I1_QUICK_BLOCKS	8
#define I1_WAIT_MS	2000

struct i1_ctx {
	int num;		/* iio:deviceN */
	int fd;			/* its buffer 0, non-blocking */
	int adv;		/* cohbuf_advance, open for writing */
	int bufs[I1_DEPTH];	/* side A: the cohbuf dma-bufs */
	void *maps[I1_DEPTH];
	unsigned char *copy;	/* side B: read()'s destination */
	unsigned int blocks;	/* per run */
	__u64 sum;		/* of every sample read, so that none is skipped */
};

/* The manual clock: produce @frames frames now, through the open attribute. */
static int i1_advance(const struct i1_ctx *c, unsigned int frames)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", frames);

	return pwrite(c->adv, text, len, 0) == len ? 0 : -1;
}

/* Enable or disable buffer 0: 0 or -1. */
static int i1_enable(const struct i1_ctx *c, int on)
{
	return iio_write(c->num, "buffer0/enable", on) ? -1 : 0;
}

static double i1_rate(const struct i1_ctx *c, double t0, double t1)
{
	return t1 > t0 ? (double)c->blocks * I1_BLOCK / (1 << 20) / (t1 - t0) : -1;
}

/* Side A: one run of the DMABUF path; MiB/s, or -1. */
static double i1_dmabuf(void *ctx)
{
	struct i1_ctx *c = ctx;
	unsigned int i, n, attached = 0;
	double t0, t1 = 0;
	int ok = 1;

	for (i = 0; i < I1_DEPTH && ok; i++) {
		ok = !iio_dmabuf_ioctl(c->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, c->bufs[i]);
		attached += ok;
		ok = ok && !iio_enqueue(c->fd, c->bufs[i], I1_BLOCK, 0);
	}
	ok = ok && !i1_enable(c, 1);
	t0 = bench_now();
	for (n = 0; n < c->blocks && ok; n++) {
		i = n % I1_DEPTH;
		ok = !i1_advance(c, I1_BLOCK_FRAMES) && dbuf_ready(c->bufs[i], I1_WAIT_MS) == 1 &&
		     !cohbuf_dmabuf_cpu_access_begin(c->bufs[i], DMA_BUF_SYNC_READ);
		if (!ok)
			break;
		ok = s_block_ok(c->maps[i], (__u64)n * I1_BLOCK_FRAMES, I1_BLOCK_FRAMES,
				IIO_NR_CHANNELS, &c->sum);
		ok = !cohbuf_dmabuf_cpu_access_end(c->bufs[i], DMA_BUF_SYNC_READ) && ok;
		if (ok && n + I1_DEPTH < c->blocks)
			ok = !iio_enqueue(c->fd, c->bufs[i], I1_BLOCK, 0);
	}
	t1 = bench_now();
	/* The disable completes what is still enqueued; then nothing is attached. */
	ok = !i1_enable(c, 0) && ok;
	for (i = 0; i < attached; i++)
		ok = !iio_dmabuf_ioctl(c->fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, c->bufs[i]) && ok;
	ok = !iio_wait_attr(c->num, "buffer0/dmabufs_attached", 0) && ok;
	return ok ? i1_rate(c, t0, t1) : -1;
}

/* Side B: one run of the read() path; MiB/s, or -1. */
static double i1_read(void *ctx)
{
	struct i1_ctx *c = ctx;
	double t0, t1 = 0;
	unsigned int n;
	int ok;

	ok = !i1_enable(c, 1);
	t0 = bench_now();
	for (n = 0; n < c->blocks && ok; n++)
		ok = !i1_advance(c, I1_BLOCK_FRAMES) &&
		     !iio_read_frames(c->fd, c->copy, I1_BLOCK_FRAMES, I1_FRAME) &&
		     s_block_ok(c->copy, (__u64)n * I1_BLOCK_FRAMES, I1_BLOCK_FRAMES,
				IIO_NR_CHANNELS, &c->sum);
	t1 = bench_now();
	ok = !i1_enable(c, 0) && ok;
	return ok ? i1_rate(c, t0, t1) : -1;
}

/* The device as both sides want it, buffer disabled: NULL or what failed. */
static const char *i1_setup(struct i1_ctx *c)
{
	struct cohbuf_buffer_desc desc = { .size = I1_BLOCK };
	int dev, i;

	if (iio_cached_reported())
		desc.cache_mode = COHBUF_CACHE_WC;	/* see iio_test.h */

	if (iio_write(c->num, "buffer0/enable", 0) ||
	    write_text(iio_attr(c->num, "cohbuf_clock"), "manual") ||
	    iio_set_channels(c->num, (1u << IIO_NR_CHANNELS) - 1) ||
	    iio_write(c->num, "buffer0/length", I1_DEPTH * I1_BLOCK_FRAMES) ||
	    iio_write(c->num, "buffer0/watermark", 1))
		return "cannot set up cohbuf_iio's buffer";
	c->adv = open(iio_attr(c->num, "cohbuf_advance"), O_WRONLY | O_CLOEXEC);
	c->fd = iio_buffer_fd(c->num, O_NONBLOCK);
	if (c->adv < 0 || c->fd < 0)
		return "cannot open cohbuf_advance or the buffer fd";
	dev = cohbuf_exporter_open();
	for (i = 0; i < I1_DEPTH && dev >= 0; i++) {
		c->bufs[i] = cohbuf_exporter_alloc(dev, &desc, NULL);
		if (c->bufs[i] < 0)
			break;
		c->maps[i] = mmap(NULL, I1_BLOCK, PROT_READ, MAP_SHARED, c->bufs[i], 0);
		if (c->maps[i] == MAP_FAILED)
			break;
	}
	if (dev >= 0)
		close(dev);
	if (i < I1_DEPTH)
		return "cannot allocate or map the cohbuf buffers";
	c->copy = bench_anon(I1_BLOCK);
	return c->copy ? NULL : "cannot allocate read()'s buffer";
}

static void i1_teardown(struct i1_ctx *c)
{
	int i;

	for (i = 0; i < I1_DEPTH; i++) {
		if (c->maps[i] != MAP_FAILED)
			munmap(c->maps[i], I1_BLOCK);
		if (c->bufs[i] >= 0)
			close(c->bufs[i]);
	}
	if (c->copy)
		munmap(c->copy, I1_BLOCK);
	if (c->fd >= 0)
		close(c->fd);
	if (c->adv >= 0)
		close(c->adv);
}

void bench_i1(void)
{
	struct bench_figure f = {
		.group = "I1", .name = "iio_64k_blocks", .a = "iio_dmabuf",
		.b = "iio_read", .unit = "MiB/s", .higher_better = 1,
	};
	struct i1_ctx c = { .fd = -1, .adv = -1 };
	int loaded = test_module_loaded("cohbuf_iio");
	const char *why;
	int i;

	for (i = 0; i < I1_DEPTH; i++) {
		c.bufs[i] = -1;
		c.maps[i] = MAP_FAILED;
	}
	why = iio_load();
	if (why) {
		bench_skip(&f, why);
		return;
	}
	c.num = iio_find_device();
	why = c.num < 0 ? "cohbuf_iio is loaded but no IIO device is named " IIO_NAME
			: iio_dmabuf_missing(c.num);
	if (why) {
		bench_skip(&f, why);
		goto out;
	}
	why = i1_setup(&c);
	if (why) {
		bench_fail(&f, why);
		goto out;
	}
	c.blocks = bench_cfg.quick ? I1_QUICK_BLOCKS : I1_BLOCKS;
	printf("# I1: iio:device%d, %u channels, %u-byte blocks (%u frames), depth %u, %u a run\n",
	       c.num, IIO_NR_CHANNELS, I1_BLOCK, I1_BLOCK_FRAMES, I1_DEPTH, c.blocks);
	bench_pair(&f, i1_dmabuf, &c, i1_read, &c);
	printf("# I1: checksum of the samples read %llx\n", (unsigned long long)c.sum);
out:
	i1_teardown(&c);
	/* Leave the importer unloadable, as cohbuf_iio_test does. */
	if (!loaded && test_unload_module("cohbuf_iio"))
		printf("# I1: cannot unload cohbuf_iio: %s\n", strerror(errno));
}
