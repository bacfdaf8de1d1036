// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P5 (first part): large buffers.  Making 256 MiB usable:
 * mmap and the first touch of every page of a cohbuf buffer, without and
 * with its ALLOC (which allocates and zeroes the memory; cohbuf's mmap
 * maps every page at once), against mmap and first touch of 256 MiB of
 * anonymous memory without THP (where the faults allocate and zero).
 * Each side runs alone, its memory freed before the other's is taken.
 * Seconds; the ratio is cohbuf / anon.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

struct p5_side {
	int dev;	/* /dev/cohbuf; -1 for anonymous memory */
	int with_alloc;	/* cohbuf: the clock runs from before ALLOC */
	size_t len;
};

/* Writes one byte of every page of @p. */
static void p5_touch(unsigned char *p, size_t len)
{
	size_t page = bench_page(), off;

	for (off = 0; off < len; off += page)
		p[off] = 1;
}

static double p5_anon(const struct p5_side *s)
{
	double t0 = bench_now(), t;
	unsigned char *p;

	p = mmap(NULL, s->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	madvise(p, s->len, MADV_NOHUGEPAGE);
	p5_touch(p, s->len);
	t = bench_now() - t0;
	munmap(p, s->len);
	return t;
}

static double p5_usable(void *ctx)
{
	const struct p5_side *s = ctx;
	struct cohbuf_buffer_desc desc = { .size = s->len };
	double t0 = bench_now(), t = 0;
	unsigned char *p;
	int buf;

	if (s->dev < 0)
		return p5_anon(s);
	buf = cohbuf_exporter_alloc(s->dev, &desc, NULL);
	if (buf < 0)
		return 0;
	if (!s->with_alloc)
		t0 = bench_now();
	p = cohbuf_dmabuf_map(buf, 0, s->len, 1);
	if (p) {
		p5_touch(p, s->len);
		t = bench_now() - t0;
		cohbuf_dmabuf_unmap(p, s->len);
	}
	close(buf);
	return t;
}

void bench_p5(void)
{
	struct p5_side a = { .len = bench_cfg.quick ? 1u << 20 : 256u << 20 };
	struct p5_side b = { .dev = -1, .len = a.len };
	char name[2][40];
	int i;

	snprintf(name[0], sizeof(name[0]), "map_touch_%zuMiB", a.len >> 20);
	snprintf(name[1], sizeof(name[1]), "alloc_map_touch_%zuMiB", a.len >> 20);
	a.dev = cohbuf_exporter_open();
	for (i = 0; i < 2; i++) {
		struct bench_figure f = {
			.group = "P5", .name = name[i], .a = "cohbuf", .b = "anon",
			.unit = "s",
		};

		a.with_alloc = i;
		if (a.dev < 0)
			bench_fail(&f, "cannot open /dev/cohbuf");
		else
			bench_pair(&f, p5_usable, &a, p5_usable, &b);
	}
	if (a.dev >= 0)
		close(a.dev);
}
