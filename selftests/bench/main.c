// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench: the plan.  COHBUF_BENCH_QUICK=1 (what "make check" sets)
 * runs every figure once with tiny sizes, in a few seconds; otherwise
 * each figure is the median of 9 interleaved repetitions (but for the
 * stream figures S1 and S2, see s1_rate.c and s2_wake.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BENCH_REPS	9

int main(void)
{
	const char *quick = getenv("COHBUF_BENCH_QUICK");

	bench_cfg.quick = quick && !strcmp(quick, "1");
	bench_cfg.reps = bench_cfg.quick ? 1 : BENCH_REPS;
	bench_begin(P1_FIGURES + P2_FIGURES + P3_FIGURES + P4_FIGURES + P5_FIGURES +
		    P6_FIGURES + S1_FIGURES + S2_FIGURES + S3_FIGURES + V1_FIGURES);
	printf("# cohbuf_bench: %s mode, %u repetitions per figure\n",
	       bench_cfg.quick ? "quick" : "full", bench_cfg.reps);
	bench_p1();
	bench_p2();
	bench_p3();
	bench_p4();
	bench_p5();
	bench_p5_largest();
	bench_p6();
	bench_s1();
	bench_s2();
	bench_s3();
	bench_v1();
	bench_end();
	return 1;	/* not reached: bench_end() exits */
}
