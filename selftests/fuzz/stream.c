// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on stream fds (linux/cohbuf_stream.h), on the manual clock:
 * STREAM_CREATE from either context of input streams in queue mode, of
 * output streams and of input streams in ring mode (ring.c reads those),
 * QUEUE of regions of the pool's dma-bufs (which may then be closed, or
 * their context reopened, while the stream holds them) and of the
 * stream's own buffer (filled with the payload first for an output
 * stream), DEQUEUE and read() of records, START, STOP, ADVANCE, STATS,
 * poll() and close. What the model checks: every record comes in
 * sequence order, carries a cookie QUEUE gave the stream and starts no
 * earlier than the previous one ended; an output region filled for the
 * frames it played at has no MISMATCH, one played at other frames has;
 * right after QUEUE the own buffer's reservation object holds the
 * region's unsignalled fence, a writer's (input: no EPOLLIN) or a
 * reader's (output: EPOLLIN, no EPOLLOUT); a ring stream refuses QUEUE,
 * DEQUEUE and read(); STATS always says produced = delivered + lost +
 * in_flight (and for a ring nothing queued, nothing lost with OVERWRITE);
 * and at the end the importer's streams and stream_regions counters are
 * back where they started.
 */

#include "fuzz.h"

/* The deadline of a DEQUEUE: now, or a millisecond from now. */
static __u64 dequeue_deadline(void)
{
	return monotonic_ns() + (chance(90) ? 0 : 1000 * 1000);
}

/*
 * An output stream's record: if its region is one the model filled, MISMATCH
 * says whether it played at other frames than it was filled for (when
 * enough samples make a chance match of all of them unlikely). The fills
 * before it in queue order are gone: their records were lost.
 */
static void check_fill(struct fz_stream *st, const struct cohbuf_stream_record *rec)
{
	int i, other, mismatch = !!(rec->flags & COHBUF_STREAM_REC_MISMATCH);

	for (i = 0; i < st->nfills && st->fills[i].cookie != rec->cookie; i++)
		;
	if (i == st->nfills)
		return;
	other = rec->first_frame != st->fills[i].frame;
	if (rec->frames && mismatch != other &&
	    (!other || (__u64)rec->frames * st->channels >= 4))
		fz_fail("output record %llu played from frame %llu, filled for %llu, %s MISMATCH",
			(unsigned long long)rec->sequence, (unsigned long long)rec->first_frame,
			(unsigned long long)st->fills[i].frame, mismatch ? "with" : "without");
	st->nfills -= i + 1;
	memmove(st->fills, st->fills + i + 1, st->nfills * sizeof(st->fills[0]));
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
	if (st->output)
		check_fill(st, rec);
}

/* A stream's own buffer of @size bytes, if the limits leave room: its fd, or -1. */
static int stream_buf_alloc(__u64 size)
{
	struct cohbuf_buffer_desc desc = { .size = size };
	int fd = cohbuf_exporter_alloc(F.dev, &desc, NULL);

	return fd < 0 ? -1 : fd;	/* ENOMEM, E2BIG or EMFILE: the pool's buffers only */
}

/* Close stream @s, its mappings and its own buffer, the mappings last at times. */
static void stream_close_slot(int s)
{
	struct fz_stream *st = &F.streams[s];
	int unmap_last = chance(30);

	if (!unmap_last)
		ring_teardown(s);	/* the output stream's mapping too */
	if (!fz_result(close(st->fd), "close of a stream", ERRS(0)))
		fz_fail("close of a live stream failed: %s", strerror(errno));
	if (unmap_last)
		ring_teardown(s);
	if (st->buf >= 0 && close(st->buf))
		fz_fail("close of a stream's buffer: %s", strerror(errno));
	st->buf = -1;
	stream_forget(s);
}

/*
 * A ring stream's data area: its own buffer, made before the stream (or
 * now and then another fd, said with bad()). Return: the buffer, or -1
 * (no room: no ring stream this time).
 */
static int ring_buf_prepare(struct cohbuf_stream_create_data *d, __u64 *size)
{
	int buf;

	gen_ring_params(d, size);
	buf = stream_buf_alloc(*size);
	if (buf < 0)
		return -1;
	d->ring_fd = buf;
	switch (below(40)) {
	case 0:
		d->ring_fd = chance(50) ? F.dev : F.ctx[below(NCTX)];
		bad("ring_fd not a dma-buf");
		break;
	case 1:
		d->ring_fd = -1;	/* not F.closed_fd: its number may be reused */
		bad("ring_fd -1");
		break;
	}
	return buf;
}

void op_stream_create(void)
{
	struct cohbuf_stream_create_data *d = (void *)argbuf;
	int c = below(NCTX), s = stream_slot_free(), kind = below(10), buf = -1;
	const char *why;
	unsigned long cmd;
	__u64 size = 0;
	struct fz_stream *st;

	if (F.ctx[c] < 0)
		return;
	gen_stream_params(d);
	if (kind < 5) {
		buf = ring_buf_prepare(d, &size);
		if (buf < 0)
			return;
	} else if (kind < 7) {
		d->direction = COHBUF_STREAM_DIR_OUTPUT;
	}
	why = F.why;
	cmd = fz_cmd(COHBUF_IMP_IOCTL_STREAM_CREATE, buf >= 0 ?
		     COHBUF_STREAM_CREATE_DATA_SIZE_VER1 : COHBUF_STREAM_CREATE_DATA_SIZE_VER0);
	/*
	 * A ring's size between VER0 and VER1 is valid, but cuts ring fields
	 * short (the kernel reads zeros for the rest, maybe half a field):
	 * what it makes of them is no rule to check; the whole struct then.
	 */
	if (buf >= 0 && _IOC_SIZE(cmd) >= COHBUF_STREAM_CREATE_DATA_SIZE_VER0 &&
	    _IOC_SIZE(cmd) < COHBUF_STREAM_CREATE_DATA_SIZE_VER1) {
		cmd = COHBUF_IMP_IOCTL_STREAM_CREATE;
		F.why = why;
	}
	if (!fz_result(ioctl(F.ctx[c], cmd, fz_argp()), "STREAM_CREATE",
		       ERRS(EINVAL, EBADF, EACCES, EBUSY, EOPNOTSUPP, ENOMEM, EMFILE, ENFILE,
			    EFAULT, ENOTTY))) {
		if (buf >= 0)
			close(buf);
		return;
	}
	if (d->fd < 0) {
		fz_fail("STREAM_CREATE gave fd %d", d->fd);
		return;
	}
	if (s < 0) {
		close(d->fd);	/* no room in the model: released at once */
		if (buf >= 0)
			close(buf);
		return;
	}
	st = &F.streams[s];
	*st = (struct fz_stream){
		.fd = d->fd, .block_frames = d->block_frames, .channels = d->channels,
		.format = d->format, .output = d->direction == COHBUF_STREAM_DIR_OUTPUT,
		.frame_bytes = cohbuf_stream_sample_bytes(d->format) * d->channels,
		.next_sequence = d->first_sequence, .cookie_base = F.last_cookie,
		.buf = buf, .buf_size = size,
	};
	if (d->mode == COHBUF_STREAM_MODE_RING) {
		st->ring = 1;
		st->ring_flags = d->ring_flags;
		st->ring_offset = d->ring_offset;
		st->ring_length = d->ring_length;
		st->watermark = d->watermark;
		st->record_bytes = (__u32)((sizeof(struct cohbuf_ring_block) +
					    (__u64)st->block_frames * st->frame_bytes + 7) & ~7ULL);
		if (ring_setup(s))
			stream_close_slot(s);
		return;
	}
	st->buf_size = gen_stream_buf_size(st);
	st->buf = stream_buf_alloc(st->buf_size);
	if (st->buf >= 0 && st->output) {
		st->map = mmap(NULL, st->buf_size, PROT_READ | PROT_WRITE, MAP_SHARED, st->buf, 0);
		if (st->map == MAP_FAILED) {
			fz_fail("mmap of an output stream's buffer: %s", strerror(errno));
			st->map = NULL;
		}
	}
}

/*
 * Before QUEUE of @d to output stream @st: if the region is in the
 * stream's own buffer, inside it and clear of every region filled and not
 * yet returned, fill its block for the frames it should play at (no
 * underrun coming between). Return: the frame it was filled for, or -1.
 */
static long long output_fill(struct fz_stream *st, const struct cohbuf_stream_queue_data *d)
{
	__u64 block = (__u64)st->block_frames * st->frame_bytes, frame;
	int i;

	if (!st->map || d->dmabuf_fd != st->buf || d->offset > st->buf_size ||
	    block > st->buf_size - d->offset || d->offset % st->frame_bytes ||
	    st->nfills == NFILLS)
		return -1;
	for (i = 0; i < st->nfills; i++)
		if (d->offset < st->fills[i].offset + block &&
		    st->fills[i].offset < d->offset + block)
			return -1;
	frame = st->fill_next > st->next_frame ? st->fill_next : st->next_frame;
	cohbuf_exporter_sync(F.dev, st->buf, d->offset, block,
			     COHBUF_SYNC_START | COHBUF_SYNC_WRITE);
	cohbuf_stream_generate(st->map + d->offset, frame, st->block_frames, st->channels,
			       st->format);
	cohbuf_exporter_sync(F.dev, st->buf, d->offset, block,
			     COHBUF_SYNC_END | COHBUF_SYNC_WRITE);
	return (long long)frame;
}

/*
 * Right after a QUEUE into @st's own buffer (begun at @t0): the region's
 * fence is there, unsignalled (it signals at the region's record, or its
 * deadline, FZ_STREAM_TIMEOUT_MS on: not checked when the call took half
 * of that): a writer's for input, no EPOLLIN; a reader's for output,
 * EPOLLIN but no EPOLLOUT.
 */
static void queue_fence_check(const struct fz_stream *st, __u64 t0)
{
	short ev = stream_revents(st->buf, POLLIN | POLLOUT);

	if (monotonic_ns() - t0 > FZ_STREAM_TIMEOUT_MS * MS / 2)
		return;
	if (st->output ? (ev & (POLLIN | POLLOUT)) != POLLIN : !!(ev & POLLIN))
		fz_fail("own buffer right after an %s QUEUE: revents %#x", st->output ?
			"output" : "input", ev);
}

void op_stream_queue(void)
{
	struct cohbuf_stream_queue_data *d = (void *)argbuf;
	int s = stream_pick(), slot;
	struct fz_stream *st;
	unsigned long cmd;
	long long fill;
	__u64 t0;

	if (s < 0)
		return;
	st = &F.streams[s];
	gen_stream_region(st, d, &slot);
	if (chance(15))
		d->flags |= COHBUF_STREAM_QUEUE_OUT_FENCE;
	if (st->ring)
		bad("QUEUE on a ring stream");
	fill = st->output ? output_fill(st, d) : -1;
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_QUEUE, COHBUF_STREAM_QUEUE_DATA_SIZE_VER0);
	t0 = monotonic_ns();
	if (!fz_result(ioctl(st->fd, cmd, fz_argp()), "QUEUE",
		       ERRS(EBADF, EINVAL, EACCES, EBUSY, ENOSPC, ENOMEM, EMFILE, EINTR,
			    EIO, EOPNOTSUPP, EFAULT, ENOTTY, ENODEV, EPERM, ENXIO)))
		return;
	if (d->dmabuf_fd == st->buf)
		queue_fence_check(st, t0);
	if (fill >= 0) {
		st->fills[st->nfills++] = (struct fz_fill){
			.cookie = d->cookie, .offset = d->offset, .frame = (__u64)fill,
		};
		st->fill_next = (__u64)fill + st->block_frames;
	}
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
	if (F.streams[s].ring)
		bad("DEQUEUE on a ring stream");
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
	if (F.streams[s].ring)
		bad("read() of a ring stream");
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
	int s = stream_pick(), idle;
	unsigned long cmd;
	__u64 head;

	if (s < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->frames = 1 + below(2 * F.streams[s].block_frames);
	if (chance(4)) {
		d->frames = chance(50) ? 0 : COHBUF_STREAM_MAX_ADVANCE + 1 + below(1000);
		bad("frames out of range");
	}
	cmd = fz_cmd(COHBUF_STREAM_IOCTL_ADVANCE, COHBUF_STREAM_ADVANCE_DATA_SIZE_VER0);
	idle = ring_tail_unusable(s);
	head = idle ? F.streams[s].prod->head : 0;
	if (fz_result(ioctl(F.streams[s].fd, cmd, fz_argp()), "ADVANCE",
		      ERRS(EINVAL, EPIPE, EINTR, EFAULT, ENOTTY)) &&
	    idle && F.streams[s].prod->head != head)
		fz_fail("ADVANCE with an invalid tail %llu moved the head from %llu to %llu",
			(unsigned long long)F.streams[s].tail, (unsigned long long)head,
			(unsigned long long)F.streams[s].prod->head);
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
	else if (F.streams[s].ring && (d->queued || d->completed))
		fz_fail("STATS of a ring stream: %u queued, %u completed", d->queued, d->completed);
	else if (F.streams[s].ring && (F.streams[s].ring_flags & COHBUF_STREAM_RING_OVERWRITE) &&
		 d->lost)
		fz_fail("STATS of an OVERWRITE ring: %llu frames lost",
			(unsigned long long)d->lost);
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
