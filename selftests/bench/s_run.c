// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench, streams: one timed run of a stream of the importer and
 * its consumer.  The stream (HRTIMER clock, ADC12, DROP, watermark 1)
 * writes c->depth regions, one block each and one dma-buf each (so that
 * DMA_BUF_IOCTL_SYNC on the block just dequeued waits for no other
 * region's fence), all queued before START.  For c->seconds the consumer
 * takes the oldest record, reads every byte of its block (a sum of u64),
 * checks its first and last sample against the payload and queues the
 * region again.  STATS is read before STOP, so that STOP's catch-up of
 * the frames due (which may have no region left) is not counted.  Ring
 * mode (S_RING) is s_ring.c's, which shares the sample check, the
 * bookkeeping of latencies and hold times, STATS and the CPU times below.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <libcohbuf.h>

#include "bench.h"

struct s_region {
	int buf;		/* the dma-buf */
	int memfd;		/* S_COPY_READ: the memfd under the udmabuf */
	unsigned char *map;	/* S_ZERO_COPY: its mapping */
};

struct s_stream {
	const struct s_cfg *c;
	size_t block;		/* bytes of a block */
	size_t len;		/* bytes of a region's dma-buf: block, page-rounded */
	int fd;			/* the stream */
	struct s_region *regions;
	unsigned char *copy;	/* S_COPY_READ: the consumer's buffer */
	__u64 sum;		/* of every byte read, kept so that the reads are done */
};

static double s_cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * Seconds every CPU has been idle since boot (/proc/uptime, from the idle
 * time NOHZ keeps exactly; /proc/stat's busy times are sampled at ticks,
 * and came out below the consumer's own getrusage() time in the guests).
 */
static double s_cpu_idle(void)
{
	double up = 0, idle = 0;
	FILE *f = fopen("/proc/uptime", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lf %lf", &up, &idle) != 2)
		idle = 0;
	fclose(f);
	return idle;
}

static const char *s_setup(struct s_stream *s, int ctx, int dev, int udev)
{
	const struct s_cfg *c = s->c;
	struct cohbuf_stream_create_data p = {
		.direction = COHBUF_STREAM_DIR_INPUT, .mode = COHBUF_STREAM_MODE_QUEUE,
		.format = S_FORMAT, .channels = c->channels, .rate_hz = c->rate_hz,
		.block_frames = c->block_frames, .clock = COHBUF_STREAM_CLOCK_HRTIMER,
		.overrun = COHBUF_STREAM_OVERRUN_DROP, .watermark = 1,
	};
	size_t page = bench_page();
	unsigned int i;

	s->block = (size_t)c->block_frames * c->channels * S_SAMPLE_BYTES;
	s->len = (s->block + page - 1) / page * page;
	s->regions = calloc(c->depth, sizeof(*s->regions));
	if (!s->regions)
		return "out of memory";
	for (i = 0; i < c->depth; i++) {
		struct cohbuf_buffer_desc desc = { .size = s->len };
		struct s_region *r = &s->regions[i];

		r->memfd = -1;
		if (c->path == S_ZERO_COPY)
			r->buf = dev < 0 ? -1 : cohbuf_exporter_alloc(dev, &desc, NULL);
		else
			r->buf = udev < 0 ? -1 : bench_udmabuf(udev, s->len, &r->memfd);
		if (r->buf < 0)
			return "cannot allocate a region's dma-buf";
		if (c->path == S_ZERO_COPY) {
			r->map = cohbuf_dmabuf_map(r->buf, 0, s->len, 0);
			if (!r->map)
				return "cannot map a region";
		}
	}
	if (c->path == S_COPY_READ) {
		s->copy = bench_anon(s->len);
		if (!s->copy)
			return "cannot map anonymous memory";
	}
	s->fd = cohbuf_stream_create(ctx, &p);
	return s->fd < 0 ? "STREAM_CREATE failed" : NULL;
}

static void s_teardown(struct s_stream *s)
{
	unsigned int i;

	if (s->fd >= 0)
		close(s->fd);	/* stops the stream, gives every region back */
	for (i = 0; s->regions && i < s->c->depth; i++) {
		struct s_region *r = &s->regions[i];

		if (r->map)
			cohbuf_dmabuf_unmap(r->map, s->len);
		if (r->buf >= 0)
			close(r->buf);
		if (r->memfd >= 0)
			close(r->memfd);
	}
	free(s->regions);
	if (s->copy)
		munmap(s->copy, s->len);
}

static int s_queue(struct s_stream *s, unsigned int i)
{
	struct cohbuf_stream_queue_data q = {
		.dmabuf_fd = s->regions[i].buf, .length = s->block, .cookie = i,
	};

	return cohbuf_stream_queue(s->fd, &q);
}

/* The next record, waiting until @deadline_ns: 0, or a negative errno. */
static int s_next(struct s_stream *s, __u64 deadline_ns, struct cohbuf_stream_record *rec)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	__u64 now = cohbuf_stream_now_ns();

	if (!s->c->use_poll)
		return cohbuf_stream_dequeue(s->fd, deadline_ns, rec);
	if (deadline_ns <= now)
		return -ETIME;
	if (poll(&pfd, 1, (int)((deadline_ns - now) / 1000000 + 1)) < 0)
		return -errno;
	return cohbuf_stream_dequeue(s->fd, 0, rec);
}

/* Sample @n of the block at @p as stored (a __le16 word; the guests are little-endian). */
static unsigned int s_word(const unsigned char *p, size_t n)
{
	return p[2 * n] | p[2 * n + 1] << 8;
}

int s_block_ok(const unsigned char *p, __u64 first_frame, __u32 frames,
	       unsigned int channels, __u64 *sum)
{
	size_t k, bytes = (size_t)frames * channels * S_SAMPLE_BYTES;
	size_t last = (size_t)frames * channels - 1;
	const __u64 *w = (const __u64 *)p;

	for (k = 0; k < bytes / sizeof(*w); k++)
		*sum += w[k];
	return s_word(p, 0) == cohbuf_stream_sample_word(first_frame, 0, S_FORMAT) &&
	       s_word(p, last) == cohbuf_stream_sample_word(first_frame + frames - 1,
							    channels - 1, S_FORMAT);
}

/* Read every byte of @rec's block and check its first and last sample. */
static int s_consume(struct s_stream *s, const struct cohbuf_stream_record *rec)
{
	const struct s_region *r = &s->regions[rec->cookie];
	const unsigned char *p = r->map;
	int ok;

	if (s->c->path == S_COPY_READ) {
		if (pread(r->memfd, s->copy, rec->bytes_used, 0) != (ssize_t)rec->bytes_used)
			return 0;
		p = s->copy;
	} else if (cohbuf_dmabuf_cpu_access_begin(r->buf, DMA_BUF_SYNC_READ)) {
		return 0;
	}
	ok = rec->bytes_used == (__u64)rec->frames * s->c->channels * S_SAMPLE_BYTES &&
	     s_block_ok(p, rec->first_frame, rec->frames, s->c->channels, &s->sum);
	if (s->c->path == S_ZERO_COPY &&
	    cohbuf_dmabuf_cpu_access_end(r->buf, DMA_BUF_SYNC_READ))
		return 0;
	return ok;
}

void s_note_latency(const struct s_cfg *c, struct s_result *r, __u64 now, __u64 last_ns)
{
	if (c->lat && r->nlat < c->lat_cap && now > last_ns)
		c->lat[r->nlat++] = (now - last_ns) / 1e3;
}

void s_note_hold(const struct s_cfg *c, struct s_result *r, __u64 last_ns)
{
	__u64 now = cohbuf_stream_now_ns();
	double hold = now > last_ns ? (now - last_ns) / 1e9 : 0;

	if (hold > r->hold_max)
		r->hold_max = hold;
	if (c->hold && r->nhold < c->hold_cap)
		c->hold[r->nhold++] = hold;
}

const char *s_finish(int fd, __u64 t0, const struct s_cfg *c, struct s_result *r)
{
	struct cohbuf_stream_stats_data st;

	if (cohbuf_stream_stats(fd, &st))
		return "STATS failed";
	r->elapsed = (cohbuf_stream_now_ns() - t0) / 1e9;
	r->due = r->elapsed * c->rate_hz;
	r->produced = st.produced;
	r->lost = st.lost;
	return NULL;
}

/* The consumer's loop from START to the end of the run. */
static const char *s_loop(struct s_stream *s, struct s_result *r)
{
	const struct s_cfg *c = s->c;
	__u64 t0 = cohbuf_stream_now_ns(), end = t0 + (__u64)(c->seconds * 1e9), now;
	struct cohbuf_stream_record rec;
	int ret;

	for (now = t0; now < end; now = cohbuf_stream_now_ns()) {
		/* No record by the end is no error: s_drop_free() sees a stall. */
		ret = s_next(s, end, &rec);
		now = cohbuf_stream_now_ns();
		if (ret == -ETIME && now >= end)
			break;
		if (ret)
			return "DEQUEUE failed";
		if (rec.flags & COHBUF_STREAM_REC_ERROR || rec.cookie >= c->depth ||
		    !rec.frames)
			return "a record has an error";
		s_note_latency(c, r, now, rec.last_ns);
		if (!s_consume(s, &rec))
			return "a block does not hold the payload";
		r->records++;
		r->bytes += rec.bytes_used;
		if (s_queue(s, rec.cookie))
			return "QUEUE failed";
		s_note_hold(c, r, rec.last_ns);
	}
	return s_finish(s->fd, t0, c, r);
}

void s_cpu_begin(struct s_cpu *m)
{
	m->self = s_cpu_self();
	m->idle = s_cpu_idle();
	m->t = bench_now();
}

void s_cpu_end(const struct s_cpu *m, struct s_result *r)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	r->cpu_self = s_cpu_self() - m->self;
	r->cpu_all = (bench_now() - m->t) * ncpu - (s_cpu_idle() - m->idle);
}

const char *s_run(int ctx, int dev, int udev, const struct s_cfg *c, struct s_result *r)
{
	struct s_stream s = { .c = c, .fd = -1 };
	const char *why;
	struct s_cpu m;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	if (c->path == S_RING)
		return s_ring_run(ctx, dev, c, r);
	why = s_setup(&s, ctx, dev, udev);
	for (i = 0; !why && i < c->depth; i++)
		if (s_queue(&s, i))
			why = "QUEUE failed";
	if (!why) {
		s_cpu_begin(&m);
		why = cohbuf_stream_start(s.fd) ? "START failed" : s_loop(&s, r);
		s_cpu_end(&m, r);
	}
	s_teardown(&s);
	return why;
}

int s_drop_free(const struct s_cfg *c, const struct s_result *r)
{
	/* The device writes a frame up to a timer period late: allow two. */
	double period = c->block_frames > c->rate_hz / 1000.0 ?
			c->block_frames : c->rate_hz / 1000.0;

	return !r->lost && r->produced + 2 * period >= 0.9 * r->due;
}
