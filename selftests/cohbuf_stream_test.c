// SPDX-License-Identifier: GPL-2.0
/*
 * Streams of the importer (linux/cohbuf_stream.h), in queue mode: the
 * manual clock makes every count exact (steady state at the documented
 * minimum depth, starvation, the stop policy, sequence numbers across
 * 2^32), every sample of every record is checked against the reference
 * payload, implicit sync is checked with CHECKSUM jobs, fences with
 * sync_files, the lifetime with STOP, close and SIGKILL, the bound on
 * every fence (stream_timeout_ms) with a short timeout, bad input with
 * its documented errno, and a short run of the hrtimer clock balances its
 * counts. Output streams (the device reads and checks every sample) get
 * the same exact counts of underruns, a corrupted sample counted by the
 * device, and implicit sync with importer FILL and CHECKSUM jobs. Every
 * test ends with the importer's stream counters at zero.
 */

#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "stream_test.h"

#define BLOCK		256		/* frames */
#define NR_REGIONS	16
#define WAIT_NS		(10000 * MS)

FIXTURE(stream) {
	int dev, imp, s;
	struct cohbuf_stream_create_data p;
	__u64 block;			/* bytes */
	int buf;			/* NR_REGIONS blocks of cohbuf memory */
	size_t size;
	unsigned char *map;
};

FIXTURE_SETUP(stream)
{
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(errno));
	self->p = stream_params(BLOCK);
	self->block = stream_block_bytes(&self->p);
	self->size = 1 * MIB;	/* NR_REGIONS of the largest block used */
	self->buf = test_alloc(self->dev, self->size);
	ASSERT_LE(0, self->buf);
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->buf, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->s = -1;
}

/* In the test's fork parent, once its process and fds are gone. */
FIXTURE_TEARDOWN_PARENT(stream)
{
	EXPECT_EQ(0, stream_debugfs("streams"));
	EXPECT_EQ(0, stream_debugfs("stream_regions"));
	EXPECT_EQ(0, settings_pop_all());
}

/* In a test: create the fixture's stream with self->p, or fail. */
#define CREATE() do { \
	self->s = stream_create(self->imp, &self->p); \
	ASSERT_LE(0, self->s) TH_LOG("STREAM_CREATE: %s", strerror(-self->s)); \
} while (0)

/* Helpers take the fixture as the harness defines it: FIXTURE_DATA(stream). */

/* Region @i of the fixture's buffer. */
static int queue_region(struct _test_data_stream *self, unsigned int i)
{
	return stream_queue(self->s, self->buf, i * self->block, self->block, i);
}

/*
 * Take one record (waiting up to WAIT_NS), check its fields against the
 * stream's history in @next (the frame index that follows the previous
 * filled record, and the next sequence number) and every sample of it;
 * the cookie is the region's index. Returns the region index.
 */
struct expect {
	__u64 frame;		/* first frame of the next filled record, if no loss */
	__u64 sequence;
};

static unsigned int take_checked(struct __test_metadata *_metadata,
				 struct _test_data_stream *self, struct expect *next,
				 __u64 lost_before)
{
	struct cohbuf_stream_record rec;
	unsigned int i;
	int ret;

	ret = stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec);
	EXPECT_EQ(0, ret) TH_LOG("DEQUEUE: %s", strerror(-ret));
	if (ret)
		return 0;
	i = (unsigned int)rec.cookie;
	EXPECT_GT(NR_REGIONS, i);
	EXPECT_EQ(next->sequence, rec.sequence);
	EXPECT_EQ(next->frame + lost_before, rec.first_frame);
	EXPECT_EQ(lost_before, rec.lost_before);
	EXPECT_EQ(lost_before ? COHBUF_STREAM_REC_DISCONTINUITY : 0, rec.flags);
	EXPECT_EQ(0, rec.status);
	EXPECT_EQ(self->p.block_frames, rec.frames);
	EXPECT_EQ(rec.frames * stream_frame_bytes(&self->p), rec.bytes_used);
	EXPECT_LE(rec.first_ns, rec.last_ns);
	if (i < NR_REGIONS)
		EXPECT_EQ(-1, stream_verify(self->map + i * self->block, &rec,
					    self->p.channels, self->p.format, 0));
	next->sequence++;
	next->frame = rec.first_frame + rec.frames;
	return i;
}

/*
 * Region @i for the frames from @first on. An input stream's device fills
 * it; for an output stream the CPU first writes the payload of the frames
 * it is to play: region k queued after the first plays k blocks later,
 * plus any underrun between. The CPU writes a region only while user
 * space holds it, so it needs no DMA_BUF_IOCTL_SYNC, which would wait for
 * every region of the dma-buf.
 */
static int queue_for(struct _test_data_stream *self, unsigned int i, __u64 first)
{
	int ret = 0;

	if (self->p.direction == COHBUF_STREAM_DIR_OUTPUT)
		ret = cohbuf_stream_generate(self->map + i * self->block, first,
					     self->p.block_frames, self->p.channels,
					     self->p.format);
	return ret ?: queue_region(self, i);
}

/*
 * Steady state with the manual clock, in either direction: each ADVANCE
 * produces (or plays) A frames, and between two the consumer takes back
 * every completed block. The documented minimum depth for that is
 * 1 + ceil((A - 1) / B). Here A = B with the phase off by one frame, the
 * worst case: at the minimum (2) nothing is lost over @blocks blocks; one
 * region fewer loses (underruns) frames.
 */
static void minimum_depth_loses_nothing(struct __test_metadata *_metadata,
					struct _test_data_stream *self, unsigned int blocks)
{
	const unsigned int depth = 1 + (BLOCK - 1 + BLOCK - 1) / BLOCK;
	struct cohbuf_stream_stats_data st;
	struct expect next = { 0 };
	__u64 first = 0;	/* of the next region queued */
	unsigned int k, i;

	ASSERT_EQ(2u, depth);
	CREATE();
	for (i = 0; i < depth; i++, first += BLOCK)
		ASSERT_EQ(0, queue_for(self, i, first));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 1));
	for (k = 0; k < blocks; k++, first += BLOCK) {
		ASSERT_EQ(0, stream_advance(self->s, BLOCK));
		i = take_checked(_metadata, self, &next, 0);
		ASSERT_EQ(0, queue_for(self, i, first));
		ASSERT_EQ(0, stream_stats(self->s, &st));
		ASSERT_EQ(0, st.lost);
	}
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(1 + (__u64)blocks * BLOCK, st.produced);
	EXPECT_EQ((__u64)blocks * BLOCK, st.delivered);
	EXPECT_EQ(1, st.in_flight);
	EXPECT_EQ(0, st.overruns);
	EXPECT_EQ(0, st.mismatched);
	EXPECT_EQ(depth, st.queued);

	/* The same with one region fewer. */
	close(self->s);
	CREATE();
	ASSERT_EQ(0, queue_for(self, 0, 0));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 1));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(1, st.lost);
	EXPECT_EQ(1, st.overruns);
	close(self->s);
}

/*
 * Starve the device of @k blocks, in either direction: exactly k blocks'
 * frames are lost (underrun), the next record says so and its first frame
 * jumps by exactly that; EPOLLPRI from the overrun until that record is
 * taken. Leaves the stream running with regions 0-2 taken back.
 */
static void starve_k_blocks(struct __test_metadata *_metadata,
			    struct _test_data_stream *self, struct expect *next,
			    unsigned int k)
{
	struct cohbuf_stream_stats_data st;

	CREATE();
	ASSERT_EQ(0, queue_for(self, 0, 0));
	ASSERT_EQ(0, queue_for(self, 1, BLOCK));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	EXPECT_EQ(0, stream_revents(self->s, POLLPRI));
	take_checked(_metadata, self, next, 0);
	take_checked(_metadata, self, next, 0);

	ASSERT_EQ(0, stream_advance(self->s, k * BLOCK));
	EXPECT_EQ(POLLPRI, stream_revents(self->s, POLLPRI));
	ASSERT_EQ(0, queue_for(self, 2, (2 + k) * BLOCK));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	take_checked(_metadata, self, next, k * BLOCK);
	EXPECT_EQ(0, stream_revents(self->s, POLLPRI));

	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ((3 + k) * BLOCK, st.produced);
	EXPECT_EQ(3 * BLOCK, st.delivered);
	EXPECT_EQ(k * BLOCK, st.lost);
	EXPECT_EQ(1, st.overruns);
	EXPECT_EQ(3, st.records);
	EXPECT_EQ(0, st.mismatched);
}

/*
 * The STOP policy, in either direction: the stream stops before the first
 * frame it has no region for, loses nothing, reports EPOLLERR, refuses
 * ADVANCE and has nothing more to say until START, which resumes with the
 * next frame.
 */
static void stop_policy_stops_without_room(struct __test_metadata *_metadata,
					   struct _test_data_stream *self)
{
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct expect next = { 0 };
	char buf[sizeof(rec)];

	self->p.overrun = COHBUF_STREAM_OVERRUN_STOP;
	CREATE();
	ASSERT_EQ(0, queue_for(self, 0, 0));
	ASSERT_EQ(0, queue_for(self, 1, BLOCK));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 3 * BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(COHBUF_STREAM_STATE_OVERRUN, st.state);
	EXPECT_EQ(2 * BLOCK, st.produced);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(1, st.overruns);
	EXPECT_EQ(POLLIN | POLLERR, stream_revents(self->s, POLLIN | POLLPRI));
	EXPECT_EQ(-EPIPE, stream_advance(self->s, 1));
	take_checked(_metadata, self, &next, 0);
	take_checked(_metadata, self, &next, 0);
	EXPECT_EQ(-ENODATA, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(0, read(self->s, buf, sizeof(buf)));

	ASSERT_EQ(0, queue_for(self, 2, 2 * BLOCK));
	ASSERT_EQ(0, stream_start(self->s));
	EXPECT_EQ(0, stream_revents(self->s, POLLIN));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	take_checked(_metadata, self, &next, 0);
	close(self->s);
}

TEST_F(stream, steady_state_at_minimum_depth_loses_nothing)
{
	minimum_depth_loses_nothing(_metadata, self, 64);
}

TEST_F(stream, starving_k_blocks_loses_exactly_k_blocks)
{
	const unsigned int k = 5;
	struct cohbuf_stream_stats_data st;
	struct expect next = { 0 };

	starve_k_blocks(_metadata, self, &next, k);

	/* Another run of loss is another overrun; STATS acknowledges it. */
	ASSERT_EQ(0, stream_advance(self->s, 3));
	ASSERT_EQ(0, queue_region(self, 3));
	ASSERT_EQ(0, queue_region(self, 4));
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	EXPECT_EQ(POLLPRI, stream_revents(self->s, POLLPRI));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(2, st.overruns);
	EXPECT_EQ(k * BLOCK + 3, st.lost);
	EXPECT_EQ(0, stream_revents(self->s, POLLPRI));
	take_checked(_metadata, self, &next, 3);
	take_checked(_metadata, self, &next, 0);
	close(self->s);
}

TEST_F(stream, stop_policy_stops_before_the_first_frame_without_room)
{
	stop_policy_stops_without_room(_metadata, self);
}

/* Sequence numbers are 64-bit: they cross 2^32 without wrapping. */
TEST_F(stream, sequence_numbers_cross_the_32_bit_wrap)
{
	struct expect next = { .sequence = (1ULL << 32) - 3 };
	unsigned int i, k;

	self->p.first_sequence = next.sequence;
	CREATE();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, queue_region(self, i));
	ASSERT_EQ(0, stream_start(self->s));
	for (k = 0; k < 8; k++) {
		ASSERT_EQ(0, stream_advance(self->s, BLOCK));
		i = take_checked(_metadata, self, &next, 0);
		ASSERT_EQ(0, queue_region(self, i));
	}
	EXPECT_EQ((1ULL << 32) + 5, next.sequence);
	close(self->s);
}

/*
 * Every format and channel count: each sample as the payload function
 * says, and a consumer that forgets ADC12's shift sees wrong values.
 */
TEST_F(stream, every_sample_matches_the_payload_function)
{
	static const __u32 formats[] = {
		COHBUF_STREAM_FMT_ADC12, COHBUF_STREAM_FMT_S16, COHBUF_STREAM_FMT_S32,
	};
	static const __u32 channels[] = { 1, 3, 16 };
	struct cohbuf_stream_stats_data st;
	unsigned int f, c, i, k;

	for (f = 0; f < 3; f++) {
		for (c = 0; c < 3; c++) {
			struct expect next = { 0 };

			self->p = stream_params(BLOCK / 4);
			self->p.format = formats[f];
			self->p.channels = channels[c];
			self->block = stream_block_bytes(&self->p);
			ASSERT_GE(self->size, NR_REGIONS * self->block);
			CREATE();
			for (i = 0; i < NR_REGIONS; i++)
				ASSERT_EQ(0, queue_region(self, i));
			ASSERT_EQ(0, stream_start(self->s));
			/* Odd steps: blocks filled across several ADVANCEs. */
			for (k = 0; k < NR_REGIONS * 2; k++)
				ASSERT_EQ(0, stream_advance(self->s, BLOCK / 8));
			for (k = 0; k < NR_REGIONS; k++)
				take_checked(_metadata, self, &next, 0);
			EXPECT_BALANCED(self->s, &st);
			EXPECT_EQ(0, st.lost);
			close(self->s);
		}
	}
}

TEST_F(stream, forgetting_the_adc12_shift_fails_verification)
{
	struct cohbuf_stream_record rec;

	CREATE();
	ASSERT_EQ(0, queue_region(self, 0));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(-1, stream_verify(self->map, &rec, self->p.channels, self->p.format, 0));
	EXPECT_LE(0, stream_verify(self->map, &rec, self->p.channels, self->p.format, 1));
	close(self->s);
}

/* sync_file status: 1 signalled, 0 pending, or the fence's error. */
static int sync_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -1000 - errno;
	return info.status;
}

static int queue_with_out_fence(struct _test_data_stream *self, unsigned int i, int *out)
{
	struct cohbuf_stream_queue_data d = {
		.dmabuf_fd = self->buf, .flags = COHBUF_STREAM_QUEUE_OUT_FENCE,
		.offset = i * self->block, .length = self->block, .cookie = i,
	};
	int ret = stream_queue_full(self->s, &d);

	*out = ret ? -1 : d.out_fence_fd;
	return ret;
}

/*
 * Implicit sync: a CHECKSUM job submitted on each queued region waits for
 * the stream's write fence, so it sums what the device wrote, which the
 * CPU sums too. Each region has its own dma-buf, as reservation objects
 * are per dma-buf.
 */
TEST_F(stream, checksum_jobs_wait_for_the_stream_and_match_the_cpu)
{
	enum { N = 4 };
	struct cohbuf_imp_submit_data job[N];
	unsigned char *map[N];
	__u32 handle[N], csum;
	int buf[N], status;
	struct cohbuf_stream_record rec;
	unsigned int i;

	CREATE();
	for (i = 0; i < N; i++) {
		buf[i] = test_alloc(self->dev, self->block);
		ASSERT_LE(0, buf[i]);
		map[i] = mmap(NULL, self->block, PROT_READ, MAP_SHARED, buf[i], 0);
		ASSERT_NE(MAP_FAILED, map[i]);
		ASSERT_EQ(0, stream_queue(self->s, buf[i], 0, self->block, i));
		ASSERT_EQ(0, cohbuf_importer_import(self->imp, buf[i], &handle[i], NULL));
		job[i] = imp_checksum(handle[i], 0, self->block);
		ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &job[i]));
		/* The dma-buf is busy: the device has not written it yet. */
		EXPECT_FALSE(fd_ready(buf[i], POLLIN));
	}
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, job[0].job_id, 0, NULL, NULL));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, N * BLOCK));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
		ASSERT_EQ(i, rec.cookie);
		EXPECT_EQ(-1, stream_verify(map[i], &rec, self->p.channels, self->p.format, 0));
		status = -1;
		ASSERT_EQ(0, cohbuf_importer_wait(self->imp, job[i].job_id, WAIT_NS,
						  &status, &csum));
		EXPECT_EQ(0, status);
		EXPECT_EQ(test_crc32(map[i], self->block), csum);
		EXPECT_TRUE(fd_ready(buf[i], POLLIN));
		munmap(map[i], self->block);
		close(buf[i]);
	}
	close(self->s);
}

/*
 * Out-fences signal when their region completes; an in-fence that has not
 * signalled keeps the device off its region (the frames meanwhile are
 * lost, never written there), and once it has, the region is filled.
 */
TEST_F(stream, out_fences_signal_and_in_fences_hold_the_region)
{
	struct cohbuf_imp_submit_data fill = imp_fill(0, 0, 4096, 0);
	struct cohbuf_stream_queue_data d = {
		.dmabuf_fd = self->buf, .flags = COHBUF_STREAM_QUEUE_IN_FENCE,
		.offset = self->block, .length = self->block, .cookie = 1,
	};
	struct cohbuf_stream_stats_data st;
	struct expect next = { 0 };
	int out, other;
	__u32 h;

	CREATE();
	ASSERT_EQ(0, queue_with_out_fence(self, 0, &out));
	EXPECT_EQ(0, sync_status(out));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK - 1));
	EXPECT_EQ(0, sync_status(out));
	ASSERT_EQ(0, stream_advance(self->s, 1));
	EXPECT_EQ(1, sync_status(out));
	take_checked(_metadata, self, &next, 0);
	close(out);

	/* The in-fence: a 1 s FILL job on another buffer. */
	other = test_alloc(self->dev, 4096);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, other, &h, NULL));
	fill.dst_handle = h;
	fill.flags = COHBUF_IMP_SUBMIT_OUT_FENCE;
	imp_set_latency(&fill, 1000);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &fill));
	d.in_fence_fd = fill.out_fence_fd;
	memset(self->map + self->block, 0xa5, self->block);
	ASSERT_EQ(0, stream_queue_full(self->s, &d));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(BLOCK, st.lost);
	EXPECT_TRUE(all_bytes(self->map + self->block, self->block, 0xa5));
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, fill.job_id, WAIT_NS, NULL, NULL));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	take_checked(_metadata, self, &next, BLOCK);
	close(fill.out_fence_fd);
	close(other);
	close(self->s);
}

/*
 * STOP completes the region being filled with what it has and gives the
 * others back unfilled, their fences signalled with -ECANCELED; START
 * then resumes at the next frame.
 */
TEST_F(stream, stop_completes_the_partial_block_and_cancels_the_rest)
{
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct expect next = { 0 };
	int out[3];
	unsigned int i;

	CREATE();
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, queue_with_out_fence(self, i, &out[i]));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK / 2));
	ASSERT_EQ(0, stream_stop(self->s));
	EXPECT_EQ(1, sync_status(out[0]));
	EXPECT_EQ(-ECANCELED, sync_status(out[1]));
	EXPECT_EQ(-ECANCELED, sync_status(out[2]));
	EXPECT_EQ(POLLIN, stream_revents(self->s, POLLIN | POLLPRI));

	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(0, rec.cookie);
	EXPECT_EQ(BLOCK / 2, rec.frames);
	EXPECT_EQ(0, rec.flags);
	EXPECT_EQ(-1, stream_verify(self->map, &rec, self->p.channels, self->p.format, 0));
	for (i = 1; i < 3; i++) {
		ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
		EXPECT_EQ(i, rec.cookie);
		EXPECT_EQ(i, rec.sequence);
		EXPECT_EQ(COHBUF_STREAM_REC_ERROR, rec.flags);
		EXPECT_EQ(-ECANCELED, rec.status);
		EXPECT_EQ(0, rec.frames);
		EXPECT_EQ(BLOCK / 2, rec.first_frame);
		close(out[i]);
	}
	close(out[0]);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(COHBUF_STREAM_STATE_STOPPED, st.state);
	EXPECT_EQ(-ENODATA, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(0, stream_stop(self->s));

	next.frame = BLOCK / 2;
	next.sequence = 3;
	ASSERT_EQ(0, queue_region(self, 3));
	ASSERT_EQ(0, stream_start(self->s));
	EXPECT_EQ(-EBUSY, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	take_checked(_metadata, self, &next, 0);
	close(self->s);
}

/*
 * Wait up to WAIT_NS for the sync_file @fd to signal: the CLOCK_MONOTONIC
 * time it was seen signalled, or 0 if it did not.
 */
static __u64 fence_signalled_ns(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, WAIT_NS / MS) != 1)
		return 0;
	return monotonic_ns();
}

#define SHORT_TIMEOUT_MS	600

/*
 * Bounded time: with stream_timeout_ms short, a region queued on a stopped
 * stream, and one on a manual-clock stream after a partial ADVANCE, are
 * given back at their deadline with -ETIMEDOUT, the second with its
 * frames; the region queued after it keeps its own deadline, and the
 * counts balance. A region's fence signals just before its record can be
 * dequeued, so each DEQUEUE after a fence wait waits for the record too.
 */
TEST_F(stream, held_regions_time_out_at_their_own_deadline)
{
	const __u64 timeout = SHORT_TIMEOUT_MS * MS;
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct expect next = { 0 };
	__u64 queued[3], seen;
	int out[3];
	unsigned int i;

	ASSERT_EQ(0, setting_push_number(IMPORTER_PARAM("stream_timeout_ms"),
					 SHORT_TIMEOUT_MS));
	CREATE();

	/* Stopped: nothing would ever complete region 0 but its deadline. */
	queued[0] = monotonic_ns();
	ASSERT_EQ(0, queue_with_out_fence(self, 0, &out[0]));
	EXPECT_EQ(0, sync_status(out[0]));
	seen = fence_signalled_ns(out[0]);
	ASSERT_NE(0, seen) TH_LOG("region 0 not given back within %llu ms",
				  (unsigned long long)(WAIT_NS / MS));
	EXPECT_LE(queued[0] + timeout, seen);
	EXPECT_EQ(-ETIMEDOUT, sync_status(out[0]));
	ASSERT_EQ(0, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(0, rec.cookie);
	EXPECT_EQ(0, rec.sequence);
	EXPECT_EQ(COHBUF_STREAM_REC_ERROR, rec.flags);
	EXPECT_EQ(-ETIMEDOUT, rec.status);
	EXPECT_EQ(0, rec.frames);
	EXPECT_EQ(0, rec.first_frame);

	/* Manual clock, half a block written into region 1, then nothing. */
	ASSERT_EQ(0, stream_start(self->s));
	queued[1] = monotonic_ns();
	ASSERT_EQ(0, queue_with_out_fence(self, 1, &out[1]));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK / 2));
	usleep(SHORT_TIMEOUT_MS / 2 * 1000);
	queued[2] = monotonic_ns();
	ASSERT_EQ(0, queue_with_out_fence(self, 2, &out[2]));
	seen = fence_signalled_ns(out[1]);
	ASSERT_NE(0, seen);
	EXPECT_LE(queued[1] + timeout, seen);
	EXPECT_EQ(-ETIMEDOUT, sync_status(out[1]));
	/* Region 2 is not given back with region 1, but at its own deadline. */
	EXPECT_EQ(0, sync_status(out[2]));
	ASSERT_EQ(0, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(1, rec.cookie);
	EXPECT_EQ(1, rec.sequence);
	EXPECT_EQ(COHBUF_STREAM_REC_ERROR, rec.flags);
	EXPECT_EQ(-ETIMEDOUT, rec.status);
	EXPECT_EQ(BLOCK / 2, rec.frames);
	EXPECT_EQ(0, rec.first_frame);
	EXPECT_EQ(-1, stream_verify(self->map + self->block, &rec,
				    self->p.channels, self->p.format, 0));
	seen = fence_signalled_ns(out[2]);
	ASSERT_NE(0, seen);
	EXPECT_LE(queued[2] + timeout, seen);
	EXPECT_EQ(-ETIMEDOUT, sync_status(out[2]));
	ASSERT_EQ(0, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec));
	EXPECT_EQ(2, rec.cookie);
	EXPECT_EQ(-ETIMEDOUT, rec.status);
	EXPECT_EQ(0, rec.frames);
	EXPECT_EQ(BLOCK / 2, rec.first_frame);

	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(BLOCK / 2, st.delivered);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(3, st.records);
	EXPECT_EQ(3, st.timeouts);
	EXPECT_EQ(COHBUF_STREAM_STATE_RUNNING, st.state);

	/* The stream goes on: a region filled in time is no timeout. */
	next.frame = BLOCK / 2;
	next.sequence = 3;
	ASSERT_EQ(0, queue_region(self, 3));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	take_checked(_metadata, self, &next, 0);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(3, st.timeouts);
	for (i = 0; i < 3; i++)
		close(out[i]);
	close(self->s);
}

/* Closing a stream mid-block signals every fence it published. */
TEST_F(stream, close_mid_stream_signals_every_fence)
{
	int out[4];
	unsigned int i;

	CREATE();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, queue_with_out_fence(self, i, &out[i]));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK + 7));
	EXPECT_EQ(1, sync_status(out[0]));
	EXPECT_EQ(0, sync_status(out[1]));
	EXPECT_EQ(1, stream_debugfs("streams"));
	EXPECT_EQ(4, stream_debugfs("stream_regions"));
	close(self->s);
	EXPECT_EQ(1, sync_status(out[1]));
	EXPECT_EQ(-ECANCELED, sync_status(out[2]));
	EXPECT_EQ(-ECANCELED, sync_status(out[3]));
	EXPECT_EQ(0, stream_debugfs("streams"));
	EXPECT_EQ(0, stream_debugfs("stream_regions"));
	for (i = 0; i < 4; i++)
		close(out[i]);
}

/*
 * A process killed mid-stream (hrtimer clock, running): its stream goes
 * with it and every fence it published signals.
 */
TEST_F(stream, sigkill_mid_stream_signals_every_fence)
{
	enum { N = 4 };
	int sv[2], out[N], status;
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		self->p.clock = COHBUF_STREAM_CLOCK_HRTIMER;
		self->p.rate_hz = 1000;		/* a block every 256 ms */
		self->s = stream_create(self->imp, &self->p);
		if (self->s < 0)
			_exit(1);
		for (i = 0; i < N; i++)
			if (queue_with_out_fence(self, i, &out[i]) ||
			    cohbuf_fd_send(sv[1], out[i]))
				_exit(2);
		if (stream_start(self->s))
			_exit(3);
		pause();
		_exit(4);
	}
	close(sv[1]);
	for (i = 0; i < N; i++) {
		out[i] = cohbuf_fd_recv(sv[0]);
		ASSERT_LE(0, out[i]);
	}
	close(sv[0]);
	EXPECT_EQ(0, sync_status(out[N - 1]));
	usleep(100 * 1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	/* The first may have been partly filled; the last was not reached. */
	for (i = 0; i < N; i++) {
		status = sync_status(out[i]);
		EXPECT_TRUE(status == 1 || status == -ECANCELED) TH_LOG("fence %u: %d", i, status);
	}
	EXPECT_EQ(-ECANCELED, sync_status(out[N - 1]));
	for (i = 0; i < N; i++)
		close(out[i]);
	EXPECT_EQ(0, stream_debugfs("streams"));
	EXPECT_EQ(0, stream_debugfs("stream_regions"));
	EXPECT_EQ(0, settings_pop_all());
}

/*
 * exec() mid-stream: the fd is close-on-exec, so the stream ends with the
 * old program and its fences signal while the process lives on.
 */
TEST_F(stream, exec_mid_stream_signals_every_fence)
{
	struct pollfd p = { .events = POLLIN };
	int sv[2], out, status;
	pid_t pid;

	if (access("/bin/sleep", X_OK))
		SKIP(return, "no /bin/sleep to exec");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		self->s = stream_create(self->imp, &self->p);
		if (self->s < 0 || queue_with_out_fence(self, 0, &out) ||
		    stream_start(self->s) || stream_advance(self->s, BLOCK / 2) ||
		    cohbuf_fd_send(sv[1], out))
			_exit(2);
		close(out);
		execl("/bin/sleep", "sleep", "20", (char *)NULL);
		_exit(3);
	}
	close(sv[1]);
	out = cohbuf_fd_recv(sv[0]);
	ASSERT_LE(0, out);
	close(sv[0]);
	p.fd = out;
	EXPECT_EQ(1, poll(&p, 1, 10000));
	EXPECT_EQ(1, sync_status(out));		/* the partial block completed */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));	/* still running: sleep */
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(out);
}

/* The fd is close-on-exec, and holds the module. */
TEST_F(stream, fd_is_cloexec_and_holds_the_module)
{
	CREATE();
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->s, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(self->s, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, fcntl(self->s, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(-1, lseek(self->s, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	close(self->imp);
	self->imp = -1;
	EXPECT_EQ(-1, test_unload_module("cohbuf_importer"));
	EXPECT_TRUE(test_module_loaded("cohbuf_importer"));
	close(self->s);
}

/* read() returns whole records, as many as fit; poll() the watermark. */
TEST_F(stream, read_returns_whole_records_and_poll_the_watermark)
{
	struct cohbuf_stream_record rec[4], more[4];
	unsigned int i;

	self->p.watermark = 3;
	self->p.fd_flags = O_NONBLOCK;
	CREATE();
	EXPECT_EQ(O_NONBLOCK, fcntl(self->s, F_GETFL) & O_NONBLOCK);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, queue_region(self, i));
	ASSERT_EQ(0, stream_start(self->s));
	EXPECT_EQ(-1, read(self->s, rec, sizeof(rec)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-EAGAIN, stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec[0]));
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	EXPECT_EQ(0, stream_revents(self->s, POLLIN));
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	EXPECT_EQ(POLLIN, stream_revents(self->s, POLLIN));
	EXPECT_EQ(-1, read(self->s, rec, sizeof(rec[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(3 * (ssize_t)sizeof(rec[0]), read(self->s, rec, sizeof(rec) - 1));
	EXPECT_EQ((ssize_t)sizeof(rec[0]), read(self->s, more, sizeof(more)));
	rec[3] = more[0];
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i, rec[i].cookie);
		EXPECT_EQ(i, rec[i].sequence);
		EXPECT_EQ(i * BLOCK, rec[i].first_frame);
		EXPECT_EQ(-1, stream_verify(self->map + i * self->block, &rec[i],
					    self->p.channels, self->p.format, 0));
	}
	EXPECT_EQ(0, stream_revents(self->s, POLLIN));
	close(self->s);
}

/* A DEQUEUE deadline is absolute and honoured; a waiting DEQUEUE wakes for a record. */
TEST_F(stream, dequeue_waits_until_its_deadline)
{
	struct cohbuf_stream_record rec;
	int status;
	pid_t pid;
	__u64 t0;

	CREATE();
	EXPECT_EQ(-ENODATA, stream_dequeue(self->s, 0, &rec));
	ASSERT_EQ(0, stream_start(self->s));
	EXPECT_EQ(-ETIME, stream_dequeue(self->s, 0, &rec));
	t0 = monotonic_ns();
	EXPECT_EQ(-ETIME, stream_dequeue(self->s, t0 + 50 * MS, &rec));
	EXPECT_LE(t0 + 50 * MS, monotonic_ns());

	/* One far beyond what ktime_t holds waits until a record comes. */
	ASSERT_EQ(0, queue_region(self, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(100 * 1000);
		_exit(stream_advance(self->s, BLOCK) ? 1 : 0);
	}
	EXPECT_EQ(0, stream_dequeue(self->s, ~0ULL - 1, &rec));
	EXPECT_EQ(BLOCK, rec.frames);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(self->s);
}

/* Bad parameters of STREAM_CREATE, each with its documented errno. */
TEST_F(stream, create_refuses_bad_parameters)
{
	struct cohbuf_stream_create_data p;
	struct {
		struct cohbuf_stream_create_data d;
		__u64 extra;
	} big;

#define BAD_CREATE(err, field, value) do { \
		p = stream_params(BLOCK); \
		p.field = value; \
		EXPECT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_STREAM_CREATE, &p)); \
		EXPECT_EQ(err, errno) TH_LOG(#field " = " #value); \
	} while (0)
	BAD_CREATE(EINVAL, flags, 1);
	BAD_CREATE(EINVAL, fd_flags, O_APPEND);
	BAD_CREATE(EINVAL, direction, 2);
	BAD_CREATE(EINVAL, mode, 2);
	BAD_CREATE(EINVAL, mode, COHBUF_STREAM_MODE_RING);	/* no data area */
	BAD_CREATE(EINVAL, format, 0);
	BAD_CREATE(EINVAL, format, 4);
	BAD_CREATE(EINVAL, channels, 0);
	BAD_CREATE(EINVAL, channels, COHBUF_STREAM_MAX_CHANNELS + 1);
	BAD_CREATE(EINVAL, rate_hz, 0);
	BAD_CREATE(EINVAL, rate_hz, COHBUF_STREAM_MAX_RATE_HZ + 1);
	BAD_CREATE(EINVAL, rate_hz, 0xffffffff);
	BAD_CREATE(EINVAL, block_frames, 0);
	BAD_CREATE(EINVAL, block_frames, COHBUF_STREAM_MAX_BLOCK_BYTES / 8 + 1);
	BAD_CREATE(EINVAL, clock, 0);
	BAD_CREATE(EINVAL, clock, 3);
	BAD_CREATE(EINVAL, overrun, 0);
	BAD_CREATE(EINVAL, overrun, 3);
	BAD_CREATE(EINVAL, watermark, 0);
	BAD_CREATE(EINVAL, watermark, COHBUF_STREAM_MAX_WATERMARK + 1);
	BAD_CREATE(EINVAL, pad, 1);
	BAD_CREATE(EINVAL, pad2, 1);
	BAD_CREATE(EINVAL, fd, 3);
#undef BAD_CREATE
	/* The largest block is accepted. */
	p = stream_params(COHBUF_STREAM_MAX_BLOCK_BYTES / 8);
	self->s = stream_create(self->imp, &p);
	EXPECT_LE(0, self->s);
	close(self->s);

	/* A newer program's longer structure: only zeroes beyond ours. */
	memset(&big, 0, sizeof(big));
	big.d = stream_params(BLOCK);
	big.extra = 1;
	EXPECT_EQ(-1, ioctl(self->imp, _IOWR(COHBUF_IOC_MAGIC, 0x15, big), &big));
	EXPECT_EQ(EINVAL, errno);
	big.extra = 0;
	EXPECT_EQ(0, ioctl(self->imp, _IOWR(COHBUF_IOC_MAGIC, 0x15, big), &big));
	EXPECT_LT(0, big.d.fd);
	close(big.d.fd);
}

/* Bad QUEUE arguments, each with its documented errno, changing nothing. */
TEST_F(stream, queue_refuses_bad_regions)
{
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_queue_data d;
	struct cohbuf_alloc_data ro;
	__u32 frame = stream_frame_bytes(&self->p);
	int efd = eventfd(0, EFD_CLOEXEC);
	unsigned int i;

	ASSERT_LE(0, efd);
	CREATE();
	EXPECT_EQ(-EBADF, stream_queue(self->s, 1000, 0, self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, efd, 0, self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, frame / 2, self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 0, self->block + 2, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 0, self->block - frame, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, self->size - self->block + frame,
					self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, -(__u64)frame * 8, self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 0, -(__u64)frame * 8, 0));

	memset(&d, 0, sizeof(d));
	d.dmabuf_fd = self->buf;
	d.length = self->block;
	d.flags = 4;
	EXPECT_EQ(-EINVAL, stream_queue_full(self->s, &d));
	d.flags = 0;
	d.in_fence_fd = efd;
	EXPECT_EQ(-EINVAL, stream_queue_full(self->s, &d));
	d.flags = COHBUF_STREAM_QUEUE_IN_FENCE;
	EXPECT_EQ(-EINVAL, stream_queue_full(self->s, &d));

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 64 * KIB, O_RDONLY | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, NULL, &ro));
	EXPECT_EQ(-EACCES, stream_queue(self->s, ro.fd, 0, self->block, 0));
	close(ro.fd);

	/* Overlap with a region the stream holds: EBUSY, not after. */
	ASSERT_EQ(0, stream_queue(self->s, self->buf, self->block, 2 * self->block, 1));
	EXPECT_EQ(-EBUSY, stream_queue(self->s, self->buf, self->block, self->block, 2));
	EXPECT_EQ(-EBUSY, stream_queue(self->s, self->buf, 0, 2 * self->block, 2));
	EXPECT_EQ(-EBUSY, stream_queue(self->s, self->buf, 2 * self->block, self->block, 2));
	EXPECT_EQ(0, stream_queue(self->s, self->buf, 0, self->block, 3));
	EXPECT_EQ(0, stream_queue(self->s, self->buf, 3 * self->block, self->block, 4));
	ASSERT_EQ(0, stream_stats(self->s, &st));
	EXPECT_EQ(3, st.queued);
	EXPECT_EQ(3, stream_debugfs("stream_regions"));

	/* Once the device gave it back, the region can be queued again. */
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_EQ(-EBUSY, stream_queue(self->s, self->buf, 0, self->block, 5));
	ASSERT_EQ(0, stream_stop(self->s));
	EXPECT_EQ(0, stream_queue(self->s, self->buf, self->block, self->block, 5));
	close(self->s);
	close(efd);

	/* ENOSPC at COHBUF_STREAM_MAX_REGIONS, queued or awaiting DEQUEUE. */
	self->p = stream_params(1);
	CREATE();
	for (i = 0; i < COHBUF_STREAM_MAX_REGIONS; i++)
		ASSERT_EQ(0, stream_queue(self->s, self->buf, i * 8, 8, i));
	EXPECT_EQ(-ENOSPC, stream_queue(self->s, self->buf, i * 8, 8, i));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 1));
	EXPECT_EQ(-ENOSPC, stream_queue(self->s, self->buf, i * 8, 8, i));
	close(self->s);
}

/* The dma-buf may be closed while queued: the stream holds its own. */
TEST_F(stream, a_region_outlives_the_closed_dma_buf_fd)
{
	struct cohbuf_stream_record rec;

	CREATE();
	ASSERT_EQ(0, queue_region(self, 0));
	close(self->buf);
	self->buf = -1;
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(-1, stream_verify(self->map, &rec, self->p.channels, self->p.format, 0));
	close(self->s);
}

/* The other stream ioctls' bad arguments, and ioctls on the wrong fd. */
TEST_F(stream, other_ioctls_refuse_bad_arguments)
{
	struct cohbuf_stream_dequeue_data dq = { 0 };
	struct cohbuf_stream_start_data sd = { .pad = 1 };
	struct cohbuf_stream_advance_data ad = { .frames = 1, .flags = 1 };
	struct cohbuf_stream_stats_data st = { .flags = 1 };
	struct cohbuf_imp_wait_data w = { 0 };
	int hr;

	CREATE();
	EXPECT_EQ(-EPIPE, stream_advance(self->s, 1));
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_START, &sd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_STOP, &sd));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, stream_start(self->s));
	EXPECT_EQ(-EINVAL, stream_advance(self->s, 0));
	EXPECT_EQ(-EINVAL, stream_advance(self->s, COHBUF_STREAM_MAX_ADVANCE + 1ULL));
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_ADVANCE, &ad));
	EXPECT_EQ(EINVAL, errno);
	ad.flags = 0;
	ad.pad = 1;
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_ADVANCE, &ad));
	EXPECT_EQ(EINVAL, errno);
	dq.flags = 1;
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_DEQUEUE, &dq));
	EXPECT_EQ(EINVAL, errno);
	dq.flags = 0;
	dq.pad = 1;
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_DEQUEUE, &dq));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_STREAM_IOCTL_STATS, &st));
	EXPECT_EQ(EINVAL, errno);

	/* Each fd's ioctls are its own. */
	EXPECT_EQ(-1, ioctl(self->s, COHBUF_IMP_IOCTL_WAIT, &w));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->imp, COHBUF_STREAM_IOCTL_STATS, &st));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->s, _IOW(COHBUF_IOC_MAGIC, 0x1b,
					  struct cohbuf_stream_stats_data), &st));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, write(self->s, &st, sizeof(st)));
	EXPECT_EQ(EINVAL, errno);

	/* ADVANCE belongs to the manual clock. */
	self->p.clock = COHBUF_STREAM_CLOCK_HRTIMER;
	hr = stream_create(self->imp, &self->p);
	ASSERT_LE(0, hr);
	EXPECT_EQ(-EINVAL, stream_advance(hr, 1));
	close(hr);
	close(self->s);
}

/* Output streams: the device reads and checks every sample it plays. */
TEST_F(stream, output_steady_state_at_minimum_depth_underruns_nothing)
{
	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	minimum_depth_loses_nothing(_metadata, self, 32);
}

/*
 * A region written for the frames it would have played without an
 * underrun is read as wrong, sample by sample, exactly as the CPU counts
 * it.
 */
TEST_F(stream, output_starving_k_blocks_underruns_exactly_k_blocks)
{
	const unsigned int k = 5;
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct expect next = { 0 };

	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	starve_k_blocks(_metadata, self, &next, k);

	/* Three frames underrun; the region was written as if none had. */
	ASSERT_EQ(0, stream_advance(self->s, 3));
	ASSERT_EQ(0, queue_for(self, 3, (3 + k) * BLOCK));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ((3 + k) * BLOCK + 3, rec.first_frame);
	EXPECT_EQ(3, rec.lost_before);
	EXPECT_EQ(COHBUF_STREAM_REC_DISCONTINUITY | COHBUF_STREAM_REC_MISMATCH, rec.flags);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_LT(0, st.mismatched);
	EXPECT_EQ(stream_mismatches(self->map + 3 * self->block, &rec, self->p.channels,
				    self->p.format), st.mismatched);
	close(self->s);
}

TEST_F(stream, output_stop_policy_stops_at_the_first_underrun)
{
	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	stop_policy_stops_without_room(_metadata, self);
}

/*
 * The device checks every sample it reads: one noise bit and one value
 * bit flipped in a region are two mismatched samples, in that region's
 * record only.
 */
TEST_F(stream, output_device_counts_every_corrupted_sample)
{
	const __u32 samples = BLOCK * self->p.channels;
	unsigned char *r1 = self->map + self->block;
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct expect next = { 0 };

	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	CREATE();
	ASSERT_EQ(0, queue_for(self, 0, 0));
	ASSERT_EQ(0, cohbuf_stream_generate(r1, BLOCK, BLOCK, self->p.channels, self->p.format));
	r1[2 * 5] ^= 0x01;			/* sample 5: a noise bit */
	r1[2 * (samples - 1) + 1] ^= 0x80;	/* the last sample: the sign */
	ASSERT_EQ(0, queue_region(self, 1));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 2 * BLOCK));
	take_checked(_metadata, self, &next, 0);
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(1, rec.cookie);
	EXPECT_EQ(BLOCK, rec.first_frame);
	EXPECT_EQ(BLOCK, rec.frames);
	EXPECT_EQ(COHBUF_STREAM_REC_MISMATCH, rec.flags);
	EXPECT_EQ(0, rec.status);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(2, st.mismatched);
	EXPECT_EQ(2, stream_mismatches(r1, &rec, self->p.channels, self->p.format));
	close(self->s);
}

/*
 * Implicit sync, both ways, on a dma-buf of its own. The device reads a
 * region only once the writers queued before it have written: a FILL
 * job, held back by a trigger (an input stream's out-fence), keeps the
 * device off the region (its frames underrun) until it has run, and the
 * device then reads what it wrote. Its fence is a reader's: a CHECKSUM
 * job runs alongside it, a FILL job waits until it has read.
 */
TEST_F(stream, output_waits_for_writers_and_writers_wait_for_it)
{
	const __u32 pattern = 0x5aa5c33c;
	struct cohbuf_stream_create_data tp = stream_params(BLOCK);
	struct cohbuf_stream_queue_data tq = {
		.dmabuf_fd = self->buf, .flags = COHBUF_STREAM_QUEUE_OUT_FENCE,
		.offset = 8 * self->block, .length = self->block,
	};
	struct cohbuf_imp_submit_data fill, sum;
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	unsigned char *map, head[8];
	int b, trig, status;
	__u32 h, csum;
	__u64 bad;

	pattern_bytes(head, sizeof(head), pattern);
	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	CREATE();
	b = test_alloc(self->dev, self->block);
	ASSERT_LE(0, b);
	map = mmap(NULL, self->block, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, b, &h, NULL));
	trig = stream_create(self->imp, &tp);
	ASSERT_LE(0, trig);
	ASSERT_EQ(0, stream_queue_full(trig, &tq));

	/* Written for frame BLOCK on: the first BLOCK frames will underrun. */
	ASSERT_EQ(0, cohbuf_stream_fill(b, map, BLOCK, BLOCK, self->p.channels, self->p.format));
	fill = imp_fill(h, 0, sizeof(head), pattern);
	fill.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	fill.in_fence_fd = tq.out_fence_fd;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &fill));
	ASSERT_EQ(0, stream_queue(self->s, b, 0, self->block, 1));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(BLOCK, st.lost);
	EXPECT_EQ(1, st.queued);

	ASSERT_EQ(0, stream_start(trig));
	ASSERT_EQ(0, stream_advance(trig, BLOCK));
	status = -1;
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, fill.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(BLOCK, rec.first_frame);
	EXPECT_EQ(BLOCK, rec.lost_before);
	EXPECT_EQ(BLOCK, rec.frames);
	EXPECT_EQ(0, memcmp(map, head, sizeof(head)));
	bad = stream_mismatches(map, &rec, self->p.channels, self->p.format);
	EXPECT_LT(0, bad);
	EXPECT_GE(sizeof(head) / 2, bad);
	EXPECT_EQ(COHBUF_STREAM_REC_DISCONTINUITY | COHBUF_STREAM_REC_MISMATCH, rec.flags);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(bad, st.mismatched);

	/* Queued again, for frame 2 * BLOCK: a reader passes, a writer waits. */
	ASSERT_EQ(0, cohbuf_stream_fill(b, map, 2 * BLOCK, BLOCK, self->p.channels,
					self->p.format));
	ASSERT_EQ(0, stream_queue(self->s, b, 0, self->block, 2));
	EXPECT_TRUE(fd_ready(b, POLLIN));
	EXPECT_FALSE(fd_ready(b, POLLOUT));
	sum = imp_checksum(h, 0, self->block);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &sum));
	status = -1;
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, sum.job_id, WAIT_NS, &status, &csum));
	EXPECT_EQ(0, status);
	EXPECT_EQ(test_crc32(map, self->block), csum);
	fill = imp_fill(h, 0, sizeof(head), pattern);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &fill));
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, fill.job_id, 0, NULL, NULL));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(2 * BLOCK, rec.first_frame);
	EXPECT_EQ(0, rec.flags);
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, fill.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, memcmp(map, head, sizeof(head)));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(bad, st.mismatched);

	close(tq.out_fence_fd);
	close(trig);
	munmap(map, self->block);
	close(b);
	close(self->s);
}

/*
 * Output's own input checks: a read-only dma-buf is fine, as the device
 * only reads (it reads what is there, which the CPU counts the same);
 * the queue's flags and ranges, CREATE's padding and ring mode are
 * refused as for input.
 */
TEST_F(stream, output_accepts_read_only_buffers_and_refuses_bad_input)
{
	struct cohbuf_stream_create_data p = self->p;
	struct cohbuf_stream_queue_data d = {
		.dmabuf_fd = self->buf, .length = self->block,
	};
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	struct cohbuf_alloc_data ro;
	unsigned char *map;

	p.direction = COHBUF_STREAM_DIR_OUTPUT;
	p.mode = COHBUF_STREAM_MODE_RING;
	EXPECT_EQ(-EOPNOTSUPP, stream_create(self->imp, &p));
	p.mode = COHBUF_STREAM_MODE_QUEUE;
	p.pad = 1;
	EXPECT_EQ(-EINVAL, stream_create(self->imp, &p));
	p.pad = 0;
	p.flags = 1;
	EXPECT_EQ(-EINVAL, stream_create(self->imp, &p));

	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	CREATE();
	d.flags = 4;
	EXPECT_EQ(-EINVAL, stream_queue_full(self->s, &d));
	d.flags = 0;
	d.in_fence_fd = 1;
	EXPECT_EQ(-EINVAL, stream_queue_full(self->s, &d));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 2, self->block, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, 0, self->block - 8, 0));
	EXPECT_EQ(-EINVAL, stream_queue(self->s, self->buf, self->size, self->block, 0));
	EXPECT_EQ(-EBADF, stream_queue(self->s, 1000, 0, self->block, 0));
	ASSERT_EQ(0, stream_stats(self->s, &st));
	EXPECT_EQ(0, st.queued);

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 64 * KIB, O_RDONLY | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, NULL, &ro));
	map = mmap(NULL, 64 * KIB, PROT_READ, MAP_SHARED, ro.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, stream_queue(self->s, ro.fd, 0, self->block, 7));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK));
	ASSERT_EQ(0, stream_dequeue(self->s, 0, &rec));
	EXPECT_EQ(7, rec.cookie);
	EXPECT_EQ(BLOCK, rec.frames);
	EXPECT_EQ(0, rec.status);
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(stream_mismatches(map, &rec, self->p.channels, self->p.format),
		  st.mismatched);
	EXPECT_EQ(st.mismatched ? COHBUF_STREAM_REC_MISMATCH : 0, rec.flags);
	munmap(map, 64 * KIB);
	close(ro.fd);
	close(self->s);
}

/*
 * Closing an output stream mid-block signals every fence it published:
 * the region being read with success, the others with -ECANCELED, and
 * the dma-buf is free for writers again.
 */
TEST_F(stream, output_close_mid_stream_signals_every_fence)
{
	int out[3];
	unsigned int i;

	self->p.direction = COHBUF_STREAM_DIR_OUTPUT;
	CREATE();
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, cohbuf_stream_generate(self->map + i * self->block, i * BLOCK, BLOCK,
						    self->p.channels, self->p.format));
		ASSERT_EQ(0, queue_with_out_fence(self, i, &out[i]));
	}
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, BLOCK + 7));
	EXPECT_EQ(1, sync_status(out[0]));
	EXPECT_EQ(0, sync_status(out[1]));
	EXPECT_TRUE(fd_ready(self->buf, POLLIN));
	EXPECT_FALSE(fd_ready(self->buf, POLLOUT));
	close(self->s);
	EXPECT_EQ(1, sync_status(out[1]));
	EXPECT_EQ(-ECANCELED, sync_status(out[2]));
	EXPECT_TRUE(fd_ready(self->buf, POLLOUT));
	EXPECT_EQ(0, stream_debugfs("streams"));
	EXPECT_EQ(0, stream_debugfs("stream_regions"));
	for (i = 0; i < 3; i++)
		close(out[i]);
}

/*
 * The hrtimer clock in real time, for a short run: the consumer takes
 * every record and requeues its region; whatever the guest's speed, the
 * counts balance, the records chain and every sample is right.
 */
TEST_F(stream, hrtimer_run_balances_and_verifies)
{
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec;
	__u64 frame = 0, seq = 0, end;
	unsigned int i, n = 0;
	int ret;

	self->p.clock = COHBUF_STREAM_CLOCK_HRTIMER;
	self->p.rate_hz = 48000;
	self->p.channels = 2;
	self->p.block_frames = 480;		/* 10 ms */
	self->block = stream_block_bytes(&self->p);
	CREATE();
	for (i = 0; i < NR_REGIONS; i++)
		ASSERT_EQ(0, queue_region(self, i));
	ASSERT_EQ(0, stream_start(self->s));
	end = monotonic_ns() + 400 * MS;
	while (monotonic_ns() < end) {
		ret = stream_dequeue(self->s, monotonic_ns() + WAIT_NS, &rec);
		ASSERT_EQ(0, ret) TH_LOG("DEQUEUE: %s", strerror(-ret));
		EXPECT_EQ(seq, rec.sequence);
		EXPECT_EQ(frame + rec.lost_before, rec.first_frame);
		EXPECT_EQ(480, rec.frames);
		EXPECT_LE(rec.first_ns, rec.last_ns);
		EXPECT_EQ(-1, stream_verify(self->map + rec.cookie * self->block, &rec,
					    self->p.channels, self->p.format, 0));
		seq++;
		frame = rec.first_frame + rec.frames;
		ASSERT_EQ(0, queue_region(self, rec.cookie));
		n++;
	}
	ASSERT_EQ(0, stream_stop(self->s));
	EXPECT_BALANCED(self->s, &st);
	EXPECT_EQ(0, st.in_flight);
	EXPECT_LE(n * 480ULL, st.delivered);
	EXPECT_LT(0, n);
	TH_LOG("%u records in 400 ms; produced %llu, lost %llu", n,
	       (unsigned long long)st.produced, (unsigned long long)st.lost);
	while (!stream_dequeue(self->s, 0, &rec))
		if (rec.frames)
			EXPECT_EQ(-1, stream_verify(self->map + rec.cookie * self->block, &rec,
						    self->p.channels, self->p.format, 0));
	close(self->s);
}

/* A stream into another exporter's dma-buf, mapped through its memfd. */
static void stream_into(struct __test_metadata *_metadata, struct _test_data_stream *self,
			int buf, unsigned char *map)
{
	struct expect next = { 0 };
	unsigned int i;

	self->buf = buf;
	self->map = map;
	CREATE();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, queue_region(self, i));
	ASSERT_EQ(0, stream_start(self->s));
	ASSERT_EQ(0, stream_advance(self->s, 4 * BLOCK));
	for (i = 0; i < 4; i++)
		take_checked(_metadata, self, &next, 0);
	close(self->s);
}

TEST_F(stream, into_a_udmabuf)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 1 * MIB };
	int udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, buf;
	unsigned char *map;

	if (udev < 0)
		SKIP(return, "no /dev/udmabuf: kernel built without CONFIG_UDMABUF");
	memfd = memfd_create("stream-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, c.size));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	c.memfd = (__u32)memfd;
	buf = ioctl(udev, UDMABUF_CREATE, &c);
	ASSERT_LE(0, buf) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	map = mmap(NULL, c.size, PROT_READ, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	stream_into(_metadata, self, buf, map);
	munmap(map, c.size);
	close(buf);
	close(memfd);
	close(udev);
}

TEST_F(stream, into_a_system_heap_buffer)
{
	struct dma_heap_allocation_data a = { .len = 1 * MIB, .fd_flags = O_RDWR | O_CLOEXEC };
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	unsigned char *map;

	if (heap < 0)
		SKIP(return, "no /dev/dma_heap/system: kernel built without DMABUF_HEAPS_SYSTEM");
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a));
	map = mmap(NULL, a.len, PROT_READ, MAP_SHARED, (int)a.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	stream_into(_metadata, self, (int)a.fd, map);
	munmap(map, a.len);
	close((int)a.fd);
	close(heap);
}

TEST_HARNESS_MAIN
