// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on stream fds (linux/cohbuf_stream.h), on the manual clock:
 * STREAM_CREATE from either context, QUEUE of regions of the pool's
 * dma-bufs (which may then be closed, or their context reopened, while
 * the stream holds them), DEQUEUE and read() of records, START, STOP,
 * ADVANCE, STATS, poll() and close. What the model checks: every record
 * comes in sequence order, carries a cookie QUEUE gave the stream and
 * starts no earlier than the previous one ended; STATS always says
 * produced = delivered + lost + in_flight; and at the end the importer's
 * streams and stream_regions counters are back where they started.
 */

#include "fuzz.h"

/* The deadline of a DEQUEUE: now, or a millisecond from now. */
static __u64 dequeue_deadline(void)
{
	return monotonic_ns() + (chance(90) ? 0 : 1000 * 1000);
}

/* Check one record against the model of stream @s. */
static void check_record(int s, const struct cohbuf_stream_record *rec)
{
	struct fz_stream *st = &F.streams[s];

	if (rec->sequence != st->next_sequence)
		fz_fail("record sequence %llu, want %llu", (unsigned long long)rec->sequence,
			(unsigned long long)st->next_sequence);
	else if (rec->cookie <= st->cookie_base || rec->cookie > F.last_cookie)
		fz_fail("record cookie %llu was never queued on this stream",
			(unsigned long long)rec->cookie);
	else if (rec->frames > st->block_frames ||
		 rec->bytes_used != rec->frames * st->frame_bytes)
		fz_fail("record of %u frames, %u bytes (block %u frames of %u bytes)",
			rec->frames, rec->bytes_used, st->block_frames, st->frame_bytes);
	else if (rec->frames && rec->first_frame < st->next_frame)
		fz_fail("record at frame %llu, before the last one ended (%llu)",
			(unsigned long long)rec->first_frame,
			(unsigned long long)st->next_frame);
	st->next_sequence = rec->sequence + 1;
	if (rec->frames)
		st->next_frame = rec->first_frame + rec->frames;
}

/* The stream's own buffer, if the limits leave room for it. */
static void stream_buf_alloc(struct fz_stream *st)
{
	struct cohbuf_buffer_desc desc = { .size = gen_stream_buf_size(st) };

	st->buf_size = desc.size;
	st->buf = cohbuf_exporter_alloc(F.dev, &desc, NULL);
	if (st->buf < 0)
		st->buf = -1;	/* ENOMEM, E2BIG or EMFILE: the pool's buffers only */
}

/* Close stream @s and its own buffer. */
static void stream_close_slot(int s)
{
	if (!fz_result(close(F.streams[s].fd), "close of a stream", ERRS(0)))
		fz_fail("close of a live stream failed: %s", strerror(errno));
	if (F.streams[s].buf >= 0 && close(F.streams[s].buf))
		fz_fail("close of a stream's buffer: %s", strerror(errno));
	F.streams[s].buf = -1;
	stream_forget(s);
}

void op_stream_create(void)
{
	struct cohbuf_stream_create_data *d = (void *)argbuf;
	int c = below(NCTX), s = stream_slot_free();
	unsigned long cmd;

	if (F.ctx[c] < 0)
		return;
	gen_stream_params(d);
	cmd = fz_cmd(COHBUF_IMP_IOCTL_STREAM_CREATE, COHBUF_STREAM_CREATE_DATA_SIZE_VER0);
	if (!fz_result(ioctl(F.ctx[c], cmd, fz_argp()), "STREAM_CREATE",
		       ERRS(EINVAL, EOPNOTSUPP, ENOMEM, EMFILE, ENFILE, EFAULT, ENOTTY)))
		return;
	if (d->fd < 0) {
		fz_fail("STREAM_CREATE gave fd %d", d->fd);
		return;
	}
	if (s < 0) {
		close(d->fd);	/* no room in the model: released at once */
		return;
	}
	F.streams[s] = (struct fz_stream){
		.fd = d->fd, .block_frames = d->block_frames,
		.frame_bytes = cohbuf_stream_sample_bytes(d->format) * d->channels,
		.next_sequence = d->first_sequence, .cookie_base = F.last_cookie,
	};
	stream_buf_alloc(&F.streams[s]);
}

void op_stream_queue(void)
{
	struct cohbuf_stream_queue_data *d = (void *)argbuf;
	int s = stream_pick(), slot;
	unsigned long cmd;

	if (s < 0)
		return;
	gen_stream_region(&F.streams[s], d, &slot);
	if (chance(15))
		d->flags |= COHBUF_STREAM_QUEUE_OUT_FENCE;
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_QUEUE, COHBUF_STREAM_QUEUE_DATA_SIZE_VER0);
	if (!fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), "QUEUE",
		       ERRS(EBADF, EINVAL, EACCES, EBUSY, ENOSPC, ENOMEM, EMFILE, EINTR,
			    EIO, EOPNOTSUPP, EFAULT, ENOTTY, ENODEV, EPERM, ENXIO)))
		return;
	if (d->flags & COHBUF_STREAM_QUEUE_OUT_FENCE) {
		if (d->out_fence_fd < 0)
			fz_fail("QUEUE with OUT_FENCE gave fd %d", d->out_fence_fd);
		else
			close(d->out_fence_fd);
	}
}

void op_stream_dequeue(void)
{
	struct cohbuf_stream_dequeue_data *d = (void *)argbuf;
	int s = stream_pick();
	unsigned long cmd;

	if (s < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->deadline_ns = dequeue_deadline();
	if (chance(3)) {
		d->pad = 1 + below(100);
		bad("pad not 0");
	}
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_DEQUEUE, COHBUF_STREAM_DEQUEUE_DATA_SIZE_VER0);
	if (fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), "DEQUEUE",
		      ERRS(EAGAIN, ETIME, ENODATA, EINVAL, EINTR, EFAULT, ENOTTY)))
		check_record(s, &d->record);
}

/* read() of up to three records, sometimes with a count too small for one. */
void op_stream_read(void)
{
	struct cohbuf_stream_record *rec = (void *)argbuf;
	size_t n = (1 + below(3)) * sizeof(*rec);
	int s = stream_pick();
	ssize_t got;
	size_t i;

	if (s < 0)
		return;
	if (chance(5)) {
		n = 1 + below(sizeof(*rec) - 1);
		bad("count below one record");
	}
	/* 0: no record and not running, the end of the stream until START. */
	got = read(F.streams[s].fd, rec, n);
	if (!fz_result(got, "read", ERRS(EAGAIN, EINVAL, EINTR)))
		return;
	if (got % sizeof(*rec) || (size_t)got > n)
		fz_fail("read() of a stream returned %zd bytes for %zu", got, n);
	for (i = 0; !F.failed && i < (size_t)got / sizeof(*rec); i++)
		check_record(s, &rec[i]);
	if (chance(30))
		stream_revents(F.streams[s].fd, POLLIN | POLLPRI);
}

void op_stream_startstop(void)
{
	struct cohbuf_stream_start_data *d = (void *)argbuf;
	int s = stream_pick(), start = chance(60);
	unsigned long cmd;

	if (s < 0)
		return;
	memset(d, 0, sizeof(*d));
	if (chance(3)) {
		d->flags = 1U << below(32);
		bad("flags not 0");
	}
	cmd = fz_cmd(start ? COHBUF_STREAM_IOCTL_START : COHBUF_STREAM_IOCTL_STOP,
		     COHBUF_STREAM_START_DATA_SIZE_VER0);
	fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), start ? "START" : "STOP",
		  ERRS(EBUSY, EINVAL, EFAULT, ENOTTY));
}

void op_stream_advance(void)
{
	struct cohbuf_stream_advance_data *d = (void *)argbuf;
	int s = stream_pick();
	unsigned long cmd;

	if (s < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->frames = 1 + below(2 * F.streams[s].block_frames);
	if (chance(4)) {
		d->frames = chance(50) ? 0 : COHBUF_STREAM_MAX_ADVANCE + 1 + below(1000);
		bad("frames out of range");
	}
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_ADVANCE, COHBUF_STREAM_ADVANCE_DATA_SIZE_VER0);
	fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), "ADVANCE",
		  ERRS(EINVAL, EPIPE, EINTR, EFAULT, ENOTTY));
}

void op_stream_stats(void)
{
	struct cohbuf_stream_stats_data *d = (void *)argbuf;
	int s = stream_pick();
	unsigned long cmd;

	if (s < 0)
		return;
	memset(d, 0, sizeof(*d));
	/*
	 * The kernel knows VER2: the tail fz_cmd() may fill starts there,
	 * and a size between VER0 and VER2 is an older program's, valid.
	 */
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_STATS, COHBUF_STREAM_STATS_DATA_SIZE_VER2);
	if (_IOC_SIZE(cmd) >= COHBUF_STREAM_STATS_DATA_SIZE_VER0 &&
	    _IOC_SIZE(cmd) < COHBUF_STREAM_STATS_DATA_SIZE_VER2)
		F.why = NULL;
	if (chance(3)) {
		d->flags = 1U << below(32);
		bad("flags not 0");
	}
	if (!fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), "STATS",
		       ERRS(EINVAL, EFAULT, ENOTTY)))
		return;
	if (!stream_balanced(d))
		fz_fail("STATS: produced %llu != delivered %llu + lost %llu + in flight %llu",
			(unsigned long long)d->produced, (unsigned long long)d->delivered,
			(unsigned long long)d->lost, (unsigned long long)d->in_flight);
}

void op_stream_close(void)
{
	int s = stream_pick();

	if (s < 0)
		return;
	stream_close_slot(s);
}

/* At the end: every stream closed, which gives back every region it held. */
void streams_close_all(void)
{
	int s;

	for (s = 0; s < NSTREAMS; s++) {
		F.why = NULL;	/* what the last operation made invalid */
		if (F.streams[s].fd >= 0)
			stream_close_slot(s);
	}
}
