// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_IOCTL_ALLOC and COHBUF_IOCTL_INFO: sizes, chunking, flags, struct
 * sizes, accounting and limits, debugfs, module lifetime, and who may see
 * bus addresses.
 */

#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <limits.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define IOC_ALLOC_SIZED(sz) _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOC_MAGIC, 0x00, (sz))
#define IOC_INFO_SIZED(sz) _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOC_MAGIC, 0x01, (sz))

static __u32 nr_chunks_of(int dev, int fd)
{
	struct cohbuf_info_data info;

	if (cohbuf_exporter_info(dev, fd, &info, NULL, 0))
		return 0;
	return info.nr_chunks;
}

FIXTURE(alloc) {
	int dev;
	struct cohbuf_limits limits;	/* as found */
};

FIXTURE_SETUP(alloc)
{
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", COHBUF_DEV, strerror(errno));
	ASSERT_EQ(0, cohbuf_read_limits(&self->limits));
}

/*
 * In the test's fork parent, after the test's process has ended (and
 * closed its fds): limits a test lowered go back, even when it failed or
 * crashed.
 */
FIXTURE_TEARDOWN_PARENT(alloc)
{
	EXPECT_EQ(0, settings_pop_all());
}

TEST_F(alloc, size_is_kept_and_split_into_chunks_of_at_most_4mib)
{
	static const struct { __u64 size; __u32 min_chunks, max_chunks; } c[] = {
		{ 4 * KIB, 1, 1 },
		{ 64 * KIB, 1, 1 },
		{ 4 * MIB, 1, 1 },
		{ 5 * MIB, 2, 2 },
		{ 64 * MIB, 16, 16 },
	};
	struct cohbuf_info_data info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		int fd = test_alloc(self->dev, c[i].size);

		ASSERT_LE(0, fd) TH_LOG("size %llu: %s", (unsigned long long)c[i].size,
					strerror(-fd));
		ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd, &info, NULL, 0));
		EXPECT_EQ(c[i].size, info.size);
		EXPECT_LE(c[i].min_chunks, info.nr_chunks);
		EXPECT_GE(c[i].max_chunks, info.nr_chunks)
			TH_LOG("size %llu in %u chunks", (unsigned long long)c[i].size,
			       info.nr_chunks);
		close(fd);
	}
}

TEST_F(alloc, a_256mib_buffer_succeeds_in_64_or_more_chunks_and_is_counted)
{
	struct cohbuf_info_data info;
	int fd;

	if (self->limits.max_buffer < (long long)(256 * MIB))
		SKIP(return, "max_buffer_size is below 256 MIB");
	fd = test_alloc(self->dev, 256 * MIB);
	ASSERT_LE(0, fd) TH_LOG("256 MIB: %s", strerror(-fd));
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd, &info, NULL, 0));
	EXPECT_EQ(256 * MIB, info.size);
	EXPECT_LE(64, info.nr_chunks);
	EXPECT_EQ(256 * MIB, cohbuf_stat("live_bytes"));
	close(fd);
}

TEST_F(alloc, max_buffer_size_succeeds_and_one_byte_more_is_e2big)
{
	__u64 max = (__u64)self->limits.max_buffer;
	int fd;

	if (max <= (__u64)self->limits.max_total && max <= 256 * MIB) {
		fd = test_alloc(self->dev, max);
		ASSERT_LE(0, fd) TH_LOG("max %llu: %s", (unsigned long long)max, strerror(-fd));
		close(fd);
	}
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, max + 1));
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, max + 4 * KIB));
}

TEST_F(alloc, size_0_is_einval_and_sizes_past_the_limit_are_e2big)
{
	EXPECT_EQ(-EINVAL, test_alloc(self->dev, 0));
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, 1ULL << 63));
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, UINT64_MAX));
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, UINT64_MAX - 4095));
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_F(alloc, unaligned_size_rounds_up)
{
	struct cohbuf_info_data info;
	int fd;

	fd = test_alloc(self->dev, 1);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd, &info, NULL, 0));
	EXPECT_EQ(4 * KIB, info.size);
	close(fd);

	fd = test_alloc(self->dev, 4 * KIB + 1);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, fd, &info, NULL, 0));
	EXPECT_EQ(8 * KIB, info.size);
	close(fd);
}

TEST_F(alloc, unknown_flags_set_outputs_and_unterminated_names_are_einval)
{
	struct cohbuf_alloc_data d;
	int i;

	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_RDWR, 1U << 31, 0, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_RDWR, 2, 0, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_RDWR, 0, 2, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_WRONLY, 0, 0, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_RDWR | O_NONBLOCK, 0, 0, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cohbuf_alloc_full(self->dev, 4096, O_RDWR | O_TRUNC, 0, 0, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);

	/* Output fields must be zero on input. */
	memset(&d, 0, sizeof(d));
	d.size = 4096;
	d.fd_flags = O_RDWR;
	d.fd = 3;
	EXPECT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, &d));
	EXPECT_EQ(EINVAL, errno);
	d.fd = 0;
	d.id = 1;
	EXPECT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, &d));
	EXPECT_EQ(EINVAL, errno);

	/* A name must be NUL-terminated within its array. */
	d.id = 0;
	for (i = 0; i < COHBUF_NAME_LEN; i++)
		d.name[i] = 'a';
	EXPECT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, &d));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_F(alloc, struct_can_grow)
{
	struct {
		struct cohbuf_alloc_data d;
		__u64 future[2];
	} big;
	struct cohbuf_alloc_data small;

	memset(&big, 0, sizeof(big));
	big.d.size = 4096;
	big.d.fd_flags = O_RDWR | O_CLOEXEC;
	/* A newer, longer struct whose unknown tail is zero works. */
	ASSERT_EQ(0, ioctl(self->dev, IOC_ALLOC_SIZED(sizeof(big)), &big));
	EXPECT_LE(0, (int)big.d.fd);
	EXPECT_NE(0, big.d.id);
	EXPECT_EQ(0, big.future[0]);
	close(big.d.fd);

	/* A non-zero byte the kernel does not know is rejected. */
	memset(&big, 0, sizeof(big));
	big.d.size = 4096;
	big.d.fd_flags = O_RDWR;
	big.future[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, IOC_ALLOC_SIZED(sizeof(big)), &big));
	EXPECT_EQ(EINVAL, errno);

	/* Shorter than the first version of the struct. */
	memset(&small, 0, sizeof(small));
	small.size = 4096;
	small.fd_flags = O_RDWR;
	EXPECT_EQ(-1, ioctl(self->dev, IOC_ALLOC_SIZED(sizeof(small) - 8), &small));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

/* Each number has one direction: ALLOC's number read-only or write-only is another ioctl. */
TEST_F(alloc, a_wrong_direction_is_enotty)
{
	struct cohbuf_alloc_data d = { .size = 4096, .fd_flags = O_RDWR | O_CLOEXEC };

	EXPECT_EQ(-1, ioctl(self->dev, _IOW(COHBUF_IOC_MAGIC, 0x00, struct cohbuf_alloc_data), &d));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev, _IOR(COHBUF_IOC_MAGIC, 0x00, struct cohbuf_alloc_data), &d));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_F(alloc, ids_increase_and_fd_flags_apply)
{
	struct cohbuf_alloc_data a, b;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 4096, O_RDWR | O_CLOEXEC, 0, 0, NULL, &a));
	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 4096, O_RDONLY, 0, 0, NULL, &b));
	EXPECT_NE(0, a.id);
	EXPECT_LT(a.id, b.id);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(b.fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(a.fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(O_RDONLY, fcntl(b.fd, F_GETFL) & O_ACCMODE);
	close(a.fd);
	close(b.fd);
}

TEST_F(alloc, contiguous_buffer_is_one_chunk_and_enomem_past_4mib_without_cma)
{
	struct cohbuf_alloc_data d;
	char meminfo[8192], *cma;
	int ret;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 4 * MIB, O_RDWR, COHBUF_ALLOC_CONTIGUOUS,
				       0, NULL, &d));
	EXPECT_EQ(1, nr_chunks_of(self->dev, d.fd));
	close(d.fd);

	/* Without CMA no single allocation is larger than 4 MIB. */
	ASSERT_LT(0, read_text("/proc/meminfo", meminfo, sizeof(meminfo)));
	cma = strstr(meminfo, "CmaTotal:");
	ret = cohbuf_alloc_full(self->dev, 8 * MIB, O_RDWR, COHBUF_ALLOC_CONTIGUOUS, 0, NULL, &d);
	if (!cma || strtoll(cma + 9, NULL, 10) == 0) {
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(ENOMEM, errno);
	} else if (ret == 0) {
		EXPECT_EQ(1, nr_chunks_of(self->dev, d.fd));
		close(d.fd);
	}
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

/*
 * Beyond the page allocator's 4 MiB only CMA gives one physically
 * contiguous allocation: /proc/meminfo's CmaTotal says which case this
 * kernel is in (no line, or 0: no CMA; Debian's x86 kernels). With at
 * least twice the size in CMA the buffer must succeed (Debian's arm64
 * kernels and the rig's debug kernel have 64 MiB: 32 MiB; 128 MiB needs
 * cma=256M on the command line); with less than the size it must fail
 * with ENOMEM; in between either is right. Both cache modes, whose memory
 * comes from different DMA-API calls.
 */
static void contiguous_from_cma(struct __test_metadata *_metadata, int dev, __u64 size)
{
	long long cma = meminfo_bytes("CmaTotal");
	struct cohbuf_alloc_data d;
	unsigned char *p;
	__u32 mode;
	int ret;

	for (mode = COHBUF_CACHE_CACHED; mode <= COHBUF_CACHE_WC; mode++) {
		ret = cohbuf_alloc_full(dev, size, O_RDWR, COHBUF_ALLOC_CONTIGUOUS, mode,
					NULL, &d);
		ksft_print_msg("CmaTotal %lld MiB: %llu MiB contiguous, cache mode %u: %s\n",
			       cma < 0 ? 0 : cma / (long long)MIB, size / MIB, mode,
			       ret ? strerror(errno) : "ok");
		if (cma < (long long)size) {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(ENOMEM, errno);
			continue;
		}
		/* Must succeed with room for two, may with room for one. */
		EXPECT_TRUE(ret == 0 || cma < 2 * (long long)size) TH_LOG("%s", strerror(errno));
		if (ret)
			continue;
		EXPECT_EQ(1, nr_chunks_of(dev, d.fd));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED) {
			EXPECT_EQ(0, p[0] | p[size / 2] | p[size - 1]);
			p[0] = 1;
			p[size - 1] = 2;
			EXPECT_EQ(3, p[0] + p[size - 1]);
			munmap(p, size);
		}
		close(d.fd);
	}
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_F(alloc, contiguous_32mib_comes_from_cma_or_fails_with_enomem)
{
	contiguous_from_cma(_metadata, self->dev, 32 * MIB);
}

TEST_F(alloc, contiguous_128mib_comes_from_cma_or_fails_with_enomem)
{
	contiguous_from_cma(_metadata, self->dev, 128 * MIB);
}

/*
 * cohbuf relies on the DMA API to zero both kinds of memory (cohbuf_chunks.c):
 * each mode's second round gets back what its first dirtied.
 */
TEST_F(alloc, memory_is_zeroed)
{
	struct cohbuf_buffer_desc desc = { .size = 5 * MIB };
	size_t size = desc.size, i;
	unsigned char *p;
	int round, fd;

	for (round = 0; round < 4; round++) {
		desc.cache_mode = round < 2 ? COHBUF_CACHE_CACHED : COHBUF_CACHE_WC;
		fd = cohbuf_exporter_alloc(self->dev, &desc, NULL);
		ASSERT_LE(0, fd);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		for (i = 0; i < size; i++)
			if (p[i])
				break;
		EXPECT_EQ(size, i) TH_LOG("round %d (cache mode %u): byte %zu is %#x",
					  round, desc.cache_mode, i, p[i]);
		/* Dirty it all so the next round would see stale data. */
		memset(p, 0xa5, size);
		munmap(p, size);
		close(fd);
	}
}

TEST_F(alloc, stats_return_to_zero)
{
	long long allocs = cohbuf_stat("allocations");
	long long fails = cohbuf_stat("failures");
	int a, b, c;

	ASSERT_EQ(0, cohbuf_stat("live_buffers"));
	ASSERT_EQ(0, cohbuf_stat("live_bytes"));
	a = test_alloc(self->dev, 4 * KIB);
	b = test_alloc(self->dev, 5 * MIB);
	c = test_alloc(self->dev, 64 * KIB);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	EXPECT_EQ(3, cohbuf_stat("live_buffers"));
	EXPECT_EQ(4 * KIB + 5 * MIB + 64 * KIB, cohbuf_stat("live_bytes"));
	EXPECT_LE(4 * KIB + 5 * MIB + 64 * KIB, cohbuf_stat("peak_bytes"));
	EXPECT_EQ(allocs + 3, cohbuf_stat("allocations"));
	close(b);
	EXPECT_EQ(2, cohbuf_stat("live_buffers"));
	close(a);
	close(c);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
	EXPECT_EQ(fails, cohbuf_stat("failures"));
}

TEST_F(alloc, max_total_bytes_refuses_with_enomem_and_freed_bytes_count_again)
{
	int a, b;

	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"), 8 * MIB));
	a = test_alloc(self->dev, 4 * MIB);
	b = test_alloc(self->dev, 4 * MIB);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(-ENOMEM, test_alloc(self->dev, 4 * KIB));
	close(a);
	a = test_alloc(self->dev, 4 * KIB);
	EXPECT_LE(0, a) TH_LOG("quota not given back: %s", strerror(-a));
	close(a);
	close(b);
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
}

TEST_F(alloc, lowered_max_buffer_size_refuses_larger_buffers_with_e2big)
{
	int fd;

	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_buffer_size"), 1 * MIB));
	EXPECT_EQ(-E2BIG, test_alloc(self->dev, 2 * MIB));
	fd = test_alloc(self->dev, 1 * MIB);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_F(alloc, efault_leaves_no_fd_and_no_buffer)
{
	struct cohbuf_alloc_data *d;
	long long fails = cohbuf_stat("failures");
	int before = test_count_fds();

	/* Readable but not writable: the copy in works, the copy out fails. */
	d = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, d);
	d->size = 64 * KIB;
	d->fd_flags = O_RDWR;
	ASSERT_EQ(0, mprotect(d, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, d));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(before, test_count_fds());
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
	EXPECT_EQ(fails + 1, cohbuf_stat("failures"));

	EXPECT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	munmap(d, 4096);
}

TEST_F(alloc, info_reports_chunks)
{
	struct cohbuf_chunk_info chunks[4];
	struct cohbuf_info_data info;
	struct cohbuf_alloc_data d;
	__u64 total = 0;
	unsigned int i;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 5 * MIB, O_RDWR, 0, COHBUF_CACHE_WC,
				       NULL, &d));
	memset(chunks, 0xff, sizeof(chunks));
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, d.fd, &info, chunks, 4));
	EXPECT_EQ(5 * MIB, info.size);
	EXPECT_EQ(d.id, info.id);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(COHBUF_CACHE_WC, info.cache_mode);
	ASSERT_EQ(2, info.nr_chunks);
	for (i = 0; i < info.nr_chunks; i++) {
		total += chunks[i].len;
		/* root has CAP_SYS_RAWIO: real, page-aligned bus addresses. */
		EXPECT_NE(0, chunks[i].dma_addr);
		EXPECT_EQ(0, chunks[i].dma_addr & 4095);
	}
	EXPECT_EQ(COHBUF_INFO_DMA_ADDR_VALID, info.info_flags & COHBUF_INFO_DMA_ADDR_VALID);
	EXPECT_EQ(5 * MIB, total);
	/* Entries past nr_chunks are left alone. */
	EXPECT_EQ(UINT64_MAX, chunks[2].len);

	/* A short array still learns how many chunks there are. */
	memset(chunks, 0xff, sizeof(chunks));
	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, d.fd, &info, chunks, 1));
	EXPECT_EQ(2, info.nr_chunks);
	EXPECT_EQ(UINT64_MAX, chunks[1].len);
	close(d.fd);
}

TEST_F(alloc, info_hides_bus_addresses_without_cap_sys_rawio)
{
	int fd = test_alloc(self->dev, 5 * MIB);
	pid_t pid;
	int status;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct cohbuf_chunk_info chunks[2] = { { 1, 0 }, { 1, 0 } };
		struct cohbuf_info_data info;

		if (drop_cap_sys_rawio())
			_exit(10);
		if (cohbuf_exporter_info(self->dev, fd, &info, chunks, 2))
			_exit(11);
		if (info.nr_chunks != 2 || (info.info_flags & COHBUF_INFO_DMA_ADDR_VALID))
			_exit(12);
		if (chunks[0].dma_addr || chunks[1].dma_addr)
			_exit(13);
		if (chunks[0].len + chunks[1].len != 5 * MIB)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed (13: bus address leaked)", WEXITSTATUS(status));
	close(fd);
}

TEST_F(alloc, info_on_a_foreign_or_closed_fd_or_bad_chunk_array_fails)
{
	struct cohbuf_info_data info;
	int fds[2], fd;

	ASSERT_EQ(0, pipe(fds));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_info(self->dev, fds[0], &info, NULL, 0));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_info(self->dev, self->dev, &info, NULL, 0));
	close(fds[0]);
	close(fds[1]);
	EXPECT_EQ(-EBADF, cohbuf_exporter_info(self->dev, fds[0], &info, NULL, 0));
	EXPECT_EQ(-EBADF, cohbuf_exporter_info(self->dev, -1, &info, NULL, 0));

	fd = test_alloc(self->dev, 4096);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, cohbuf_exporter_info(self->dev, fd, &info, NULL, 1));
	EXPECT_EQ(-EFAULT, cohbuf_exporter_info(self->dev, fd, &info, (void *)8, 1));
	memset(&info, 0, sizeof(info));
	info.fd = fd;
	EXPECT_EQ(-1, ioctl(self->dev, IOC_INFO_SIZED(sizeof(info) - 8), &info));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(alloc, names_fdinfo_and_debugfs)
{
	char path[64], line[512], text[4096], needle[64];
	struct cohbuf_alloc_data d;
	void *p;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 5 * MIB, O_RDWR, 0, COHBUF_CACHE_WC,
				       "capture0", &d));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%u", d.fd);
	ASSERT_LT(0, read_text(path, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "exp_name:\tcohbuf\n")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "name:\tcapture0\n")) TH_LOG("%s", text);

	snprintf(needle, sizeof(needle), "id=%llu ", (unsigned long long)d.id);
	ASSERT_EQ(0, find_line(COHBUF_DEBUGFS "/buffers", needle, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "size=5242880 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "chunks=2 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "cache=wc ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "mmaps=0 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "name=capture0")) TH_LOG("%s", line);

	ASSERT_EQ(0, ioctl(d.fd, DMA_BUF_SET_NAME_B, "renamed"));
	ASSERT_LT(0, read_text(path, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "name:\trenamed\n")) TH_LOG("%s", text);

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, find_line(COHBUF_DEBUGFS "/buffers", needle, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "mmaps=1 ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "name=renamed")) TH_LOG("%s", line);

	/* The dma-buf core lists it under our exporter name. */
	ASSERT_EQ(0, find_line("/sys/kernel/debug/dma_buf/bufinfo", "cohbuf", line,
			       sizeof(line)));
	munmap(p, 4096);
	close(d.fd);
	EXPECT_NE(0, find_line(COHBUF_DEBUGFS "/buffers", needle, line, sizeof(line)));
}

TEST_F(alloc, debugfs_has_no_kernel_pointers)
{
	char text[1 << 14];
	int fd = test_alloc(self->dev, 64 * KIB);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, read_text(COHBUF_DEBUGFS "/buffers", text, sizeof(text)));
	EXPECT_EQ(NULL, strstr(text, "ffff")) TH_LOG("%s", text);
	EXPECT_EQ(NULL, strstr(text, "0x")) TH_LOG("%s", text);
	ASSERT_LT(0, read_text(COHBUF_DEBUGFS "/stats", text, sizeof(text)));
	EXPECT_EQ(NULL, strstr(text, "ffff")) TH_LOG("%s", text);
	close(fd);
}

TEST_F(alloc, rmmod_refused_while_a_buffer_lives)
{
	char ko[PATH_MAX];
	int fd, kofd;
	void *p;

	if (!test_module_file(ko, sizeof(ko)) || access(ko, R_OK))
		SKIP(return, "module file not found (set COHBUF_KO)");
	fd = test_alloc(self->dev, 64 * KIB);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 64 * KIB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(self->dev);
	self->dev = -1;

	/* Only the buffer's fd and mapping pin the module now. */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cohbuf", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cohbuf", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	munmap(p, 64 * KIB);

	ASSERT_EQ(0, syscall(SYS_delete_module, "cohbuf", O_NONBLOCK))
		TH_LOG("delete_module: %s", strerror(errno));
	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kofd);
	ASSERT_EQ(0, syscall(SYS_finit_module, kofd, "", 0))
		TH_LOG("finit_module: %s", strerror(errno));
	close(kofd);
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
}

TEST_HARNESS_MAIN
