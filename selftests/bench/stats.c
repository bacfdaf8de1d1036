// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench: repetitions, medians and spreads, the BENCH lines and
 * the TAP result of each figure.
 *
 * BENCH lines, one value each (fields separated by blanks):
 *   BENCH <group> <figure> <a>_vs_<b> ratio median=R min=R max=R n=N unit=x better=higher|lower
 *   BENCH <group> <figure> <side> value median=V min=V max=V n=N unit=U
 *   BENCH <group> <figure> <side> lat p50=V p99=V max=V n=N unit=us
 *   BENCH <group> <figure> <a>_vs_<b> skip reason=...
 * A figure without a baseline (@b NULL) has <a> where <a>_vs_<b> stands,
 * and no ratio line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#include "bench.h"

struct bench_cfg bench_cfg;

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

size_t bench_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

void *bench_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x5a, len);
	return p;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* @v sorted: the value below which a fraction @q of the samples lie. */
static double quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)ceil(q * n);

	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

static int usable(double v)
{
	return isfinite(v) && v > 0;
}

int bench_print_value(const struct bench_figure *f, const char *side,
		      const char *kind, const char *unit, double *v, size_t n)
{
	double med, lo, hi;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	lo = v[0];
	hi = v[n - 1];
	printf("BENCH %s %s %s %s median=%.6g min=%.6g max=%.6g n=%zu unit=%s",
	       f->group, f->name, side, kind, med, lo, hi, n, unit);
	if (!strcmp(kind, "ratio"))
		printf(" better=%s", f->higher_better ? "higher" : "lower");
	printf("\n");
	return usable(med) && usable(lo) && usable(hi);
}

/* "a_vs_b", or "a" for a figure without a baseline. */
static char *side_pair(const struct bench_figure *f, char *buf, size_t len)
{
	if (f->b)
		snprintf(buf, len, "%s_vs_%s", f->a, f->b);
	else
		snprintf(buf, len, "%s", f->a);
	return buf;
}

void bench_report(const struct bench_figure *f, int ok)
{
	char pair[64];

	side_pair(f, pair, sizeof(pair));
	if (ok)
		ksft_test_result_pass("%s %s\n", f->name, pair);
	else
		ksft_test_result_fail("%s %s: a value is not finite and positive\n",
				      f->name, pair);
}

void bench_pair_values(const struct bench_figure *f, double *a, double *b, size_t n)
{
	double r[n ? n : 1];
	char pair[64];
	size_t i;
	int ok;

	for (i = 0; i < n; i++)
		r[i] = a[i] / b[i];
	ok = bench_print_value(f, side_pair(f, pair, sizeof(pair)), "ratio", "x", r, n);
	ok &= bench_print_value(f, f->a, "value", f->unit, a, n);
	ok &= bench_print_value(f, f->b, "value", f->unit, b, n);
	bench_report(f, ok);
}

void bench_pair(const struct bench_figure *f, bench_fn fa, void *actx,
		bench_fn fb, void *bctx)
{
	unsigned int n = bench_cfg.reps, i;
	double a[n], b[n];

	for (i = 0; i < n; i++) {
		a[i] = fa(actx);
		b[i] = fb(bctx);
	}
	bench_pair_values(f, a, b, n);
}

int bench_print_latency(const struct bench_figure *f, const char *side,
			double *v, size_t n)
{
	double p50, p99, hi;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	p50 = quantile(v, n, 0.5);
	p99 = quantile(v, n, 0.99);
	hi = v[n - 1];
	printf("BENCH %s %s %s lat p50=%.6g p99=%.6g max=%.6g n=%zu unit=us\n",
	       f->group, f->name, side, p50, p99, hi, n);
	return usable(p50) && usable(p99) && usable(hi);
}

/* The median of @n samples at @v, which are left as they are. */
static double median_of(const double *v, size_t n)
{
	double c[n];

	memcpy(c, v, sizeof(c));
	qsort(c, n, sizeof(*c), cmp_double);
	return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

void bench_latency(const struct bench_figure *f, double *a, double *b, size_t n)
{
	unsigned int reps = bench_cfg.reps, i;
	size_t per = n / reps;
	double r[reps];
	char pair[64];
	int ok = per > 0;

	for (i = 0; ok && i < reps; i++)
		r[i] = median_of(a + i * per, per) / median_of(b + i * per, per);
	ok = ok && bench_print_value(f, side_pair(f, pair, sizeof(pair)), "ratio", "x", r, reps);
	ok &= bench_print_latency(f, f->a, a, n);
	ok &= bench_print_latency(f, f->b, b, n);
	bench_report(f, ok);
}

void bench_skip(const struct bench_figure *f, const char *reason)
{
	char pair[64];

	side_pair(f, pair, sizeof(pair));
	printf("BENCH %s %s %s skip reason=%s\n", f->group, f->name, pair, reason);
	ksft_test_result_skip("%s %s: %s\n", f->name, pair, reason);
}

void bench_fail(const struct bench_figure *f, const char *reason)
{
	char pair[64];

	side_pair(f, pair, sizeof(pair));
	printf("BENCH %s %s %s fail reason=%s\n", f->group, f->name, pair, reason);
	ksft_test_result_fail("%s %s: %s\n", f->name, pair, reason);
}

void bench_begin(unsigned int figures)
{
	ksft_print_header();
	ksft_set_plan(figures);
}

void bench_end(void)
{
	ksft_finished();
}
