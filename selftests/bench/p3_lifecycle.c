// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P3: buffer life cycle.  alloc -> fd -> mmap -> touch every
 * page -> munmap -> close, in cycles/s, for cohbuf against anonymous
 * mmap, the system dma-heap, the CMA heap of the default CMA area (the
 * debug kernel's) and udmabuf (over a sealed memfd) where the kernel has
 * them.  The ratio is cohbuf's rate / the peer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>

#include <libcohbuf.h>

#include "bench.h"

#define P3_HEAP		"/dev/dma_heap/system"
#define P3_HEAP_CMA	"/dev/dma_heap/reserved"	/* the default CMA area */
#define P3_UDMABUF	"/dev/udmabuf"

enum p3_kind { P3_COHBUF, P3_ANON, P3_HEAP_SYSTEM, P3_HEAP_CMA_DEFAULT, P3_UDMABUF_MEMFD };

struct p3_side {
	enum p3_kind kind;
	int dev;		/* /dev/cohbuf, the heap or /dev/udmabuf */
	size_t len;
	unsigned int cycles;	/* per measurement */
};

/* A new dma-buf of @s's kind and size: its fd, or -1. */
static int p3_dmabuf(const struct p3_side *s)
{
	struct cohbuf_buffer_desc desc = { .size = s->len };
	struct dma_heap_allocation_data heap = {
		.len = s->len, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	switch (s->kind) {
	case P3_COHBUF:
		return cohbuf_exporter_alloc(s->dev, &desc, NULL);
	case P3_HEAP_SYSTEM:
	case P3_HEAP_CMA_DEFAULT:
		return ioctl(s->dev, DMA_HEAP_IOCTL_ALLOC, &heap) ? -1 : (int)heap.fd;
	case P3_UDMABUF_MEMFD:
		return bench_udmabuf(s->dev, s->len, NULL);
	case P3_ANON:
		break;
	}
	return -1;
}

/* One whole cycle; false on failure. */
static int p3_cycle(const struct p3_side *s)
{
	size_t page = bench_page(), off;
	unsigned char *p;
	int fd = -1;

	if (s->kind == P3_ANON) {
		p = mmap(NULL, s->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		fd = p3_dmabuf(s);
		if (fd < 0)
			return 0;
		p = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (p == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (off = 0; off < s->len; off += page)
		p[off] = 1;
	munmap(p, s->len);
	if (fd >= 0)
		close(fd);
	return 1;
}

/* Cycles per second over s->cycles cycles; 0 if one failed. */
static double p3_rate(void *ctx)
{
	struct p3_side *s = ctx;
	unsigned int i;
	double t0 = bench_now();

	for (i = 0; i < s->cycles; i++)
		if (!p3_cycle(s))
			return 0;
	return s->cycles / (bench_now() - t0);
}

static const char *const p3_peer_name[] = {
	[P3_ANON] = "anon", [P3_HEAP_SYSTEM] = "system_heap", [P3_HEAP_CMA_DEFAULT] = "cma_heap",
	[P3_UDMABUF_MEMFD] = "udmabuf",
};

static const char *const p3_peer_dev[] = {
	[P3_HEAP_SYSTEM] = P3_HEAP, [P3_HEAP_CMA_DEFAULT] = P3_HEAP_CMA,
	[P3_UDMABUF_MEMFD] = P3_UDMABUF,
};

void bench_p3(void)
{
	static const size_t sizes[] = { 64u << 10, 1u << 20, 16u << 20 };
	static const unsigned int cycles[] = { 32, 8, 2 };
	enum p3_kind peer;
	unsigned int i;
	int dev = cohbuf_exporter_open();

	for (i = 0; i < 3; i++) {
		struct p3_side a = {
			.kind = P3_COHBUF, .dev = dev, .len = sizes[i],
			.cycles = bench_cfg.quick ? 1 : cycles[i],
		};
		char name[32];

		snprintf(name, sizeof(name), "cycle_%zuKiB", sizes[i] >> 10);
		for (peer = P3_ANON; peer <= P3_UDMABUF_MEMFD; peer++) {
			struct p3_side b = a;
			struct bench_figure f = {
				.group = "P3", .name = name, .a = "cohbuf",
				.b = p3_peer_name[peer], .unit = "cycles/s",
				.higher_better = 1,
			};
			char why[96];

			b.kind = peer;
			b.dev = -1;
			if (peer != P3_ANON) {
				b.dev = open(p3_peer_dev[peer], O_RDWR | O_CLOEXEC);
				if (b.dev < 0) {
					snprintf(why, sizeof(why), "%s: %s (not in this kernel)",
						 p3_peer_dev[peer], strerror(errno));
					bench_skip(&f, why);
					continue;
				}
			}
			if (dev < 0)
				bench_fail(&f, "cannot open /dev/cohbuf");
			else
				bench_pair(&f, p3_rate, &a, p3_rate, &b);
			if (b.dev >= 0)
				close(b.dev);
		}
	}
	if (dev >= 0)
		close(dev);
}
