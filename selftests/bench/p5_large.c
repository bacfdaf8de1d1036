// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P5 (first part): large buffers.  The first touch of every
 * page of a 256 MiB cohbuf mapping (the memory was allocated and zeroed
 * by ALLOC; the touch is the page faults) against the first touch of 256
 * MiB of anonymous memory without THP (faults, allocation and zeroing).
 * Each side runs alone, its memory freed before the other's is taken.
 * Seconds per touch of the whole buffer; the ratio is cohbuf / anon.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

struct p5_side {
	int dev;	/* /dev/cohbuf; -1 for anonymous memory */
	size_t len;
};

/* Writes one byte of every page of @p; the time it took in seconds. */
static double p5_touch(unsigned char *p, size_t len)
{
	size_t page = bench_page(), off;
	double t0 = bench_now();

	for (off = 0; off < len; off += page)
		p[off] = 1;
	return bench_now() - t0;
}

static double p5_first_touch(void *ctx)
{
	const struct p5_side *s = ctx;
	struct cohbuf_buffer_desc desc = { .size = s->len };
	unsigned char *p;
	double t = 0;
	int buf;

	if (s->dev < 0) {
		p = mmap(NULL, s->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 0;
		madvise(p, s->len, MADV_NOHUGEPAGE);
		t = p5_touch(p, s->len);
		munmap(p, s->len);
		return t;
	}
	buf = cohbuf_exporter_alloc(s->dev, &desc, NULL);
	if (buf < 0)
		return 0;
	p = cohbuf_dmabuf_map(buf, 0, s->len, 1);
	if (p) {
		t = p5_touch(p, s->len);
		cohbuf_dmabuf_unmap(p, s->len);
	}
	close(buf);
	return t;
}

void bench_p5(void)
{
	struct p5_side a = { .len = bench_cfg.quick ? 1u << 20 : 256u << 20 };
	struct p5_side b = { .dev = -1, .len = a.len };
	char name[32];
	struct bench_figure f = {
		.group = "P5", .name = name, .a = "cohbuf", .b = "anon", .unit = "s",
	};

	snprintf(name, sizeof(name), "first_touch_%zuMiB", a.len >> 20);
	a.dev = cohbuf_exporter_open();
	if (a.dev < 0) {
		bench_fail(&f, "cannot open /dev/cohbuf");
		return;
	}
	bench_pair(&f, p5_first_touch, &a, p5_first_touch, &b);
	close(a.dev);
}
