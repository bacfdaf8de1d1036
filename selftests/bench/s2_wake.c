// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench S2: completion to wake-up.  A zero-copy stream (s_run.c)
 * of 1 ms blocks, drop-free at that rate; for each record, the time from
 * its last frame's nominal time (the record's last_ns) to the return of
 * the call that waited for it: DEQUEUE with a deadline, or poll() and a
 * DEQUEUE that does not wait.  p50, p99 and max of all the records of one
 * run.  The figure includes the production delay by design: the device
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
#define S2_SECONDS	3.0
#define S2_QUICK_S	0.05

static void s2_figure(int ctx, int dev, int use_poll)
{
	double seconds = bench_cfg.quick ? S2_QUICK_S : S2_SECONDS;
	size_t cap = (size_t)(seconds * S2_RATE_HZ / S2_BLOCK_FRAMES) + 16;
	struct s_cfg c = {
		.path = S_ZERO_COPY, .channels = S2_CHANNELS, .rate_hz = S2_RATE_HZ,
		.block_frames = S2_BLOCK_FRAMES, .depth = S2_DEPTH,
		.seconds = seconds, .use_poll = use_poll, .lat_cap = cap,
	};
	struct bench_figure f = {
		.group = "S2", .name = use_poll ? "wake_poll" : "wake_dequeue",
		.a = "queue", .unit = "us",
	};
	struct s_result r;
	const char *why;
	double lost;
	int ok;

	c.lat = calloc(cap, sizeof(*c.lat));
	why = !c.lat ? "out of memory" : ctx < 0 ? "cannot open /dev/cohbuf-importer" :
	      s_run(ctx, dev, -1, &c, &r);
	if (why) {
		bench_fail(&f, why);
	} else {
		ok = bench_print_latency(&f, f.a, c.lat, r.nlat);
		lost = r.lost;
		bench_print_value(&f, "lost", "value", "frames", &lost, 1);
		bench_report(&f, ok);
	}
	free(c.lat);
}

void bench_s2(void)
{
	int dev = cohbuf_exporter_open();
	int ctx = cohbuf_importer_open();

	s2_figure(ctx, dev, 0);
	s2_figure(ctx, dev, 1);
	if (ctx >= 0)
		close(ctx);
	if (dev >= 0)
		close(dev);
}
