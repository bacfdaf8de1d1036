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
 * p6_file.c (one figure group each; P5 in two), the streaming figures of issue 14:
 * s_run.c (one timed run of a stream and its consumer), s_ring.c (the
 * same in ring mode), s1_rate.c (the
 * highest drop-free rate), s2_wake.c (completion to wake-up), s3_copy.c
 * (zero-copy against a read() copy path, CPU time per GiB), v1_v4l2.c
 * (V4L2 capture into cohbuf buffers against the driver's own, issue 15),
 * i1_iio.c (IIO read() against IIO DMABUF of one stream, issue 15),
 * and main.c (the plan).
 */
#ifndef COHBUF_BENCH_H
#define COHBUF_BENCH_H

#include <stddef.h>

#include <linux/types.h>
#include <linux/cohbuf_stream.h>

/* The run's shape: COHBUF_BENCH_QUICK=1 gives one repetition and tiny sizes. */
struct bench_cfg {
	int quick;
	unsigned int reps;	/* repetitions of every figure */
	double confirm_s;	/* S1: seconds of each confirming run */
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

/* Print and report @f from @n values of each side measured by the caller. */
void bench_pair_values(const struct bench_figure *f, double *a, double *b, size_t n);

/*
 * The pieces of the above, for figures of one side (@b NULL) or with
 * values of their own: a "value" (or @kind) line of median, min and max
 * of @v, or a "lat" line of p50, p99 and max, for @side (both sort @v and
 * return false if a printed value is not finite and positive); and the
 * figure's TAP result, pass if @ok.
 */
int bench_print_value(const struct bench_figure *f, const char *side,
		      const char *kind, const char *unit, double *v, size_t n);
int bench_print_latency(const struct bench_figure *f, const char *side,
			double *v, size_t n);
void bench_report(const struct bench_figure *f, int ok);

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
/* S1: 4 queue depths and the ring, at 1 and 8 channels. */
#define S1_DEPTHS	4
#define S1_FIGURES	(2 * (S1_DEPTHS + 1))
#define S2_FIGURES	3
#define S3_FIGURES	4
/* P6: into tmpfs, and O_DIRECT into a ramdisk (brd) */
#define P6_FIGURES	2
#define V1_FIGURES	1
#define I1_FIGURES	1

void bench_p1(void);
void bench_p2(void);
void bench_p3(void);
void bench_p4(void);
void bench_p5(void);
void bench_p5_largest(void);
void bench_p6(void);
void bench_s1(void);
void bench_s2(void);
void bench_s3(void);
void bench_v1(void);
void bench_i1(void);

/* --- streams (s_run.c) --------------------------------------------------- */

/*
 * How the consumer gets the bytes of a block:
 *  - S_ZERO_COPY: the stream writes cohbuf buffers and the consumer reads
 *    the mapping in place, between DMA_BUF_IOCTL_SYNC start and end;
 *  - S_COPY_READ: the stream writes udmabufs over memfds and the consumer
 *    pread()s each block into its own buffer (one copy_to_user) and reads
 *    that;
 *  - S_RING: ring mode (COHBUF_STREAM_MODE_RING, s_ring.c): one cohbuf
 *    buffer holds a ring of s_cfg.depth block records, which the consumer
 *    reads in place with libcohbuf's ring helpers, no system call per
 *    block, asleep in poll() when the ring is empty.
 */
enum s_path { S_ZERO_COPY, S_COPY_READ, S_RING };

/* Every stream's format: ADC12, 2 bytes a sample. */
#define S_FORMAT	COHBUF_STREAM_FMT_ADC12
#define S_SAMPLE_BYTES	2u

/* One run: a stream on the HRTIMER clock, ADC12, DROP, watermark 1. */
struct s_cfg {
	enum s_path path;
	unsigned int channels;
	unsigned int rate_hz;
	unsigned int block_frames;
	unsigned int depth;	/* regions queued, one dma-buf each; S_RING: records */
	double seconds;		/* of consuming, from START on */
	int use_poll;		/* wait in poll(), then DEQUEUE without waiting (S_RING: always) */
	double *lat;		/* if not NULL: wake-up latencies (us) go here */
	size_t lat_cap;
	double *hold;		/* if not NULL: each block's hold time (s) goes here */
	size_t hold_cap;
};

/* What a run measured; counters from STATS just before STOP. */
struct s_result {
	unsigned long long records;	/* records consumed */
	unsigned long long bytes;	/* their bytes */
	unsigned long long produced;
	unsigned long long lost;
	double due;		/* frames the clock owed by then */
	double elapsed;		/* seconds from START to STATS */
	double hold_max;	/* seconds: max of re-QUEUE time - last_ns */
	double cpu_self;	/* seconds of the consumer (getrusage) */
	double cpu_all;		/* seconds of every CPU busy (not idle, /proc/uptime) */
	size_t nlat;		/* latencies stored in s_cfg.lat */
	size_t nhold;		/* hold times stored in s_cfg.hold */
};

/*
 * Run @c with importer context @ctx, /dev/cohbuf @dev and /dev/udmabuf
 * @udev (for S_COPY_READ): NULL, or why the run could not be made (a
 * call failed, or a sample did not match the payload).
 */
const char *s_run(int ctx, int dev, int udev, const struct s_cfg *c, struct s_result *r);

/* Whether @r lost nothing and the device kept up with @c's rate. */
int s_drop_free(const struct s_cfg *c, const struct s_result *r);

/*
 * What STREAM_CREATE's EOPNOTSUPP in ring mode makes s_run() return (this
 * importer cannot map the ring's dma-buf, or has no ring mode): the
 * figure is a skip.
 */
extern const char s_ring_unsupported[];

/* The pieces of a run that s_run.c shares with s_ring.c. */
struct s_cpu {
	double self, idle, t;
};

/* Before START and after the consumer's loop: r->cpu_self and cpu_all. */
void s_cpu_begin(struct s_cpu *m);
void s_cpu_end(const struct s_cpu *m, struct s_result *r);
/*
 * Read every byte of a block of @frames frames from @first_frame at @p
 * (adding them up as u64 into @sum) and check its first and last sample
 * against the payload: whether they match.
 */
int s_block_ok(const unsigned char *p, __u64 first_frame, __u32 frames,
	       unsigned int channels, __u64 *sum);
/* Store a block's wake-up latency (at @now) and its hold time (now). */
void s_note_latency(const struct s_cfg *c, struct s_result *r, __u64 now, __u64 last_ns);
void s_note_hold(const struct s_cfg *c, struct s_result *r, __u64 last_ns);
/* After the loop from @t0: STATS into @r; NULL or why not. */
const char *s_finish(int fd, __u64 t0, const struct s_cfg *c, struct s_result *r);

/* s_ring.c: the S_RING run of s_run(), with @r zeroed. */
const char *s_ring_run(int ctx, int dev, const struct s_cfg *c, struct s_result *r);

#endif /* COHBUF_BENCH_H */
