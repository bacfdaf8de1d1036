// SPDX-License-Identifier: GPL-2.0
/*
 * The importer's fences against sw_sync, the kernel's fence timeline that
 * user space advances by hand (CONFIG_SW_SYNC, in debugfs): as an in-fence
 * of a job, as an implicit write fence imported into a cohbuf dma-buf, a
 * timeline closed with its fences unsignalled (they signal with an error,
 * which must cancel the job), and one of our out-fences merged with a
 * sw_sync fence.  Debian's kernels have no sw_sync: the tests skip there
 * (vgem fences cover the same paths in cohbuf_importer_test).
 */

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

#define SW_SYNC		"/sys/kernel/debug/sync/sw_sync"
#define WAIT_NS		(20000 * MS)

/*
 * The sw_sync ioctls (drivers/dma-buf/sw_sync.c; not in the uapi headers):
 * CREATE_FENCE makes a sync_file that signals when the timeline reaches
 * @value, INC advances the timeline.
 */
struct sw_sync_fence_arg {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SW_SYNC_CREATE_FENCE	_IOWR('W', 0, struct sw_sync_fence_arg)
#define SW_SYNC_INC		_IOW('W', 1, __u32)

FIXTURE(sw) {
	int dev, imp, timeline;
	int fd;			/* 1 MiB cohbuf buffer */
	__u32 handle;
	int skipped;
};

FIXTURE_SETUP(sw)
{
	self->skipped = 1;
	self->timeline = open(SW_SYNC, O_RDWR | O_CLOEXEC);
	if (self->timeline < 0)
		SKIP(return, "%s: %s (a kernel without CONFIG_SW_SYNC)", SW_SYNC,
		     strerror(errno));
	self->skipped = 0;
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp);
	self->fd = test_alloc(self->dev, 1 * MIB);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &self->handle, NULL));
	ASSERT_NE(0u, self->handle);
}

FIXTURE_TEARDOWN(sw)
{
	if (self->skipped)
		return;
	close(self->imp);
	close(self->fd);
	close(self->dev);
	if (self->timeline >= 0)
		close(self->timeline);
}

/* A sync_file that signals when the timeline reaches @value. */
static int sw_fence(int timeline, __u32 value)
{
	struct sw_sync_fence_arg a = { .value = value };

	snprintf(a.name, sizeof(a.name), "cohbuf-%u", value);
	if (ioctl(timeline, SW_SYNC_CREATE_FENCE, &a))
		return -errno;
	return a.fence;
}

static int sw_inc(int timeline, __u32 n)
{
	return ioctl(timeline, SW_SYNC_INC, &n) ? -errno : 0;
}

TEST_F(sw, in_fence_holds_the_job_until_the_timeline_moves)
{
	struct cohbuf_imp_submit_data f = imp_fill(self->handle, 0, 4096, 0x11223344);
	int sf = sw_fence(self->timeline, 2), status = 1;

	ASSERT_LE(0, sf) TH_LOG("create fence: %s", strerror(-sf));
	f.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	f.in_fence_fd = sf;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &f));
	usleep(200 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, f.job_id, 0, NULL, NULL));
	/* One step is not enough: the fence is at 2. */
	ASSERT_EQ(0, sw_inc(self->timeline, 1));
	usleep(200 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, f.job_id, 0, NULL, NULL));
	ASSERT_EQ(0, sw_inc(self->timeline, 1));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, f.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	close(sf);
}

TEST_F(sw, imported_write_fence_holds_a_reader)
{
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, 4096);
	struct dma_buf_import_sync_file in = { .flags = DMA_BUF_SYNC_WRITE };
	int status = 1;

	in.fd = sw_fence(self->timeline, 1);
	ASSERT_LE(0, in.fd);
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &in));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &c));
	usleep(200 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, c.job_id, 0, NULL, NULL));
	EXPECT_FALSE(fd_ready(self->fd, POLLIN));
	ASSERT_EQ(0, sw_inc(self->timeline, 1));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	close(in.fd);
}

/* Closing a timeline signals its pending fences with an error. */
TEST_F(sw, closed_timeline_cancels_the_job)
{
	struct cohbuf_imp_submit_data f = imp_fill(self->handle, 0, 4096, 0x55aa55aa);
	int sf = sw_fence(self->timeline, 5), status = 0;

	ASSERT_LE(0, sf);
	f.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	f.in_fence_fd = sf;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &f));
	close(self->timeline);
	self->timeline = -1;
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, f.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(-ECANCELED, status);
	close(sf);
}

/* Our out-fence and a sw_sync fence merged into one sync_file. */
TEST_F(sw, merged_with_our_out_fence)
{
	struct cohbuf_imp_submit_data f = imp_fill(self->handle, 0, 4096, 0x01020304);
	struct sync_merge_data m = { .name = "cohbuf+sw" };
	int sf = sw_fence(self->timeline, 1), status = 1;

	ASSERT_LE(0, sf);
	f.flags = COHBUF_IMP_SUBMIT_OUT_FENCE;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &f));
	ASSERT_LE(0, f.out_fence_fd);
	m.fd2 = sf;
	ASSERT_EQ(0, ioctl(f.out_fence_fd, SYNC_IOC_MERGE, &m));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, f.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	/* Our part signalled; the sw_sync part holds the merged fence. */
	EXPECT_FALSE(fd_ready(m.fence, POLLIN));
	ASSERT_EQ(0, sw_inc(self->timeline, 1));
	EXPECT_TRUE(fd_ready(m.fence, POLLIN));
	close(m.fence);
	close(f.out_fence_fd);
	close(sf);
}

TEST_HARNESS_MAIN
