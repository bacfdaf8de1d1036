// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P6: a buffer written to a file, COHBUF_IOCTL_WRITE_FILE
 * (the kernel writes the buffer's own pages) against a plain pwrite()
 * from the buffer's mapping; MiB/s, the ratio WRITE_FILE / pwrite().
 *
 * to_tmpfs: both into a tmpfs file (a memfd) at offset 0, so both make
 * one copy into the page cache; the file keeps its pages between runs,
 * so neither side pays for allocating them.
 *
 * to_ramdisk_odirect: the zero-copy path against a buffered write, on a
 * ramdisk (brd, loaded here with one disk, unloaded after): WRITE_FILE
 * into the block device opened O_DIRECT (the buffer's pages go into the
 * bio; brd's copy into its own pages is the only one, where a real disk
 * would DMA), pwrite() of the mapping into the same device opened
 * without O_DIRECT (a copy into the device's page cache; brd's copy comes
 * later, at writeback, outside the timing: the cheapest a buffered write
 * gets). The two write different halves of the disk. pwrite() of the
 * mapping with O_DIRECT is what cannot work (the kernel cannot pin a
 * cohbuf mapping's pages: EFAULT), hence the ioctl. A skip where the
 * kernel has no brd, where it is loaded already, and in the quick mode
 * (the module load would cost "make check" more than the figure).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcohbuf.h>

#include "../cohbuf_test.h"
#include "bench.h"

/* Each measurement writes at least this much. */
#define P6_BYTES_PER_RUN	(64u << 20)
#define P6_RAMDISK		"/dev/ram0"

struct p6_side {
	int dev, buf, file;
	unsigned char *map;	/* pwrite() side only */
	size_t len;
	off_t off;		/* in the file */
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
		n = cohbuf_exporter_write_file(s->dev, s->buf, 0, s->len, s->file, s->off);
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
		n = pwrite(s->file, s->map, s->len, s->off);
		if (n > 0)
			done += (size_t)n;
	}
	return p6_rate(s, done, t0);
}

/* Figure @f over the buffer @a->buf (mapped at @b->map), into @a->file and @b->file. */
static void p6_figure(const struct bench_figure *f, struct p6_side *a, struct p6_side *b)
{
	if (a->file < 0 || b->file < 0) {
		bench_fail(f, "cannot open the files");
		return;
	}
	a->loops = bench_cfg.quick ? 1 : P6_BYTES_PER_RUN / a->len;
	b->loops = a->loops;
	bench_pair(f, p6_write_file, a, p6_write, b);
}

/* to_ramdisk_odirect, with the ramdisk loaded for it. */
static void p6_ramdisk(const struct bench_figure *f, struct p6_side *a, struct p6_side *b)
{
	char cmd[96];

	if (bench_cfg.quick) {
		bench_skip(f, "quick mode: no ramdisk loaded");
		return;
	}
	if (test_module_loaded("brd")) {
		bench_skip(f, "brd is loaded already: its disks are not the benchmark's");
		return;
	}
	snprintf(cmd, sizeof(cmd), "modprobe brd rd_nr=1 rd_size=%zu 2>/dev/null",
		 2 * a->len >> 10);
	if (system(cmd) || access(P6_RAMDISK, F_OK)) {
		bench_skip(f, "no ramdisk (brd) in this kernel: no block device for O_DIRECT");
		return;
	}
	a->file = open(P6_RAMDISK, O_WRONLY | O_DIRECT | O_CLOEXEC);
	b->file = open(P6_RAMDISK, O_WRONLY | O_CLOEXEC);
	a->off = 0;
	b->off = (off_t)a->len;
	p6_figure(f, a, b);
	if (a->file >= 0)
		close(a->file);
	if (b->file >= 0)
		close(b->file);
	a->file = -1;
	b->file = -1;
	if (test_unload_module("brd"))
		printf("# P6: rmmod brd: %s\n", strerror(errno));
}

void bench_p6(void)
{
	size_t len = bench_cfg.quick ? 64u << 10 : 4u << 20;
	struct cohbuf_buffer_desc desc = { .size = len };
	struct bench_figure f = {
		.group = "P6", .a = "write_file", .b = "write",
		.unit = "MiB/s", .higher_better = 1,
	};
	struct bench_figure fd = f;
	struct p6_side a = { .len = len, .file = -1 }, b = { .len = len, .file = -1 };
	char name[48], dname[48];

	snprintf(name, sizeof(name), "to_tmpfs_%zuKiB", len >> 10);
	snprintf(dname, sizeof(dname), "to_ramdisk_odirect_%zuKiB", len >> 10);
	f.name = name;
	fd.name = dname;
	a.dev = cohbuf_exporter_open();
	a.buf = a.dev >= 0 ? cohbuf_exporter_alloc(a.dev, &desc, NULL) : -1;
	b.map = a.buf >= 0 ? cohbuf_dmabuf_map(a.buf, 0, len, 1) : NULL;
	if (a.buf < 0 || !b.map) {
		bench_fail(&f, "cannot set up the buffer or its mapping");
		bench_fail(&fd, "cannot set up the buffer or its mapping");
	} else {
		memset(b.map, 0x5a, len);
		a.file = memfd_create("cohbuf-bench-a", MFD_CLOEXEC);
		b.file = memfd_create("cohbuf-bench-b", MFD_CLOEXEC);
		p6_figure(&f, &a, &b);
		if (a.file >= 0)
			close(a.file);
		if (b.file >= 0)
			close(b.file);
		p6_ramdisk(&fd, &a, &b);
	}
	if (b.map)
		cohbuf_dmabuf_unmap(b.map, len);
	if (a.buf >= 0)
		close(a.buf);
	if (a.dev >= 0)
		close(a.dev);
}
