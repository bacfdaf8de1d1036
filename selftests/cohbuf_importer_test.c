// SPDX-License-Identifier: GPL-2.0
/*
 * The importer test driver on cohbuf buffers: import, FILL/COPY/CHECKSUM
 * jobs checked byte for byte against the CPU, and the ways user space
 * waits for a device (poll on the dma-buf, DMA_BUF_IOCTL_SYNC, exported
 * sync_files, WAIT), with job latencies long enough that reading early would
 * see stale data.  Foreign fences come from vgem (Debian's kernels have no
 * sw_sync).
 */

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "vgem_test.h"

#define LATENCY_MS	1000	/* long enough to see stale data under TCG */
#define WAIT_NS		(20000 * MS)

FIXTURE(imp) {
	int dev, imp;
	int fd;			/* 9 MiB cohbuf buffer: three chunks */
	size_t size;
	unsigned char *map;
	__u32 handle;
};

FIXTURE_SETUP(imp)
{
	int ret;

	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(errno));
	self->size = 9 * MIB;
	self->fd = test_alloc(self->dev, self->size);
	ASSERT_LE(0, self->fd);
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ret = cohbuf_importer_import(self->imp, self->fd, &self->handle, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	ASSERT_NE(0u, self->handle);
}

/* Helpers take the fixture as the harness defines it: FIXTURE_DATA(imp). */

/*
 * In the test's fork parent, after the test's process has ended (and
 * closed its fds and contexts): a parameter a test changed goes back, even
 * when the test failed or crashed.
 */
FIXTURE_TEARDOWN_PARENT(imp)
{
	EXPECT_EQ(0, settings_pop_all());
}

/* Submit @d, wait for it; returns its status, the checksum via @csum. */
static int run_job(struct __test_metadata *_metadata, int imp,
		   struct cohbuf_imp_submit_data *d, __u32 *csum)
{
	int status = -1;

	EXPECT_EQ(0, cohbuf_importer_submit(imp, d));
	EXPECT_NE(0, d->job_id);
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d->job_id, WAIT_NS, &status, csum));
	return status;
}

TEST_F(imp, import_reports_size_and_entries)
{
	struct cohbuf_imp_import_data d;
	__u32 h;

	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &h, &d));
	ASSERT_NE(0u, h);
	EXPECT_NE(self->handle, h);
	EXPECT_EQ(self->size, d.size);
	EXPECT_LE(3, d.nents);
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
	EXPECT_EQ(-ENOENT, cohbuf_importer_release(self->imp, h));
}

static long long imp_mappings(void)
{
	return read_number(IMPORTER_DEBUGFS "/stats", "mappings");
}

/*
 * The device maps a dma-buf once: imports of it through other fds and
 * other contexts get handles of their own on the one attachment, which
 * goes with the last of them.
 */
TEST_F(imp, imports_of_one_dma_buf_share_one_mapping)
{
	struct cohbuf_imp_submit_data d;
	struct cohbuf_info_data info;
	long long mappings = imp_mappings();
	int ctx2 = cohbuf_importer_open(), dup_fd = dup(self->fd);
	unsigned char expect[4096];
	__u32 h2, h3;
	__u32 csum = 0;
	int i;

	ASSERT_LE(0, ctx2);
	ASSERT_LE(0, dup_fd);
	ASSERT_LE(1, mappings);
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, self->fd, &info, NULL, 0));
	EXPECT_EQ(1, cohbuf_buffer_field(info.id, "attachments"));
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, dup_fd, &h2, NULL));
	ASSERT_EQ(0, cohbuf_importer_import(ctx2, self->fd, &h3, NULL));
	ASSERT_NE(0u, h2);
	ASSERT_NE(0u, h3);
	EXPECT_NE(self->handle, h2);
	EXPECT_EQ(1, cohbuf_buffer_field(info.id, "attachments"));
	EXPECT_EQ(mappings, imp_mappings());

	/* What one context's device writes, the other's reads. */
	d = imp_fill(h3, 0, self->size, 0x5eed1234);
	EXPECT_EQ(0, run_job(_metadata, ctx2, &d, NULL));
	pattern_bytes(expect, sizeof(expect), 0x5eed1234);
	EXPECT_EQ(0, memcmp(self->map + self->size - sizeof(expect), expect, sizeof(expect)));
	d = imp_checksum(self->handle, 0, self->size);
	EXPECT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	EXPECT_EQ(test_crc32(self->map, self->size), csum);

	/* The mapping stays while any import of the buffer is left. */
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h2));
	EXPECT_EQ(1, cohbuf_buffer_field(info.id, "attachments"));
	EXPECT_EQ(mappings, imp_mappings());
	close(ctx2);
	/* A work item drops the closed context's imports, just after close(). */
	for (i = 0; i < 2000 && imp_mappings() != mappings - 1; i++)
		usleep(1000);
	EXPECT_EQ(0, cohbuf_buffer_field(info.id, "attachments"));
	EXPECT_EQ(mappings - 1, imp_mappings());

	/* A new import maps it again. */
	EXPECT_EQ(0, cohbuf_importer_import(self->imp, dup_fd, &self->handle, NULL));
	EXPECT_NE(0u, self->handle);
	EXPECT_EQ(1, cohbuf_buffer_field(info.id, "attachments"));
	EXPECT_EQ(mappings, imp_mappings());
	close(dup_fd);
}

TEST_F(imp, import_outlives_the_fd)
{
	struct cohbuf_imp_submit_data d;
	__u32 csum = 0;

	random_bytes(self->map, self->size, 7);
	munmap(self->map, self->size);
	close(self->fd);
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->fd = -1;
	EXPECT_EQ(1, cohbuf_stat("live_buffers"));
	random_bytes(self->map, self->size, 7);
	d = imp_checksum(self->handle, 0, self->size);
	EXPECT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	EXPECT_EQ(test_crc32(self->map, self->size), csum);
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_F(imp, cpu_writes_importer_checksums)
{
	static const struct { size_t off, len; } r[] = {
		{ 0, 9 * MIB }, { 4097, 1 * MIB + 3 }, { 4 * MIB - 5, 10 }, { 9 * MIB - 1, 1 },
	};
	struct cohbuf_imp_submit_data d;
	unsigned int i;
	__u32 csum;

	/* What the CPU writes reaches the device after SYNC END. */
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_begin(self->fd, DMA_BUF_SYNC_WRITE));
	random_bytes(self->map, self->size, 0x1234);
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_end(self->fd, DMA_BUF_SYNC_WRITE));
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		d = imp_checksum(self->handle, r[i].off, r[i].len);
		csum = 0;
		EXPECT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
		EXPECT_EQ(test_crc32(self->map + r[i].off, r[i].len), csum)
			TH_LOG("range %zu+%zu", r[i].off, r[i].len);
	}
}

TEST_F(imp, random_fill_matches_the_cpu_stream)
{
	size_t off = 4 * MIB - 4095, len = 2 * MIB + 13;
	unsigned char *want = malloc(len);
	struct cohbuf_imp_submit_data d;

	ASSERT_NE(NULL, want);
	d = imp_fill(self->handle, off, len, 0);
	d.flags |= COHBUF_IMP_SUBMIT_RANDOM;
	d.seed = 42;
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	random_bytes(want, len, 42);
	EXPECT_EQ(0, memcmp(want, self->map + off, len));
	EXPECT_TRUE(all_bytes(self->map, off, 0));
	EXPECT_TRUE(all_bytes(self->map + off + len, self->size - off - len, 0));
	free(want);
}

/* A FILL that takes LATENCY_MS: right after submitting, the data is stale. */
static __u64 slow_fill(struct __test_metadata *_metadata, struct _test_data_imp *self,
		       __u32 pattern)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, self->size, pattern);

	imp_set_latency(&d, LATENCY_MS);
	EXPECT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	/* Early: the device has not written yet, and the buffer says it is busy. */
	EXPECT_TRUE(all_bytes(self->map, 4096, 0));
	EXPECT_FALSE(fd_ready(self->fd, POLLIN));
	return d.job_id;
}

static void expect_filled(struct __test_metadata *_metadata, struct _test_data_imp *self,
			  __u32 pattern)
{
	unsigned char want[4096];

	pattern_bytes(want, sizeof(want), pattern);
	EXPECT_EQ(0, memcmp(want, self->map, sizeof(want)));
	EXPECT_EQ(0, memcmp(want, self->map + self->size - sizeof(want), sizeof(want)));
}

TEST_F(imp, wait_by_poll_on_the_dma_buf)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };

	slow_fill(_metadata, self, 0xa1b2c3d4);
	ASSERT_EQ(1, poll(&p, 1, 20000));
	EXPECT_TRUE(p.revents & POLLIN);
	expect_filled(_metadata, self, 0xa1b2c3d4);
}

TEST_F(imp, wait_by_dma_buf_ioctl_sync)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

	slow_fill(_metadata, self, 0x01020304);
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &s));
	expect_filled(_metadata, self, 0x01020304);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &s));
}

TEST_F(imp, wait_by_exported_sync_file)
{
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct pollfd p;

	slow_fill(_metadata, self, 0xfeedbeef);
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e));
	EXPECT_FALSE(fd_ready(e.fd, POLLIN));
	p.fd = e.fd;
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 20000));
	expect_filled(_metadata, self, 0xfeedbeef);
	close(e.fd);
}

TEST_F(imp, wait_ioctl_and_poll_on_the_importer)
{
	struct pollfd p = { .fd = self->imp, .events = POLLIN };
	__u64 job = slow_fill(_metadata, self, 0x55aa55aa);
	int status = 1;

	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, job, 0, NULL, NULL));
	EXPECT_FALSE(fd_ready(self->imp, POLLIN));
	ASSERT_EQ(1, poll(&p, 1, 20000));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, job, 0, &status, NULL));
	EXPECT_EQ(0, status);
	expect_filled(_metadata, self, 0x55aa55aa);
	/* Reaped: it is gone, and nothing is pending any more. */
	EXPECT_EQ(-ENOENT, cohbuf_importer_wait(self->imp, job, 0, NULL, NULL));
	EXPECT_FALSE(fd_ready(self->imp, POLLIN));
}

/*
 * WAIT's deadline is absolute: signals that restart the call (SA_RESTART)
 * every 50 ms neither end it early nor push its end out. A relative
 * timeout restarted after each signal would never expire before the job's
 * latency ran out.
 */
TEST_F(imp, wait_ends_at_its_absolute_deadline_across_restarts)
{
	struct sigaction sa = { .sa_handler = test_count_alarm, .sa_flags = SA_RESTART }, old;
	struct itimerval every = { { 0, 50000 }, { 0, 50000 } }, stop = { 0 };
	struct cohbuf_imp_wait_data w = { 0 };
	__u64 start, waited;
	int ret, err, seen, status = 1;

	w.job_id = slow_fill(_metadata, self, 0x0badcafe);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	__atomic_store_n(test_alarms(), 0, __ATOMIC_RELAXED);
	start = monotonic_ns();
	w.deadline_ns = start + 300 * MS;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
	ret = ioctl(self->imp, COHBUF_IMP_IOCTL_WAIT, &w);
	err = errno;
	waited = monotonic_ns() - start;
	setitimer(ITIMER_REAL, &stop, NULL);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ETIME, err);
	EXPECT_LE(300 * MS, waited);
	seen = __atomic_load_n(test_alarms(), __ATOMIC_RELAXED);
	EXPECT_LE(2, seen) TH_LOG("only %d signals during the wait", seen);
	/* The job is still there, and completes as it would have. */
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, w.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	expect_filled(_metadata, self, 0x0badcafe);
}

/* The relative WAIT's old number is retired, so an old binary fails loudly. */
TEST_F(imp, the_retired_relative_wait_number_is_refused)
{
	struct cohbuf_imp_wait_data w = { .job_id = 1 };

	EXPECT_EQ(-1, ioctl(self->imp, _IOWR(COHBUF_IOC_MAGIC, 0x13, struct cohbuf_imp_wait_data),
			    &w));
	EXPECT_EQ(ENOTTY, errno);
	/* So is WAIT's number in a direction that is not its own. */
	EXPECT_EQ(-1, ioctl(self->imp, _IOW(COHBUF_IOC_MAGIC, 0x14, struct cohbuf_imp_wait_data),
			    &w));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(imp, copy_between_multi_chunk_buffers_unaligned)
{
	size_t src_off = 4 * MIB - 123, dst_off = 1 * MIB + 5, len = 5 * MIB + 7;
	struct cohbuf_imp_submit_data d;
	unsigned char *dst;
	__u32 h2;
	int fd2;

	fd2 = test_alloc(self->dev, self->size);
	ASSERT_LE(0, fd2);
	dst = mmap(NULL, self->size, PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, dst);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, fd2, &h2, NULL));
	ASSERT_NE(0u, h2);
	random_bytes(self->map, self->size, 99);

	d = imp_copy(h2, dst_off, self->handle, src_off, len);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(0, memcmp(self->map + src_off, dst + dst_off, len));
	EXPECT_TRUE(all_bytes(dst, dst_off, 0));
	EXPECT_TRUE(all_bytes(dst + dst_off + len, self->size - dst_off - len, 0));
	munmap(dst, self->size);
	close(fd2);
}

TEST_F(imp, fill_then_checksum_without_explicit_fences)
{
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, self->size);
	unsigned char *want = malloc(self->size);
	__u32 csum = 0;

	ASSERT_NE(NULL, want);
	slow_fill(_metadata, self, 0xc0ffee00);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &c, &csum));
	pattern_bytes(want, self->size, 0xc0ffee00);
	EXPECT_EQ(test_crc32(want, self->size), csum);
	free(want);
}

static long long device_syncs(void)
{
	return read_number(IMPORTER_DEBUGFS "/stats", "device_syncs");
}

/*
 * The engine plays a device, so what it writes must reach memory and what
 * it reads must come from memory where DMA is not cache-coherent: in the
 * arm64 guests (the importer device has no firmware node: not coherent,
 * dma_need_sync() true) a FILL syncs its range for the CPU before and for
 * the device after it writes, a CHECKSUM its range before it reads; on
 * x86 nothing reaches the DMA API. TCG has no caches to go stale, so the
 * calls are counted (debugfs device_syncs), and the bytes checked. The
 * range crosses the 4 MiB chunk boundary: two DMA segments at least.
 */
TEST_F(imp, the_engine_syncs_for_the_dma_api_where_it_needs_syncs)
{
	const size_t off = 4 * MIB - 100, len = 200;
	struct dma_buf_sync start = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, off, len, 0x5a6b7c8d);
	unsigned char want[200];
	long long before, filled, summed;
	struct utsname u;
	__u32 csum = 0;
	int arm64;

	ASSERT_EQ(0, uname(&u));
	arm64 = !strcmp(u.machine, "aarch64");
	if (!arm64 && strcmp(u.machine, "x86_64"))
		SKIP(return, "no expectation for %s", u.machine);
	before = device_syncs();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	filled = device_syncs();
	d = imp_checksum(self->handle, off, len);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	summed = device_syncs();
	ksft_print_msg("%s: importer syncs %s\n", u.machine,
		       arm64 ? "expected (non-coherent)" : "not expected (coherent)");
	EXPECT_EQ(arm64 ? 2 : 0, filled - before);
	EXPECT_EQ(arm64 ? 1 : 0, summed - filled);
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &start));
	pattern_bytes(want, len, 0x5a6b7c8d);
	EXPECT_EQ(0, memcmp(want, self->map + off, len));
	EXPECT_EQ(test_crc32(want, len), csum);
	start.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &start));
}

TEST_F(imp, out_fence_chains_into_in_fence)
{
	struct cohbuf_imp_submit_data f = imp_fill(self->handle, 0, 4096, 0x11111111);
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, 4096);
	struct sync_file_info info = { 0 };
	unsigned char want[4096];
	__u32 csum = 0;

	imp_set_latency(&f, LATENCY_MS);
	f.flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &f));
	ASSERT_LE(0, f.out_fence_fd);
	EXPECT_FALSE(fd_ready(f.out_fence_fd, POLLIN));
	c.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	c.in_fence_fd = f.out_fence_fd;
	ASSERT_EQ(0, run_job(_metadata, self->imp, &c, &csum));
	pattern_bytes(want, sizeof(want), 0x11111111);
	EXPECT_EQ(test_crc32(want, sizeof(want)), csum);
	EXPECT_TRUE(fd_ready(f.out_fence_fd, POLLIN));
	ASSERT_EQ(0, ioctl(f.out_fence_fd, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(1, info.status);
	close(f.out_fence_fd);
}

TEST_F(imp, foreign_in_fence_holds_the_job)
{
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, 4096);
	int drm = cohbuf_vgem_open(), sf, status = 1;
	__u32 fence = 0;

	if (drm < 0)
		SKIP(return, "vgem not available");
	sf = vgem_sync_file(drm, &fence);
	ASSERT_LE(0, sf) TH_LOG("vgem sync_file: %s", strerror(-sf));
	c.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	c.in_fence_fd = sf;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &c));
	usleep(300 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, c.job_id, 0, NULL, NULL));
	ASSERT_EQ(0, cohbuf_vgem_fence_signal(drm, fence));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	close(sf);
	close(drm);
}

TEST_F(imp, imported_sync_file_holds_the_job)
{
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, 4096);
	struct dma_buf_import_sync_file in = { .flags = DMA_BUF_SYNC_WRITE };
	int drm = cohbuf_vgem_open(), status = 1;
	__u32 fence = 0;

	if (drm < 0)
		SKIP(return, "vgem not available");
	in.fd = vgem_sync_file(drm, &fence);
	ASSERT_LE(0, in.fd);
	/* Someone else will write the buffer: our reader must wait for it. */
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &in));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &c));
	usleep(300 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, c.job_id, 0, NULL, NULL));
	EXPECT_FALSE(fd_ready(self->fd, POLLIN));
	ASSERT_EQ(0, cohbuf_vgem_fence_signal(drm, fence));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	close(in.fd);
	close(drm);
}

TEST_F(imp, readers_do_not_wait_for_readers_writers_wait_for_both)
{
	struct cohbuf_imp_submit_data r1 = imp_checksum(self->handle, 0, 4096);
	struct cohbuf_imp_submit_data r2 = imp_checksum(self->handle, 4096, 4096);
	struct dma_buf_export_sync_file rd = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct dma_buf_export_sync_file wr = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };
	struct cohbuf_imp_submit_data w = imp_fill(self->handle, 0, 4096, 0x77);
	int status = 1;

	imp_set_latency(&r1, LATENCY_MS);
	imp_set_latency(&r2, LATENCY_MS);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &r1));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &r2));
	/* A new reader has nothing to wait for: both fences are reads. */
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &rd));
	EXPECT_TRUE(fd_ready(rd.fd, POLLIN));
	EXPECT_TRUE(fd_ready(self->fd, POLLIN));
	/* A writer must wait for both readers. */
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &wr));
	EXPECT_FALSE(fd_ready(wr.fd, POLLIN));
	EXPECT_FALSE(fd_ready(self->fd, POLLOUT));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &w));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, w.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	/* When the writer is done, both readers are. */
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, r1.job_id, 0, &status, NULL));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, r2.job_id, 0, &status, NULL));
	EXPECT_TRUE(fd_ready(wr.fd, POLLIN));
	close(rd.fd);
	close(wr.fd);
}

/*
 * Two readers on two engines: one is held by a foreign fence, the other
 * completes meanwhile (readers do not wait for readers). A writer waits
 * for both, so it completes only after the held reader is released.
 */
TEST_F(imp, readers_on_two_engines_run_concurrently)
{
	struct cohbuf_imp_submit_data r1 = imp_checksum(self->handle, 0, 4096);
	struct cohbuf_imp_submit_data r2 = imp_checksum(self->handle, 4096, 4096);
	struct cohbuf_imp_submit_data w = imp_fill(self->handle, 0, 8192, 0x3c3c3c3c);
	int drm = cohbuf_vgem_open(), sf, status = 1;
	unsigned char want[8192];
	__u32 fence = 0;

	if (drm < 0)
		SKIP(return, "vgem not available");
	if (read_number(IMPORTER_PARAM("engines"), NULL) < 2)
		SKIP(return, "the importer was loaded with a single engine");
	sf = vgem_sync_file(drm, &fence);
	ASSERT_LE(0, sf);
	r1.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	r1.in_fence_fd = sf;
	r1.engine = 0;
	r2.engine = 1;
	w.engine = 1;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &r1));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &r2));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, r2.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, r1.job_id, 0, NULL, NULL));

	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &w));
	usleep(300 * 1000);
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, w.job_id, 0, NULL, NULL));
	EXPECT_TRUE(all_bytes(self->map, 8192, 0));

	ASSERT_EQ(0, cohbuf_vgem_fence_signal(drm, fence));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, w.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, r1.job_id, 0, &status, NULL));
	EXPECT_EQ(0, status);
	pattern_bytes(want, sizeof(want), 0x3c3c3c3c);
	EXPECT_EQ(0, memcmp(want, self->map, sizeof(want)));
	close(sf);
	close(drm);
}

/*
 * Submit *@c, a CHECKSUM of the fixture's first page with an out-fence,
 * behind an unsignalled vgem fence (its id in *@fence); returns the
 * in-fence's sync_file.
 */
static int checksum_behind_vgem_fence(struct __test_metadata *_metadata,
				      struct _test_data_imp *self, int drm, __u32 *fence,
				      struct cohbuf_imp_submit_data *c)
{
	int sf = vgem_sync_file(drm, fence);

	ASSERT_LE(0, sf);
	*c = imp_checksum(self->handle, 0, 4096);
	c->flags = COHBUF_IMP_SUBMIT_IN_FENCE | COHBUF_IMP_SUBMIT_OUT_FENCE;
	c->in_fence_fd = sf;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, c));
	return sf;
}

TEST_F(imp, dependency_timeout_fails_the_job_with_a_readable_error)
{
	struct cohbuf_imp_submit_data c;
	struct sync_file_info info = { 0 };
	int drm = cohbuf_vgem_open(), sf, status = 0;
	__u32 fence = 0;

	if (drm < 0)
		SKIP(return, "vgem not available");
	ASSERT_EQ(0, setting_push(IMPORTER_PARAM("timeout_ms"), "500"));
	sf = checksum_behind_vgem_fence(_metadata, self, drm, &fence, &c);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(-ETIMEDOUT, status);
	ASSERT_EQ(0, ioctl(c.out_fence_fd, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(-ETIMEDOUT, info.status);
	cohbuf_vgem_fence_signal(drm, fence);
	close(c.out_fence_fd);
	close(sf);
	close(drm);
}

/* Wait up to 20 s for the exporter to have @n live buffers. */
static long long settle_live_buffers(long long n)
{
	long long live = cohbuf_stat("live_buffers");
	int i;

	for (i = 0; i < 200 && live != n; i++) {
		usleep(100 * 1000);
		live = cohbuf_stat("live_buffers");
	}
	return live;
}

/* Forget the fixture's buffer and make a small fresh one for teardown. */
static void replace_fixture_buffer(struct _test_data_imp *self)
{
	munmap(self->map, self->size);
	close(self->fd);
	self->size = 4096;
	self->fd = test_alloc(self->dev, self->size);
	self->map = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
}

TEST_F(imp, closing_with_jobs_in_flight_signals_their_out_fence)
{
	struct cohbuf_imp_submit_data d;
	int i;

	for (i = 0; i < 4; i++) {
		d = imp_fill(self->handle, 0, self->size, 0x01010101 * (i + 1));
		imp_set_latency(&d, 200);
		d.flags |= i == 3 ? COHBUF_IMP_SUBMIT_OUT_FENCE : 0;
		ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	}
	close(self->imp);
	replace_fixture_buffer(self);
	/* The out-fence signals in bounded time, whether the job ran or not. */
	{
		struct pollfd p = { .fd = d.out_fence_fd, .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, 20000));
		close(d.out_fence_fd);
	}
	self->imp = cohbuf_importer_open();
	EXPECT_EQ(1, settle_live_buffers(1));
}

/*
 * A job stuck on a foreign fence is cancelled when its context closes:
 * close() does not sit out timeout_ms (raised to 20 s here), and the
 * job's out-fence signals -ECANCELED.
 */
TEST_F(imp, close_cancels_a_job_waiting_for_a_foreign_fence)
{
	struct cohbuf_imp_submit_data c;
	struct sync_file_info info = { 0 };
	int drm = cohbuf_vgem_open(), sf;
	struct timespec t0, t1;
	__u32 fence = 0;

	if (drm < 0)
		SKIP(return, "vgem not available");
	ASSERT_EQ(0, setting_push(IMPORTER_PARAM("timeout_ms"), "20000"));
	sf = checksum_behind_vgem_fence(_metadata, self, drm, &fence, &c);
	usleep(200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(self->imp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	self->imp = cohbuf_importer_open();
	EXPECT_GT(5, t1.tv_sec - t0.tv_sec)
		TH_LOG("close took %lld s", (long long)(t1.tv_sec - t0.tv_sec));
	ASSERT_EQ(0, ioctl(c.out_fence_fd, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(-ECANCELED, info.status);
	cohbuf_vgem_fence_signal(drm, fence);
	close(c.out_fence_fd);
	close(sf);
	close(drm);
}

TEST_F(imp, killed_mid_job_leaks_nothing)
{
	int sync[2], status;
	char ready;
	pid_t pid;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int imp = cohbuf_importer_open();
		struct cohbuf_imp_submit_data d;
		__u32 h;

		if (cohbuf_importer_import(imp, self->fd, &h, NULL) || !h)
			_exit(1);
		d = imp_fill(h, 0, self->size, 9);
		imp_set_latency(&d, 3000);
		if (cohbuf_importer_submit(imp, &d))
			_exit(1);
		if (write(sync[1], "s", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	ASSERT_EQ(1, read(sync[0], &ready, 1));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	replace_fixture_buffer(self);
	/* The child's context, its job and its import all went away. */
	EXPECT_EQ(1, settle_live_buffers(1));
	close(sync[0]);
	close(sync[1]);
}

/* Single-chunk, write-combine and contiguous buffers: vmap and fill. */
TEST_F(imp, random_fill_reaches_cached_wc_and_contiguous_buffers)
{
	static const struct { __u64 size; __u32 flags, cache; } k[] = {
		{ 64 * KIB, 0, COHBUF_CACHE_CACHED },
		{ 5 * MIB, 0, COHBUF_CACHE_WC },
		{ 4 * MIB, COHBUF_ALLOC_CONTIGUOUS, COHBUF_CACHE_CACHED },
	};
	struct cohbuf_alloc_data a;
	unsigned char *p, *want;
	unsigned int i;
	__u32 h;

	for (i = 0; i < ARRAY_SIZE(k); i++) {
		struct cohbuf_imp_submit_data d;

		ASSERT_EQ(0, cohbuf_alloc_full(self->dev, k[i].size, O_RDWR | O_CLOEXEC,
					       k[i].flags, k[i].cache, NULL, &a));
		ASSERT_EQ(0, cohbuf_importer_import(self->imp, (int)a.fd, &h, NULL));
		ASSERT_NE(0u, h);
		d = imp_fill(h, 0, k[i].size, 0);
		d.flags |= COHBUF_IMP_SUBMIT_RANDOM;
		d.seed = i + 1;
		ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
		p = mmap(NULL, k[i].size, PROT_READ, MAP_SHARED, (int)a.fd, 0);
		want = malloc(k[i].size);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_NE(NULL, want);
		random_bytes(want, k[i].size, i + 1);
		EXPECT_EQ(0, memcmp(want, p, k[i].size)) TH_LOG("buffer kind %u", i);
		free(want);
		munmap(p, k[i].size);
		EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
		close((int)a.fd);
	}
}

TEST_F(imp, debugfs_lists_imports_and_jobs)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, 4096, 1);
	char needle[64], line[256];

	snprintf(needle, sizeof(needle), " handle=%u ", self->handle);
	ASSERT_EQ(0, find_line(IMPORTER_DEBUGFS "/imports", needle, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " size=9437184 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, " exporter=cohbuf")) TH_LOG("%s", line);
	EXPECT_EQ(NULL, strstr(line, "0x")) TH_LOG("%s", line);

	imp_set_latency(&d, LATENCY_MS);
	d.engine = 1;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	snprintf(needle, sizeof(needle), " id=%llu ", (unsigned long long)d.job_id);
	ASSERT_EQ(0, find_line(IMPORTER_DEBUGFS "/jobs", needle, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " op=fill engine=1 ")) TH_LOG("%s", line);
	EXPECT_EQ(NULL, strstr(line, "state=done")) TH_LOG("%s", line);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, d.job_id, WAIT_NS, NULL, NULL));
	/* Reaped jobs and released imports disappear. */
	EXPECT_NE(0, find_line(IMPORTER_DEBUGFS "/jobs", needle, line, sizeof(line)));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	snprintf(needle, sizeof(needle), " handle=%u ", self->handle);
	EXPECT_NE(0, find_line(IMPORTER_DEBUGFS "/imports", needle, line, sizeof(line)));
}

/*
 * Close the context, the dma-buf fd and /dev/cohbuf in every order while
 * jobs are in flight (in a child, so that nothing else holds them): the
 * out-fence signals, and the buffer goes away with the last of them.
 */
TEST_F(imp, close_everything_in_every_order_with_jobs_in_flight)
{
	static const int order[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	int status, o;
	pid_t pid;

	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	replace_fixture_buffer(self);
	for (o = 0; o < 6; o++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int fds[3], i, out;
			struct cohbuf_imp_submit_data d;
			struct pollfd p;
			__u32 h;

			fds[0] = cohbuf_importer_open();
			fds[1] = test_alloc(self->dev, 5 * MIB);
			fds[2] = cohbuf_dev_open();
			if (cohbuf_importer_import(fds[0], fds[1], &h, NULL) ||
			    fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || !h)
				_exit(1);
			d = imp_fill(h, 0, 5 * MIB, 0x42);
			imp_set_latency(&d, 300);
			d.flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
			d.engine = o % 2;
			if (cohbuf_importer_submit(fds[0], &d))
				_exit(2);
			out = d.out_fence_fd;
			d.flags &= ~COHBUF_IMP_SUBMIT_OUT_FENCE;
			if (cohbuf_importer_submit(fds[0], &d))
				_exit(3);
			for (i = 0; i < 3; i++)
				close(fds[order[o][i]]);
			p.fd = out;
			p.events = POLLIN;
			_exit(poll(&p, 1, 20000) == 1 ? 0 : 4);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("order %d: step %d", o,
							 WEXITSTATUS(status));
		/* Only the fixture's small buffer is left. */
		EXPECT_EQ(1, settle_live_buffers(1)) TH_LOG("order %d", o);
	}
}

/*
 * A SUBMIT whose result cannot be written back fails with EFAULT, but its
 * job was queued and runs; its id was never reported, yet a WAIT that
 * names it (here: found in debugfs) reaps it like any other.
 */
TEST_F(imp, submit_without_write_back_still_runs)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, self->size, 0x0b0e0f0d);
	struct pollfd p = { .fd = self->imp, .events = POLLIN };
	unsigned char expect[4096];
	char line[256], *id;
	void *ro;

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memcpy(ro, &d, sizeof(d));
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_SUBMIT, ro));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(1, poll(&p, 1, 20000)) TH_LOG("the job did not complete");
	pattern_bytes(expect, sizeof(expect), 0x0b0e0f0d);
	EXPECT_EQ(0, memcmp(self->map + self->size - sizeof(expect), expect, sizeof(expect)));

	ASSERT_EQ(0, find_line(IMPORTER_DEBUGFS "/jobs", " op=fill ", line, sizeof(line)));
	id = strstr(line, " id=");
	ASSERT_NE(NULL, id);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, strtoull(id + 4, NULL, 10), 0, NULL, NULL));
	EXPECT_EQ(0, fd_ready(self->imp, POLLIN));
	munmap(ro, 4096);
}

TEST_F(imp, rmmod_refused_while_imported)
{
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cohbuf_importer", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cohbuf", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
}

/*
 * Found by the fuzzer: RELEASE of handle 0 erased the reservation of index
 * 0 in the context's handle table, and the next IMPORT returned handle 0.
 */
TEST_F(imp, release_of_handle_0_keeps_handles_non_zero)
{
	__u32 h = 0;
	int ret;

	EXPECT_EQ(-ENOENT, cohbuf_importer_release(self->imp, 0));
	ret = cohbuf_importer_import(self->imp, self->fd, &h, NULL);
	EXPECT_EQ(0, ret);
	EXPECT_NE(0u, h);
	EXPECT_NE(self->handle, h);
	EXPECT_EQ(-ENOENT, cohbuf_importer_release(self->imp, 0));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, self->handle));
	if (!ret)
		EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
}

TEST_F(imp, malformed_import_release_wait_and_submit_requests_are_refused)
{
	struct cohbuf_imp_import_data im = { 0 };
	struct cohbuf_imp_release_data rel = { .handle = self->handle, .pad = 1 };
	struct cohbuf_imp_wait_data w = { .job_id = 1, .pad = 1 };
	struct cohbuf_imp_submit_data d;
	__u32 h = self->handle, nh;
	int fds[2], efd, mfd;

	ASSERT_EQ(0, pipe(fds));
	efd = eventfd(0, EFD_CLOEXEC);
	mfd = memfd_create("not-a-dma-buf", MFD_CLOEXEC);
	EXPECT_EQ(-EINVAL, cohbuf_importer_import(self->imp, fds[0], &nh, NULL));
	EXPECT_EQ(-EINVAL, cohbuf_importer_import(self->imp, efd, &nh, NULL));
	EXPECT_EQ(-EINVAL, cohbuf_importer_import(self->imp, mfd, &nh, NULL));
	EXPECT_EQ(-EBADF, cohbuf_importer_import(self->imp, 1000, &nh, NULL));
	im.fd = (__u32)self->fd;
	im.flags = 1;
	EXPECT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_IMPORT, &im));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_RELEASE, &rel));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-ENOENT, cohbuf_importer_wait(self->imp, 1ULL << 60, 0, NULL, NULL));

	d = imp_checksum(h + 100, 0, 4096);
	EXPECT_EQ(-ENOENT, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, self->size - 4096, 4097);
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, UINT64_MAX - 10, 20);
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, 0, 0);
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, 0, 4096);
	d.op = 99;
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, 0, 4096);
	d.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, 0, 4096);
	d.dst_handle = h;	/* CHECKSUM writes nothing */
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_copy(h, 0, h, 0, 4096);
	d.pattern = 5;		/* COPY has no pattern */
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_checksum(h, 0, 4096);
	d.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	d.in_fence_fd = fds[0];
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d.in_fence_fd = 1000;
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_fill(h, 0, 4096, 1);
	imp_set_latency(&d, COHBUF_IMP_MAX_LATENCY_MS + 1);
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_fill(h, 0, 4096, 1);
	d.engine = 99;
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	d = imp_fill(h, 0, 4096, 1);
	d.pad = 1;
	EXPECT_EQ(-EINVAL, cohbuf_importer_submit(self->imp, &d));
	close(fds[0]);
	close(fds[1]);
	close(efd);
	close(mfd);
}

/* One process allocates and sends the fd; another imports and fills it. */
TEST_F(imp, a_buffer_sent_over_scm_rights_is_filled_by_the_receiver)
{
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct cohbuf_imp_submit_data d;
		int imp = cohbuf_importer_open(), fd = cohbuf_fd_recv(sv[1]), st = 1;
		__u32 h;

		if (imp < 0 || fd < 0)
			_exit(1);
		if (cohbuf_importer_import(imp, fd, &h, NULL) || !h)
			_exit(2);
		d = imp_fill(h, 8192, 8192, 0x600df00d);
		if (cohbuf_importer_submit(imp, &d) ||
		    cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &st, NULL) || st)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, cohbuf_fd_send(sv[0], self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d", WEXITSTATUS(status));
	EXPECT_EQ(0x0d, self->map[8192]);
	EXPECT_EQ(0x60, self->map[8192 + 8191]);
	EXPECT_TRUE(all_bytes(self->map, 8192, 0));
	close(sv[0]);
}

/*
 * The importer device's segment limits (module parameters max_segment and
 * seg_boundary), lowered: cohbuf must hand it tables that keep to them, and
 * a job over the split mapping still sees every byte.
 */

FIXTURE(seglim) {
	int dev, imp, fd;
	size_t size;
	unsigned char *map;
	char max_segment[32], seg_boundary[32];
	struct cohbuf_chunk_info chunks[64];
	unsigned int nr_chunks;
};

FIXTURE_SETUP(seglim)
{
	struct cohbuf_info_data info;

	ASSERT_LT(0, read_text(IMPORTER_PARAM("max_segment"), self->max_segment,
			       sizeof(self->max_segment)));
	ASSERT_LT(0, read_text(IMPORTER_PARAM("seg_boundary"), self->seg_boundary,
			       sizeof(self->seg_boundary)));
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp);
	self->size = 9 * MIB;
	self->fd = test_alloc(self->dev, self->size);
	ASSERT_LE(0, self->fd);
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	random_bytes(self->map, self->size, 0x5e9);
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, self->fd, &info, self->chunks, 64));
	self->nr_chunks = info.nr_chunks;
	ASSERT_LE(1, self->nr_chunks);
	ASSERT_GE(64, self->nr_chunks);
	ASSERT_NE(0, self->chunks[0].dma_addr) TH_LOG("bus addresses are hidden");
}

/* In the test's fork parent: the limits go back, whatever became of the test. */
FIXTURE_TEARDOWN_PARENT(seglim)
{
	EXPECT_EQ(0, settings_pop_all());
}

/* The entries a table keeping to @max and @mask has (no IOMMU here). */
static unsigned int expected_nents(struct _test_data_seglim *self, __u64 max, __u64 mask)
{
	unsigned int n = 0, i;
	__u64 a, end, len;

	for (i = 0; i < self->nr_chunks; i++) {
		end = self->chunks[i].dma_addr + self->chunks[i].len;
		for (a = self->chunks[i].dma_addr; a < end; a += len, n++) {
			len = end - a < max ? end - a : max;
			if (mask != ~0ULL && mask - (a & mask) + 1 < len)
				len = mask - (a & mask) + 1;
		}
	}
	return n;
}

/* Set the limits, import, check the entry count and a checksum job. */
static void import_with_limits(struct __test_metadata *_metadata,
			       struct _test_data_seglim *self, __u64 max, __u64 mask)
{
	struct cohbuf_imp_import_data d;
	struct cohbuf_imp_submit_data job;
	__u32 csum = 0, h;
	int ret;

	ASSERT_EQ(0, setting_push_number(IMPORTER_PARAM("max_segment"), max));
	ASSERT_EQ(0, setting_push_number(IMPORTER_PARAM("seg_boundary"), mask));
	ret = cohbuf_importer_import(self->imp, self->fd, &h, &d);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	ASSERT_NE(0u, h);
	EXPECT_EQ(expected_nents(self, max, mask), d.nents);
	EXPECT_LT(self->nr_chunks, d.nents);
	job = imp_checksum(h, 0, self->size);
	EXPECT_EQ(0, run_job(_metadata, self->imp, &job, &csum));
	EXPECT_EQ(test_crc32(self->map, self->size), csum);
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
}

TEST_F(seglim, split_at_the_max_segment_size)
{
	import_with_limits(_metadata, self, 16 * KIB, ~0ULL);
}

TEST_F(seglim, split_at_the_segment_boundary)
{
	import_with_limits(_metadata, self, 0xffffffffULL, 64 * KIB - 1);
}

TEST_F(seglim, split_at_the_max_segment_size_and_the_boundary_together)
{
	/* Three pages: segments end off the boundaries too. */
	import_with_limits(_metadata, self, 12 * KIB, 32 * KIB - 1);
}

TEST_F(seglim, bad_limits_are_refused)
{
	char text[32];

	static const char * const bad[][2] = {
		{ IMPORTER_PARAM("max_segment"), "100" },	/* less than a page */
		{ IMPORTER_PARAM("seg_boundary"), "0x12345" },	/* not a mask */
		{ IMPORTER_PARAM("seg_boundary"), "0x7ff" },	/* a mask below a page */
	};
	size_t i;

	/* Refused by the write: not a full stack or an unreadable old value. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, setting_push(bad[i][0], bad[i][1]))
			TH_LOG("%s=%s", bad[i][0], bad[i][1]);
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("%s=%s: %s", bad[i][0], bad[i][1], strerror(errno));
	}
	ASSERT_LT(0, read_text(IMPORTER_PARAM("max_segment"), text, sizeof(text)));
	EXPECT_STREQ(self->max_segment, text);
	ASSERT_LT(0, read_text(IMPORTER_PARAM("seg_boundary"), text, sizeof(text)));
	EXPECT_STREQ(self->seg_boundary, text);
}

TEST_HARNESS_MAIN
