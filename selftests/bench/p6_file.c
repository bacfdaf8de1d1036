// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P6: a buffer written to a file.  COHBUF_IOCTL_WRITE_FILE
 * (the kernel writes the buffer's own pages) against a plain write() from
 * the buffer's mapping, both into a tmpfs file (a memfd) at offset 0, so
 * both make one copy into the page cache; the file keeps its pages
 * between runs, so neither side pays for allocating them.  MiB/s; the
 * ratio is WRITE_FILE / write().  With O_DIRECT on a real disk the
 * ioctl makes no copy at all; the guests have no disk to show that.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "bench.h"

/* Each measurement writes at least this much. */
#define P6_BYTES_PER_RUN	(64u << 20)

struct p6_side {
	int dev, buf, file;
	unsigned char *map;	/* write() side only */
	size_t len;
	unsigned int loops;
};

/* Bytes @s writes per run in MiB/s, or -1 on a short or failed write. */
static double p6_rate(const struct p6_side *s, size_t done, double t0)
{
	double t = bench_now() - t0;

	return done == s->len * s->loops && t > 0 ? (double)done / (1 << 20) / t : -1;
}

static double p6_write_file(void *ctx)
{
	struct p6_side *s = ctx;
	size_t done = 0;
	unsigned int i;
	double t0 = bench_now();
	__s64 n;

	for (i = 0; i < s->loops; i++) {
		n = cohbuf_exporter_write_file(s->dev, s->buf, 0, s->len, s->file, 0);
		if (n > 0)
			done += (size_t)n;
	}
	return p6_rate(s, done, t0);
}

static double p6_write(void *ctx)
{
	struct p6_side *s = ctx;
	size_t done = 0;
	unsigned int i;
	double t0 = bench_now();
	ssize_t n;

	for (i = 0; i < s->loops; i++) {
		n = pwrite(s->file, s->map, s->len, 0);
		if (n > 0)
			done += (size_t)n;
	}
	return p6_rate(s, done, t0);
}

void bench_p6(void)
{
	size_t len = bench_cfg.quick ? 64u << 10 : 4u << 20;
	struct cohbuf_buffer_desc desc = { .size = len };
	struct bench_figure f = {
		.group = "P6", .a = "write_file", .b = "write",
		.unit = "MiB/s", .higher_better = 1,
	};
	struct p6_side a = { .len = len }, b = { .len = len };
	char name[48];

	snprintf(name, sizeof(name), "to_tmpfs_%zuKiB", len >> 10);
	f.name = name;
	a.dev = cohbuf_exporter_open();
	a.buf = a.dev >= 0 ? cohbuf_exporter_alloc(a.dev, &desc, NULL) : -1;
	b.map = a.buf >= 0 ? cohbuf_dmabuf_map(a.buf, 0, len, 1) : NULL;
	a.file = memfd_create("cohbuf-bench-a", MFD_CLOEXEC);
	b.file = memfd_create("cohbuf-bench-b", MFD_CLOEXEC);
	a.loops = bench_cfg.quick ? 1 : P6_BYTES_PER_RUN / len;
	b.loops = a.loops;
	if (a.buf < 0 || !b.map || a.file < 0 || b.file < 0) {
		bench_fail(&f, "cannot set up the buffer, its mapping or the memfds");
	} else {
		memset(b.map, 0x5a, len);
		bench_pair(&f, p6_write_file, &a, p6_write, &b);
	}
	if (b.map)
		cohbuf_dmabuf_unmap(b.map, len);
	if (a.file >= 0)
		close(a.file);
	if (b.file >= 0)
		close(b.file);
	if (a.buf >= 0)
		close(a.buf);
	if (a.dev >= 0)
		close(a.dev);
}
