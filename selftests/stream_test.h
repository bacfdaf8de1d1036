/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the stream selftests: the stream ioctls with every field
 * explicit (so that the error cases can set any of them), the debugfs
 * counters of streams, and the check of every sample against the
 * reference payload function of "cohbuf stream payload"
 * (linux/cohbuf_stream.h): libcohbuf's, written from the uapi text apart
 * from the kernel's, the one user programs and the cohbuf tool use.
 */
#ifndef COHBUF_STREAM_TEST_H
#define COHBUF_STREAM_TEST_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/cohbuf_stream.h>

#include "cohbuf_test.h"
#include "importer_test.h"	/* libcohbuf.h */

/* The parameters most tests use: the manual clock, ADC12, 4 channels. */
static inline struct cohbuf_stream_create_data stream_params(__u32 block_frames)
{
	struct cohbuf_stream_create_data p = {
		.direction = COHBUF_STREAM_DIR_INPUT,
		.mode = COHBUF_STREAM_MODE_QUEUE,
		.format = COHBUF_STREAM_FMT_ADC12,
		.channels = 4,
		.rate_hz = 48000,
		.block_frames = block_frames,
		.clock = COHBUF_STREAM_CLOCK_MANUAL,
		.overrun = COHBUF_STREAM_OVERRUN_DROP,
		.watermark = 1,
	};
	return p;
}

static inline __u32 stream_frame_bytes(const struct cohbuf_stream_create_data *p)
{
	return cohbuf_stream_sample_bytes(p->format) * p->channels;
}

static inline __u64 stream_block_bytes(const struct cohbuf_stream_create_data *p)
{
	return (__u64)p->block_frames * stream_frame_bytes(p);
}

/* STREAM_CREATE on an importer context: the stream fd, or -errno. */
static inline int stream_create(int imp, struct cohbuf_stream_create_data *p)
{
	p->fd = 0;
	if (ioctl(imp, COHBUF_IMP_IOCTL_STREAM_CREATE, p))
		return -errno;
	return p->fd;
}

/* QUEUE @d as it is: 0 or -errno. */
static inline int stream_queue_full(int s, struct cohbuf_stream_queue_data *d)
{
	return ioctl(s, COHBUF_STREAM_IOCTL_QUEUE, d) ? -errno : 0;
}

/* QUEUE a region without fences: 0 or -errno. */
static inline int stream_queue(int s, int buf, __u64 offset, __u64 length, __u64 cookie)
{
	struct cohbuf_stream_queue_data d = {
		.dmabuf_fd = buf, .offset = offset, .length = length, .cookie = cookie,
	};

	return stream_queue_full(s, &d);
}

/* DEQUEUE until the absolute @deadline_ns: 0 with @rec filled, or -errno. */
static inline int stream_dequeue(int s, __u64 deadline_ns, struct cohbuf_stream_record *rec)
{
	struct cohbuf_stream_dequeue_data d = { .deadline_ns = deadline_ns };

	memset(rec, 0, sizeof(*rec));
	if (ioctl(s, COHBUF_STREAM_IOCTL_DEQUEUE, &d))
		return -errno;
	*rec = d.record;
	return 0;
}

static inline int stream_start(int s)
{
	struct cohbuf_stream_start_data d = { 0 };

	return ioctl(s, COHBUF_STREAM_IOCTL_START, &d) ? -errno : 0;
}

static inline int stream_stop(int s)
{
	struct cohbuf_stream_start_data d = { 0 };

	return ioctl(s, COHBUF_STREAM_IOCTL_STOP, &d) ? -errno : 0;
}

static inline int stream_advance(int s, __u64 frames)
{
	struct cohbuf_stream_advance_data d = { .frames = frames };

	return ioctl(s, COHBUF_STREAM_IOCTL_ADVANCE, &d) ? -errno : 0;
}

static inline int stream_stats(int s, struct cohbuf_stream_stats_data *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(s, COHBUF_STREAM_IOCTL_STATS, st) ? -errno : 0;
}

/* The poll() events of @fd among @events, right now. */
static inline short stream_revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 ? (p.revents & (events | POLLERR)) : 0;
}

/* A counter of the importer's debugfs stats (streams, stream_regions), or -1. */
static inline long long stream_debugfs(const char *key)
{
	return read_number(IMPORTER_DEBUGFS "/stats", key);
}

/*
 * Check every sample of a record's region at @p (the region's first byte)
 * with libcohbuf's reference payload (cohbuf_stream_verify(): the value
 * and ADC12's noise bits): -1 if all are right, else the index of the
 * first wrong sample. With @forget_shift, as a consumer that takes
 * ADC12's words for values without the shift, the mistake the format
 * catches.
 */
static inline long stream_verify(const void *p, const struct cohbuf_stream_record *rec,
				 __u32 channels, __u32 format, int forget_shift)
{
	size_t bad = 0, n;

	if (!forget_shift || format != COHBUF_STREAM_FMT_ADC12) {
		int ret = cohbuf_stream_verify(p, rec->first_frame, rec->frames, channels,
					       format, &bad);

		return !ret ? -1 : ret == -EBADMSG ? (long)bad : 0;
	}
	for (n = 0; n < (size_t)rec->frames * channels; n++)
		if (cohbuf_stream_decode(p, n, COHBUF_STREAM_FMT_S16) !=
		    cohbuf_stream_sample_value(rec->first_frame + n / channels,
					       (__u32)(n % channels), format))
			return (long)n;
	return -1;
}

/*
 * Samples of a record's region at @p (its first byte) that differ from
 * the payload for the record's frames, value or noise: what an output
 * stream's device counts in STATS' mismatched, counted by the CPU.
 */
static inline __u64 stream_mismatches(const void *p, const struct cohbuf_stream_record *rec,
				      __u32 channels, __u32 format)
{
	__u32 size = cohbuf_stream_sample_bytes(format), w, k;
	const unsigned char *b = p;
	__u64 n, bad = 0;

	for (n = 0; n < (__u64)rec->frames * channels; n++, b += size) {
		for (w = 0, k = 0; k < size; k++)
			w |= (__u32)b[k] << (8 * k);
		if (w != cohbuf_stream_sample_word(rec->first_frame + n / channels,
						   (__u32)(n % channels), format))
			bad++;
	}
	return bad;
}

/* produced = delivered + lost + in_flight, from one STATS: 1 if it holds. */
static inline int stream_balanced(const struct cohbuf_stream_stats_data *st)
{
	return st->produced == st->delivered + st->lost + st->in_flight;
}

/*
 * In a harness test: STATS of stream @s into @st, which must balance; the
 * counts are logged if they do not. A macro, so that programs without the
 * harness can include this header.
 */
#define EXPECT_BALANCED(s, st) do { \
	struct cohbuf_stream_stats_data *st_ = (st); \
	ASSERT_EQ(0, stream_stats(s, st_)); \
	EXPECT_TRUE(stream_balanced(st_)) \
		TH_LOG("produced %llu delivered %llu lost %llu in flight %llu", \
		       (unsigned long long)st_->produced, \
		       (unsigned long long)st_->delivered, \
		       (unsigned long long)st_->lost, \
		       (unsigned long long)st_->in_flight); \
} while (0)

#endif /* COHBUF_STREAM_TEST_H */
