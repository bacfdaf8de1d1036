// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench: the plan.  COHBUF_BENCH_QUICK=1 (what "make check" sets)
 * runs every figure once with tiny sizes, in a few seconds; otherwise
 * each figure is the median of 9 interleaved repetitions (but for the
 * stream figures S1 and S2, see s1_rate.c and s2_wake.c).
 * COHBUF_BENCH_ONLY=S2,S1 (groups, commas between them) runs only those
 * groups, in that order; COHBUF_BENCH_CONFIRM_S sets the length of S1's confirming runs
 * in seconds (default 5; 30 for the "sustained for 30 s").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BENCH_REPS	9
#define BENCH_CONFIRM_S	5.0

/* One group of figures: its name, its number of figures, its run. */
struct bench_group {
	const char *name;
	unsigned int figures;
	void (*run)(void);
};

static const struct bench_group groups[] = {
	{ "P1", P1_FIGURES, bench_p1 },
	{ "P2", P2_FIGURES, bench_p2 },
	{ "P3", P3_FIGURES, bench_p3 },
	{ "P4", P4_FIGURES, bench_p4 },
	{ "P5", P5_FIGURES, bench_p5 },		/* with bench_p5_largest() */
	{ "P6", P6_FIGURES, bench_p6 },
	{ "S1", S1_FIGURES, bench_s1 },
	{ "S2", S2_FIGURES, bench_s2 },
	{ "S3", S3_FIGURES, bench_s3 },
	{ "V1", V1_FIGURES, bench_v1 },
	{ "I1", I1_FIGURES, bench_i1 },
	{ NULL, 0, NULL },
};

/* Places in the plan: at most this many groups named in COHBUF_BENCH_ONLY. */
#define NGROUPS	11

/*
 * Whether group @i runs at place @k of the plan: with COHBUF_BENCH_ONLY
 * (@only) the groups go in the order it names them, else in the table's.
 */
static int group_at(const char *only, unsigned int k, unsigned int i)
{
	size_t len = strlen(groups[i].name);
	const char *p = only;

	if (!only || !*only)
		return k == i;
	while (k-- && p)
		p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
	return p && !strncmp(p, groups[i].name, len) && (p[len] == ',' || !p[len]);
}

int main(void)
{
	const char *quick = getenv("COHBUF_BENCH_QUICK");
	const char *only = getenv("COHBUF_BENCH_ONLY");
	const char *confirm = getenv("COHBUF_BENCH_CONFIRM_S");
	unsigned int figures = 0, i, k;

	bench_cfg.quick = quick && !strcmp(quick, "1");
	bench_cfg.reps = bench_cfg.quick ? 1 : BENCH_REPS;
	bench_cfg.confirm_s = confirm && *confirm ? strtod(confirm, NULL) : BENCH_CONFIRM_S;
	if (!(bench_cfg.confirm_s > 0))
		bench_cfg.confirm_s = BENCH_CONFIRM_S;
	for (k = 0; k < NGROUPS; k++)
		for (i = 0; groups[i].name; i++)
			if (group_at(only, k, i))
				figures += groups[i].figures;
	bench_begin(figures);
	printf("# cohbuf_bench: %s mode, %u repetitions, S1 confirms in %g s, groups %s\n",
	       bench_cfg.quick ? "quick" : "full", bench_cfg.reps, bench_cfg.confirm_s,
	       only && *only ? only : "all");
	for (k = 0; k < NGROUPS; k++) {
		for (i = 0; groups[i].name; i++) {
			if (!group_at(only, k, i))
				continue;
			groups[i].run();
			if (groups[i].run == bench_p5)
				bench_p5_largest();
		}
	}
	bench_end();
	return 1;	/* not reached: bench_end() exits */
}
