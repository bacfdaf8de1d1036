// SPDX-License-Identifier: MIT
/*
 * cohbuf stream and cohbuf capture: run a stream of the importer's
 * simulated ADC (linux/cohbuf_stream.h) into @depth dma-bufs, one region
 * each, and check everything it says: every sample against the library's
 * reference payload, every record's sequence and first frame, and the
 * counters (produced = delivered + lost + in flight).  On a terminal a
 * progress line is redrawn four times a second; a summary ends the run.
 * capture also write()s every filled region to a file from its mapping.
 *
 * stream --output runs the other way (a DAC): the tool writes each region
 * with the payload for the frames it will be played at before it queues
 * it (cohbuf_stream_fill()), and the device checks every sample it reads
 * (COHBUF_STREAM_REC_MISMATCH, STATS' mismatched).  An underrun delays
 * every region written before its record came: the record's first frame
 * says by how much, and the regions written after are shifted to match;
 * a mismatch in a region played where it was written for is corruption.
 *
 * The MANUAL clock makes a run exact: the tool ADVANCEs rate * duration
 * frames, one block (or --advance frames) at a time, as fast as it can.
 *
 * With --ring SIZE the stream runs in ring mode instead: one dma-buf is
 * the data area, and the tool takes the block and gap records from it in
 * place with libcohbuf's ring helpers, sleeping in poll() (HRTIMER) or
 * after each ADVANCE (MANUAL), and checks them as it checks records.
 */

#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "cohbuf_tool.h"

#define NS_PER_S	1000000000ULL
#define NS_PER_MS	1000000ULL
#define TICK_NS		(250 * NS_PER_MS)	/* progress line, SIGINT check */
#define MAX_DURATION_NS	(24 * 3600 * NS_PER_S)

struct name_value {
	const char *name;
	uint32_t value;
};

static const struct name_value formats[] = {
	{ "adc12", COHBUF_STREAM_FMT_ADC12 },
	{ "s16", COHBUF_STREAM_FMT_S16 },
	{ "s32", COHBUF_STREAM_FMT_S32 },
	{ NULL, 0 },
};

static const struct name_value clocks[] = {
	{ "hrtimer", COHBUF_STREAM_CLOCK_HRTIMER },
	{ "manual", COHBUF_STREAM_CLOCK_MANUAL },
	{ NULL, 0 },
};

static const struct name_value policies[] = {
	{ "drop", COHBUF_STREAM_OVERRUN_DROP },
	{ "stop", COHBUF_STREAM_OVERRUN_STOP },
	{ NULL, 0 },
};

/* @arg as one of @table into @out: 0, or -1 after a message. */
static int parse_name(const char *what, const struct name_value *table, const char *arg,
		      uint32_t *out)
{
	const struct name_value *t;

	for (t = table; t->name; t++) {
		if (!strcmp(arg, t->name)) {
			*out = t->value;
			return 0;
		}
	}
	fprintf(stderr, "cohbuf: %s: '%s' is none of", what, arg);
	for (t = table; t->name; t++)
		fprintf(stderr, " %s", t->name);
	fprintf(stderr, "\n");
	return -1;
}

static const char *value_name(const struct name_value *table, uint32_t value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return "?";
}

void tool_stream_defaults(struct tool_stream_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->params.direction = COHBUF_STREAM_DIR_INPUT;
	o->params.mode = COHBUF_STREAM_MODE_QUEUE;
	o->params.format = COHBUF_STREAM_FMT_ADC12;
	o->params.channels = 2;
	o->params.rate_hz = 48000;
	o->params.block_frames = 1024;
	o->params.clock = COHBUF_STREAM_CLOCK_HRTIMER;
	o->params.overrun = COHBUF_STREAM_OVERRUN_DROP;
	o->params.watermark = 1;
	o->depth = 8;
	o->duration_ns = NS_PER_S;
	o->provider = "cohbuf";
	o->corrupt_bit = -1;
}

int tool_stream_set_option(struct tool_stream_opts *o, int c, const char *arg)
{
	struct cohbuf_stream_create_data *p = &o->params;
	uint64_t v;
	int ret;

	switch (c) {
	case TOOL_OPT_RATE:
		ret = tool_parse_u64("--rate", arg, 1, COHBUF_STREAM_MAX_RATE_HZ, 0, &v);
		p->rate_hz = (uint32_t)v;
		return ret;
	case TOOL_OPT_CHANNELS:
		ret = tool_parse_u64("--channels", arg, 1, COHBUF_STREAM_MAX_CHANNELS, 0, &v);
		p->channels = (uint32_t)v;
		return ret;
	case TOOL_OPT_FORMAT:
		return parse_name("--format", formats, arg, &p->format);
	case TOOL_OPT_BLOCK_FRAMES:
		/* The block's bytes are checked with the format and channels. */
		ret = tool_parse_u64("--block-frames", arg, 1, COHBUF_STREAM_MAX_BLOCK_BYTES / 2,
				     0, &v);
		p->block_frames = (uint32_t)v;
		return ret;
	case TOOL_OPT_DEPTH:
		ret = tool_parse_u64("--depth", arg, 1, COHBUF_STREAM_MAX_REGIONS, 0, &v);
		o->depth = (uint32_t)v;
		return ret;
	case TOOL_OPT_DURATION:
		return tool_parse_seconds("--duration", arg, NS_PER_MS, MAX_DURATION_NS,
					  &o->duration_ns);
	case TOOL_OPT_CLOCK:
		return parse_name("--clock", clocks, arg, &p->clock);
	case TOOL_OPT_POLICY:
		return parse_name("--policy", policies, arg, &p->overrun);
	case TOOL_OPT_PROVIDER:
		o->provider = arg;
		return tool_provider_parse(arg);
	case TOOL_OPT_ADVANCE:
		return tool_parse_u64("--advance", arg, 1, COHBUF_STREAM_MAX_ADVANCE, 0,
				      &o->advance);
	case TOOL_OPT_ALLOW_LOSS:
		o->allow_loss = 1;
		return 0;
	case TOOL_OPT_CORRUPT_BIT:
		/* Below the block's bits: checked with the block's size. */
		ret = tool_parse_u64("--corrupt-bit", arg, 0,
				     8ULL * COHBUF_STREAM_MAX_BLOCK_BYTES - 1, 0, &v);
		o->corrupt_bit = (int64_t)v;
		return ret;
	case TOOL_OPT_RING:
		/* Checked against the block's size by the kernel. */
		ret = tool_parse_u64("--ring", arg, 1, 1ULL << 40, 1, &o->ring_bytes);
		p->mode = COHBUF_STREAM_MODE_RING;
		return ret;
	case TOOL_OPT_DIRECT:
		o->direct = 1;
		return 0;
	case TOOL_OPT_OUTPUT:
		p->direction = COHBUF_STREAM_DIR_OUTPUT;
		return 0;
	}
	return -1;
}

/* One region: a whole dma-buf, mapped. */
struct region {
	int buf;
	unsigned char *map;
	uint64_t first;			/* output: the frame it was written for */
	uint64_t shift;			/* output: the run's shift when it was */
};

/* A run: what it holds, and what it has seen. */
struct run {
	const struct tool_stream_opts *o;
	struct tool_provider provider;
	int ctx, stream;
	struct region *regions;
	uint32_t nr_regions;		/* allocated and mapped */
	struct cohbuf_stream_ring ring;	/* ring mode: regions[0] is the data area */
	int ring_mapped;
	uint32_t frame_bytes;
	uint64_t block_bytes, buf_bytes;
	uint64_t start_ns;

	/* Records */
	uint64_t records, filled, given_back, errors, bad_order;
	uint64_t next_sequence, next_frame;
	uint64_t frames, lost;		/* in the records: frames, lost_before */
	uint64_t max_lag_ns, lag_ns;	/* last_ns to DEQUEUE, the worst, the last */
	uint64_t corrupt;		/* records with a wrong sample */
	uint64_t bad_frame;		/* the first wrong sample */
	uint32_t bad_channel;
	int32_t bad_got, bad_want;
	int corrupted;			/* --corrupt-bit done */

	/* output */
	int output;			/* the device reads */
	uint64_t next_fill;		/* the frame the next region queued plays at */
	uint64_t shift;			/* frames added to next_fill for underruns */
	uint64_t late;			/* records played later than written for */

	/* capture */
	int out;			/* the file, or -1 */
	uint64_t written, write_ns;
	int in_kernel;			/* --direct: COHBUF_IOCTL_WRITE_FILE from the buffer */
	int direct_err;			/* 0 O_DIRECT worked, > 0 its errno, < 0 not tried */
	int direct_open_err;		/* errno of open(O_DIRECT), or 0 */
	int write_err;			/* errno of a failed write */

	/* The progress line */
	int tty;
	uint64_t tick_ns, tick_delivered;
};

/* Set by SIGINT: the run ends early, with its summary (lock-free: signal-safe). */
static atomic_int interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	atomic_store(&interrupted, 1);
}

/* A few errno names the summary gives with strerror(). */
static const char *errno_name(int err)
{
	switch (err) {
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EIO: return "EIO";
	case ENOSPC: return "ENOSPC";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	}
	return "errno";
}

/* Flip bit --corrupt-bit of a block the CPU is accessing, once, as a bad DMA would. */
static void corrupt_once(struct run *r, unsigned char *block)
{
	if (r->o->corrupt_bit < 0 || r->corrupted)
		return;
	block[r->o->corrupt_bit / 8] ^= (unsigned char)(1u << (r->o->corrupt_bit % 8));
	r->corrupted = 1;
}

/* Output: write region @i for the frames it will be played at. */
static int fill_region(struct run *r, uint32_t i)
{
	const struct cohbuf_stream_create_data *p = &r->o->params;
	struct region *g = &r->regions[i];
	int ret;

	g->first = r->next_fill;
	g->shift = r->shift;
	r->next_fill += p->block_frames;
	ret = cohbuf_stream_fill(g->buf, g->map, g->first, p->block_frames, p->channels,
				 p->format);
	if (ret) {
		fprintf(stderr, "cohbuf_stream_fill of region %u: %s\n", i, strerror(-ret));
		return ret;
	}
	if (r->o->corrupt_bit >= 0 && !r->corrupted) {
		cohbuf_dmabuf_cpu_access_begin(g->buf, DMA_BUF_SYNC_RW);
		corrupt_once(r, g->map);
		cohbuf_dmabuf_cpu_access_end(g->buf, DMA_BUF_SYNC_RW);
	}
	return 0;
}

static int queue_region(struct run *r, uint32_t i)
{
	struct cohbuf_stream_queue_data q = {
		.dmabuf_fd = r->regions[i].buf, .length = r->block_bytes, .cookie = i,
	};
	int ret = r->output ? fill_region(r, i) : 0;

	if (ret)
		return ret;
	ret = cohbuf_stream_queue(r->stream, &q);

	if (ret)
		fprintf(stderr, "COHBUF_STREAM_IOCTL_QUEUE of region %u: %s\n", i, strerror(-ret));
	return ret;
}

/* A dma-buf of buf_bytes for @g (@what, for messages), mapped: 0, or -1 after a message. */
static int alloc_region(struct run *r, struct region *g, const char *what)
{
	g->buf = tool_provider_alloc(&r->provider, r->buf_bytes);
	if (g->buf < 0) {
		fprintf(stderr, "%s: a %llu-byte dma-buf for %s: %s\n", r->o->provider,
			(unsigned long long)r->buf_bytes, what, strerror(-g->buf));
		return -1;
	}
	g->map = cohbuf_dmabuf_map(g->buf, 0, r->buf_bytes, 1);
	if (!g->map) {
		fprintf(stderr, "mmap of %s: %s\n", what, strerror(errno));
		close(g->buf);
		return -1;
	}
	return 0;
}

/* The regions' dma-bufs, mapped and queued: 0, or -1 after a message. */
static int setup_regions(struct run *r)
{
	struct region *g;
	uint32_t i;

	r->regions = calloc(r->o->depth, sizeof(*r->regions));
	if (!r->regions) {
		fprintf(stderr, "cohbuf: out of memory\n");
		return -1;
	}
	for (i = 0; i < r->o->depth; i++) {
		g = &r->regions[i];
		if (alloc_region(r, g, "a region"))
			return -1;
		r->nr_regions++;	/* free_regions() undoes it from here on */
		if (queue_region(r, i))
			return -1;
	}
	return 0;
}

static void free_regions(struct run *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_regions; i++) {
		cohbuf_dmabuf_unmap(r->regions[i].map, r->buf_bytes);
		close(r->regions[i].buf);
	}
	free(r->regions);
}

/* Remember the first wrong sample of a record. */
static void note_corrupt(struct run *r, const void *block,
			 const struct cohbuf_stream_record *rec, size_t n)
{
	uint32_t ch = r->o->params.channels, fmt = r->o->params.format;

	if (r->corrupt++)
		return;
	r->bad_frame = rec->first_frame + n / ch;
	r->bad_channel = (uint32_t)(n % ch);
	r->bad_got = cohbuf_stream_decode(block, n, fmt);
	r->bad_want = cohbuf_stream_sample_value(r->bad_frame, r->bad_channel, fmt);
}

/*
 * One write of @len bytes from @p, byte @off of dma-buf @buf, to the end of
 * the file: from the buffer in the kernel with --direct, else write() from
 * the mapping. Bytes written, or -errno.
 */
static int64_t capture_write_once(struct run *r, int buf, uint64_t off,
				  const unsigned char *p, size_t len)
{
	ssize_t n;

	if (r->in_kernel)
		return cohbuf_exporter_write_file(r->provider.dev, buf, off, len, r->out,
						  (int64_t)r->written);
	n = write(r->out, p, len);
	return n < 0 ? -errno : n;
}

/*
 * Write @len bytes of the block at @block, @rec's, O_DIRECT as long as the
 * file takes it. The block lies in the record's region, or in ring mode in
 * the data area (regions[0]).
 */
static void capture_write(struct run *r, const struct cohbuf_stream_record *rec,
			  const unsigned char *block, size_t len)
{
	const struct region *g = &r->regions[r->ring_mapped ? 0 : rec->cookie];
	uint64_t off = (uint64_t)(block - g->map), t = cohbuf_stream_now_ns();
	size_t done = 0;
	int64_t n;

	while (done < len && !r->write_err) {
		n = capture_write_once(r, g->buf, off + done, block + done, len - done);
		if (n == -EINTR)
			continue;
		if (n < 0 && !r->direct_err && (fcntl(r->out, F_GETFL) & O_DIRECT)) {
			/* Direct I/O refused this block (alignment): say why, go on buffered. */
			r->direct_err = (int)-n;
			fcntl(r->out, F_SETFL, fcntl(r->out, F_GETFL) & ~O_DIRECT);
			continue;
		}
		if (n <= 0) {
			r->write_err = n < 0 ? (int)-n : EIO;
			break;
		}
		done += (size_t)n;
		r->written += (uint64_t)n;
	}
	r->write_ns += cohbuf_stream_now_ns() - t;
}

/*
 * Output: the device's verdict on a played region. Played later than it
 * was written for (underruns before it), it mismatches by design; the
 * part of its delay that the regions written since do not know of yet
 * goes into next_fill. Played on time, a mismatch is a corrupt sample,
 * which the CPU finds again for the summary.
 */
static void check_played(struct run *r, const struct cohbuf_stream_record *rec)
{
	const struct cohbuf_stream_create_data *p = &r->o->params;
	struct region *g = &r->regions[rec->cookie];
	uint64_t delay = rec->first_frame - g->first, known = r->shift - g->shift;
	size_t bad = 0;

	if (delay) {
		r->late++;
		if (delay > known) {
			r->next_fill += delay - known;
			r->shift += delay - known;
		}
		return;
	}
	if (!(rec->flags & COHBUF_STREAM_REC_MISMATCH))
		return;
	cohbuf_dmabuf_cpu_access_begin(g->buf, DMA_BUF_SYNC_READ);
	cohbuf_stream_verify(g->map, rec->first_frame, rec->frames, p->channels, p->format, &bad);
	note_corrupt(r, g->map, rec, bad);
	cohbuf_dmabuf_cpu_access_end(g->buf, DMA_BUF_SYNC_READ);
}

/* Check a filled block at @block (and record it): its samples. */
static void check_filled(struct run *r, const struct cohbuf_stream_record *rec,
			 unsigned char *block)
{
	const struct cohbuf_stream_create_data *p = &r->o->params;
	size_t bad;

	if (rec->first_frame != r->next_frame + rec->lost_before)
		r->bad_order++;
	r->next_frame = rec->first_frame + rec->frames;
	r->frames += rec->frames;
	r->lost += rec->lost_before;
	r->filled++;
	if (r->output) {
		check_played(r, rec);
		return;
	}
	/* The block is ours now: a bit flipped as a bad DMA would. */
	corrupt_once(r, block);
	if (cohbuf_stream_verify(block, rec->first_frame, rec->frames, p->channels, p->format,
				 &bad))
		note_corrupt(r, block, rec, bad);
	if (r->out >= 0)
		capture_write(r, rec, block, rec->bytes_used);
}

/* Count and check one record, its block at @block: queue and ring mode alike. */
static void account_record(struct run *r, const struct cohbuf_stream_record *rec,
			   unsigned char *block)
{
	uint64_t now = cohbuf_stream_now_ns();

	r->records++;
	if (rec->sequence != r->next_sequence)
		r->bad_order++;
	r->next_sequence = rec->sequence + 1;
	if (rec->flags & COHBUF_STREAM_REC_ERROR) {
		/* Given back unfilled by STOP is normal; any other error is not. */
		if (rec->status == -ECANCELED && !rec->frames)
			r->given_back++;
		else
			r->errors++;
	} else if (!rec->frames || rec->frames > r->o->params.block_frames ||
		   rec->bytes_used != (uint64_t)rec->frames * r->frame_bytes) {
		r->errors++;	/* a filled record that says something impossible */
	} else {
		if (rec->last_ns && now > rec->last_ns) {
			r->lag_ns = now - rec->last_ns;
			if (r->lag_ns > r->max_lag_ns)
				r->max_lag_ns = r->lag_ns;
		}
		check_filled(r, rec, block);
	}
}

/* One record; the region goes back to the device if @requeue: 0 or -1. */
static int handle_record(struct run *r, const struct cohbuf_stream_record *rec, int requeue)
{
	struct region *g;

	if (rec->cookie >= r->nr_regions) {
		fprintf(stderr, "a record with cookie %llu, which no region has\n",
			(unsigned long long)rec->cookie);
		return -1;
	}
	g = &r->regions[rec->cookie];
	cohbuf_dmabuf_cpu_access_begin(g->buf, DMA_BUF_SYNC_RW);
	account_record(r, rec, g->map);
	cohbuf_dmabuf_cpu_access_end(g->buf, DMA_BUF_SYNC_RW);
	return requeue ? queue_region(r, (uint32_t)rec->cookie) : 0;
}

/*
 * Ring mode: every record in the ring now, read in place between one
 * DMA_BUF_IOCTL_SYNC START and END (which a non-coherent platform needs):
 * 0, or -1 after a message.
 */
static int take_ring(struct run *r)
{
	const struct cohbuf_ring_header *h;
	const struct cohbuf_ring_block *b;
	struct cohbuf_stream_record rec;
	int ret, synced = 0;

	while ((ret = cohbuf_stream_ring_peek(&r->ring, &h)) == 1) {
		if (!synced++)
			cohbuf_dmabuf_cpu_access_begin(r->regions[0].buf, DMA_BUF_SYNC_RW);
		if (h->type == COHBUF_RING_REC_BLOCK) {
			b = (const void *)h;
			memset(&rec, 0, sizeof(rec));
			rec.sequence = b->sequence;
			rec.first_frame = b->first_frame;
			rec.lost_before = b->lost_before;
			rec.first_ns = b->first_ns;
			rec.last_ns = b->last_ns;
			rec.frames = b->frames;
			rec.bytes_used = b->frames * r->frame_bytes;
			rec.flags = b->flags;
			/* The tool maps the ring read-write, for --corrupt-bit. */
			account_record(r, &rec, (unsigned char *)(b + 1));
		}
		/* A gap record says what the next block's lost_before says. */
		cohbuf_stream_ring_release(&r->ring);
	}
	if (synced)
		cohbuf_dmabuf_cpu_access_end(r->regions[0].buf, DMA_BUF_SYNC_RW);
	if (ret) {
		fprintf(stderr, "the ring: %s\n", strerror(-ret));
		return -1;
	}
	return 0;
}

static int take_records(struct run *r, uint64_t deadline_ns, int requeue);

/* Records ready by @deadline_ns (0: now), in either mode: 0, -ENODATA at the end, or -1. */
static int take_ready(struct run *r, uint64_t deadline_ns, int requeue)
{
	int ret;

	if (!r->ring_mapped)
		return take_records(r, deadline_ns, requeue);
	if (!deadline_ns)
		return take_ring(r);
	ret = cohbuf_stream_ring_wait(r->stream, deadline_ns);
	if (ret < 0) {
		fprintf(stderr, "poll() of the stream: %s\n", strerror(-ret));
		return -1;
	}
	if (ret & POLLPRI) {
		struct cohbuf_stream_stats_data st;

		/* In ring mode only STATS acknowledges an overrun. */
		if (cohbuf_stream_stats(r->stream, &st))
			return -1;
	}
	if (take_ring(r))
		return -1;
	return ret & POLLERR ? -ENODATA : 0;	/* stopped by an overrun */
}

/* Every record ready by @deadline_ns (0: those ready now): 0, -ENODATA at the end, or -1. */
static int take_records(struct run *r, uint64_t deadline_ns, int requeue)
{
	struct cohbuf_stream_record rec;
	int ret;

	for (;;) {
		ret = cohbuf_stream_dequeue(r->stream, deadline_ns, &rec);
		if (ret == -ETIME)
			return 0;
		if (ret == -ENODATA)
			return ret;
		if (ret) {
			fprintf(stderr, "COHBUF_STREAM_IOCTL_DEQUEUE: %s\n", strerror(-ret));
			return -1;
		}
		if (handle_record(r, &rec, requeue))
			return -1;
		deadline_ns = 0;	/* then only those ready already */
	}
}

static int get_stats(struct run *r, struct cohbuf_stream_stats_data *st)
{
	int ret = cohbuf_stream_stats(r->stream, st);

	if (ret)
		fprintf(stderr, "COHBUF_STREAM_IOCTL_STATS: %s\n", strerror(-ret));
	return ret;
}

/* Redraw the progress line if a tick has passed. */
static void progress(struct run *r)
{
	uint32_t ch = r->o->params.channels;
	struct cohbuf_stream_stats_data st;
	uint64_t now = cohbuf_stream_now_ns();
	double dt = (double)(now - r->tick_ns) / 1e9;

	if (!r->tty || now - r->tick_ns < TICK_NS || get_stats(r, &st))
		return;
	printf("\r%10.0f samples/s %8.2f MB/s",
	       (double)(st.delivered - r->tick_delivered) * ch / dt,
	       (double)(st.delivered - r->tick_delivered) * r->frame_bytes / dt / 1e6);
	printf("  delivered %llu  lost %llu  lag %.1f ms",
	       (unsigned long long)st.delivered, (unsigned long long)st.lost,
	       (double)r->lag_ns / 1e6);
	if (r->ring_mapped)
		printf("  ring %llu/%llu bytes\033[K",
		       (unsigned long long)(r->ring.prod->head - r->ring.cons->tail),
		       (unsigned long long)r->ring.length);
	else
		printf("  queue %u/%u\033[K", st.queued, r->o->depth);
	fflush(stdout);
	r->tick_ns = now;
	r->tick_delivered = st.delivered;
}

/* The MANUAL clock: rate * duration frames, @advance at a time. */
static int run_manual(struct run *r)
{
	const struct tool_stream_opts *o = r->o;
	uint64_t total = o->params.rate_hz * (o->duration_ns / NS_PER_S) +
			 o->params.rate_hz * (o->duration_ns % NS_PER_S) / NS_PER_S;
	uint64_t step = o->advance ? o->advance : o->params.block_frames, done = 0, n;
	int ret;

	while (done < total && !atomic_load(&interrupted)) {
		n = total - done < step ? total - done : step;
		ret = cohbuf_stream_advance(r->stream, n);
		if (ret == -EPIPE)
			return 0;	/* stopped by an overrun (the STOP policy) */
		if (ret) {
			fprintf(stderr, "COHBUF_STREAM_IOCTL_ADVANCE: %s\n", strerror(-ret));
			return -1;
		}
		done += n;
		ret = take_ready(r, 0, 1);
		if (ret && ret != -ENODATA)
			return -1;
		progress(r);
	}
	return 0;
}

/* The HRTIMER clock: records as they come until the duration is over. */
static int run_hrtimer(struct run *r)
{
	uint64_t end = r->start_ns + r->o->duration_ns, now, until;
	int ret;

	while (!atomic_load(&interrupted) && (now = cohbuf_stream_now_ns()) < end) {
		until = now + TICK_NS < end ? now + TICK_NS : end;
		ret = take_ready(r, until, 1);
		if (ret == -ENODATA)
			return 0;	/* stopped by an overrun (the STOP policy) */
		if (ret)
			return -1;
		progress(r);
	}
	return 0;
}

static int balanced(const struct cohbuf_stream_stats_data *st)
{
	return st->produced == st->delivered + st->lost + st->in_flight;
}

static void print_summary(const struct run *r, const struct cohbuf_stream_stats_data *st,
			  uint64_t elapsed_ns)
{
	const struct cohbuf_stream_create_data *p = &r->o->params;
	double secs = (double)elapsed_ns / 1e9;

	printf("%sstream: %u Hz, %u channel%s %s, %u-frame blocks of %llu bytes, ",
	       r->output ? "output " : "", p->rate_hz, p->channels, p->channels == 1 ? "" : "s",
	       value_name(formats, p->format), p->block_frames,
	       (unsigned long long)r->block_bytes);
	if (r->ring_mapped)
		printf("a %llu-byte %s ring of %u-byte records, ",
		       (unsigned long long)r->ring.length, r->o->provider,
		       r->ring.prod->record_bytes);
	else
		printf("%u %s regions, ", r->o->depth, r->o->provider);
	printf("%s clock, %s policy\n", value_name(clocks, p->clock),
	       value_name(policies, p->overrun));
	printf("produced %llu = delivered %llu + lost %llu + in flight %llu frames: %s\n",
	       (unsigned long long)st->produced, (unsigned long long)st->delivered,
	       (unsigned long long)st->lost, (unsigned long long)st->in_flight,
	       balanced(st) ? "balanced" : "UNBALANCED");
	printf("records %llu: %llu filled, %llu given back, %llu failed; ",
	       (unsigned long long)r->records, (unsigned long long)r->filled,
	       (unsigned long long)r->given_back, (unsigned long long)r->errors);
	printf("%llu overrun%s; records out of order %llu\n",
	       (unsigned long long)st->overruns, st->overruns == 1 ? "" : "s",
	       (unsigned long long)r->bad_order);
	printf("verified %llu samples in %llu records",
	       (unsigned long long)(r->frames * p->channels), (unsigned long long)r->filled);
	if (r->output)
		printf(" (by the device: %llu mismatched, %llu record%s played late)",
		       (unsigned long long)st->mismatched, (unsigned long long)r->late,
		       r->late == 1 ? "" : "s");
	printf(": ");
	if (r->corrupt)
		printf("%llu record%s CORRUPT, the first at frame %llu channel %u: %d, want %d\n",
		       (unsigned long long)r->corrupt, r->corrupt == 1 ? "" : "s",
		       (unsigned long long)r->bad_frame, r->bad_channel, r->bad_got, r->bad_want);
	else
		printf("all correct\n");
	printf("%.0f samples/s, %.2f MB/s over %.3f s; lag at most %.1f ms\n",
	       (double)r->frames * p->channels / secs,
	       (double)r->frames * r->frame_bytes / secs / 1e6, secs,
	       (double)r->max_lag_ns / 1e6);
}

static void print_capture(const struct run *r, const char *path)
{
	double secs = (double)r->write_ns / 1e9;

	printf("capture: %llu bytes to %s, %.2f MB/s in the writes and fsync() (%.3f s)\n",
	       (unsigned long long)r->written, path,
	       secs > 0 ? (double)r->written / secs / 1e6 : 0.0, secs);
	if (r->o->direct && !r->in_kernel)
		printf("capture: --direct needs cohbuf buffers (%s gives others); "
		       "buffered write() from the mapping\n", r->o->provider);
	else if (!r->in_kernel)
		printf("capture: buffered write() from the mapping\n");
	else if (r->direct_open_err)
		printf("capture: open(O_DIRECT) failed: %s (%s); "
		       "COHBUF_IOCTL_WRITE_FILE from the buffer, buffered\n",
		       strerror(r->direct_open_err), errno_name(r->direct_open_err));
	else if (r->direct_err)
		printf("capture: O_DIRECT refused a block: %s (%s); "
		       "COHBUF_IOCTL_WRITE_FILE from the buffer, the rest buffered\n",
		       strerror(r->direct_err), errno_name(r->direct_err));
	else
		printf("capture: COHBUF_IOCTL_WRITE_FILE from the buffer, O_DIRECT\n");
	if (r->write_err)
		printf("capture: write() FAILED: %s\n", strerror(r->write_err));
}

/* The reasons a finished run failed, on one line; 0 if there are none. */
static int verdict(const struct run *r, const struct cohbuf_stream_stats_data *st)
{
	const char *why[8];
	int n = 0, i;

	if (!balanced(st))
		why[n++] = "counters unbalanced";
	if (r->frames != st->delivered || r->lost > st->lost ||
	    (r->output && !r->corrupt && !r->late && st->mismatched))
		why[n++] = "records disagree with the counters";
	if (r->bad_order)
		why[n++] = "records out of order";
	if (r->corrupt)
		why[n++] = "corrupt samples";
	if (r->errors)
		why[n++] = "failed records";
	if (!r->o->allow_loss && st->lost)
		why[n++] = "lost frames";
	if (!r->o->allow_loss && st->overruns && r->o->params.overrun == COHBUF_STREAM_OVERRUN_STOP)
		why[n++] = "stopped by an overrun";
	if (r->write_err)
		why[n++] = "capture write failed";
	printf("result: %s", n ? "FAILED (" : "ok");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", why[i]);
	printf("%s\n", n ? ")" : "");
	return n;
}

/*
 * Open the capture file, O_DIRECT first with --direct and cohbuf buffers
 * (which COHBUF_IOCTL_WRITE_FILE writes from): 0, or -1 after a message.
 */
static int open_capture(struct run *r, const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

	r->direct_err = -1;
	r->in_kernel = r->o->direct && r->provider.kind == TOOL_PROVIDER_COHBUF;
	if (r->in_kernel) {
		r->out = open(path, flags | O_DIRECT, 0644);
		if (r->out >= 0) {
			r->direct_err = 0;
			return 0;
		}
		r->direct_open_err = errno;	/* the filesystem refuses O_DIRECT */
	}
	r->out = open(path, flags, 0644);
	if (r->out < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The block's size checked against the uapi's limits: 0, or -1 after a message. */
static int check_sizes(struct run *r)
{
	const struct tool_stream_opts *o = r->o;

	r->frame_bytes = cohbuf_stream_sample_bytes(o->params.format) * o->params.channels;
	r->block_bytes = (uint64_t)o->params.block_frames * r->frame_bytes;
	if (r->block_bytes > COHBUF_STREAM_MAX_BLOCK_BYTES) {
		fprintf(stderr, "cohbuf: --block-frames: %u frames of %u bytes exceed %u bytes\n",
			o->params.block_frames, r->frame_bytes, COHBUF_STREAM_MAX_BLOCK_BYTES);
		return -1;
	}
	if (o->corrupt_bit >= 0 && (uint64_t)o->corrupt_bit >= 8 * r->block_bytes) {
		fprintf(stderr, "cohbuf: --corrupt-bit: %lld is past the block's %llu bits\n",
			(long long)o->corrupt_bit, (unsigned long long)(8 * r->block_bytes));
		return -1;
	}
	r->buf_bytes = (r->block_bytes + tool_page_size() - 1) & ~(tool_page_size() - 1);
	/* Ring mode: the kernel checks the rest (two records, the watermark). */
	if (o->ring_bytes)
		r->buf_bytes = (o->ring_bytes + tool_page_size() - 1) & ~(tool_page_size() - 1);
	return 0;
}

/*
 * Ring mode: the data area's dma-buf (regions[0], mapped), the stream on
 * it, its control pages mapped: 0, or -1 after a message.
 */
static int setup_ring(struct run *r)
{
	struct cohbuf_stream_create_data p = r->o->params;
	struct region *g;
	int ret;

	r->regions = calloc(1, sizeof(*r->regions));
	if (!r->regions) {
		fprintf(stderr, "cohbuf: out of memory\n");
		return -1;
	}
	g = &r->regions[0];
	if (alloc_region(r, g, "the ring"))
		return -1;
	r->nr_regions = 1;
	p.ring_fd = g->buf;
	p.ring_length = r->o->ring_bytes & ~(uint64_t)(COHBUF_RING_ALIGN - 1);
	r->stream = cohbuf_stream_create(r->ctx, &p);
	if (r->stream < 0) {
		fprintf(stderr, "COHBUF_IMP_IOCTL_STREAM_CREATE: %s\n", strerror(-r->stream));
		return -1;
	}
	ret = cohbuf_stream_ring_map(r->stream, g->map, &r->ring);
	if (ret) {
		fprintf(stderr, "mmap of the ring's control pages: %s\n", strerror(-ret));
		return -1;
	}
	r->ring_mapped = 1;
	return 0;
}

/* Queue mode: the stream, then its regions: 0, or -1 after a message. */
static int setup_queue(struct run *r)
{
	r->stream = cohbuf_stream_create(r->ctx, &r->o->params);
	if (r->stream < 0) {
		fprintf(stderr, "COHBUF_IMP_IOCTL_STREAM_CREATE: %s\n", strerror(-r->stream));
		return -1;
	}
	return setup_regions(r);
}

/* Start, run, stop and drain: 0, or -1 after a message. */
static int stream_and_drain(struct run *r, struct cohbuf_stream_stats_data *st)
{
	int ret = cohbuf_stream_start(r->stream);

	if (ret) {
		fprintf(stderr, "COHBUF_STREAM_IOCTL_START: %s\n", strerror(-ret));
		return -1;
	}
	r->start_ns = cohbuf_stream_now_ns();
	r->tick_ns = r->start_ns;
	if (r->o->params.clock == COHBUF_STREAM_CLOCK_MANUAL)
		ret = run_manual(r);
	else
		ret = run_hrtimer(r);
	if (ret)
		return -1;
	ret = cohbuf_stream_stop(r->stream);
	if (ret) {
		fprintf(stderr, "COHBUF_STREAM_IOCTL_STOP: %s\n", strerror(-ret));
		return -1;
	}
	/* STOP completed the region being filled and gave back the others. */
	ret = take_ready(r, 0, 0);
	if (ret && ret != -ENODATA)
		return -1;
	if (r->tty)
		printf("\n");
	return get_stats(r, st);
}

int tool_stream_run(const struct tool_stream_opts *o, const char *capture_path)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	struct run r = {
		.o = o, .out = -1, .direct_err = -1, .next_sequence = o->params.first_sequence,
		.stream = -1,
		.output = o->params.direction == COHBUF_STREAM_DIR_OUTPUT,
	};
	struct cohbuf_stream_stats_data st;
	uint64_t elapsed;
	int ret = TOOL_FAILED;

	if (check_sizes(&r))
		return TOOL_USAGE;
	if (tool_provider_open(&r.provider, o->provider))
		return TOOL_FAILED;
	r.ctx = cohbuf_importer_open();
	if (r.ctx < 0) {
		fprintf(stderr, "/dev/cohbuf-importer: %s\n", strerror(-r.ctx));
		goto close_provider;
	}
	if (capture_path && open_capture(&r, capture_path))
		goto close_ctx;
	if (o->ring_bytes ? setup_ring(&r) : setup_queue(&r))
		goto unmap_regions;
	r.tty = isatty(STDOUT_FILENO);
	atomic_store(&interrupted, 0);
	sigaction(SIGINT, &sa, NULL);
	if (stream_and_drain(&r, &st))
		goto unmap_regions;
	elapsed = cohbuf_stream_now_ns() - r.start_ns;
	if (r.out >= 0) {
		uint64_t t = cohbuf_stream_now_ns();

		if (fsync(r.out) && !r.write_err && errno != EINVAL)
			r.write_err = errno;
		r.write_ns += cohbuf_stream_now_ns() - t;
	}
	print_summary(&r, &st, elapsed);
	if (capture_path)
		print_capture(&r, capture_path);
	if (atomic_load(&interrupted))
		printf("interrupted after %.3f s\n", (double)elapsed / 1e9);
	ret = verdict(&r, &st) ? TOOL_FAILED : TOOL_OK;
unmap_regions:
	signal(SIGINT, SIG_DFL);
	if (r.ring_mapped)
		cohbuf_stream_ring_unmap(&r.ring);
	if (r.stream >= 0)
		close(r.stream);
	free_regions(&r);
	if (r.out >= 0)
		close(r.out);
close_ctx:
	close(r.ctx);
close_provider:
	tool_provider_close(&r.provider);
	return ret;
}
