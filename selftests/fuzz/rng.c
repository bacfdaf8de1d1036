// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's random stream: splitmix64 from the run's seed, so that a
 * run is reproducible from the seed it prints.
 */

#include "fuzz.h"

__u64 r64(void)
{
	__u64 z = (F.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

__u32 below(__u32 n)
{
	return n ? (__u32)(r64() % n) : 0;
}

int chance(unsigned int pct)
{
	return below(100) < pct;
}
