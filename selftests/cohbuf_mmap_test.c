// SPDX-License-Identifier: GPL-2.0
/*
 * mmap() of cohbuf dma-bufs: windows at any page offset, chunk boundaries,
 * the end of the buffer and beyond, refused mapping kinds, mremap, data
 * seen through several mappings, processes (fork, SCM_RIGHTS), lifetime of
 * a mapping after its fd is closed, and DMA_BUF_IOCTL_SYNC.  And the
 * library's fd helpers themselves, on fds that are not dma-bufs: what
 * cohbuf_fd_wait() says of a bad fd, an fd in error and a signal, and what
 * cohbuf_fd_recv() says of a closed peer and of messages without exactly
 * one fd.
 */

#include <linux/dma-buf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define PAGE 4096UL

FIXTURE(map) {
	int dev;
	int fd;			/* a 5 MIB buffer: two chunks, 4 MIB + 1 MIB */
	size_t size;
	__u32 *full;		/* the whole buffer, filled with word indices */
};

FIXTURE_SETUP(map)
{
	size_t i;

	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->size = 5 * MIB;
	self->fd = test_alloc(self->dev, self->size);
	ASSERT_LE(0, self->fd) TH_LOG("alloc: %s", strerror(-self->fd));
	self->full = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->full);
	for (i = 0; i < self->size / 4; i++)
		self->full[i] = (__u32)i;
}

FIXTURE_TEARDOWN(map)
{
	if (self->full != MAP_FAILED)
		munmap(self->full, self->size);
	close(self->fd);
	close(self->dev);
}

/* The window [off, off + len) of the buffer, mapped anew, matches the data. */
static int window_matches(int fd, size_t off, size_t len)
{
	__u32 *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	size_t i;
	int ok = 1;

	if (p == MAP_FAILED)
		return 0;
	for (i = 0; i < len / 4; i++) {
		if (p[i] != (__u32)(off / 4 + i)) {
			ok = 0;
			break;
		}
	}
	munmap(p, len);
	return ok;
}

TEST_F(map, partial_windows_map_the_right_bytes)
{
	EXPECT_TRUE(window_matches(self->fd, 0, PAGE));
	EXPECT_TRUE(window_matches(self->fd, PAGE, 2 * PAGE));
	EXPECT_TRUE(window_matches(self->fd, 123 * PAGE, 7 * PAGE));
	EXPECT_TRUE(window_matches(self->fd, 0, self->size));
}

TEST_F(map, windows_across_every_chunk_boundary_map_the_right_bytes)
{
	struct cohbuf_chunk_info chunks[8];
	struct cohbuf_info_data info;
	size_t off = 0;
	unsigned int i;

	ASSERT_EQ(0, cohbuf_exporter_info(self->dev, self->fd, &info, chunks, 8));
	ASSERT_LE(2, info.nr_chunks);
	for (i = 0; i + 1 < info.nr_chunks; i++) {
		off += chunks[i].len;
		/* One page each side, a single page each side, and a wide span. */
		EXPECT_TRUE(window_matches(self->fd, off - PAGE, 2 * PAGE)) TH_LOG("at %zu", off);
		EXPECT_TRUE(window_matches(self->fd, off - PAGE, PAGE));
		EXPECT_TRUE(window_matches(self->fd, off, PAGE));
		EXPECT_TRUE(window_matches(self->fd, off - 16 * PAGE, 32 * PAGE));
	}
}

TEST_F(map, last_page_maps_and_past_the_end_is_einval)
{
	void *p;

	EXPECT_TRUE(window_matches(self->fd, self->size - PAGE, PAGE));

	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, self->size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, self->fd, self->size - PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->size + PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(map, offsets_near_2_64_are_refused)
{
	static const off_t offs[] = {
		(off_t)0x7ffffffffffff000LL, (off_t)-4096LL, (off_t)0xfffffffffff00000ULL,
		(off_t)(1ULL << 52),
	};
	unsigned int i;
	void *p;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, offs[i]);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("offset %#llx mapped", (long long)offs[i]);
		EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW) TH_LOG("errno %d", errno);
		if (p != MAP_FAILED)
			munmap(p, PAGE);
	}
}

TEST_F(map, private_mapping_refused)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(map, never_executable)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, PAGE, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	munmap(p, PAGE);
}

TEST_F(map, read_only_fd_refuses_write_mapping)
{
	struct cohbuf_alloc_data d;
	void *p;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 64 * KIB, O_RDONLY | O_CLOEXEC, 0, 0,
				       NULL, &d));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, d.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, ((char *)p)[0]);
	/* And it cannot be upgraded later. */
	EXPECT_EQ(-1, mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, PAGE);
	close(d.fd);
}

TEST_F(map, mremap_cannot_grow)
{
	void *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	void *q;

	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, 2 * PAGE, 4 * PAGE, 0);
	EXPECT_EQ(MAP_FAILED, q);
	q = mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	/* Shrinking is fine and keeps the data. */
	q = mremap(p, 2 * PAGE, PAGE, 0);
	ASSERT_EQ(p, q);
	EXPECT_EQ(0, ((__u32 *)q)[0]);
	EXPECT_EQ(1023, ((__u32 *)q)[1023]);
	munmap(q, PAGE);
}

TEST_F(map, two_mappings_see_each_other)
{
	__u32 *a = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	__u32 *b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
			   4 * MIB);

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	a[4 * MIB / 4] = 0xdeadbeef;
	EXPECT_EQ(0xdeadbeef, b[0]);
	b[1] = 0xcafef00d;
	EXPECT_EQ(0xcafef00d, a[4 * MIB / 4 + 1]);
	EXPECT_EQ(0xcafef00d, self->full[4 * MIB / 4 + 1]);
	munmap(a, self->size);
	munmap(b, PAGE);
}

TEST_F(map, mapping_outlives_fd)
{
	long long live = cohbuf_stat("live_buffers");
	int fd = test_alloc(self->dev, 64 * KIB);
	__u32 *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	EXPECT_EQ(live + 1, cohbuf_stat("live_buffers"));
	p[0] = 42;
	p[64 * KIB / 4 - 1] = 43;
	EXPECT_EQ(42, p[0]);
	EXPECT_EQ(43, p[64 * KIB / 4 - 1]);
	munmap(p, 64 * KIB);
	EXPECT_EQ(live, cohbuf_stat("live_buffers"));
}

TEST_F(map, fork_shares_a_live_mapping)
{
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (self->full[12345] != 12345)
			_exit(1);
		self->full[12345] = 0x5eed;
		close(self->fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0x5eed, self->full[12345]);
}

/* The child gets only the fd (no inherited mapping), maps it and answers. */
TEST_F(map, scm_rights_to_another_process)
{
	int sv[2], status;
	char done;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u32 *p;
		int fd;

		munmap(self->full, self->size);
		close(self->fd);
		close(sv[0]);
		fd = cohbuf_fd_recv(sv[1]);
		if (fd < 0)
			_exit(1);
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4 * MIB);
		if (p == MAP_FAILED)
			_exit(2);
		if (p[7] != 4 * MIB / 4 + 7)
			_exit(3);
		p[8] = 0xabcd1234;
		_exit(write(sv[1], "d", 1) == 1 ? 0 : 4);
	}
	close(sv[1]);
	ASSERT_EQ(0, cohbuf_fd_send(sv[0], self->fd));
	ASSERT_EQ(1, read(sv[0], &done, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d", WEXITSTATUS(status));
	EXPECT_EQ(0xabcd1234, self->full[4 * MIB / 4 + 8]);
	close(sv[0]);
}

/* Readable, not yet, an error (no reader for a pipe's write end), not an fd. */
TEST(fd_wait_tells_ready_timeout_error_and_bad_fd_apart)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ETIME, cohbuf_fd_wait(p[0], 0));
	EXPECT_EQ(-ETIME, cohbuf_fd_wait(p[0], 20));
	ASSERT_EQ(1, write(p[1], "x", 1));
	EXPECT_EQ(0, cohbuf_fd_wait(p[0], 0));
	EXPECT_EQ(0, cohbuf_fd_wait(p[0], -1));
	close(p[0]);
	EXPECT_EQ(-EIO, cohbuf_fd_wait(p[1], 0));
	close(p[1]);
	EXPECT_EQ(-EBADF, cohbuf_fd_wait(p[1], 0));
	EXPECT_EQ(-EBADF, cohbuf_fd_wait(p[1], -1));
}

/*
 * Signals every 50 ms, their handler without SA_RESTART: the wait goes on
 * for the time left after each.
 */
TEST(fd_wait_goes_on_for_the_time_left_after_signals)
{
	struct sigaction sa = { .sa_handler = test_count_alarm }, old;
	struct itimerval every = { { 0, 50000 }, { 0, 50000 } }, stop = { 0 };
	__u64 start, ms;
	int p[2], ret, seen;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	__atomic_store_n(test_alarms(), 0, __ATOMIC_RELAXED);
	start = monotonic_ns();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
	ret = cohbuf_fd_wait(p[0], 300);
	ms = (monotonic_ns() - start) / 1000000;
	setitimer(ITIMER_REAL, &stop, NULL);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-ETIME, ret);
	EXPECT_LE(300, ms);
	EXPECT_GT(2000, ms);
	seen = __atomic_load_n(test_alarms(), __ATOMIC_RELAXED);
	EXPECT_LE(2, seen) TH_LOG("only %d signals during the wait", seen);
	close(p[0]);
	close(p[1]);
}

/* Send @n fds (none: a message without any) and a byte over @sock: 0 or -1. */
static int send_fds(int sock, const int *fds, size_t n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { "f", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > 4)
		return -1;
	if (n) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/*
 * Exactly one fd per message: none, two (they fit the receiver's buffer)
 * or three (they do not: MSG_CTRUNC) is -EPROTO, and every fd that came is
 * closed again; a closed peer is -ECONNRESET, a bad socket its errno.
 */
TEST(fd_recv_wants_exactly_one_fd)
{
	int sv[2], p[2], fds[3], fd, before;
	size_t n;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds[0] = p[0];
	fds[1] = p[1];
	fds[2] = p[0];
	before = test_count_fds();
	ASSERT_LT(0, before);
	for (n = 0; n <= 3; n++) {
		if (n == 1)
			continue;
		ASSERT_EQ(0, send_fds(sv[0], fds, n));
		EXPECT_EQ(-EPROTO, cohbuf_fd_recv(sv[1])) TH_LOG("%zu fds", n);
		EXPECT_EQ(before, test_count_fds()) TH_LOG("%zu fds: one left open", n);
	}
	ASSERT_EQ(0, send_fds(sv[0], fds, 1));
	fd = cohbuf_fd_recv(sv[1]);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	close(fd);
	close(sv[0]);
	EXPECT_EQ(-ECONNRESET, cohbuf_fd_recv(sv[1]));
	EXPECT_EQ(-ENOTSOCK, cohbuf_fd_recv(p[0]));
	close(sv[1]);
	EXPECT_EQ(-EBADF, cohbuf_fd_recv(sv[1]));
	close(p[0]);
	close(p[1]);
}

TEST_F(map, dma_buf_sync_accepts_every_direction_refuses_bad_flags_keeps_data)
{
	static const __u64 good[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	static const __u64 bad[] = { 0, DMA_BUF_SYNC_END, 8 | DMA_BUF_SYNC_READ,
					1ULL << 63 | DMA_BUF_SYNC_RW };
	struct dma_buf_sync sync;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		sync.flags = good[i];
		EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync))
			TH_LOG("flags %#llx: %s", (unsigned long long)good[i], strerror(errno));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sync.flags = bad[i];
		EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
		EXPECT_EQ(EINVAL, errno) TH_LOG("flags %#llx", (unsigned long long)bad[i]);
	}
	/* Data written between START and END is there afterwards. */
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	self->full[3] = 0x33;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_TRUE(window_matches(self->fd, PAGE, PAGE));
	EXPECT_EQ(0x33, self->full[3]);
}

TEST_F(map, write_combine_buffer_maps_and_holds_data)
{
	struct cohbuf_alloc_data d;
	__u32 *p;
	size_t i;

	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, 5 * MIB, O_RDWR | O_CLOEXEC, 0,
				       COHBUF_CACHE_WC, NULL, &d));
	p = mmap(NULL, 5 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 5 * MIB / 4; i++)
		p[i] = (__u32)i;
	EXPECT_TRUE(window_matches(d.fd, 4 * MIB - PAGE, 2 * PAGE));
	munmap(p, 5 * MIB);
	close(d.fd);
}

TEST_HARNESS_MAIN
