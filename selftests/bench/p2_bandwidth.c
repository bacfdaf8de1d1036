// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P2: CPU bandwidth through the mapping.  memset, a read
 * (sum of u64) and a memcpy (first half to second half) through the mmap
 * of a cohbuf buffer in each cache mode, against private anonymous memory
 * without THP; both pre-faulted.  MiB/s; the ratio is cohbuf / anon.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

/* Each measurement moves at least this much, so 4 MiB runs repeat. */
#define P2_BYTES_PER_RUN	(64u << 20)

enum p2_op { P2_MEMSET, P2_READ, P2_MEMCPY };

struct p2_side {
	unsigned char *p;
	size_t len;
	enum p2_op op;
	unsigned int loops;
	__u64 sum;	/* the read's result, kept so that it is computed */
};

/* One run of @s's operation over its buffer, in MiB/s. */
static double p2_run(void *ctx)
{
	struct p2_side *s = ctx;
	size_t half = s->len / 2, bytes;
	__u64 sum = 0;
	unsigned int i;
	double t0, t;

	t0 = bench_now();
	for (i = 0; i < s->loops; i++) {
		switch (s->op) {
		case P2_MEMSET:
			memset(s->p, (int)i, s->len);
			break;
		case P2_READ: {
			const __u64 *w = (const __u64 *)s->p;
			size_t k;

			for (k = 0; k < s->len / sizeof(*w); k++)
				sum += w[k];
			break;
		}
		case P2_MEMCPY:
			memcpy(s->p + half, s->p, half);
			break;
		}
	}
	t = bench_now() - t0;
	s->sum = sum;
	bytes = s->op == P2_MEMCPY ? half : s->len;
	return (double)bytes * s->loops / (1 << 20) / t;
}

static const char *const p2_op_name[] = { "memset", "read", "memcpy" };

/* One size and cache mode: the three operations, three figures. */
static void p2_size_mode(int dev, size_t len, unsigned int mode)
{
	struct cohbuf_buffer_desc desc = { .size = len, .cache_mode = mode };
	const char *mname = mode == COHBUF_CACHE_WC ? "wc" : "cached";
	struct p2_side a = { .len = len }, b = { .len = len };
	char names[3][48];
	unsigned int op;
	int buf = -1;

	for (op = P2_MEMSET; op <= P2_MEMCPY; op++)
		snprintf(names[op], sizeof(names[op]), "%s_%zuKiB_%s",
			 p2_op_name[op], len >> 10, mname);
	if (dev >= 0)
		buf = cohbuf_exporter_alloc(dev, &desc, NULL);
	if (buf >= 0)
		a.p = cohbuf_dmabuf_map(buf, 0, len, 1);
	b.p = bench_anon(len);
	if (a.p)
		memset(a.p, 0x5a, len);
	a.loops = bench_cfg.quick || len >= P2_BYTES_PER_RUN ? 1 : P2_BYTES_PER_RUN / len;
	b.loops = a.loops;
	for (op = P2_MEMSET; op <= P2_MEMCPY; op++) {
		struct bench_figure f = {
			.group = "P2", .name = names[op], .a = "cohbuf", .b = "anon",
			.unit = "MiB/s", .higher_better = 1,
		};

		if (!a.p || !b.p) {
			bench_fail(&f, buf < 0 ? "cannot allocate the cohbuf buffer" :
				   "cannot map the buffers");
			continue;
		}
		a.op = op;
		b.op = op;
		bench_pair(&f, p2_run, &a, p2_run, &b);
	}
	if (b.p)
		munmap(b.p, len);
	if (a.p)
		cohbuf_dmabuf_unmap(a.p, len);
	if (buf >= 0)
		close(buf);
}

void bench_p2(void)
{
	size_t sizes[2] = { 4u << 20, 64u << 20 };
	unsigned int i;
	int dev;

	if (bench_cfg.quick) {
		sizes[0] = 64u << 10;
		sizes[1] = 256u << 10;
	}
	dev = cohbuf_exporter_open();
	for (i = 0; i < 2; i++) {
		p2_size_mode(dev, sizes[i], COHBUF_CACHE_CACHED);
		p2_size_mode(dev, sizes[i], COHBUF_CACHE_WC);
	}
	if (dev >= 0)
		close(dev);
}
