// SPDX-License-Identifier: MIT
/*
 * libcohbuf: the consumer side of a stream in ring mode ("cohbuf stream
 * ring" in linux/cohbuf_stream.h): the control pages, records taken in
 * place with no system call, the memory ordering the uapi spells out
 * (acquire of the head, release of the tail, the seqlock check of
 * OVERWRITE), and a wait in poll().
 */

#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

int cohbuf_stream_ring_map(int stream, const void *data, struct cohbuf_stream_ring *ring)
{
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;

	cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, stream,
		    COHBUF_RING_CONSUMER_PGOFF * page);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, stream,
		    COHBUF_RING_PRODUCER_PGOFF * page);
	if (prod == MAP_FAILED) {
		int ret = -errno;

		munmap(cons, (size_t)page);
		return ret;
	}
	ring->cons = cons;
	ring->prod = prod;
	ring->data = data;
	ring->length = ring->prod->length;
	ring->pos = __atomic_load_n(&ring->cons->tail, __ATOMIC_RELAXED);
	ring->next = ring->pos;
	ring->head = ring->pos;
	ring->laps = 0;
	return 0;
}

int cohbuf_stream_ring_unmap(struct cohbuf_stream_ring *ring)
{
	long page = sysconf(_SC_PAGESIZE);

	munmap(ring->cons, (size_t)page);
	munmap((void *)ring->prod, (size_t)page);
	ring->cons = NULL;
	ring->prod = NULL;
	return 0;
}

static int ring_overwrites(const struct cohbuf_stream_ring *ring)
{
	return ring->prod->ring_flags & COHBUF_STREAM_RING_OVERWRITE;
}

/* OVERWRITE: if bytes at @pos may be gone, resume at the oldest record. */
static int ring_lapped(struct cohbuf_stream_ring *ring, uint64_t pos)
{
	uint64_t oldest = __atomic_load_n(&ring->prod->oldest, __ATOMIC_RELAXED);

	if (!ring_overwrites(ring) || pos >= oldest)
		return 0;
	ring->pos = oldest;
	ring->next = oldest;
	ring->laps++;
	return -ESTALE;
}

int cohbuf_stream_ring_peek(struct cohbuf_stream_ring *ring, const struct cohbuf_ring_header **rec)
{
	const struct cohbuf_ring_header *h;
	uint64_t off;

	for (;;) {
		if (ring->pos == ring->head) {
			/* Pairs with the device's release: records before it are whole. */
			ring->head = __atomic_load_n(&ring->prod->head, __ATOMIC_ACQUIRE);
			if (ring->pos == ring->head)
				return 0;
		}
		if (ring_lapped(ring, ring->pos))
			return -ESTALE;
		off = ring->pos % ring->length;
		h = (const struct cohbuf_ring_header *)(ring->data + off);
		if (h->size < sizeof(*h) || h->size % COHBUF_RING_ALIGN ||
		    h->size > ring->length - off || h->size > ring->head - ring->pos)
			return -EBADMSG;
		ring->next = ring->pos + h->size;
		if (h->type != COHBUF_RING_REC_PAD) {
			*rec = h;
			return 1;
		}
		ring->pos = ring->next;
	}
}

int cohbuf_stream_ring_check(struct cohbuf_stream_ring *ring, const struct cohbuf_ring_header *rec)
{
	(void)rec;
	/* The reads of the record come before the load of oldest. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return ring_lapped(ring, ring->pos);
}

int cohbuf_stream_ring_release(struct cohbuf_stream_ring *ring)
{
	ring->pos = ring->next;
	/* Our reads of the records come before the device may reuse them. */
	__atomic_store_n(&ring->cons->tail, ring->pos, __ATOMIC_RELEASE);
	return 0;
}

/* poll()'s timeout for an absolute deadline, rounded up, at most INT_MAX ms. */
static int ring_poll_ms(uint64_t deadline_ns)
{
	uint64_t now = cohbuf_stream_now_ns(), ms;

	if (deadline_ns <= now)
		return 0;
	ms = (deadline_ns - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int cohbuf_stream_ring_wait(int stream, uint64_t deadline_ns)
{
	struct pollfd p = { .fd = stream, .events = POLLIN | POLLPRI };
	int ret;

	for (;;) {
		ret = poll(&p, 1, ring_poll_ms(deadline_ns));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret)
			return p.revents;
		if (cohbuf_stream_now_ns() >= deadline_ns)
			return 0;
	}
}
