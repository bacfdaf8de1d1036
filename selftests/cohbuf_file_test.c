// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_IOCTL_WRITE_FILE: a range of a buffer written to a file by the
 * kernel, from the buffer's own pages. Every test fills the buffer with a
 * pattern through its mapping and reads the file back byte for byte.
 *
 * Files: a tmpfs file (/tmp in the guests) buffered, and with O_DIRECT
 * where tmpfs takes it (6.6 and later; its direct I/O copies); and a
 * ramdisk (brd, loaded here with one 1 MiB disk) with O_DIRECT, which
 * takes the block layer's direct-I/O path with the buffer's pages in the
 * bio, as a real disk would for its DMA. The debug kernel has no block
 * device driver: that test skips there, saying so.
 */

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define TMPFILE		"/tmp/cohbuf-file-test.bin"
#define RAMDISK		"/dev/ram0"
#define RAMDISK_KIB	1024

/* The byte at @pos of every test buffer: not periodic in a page or a chunk. */
static unsigned char pattern_byte(__u64 pos)
{
	return (unsigned char)(pos * 7 + (pos >> 9) * 13 + (pos >> 17));
}

static void pattern_fill(unsigned char *p, __u64 len)
{
	__u64 i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(i);
}

/* Offset of the first byte of @got[0..len) that is not buffer byte @from + i, or -1. */
static long long pattern_mismatch(const unsigned char *got, __u64 from, __u64 len)
{
	__u64 i;

	for (i = 0; i < len; i++)
		if (got[i] != pattern_byte(from + i))
			return (long long)i;
	return -1;
}

/* COHBUF_IOCTL_WRITE_FILE with every field explicit: the ioctl's result. */
static int write_file_raw(int dev, struct cohbuf_write_file_data *d)
{
	return ioctl(dev, COHBUF_IOCTL_WRITE_FILE, d);
}

/* The call fails with @err and writes nothing back. */
static void expect_refused(struct __test_metadata *_metadata, int dev,
			   struct cohbuf_write_file_data *d, int err)
{
	struct cohbuf_write_file_data in = *d;

	errno = 0;
	EXPECT_EQ(-1, write_file_raw(dev, d));
	EXPECT_EQ(err, errno) TH_LOG("%s, want %s", strerror(errno), strerror(err));
	EXPECT_EQ(0, memcmp(&in, d, sizeof(in)));
}

/* Read @len bytes at @off of @fd (pread, whole): a malloc'd copy or NULL. */
static unsigned char *read_back(int fd, off_t off, size_t len)
{
	unsigned char *p;
	size_t done = 0;
	ssize_t n;

	if (posix_memalign((void **)&p, 4096, len ?: 1))
		return NULL;
	while (done < len) {
		n = pread(fd, p + done, len - done, off + (off_t)done);
		if (n <= 0) {
			free(p);
			return NULL;
		}
		done += (size_t)n;
	}
	return p;
}

FIXTURE(wf) {
	int dev;
	int buf;		/* a cached read-write buffer of @size bytes */
	__u64 id, size;
	unsigned char *map;
	int file;		/* TMPFILE, read-write */
};

FIXTURE_SETUP(wf)
{
	struct cohbuf_alloc_data d;

	self->file = -1;
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	/* 16 MiB and 3 pages: 5 chunks, and more than one write step (16 MiB). */
	self->size = 16 * MIB + 3 * 4096;
	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, self->size, O_RDWR | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, "wf", &d))
		TH_LOG("%s", strerror(errno));
	self->buf = d.fd;
	self->id = d.id;
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->buf, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	pattern_fill(self->map, self->size);
	unlink(TMPFILE);
	self->file = open(TMPFILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->file) TH_LOG("%s: %s", TMPFILE, strerror(errno));
}

FIXTURE_TEARDOWN(wf)
{
	if (self->file >= 0)
		close(self->file);
	unlink(TMPFILE);
	munmap(self->map, self->size);
	close(self->buf);
	close(self->dev);
}

/* Write [@off, @off + @len) at @foff and check the result and the file's bytes. */
static void check_range(struct __test_metadata *_metadata, int dev, int buf, int file,
			__u64 off, __u64 len, __s64 foff)
{
	unsigned char *got;
	long long bad;

	ASSERT_EQ((int64_t)len, cohbuf_exporter_write_file(dev, buf, off, len, file, foff));
	got = read_back(file, foff, len);
	ASSERT_NE(NULL, got) TH_LOG("read back: %s", strerror(errno));
	bad = pattern_mismatch(got, off, len);
	free(got);
	EXPECT_EQ(-1, bad) TH_LOG("file byte %lld of the range [%llu, +%llu) is wrong", bad,
				  (unsigned long long)off, (unsigned long long)len);
}

/*
 * Buffered: unaligned ranges across chunks, the whole buffer (two steps),
 * at unaligned file offsets; each range synced for the CPU, exactly.
 */
TEST_F(wf, buffered_file_gets_exactly_the_range)
{
	long long cpu0 = cohbuf_buffer_field(self->id, "synced_cpu");
	const __u64 off = 4 * MIB - 1000, len = 3 * 4096 + 77;

	ASSERT_LE(0, cpu0);
	check_range(_metadata, self->dev, self->buf, self->file, off, len, 12345);
	EXPECT_EQ(cpu0 + (long long)len, cohbuf_buffer_field(self->id, "synced_cpu"));
	check_range(_metadata, self->dev, self->buf, self->file, 0, self->size, 1);
	check_range(_metadata, self->dev, self->buf, self->file, self->size - 1, 1, 0);
	EXPECT_EQ(0, (long long)lseek(self->file, 0, SEEK_CUR)) TH_LOG("the file's position moved");
}

/* tmpfs with O_DIRECT, where the kernel has it; aligned ranges. */
TEST_F(wf, odirect_tmpfs_file)
{
	int fd = open(TMPFILE, O_RDWR | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL)
		SKIP(return, "tmpfs refuses O_DIRECT in this kernel (before 6.6)");
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(errno));
	check_range(_metadata, self->dev, self->buf, fd, 4 * MIB - 8192, 3 * 8192, 4096);
	close(fd);
}

/* A ramdisk with O_DIRECT: the buffer's pages go into the bio. */
TEST_F(wf, odirect_block_device)
{
	struct cohbuf_write_file_data d = { .fd = self->buf, .len = 4096, .file_offset = 512 };
	char cmd[128];
	int fd, ret;

	if (test_module_loaded("brd"))
		SKIP(return, "brd is loaded already: its disks are not this test's to write");
	snprintf(cmd, sizeof(cmd), "modprobe brd rd_nr=1 rd_size=%d 2>/dev/null", RAMDISK_KIB);
	if (system(cmd) || access(RAMDISK, F_OK))
		SKIP(return, "no ramdisk (brd) in this kernel: no block device for O_DIRECT");
	fd = open(RAMDISK, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", RAMDISK, strerror(errno));
	d.file_fd = fd;
	check_range(_metadata, self->dev, self->buf, fd, 4 * MIB - 4096, 64 * KIB, 8192);
	check_range(_metadata, self->dev, self->buf, fd, 0, 512, RAMDISK_KIB * KIB - 512);
	/* A range the device's logical block size does not divide. */
	d.offset = 100;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	/* At the end of the disk: nothing to write. */
	d.offset = 0;
	d.file_offset = RAMDISK_KIB * KIB;
	errno = 0;
	ret = write_file_raw(self->dev, &d);
	EXPECT_TRUE(ret ? errno == ENOSPC : d.written == 0) TH_LOG("%s", strerror(errno));
	close(fd);
	EXPECT_EQ(0, test_unload_module("brd")) TH_LOG("rmmod brd: %s", strerror(errno));
}

/* O_APPEND: at the end, whatever file_offset says (as pwrite(2)). */
TEST_F(wf, append_goes_to_the_end)
{
	int fd = open(TMPFILE, O_WRONLY | O_APPEND | O_CLOEXEC);
	unsigned char *got;

	ASSERT_LE(0, fd);
	ASSERT_EQ(4096, cohbuf_exporter_write_file(self->dev, self->buf, 0, 4096, fd, 0));
	ASSERT_EQ(100, cohbuf_exporter_write_file(self->dev, self->buf, 4096, 100, fd, 0));
	close(fd);
	EXPECT_EQ(4196, lseek(self->file, 0, SEEK_END));
	got = read_back(self->file, 0, 4196);
	ASSERT_NE(NULL, got);
	EXPECT_EQ(-1, pattern_mismatch(got, 0, 4196));
	free(got);
}

/* RLIMIT_FSIZE: written up to the limit, then EFBIG (SIGXFSZ ignored). */
TEST_F(wf, size_limit_gives_a_partial_write_then_efbig)
{
	struct rlimit rl = { .rlim_cur = 10000, .rlim_max = RLIM_INFINITY };

	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	EXPECT_EQ(1000, cohbuf_exporter_write_file(self->dev, self->buf, 0, 8192, self->file,
						   9000));
	EXPECT_EQ(-EFBIG, cohbuf_exporter_write_file(self->dev, self->buf, 0, 8192, self->file,
						     10000));
	EXPECT_EQ(10000, lseek(self->file, 0, SEEK_END));
}

/* A read-only buffer is read, so it can be written to a file. */
TEST_F(wf, read_only_buffer)
{
	struct cohbuf_buffer_desc desc = { .size = 8192, .read_only = 1 };
	int ro = cohbuf_exporter_alloc(self->dev, &desc, NULL);
	unsigned char *got;

	ASSERT_LE(0, ro);
	EXPECT_EQ(8192, cohbuf_exporter_write_file(self->dev, ro, 0, 8192, self->file, 0));
	got = read_back(self->file, 0, 8192);
	ASSERT_NE(NULL, got);
	EXPECT_EQ(0, got[0] | got[8191]) TH_LOG("a new buffer is zeroed");
	free(got);
	close(ro);
}

/*
 * A write-combined buffer: written where the device is coherent; refused
 * where its pages are mapped uncached (a non-coherent device).
 */
TEST_F(wf, wc_buffer_where_the_device_is_coherent)
{
	struct cohbuf_buffer_desc desc = { .size = 8192, .cache_mode = COHBUF_CACHE_WC };
	int coherent = read_number(COHBUF_DEBUGFS "/device", "dma_coherent");
	int wc = cohbuf_exporter_alloc(self->dev, &desc, NULL);
	unsigned char *p;

	ASSERT_LE(0, coherent);
	ASSERT_LE(0, wc);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, wc, 0);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, 8192);
	if (coherent) {
		check_range(_metadata, self->dev, wc, self->file, 100, 8000, 0);
	} else {
		EXPECT_EQ(-EOPNOTSUPP, cohbuf_exporter_write_file(self->dev, wc, 0, 4096,
								  self->file, 0));
	}
	munmap(p, 8192);
	close(wc);
}

/* Every bad argument gets its errno, writes nothing and leaks nothing. */
TEST_F(wf, bad_arguments)
{
	long long live = cohbuf_stat("live_buffers");
	const struct cohbuf_write_file_data ok = {
		.fd = self->buf, .file_fd = self->file, .len = 4096,
	};
	struct cohbuf_write_file_data d;
	int pfd[2], ro, sv[2];
	struct stat st;

	ASSERT_LE(1, live);
	d = ok;
	d.flags = 1;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.pad = 1;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.written = 1;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.len = 0;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.offset = self->size - 4095;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.offset = ~0ULL - 100;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.file_offset = -1;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	/* Not a dma-buf; a destination with no write_iter (/dev/cohbuf). */
	d = ok;
	d.fd = self->file;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	d = ok;
	d.file_fd = self->dev;
	expect_refused(_metadata, self->dev, &d, EINVAL);
	/* Closed fds; a file open read-only. */
	d = ok;
	d.fd = -1;
	expect_refused(_metadata, self->dev, &d, EBADF);
	d = ok;
	d.file_fd = 1000000;
	expect_refused(_metadata, self->dev, &d, EBADF);
	ro = open(TMPFILE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	d = ok;
	d.file_fd = ro;
	expect_refused(_metadata, self->dev, &d, EBADF);
	close(ro);
	/* No position: a pipe, a socket, a dma-buf. */
	d = ok;
	d.file_fd = self->buf;
	expect_refused(_metadata, self->dev, &d, ESPIPE);
	ASSERT_EQ(0, pipe(pfd));
	d = ok;
	d.file_fd = pfd[1];
	expect_refused(_metadata, self->dev, &d, ESPIPE);
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	d = ok;
	d.file_fd = sv[0];
	expect_refused(_metadata, self->dev, &d, ESPIPE);
	close(sv[0]);
	close(sv[1]);
	/* Nothing was written, no reference was left behind. */
	ASSERT_EQ(0, fstat(self->file, &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_EQ(live, cohbuf_stat("live_buffers"));
}

/* The call holds its own reference: the buffer goes once its fds and mappings do. */
TEST_F(wf, no_reference_outlives_the_call)
{
	long long live = cohbuf_stat("live_buffers");
	struct cohbuf_buffer_desc desc = { .size = 65536 };
	int b = cohbuf_exporter_alloc(self->dev, &desc, NULL);

	ASSERT_LE(0, b);
	EXPECT_EQ(live + 1, cohbuf_stat("live_buffers"));
	EXPECT_EQ(65536, cohbuf_exporter_write_file(self->dev, b, 0, 65536, self->file, 0));
	close(b);
	EXPECT_EQ(live, cohbuf_stat("live_buffers"));
}

TEST_HARNESS_MAIN
