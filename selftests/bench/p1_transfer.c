// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P1: device -> user transfer.  The device is the importer:
 * each transfer is a FILL job on the whole buffer, waited for, and then
 * the bytes reach user space, which reads all of them (a sum of u64):
 *
 *  - zero-copy: the job writes a cohbuf buffer and user space reads its
 *    mapping in place, between DMA_BUF_IOCTL_SYNC start and end;
 *  - copy path: the job writes a udmabuf over a memfd, a kernel buffer,
 *    and user space gets the bytes with pread() on the memfd (one
 *    copy_to_user), then reads its own copy;
 *  - the limit: memcpy of the same number of bytes between two buffers of
 *    anonymous memory, the guest's memory bandwidth for one copy.
 *
 * MiB/s of bytes delivered; the ratios are zero-copy / copy path and
 * zero-copy / memcpy.  Small buffers repeat the transfer so that each
 * measurement moves P1_BYTES_PER_RUN.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <libcohbuf.h>

#include "bench.h"

#define P1_BYTES_PER_RUN	(16u << 20)
#define P1_WAIT_NS		(10ull * 1000 * 1000 * 1000)
#define P1_UDMABUF		"/dev/udmabuf"

enum p1_kind { P1_ZERO_COPY, P1_COPY_PATH, P1_MEMCPY };

struct p1_side {
	enum p1_kind kind;
	size_t len;
	unsigned int loops;
	int ctx;		/* importer context: zero-copy and copy path */
	__u32 handle;		/* the imported dma-buf */
	int buf;		/* its fd */
	int memfd;		/* copy path: the memfd under the udmabuf */
	unsigned char *src;	/* zero-copy: the mapping; memcpy: the source */
	unsigned char *dst;	/* copy path and memcpy: the user buffer */
	__u64 sum;		/* kept so that the reads are done */
};

/* The device's part: FILL the whole imported buffer with @pattern and wait; 0 or -1. */
static int p1_device_fill(const struct p1_side *s, __u32 pattern)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_FILL, .dst_handle = s->handle,
		.len = s->len, .pattern = pattern,
	};
	int status = -1;

	if (cohbuf_importer_submit(s->ctx, &job) ||
	    cohbuf_importer_wait(s->ctx, job.job_id, P1_WAIT_NS, &status, NULL))
		return -1;
	return status ? -1 : 0;
}

static __u64 p1_sum(const unsigned char *p, size_t len)
{
	const __u64 *w = (const __u64 *)p;
	__u64 sum = 0;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		sum += w[i];
	return sum;
}

/* One transfer of s->len bytes to user space; 0 or -1. */
static int p1_transfer(struct p1_side *s, unsigned int i)
{
	switch (s->kind) {
	case P1_ZERO_COPY:
		if (p1_device_fill(s, i) ||
		    cohbuf_dmabuf_cpu_access_begin(s->buf, DMA_BUF_SYNC_READ))
			return -1;
		s->sum += p1_sum(s->src, s->len);
		return cohbuf_dmabuf_cpu_access_end(s->buf, DMA_BUF_SYNC_READ) ? -1 : 0;
	case P1_COPY_PATH:
		if (p1_device_fill(s, i) ||
		    pread(s->memfd, s->dst, s->len, 0) != (ssize_t)s->len)
			return -1;
		s->sum += p1_sum(s->dst, s->len);
		return 0;
	case P1_MEMCPY:
		memcpy(s->dst, s->src, s->len);
		return 0;
	}
	return -1;
}

static double p1_rate(void *ctx)
{
	struct p1_side *s = ctx;
	double t0 = bench_now();
	unsigned int i;

	for (i = 0; i < s->loops; i++)
		if (p1_transfer(s, i))
			return 0;
	return (double)s->len * s->loops / (1 << 20) / (bench_now() - t0);
}

/* Sets up @s for its kind; NULL or why it cannot be measured here. */
static const char *p1_setup(struct p1_side *s, int dev, int udev)
{
	struct cohbuf_buffer_desc desc = { .size = s->len };

	s->loops = bench_cfg.quick || s->len >= P1_BYTES_PER_RUN ? 1 :
		   P1_BYTES_PER_RUN / s->len;
	if (s->kind == P1_MEMCPY) {
		s->src = bench_anon(s->len);
		s->dst = bench_anon(s->len);
		return s->src && s->dst ? NULL : "cannot map anonymous memory";
	}
	if (s->kind == P1_ZERO_COPY)
		s->buf = dev < 0 ? -1 : cohbuf_exporter_alloc(dev, &desc, NULL);
	else
		s->buf = bench_udmabuf(udev, s->len, &s->memfd);
	if (s->buf < 0)
		return "cannot allocate the buffer";
	if (cohbuf_importer_import(s->ctx, s->buf, &s->handle, NULL))
		return "cannot import the buffer into the importer";
	if (s->kind == P1_ZERO_COPY) {
		s->src = cohbuf_dmabuf_map(s->buf, 0, s->len, 0);
		return s->src ? NULL : "cannot map the cohbuf buffer";
	}
	s->dst = bench_anon(s->len);
	return s->dst ? NULL : "cannot map anonymous memory";
}

static void p1_teardown(struct p1_side *s)
{
	if (s->kind == P1_ZERO_COPY && s->src)
		cohbuf_dmabuf_unmap(s->src, s->len);
	else if (s->src)
		munmap(s->src, s->len);
	if (s->dst)
		munmap(s->dst, s->len);
	if (s->handle)
		cohbuf_importer_release(s->ctx, s->handle);
	if (s->buf >= 0)
		close(s->buf);
	if (s->memfd >= 0)
		close(s->memfd);
}

static const char *const p1_peer_name[] = {
	[P1_COPY_PATH] = "copy_read", [P1_MEMCPY] = "memcpy",
};

/* The two figures of one size: zero-copy against each peer. */
static void p1_size(int dev, int udev, int ctx, size_t len)
{
	struct p1_side a = { .kind = P1_ZERO_COPY, .len = len, .ctx = ctx,
			     .buf = -1, .memfd = -1 };
	const char *why_a = ctx < 0 ? "cannot open /dev/cohbuf-importer" :
			    p1_setup(&a, dev, udev);
	enum p1_kind peer;
	char name[32];

	snprintf(name, sizeof(name), "xfer_%zuKiB", len >> 10);
	for (peer = P1_COPY_PATH; peer <= P1_MEMCPY; peer++) {
		struct p1_side b = { .kind = peer, .len = len, .ctx = ctx,
				     .buf = -1, .memfd = -1 };
		struct bench_figure f = {
			.group = "P1", .name = name, .a = "zero_copy",
			.b = p1_peer_name[peer], .unit = "MiB/s", .higher_better = 1,
		};
		const char *why_b = NULL;

		if (peer == P1_COPY_PATH && udev < 0) {
			bench_skip(&f, P1_UDMABUF " is not in this kernel: no copy path");
			continue;
		}
		if (!why_a)
			why_b = p1_setup(&b, dev, udev);
		if (why_a || why_b)
			bench_fail(&f, why_a ? why_a : why_b);
		else
			bench_pair(&f, p1_rate, &a, p1_rate, &b);
		p1_teardown(&b);
	}
	p1_teardown(&a);
}

void bench_p1(void)
{
	static const size_t full[P1_SIZES] = {
		4u << 10, 64u << 10, 1u << 20, 16u << 20, 64u << 20,
	};
	static const size_t quick[P1_SIZES] = {
		4u << 10, 16u << 10, 64u << 10, 256u << 10, 1u << 20,
	};
	int dev = cohbuf_exporter_open();
	int udev = open(P1_UDMABUF, O_RDWR | O_CLOEXEC);
	int ctx = cohbuf_importer_open();
	unsigned int i;

	for (i = 0; i < P1_SIZES; i++)
		p1_size(dev, udev, ctx, bench_cfg.quick ? quick[i] : full[i]);
	if (ctx >= 0)
		close(ctx);
	if (udev >= 0)
		close(udev);
	if (dev >= 0)
		close(dev);
}
