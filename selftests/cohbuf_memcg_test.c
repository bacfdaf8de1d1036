// SPDX-License-Identifier: GPL-2.0
/*
 * Memory charged to whoever pins it: a buffer's pages count in the memory
 * cgroup of the process that allocates it.
 *
 * The test makes a cgroup2 memory cgroup with memory.max MEMCG_LIMIT
 * (mounting cgroup2 on /sys/fs/cgroup where nothing is mounted, as in the
 * test guests, and unmounting it afterwards) and moves a child into it.
 * The child allocates MEMCG_STEP buffers until ALLOC fails: it must fail
 * with ENOMEM, at the limit, without the memory cgroup's OOM killer, while
 * root, outside the cgroup, still allocates; memory.current must rise with
 * the child's buffers and fall as it closes them; and the exporter's
 * debugfs must name the child as the buffers' allocator. The test skips,
 * saying why, where the kernel has no cgroup2 memory controller (the
 * debug kernel is built without cgroups), and where the kernel has a CMA
 * area, as Debian's arm64 kernels do: dma-direct serves cohbuf's chunks
 * from it first and cma_alloc() charges no memory cgroup, a gap
 * Documentation/exporter.rst states.
 */

#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MEMCG_LIMIT	(32 * MIB)
#define MEMCG_STEP	MIB
#define MEMCG_MAX_BUFS	((int)(2 * MEMCG_LIMIT / MEMCG_STEP))
/* What the child's own memory (stack, page tables, kernel objects) may take. */
#define MEMCG_SLACK	(4 * MIB)
/*
 * What memory.current may lag behind a free: the memory controller keeps a
 * small charge cached per CPU (64 pages) instead of uncharging at once.
 */
#define MEMCG_STOCK	MIB

/* What the child reports; in memory shared with the test. */
struct memcg_report {
	int bufs;			/* buffers allocated before the failure */
	int err;			/* the failure's errno, 0 if none */
	__u64 first_id;			/* the first buffer's id */
	long long before, full, half, empty;	/* memory.current */
	int ready;			/* the child holds all its buffers */
	int go;				/* the test has looked: free them */
};

FIXTURE(memcg) {
	char dir[128];
	int mounted;
};

static long long memcg_current(const char *dir)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	return read_number(path, NULL);
}

static int memcg_write(const char *dir, const char *file, const char *value)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_text(path, value);
}

FIXTURE_SETUP(memcg)
{
	char text[256], limit[32];
	long long cma;

	if (access(COHBUF_DEV, F_OK))
		SKIP(return, "cohbuf is not loaded");
	/*
	 * dma-direct takes every allocation above a page from the CMA area
	 * first, while it has room (dma_alloc_contiguous()); a CmaFree probe
	 * is no proof either way, as cma_alloc() may migrate movable pages
	 * out instead of taking free ones.
	 */
	cma = meminfo_bytes("CmaTotal");
	if (cma > 0)
		SKIP(return, "a CMA area of %lld KiB serves cohbuf's chunks first: %s",
		     cma / (long long)KIB, "cma_alloc() charges no memory cgroup");
	if (access(CG_ROOT, F_OK))
		SKIP(return, "the kernel has no cgroups (CONFIG_CGROUPS): no %s", CG_ROOT);
	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
			SKIP(return, "cannot mount cgroup2 on %s: %s", CG_ROOT, strerror(errno));
		self->mounted = 1;
	}
	ASSERT_LE(0, read_text(CG_ROOT "/cgroup.controllers", text, sizeof(text)));
	if (!strstr(text, "memory")) {
		if (self->mounted)
			umount(CG_ROOT);
		SKIP(return, "the kernel has no cgroup2 memory controller (CONFIG_MEMCG)");
	}
	ASSERT_EQ(0, memcg_write(CG_ROOT, "cgroup.subtree_control", "+memory"))
		TH_LOG("enable the memory controller: %s", strerror(errno));
	snprintf(self->dir, sizeof(self->dir), CG_ROOT "/cohbuf-memcg-%d", getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755)) TH_LOG("%s: %s", self->dir, strerror(errno));
	snprintf(limit, sizeof(limit), "%llu", MEMCG_LIMIT);
	ASSERT_EQ(0, memcg_write(self->dir, "memory.max", limit));
	/* No swap in the guests; where there is, keep the child's memory in RAM. */
	memcg_write(self->dir, "memory.swap.max", "0");
}

FIXTURE_TEARDOWN_PARENT(memcg)
{
	if (self->dir[0])
		EXPECT_EQ(0, rmdir(self->dir)) TH_LOG("%s: %s", self->dir, strerror(errno));
	if (self->mounted)
		EXPECT_EQ(0, umount(CG_ROOT)) TH_LOG("umount: %s", strerror(errno));
}

static void memcg_wait(const int *flag)
{
	double start = monotonic_s();

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && monotonic_s() - start < 60)
		usleep(1000);
}

/* The child: join the cgroup, allocate until refused, report, free in two halves. */
static void memcg_child(const char *dir, struct memcg_report *r)
{
	struct cohbuf_buffer_desc desc = { .size = MEMCG_STEP };
	int dev, fds[MEMCG_MAX_BUFS], i, fd;
	struct cohbuf_info_data info;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* out of the cgroup with the test */
	if (memcg_write(dir, "cgroup.procs", "0"))
		_exit(10);
	dev = cohbuf_dev_open();
	if (dev < 0)
		_exit(11);
	r->before = memcg_current(dir);
	for (i = 0; i < MEMCG_MAX_BUFS; i++) {
		fd = cohbuf_exporter_alloc(dev, &desc, NULL);
		if (fd < 0) {
			r->err = -fd;
			break;
		}
		fds[i] = fd;
	}
	if (i && !cohbuf_exporter_info(dev, fds[0], &info, NULL, 0))
		r->first_id = info.id;
	r->bufs = i;
	r->full = memcg_current(dir);
	__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
	memcg_wait(&r->go);
	for (i = 0; i < r->bufs / 2; i++)
		close(fds[i]);
	r->half = memcg_current(dir);
	for (; i < r->bufs; i++)
		close(fds[i]);
	r->empty = memcg_current(dir);
	close(dev);
	_exit(0);
}

TEST_F_TIMEOUT(memcg, buffers_are_charged_to_the_allocating_cgroup, 120)
{
	struct memcg_report *r = test_shared_memory(sizeof(*r));
	long long bytes, freed;
	struct stat st;
	int dev, fd, status;
	pid_t pid;

	ASSERT_EQ(0, stat(self->dir, &st));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		memcg_child(self->dir, r);
	memcg_wait(&r->ready);
	ASSERT_TRUE(r->ready) TH_LOG("the child did not get to its limit");
	bytes = (long long)r->bufs * MEMCG_STEP;
	ksft_print_msg("memory.max %llu MiB: %d buffers of 1 MiB, then %s\n",
		       MEMCG_LIMIT / MIB, r->bufs, r->err ? strerror(r->err) : "no failure");
	ksft_print_msg("memory.current %lld KiB before them, %lld KiB with them\n",
		       r->before / 1024, r->full / 1024);
	/* Refused at the cgroup's limit, with ENOMEM, not far below it. */
	EXPECT_EQ(ENOMEM, r->err);
	EXPECT_GE((long long)MEMCG_LIMIT, bytes);
	EXPECT_LE((long long)MEMCG_LIMIT - MEMCG_SLACK, bytes);
	/* Charged: the buffers, which cannot be reclaimed, at least. */
	EXPECT_LE(bytes, r->full);
	EXPECT_LE(bytes - MEMCG_STOCK, r->full - r->before);

	/* Root, outside the cgroup, still allocates. */
	dev = cohbuf_dev_open();
	ASSERT_LE(0, dev);
	fd = test_alloc(dev, 8 * MIB);
	EXPECT_LE(0, fd) TH_LOG("root's alloc: %s", strerror(-fd));
	if (fd >= 0)
		close(fd);
	close(dev);

	/* debugfs names the allocator: the child, uid 0, the cgroup. */
	EXPECT_EQ(pid, cohbuf_buffer_field(r->first_id, "pid"));
	EXPECT_EQ(0, cohbuf_buffer_field(r->first_id, "uid"));
	EXPECT_EQ((long long)st.st_ino, cohbuf_buffer_field(r->first_id, "cgroup"));

	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x (a memory cgroup OOM kill is SIGKILL)", status);
	freed = (long long)(r->bufs / 2) * MEMCG_STEP;
	ksft_print_msg("memory.current after freeing half: %lld KiB, all: %lld KiB\n",
		       r->half / 1024, r->empty / 1024);
	EXPECT_LE(freed - MEMCG_STOCK, r->full - r->half);
	EXPECT_LE(bytes - freed - MEMCG_STOCK, r->half - r->empty);
	EXPECT_GE(r->before + MEMCG_SLACK, r->empty);
	munmap(r, sizeof(*r));
}

TEST_HARNESS_MAIN
