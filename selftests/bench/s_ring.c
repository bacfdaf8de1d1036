// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench, streams: one timed run in ring mode ("cohbuf stream ring"
 * in linux/cohbuf_stream.h), the S_RING path of s_run().  The stream
 * (HRTIMER clock, ADC12, DROP, watermark 1, no OVERWRITE) writes a data
 * area of c->depth block records and room for a gap record, at offset 0
 * of one cohbuf buffer.  For c->seconds the consumer takes the records
 * with libcohbuf's ring helpers, in place: for each block record it reads
 * every byte of the block (a sum of u64), checks its first and last sample
 * against the payload and releases the record; when the ring is empty it
 * sleeps in poll() until the watermark (acknowledging an overrun with
 * STATS).  Each load of the head opens a batch that DMA_BUF_IOCTL_SYNC
 * start and end bracket, one pair per batch as the uapi asks, not one per
 * block.  A block's latency is taken when the consumer has found its
 * record (after its batch's SYNC start), its hold time when it releases it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <libcohbuf.h>

#include "bench.h"

const char s_ring_unsupported[] =
	"this importer has no ring mode for a cohbuf buffer (STREAM_CREATE: EOPNOTSUPP)";

struct s_ring {
	const struct s_cfg *c;
	size_t block;		/* bytes of a block */
	size_t len;		/* bytes of the dma-buf: the data area, page-rounded */
	int buf;		/* the ring's dma-buf */
	unsigned char *map;	/* its mapping: the data area */
	int fd;			/* the stream */
	int mapped;		/* whether ring holds the control pages */
	int in_batch;		/* between SYNC start and end */
	struct cohbuf_stream_ring ring;
	__u64 sum;		/* of every byte read, kept so that the reads are done */
};

static const char *sr_setup(struct s_ring *s, int ctx, int dev)
{
	const struct s_cfg *c = s->c;
	size_t page = bench_page(), record, length;
	struct cohbuf_stream_create_data p = {
		.direction = COHBUF_STREAM_DIR_INPUT, .mode = COHBUF_STREAM_MODE_RING,
		.format = S_FORMAT, .channels = c->channels, .rate_hz = c->rate_hz,
		.block_frames = c->block_frames, .clock = COHBUF_STREAM_CLOCK_HRTIMER,
		.overrun = COHBUF_STREAM_OVERRUN_DROP, .watermark = 1,
	};
	struct cohbuf_buffer_desc desc = { 0 };

	s->block = (size_t)c->block_frames * c->channels * S_SAMPLE_BYTES;
	record = sizeof(struct cohbuf_ring_block) + s->block;
	record = (record + COHBUF_RING_ALIGN - 1) / COHBUF_RING_ALIGN * COHBUF_RING_ALIGN;
	length = c->depth * record + COHBUF_RING_GAP_SIZE_VER0;
	s->len = (length + page - 1) / page * page;
	desc.size = s->len;
	s->buf = dev < 0 ? -1 : cohbuf_exporter_alloc(dev, &desc, NULL);
	if (s->buf < 0)
		return "cannot allocate the ring's dma-buf";
	s->map = cohbuf_dmabuf_map(s->buf, 0, s->len, 0);
	if (!s->map)
		return "cannot map the ring's dma-buf";
	p.ring_fd = s->buf;
	p.ring_length = length;
	s->fd = cohbuf_stream_create(ctx, &p);
	if (s->fd == -EOPNOTSUPP)
		return s_ring_unsupported;
	if (s->fd < 0)
		return "STREAM_CREATE (ring) failed";
	if (cohbuf_stream_ring_map(s->fd, s->map, &s->ring))
		return "cannot map the ring's control pages";
	s->mapped = 1;
	return NULL;
}

static void sr_teardown(struct s_ring *s)
{
	if (s->mapped)
		cohbuf_stream_ring_unmap(&s->ring);
	if (s->fd >= 0)
		close(s->fd);	/* stops the stream */
	if (s->map)
		cohbuf_dmabuf_unmap(s->map, s->len);
	if (s->buf >= 0)
		close(s->buf);
}

/* Open (@open) or close the batch of records of one load of the head: 0 or -1. */
static int sr_batch(struct s_ring *s, int open)
{
	if (s->in_batch == open)
		return 0;
	s->in_batch = open;
	if (open)
		return cohbuf_dmabuf_cpu_access_begin(s->buf, DMA_BUF_SYNC_READ) ? -1 : 0;
	return cohbuf_dmabuf_cpu_access_end(s->buf, DMA_BUF_SYNC_READ) ? -1 : 0;
}

/* The ring is empty: sleep until the watermark or @end; NULL or why not. */
static const char *sr_wait(struct s_ring *s, __u64 end)
{
	struct cohbuf_stream_stats_data st;
	int ev;

	if (sr_batch(s, 0))
		return "DMA_BUF_IOCTL_SYNC end failed";
	ev = cohbuf_stream_ring_wait(s->fd, end);
	if (ev < 0)
		return "poll() failed";
	if (ev & (POLLERR | POLLHUP | POLLNVAL))
		return "the stream stopped";
	/* An overrun stays reported until STATS acknowledges it. */
	if (ev & POLLPRI && cohbuf_stream_stats(s->fd, &st))
		return "STATS failed";
	return NULL;
}

/* Check and read the block record @h found at @now; NULL or why not. */
static const char *sr_block(struct s_ring *s, const struct cohbuf_ring_header *h, __u64 now,
			    struct s_result *r)
{
	const struct cohbuf_ring_block *b = (const void *)h;
	unsigned int ch = s->c->channels;

	if (h->size < sizeof(*b) + s->block || !b->frames || b->frames > s->c->block_frames)
		return "a ring record is malformed";
	s_note_latency(s->c, r, now, b->last_ns);
	if (!s_block_ok((const unsigned char *)(b + 1), b->first_frame, b->frames, ch, &s->sum))
		return "a block does not hold the payload";
	r->records++;
	r->bytes += (__u64)b->frames * ch * S_SAMPLE_BYTES;
	return NULL;
}

/* The consumer's loop from START to the end of the run. */
static const char *sr_loop(struct s_ring *s, struct s_result *r)
{
	const struct s_cfg *c = s->c;
	__u64 t0 = cohbuf_stream_now_ns(), end = t0 + (__u64)(c->seconds * 1e9), now, last;
	const struct cohbuf_ring_header *h;
	const char *why;
	int ret;

	for (now = t0; now < end; now = cohbuf_stream_now_ns()) {
		ret = cohbuf_stream_ring_peek(&s->ring, &h);
		if (ret < 0)
			return "a ring record is malformed";
		if (!ret) {
			why = sr_wait(s, end);
			if (why)
				return why;
			continue;
		}
		if (sr_batch(s, 1))
			return "DMA_BUF_IOCTL_SYNC start failed";
		now = cohbuf_stream_now_ns();
		last = 0;
		if (h->type == COHBUF_RING_REC_BLOCK) {
			why = sr_block(s, h, now, r);
			if (why)
				return why;
			last = ((const struct cohbuf_ring_block *)h)->last_ns;
		}
		cohbuf_stream_ring_release(&s->ring);
		if (last)
			s_note_hold(c, r, last);
		/* Every record of this load of the head read: the batch ends. */
		if (s->ring.pos == s->ring.head && sr_batch(s, 0))
			return "DMA_BUF_IOCTL_SYNC end failed";
	}
	if (sr_batch(s, 0))
		return "DMA_BUF_IOCTL_SYNC end failed";
	return s_finish(s->fd, t0, c, r);
}

const char *s_ring_run(int ctx, int dev, const struct s_cfg *c, struct s_result *r)
{
	struct s_ring s = { .c = c, .buf = -1, .fd = -1 };
	const char *why = sr_setup(&s, ctx, dev);
	struct s_cpu m;

	if (!why) {
		s_cpu_begin(&m);
		why = cohbuf_stream_start(s.fd) ? "START failed" : sr_loop(&s, r);
		s_cpu_end(&m, r);
	}
	sr_teardown(&s);
	return why;
}
