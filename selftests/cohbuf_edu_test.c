// SPDX-License-Identifier: GPL-2.0
/*
 * The importer's device engine on QEMU's edu PCI device: FILL, COPY and
 * CHECKSUM moved by the device's DMA engine through the importer's own
 * mapping of each dma-buf for the PCI device, checked byte for byte
 * against the CPU; jobs of the device and of the CPU engines ordered by
 * the same fences; and the device's failures (a transfer timeout, unbind
 * and PCI remove in the middle of a job), each of which must end every
 * job with an error, in bounded time, leaving no mapping behind.
 * Each edu transfer takes about 100 ms: the jobs here are a few KiB.
 * Skips where there is no edu device (a machine the rig did not boot).
 */

#include <dirent.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

#define EDU_DRIVER	"/sys/bus/pci/drivers/cohbuf-edu"
#define PCI_DEVICES	"/sys/bus/pci/devices"
#define WAIT_NS		(20000 * MS)
#define BUF_SIZE	(64 * KIB)
/*
 * Binding can take a while where ACPI routes the device's INTx slowly:
 * under KASAN and TCG, i440fx's _PRT ran into ACPICA's 30 s loop timeout
 * at every bind (the rig boots the debug guest on q35 for this). Jobs
 * never wait for it.
 */
#define RESTORE_S	60
#define UNBIND_TIMEOUT_S	180

/* The PCI address of the first edu device (1234:11e8) in @bdf: 0, or -1. */
static int edu_find(char *bdf, size_t len)
{
	char path[512], text[32];
	struct dirent *e;
	DIR *dir = opendir(PCI_DEVICES);
	int found = -1;

	if (!dir)
		return -1;
	while (found && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", e->d_name);
		if (read_text(path, text, sizeof(text)) < 0 || strtol(text, NULL, 0) != 0x1234)
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", e->d_name);
		if (read_text(path, text, sizeof(text)) < 0 || strtol(text, NULL, 0) != 0x11e8)
			continue;
		snprintf(bdf, len, "%s", e->d_name);
		found = 0;
	}
	closedir(dir);
	return found;
}

static int edu_bound(const char *bdf)
{
	char path[512];

	snprintf(path, sizeof(path), EDU_DRIVER "/%s", bdf);
	return access(path, F_OK) == 0;
}

/*
 * Bring the edu device back after a test removed or unbound it: rescan
 * the bus if it is gone, bind it if it is not bound, and wait up to
 * RESTORE_S. 0 once it is bound to cohbuf-edu, or -1.
 */
static int edu_restore(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	double start = monotonic_s();
	char bdf[256];

	if (edu_find(bdf, sizeof(bdf)))
		write_text("/sys/bus/pci/rescan", "1");
	while (monotonic_s() - start < RESTORE_S) {
		if (!edu_find(bdf, sizeof(bdf))) {
			if (edu_bound(bdf))
				return 0;
			write_text(EDU_DRIVER "/bind", bdf);
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

/*
 * Tests that unbind the device and bind it again are numbered 1, 2, 3;
 * where binding is slow the rig allows fewer (COHBUF_EDU_REBINDS, e.g. 1
 * in the debug guest): is test @n one of them?
 */
static int rebind_allowed(int n)
{
	const char *env = getenv("COHBUF_EDU_REBINDS");

	return !env || n <= atoi(env);
}

#define REBIND_SKIP	"COHBUF_EDU_REBINDS: binding is slow here, and the unbind test covers remove()"

static long long imp_mappings(void)
{
	return read_number(IMPORTER_DEBUGFS "/stats", "mappings");
}

/* Run @d on device slot 0. */
static void on_device(struct cohbuf_imp_submit_data *d)
{
	d->flags |= COHBUF_IMP_SUBMIT_DEVICE;
	d->engine = 0;
}

/* Submit @d, wait for it; returns its status, the checksum via @csum. */
static int run_job(struct __test_metadata *_metadata, int imp,
		   struct cohbuf_imp_submit_data *d, __u32 *csum)
{
	int status = -1;

	EXPECT_EQ(0, cohbuf_importer_submit(imp, d));
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d->job_id, WAIT_NS, &status, csum));
	return status;
}

FIXTURE(edu) {
	int dev, imp;
	int fd;			/* BUF_SIZE cohbuf buffer */
	unsigned char *map;
	__u32 handle;
	char bdf[256];
};

FIXTURE_SETUP(edu)
{
	int ret;

	self->fd = -1;
	if (edu_find(self->bdf, sizeof(self->bdf))) {
		self->bdf[0] = '\0';
		SKIP(return, "no QEMU edu device (1234:11e8) on this machine");
	}
	ASSERT_TRUE(edu_bound(self->bdf))
		TH_LOG("edu device %s is not bound to cohbuf-edu", self->bdf);
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(errno));
	self->fd = test_alloc(self->dev, BUF_SIZE);
	ASSERT_LE(0, self->fd);
	self->map = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	memset(self->map, 0xaa, BUF_SIZE);
	ret = cohbuf_importer_import(self->imp, self->fd, &self->handle, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
}

/*
 * Whatever a test did to the device or the parameters is undone, in the
 * parent, which sees the fixture: a test that found a device leaves it
 * bound again.
 */
FIXTURE_TEARDOWN_PARENT(edu)
{
	EXPECT_EQ(0, settings_pop_all());
	if (self->bdf[0])
		EXPECT_EQ(0, edu_restore());
}

/* A slot without a device, and no slot at all, are refused. */
TEST_F(edu, submit_to_a_missing_device_is_refused)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, 16, 0x1);

	on_device(&d);
	d.engine = COHBUF_IMP_MAX_DEVICES - 1;
	EXPECT_EQ(-ENODEV, cohbuf_importer_submit(self->imp, &d));
	d.engine = COHBUF_IMP_MAX_DEVICES;
	EXPECT_EQ(-ENODEV, cohbuf_importer_submit(self->imp, &d));
}

/*
 * Within one chunk: a FILL, a COPY of it elsewhere and a CHECKSUM of the
 * copy, each through the device's window; bytes around the ranges stay.
 */
TEST_F(edu, fill_copy_checksum_in_one_chunk)
{
	unsigned char expect[3000];
	struct cohbuf_imp_submit_data d;
	__u32 csum = 0;

	d = imp_fill(self->handle, 100, sizeof(expect), 0xc0ffee11);
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	pattern_bytes(expect, sizeof(expect), 0xc0ffee11);
	EXPECT_EQ(0, memcmp(self->map + 100, expect, sizeof(expect)));
	EXPECT_TRUE(all_bytes(self->map, 100, 0xaa));
	EXPECT_EQ(0xaa, self->map[100 + sizeof(expect)]);

	d = imp_copy(self->handle, 8000, self->handle, 100, sizeof(expect));
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(0, memcmp(self->map + 8000, expect, sizeof(expect)));
	EXPECT_EQ(0xaa, self->map[7999]);

	/* The CPU changes one byte: the device must read memory, not a copy. */
	self->map[8001] ^= 0xff;
	expect[1] ^= 0xff;
	d = imp_checksum(self->handle, 8000, sizeof(expect));
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), csum);
}

/* A random FILL over two windows is the uapi's stream, from its start. */
TEST_F(edu, random_fill_across_windows)
{
	unsigned char expect[5000];
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 3, sizeof(expect), 0);

	d.flags = COHBUF_IMP_SUBMIT_RANDOM;
	d.seed = 0x1234567890abcdefULL;
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	random_bytes(expect, sizeof(expect), d.seed);
	EXPECT_EQ(0, memcmp(self->map + 3, expect, sizeof(expect)));
	EXPECT_EQ(0xaa, self->map[2]);
	EXPECT_EQ(0xaa, self->map[3 + sizeof(expect)]);
}

/* An overlapping COPY upwards in one buffer keeps memmove() semantics. */
TEST_F(edu, overlapping_copy_is_a_memmove)
{
	unsigned char before[7000], expect[7000];
	struct cohbuf_imp_submit_data d;

	random_bytes(before, sizeof(before), 42);
	memcpy(self->map, before, sizeof(before));
	memcpy(expect, before, sizeof(expect));
	memmove(expect + 1000, expect, 6000);
	d = imp_copy(self->handle, 1000, self->handle, 0, 6000);
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(0, memcmp(self->map, expect, sizeof(expect)));
}

/*
 * A 9 MiB cohbuf buffer has three chunks: a COPY from across the first
 * boundary to across the second, and a CHECKSUM of it, each go entry by
 * entry of the device's mapping.
 */
TEST_F(edu, copy_and_checksum_across_chunk_boundaries)
{
	const size_t size = 9 * MIB, len = 6000;
	const size_t src = 4 * MIB - 3000, dst = 8 * MIB - 1000;
	struct cohbuf_imp_import_data info;
	struct cohbuf_imp_submit_data d;
	unsigned char *map, expect[6000];
	int fd = test_alloc(self->dev, size);
	__u32 h, csum = 0;

	ASSERT_LE(0, fd);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, fd, &h, &info));
	ASSERT_LE(3, info.nents);
	random_bytes(expect, len, 7);
	memcpy(map + src, expect, len);

	d = imp_copy(h, dst, h, src, len);
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(0, memcmp(map + dst, expect, len));
	d = imp_checksum(h, dst, len);
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	EXPECT_EQ(test_crc32(expect, len), csum);
	munmap(map, size);
	close(fd);
}

/* Device FILL of a buffer made by another exporter, checked through its mmap. */
static void fill_foreign(struct __test_metadata *_metadata, int imp, int fd,
			 unsigned char *map, size_t size)
{
	unsigned char expect[8192];
	struct cohbuf_imp_submit_data d;
	__u32 h, csum = 0;
	int ret;

	ASSERT_LE(sizeof(expect), size);
	ret = cohbuf_importer_import(imp, fd, &h, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	d = imp_fill(h, 0, sizeof(expect), 0);
	d.flags = COHBUF_IMP_SUBMIT_RANDOM;
	d.seed = 99;
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, imp, &d, NULL));
	random_bytes(expect, sizeof(expect), 99);
	EXPECT_EQ(0, memcmp(map, expect, sizeof(expect)));
	d = imp_checksum(h, 0, sizeof(expect));
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, imp, &d, &csum));
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), csum);
	EXPECT_EQ(0, cohbuf_importer_release(imp, h));
}

TEST_F(edu, udmabuf_through_the_device)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 16 * KIB };
	int udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd, fd;
	unsigned char *map;

	if (udev < 0)
		SKIP(return, "no /dev/udmabuf: kernel built without CONFIG_UDMABUF");
	memfd = memfd_create("edu-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, c.size));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	c.memfd = memfd;
	fd = ioctl(udev, UDMABUF_CREATE, &c);
	ASSERT_LE(0, fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill_foreign(_metadata, self->imp, fd, map, c.size);
	munmap(map, c.size);
	close(fd);
	close(memfd);
	close(udev);
}

TEST_F(edu, system_heap_through_the_device)
{
	struct dma_heap_allocation_data a = {
		.len = 16 * KIB, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	unsigned char *map;

	if (heap < 0)
		SKIP(return, "no /dev/dma_heap/system: kernel built without DMABUF_HEAPS_SYSTEM");
	/*
	 * The system heap maps each attachment with CPU syncs; mapped for
	 * the importer's device and for edu at once, its pages are what the
	 * DMA API's debugging reports as overlapping mappings.
	 */
	if (!access("/sys/kernel/debug/dma-api", F_OK)) {
		close(heap);
		SKIP(return, "DMA-API debugging reports system-heap pages mapped for two devices");
	}
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) TH_LOG("alloc: %s", strerror(errno));
	map = mmap(NULL, a.len, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill_foreign(_metadata, self->imp, a.fd, map, a.len);
	munmap(map, a.len);
	close(a.fd);
	close(heap);
}

/*
 * The buffers' reservation objects order device and CPU jobs both ways,
 * and a device job's out-fence holds a CPU job on another buffer.
 */
TEST_F(edu, device_and_cpu_jobs_are_ordered_by_fences)
{
	unsigned char expect[4096];
	struct cohbuf_imp_submit_data d, cpu;
	int fd2 = test_alloc(self->dev, BUF_SIZE), status = -1;
	__u32 h2, csum = 0;

	/* Device writes, then the CPU engine reads: implicit sync. */
	d = imp_fill(self->handle, 0, sizeof(expect), 0x0badcafe);
	on_device(&d);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	cpu = imp_checksum(self->handle, 0, sizeof(expect));
	ASSERT_EQ(0, run_job(_metadata, self->imp, &cpu, &csum));
	pattern_bytes(expect, sizeof(expect), 0x0badcafe);
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), csum);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);

	/* A slow CPU write, then the device reads. */
	cpu = imp_fill(self->handle, 0, sizeof(expect), 0x600df00d);
	imp_set_latency(&cpu, 300);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &cpu));
	d = imp_checksum(self->handle, 0, sizeof(expect));
	on_device(&d);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	pattern_bytes(expect, sizeof(expect), 0x600df00d);
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), csum);
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, cpu.job_id, WAIT_NS, &status, NULL));

	/* Explicit: a CPU job on another buffer waits for the device's out-fence. */
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, fd2, &h2, NULL));
	d = imp_fill(self->handle, 0, sizeof(expect), 0x1);
	d.flags = COHBUF_IMP_SUBMIT_OUT_FENCE;
	on_device(&d);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	cpu = imp_fill(h2, 0, 16, 0x2);
	cpu.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	cpu.in_fence_fd = d.out_fence_fd;
	ASSERT_EQ(0, run_job(_metadata, self->imp, &cpu, NULL));
	EXPECT_TRUE(fd_ready(d.out_fence_fd, POLLIN));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	close(d.out_fence_fd);
	close(fd2);
}

/* A transfer longer than edu_timeout_ms fails its job; the device recovers. */
TEST_F(edu, transfer_timeout_fails_the_job)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, 64, 0x3);
	double start;

	ASSERT_EQ(0, setting_push(IMPORTER_PARAM("edu_timeout_ms"), "1"));
	on_device(&d);
	start = monotonic_s();
	EXPECT_EQ(-ETIMEDOUT, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_GT(5.0, monotonic_s() - start);
	ASSERT_EQ(0, settings_pop_all());
	d = imp_fill(self->handle, 0, 64, 0x3);
	on_device(&d);
	EXPECT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(3, self->map[0]);
}

/*
 * Does the device's DMA go through an IOMMU's translation? Its IOMMU
 * group's default domain says ("DMA" or "DMA-FQ"; "identity" does not
 * translate).
 */
static int edu_translated(const char *bdf)
{
	char path[512], type[64];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group/type", bdf);
	return read_text(path, type, sizeof(type)) > 0 && !strncmp(type, "DMA", 3);
}

/*
 * The test knob gives the device CPU physical addresses instead of the
 * mapping's: without an IOMMU they are the bus addresses and the job
 * works; behind one they are not mapped, the IOMMU blocks the transfers
 * and the job fails with -EIO, its destination untouched, in bounded time.
 */
TEST_F(edu, cpu_physical_addresses_fault_behind_an_iommu)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 4000, 200, 0x07070707);
	int translated = edu_translated(self->bdf), status;
	unsigned char expect[200];
	double start;

	ASSERT_EQ(0, setting_push(IMPORTER_PARAM("edu_wrong_address"), "Y"));
	on_device(&d);
	start = monotonic_s();
	status = run_job(_metadata, self->imp, &d, NULL);
	EXPECT_GT(5.0, monotonic_s() - start);
	pattern_bytes(expect, sizeof(expect), 0x07070707);
	if (translated) {
		EXPECT_EQ(-EIO, status);
		EXPECT_TRUE(all_bytes(self->map + 4000, sizeof(expect), 0xaa));
	} else {
		EXPECT_EQ(0, status);
		EXPECT_EQ(0, memcmp(self->map + 4000, expect, sizeof(expect)));
	}
	/* The right addresses work again, either way. */
	ASSERT_EQ(0, settings_pop_all());
	d = imp_fill(self->handle, 4000, 200, 0x08080808);
	on_device(&d);
	EXPECT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	EXPECT_EQ(8, self->map[4100]);
	TH_LOG("the device's DMA is %stranslated by an IOMMU", translated ? "" : "not ");
}

/*
 * Take the device away while a job of six transfers runs, with a job on
 * another buffer queued behind it and one that depends on it: all end,
 * their fences signalled, within a few seconds, the first two with
 * -ENODEV and the dependent one -ECANCELED (its dependency failed, as on
 * the CPU engines); the device's mappings are gone at once, and new jobs
 * are refused until the device is back.
 */
static void device_goes_away(struct __test_metadata *_metadata, int dev, int imp,
			     __u32 handle, const char *path, const char *text)
{
	struct timespec pause = { 0, 250 * 1000 * 1000 };
	struct cohbuf_imp_submit_data d, d2, d3;
	long long mappings = imp_mappings();
	int status = 0, status2 = 0, status3 = 0, fd2 = test_alloc(dev, BUF_SIZE), wstatus;
	double start;
	pid_t child;
	__u32 h2;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, cohbuf_importer_import(imp, fd2, &h2, NULL));
	mappings++;
	d = imp_copy(handle, 32 * KIB, handle, 0, 12 * KIB);
	d.flags = COHBUF_IMP_SUBMIT_OUT_FENCE;
	on_device(&d);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
	d2 = imp_fill(h2, 0, 64, 0x4);
	on_device(&d2);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d2));
	d3 = imp_fill(handle, 0, 64, 0x4);
	on_device(&d3);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d3));
	EXPECT_EQ(mappings + 2, imp_mappings());
	nanosleep(&pause, NULL);
	/* A child writes: the rest of remove may be slow, the jobs' end not. */
	start = monotonic_s();
	child = test_fork_child();
	ASSERT_LE(0, child);
	if (!child)
		_exit(write_text(path, text) ? 1 : 0);
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(-ENODEV, status);
	EXPECT_TRUE(fd_ready(d.out_fence_fd, POLLIN));
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d2.job_id, WAIT_NS, &status2, NULL));
	EXPECT_EQ(-ENODEV, status2);
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d3.job_id, WAIT_NS, &status3, NULL));
	EXPECT_EQ(-ECANCELED, status3);
	EXPECT_GT(5.0, monotonic_s() - start);
	ASSERT_EQ(child, waitpid(child, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus) && !WEXITSTATUS(wstatus)) TH_LOG("writing %s failed", path);
	TH_LOG("%s took %.1f s", path, monotonic_s() - start);
	EXPECT_EQ(mappings, imp_mappings());
	close(d.out_fence_fd);
	EXPECT_EQ(0, cohbuf_importer_release(imp, h2));
	close(fd2);
	mappings--;
	d = imp_fill(handle, 0, 64, 0x5);
	on_device(&d);
	EXPECT_EQ(-ENODEV, cohbuf_importer_submit(imp, &d));
	EXPECT_EQ(mappings, imp_mappings());

	/* Back again, it works. */
	ASSERT_EQ(0, edu_restore());
	d = imp_fill(handle, 0, 64, 0x6);
	on_device(&d);
	EXPECT_EQ(0, run_job(_metadata, imp, &d, NULL));
}

TEST_F_TIMEOUT(edu, unbind_mid_job_fails_every_job, UNBIND_TIMEOUT_S)
{
	char path[512];

	if (!rebind_allowed(1))
		SKIP(return, REBIND_SKIP);
	snprintf(path, sizeof(path), EDU_DRIVER "/unbind");
	device_goes_away(_metadata, self->dev, self->imp, self->handle, path, self->bdf);
	EXPECT_EQ(6, self->map[0]);
}

TEST_F_TIMEOUT(edu, pci_remove_mid_job_fails_every_job, UNBIND_TIMEOUT_S)
{
	char path[512];

	if (!rebind_allowed(2))
		SKIP(return, REBIND_SKIP);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/remove", self->bdf);
	device_goes_away(_metadata, self->dev, self->imp, self->handle, path, "1");
	EXPECT_EQ(6, self->map[0]);
}

/* finit_module(2) of @path with @params: 0, or -1 with errno set. */
static int load_module_with(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

/*
 * The module cannot go while a context is open. Closed with a long device
 * job running (nine windows, about 2 s) and more queued, the context
 * stops the running one at its next window instead of waiting for all of
 * it, and lets the module go at once. It comes back with the DMA mask it
 * had.
 */
TEST_F_TIMEOUT(edu, close_with_device_jobs_queued_then_unload, UNBIND_TIMEOUT_S)
{
	struct cohbuf_imp_submit_data d;
	char ko[4096], params[64];
	double start;
	int i;

	if (!rebind_allowed(3))
		SKIP(return, REBIND_SKIP);
	ASSERT_EQ(0, test_importer_module_file(ko, sizeof(ko)));
	snprintf(params, sizeof(params), "edu_dma_bits=%lld",
		 read_number(IMPORTER_PARAM("edu_dma_bits"), NULL));
	for (i = 0; i < 3; i++) {
		d = imp_copy(self->handle, 32 * KIB, self->handle, 0, i ? 8 * KIB : 32 * KIB);
		on_device(&d);
		ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	}
	EXPECT_EQ(-1, test_unload_module("cohbuf_importer"));
	start = monotonic_s();
	close(self->imp);
	EXPECT_GT(1.2, monotonic_s() - start);
	/* The buffer holds the jobs' fences, and each fence the module. */
	munmap(self->map, BUF_SIZE);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, test_module_unused("cohbuf_importer", 5));
	ASSERT_EQ(0, test_unload_module("cohbuf_importer")) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, load_module_with(ko, params)) TH_LOG("load: %s", strerror(errno));
	EXPECT_EQ(0, edu_restore());
}

TEST_HARNESS_MAIN
