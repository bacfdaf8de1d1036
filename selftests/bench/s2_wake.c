// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench S2: completion to wake-up.  A zero-copy stream (s_run.c)
 * of 1 ms blocks, drop-free at that rate; for each record, the time from
 * its last frame's nominal time (the record's last_ns) to the return of
 * the call that waited for it: DEQUEUE with a deadline, or poll() and a
 * DEQUEUE that does not wait.  p50, p99 and max of all the records of
 * S2_RUNS runs of each, interleaved so that drift falls on both alike.
 * The figure includes the production delay by design: the device
 * writes a frame about a timer period (here the block period, 1 ms) after
 * its time, and the record is complete when its last frame is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

#define S2_CHANNELS	4u
#define S2_RATE_HZ	1000000u
#define S2_BLOCK_FRAMES	1000u		/* 1 ms */
#define S2_DEPTH	8u
/* Runs of each way, interleaved (dequeue, poll, ring, dequeue, ...), and their length. */
#define S2_RUNS		3u
#define S2_SECONDS	1.0
#define S2_QUICK_S	0.05

/* The latencies of one way of waiting, pooled over its runs. */
struct s2_way {
	struct bench_figure f;
	double *lat;
	size_t n, cap;
	double lost;
	const char *why;
};

/* The ways, in the order of bench_s2()'s w[]. */
enum s2_kind { S2_DEQUEUE, S2_POLL, S2_RING, S2_WAYS };

static void s2_run(int ctx, int dev, struct s2_way *w, enum s2_kind k, double seconds)
{
	struct s_cfg c = {
		.path = k == S2_RING ? S_RING : S_ZERO_COPY, .channels = S2_CHANNELS,
		.rate_hz = S2_RATE_HZ, .block_frames = S2_BLOCK_FRAMES, .depth = S2_DEPTH,
		.seconds = seconds, .use_poll = k == S2_POLL,
		.lat = w->lat + w->n, .lat_cap = w->cap - w->n,
	};
	struct s_result r;

	w->why = s_run(ctx, dev, -1, &c, &r);
	w->n += r.nlat;
	w->lost += r.lost;
}

void bench_s2(void)
{
	unsigned int runs = bench_cfg.quick ? 1 : S2_RUNS, i, k;
	double seconds = bench_cfg.quick ? S2_QUICK_S : S2_SECONDS;
	size_t cap = (size_t)(runs * seconds * S2_RATE_HZ / S2_BLOCK_FRAMES) + 16 * runs;
	struct s2_way w[S2_WAYS] = {
		{ .f = { .group = "S2", .name = "wake_dequeue", .a = "queue", .unit = "us" } },
		{ .f = { .group = "S2", .name = "wake_poll", .a = "queue", .unit = "us" } },
		{ .f = { .group = "S2", .name = "wake_ring", .a = "ring", .unit = "us" } },
	};
	int dev = cohbuf_exporter_open();
	int ctx = cohbuf_importer_open();
	int ok;

	for (k = 0; k < S2_WAYS; k++) {
		w[k].cap = cap;
		w[k].lat = calloc(cap, sizeof(*w[k].lat));
		if (!w[k].lat)
			w[k].why = "out of memory";
		else if (ctx < 0)
			w[k].why = "cannot open /dev/cohbuf-importer";
	}
	/* A way that failed (or has no ring mode here) runs no more; the others go on. */
	for (i = 0; i < runs; i++)
		for (k = 0; k < S2_WAYS; k++)
			if (!w[k].why)
				s2_run(ctx, dev, &w[k], k, seconds);
	for (k = 0; k < S2_WAYS; k++) {
		if (w[k].why == s_ring_unsupported) {
			bench_skip(&w[k].f, w[k].why);
		} else if (w[k].why) {
			bench_fail(&w[k].f, w[k].why);
		} else {
			ok = bench_print_latency(&w[k].f, w[k].f.a, w[k].lat, w[k].n);
			bench_print_value(&w[k].f, "lost", "value", "frames", &w[k].lost, 1);
			bench_report(&w[k].f, ok);
		}
		free(w[k].lat);
	}
	if (ctx >= 0)
		close(ctx);
	if (dev >= 0)
		close(dev);
}
