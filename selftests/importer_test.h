/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the importer selftests: job descriptions with every field
 * explicit (the ioctls themselves are libcohbuf's), a CRC-32 to check
 * CHECKSUM results against, and the FILL byte streams computed on the CPU.
 */
#ifndef COHBUF_IMPORTER_TEST_H
#define COHBUF_IMPORTER_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/cohbuf_importer.h>

#include <libcohbuf.h>

#include "cohbuf_test.h"

#define IMPORTER_DEV	"/dev/cohbuf-importer"
#define MS		1000000ULL	/* nanoseconds */
#define IMPORTER_DEBUGFS	"/sys/kernel/debug/cohbuf_importer"

static inline struct cohbuf_imp_submit_data imp_fill(__u32 dst, __u64 off, __u64 len,
						     __u32 pattern)
{
	struct cohbuf_imp_submit_data d = {
		.op = COHBUF_IMP_OP_FILL, .dst_handle = dst, .dst_offset = off,
		.len = len, .pattern = pattern,
	};
	return d;
}

static inline struct cohbuf_imp_submit_data imp_copy(__u32 dst, __u64 dst_off, __u32 src,
						     __u64 src_off, __u64 len)
{
	struct cohbuf_imp_submit_data d = {
		.op = COHBUF_IMP_OP_COPY, .dst_handle = dst, .dst_offset = dst_off,
		.src_handle = src, .src_offset = src_off, .len = len,
	};
	return d;
}

static inline struct cohbuf_imp_submit_data imp_checksum(__u32 src, __u64 off, __u64 len)
{
	struct cohbuf_imp_submit_data d = {
		.op = COHBUF_IMP_OP_CHECKSUM, .src_handle = src, .src_offset = off, .len = len,
	};
	return d;
}

static inline void imp_set_latency(struct cohbuf_imp_submit_data *d, __u32 ms)
{
	d->flags |= COHBUF_IMP_SUBMIT_LATENCY;
	d->latency_ms = ms;
}

/*
 * The tests' CRC-32 oracle, as zlib's crc32(0, buf, len): what CHECKSUM
 * results are checked against.  It computes what libcohbuf's cohbuf_importer_crc32()
 * does, but is written apart from it and kept apart ON PURPOSE: a bug in
 * the library must not be able to hide the same bug in the kernel.  The
 * tests use only this one.
 */
static inline __u32 test_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	__u32 crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* The importer's FILL with a pattern: byte i of the range is byte i % 4. */
static inline void pattern_bytes(unsigned char *out, size_t len, __u32 pattern)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(pattern >> (8 * (i % 4)));
}

/* The importer's random FILL: splitmix64 words from @seed, little-endian. */
static inline void random_bytes(unsigned char *out, size_t len, __u64 seed)
{
	__u64 s = seed, z = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			s += 0x9e3779b97f4a7c15ULL;
			z = s;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
		}
		out[i] = (unsigned char)(z >> (8 * (i % 8)));
	}
}

/* Is the fd (a dma-buf or sync_file) readable/writable-ready right now? */
static inline int fd_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 && (p.revents & events);
}

/*
 * Wait up to @seconds until no closed context is left for the importer to
 * free (debugfs stats "closing" is 0): a work item drops a closed
 * context's imports, and with them perhaps the last reference to their
 * buffers, a moment after close() or a process's exit. 0, or -1 if it
 * did not happen in time.
 */
static inline int test_importer_reaped(double seconds)
{
	double start = monotonic_s();
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	while (read_number(IMPORTER_DEBUGFS "/stats", "closing") != 0) {
		if (monotonic_s() - start > seconds)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* Are all @len bytes at @p equal to @v? */
static inline int all_bytes(const unsigned char *p, size_t len, unsigned char v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

#endif /* COHBUF_IMPORTER_TEST_H */
