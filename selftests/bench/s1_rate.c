// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench S1: the highest sample rate (frames per second) a stream
 * of the importer sustains without losing a frame, for queue depths 2,
 * 4, 8 and 16 at 1 and 8 channels, zero-copy (s_run.c): ADC12, blocks of
 * S1_BLOCK_BYTES, the HRTIMER clock.
 *
 * A run at rate R is drop-free if it lost no frame and the device kept up
 * with R (s_drop_free()).  The search bisects on a log scale between
 * S1_LO_BPS and S1_HI_BPS (bytes per second): a run of S1_SEARCH_S at the
 * geometric mean of the bounds moves the lower bound up if drop-free, the
 * upper bound down if not, S1_STEPS times; then one run of
 * bench_cfg.confirm_s (COHBUF_BENCH_CONFIRM_S, 5 s by default) at the
 * lower bound confirms it, stepping it down by S1_BACKOFF (at most
 * S1_TRIES times) while it does not; "confirmed" says whether one did.
 * One search per figure: no repetitions (see
 * Documentation/performance.rst).
 *
 * Beside the rate, each figure prints what the formula of
 * Documentation/streaming.rst makes of the run that confirmed it: with H
 * the time from a block's last frame (last_ns) to its region being queued
 * again (P + J + L of the formula, measured), its p99 and max, N_min =
 * 1 + ceil(H R / B) for each, and the rate the formula guarantees for the
 * depth with the p99, (N - 1) B / H; and over every run of the search,
 * how many lost frames although the formula said the depth was enough
 * with the run's largest H (it is a sufficient condition: 0 expected)
 * and how many lost none although it said it was not (it bounds the
 * worst case).
 *
 * Ring mode is the fifth row of each channel count (s_ring.c): a ring of
 * S1_RING_RECORDS block records of the same blocks, the same search and
 * details, with H the time from last_ns to the record's release (the
 * formula reads a ring of N records as N regions); a skip where the
 * importer has no ring mode for a cohbuf buffer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

#define S1_BLOCK_BYTES	(64u << 10)
#define S1_LO_BPS	2e6
#define S1_HI_BPS	1e9
#define S1_STEPS	6
#define S1_SEARCH_S	1.0
#define S1_BACKOFF	1.25
#define S1_TRIES	3
#define S1_QUICK_S	0.02
#define S1_FRAME_BYTES(ch)	(2u * (ch))
/* The ring's figure: a ring of as many block records as the deepest queue has regions. */
#define S1_RING_RECORDS	16u
/*
 * Hold times kept per run: more blocks than a confirming run has, 65,536
 * per 5 s (13,107 blocks/s, 819 MiB/s of 64 KiB blocks).
 */
#define S1_HOLDS_PER_5S	65536u

/* One figure's search. */
struct s1_search {
	struct s_cfg cfg;
	double lo, hi;			/* frames/s */
	struct s_result best;		/* the confirming run */
	double hold_p99;		/* its p99 hold time, seconds */
	int confirmed;
	unsigned int runs, violations, conservative;
};

static int s1_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* One run at @rate: drop-free or not; the formula's verdict counted. */
static int s1_try(struct s1_search *s, int ctx, int dev, double rate, double seconds,
		  struct s_result *r, const char **why)
{
	double nmin;
	int ok;

	s->cfg.rate_hz = (unsigned int)rate;
	s->cfg.seconds = seconds;
	*why = s_run(ctx, dev, -1, &s->cfg, r);
	if (*why)
		return 0;
	ok = s_drop_free(&s->cfg, r);
	nmin = 1 + ceil(r->hold_max * rate / s->cfg.block_frames);
	s->runs++;
	if (r->lost && s->cfg.depth >= nmin)
		s->violations++;
	if (!r->lost && s->cfg.depth < nmin)
		s->conservative++;
	return ok;
}

/* The search of "S1" above; NULL, or why it could not be made. */
static const char *s1_search(struct s1_search *s, int ctx, int dev)
{
	struct s_result r;
	const char *why;
	unsigned int i;
	double mid;

	if (bench_cfg.quick) {
		mid = sqrt(s->lo * s->hi);
		if (s1_try(s, ctx, dev, mid, S1_QUICK_S, &r, &why))
			s->lo = mid;
		s->best = r;
		return why;
	}
	for (i = 0; i < 2 && !s1_try(s, ctx, dev, s->lo, S1_SEARCH_S, &r, &why); i++) {
		if (why)
			return why;
		s->hi = s->lo;
		s->lo /= 4;
	}
	for (i = 0; i < S1_STEPS; i++) {
		mid = sqrt(s->lo * s->hi);
		if (s1_try(s, ctx, dev, mid, S1_SEARCH_S, &r, &why))
			s->lo = mid;
		else if (!why)
			s->hi = mid;
		else
			return why;
	}
	for (i = 0; i < S1_TRIES; i++) {
		if (i)
			s->lo /= S1_BACKOFF;
		s->confirmed = s1_try(s, ctx, dev, s->lo, bench_cfg.confirm_s, &s->best,
				      &why);
		if (s->confirmed || why)
			return why;
	}
	return NULL;	/* the last rate tried stands, unconfirmed */
}

/* The p99 of the @n hold times at @v (sorted in place), seconds. */
static double s1_p99(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), s1_cmp);
	return v[(size_t)ceil(0.99 * n) - 1];
}

/* A value line of one number, for the figure's details. */
static void s1_detail(const struct bench_figure *f, const char *side, const char *unit,
		      double v)
{
	bench_print_value(f, side, "value", unit, &v, 1);
}

/* One figure: @depth regions of a queue, or (@path S_RING) a ring of @depth records. */
static void s1_figure(int ctx, int dev, unsigned int channels, enum s_path path,
		      unsigned int depth)
{
	unsigned int fb = S1_FRAME_BYTES(channels);
	struct s1_search s = {
		.cfg = {
			.path = path, .channels = channels,
			.block_frames = S1_BLOCK_BYTES / fb, .depth = depth,
		},
		.lo = S1_LO_BPS / fb,
		.hi = fmin(S1_HI_BPS / fb, COHBUF_STREAM_MAX_RATE_HZ),
	};
	struct bench_figure f = {
		.group = "S1", .a = path == S_RING ? "ring" : "queue", .unit = "frames/s",
		.higher_better = 1,
	};
	const struct s_result *b = &s.best;
	double rate, mib, h, h99, gib;
	char name[32], mibps[32];
	const char *why;
	int ok;

	if (path == S_RING)
		snprintf(name, sizeof(name), "dropfree_ring_%uch", channels);
	else
		snprintf(name, sizeof(name), "dropfree_d%u_%uch", depth, channels);
	snprintf(mibps, sizeof(mibps), "%s_MiBps", f.a);
	f.name = name;
	s.cfg.hold_cap = S1_HOLDS_PER_5S * (size_t)ceil(bench_cfg.confirm_s / 5);
	s.cfg.hold = calloc(s.cfg.hold_cap, sizeof(*s.cfg.hold));
	why = !s.cfg.hold ? "out of memory" :
	      ctx < 0 ? "cannot open /dev/cohbuf-importer" : s1_search(&s, ctx, dev);
	if (why == s_ring_unsupported) {
		bench_skip(&f, why);
		free(s.cfg.hold);
		return;
	}
	if (why) {
		bench_fail(&f, why);
		free(s.cfg.hold);
		return;
	}
	rate = s.lo;
	mib = rate * fb / (1 << 20);
	h = b->hold_max;
	h99 = s1_p99(s.cfg.hold, b->nhold);
	gib = b->bytes / 1073741824.0;
	ok = bench_print_value(&f, f.a, "value", f.unit, &rate, 1);
	ok &= bench_print_value(&f, mibps, "value", "MiB/s", &mib, 1);
	s1_detail(&f, "confirmed", "yes=1", s.confirmed);
	s1_detail(&f, "hold_p99", "ms", h99 * 1e3);
	s1_detail(&f, "hold_max", "ms", h * 1e3);
	s1_detail(&f, "formula_nmin_p99", "regions", 1 + ceil(h99 * rate / s.cfg.block_frames));
	s1_detail(&f, "formula_nmin_max", "regions", 1 + ceil(h * rate / s.cfg.block_frames));
	s1_detail(&f, "formula_rate_p99", "frames/s",
		  h99 > 0 ? (depth - 1) * s.cfg.block_frames / h99 : 0);
	s1_detail(&f, "cpu_consumer", "s/GiB", gib > 0 ? b->cpu_self / gib : 0);
	s1_detail(&f, "cpu_all", "s/GiB", gib > 0 ? b->cpu_all / gib : 0);
	s1_detail(&f, "runs", "runs", s.runs);
	s1_detail(&f, "formula_violations", "runs", s.violations);
	s1_detail(&f, "formula_conservative", "runs", s.conservative);
	bench_report(&f, ok);
	free(s.cfg.hold);
}

void bench_s1(void)
{
	static const unsigned int depths[S1_DEPTHS] = { 2, 4, 8, 16 };
	static const unsigned int channels[2] = { 1, 8 };
	int dev = cohbuf_exporter_open();
	int ctx = cohbuf_importer_open();
	unsigned int c, d;

	for (c = 0; c < 2; c++) {
		for (d = 0; d < S1_DEPTHS; d++)
			s1_figure(ctx, dev, channels[c], S_ZERO_COPY, depths[d]);
		s1_figure(ctx, dev, channels[c], S_RING, S1_RING_RECORDS);
	}
	if (ctx >= 0)
		close(ctx);
	if (dev >= 0)
		close(dev);
}
