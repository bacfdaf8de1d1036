/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_bench: the performance figures of issue 18, measured in the
 * guest.  Every figure compares cohbuf (side A) with a baseline (side B)
 * measured in the same boot, interleaved A, B, A, B... so that drift of
 * the TCG clock cancels; each side's value is the median of the
 * repetitions, with min and max.  The program prints one "BENCH" line per
 * value and, as a kselftest (TAP) result per figure, whether every value
 * was produced and is a finite positive number; it never judges speed.
 *
 * Files: stats.c (repetitions, medians, the BENCH lines, the TAP results),
 * providers.c (dma-bufs of the kernel's providers), p1_transfer.c,
 * p2_bandwidth.c, p3_lifecycle.c, p4_sync.c, p5_large.c, p5_largest.c and
 * p6_file.c (one figure group each; P5 in two) and main.c (the plan).
 */
#ifndef COHBUF_BENCH_H
#define COHBUF_BENCH_H

#include <stddef.h>

/* The run's shape: COHBUF_BENCH_QUICK=1 gives one repetition and tiny sizes. */
struct bench_cfg {
	int quick;
	unsigned int reps;	/* repetitions of every figure */
};

extern struct bench_cfg bench_cfg;

/*
 * One measurement of one side; returns the value (a rate, bandwidth or
 * time per operation, see the figure's unit) or a value <= 0 on failure.
 */
typedef double (*bench_fn)(void *ctx);

/*
 * One figure: @group is "P2" ..., @name the figure, @a and @b the two
 * sides' names, @unit the values' unit.  @higher_better says how to
 * read the ratio A/B (bandwidths and rates: higher; times: lower); it
 * goes into the BENCH line for the report.
 */
struct bench_figure {
	const char *group;
	const char *name;
	const char *a;
	const char *b;
	const char *unit;
	int higher_better;
};

/* Run @f: bench_cfg.reps times A then B; print and report it. */
void bench_pair(const struct bench_figure *f, bench_fn fa, void *actx,
		bench_fn fb, void *bctx);

/*
 * A latency figure from samples the caller took, interleaved: @a and @b
 * hold @n latencies each (microseconds), bench_cfg.reps runs of n / reps
 * one after the other.  The ratio is that of the two medians of each run
 * (median, min, max over the runs); p50, p99 and max are over all
 * samples.  The samples are sorted in place.
 */
void bench_latency(const struct bench_figure *f, double *a, double *b, size_t n);

/* A figure that cannot be measured here: a TAP skip with @reason. */
void bench_skip(const struct bench_figure *f, const char *reason);

/* A figure whose setup failed: a TAP failure with @reason. */
void bench_fail(const struct bench_figure *f, const char *reason);

/*
 * The TAP plan and its end (kselftest.h keeps its counters per file, so
 * stats.c alone uses it): bench_end() prints the totals and exits.
 */
void bench_begin(unsigned int figures);
void bench_end(void);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* Page size, and a pre-faulted private anonymous mapping without THP. */
size_t bench_page(void);
void *bench_anon(size_t len);

/*
 * A udmabuf of @len bytes over a new sealed memfd, from /dev/udmabuf
 * open at @dev: its fd, or -1.  The memfd goes to @memfd_out if not
 * NULL, else it is closed (the udmabuf keeps its pages).
 */
int bench_udmabuf(int dev, size_t len, int *memfd_out);

/* The figure groups; each adds its number of figures to the plan. */
#define P1_SIZES	5
#define P1_FIGURES	(2 * P1_SIZES)
#define P2_FIGURES	12
#define P3_FIGURES	12
#define P4_FIGURES	6
#define P5_FIGURES	(2 + 4)
#define P6_FIGURES	1

void bench_p1(void);
void bench_p2(void);
void bench_p3(void);
void bench_p4(void);
void bench_p5(void);
void bench_p5_largest(void);
void bench_p6(void);

#endif /* COHBUF_BENCH_H */
