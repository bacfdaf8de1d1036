// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench S3: the same stream zero-copy and through a read() copy
 * path (s_run.c: S_ZERO_COPY against S_COPY_READ, a udmabuf over a memfd
 * that the consumer pread()s, one copy_to_user per block), at 1 MiB
 * blocks, 8 channels, at a nominal rate the device cannot reach
 * (COHBUF_STREAM_MAX_RATE_HZ), so that both run as fast as they can; the
 * two paths interleaved, bench_cfg.reps runs each.
 *
 * The same stream in ring mode (s_ring.c, a ring of S3_DEPTH records)
 * runs third in each round, against the same copy path.
 *
 * Two figures per zero-copy way (queue, ring): the consumer's rate, MiB
 * consumed per second of its own CPU time (getrusage: what the consumer
 * can sustain, the figure the 2x target of issue 14 is read on); and the
 * MiB/s delivered end to end, which under TCG shares one host thread with
 * the simulated device's work of generating every sample.  With each
 * side, the CPU time per GiB of the consumer and of every CPU (what was
 * not idle: the consumer, the
 * device's work item and the rest of the guest).
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

#define S3_CHANNELS	8u
#define S3_BLOCK_BYTES	(1024u << 10)
#define S3_QUICK_BLOCK	(64u << 10)
#define S3_DEPTH	4u
#define S3_SECONDS	1.0
#define S3_QUICK_S	0.1
#define S3_UDMABUF	"/dev/udmabuf"
#define S3_GIB		1073741824.0

struct s3_side {
	double consumer[16], delivered[16], cpu_self[16], cpu_all[16];
};

/* One run of @path into slot @i of @s; NULL or why not. */
static const char *s3_once(int ctx, int dev, int udev, enum s_path path,
			   struct s3_side *s, unsigned int i)
{
	unsigned int block = bench_cfg.quick ? S3_QUICK_BLOCK : S3_BLOCK_BYTES;
	struct s_cfg c = {
		.path = path, .channels = S3_CHANNELS,
		.rate_hz = COHBUF_STREAM_MAX_RATE_HZ,
		.block_frames = block / (2 * S3_CHANNELS), .depth = S3_DEPTH,
		.seconds = bench_cfg.quick ? S3_QUICK_S : S3_SECONDS,
	};
	struct s_result r;
	const char *why = s_run(ctx, dev, udev, &c, &r);
	double gib = r.bytes / S3_GIB;

	if (why)
		return why;
	s->consumer[i] = r.cpu_self > 0 ? (double)r.bytes / (1 << 20) / r.cpu_self : 0;
	s->delivered[i] = (double)r.bytes / (1 << 20) / r.elapsed;
	s->cpu_self[i] = gib > 0 ? r.cpu_self / gib : 0;
	s->cpu_all[i] = gib > 0 ? r.cpu_all / gib : 0;
	return NULL;
}

void bench_s3(void)
{
	char name[S3_FIGURES][32];
	struct bench_figure f[S3_FIGURES] = {
		{ .group = "S3", .name = name[0], .a = "zero_copy", .b = "copy_read",
		  .unit = "MiB/s", .higher_better = 1 },
		{ .group = "S3", .name = name[1], .a = "zero_copy", .b = "copy_read",
		  .unit = "MiB/s", .higher_better = 1 },
		{ .group = "S3", .name = name[2], .a = "ring", .b = "copy_read",
		  .unit = "MiB/s", .higher_better = 1 },
		{ .group = "S3", .name = name[3], .a = "ring", .b = "copy_read",
		  .unit = "MiB/s", .higher_better = 1 },
	};
	struct s3_side a = { 0 }, b = { 0 }, ring = { 0 };
	unsigned int n = bench_cfg.reps < 16 ? bench_cfg.reps : 16, i, k;
	int dev = cohbuf_exporter_open();
	int udev = open(S3_UDMABUF, O_RDWR | O_CLOEXEC);
	int ctx = cohbuf_importer_open();
	const char *why = ctx < 0 ? "cannot open /dev/cohbuf-importer" : NULL, *rwhy = NULL;
	unsigned int kib = (bench_cfg.quick ? S3_QUICK_BLOCK : S3_BLOCK_BYTES) >> 10;

	snprintf(name[0], sizeof(name[0]), "consumer_%uKiB", kib);
	snprintf(name[1], sizeof(name[1]), "delivered_%uKiB", kib);
	snprintf(name[2], sizeof(name[2]), "ring_consumer_%uKiB", kib);
	snprintf(name[3], sizeof(name[3]), "ring_delivered_%uKiB", kib);
	for (i = 0; !why && udev >= 0 && i < n; i++) {
		why = s3_once(ctx, dev, udev, S_ZERO_COPY, &a, i);
		if (!why)
			why = s3_once(ctx, dev, udev, S_COPY_READ, &b, i);
		if (!why && !rwhy)
			rwhy = s3_once(ctx, dev, udev, S_RING, &ring, i);
	}
	for (k = 0; k < S3_FIGURES; k++) {
		if (udev < 0)
			bench_skip(&f[k], S3_UDMABUF " is not in this kernel: no copy path");
		else if (why)
			bench_fail(&f[k], why);
		else if (k >= 2 && rwhy == s_ring_unsupported)
			bench_skip(&f[k], rwhy);
		else if (k >= 2 && rwhy)
			bench_fail(&f[k], rwhy);
		else
			/* Side A: the queue for figures 0 and 1, the ring for 2 and 3. */
			bench_pair_values(&f[k], k & 1 ? (k < 2 ? &a : &ring)->delivered :
					  (k < 2 ? &a : &ring)->consumer,
					  k & 1 ? b.delivered : b.consumer, n);
	}
	if (udev >= 0 && !why) {
		/* CPU time per GiB, details of the consumer's figures. */
		bench_print_value(&f[0], "zero_copy_cpu_consumer", "value", "s/GiB", a.cpu_self, n);
		bench_print_value(&f[0], "copy_read_cpu_consumer", "value", "s/GiB", b.cpu_self, n);
		bench_print_value(&f[0], "zero_copy_cpu_all", "value", "s/GiB", a.cpu_all, n);
		bench_print_value(&f[0], "copy_read_cpu_all", "value", "s/GiB", b.cpu_all, n);
	}
	if (udev >= 0 && !why && !rwhy) {
		bench_print_value(&f[2], "ring_cpu_consumer", "value", "s/GiB", ring.cpu_self, n);
		bench_print_value(&f[2], "ring_cpu_all", "value", "s/GiB", ring.cpu_all, n);
	}
	if (ctx >= 0)
		close(ctx);
	if (udev >= 0)
		close(udev);
	if (dev >= 0)
		close(dev);
}
