// SPDX-License-Identifier: GPL-2.0
/*
 * Streams in ring mode ("cohbuf stream ring" in linux/cohbuf_stream.h), on
 * the manual clock: the model maps the two control pages and the data
 * area, reads the records in place and moves the consumer's tail, now and
 * then to a position the device must not use (beyond the head, or more
 * than the ring behind it) or back to one it may. What it checks: with
 * such a tail and no block begun, ADVANCE moves no head (stream.c); the
 * head is never more than the ring ahead of the model's tail (without
 * OVERWRITE the device never writes over records not released); every
 * record is well formed, pad records fill the end, gap records come only
 * without OVERWRITE and say exactly where frames were lost, block records
 * come in sequence with exact frame indices and every sample right (half
 * the time); with OVERWRITE a lapped consumer resumes at @oldest; poll()
 * reports EPOLLIN exactly as the watermark rule says, arms need_wakeup
 * when it does not, EPOLLERR in state OVERRUN and no EPOLLPRI once STATS
 * acknowledged the overruns; the control pages'
 * mmap() rules. stream.c creates and closes ring streams and runs the
 * ioctls common to every stream on them.
 */

#include "fuzz.h"

/* Map the control pages and the data area of new ring stream @s: 0, or -1. */
int ring_setup(int s)
{
	struct fz_stream *st = &F.streams[s];
	void *cons, *prod, *data;

	cons = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd,
		    COHBUF_RING_CONSUMER_PGOFF * PAGE);
	prod = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, st->fd, COHBUF_RING_PRODUCER_PGOFF * PAGE);
	data = mmap(NULL, st->buf_size, PROT_READ, MAP_SHARED, st->buf, 0);
	if (cons == MAP_FAILED || prod == MAP_FAILED || data == MAP_FAILED) {
		fz_fail("mapping a ring stream: control pages %s, %s, data area %s",
			cons == MAP_FAILED ? "failed" : "mapped",
			prod == MAP_FAILED ? "failed" : "mapped",
			data == MAP_FAILED ? "failed" : "mapped");
		if (cons != MAP_FAILED)
			munmap(cons, PAGE);
		if (prod != MAP_FAILED)
			munmap(prod, PAGE);
		if (data != MAP_FAILED)
			munmap(data, st->buf_size);
		return -1;
	}
	st->cons = cons;
	st->prod = prod;
	st->map = data;
	if (st->prod->length != st->ring_length || st->prod->record_bytes != st->record_bytes ||
	    st->prod->watermark_bytes != st->watermark * st->record_bytes ||
	    st->prod->ring_flags != st->ring_flags || st->prod->head || st->cons->tail)
		fz_fail("producer: length %llu record %u mark %u flags %#x head %llu tail %llu",
			(unsigned long long)st->prod->length, st->prod->record_bytes,
			st->prod->watermark_bytes, st->prod->ring_flags,
			(unsigned long long)st->prod->head, (unsigned long long)st->cons->tail);
	return 0;
}

/* Unmap what ring_setup() mapped. */
void ring_teardown(int s)
{
	struct fz_stream *st = &F.streams[s];

	if (st->cons)
		munmap(st->cons, PAGE);
	if (st->prod)
		munmap((void *)st->prod, PAGE);
	if (st->map)
		munmap(st->map, st->buf_size);
	st->cons = NULL;
	st->prod = NULL;
	st->map = NULL;
}

static int overwrites(const struct fz_stream *st)
{
	return st->ring_flags & COHBUF_STREAM_RING_OVERWRITE;
}

/* A block record at @b: check it against the model, which it moves on. */
static void ring_block(struct fz_stream *st, const struct cohbuf_ring_block *b)
{
	size_t bad = 0;

	if (st->lapped) {
		st->next_sequence = b->sequence;
		st->next_frame = b->first_frame;
		st->lapped = 0;
	}
	if (b->hdr.size != st->record_bytes)
		fz_fail("block record of %u bytes, want %u", b->hdr.size, st->record_bytes);
	else if (b->sequence != st->next_sequence)
		fz_fail("block record sequence %llu, want %llu (the device wrote over a record?)",
			(unsigned long long)b->sequence, (unsigned long long)st->next_sequence);
	else if (b->first_frame != st->next_frame || b->lost_before != st->pending_gap)
		fz_fail("block record at frame %llu after %llu lost, want %llu after %llu",
			(unsigned long long)b->first_frame, (unsigned long long)b->lost_before,
			(unsigned long long)st->next_frame, (unsigned long long)st->pending_gap);
	else if (b->flags != (b->lost_before ? COHBUF_STREAM_REC_DISCONTINUITY : 0))
		fz_fail("block record flags %#x with %llu lost before", b->flags,
			(unsigned long long)b->lost_before);
	else if (!b->frames || b->frames > st->block_frames || b->first_ns > b->last_ns)
		fz_fail("block record of %u frames (block %u), ns %llu..%llu", b->frames,
			st->block_frames, (unsigned long long)b->first_ns,
			(unsigned long long)b->last_ns);
	else if (chance(50) && cohbuf_stream_verify(b + 1, b->first_frame, b->frames, st->channels,
						    st->format, &bad))
		fz_fail("block record %llu: sample %zu is not the payload",
			(unsigned long long)b->sequence, bad);
	st->next_sequence = b->sequence + 1;
	st->next_frame = b->first_frame + b->frames;
	st->pending_gap = 0;
}

/* Take the record at the model's position, which is before @head. */
static void ring_take(struct fz_stream *st, __u64 head)
{
	__u64 off = st->pos % st->ring_length;
	const struct cohbuf_ring_header *h = (const void *)(st->map + st->ring_offset + off);
	const struct cohbuf_ring_gap *g = (const void *)h;

	if (h->size < sizeof(*h) || h->size % COHBUF_RING_ALIGN ||
	    h->size > st->ring_length - off || h->size > head - st->pos) {
		fz_fail("malformed record at %llu (head %llu): type %u size %u",
			(unsigned long long)st->pos, (unsigned long long)head, h->type, h->size);
		return;
	}
	switch (h->type) {
	case COHBUF_RING_REC_PAD:
		if (off + h->size != st->ring_length)
			fz_fail("pad record at offset %llu of %u bytes, not to the end (%llu)",
				(unsigned long long)off, h->size,
				(unsigned long long)st->ring_length);
		break;
	case COHBUF_RING_REC_GAP:
		if (overwrites(st) || h->size != sizeof(*g) || !g->lost ||
		    (!st->lapped && g->first_lost != st->next_frame))
			fz_fail("gap record of %u bytes: %llu lost from %llu, want from %llu%s",
				h->size, (unsigned long long)g->lost,
				(unsigned long long)g->first_lost,
				(unsigned long long)st->next_frame,
				overwrites(st) ? " (OVERWRITE has no gaps)" : "");
		st->next_frame = g->first_lost + g->lost;
		st->pending_gap += g->lost;
		break;
	case COHBUF_RING_REC_BLOCK:
		ring_block(st, (const void *)h);
		break;
	default:
		fz_fail("record of unknown type %u at %llu", h->type, (unsigned long long)st->pos);
		return;
	}
	st->pos += h->size;
}

/*
 * The tail to store after reading: mostly the model's position. An
 * invalid one beyond the head lies more than the ring beyond it: the
 * device may go on writing into the room the last valid tail left, and a
 * tail only just beyond the head could then be behind it, valid, when the
 * device reads it, releasing records the model has not read.
 */
static __u64 ring_next_tail(const struct fz_stream *st, __u64 head)
{
	__u64 lo = head > st->ring_length ? head - st->ring_length : 0;
	__u64 reach = head + st->ring_length;	/* no head gets there first */

	switch (below(25)) {
	case 0:
	case 4:
		return reach + 8 * (1 + below(1000));	/* far beyond: invalid */
	case 1:
	case 5:
		return reach + 8 * (1 + below(8));	/* just beyond that: invalid */
	case 2:
		if (lo >= 8)
			return lo - 8 * (1 + below((__u32)(lo / 8 < 100 ? lo / 8 : 100)));
		return st->pos;		/* more than the ring behind: invalid */
	case 3:
		return lo + below((__u32)(st->pos - lo) + 1);	/* back, valid */
	default:
		return st->pos;
	}
}

/*
 * Read up to four records from the model's position on, between the
 * CPU-access brackets of the data area, then store the tail.
 */
void op_ring_consume(void)
{
	int s = ring_pick(), n;
	struct fz_stream *st;
	__u64 head, oldest;

	if (s < 0)
		return;
	st = &F.streams[s];
	/* Pairs with the device's release: the records before it are whole. */
	head = __atomic_load_n(&st->prod->head, __ATOMIC_ACQUIRE);
	if (head < st->pos || (!overwrites(st) && head - st->pos > st->ring_length)) {
		fz_fail("head %llu, tail released %llu, ring %llu: unreleased records overwritten",
			(unsigned long long)head, (unsigned long long)st->pos,
			(unsigned long long)st->ring_length);
		return;
	}
	oldest = __atomic_load_n(&st->prod->oldest, __ATOMIC_RELAXED);
	if (!overwrites(st) && oldest)
		fz_fail("oldest %llu without OVERWRITE", (unsigned long long)oldest);
	if (overwrites(st) && st->pos < oldest) {
		st->pos = oldest;	/* lapped: the records before it are gone */
		st->lapped = 1;
	}
	cohbuf_exporter_sync(F.dev, st->buf, st->ring_offset, st->ring_length,
			     COHBUF_SYNC_START | COHBUF_SYNC_READ);
	for (n = 1 + below(4); n && st->pos < head && !F.failed; n--)
		ring_take(st, head);
	cohbuf_exporter_sync(F.dev, st->buf, st->ring_offset, st->ring_length,
			     COHBUF_SYNC_END | COHBUF_SYNC_READ);
	st->tail = ring_next_tail(st, head);
	/* Our reads of the records come before the device may reuse them. */
	__atomic_store_n(&st->cons->tail, st->tail, __ATOMIC_RELEASE);
	F.ok[F.kind]++;
}

/*
 * Whether ring stream @s (any stream: 0 if not a ring) has a tail the
 * device must not use (beyond the head, or more than the ring behind it)
 * and no block being written: then, without OVERWRITE, no ADVANCE may
 * move the head ("the ring counts as full until the consumer writes a
 * valid one"). STATS tells whether a block is being written.
 */
int ring_tail_unusable(int s)
{
	struct fz_stream *st = &F.streams[s];
	struct cohbuf_stream_stats_data d;
	__u64 head;

	if (!st->ring || overwrites(st))
		return 0;
	head = st->prod->head;
	if (st->tail <= head && head - st->tail <= st->ring_length)
		return 0;
	return !stream_stats(st->fd, &d) && !d.in_flight;
}

/* mmap() of the control pages, the rules of "reading and polling a stream". */
static void ring_mmap_rules(int s)
{
	struct fz_stream *st = &F.streams[s];
	size_t len = PAGE;
	int prot = PROT_READ;
	off_t off = 0;
	void *p;

	switch (below(5)) {
	case 0:
		prot |= PROT_WRITE;
		off = PAGE;
		bad("a writable mapping of the producer page");
		break;
	case 1:
		off = COHBUF_RING_CONTROL_PAGES * PAGE;
		bad("a mapping beyond the control pages");
		break;
	case 2:
		len = 3 * PAGE;
		bad("a mapping beyond the control pages");
		break;
	default:
		len = 2 * PAGE;
		break;
	}
	p = mmap(NULL, len, prot, MAP_SHARED, st->fd, off);
	if (!fz_result(p == MAP_FAILED ? -1 : 0, "mmap of a ring stream",
		       ERRS(EINVAL, EACCES, ENOMEM)))
		return;
	/* Page 1 is the producer's: read-only for good. */
	errno = 0;
	if (!mprotect(p, len, PROT_READ | PROT_WRITE) || errno != EACCES)
		fz_fail("mprotect(PROT_WRITE) of the control pages: %s", strerror(errno));
	if (((const struct cohbuf_ring_producer *)((char *)p + PAGE))->head != st->prod->head)
		fz_fail("two mappings of the producer page differ");
	munmap(p, len);
}

/*
 * poll() of a ring stream: EPOLLIN exactly when @watermark_bytes lie
 * between the tail and the head, or a byte does and the stream is not
 * running; a poll() without it arms need_wakeup; EPOLLERR in OVERRUN;
 * no EPOLLPRI.
 * STATS first, for the state (it acknowledges EPOLLPRI too). Now and then
 * the mmap() rules instead, and on a queue stream the ENODEV of mmap().
 */
void op_ring_poll(void)
{
	struct cohbuf_stream_stats_data st_data;
	int s = ring_pick(), q = stream_pick();
	__u64 head, tail, avail;
	struct fz_stream *st;
	short ev;
	int in;

	if (q >= 0 && !F.streams[q].ring && chance(10)) {
		void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, F.streams[q].fd, 0);

		bad("mmap of a queue-mode stream");
		if (fz_result(p == MAP_FAILED ? -1 : 0, "mmap of a queue stream", ERRS(ENODEV)))
			munmap(p, PAGE);
		return;
	}
	if (s < 0)
		return;
	if (chance(20)) {
		ring_mmap_rules(s);
		return;
	}
	st = &F.streams[s];
	if (stream_stats(st->fd, &st_data)) {
		fz_fail("STATS of a ring stream: %s", strerror(errno));
		return;
	}
	ev = stream_revents(st->fd, POLLIN | POLLPRI);
	head = st->prod->head;
	tail = st->tail;
	if (overwrites(st) && st->prod->oldest > tail)
		tail = st->prod->oldest;
	avail = tail <= head ? head - tail : 0;
	in = avail >= (__u64)st->watermark * st->record_bytes ||
	     (avail && st_data.state != COHBUF_STREAM_STATE_RUNNING);
	if (!!(ev & POLLIN) != in)
		fz_fail("poll() of a ring: revents %#x, %llu bytes to read, watermark %u, state %u",
			ev, (unsigned long long)avail, st->watermark * st->record_bytes,
			st_data.state);
	else if (!in && !st->prod->need_wakeup)
		fz_fail("poll() below the watermark did not set need_wakeup");
	else if (!!(ev & POLLERR) != (st_data.state == COHBUF_STREAM_STATE_OVERRUN) ||
		 (ev & POLLPRI))
		fz_fail("poll() of a ring stream right after STATS: revents %#x in state %u", ev,
			st_data.state);
	else
		F.ok[F.kind]++;
}
