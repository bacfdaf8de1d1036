// SPDX-License-Identifier: GPL-2.0
/*
 * The dma-heaps of cohbuf_heap.ko: /dev/dma_heap/cohbuf, cohbuf-wc and
 * cohbuf-contig hand out cohbuf's own buffers, with its checks, limits and
 * accounting; they fail with ENODEV while cohbuf is unloaded and work again
 * once it is back; cohbuf_heap itself never unloads.
 *
 * cohbuf_heap.ko is built only for kernels that export dma_heap_add() to
 * modules. Where the heaps are missing, the tests skip on kernels that do
 * not export it and fail on those that should (6.18 and later). If the
 * module file is installed but not loaded, the fixture loads it:
 * $COHBUF_HEAP_KO, or /lib/modules/$(uname -r)/extra/cohbuf_heap.ko.
 * Runs after cohbuf_module_test; it unloads and reloads cohbuf itself.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <limits.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

#define HEAP_DIR	"/dev/dma_heap/"
#define WAIT_NS		(20000 * MS)
#define NR_HEAPS	3

static const struct heap_kind {
	const char *name;
	__u32 flags;
	__u32 cache_mode;
	__u64 size;		/* what the tests allocate from it */
} heaps[NR_HEAPS] = {
	/* Over chunk_size (4 MiB by default): more than one chunk. */
	{ "cohbuf", 0, COHBUF_CACHE_CACHED, 6 * MIB },
	{ "cohbuf-wc", 0, COHBUF_CACHE_WC, 1 * MIB },
	{ "cohbuf-contig", COHBUF_ALLOC_CONTIGUOUS, COHBUF_CACHE_CACHED, 2 * MIB },
};

/* Load cohbuf_heap.ko if it is installed and not loaded yet. */
static void load_heap_module(void)
{
	const char *env = getenv("COHBUF_HEAP_KO");
	char path[PATH_MAX];
	struct utsname u;

	if (test_module_loaded("cohbuf_heap"))
		return;
	if (env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		if (uname(&u))
			return;
		snprintf(path, sizeof(path), "/lib/modules/%s/extra/cohbuf_heap.ko",
			 u.release);
	}
	test_load_module(path);
}

/* Should this kernel have the heaps (does it export dma_heap_add)? */
static int heaps_expected(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 18);
}

/* A DMA_HEAP_IOCTL_ALLOC: the new fd, or -errno. */
static int heap_alloc(int heap, __u64 len, __u32 fd_flags, __u64 heap_flags)
{
	struct dma_heap_allocation_data a = {
		.len = len, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a))
		return -errno;
	return (int)a.fd;
}

/* Reload cohbuf if a test left it unloaded; 0 if it is loaded. */
static int ensure_cohbuf_loaded(void)
{
	char path[PATH_MAX];
	const char *ko;

	if (test_module_loaded("cohbuf"))
		return 0;
	ko = test_module_file(path, sizeof(path));
	return ko ? test_load_module(ko) : -1;
}

FIXTURE(heap) {
	int heap[NR_HEAPS];
	int dev;
	struct cohbuf_limits limits;	/* as found */
};

FIXTURE_SETUP(heap)
{
	char path[256];
	int i;

	self->dev = -1;
	for (i = 0; i < NR_HEAPS; i++)
		self->heap[i] = -1;
	if (access(HEAP_DIR "cohbuf", F_OK))
		load_heap_module();
	if (access(HEAP_DIR "cohbuf", F_OK)) {
		if (!heaps_expected())
			SKIP(return, "this kernel does not export dma_heap_add to modules");
		ASSERT_EQ(0, access(HEAP_DIR "cohbuf", F_OK))
			TH_LOG("%s is missing on a kernel that exports dma_heap_add%s",
			       HEAP_DIR "cohbuf", ": is cohbuf_heap.ko installed?");
	}
	for (i = 0; i < NR_HEAPS; i++) {
		snprintf(path, sizeof(path), HEAP_DIR "%s", heaps[i].name);
		self->heap[i] = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, self->heap[i]) TH_LOG("%s: %s", path, strerror(errno));
	}
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", COHBUF_DEV, strerror(errno));
	ASSERT_EQ(0, cohbuf_read_limits(&self->limits));
}

/*
 * In the test's fork parent, after the test's process has ended (and
 * closed its fds): whatever a test did, cohbuf is loaded again, with its
 * limits.
 */
FIXTURE_TEARDOWN_PARENT(heap)
{
	if (ensure_cohbuf_loaded())
		TH_LOG("cannot reload cohbuf: %s", strerror(errno));
	EXPECT_EQ(0, settings_pop_all());
}

TEST_F(heap, each_heap_allocates_a_cohbuf_buffer)
{
	struct cohbuf_info_data info;
	__u64 last_id = 0;
	int i, fd;

	for (i = 0; i < NR_HEAPS; i++) {
		fd = heap_alloc(self->heap[i], heaps[i].size, O_RDWR | O_CLOEXEC, 0);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", heaps[i].name, strerror(-fd));
		ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd, &info, NULL, 0))
			TH_LOG("%s: INFO: %s", heaps[i].name, strerror(errno));
		EXPECT_EQ(heaps[i].size, info.size);
		EXPECT_EQ(heaps[i].flags, info.flags);
		EXPECT_EQ(heaps[i].cache_mode, info.cache_mode);
		/* A contiguous buffer is one chunk, a large one several. */
		EXPECT_EQ(1, (heaps[i].flags & COHBUF_ALLOC_CONTIGUOUS) ?
			  info.nr_chunks : !!info.nr_chunks);
		if (heaps[i].size > 4 * MIB && heaps[i].size > (__u64)cohbuf_param("chunk_size"))
			EXPECT_LT(1, info.nr_chunks);
		EXPECT_LT(last_id, info.id) TH_LOG("%s: id %llu after %llu", heaps[i].name,
						   (unsigned long long)info.id,
						   (unsigned long long)last_id);
		last_id = info.id;
		EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
		close(fd);
	}
}

TEST_F(heap, read_only_fd_is_a_read_only_buffer)
{
	int fd = heap_alloc(self->heap[0], 64 * KIB, O_RDONLY | O_CLOEXEC, 0);
	void *p;

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 64 * KIB);
	close(fd);
}

TEST_F(heap, zeroed_and_mapped_read_write)
{
	unsigned char *a, *b;
	size_t size;
	int i, fd;

	for (i = 0; i < NR_HEAPS; i++) {
		size = heaps[i].size;
		fd = heap_alloc(self->heap[i], size, O_RDWR | O_CLOEXEC, 0);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", heaps[i].name, strerror(-fd));
		a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		b = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, a);
		ASSERT_NE(MAP_FAILED, b);
		EXPECT_TRUE(all_bytes(a, size, 0)) TH_LOG("%s is not zeroed", heaps[i].name);
		memset(a, 0x5a, size);
		EXPECT_TRUE(all_bytes(b, size, 0x5a)) TH_LOG("%s: second mapping differs",
							     heaps[i].name);
		munmap(b, size);
		munmap(a, size);
		close(fd);
	}
}

TEST_F(heap, counted_by_the_exporter)
{
	long long buffers = cohbuf_stat("live_buffers");
	long long bytes = cohbuf_stat("live_bytes");
	long long allocs = cohbuf_stat("allocations");
	struct cohbuf_info_data info;
	char needle[64], line[512];
	int fd[NR_HEAPS], i;
	long long total = 0;

	ASSERT_LE(0, buffers) TH_LOG("no %s/stats", COHBUF_DEBUGFS);
	for (i = 0; i < NR_HEAPS; i++) {
		fd[i] = heap_alloc(self->heap[i], heaps[i].size, O_RDWR | O_CLOEXEC, 0);
		ASSERT_LE(0, fd[i]) TH_LOG("%s: %s", heaps[i].name, strerror(-fd[i]));
		total += heaps[i].size;
		ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd[i], &info, NULL, 0));
		snprintf(needle, sizeof(needle), "id=%llu size=%llu ",
			 (unsigned long long)info.id, (unsigned long long)heaps[i].size);
		EXPECT_EQ(0, find_line(COHBUF_DEBUGFS "/buffers", needle, line, sizeof(line)))
			TH_LOG("%s: no \"%s\" in buffers", heaps[i].name, needle);
		EXPECT_NE(NULL, strstr(line, heaps[i].cache_mode == COHBUF_CACHE_WC ?
					     "cache=wc" : "cache=cached"));
	}
	EXPECT_EQ(buffers + NR_HEAPS, cohbuf_stat("live_buffers"));
	EXPECT_EQ(bytes + total, cohbuf_stat("live_bytes"));
	EXPECT_EQ(allocs + NR_HEAPS, cohbuf_stat("allocations"));
	for (i = 0; i < NR_HEAPS; i++)
		close(fd[i]);
	EXPECT_EQ(buffers, cohbuf_stat("live_buffers"));
	EXPECT_EQ(bytes, cohbuf_stat("live_bytes"));
}

TEST_F(heap, max_total_bytes_applies)
{
	long long failures = cohbuf_stat("failures");
	long long live = cohbuf_stat("live_bytes");
	int fd, i;

	ASSERT_LE(0, live);
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"), live + 64 * KIB));
	for (i = 0; i < NR_HEAPS; i++) {
		fd = heap_alloc(self->heap[i], 1 * MIB, O_RDWR | O_CLOEXEC, 0);
		EXPECT_EQ(-ENOMEM, fd) TH_LOG("%s", heaps[i].name);
		if (fd >= 0)
			close(fd);
	}
	EXPECT_EQ(failures + NR_HEAPS, cohbuf_stat("failures"));
	/* Within the limit it still works. */
	fd = heap_alloc(self->heap[0], 64 * KIB, O_RDWR | O_CLOEXEC, 0);
	EXPECT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	if (fd >= 0)
		close(fd);
}

TEST_F(heap, invalid_requests_fail_with_einval_or_e2big)
{
	__u64 max = (__u64)self->limits.max_buffer;
	int i;

	for (i = 0; i < NR_HEAPS; i++) {
		EXPECT_EQ(-EINVAL, heap_alloc(self->heap[i], 64 * KIB, O_WRONLY | O_CLOEXEC, 0))
			TH_LOG("%s: O_WRONLY", heaps[i].name);
		EXPECT_EQ(-EINVAL, heap_alloc(self->heap[i], 64 * KIB, O_RDWR, 1))
			TH_LOG("%s: heap_flags 1", heaps[i].name);
		EXPECT_EQ(-EINVAL, heap_alloc(self->heap[i], 64 * KIB, O_RDWR | O_NONBLOCK, 0))
			TH_LOG("%s: O_NONBLOCK", heaps[i].name);
		EXPECT_EQ(-EINVAL, heap_alloc(self->heap[i], 0, O_RDWR, 0))
			TH_LOG("%s: size 0", heaps[i].name);
		EXPECT_EQ(-E2BIG, heap_alloc(self->heap[i], max + 4 * KIB, O_RDWR, 0))
			TH_LOG("%s: max_buffer_size + 4 KiB", heaps[i].name);
	}
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_buffer_size"), 1 * MIB));
	EXPECT_EQ(-E2BIG, heap_alloc(self->heap[0], 1 * MIB + 1, O_RDWR, 0));
}

TEST_F(heap, importer_fills_and_checksums)
{
	unsigned char *map, *want;
	__u32 csum = 0, pattern, h;
	int imp, i, fd, ret, status;
	struct cohbuf_imp_submit_data d;
	size_t size;

	imp = cohbuf_importer_open();
	ASSERT_LE(0, imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(-imp));
	for (i = 0; i < NR_HEAPS; i++) {
		size = heaps[i].size;
		pattern = 0x13572468u + (__u32)i;
		fd = heap_alloc(self->heap[i], size, O_RDWR | O_CLOEXEC, 0);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", heaps[i].name, strerror(-fd));
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		want = malloc(size);
		ASSERT_NE(NULL, want);
		pattern_bytes(want, size, pattern);
		ret = cohbuf_importer_import(imp, fd, &h, NULL);
		ASSERT_EQ(0, ret) TH_LOG("%s: import: %s", heaps[i].name, strerror(-ret));
		ASSERT_NE(0u, h);

		d = imp_fill(h, 0, size, pattern);
		ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
		ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, NULL));
		EXPECT_EQ(0, status);
		ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_begin(fd, DMA_BUF_SYNC_READ));
		EXPECT_EQ(0, memcmp(map, want, size)) TH_LOG("%s: CPU sees other bytes",
							     heaps[i].name);
		ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_end(fd, DMA_BUF_SYNC_READ));

		d = imp_checksum(h, 0, size);
		ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
		ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, &csum));
		EXPECT_EQ(0, status);
		EXPECT_EQ(test_crc32(want, size), csum) TH_LOG("%s", heaps[i].name);

		EXPECT_EQ(0, cohbuf_importer_release(imp, h));
		free(want);
		munmap(map, size);
		close(fd);
	}
	close(imp);
}

TEST_F(heap, enodev_while_cohbuf_is_unloaded)
{
	char path[PATH_MAX];
	const char *ko = test_module_file(path, sizeof(path));
	int fd, i;

	if (!ko || access(ko, R_OK))
		SKIP(return, "module file not found (set COHBUF_KO)");
	/* A heap buffer pins cohbuf as any cohbuf buffer does. */
	fd = heap_alloc(self->heap[0], 64 * KIB, O_RDWR | O_CLOEXEC, 0);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(-1, test_unload_module("cohbuf"));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);

	close(self->dev);
	self->dev = -1;
	ASSERT_EQ(0, cohbuf_stat("live_buffers")) TH_LOG("a buffer is still alive");
	ASSERT_EQ(0, test_unload_module("cohbuf")) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_FALSE(test_module_loaded("cohbuf"));
	for (i = 0; i < NR_HEAPS; i++) {
		EXPECT_EQ(-ENODEV, heap_alloc(self->heap[i], 64 * KIB, O_RDWR | O_CLOEXEC, 0))
			TH_LOG("%s", heaps[i].name);
	}
	EXPECT_EQ(0, access(HEAP_DIR "cohbuf", F_OK));
	EXPECT_TRUE(test_module_loaded("cohbuf_heap"));

	ASSERT_EQ(0, test_load_module(ko)) TH_LOG("finit_module %s: %s", ko, strerror(errno));
	for (i = 0; i < NR_HEAPS; i++) {
		fd = heap_alloc(self->heap[i], 64 * KIB, O_RDWR | O_CLOEXEC, 0);
		EXPECT_LE(0, fd) TH_LOG("%s after reload: %s", heaps[i].name, strerror(-fd));
		if (fd >= 0)
			close(fd);
	}
	self->dev = cohbuf_dev_open();
	EXPECT_LE(0, self->dev);
}

TEST_F(heap, cohbuf_heap_never_unloads)
{
	EXPECT_EQ(-1, test_unload_module("cohbuf_heap"));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_TRUE(test_module_loaded("cohbuf_heap"));
	EXPECT_EQ(0, access(HEAP_DIR "cohbuf-contig", F_OK));
}

TEST_HARNESS_MAIN
