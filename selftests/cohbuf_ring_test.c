// SPDX-License-Identifier: GPL-2.0
/*
 * Streams of the importer in ring mode ("cohbuf stream ring" in
 * linux/cohbuf_stream.h), consumed with libcohbuf's ring helpers as a
 * user program would: the manual clock makes every count exact. More
 * than 1,000 wraps of a small ring with every sample checked (the reads
 * bracketed by DMA_BUF_IOCTL_SYNC, which non-coherent platforms need and
 * which must not wait for the stream), the exact loss and gap record of a
 * starved ring, the stop policy, overwrite and how a lapped consumer
 * knows it, one wake-up per watermark, a partial block at STOP, bad input
 * with its documented errno, the rules of the control pages' mmap(), and
 * close and SIGKILL mid-stream. Every test ends with the importer's
 * stream counters at zero.
 */

#include <linux/dma-buf.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "stream_test.h"

#define BLOCK		16		/* frames: 128 bytes of 4 x ADC12 */
#define RECORD		(COHBUF_RING_BLOCK_SIZE_VER0 + BLOCK * 8)	/* 184 */
#define RING_OFFSET	4096
#define RING_LENGTH	1024		/* 5 records and a pad */
#define RING_RECORDS	5
#define BUF_SIZE	(64 * KIB)

/* STREAM_CREATE as a program built before the ring fields issues it. */
#define STREAM_CREATE_VER0 \
	_IOWR(COHBUF_IOC_MAGIC, 0x15, char[COHBUF_STREAM_CREATE_DATA_SIZE_VER0])

FIXTURE(ring) {
	int dev, imp, buf, s;
	__u64 id;			/* of buf, a cached cohbuf buffer */
	unsigned char *map;
	struct cohbuf_stream_create_data p;
	struct cohbuf_stream_ring ring;
	long page;
};

/* The stream parameters of most tests: ring mode over the fixture's buffer. */
static struct cohbuf_stream_create_data ring_params(int buf, __u32 flags, __u64 length)
{
	struct cohbuf_stream_create_data p = stream_params(BLOCK);

	p.mode = COHBUF_STREAM_MODE_RING;
	p.ring_fd = buf;
	p.ring_flags = flags;
	p.ring_offset = RING_OFFSET;
	p.ring_length = length;
	return p;
}

FIXTURE_SETUP(ring)
{
	struct cohbuf_alloc_data d;

	self->page = sysconf(_SC_PAGESIZE);
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(errno));
	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, BUF_SIZE, O_RDWR | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, NULL, &d));
	self->buf = d.fd;
	self->id = d.id;
	self->map = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->buf, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->p = ring_params(self->buf, 0, RING_LENGTH);
	self->s = -1;
	ASSERT_EQ(RECORD, (int)(sizeof(struct cohbuf_ring_block) + stream_block_bytes(&self->p)));
}

/* In the test's fork parent, once its process and fds are gone. */
FIXTURE_TEARDOWN_PARENT(ring)
{
	EXPECT_EQ(0, stream_debugfs("streams"));
	EXPECT_EQ(0, stream_debugfs("stream_regions"));
	EXPECT_EQ(0, stream_debugfs("stream_rings"));
	EXPECT_EQ(0, stream_debugfs("mappings"));
	EXPECT_EQ(0, settings_pop_all());
}

/* In a test: create the fixture's stream with self->p, map its ring, start it. */
#define CREATE_STARTED() do { \
	self->s = stream_create(self->imp, &self->p); \
	ASSERT_LE(0, self->s) TH_LOG("STREAM_CREATE: %s", strerror(-self->s)); \
	ASSERT_EQ(0, cohbuf_stream_ring_map(self->s, self->map + RING_OFFSET, &self->ring)); \
	ASSERT_EQ(0, stream_start(self->s)); \
} while (0)

/* What a consumer expects next, and what it has seen. */
struct consumer {
	__u64 frame;		/* first frame of the next block, if no loss */
	__u64 sequence;
	__u64 blocks, gaps, lost;
	__u64 pending_gap;	/* frames the last gap record announced */
};

/*
 * Take every record there is, checking each (type, sequence, frame
 * indices, the gap before it, every sample): the number of blocks taken.
 */
static int consume(struct __test_metadata *_metadata, struct _test_data_ring *self,
		   struct consumer *c)
{
	const struct cohbuf_ring_header *h;
	const struct cohbuf_ring_block *b;
	const struct cohbuf_ring_gap *g;
	size_t bad = 0;
	int ret, n = 0;

	while ((ret = cohbuf_stream_ring_peek(&self->ring, &h)) == 1) {
		if (h->type == COHBUF_RING_REC_GAP) {
			g = (const void *)h;
			EXPECT_EQ(sizeof(*g), h->size);
			EXPECT_EQ(c->frame, g->first_lost);
			c->frame += g->lost;
			c->lost += g->lost;
			c->pending_gap = g->lost;
			c->gaps++;
		} else {
			ASSERT_EQ(COHBUF_RING_REC_BLOCK, h->type);
			b = (const void *)h;
			EXPECT_EQ(RECORD, h->size);
			EXPECT_EQ(c->sequence, b->sequence);
			EXPECT_EQ(c->frame, b->first_frame);
			EXPECT_EQ(c->pending_gap, b->lost_before);
			EXPECT_EQ(c->pending_gap ? COHBUF_STREAM_REC_DISCONTINUITY : 0, b->flags);
			EXPECT_LE(b->first_ns, b->last_ns);
			EXPECT_EQ(0, cohbuf_stream_verify(b + 1, b->first_frame, b->frames,
							  self->p.channels, self->p.format, &bad))
				TH_LOG("block %llu: sample %zu",
				       (unsigned long long)b->sequence, bad);
			c->frame = b->first_frame + b->frames;
			c->sequence++;
			c->pending_gap = 0;
			c->blocks++;
			n++;
		}
		ASSERT_EQ(0, cohbuf_stream_ring_release(&self->ring));
	}
	EXPECT_EQ(0, ret);
	return n;
}

/*
 * More than 1,000 wraps of a 1 KiB ring, 4 blocks per ADVANCE, every
 * sample checked, nothing lost; each batch is read between
 * DMA_BUF_IOCTL_SYNC START and END, as on a non-coherent platform, which
 * the ring's dma-buf allows at once: the stream adds no fence. The first
 * START reaches the DMA API for the whole buffer in both its mappings,
 * cohbuf's own and the importer's (the ring's): the cache maintenance a
 * non-coherent device needs is done, not skipped.
 */
TEST_F(ring, thousand_wraps_every_sample_verified)
{
	struct cohbuf_stream_stats_data st;
	struct consumer c = { 0 };
	__u64 batches = 0;
	long long cpu0;

	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, 4 * BLOCK));
	cpu0 = cohbuf_buffer_field(self->id, "synced_cpu");
	ASSERT_LE(0, cpu0);
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_begin(self->buf, DMA_BUF_SYNC_READ));
	EXPECT_EQ(cpu0 + 2 * BUF_SIZE, cohbuf_buffer_field(self->id, "synced_cpu"));
	ASSERT_EQ(4, consume(_metadata, self, &c));
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_end(self->buf, DMA_BUF_SYNC_READ));
	batches++;
	while (self->ring.prod->head < 1001ull * RING_LENGTH) {
		ASSERT_EQ(0, stream_advance(self->s, 4 * BLOCK));
		ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_begin(self->buf, DMA_BUF_SYNC_READ));
		ASSERT_EQ(4, consume(_metadata, self, &c));
		ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_end(self->buf, DMA_BUF_SYNC_READ));
		batches++;
	}
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(0, st.in_flight);
	EXPECT_EQ(batches * 4 * BLOCK, st.produced);
	EXPECT_EQ(batches * 4, st.records);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(0, st.completed);
	EXPECT_EQ(batches * 4, c.blocks);
	EXPECT_EQ(0, c.gaps);
	EXPECT_EQ(self->ring.prod->head, self->ring.cons->tail);
	EXPECT_EQ(c.sequence, self->ring.prod->sequence);
	EXPECT_EQ(0, self->ring.prod->lost);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/*
 * A full ring loses whole blocks, exactly, and never writes over what the
 * consumer holds; the next block comes after a gap record that names the
 * first lost frame, and says how many it follows.
 */
TEST_F(ring, starving_loses_exact_blocks_and_writes_a_gap)
{
	const unsigned int k = 3;
	struct cohbuf_stream_stats_data st;
	struct consumer c = { 0 };

	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, RING_RECORDS * BLOCK));
	EXPECT_EQ(0, stream_revents(self->s, POLLPRI));
	ASSERT_EQ(0, stream_advance(self->s, k * BLOCK));
	EXPECT_EQ(POLLPRI, stream_revents(self->s, POLLPRI));
	EXPECT_EQ(k * BLOCK, self->ring.prod->lost);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(k * BLOCK, st.lost);
	EXPECT_EQ(1, st.overruns);
	EXPECT_EQ(0, stream_revents(self->s, POLLPRI));		/* STATS acknowledged it */

	/* What the consumer held is intact. */
	EXPECT_EQ(RING_RECORDS, consume(_metadata, self, &c));
	EXPECT_EQ(0, c.gaps);
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_EQ(1, consume(_metadata, self, &c));
	EXPECT_EQ(1, c.gaps);
	EXPECT_EQ(k * BLOCK, c.lost);
	EXPECT_EQ((RING_RECORDS + k + 1) * BLOCK, c.frame);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(k * BLOCK, st.lost);
	EXPECT_EQ((RING_RECORDS + 1) * BLOCK, st.delivered);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/* A tail outside [head - length, head] counts as a full ring. */
TEST_F(ring, a_bad_tail_loses_frames_and_harms_nothing)
{
	struct cohbuf_stream_stats_data st;
	struct consumer c = { 0 };

	CREATE_STARTED();
	self->ring.cons->tail = 1ull << 40;
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(2 * BLOCK, st.lost);
	self->ring.cons->tail = 0;
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_EQ(1, consume(_metadata, self, &c));
	EXPECT_EQ(2 * BLOCK, c.lost);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/* Under the stop policy a full ring stops the stream: EPOLLERR, EPIPE. */
TEST_F(ring, stop_policy_stops_on_a_full_ring)
{
	struct cohbuf_stream_stats_data st;

	self->p.overrun = COHBUF_STREAM_OVERRUN_STOP;
	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, (RING_RECORDS + 1) * BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(COHBUF_STREAM_STATE_OVERRUN, st.state);
	EXPECT_EQ(RING_RECORDS * BLOCK, st.produced);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(POLLERR | POLLIN, stream_revents(self->s, POLLIN));
	EXPECT_EQ(-EPIPE, stream_advance(self->s, 1));
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/*
 * Overwrite: nothing is lost, the oldest blocks go; a consumer that was
 * lapped finds out before reading (its position is below oldest) and one
 * that was overwritten while it read finds out after (the seqlock check).
 */
TEST_F(ring, overwrite_laps_and_the_consumer_detects_it)
{
	const struct cohbuf_ring_header *h;
	struct cohbuf_stream_stats_data st;
	struct consumer c = { 0 };

	self->p = ring_params(self->buf, COHBUF_STREAM_RING_OVERWRITE, RING_RECORDS * RECORD);
	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, RING_RECORDS * BLOCK));
	EXPECT_EQ(0, self->ring.prod->oldest);
	ASSERT_EQ(1, cohbuf_stream_ring_peek(&self->ring, &h));
	EXPECT_EQ(0, ((const struct cohbuf_ring_block *)h)->sequence);
	EXPECT_EQ(0, cohbuf_stream_ring_check(&self->ring, h));

	/* Three more blocks write over blocks 0 to 2, which nobody released. */
	ASSERT_EQ(0, stream_advance(self->s, 3 * BLOCK));
	EXPECT_EQ(-ESTALE, cohbuf_stream_ring_check(&self->ring, h));
	EXPECT_EQ(1, self->ring.laps);
	EXPECT_EQ(3 * RECORD, self->ring.prod->oldest);
	EXPECT_EQ(3, self->ring.prod->overwritten);
	c.sequence = 3;
	c.frame = 3 * BLOCK;
	EXPECT_EQ(RING_RECORDS, consume(_metadata, self, &c));

	/* Lapped while away: peek says so and resumes at the oldest block. */
	ASSERT_EQ(0, stream_advance(self->s, (RING_RECORDS + 2) * BLOCK));
	EXPECT_EQ(-ESTALE, cohbuf_stream_ring_peek(&self->ring, &h));
	EXPECT_EQ(2, self->ring.laps);
	EXPECT_EQ(5, self->ring.prod->overwritten);
	c.sequence += 2;
	c.frame += 2 * BLOCK;
	EXPECT_EQ(RING_RECORDS, consume(_metadata, self, &c));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(st.produced, st.delivered);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/*
 * One wake-up per watermark: a poll() below it arms need_wakeup, the
 * device wakes once when it reaches it; a consumer that never sleeps
 * costs no wake-up. Then a process really asleep in poll() is woken.
 */
TEST_F(ring, one_wakeup_per_watermark)
{
	const unsigned int w = 3, n = 12;
	unsigned int i, ins = 0;
	struct consumer c = { 0 };
	int status;
	pid_t pid;

	self->p.watermark = w;
	CREATE_STARTED();
	EXPECT_EQ((__u32)(w * RECORD), self->ring.prod->watermark_bytes);
	/* No poll() yet: blocks at the watermark wake nobody. */
	ASSERT_EQ(0, stream_advance(self->s, w * BLOCK));
	EXPECT_EQ(0, self->ring.prod->wakeups);
	EXPECT_EQ(POLLIN, stream_revents(self->s, POLLIN));
	EXPECT_EQ((int)w, consume(_metadata, self, &c));

	EXPECT_EQ(0, stream_revents(self->s, POLLIN));
	EXPECT_EQ(1, self->ring.prod->need_wakeup);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, stream_advance(self->s, BLOCK));
		if (stream_revents(self->s, POLLIN)) {
			ins++;
			EXPECT_EQ(0, self->ring.prod->need_wakeup);
			EXPECT_EQ((int)w, consume(_metadata, self, &c));
			EXPECT_EQ(0, stream_revents(self->s, POLLIN));	/* re-arms */
		}
	}
	EXPECT_EQ(n / w, ins);
	EXPECT_EQ(n / w, self->ring.prod->wakeups);

	/* A child asleep in poll() wakes at the watermark, not before. */
	pid = test_fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd p = { .fd = self->s, .events = POLLIN };

		_exit(poll(&p, 1, 20000) == 1 && p.revents == POLLIN ? 0 : 1);
	}
	for (i = 0; i < 2000 && waitpid(pid, &status, WNOHANG) == 0 &&
	     !self->ring.prod->need_wakeup; i++)
		usleep(5000);
	ASSERT_EQ(1, self->ring.prod->need_wakeup);
	ASSERT_EQ(0, stream_advance(self->s, (w - 1) * BLOCK));
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(n / w + 1, self->ring.prod->wakeups);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/* STOP publishes the block being written with the frames it has. */
TEST_F(ring, stop_publishes_the_partial_block)
{
	const struct cohbuf_ring_header *h;
	struct cohbuf_stream_stats_data st;
	struct consumer c = { 0 };

	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, BLOCK + 5));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(5, st.in_flight);
	ASSERT_EQ(0, stream_stop(self->s));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(0, st.in_flight);
	EXPECT_EQ(BLOCK + 5, st.delivered);
	EXPECT_EQ(POLLIN, stream_revents(self->s, POLLIN));	/* stopped: any byte */
	ASSERT_EQ(1, cohbuf_stream_ring_peek(&self->ring, &h));
	EXPECT_EQ(BLOCK, ((const struct cohbuf_ring_block *)h)->frames);
	EXPECT_EQ(2, consume(_metadata, self, &c));
	EXPECT_EQ(BLOCK + 5, c.frame);
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_EQ(1, consume(_metadata, self, &c));
	EXPECT_EQ(2 * BLOCK + 5, c.frame);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/* The bad ring arguments, by index: what each changes. */
static const struct bad_case {
	const char *what;
	int err;
} bad_cases[] = {
	{ "ring too small for two blocks", -EINVAL },
	{ "length not a multiple of 8", -EINVAL },
	{ "offset not a multiple of 8", -EINVAL },
	{ "outside the dma-buf", -EINVAL },
	{ "offset overflows", -EINVAL },
	{ "unknown ring flags", -EINVAL },
	{ "overwrite, not whole records", -EINVAL },
	{ "watermark beyond the ring", -EINVAL },
	{ "nonzero pad", -EINVAL },
	{ "nonzero pad2", -EINVAL },
	{ "queue mode with a ring", -EINVAL },
	{ "queue mode with ring flags", -EINVAL },
	{ "not a dma-buf", -EINVAL },
	{ "not an fd", -EBADF },
	{ "a read-only dma-buf", -EACCES },
};

static void bad_case_apply(unsigned int i, struct cohbuf_stream_create_data *p, int ro, int efd)
{
	switch (i) {
	case 0:
		p->ring_length = 2 * RECORD;
		break;
	case 1:
		p->ring_length = RING_LENGTH - 4;
		break;
	case 2:
		p->ring_offset = RING_OFFSET + 4;
		break;
	case 3:
		p->ring_offset = BUF_SIZE - RING_LENGTH + 8;
		break;
	case 4:
		p->ring_offset = ~7ull;
		break;
	case 5:
		p->ring_flags = 2;
		break;
	case 6:
		p->ring_flags = COHBUF_STREAM_RING_OVERWRITE;
		break;
	case 7:
		p->watermark = RING_RECORDS + 1;
		break;
	case 8:
		p->pad = 1;
		break;
	case 9:
		p->pad2 = 1;
		break;
	case 10:
		p->mode = COHBUF_STREAM_MODE_QUEUE;
		break;
	case 11:
		*p = stream_params(BLOCK);
		p->ring_flags = COHBUF_STREAM_RING_OVERWRITE;
		break;
	case 12:
		p->ring_fd = efd;
		break;
	case 13:
		p->ring_fd = 999;
		break;
	default:
		p->ring_fd = ro;
		break;
	}
}

/* Every bad ring argument gets its documented errno, and nothing is left. */
TEST_F(ring, bad_input_gets_its_errno)
{
	struct cohbuf_stream_create_data p;
	struct cohbuf_stream_record rec;
	struct cohbuf_alloc_data ro;
	unsigned int i;
	int efd, s;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 64 * KIB, O_RDONLY | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, NULL, &ro));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		p = ring_params(self->buf, 0, RING_LENGTH);
		bad_case_apply(i, &p, ro.fd, efd);
		s = stream_create(self->imp, &p);
		EXPECT_EQ(bad_cases[i].err, s)
			TH_LOG("%s: %s", bad_cases[i].what, strerror(-s));
		if (s >= 0)
			close(s);
		EXPECT_EQ(0, stream_debugfs("streams"));
		EXPECT_EQ(0, stream_debugfs("stream_rings"));
		EXPECT_EQ(0, stream_debugfs("mappings"));
	}
	/* A VER0 caller cannot ask for a ring: it has no ring fields. */
	p = ring_params(self->buf, 0, RING_LENGTH);
	p.fd = 0;
	EXPECT_EQ(-1, ioctl(self->imp, STREAM_CREATE_VER0, &p));
	EXPECT_EQ(EINVAL, errno);

	/* A ring stream has no QUEUE, DEQUEUE or read(). */
	CREATE_STARTED();
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 0, RECORD, 0));
	EXPECT_EQ(-EINVAL, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(-1, read(self->s, &rec, sizeof(rec)));
	EXPECT_EQ(EINVAL, errno);
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
	close(efd);
	close(ro.fd);
	EXPECT_EQ(0, stream_debugfs("stream_rings"));
}

/* mmap() of the control pages: what it maps, what it refuses. */
TEST_F(ring, control_page_mmap_rules)
{
	struct cohbuf_stream_create_data q = stream_params(BLOCK);
	size_t pg = (size_t)self->page;
	void *m;
	int qs;

	CREATE_STARTED();
	m = mmap(NULL, 3 * pg, PROT_READ, MAP_SHARED, self->s, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->s, 2 * pg);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->s, pg);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EACCES, errno);
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->s, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EACCES, errno);
	m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, self->s, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);

	/* Both pages read-only: they are the ones the helpers mapped. */
	m = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, self->s, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, mprotect(m, 2 * pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_EQ(RECORD, ((const struct cohbuf_ring_producer *)((char *)m + pg))->head);
	self->ring.cons->tail = 8;
	EXPECT_EQ(8, ((const struct cohbuf_ring_consumer *)m)->tail);
	munmap(m, 2 * pg);

	/* A queue stream has nothing to map. */
	qs = stream_create(self->imp, &q);
	ASSERT_LE(0, qs);
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, qs, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(ENODEV, errno);
	close(qs);

	/* The pages outlive the fd while mapped. */
	close(self->s);
	EXPECT_EQ(1, stream_debugfs("stream_rings"));
	EXPECT_EQ(RECORD, self->ring.prod->head);
	cohbuf_stream_ring_unmap(&self->ring);
	EXPECT_EQ(0, stream_debugfs("stream_rings"));
}

/* The dma-buf must be idle at creation: the stream adds no fence of its own. */
TEST_F(ring, a_busy_dma_buf_is_refused_and_no_fence_is_added)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_FILL, .len = 4096,
	};
	__u32 handle;
	int s;

	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->buf, &handle, NULL));
	job.dst_handle = handle;
	imp_set_latency(&job, 500);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &job));
	s = stream_create(self->imp, &self->p);
	EXPECT_EQ(-EBUSY, s);
	if (s >= 0)
		close(s);
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, job.job_id, 10000 * MS, NULL, NULL));
	ASSERT_EQ(0, cohbuf_importer_release(self->imp, handle));

	CREATE_STARTED();
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	/* Idle for anyone who asks: poll() of the dma-buf for writing. */
	EXPECT_EQ(POLLOUT, stream_revents(self->buf, POLLOUT));
	cohbuf_stream_ring_unmap(&self->ring);
	close(self->s);
}

/* SIGKILL of a process mid-stream, with the ring mapped and the clock running. */
TEST_F(ring, sigkill_mid_stream_leaves_nothing)
{
	int sv[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(sv));
	pid = test_fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		self->p.clock = COHBUF_STREAM_CLOCK_HRTIMER;
		self->s = stream_create(self->imp, &self->p);
		if (self->s < 0 ||
		    cohbuf_stream_ring_map(self->s, self->map + RING_OFFSET, &self->ring) ||
		    stream_start(self->s))
			_exit(1);
		while (self->ring.prod->head < 2 * RING_LENGTH) {
			const struct cohbuf_ring_header *h;

			while (cohbuf_stream_ring_peek(&self->ring, &h) == 1)
				cohbuf_stream_ring_release(&self->ring);
			usleep(1000);
		}
		if (write(sv[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(1);
	}
	close(sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	close(sv[0]);
}

TEST_HARNESS_MAIN
