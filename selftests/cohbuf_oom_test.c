// SPDX-License-Identifier: GPL-2.0
/*
 * ENOMEM, never the OOM killer: with max_buffer_size and max_total_bytes
 * raised to all of RAM, allocating buffers until ALLOC fails must end in
 * ENOMEM, with the caller and an unrelated process (a bystander of normal
 * OOM score that keeps touching anonymous memory) alive, no OOM-killer
 * invocation and no page-allocation warning in the kernel log, at least
 * half of the reserve still in MemAvailable, and all memory back
 * afterwards; once by one process, once by eight racing ones (which only
 * the check before every chunk keeps out of the reserve). The
 * reserve_percent policy itself is checked against MemAvailable.
 */

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define PAGE			4096ULL
#define MAX_FDS			20000	/* 64 MiB steps, 4 MiB steps, then pages */
#define PAGES_MAX		16384	/* single pages before giving up: 64 MiB */
#define BYSTANDER_BYTES		(8 * MIB)
#define BYSTANDER_FRESH		(4 * MIB)	/* newly faulted in per ping */
#define PING_MS			20000
#define SETTLE_SECONDS		10

/* /dev/kmsg positioned at its end: what the kernel logs from now on. */
static int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read the records logged since @fd was positioned; count those that
 * contain @needle (one of several) and keep the first in @first.
 */
static int kmsg_count(int fd, const char *const *needles, int n,
		      char *first, size_t len)
{
	char rec[8192];
	int found = 0, i;
	ssize_t r;

	first[0] = '\0';
	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)	/* records overwritten: go on */
			continue;
		if (r <= 0)
			break;
		rec[r] = '\0';
		for (i = 0; i < n; i++) {
			if (!strstr(rec, needles[i]))
				continue;
			if (!found++) {
				r = r < (ssize_t)len ? r : (ssize_t)len - 1;
				memcpy(first, rec, r);
				first[r] = '\0';
			}
			break;
		}
	}
	return found;
}

/*
 * The bystander: keeps BYSTANDER_BYTES touched and, for each byte on @in,
 * faults in BYSTANDER_FRESH of new anonymous memory, touches the old
 * memory again and answers with the byte on @out. Ends at EOF.
 */
static void bystander(int in, int out)
{
	unsigned char *keep = malloc(BYSTANDER_BYTES), *fresh = NULL;
	unsigned char c;
	size_t i;

	if (!keep)
		_exit(1);
	memset(keep, 0x5a, BYSTANDER_BYTES);
	while (read(in, &c, 1) == 1) {
		if (fresh)
			munmap(fresh, BYSTANDER_FRESH);
		fresh = mmap(NULL, BYSTANDER_FRESH, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			_exit(2);
		memset(fresh, c, BYSTANDER_FRESH);
		for (i = 0; i < BYSTANDER_BYTES; i += PAGE)
			if (keep[i] != 0x5a)
				_exit(3);
			else
				keep[i] = 0x5a;
		if (write(out, &c, 1) != 1)
			_exit(4);
	}
	_exit(0);
}

struct bystander {
	pid_t pid;
	int to, from;	/* pipe ends of the test */
};

static int bystander_start(struct bystander *b)
{
	int down[2], up[2];

	if (pipe2(down, O_CLOEXEC))
		return -1;
	if (pipe2(up, O_CLOEXEC)) {
		close(down[0]);
		close(down[1]);
		return -1;
	}
	b->pid = test_fork_child();
	if (b->pid == 0) {
		close(down[1]);
		close(up[0]);
		bystander(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	b->to = down[1];
	b->from = up[0];
	return b->pid > 0 ? 0 : -1;
}

/* Ask the bystander for a round of page faults: 0 if it answered. */
static int bystander_ping(struct bystander *b, unsigned char c)
{
	struct pollfd p = { .fd = b->from, .events = POLLIN };
	unsigned char r;

	if (write(b->to, &c, 1) != 1)
		return -1;
	if (poll(&p, 1, PING_MS) != 1 || read(b->from, &r, 1) != 1)
		return -1;
	return r == c ? 0 : -1;
}

/* End it; its wait status. */
static int bystander_stop(struct bystander *b)
{
	int status = -1;

	close(b->to);
	close(b->from);
	if (waitpid(b->pid, &status, 0) != b->pid)
		return -1;
	return status;
}

/* Buffer sizes, allocated in this order, each until ALLOC fails. */
static const unsigned long long hoard_sizes[] = { 64 * MIB, 4 * MIB, PAGE };
#define NR_SIZES	ARRAY_SIZE(hoard_sizes)

/* The buffers of one process, and how its allocation loop ended. */
struct hoard {
	int fds[MAX_FDS];
	int n;
	unsigned long long bytes;
	int first[NR_SIZES];	/* index of the first buffer of each size, */
	int count[NR_SIZES];	/* and how many there are */
	int err;		/* the first size's end that was not ENOMEM: */
	unsigned long long err_size;	/* its size and what ALLOC returned */
};

/*
 * Allocate buffers of @size until ALLOC fails or @max of them; return the
 * error (negative errno), or 0 if @max were allocated.
 */
static int hoard_fill(struct hoard *h, int dev, unsigned long long size, int max)
{
	int fd, i;

	for (i = 0; i < max && h->n < MAX_FDS; i++) {
		fd = test_alloc(dev, size);
		if (fd < 0)
			return fd;
		h->fds[h->n++] = fd;
		h->bytes += size;
	}
	return 0;
}

/*
 * Allocate buffers of each of hoard_sizes until ALLOC fails; return 0 if
 * every size ended in ENOMEM, else the first other end (also in @h->err:
 * a negative errno, or 1 if a size never failed).
 */
static int hoard_until_enomem(struct hoard *h, int dev)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR_SIZES; i++) {
		h->first[i] = h->n;
		ret = hoard_fill(h, dev, hoard_sizes[i],
				 hoard_sizes[i] == PAGE ? PAGES_MAX : MAX_FDS);
		h->count[i] = h->n - h->first[i];
		if (ret != -ENOMEM && !h->err) {
			h->err = ret ?: 1;
			h->err_size = hoard_sizes[i];
		}
	}
	return h->err;
}

/* Map buffer @fd of @size, write every page and read it back: 0 if intact. */
static int touch_buffer(int fd, unsigned long long size, unsigned char c)
{
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned long long i;
	int ret = 0;

	if (p == MAP_FAILED) {
		ksft_print_msg("mmap of %llu bytes: %s\n", size, strerror(errno));
		return -1;
	}
	for (i = 0; i < size; i += PAGE)
		p[i] = c;
	for (i = 0; i < size; i += PAGE)
		if (p[i] != c)
			ret = -1;
	if (ret)
		ksft_print_msg("%llu-byte buffer: pages do not keep what was written\n", size);
	munmap(p, size);
	return ret;
}

static void hoard_free(struct hoard *h)
{
	while (h->n)
		close(h->fds[--h->n]);
	h->bytes = 0;
}

/* Wait until live_bytes is @value again: 0, or -1 after SETTLE_SECONDS. */
static int live_bytes_back_to(long long value)
{
	double t = monotonic_s();

	while (cohbuf_stat("live_bytes") != value) {
		if (monotonic_s() - t > SETTLE_SECONDS)
			return -1;
		usleep(10000);
	}
	return 0;
}

static const char *const oom_lines[] = {
	"invoked oom-killer", "Out of memory", "page allocation failure",
	"vmalloc error", "oom_reaper", "Killed process",
};

FIXTURE(oom) {
	int dev;
	int kmsg;
	long long live0, total;
	long long reserve;	/* reserve_percent of MemTotal, in bytes */
};

FIXTURE_SETUP(oom)
{
	struct rlimit rl = { MAX_FDS + 64, MAX_FDS + 64 };

	if (access(COHBUF_DEBUGFS "/stats", R_OK))
		SKIP(return, "debugfs of cohbuf is not mounted");
	if (access(COHBUF_PARAM("reserve_percent"), W_OK))
		SKIP(return, "cohbuf has no writable reserve_percent parameter");
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", COHBUF_DEV, strerror(errno));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl)) TH_LOG("RLIMIT_NOFILE: %s", strerror(errno));
	self->kmsg = kmsg_open_at_end();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	self->total = meminfo_bytes("MemTotal");
	ASSERT_LT(0, self->total);
	self->reserve = self->total / 100 * cohbuf_param("reserve_percent");
	ASSERT_LT(0, self->reserve);
	self->live0 = cohbuf_stat("live_bytes");
	ASSERT_LE(0, self->live0);
	/* Every buffer limit at all of RAM: only memory itself is left. */
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_buffer_size"),
					 self->total / PAGE * PAGE));
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"),
					 self->total + self->live0));
}

/*
 * In the harness's process: the limits go back, whatever became of the
 * test. The test's own fds close when its process ends.
 */
FIXTURE_TEARDOWN_PARENT(oom)
{
	settings_pop_all();
}

TEST_F_TIMEOUT(oom, allocating_all_memory_returns_enomem_and_kills_nobody, 150)
{
	const unsigned long long *sizes = hoard_sizes;
	static struct hoard h;
	struct bystander b;
	char first[512];
	int i, ret, status, found;

	ASSERT_EQ(0, bystander_start(&b));
	ASSERT_EQ(0, bystander_ping(&b, 1)) TH_LOG("the bystander does not answer at all");

	ret = hoard_until_enomem(&h, self->dev);
	EXPECT_EQ(0, ret) TH_LOG("%llu-byte buffers ended with %s after %llu MiB", h.err_size,
				 ret < 0 ? strerror(-ret) : "no error", h.bytes / MIB);
	ksft_print_msg("pinned %llu of %lld MiB: %d + %d + %d buffers of 64 MiB, 4 MiB, 4 KiB\n",
		       h.bytes / MIB, self->total / MIB, h.count[0], h.count[1], h.count[2]);
	ksft_print_msg("MemAvailable now %lld MiB\n", meminfo_bytes("MemAvailable") / MIB);
	/* Near exhaustion at all, or this test proves nothing. */
	EXPECT_LE(self->total / 2, (long long)h.bytes);
	EXPECT_LE(self->reserve / 2, meminfo_bytes("MemAvailable"));

	/* Memory as good as gone: mappings and page faults still work. */
	for (i = 0; i < (int)NR_SIZES; i++)
		if (h.count[i])
			EXPECT_EQ(0, touch_buffer(h.fds[h.first[i]], sizes[i], 0xa0 + i))
				TH_LOG("touching a %llu-byte buffer", sizes[i]);
	EXPECT_EQ(0, bystander_ping(&b, 2)) TH_LOG("the bystander died or hangs");
	EXPECT_EQ(-ENOMEM, test_alloc(self->dev, 64 * MIB));
	EXPECT_EQ(0, bystander_ping(&b, 3)) TH_LOG("the bystander died or hangs");

	hoard_free(&h);
	EXPECT_EQ(0, live_bytes_back_to(self->live0))
		TH_LOG("live_bytes %lld, at the start %lld", cohbuf_stat("live_bytes"),
		       self->live0);
	for (i = 0; i < 2; i++) {
		ret = test_alloc(self->dev, sizes[i]);
		EXPECT_LE(0, ret) TH_LOG("a %llu-byte buffer afterwards: %s", sizes[i],
					 strerror(-ret));
		if (ret >= 0) {
			EXPECT_EQ(0, touch_buffer(ret, sizes[i], 0x5c));
			close(ret);
		}
	}

	status = bystander_stop(&b);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("bystander wait status %#x", status);
	found = kmsg_count(self->kmsg, oom_lines, ARRAY_SIZE(oom_lines), first, sizeof(first));
	EXPECT_EQ(0, found) TH_LOG("%d kernel log lines like: %s", found, first);
}

/* What an allocator child reports once it has hoarded. */
struct hoard_report {
	int err;			/* hoard_until_enomem() */
	unsigned long long err_size;
	unsigned long long bytes;
};

/*
 * An allocator child: waits for EOF on @go, hoards, reports on @out and
 * keeps its buffers until EOF on @hold.
 */
static void allocator(int dev, int go, int out, int hold)
{
	static struct hoard h;
	struct hoard_report r;
	char c;

	if (read(go, &c, 1) != 0)
		_exit(1);
	r.err = hoard_until_enomem(&h, dev);
	r.err_size = h.err_size;
	r.bytes = h.bytes;
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	if (read(hold, &c, 1) != 0)
		_exit(3);
	_exit(0);
}

#define ALLOCATORS	8

/*
 * Allocators racing each other: each passes the check for a whole buffer
 * while the others' buffers are still being allocated, so only the check
 * before every chunk keeps them all out of the reserve.
 */
TEST_F_TIMEOUT(oom, concurrent_allocators_stop_at_the_reserve, 150)
{
	int go[2], up[2], hold[2], i, status, found, ok = 0;
	unsigned long long bytes = 0;
	pid_t pids[ALLOCATORS];
	struct hoard_report r;
	struct bystander b;
	char first[512];

	ASSERT_EQ(0, bystander_start(&b));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
	for (i = 0; i < ALLOCATORS; i++) {
		pids[i] = test_fork_child();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			close(go[1]);
			close(up[0]);
			close(hold[1]);
			allocator(self->dev, go[0], up[1], hold[0]);
		}
	}
	close(go[0]);
	close(up[1]);
	close(hold[0]);
	close(go[1]);			/* all start at once */
	for (i = 0; i < ALLOCATORS && read(up[0], &r, sizeof(r)) == sizeof(r); i++) {
		EXPECT_EQ(0, r.err) TH_LOG("%llu-byte buffers ended with %s", r.err_size,
					   r.err < 0 ? strerror(-r.err) : "no error");
		ok += !r.err;
		bytes += r.bytes;
	}
	EXPECT_EQ(ALLOCATORS, i) TH_LOG("only %d allocators reported", i);
	ksft_print_msg("%d allocators pinned %llu of %lld MiB; MemAvailable now %lld MiB\n",
		       ok, bytes / MIB, self->total / MIB, meminfo_bytes("MemAvailable") / MIB);
	EXPECT_LE(self->total / 2, (long long)bytes);
	/* Half of the reserve is the slack for what the system does meanwhile. */
	EXPECT_LE(self->reserve / 2, meminfo_bytes("MemAvailable"));
	EXPECT_EQ(0, bystander_ping(&b, 4)) TH_LOG("the bystander died or hangs");

	close(hold[1]);			/* all free at once */
	close(up[0]);
	for (i = 0; i < ALLOCATORS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("allocator %d: wait status %#x", i, status);
	}
	EXPECT_EQ(0, live_bytes_back_to(self->live0));
	status = bystander_stop(&b);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("bystander wait status %#x", status);
	found = kmsg_count(self->kmsg, oom_lines, ARRAY_SIZE(oom_lines), first, sizeof(first));
	EXPECT_EQ(0, found) TH_LOG("%d kernel log lines like: %s", found, first);
}

/*
 * The policy to the page: with half of RAM reserved, a buffer that would
 * take MemAvailable below that half is refused, one well inside it is not;
 * values above 50 % are refused when written.
 */
TEST_F(oom, reserve_percent_keeps_that_share_of_ram_available)
{
	long long before = cohbuf_param("reserve_percent"), avail, room;
	int fd;

	EXPECT_EQ(-1, write_text(COHBUF_PARAM("reserve_percent"), "51"));
	EXPECT_EQ(before, cohbuf_param("reserve_percent"));
	ASSERT_EQ(0, setting_push(COHBUF_PARAM("reserve_percent"), "50"));
	avail = meminfo_bytes("MemAvailable");
	ASSERT_LT(0, avail);
	room = avail - self->total / 2;
	if (room < (long long)(64 * MIB))
		SKIP(return, "MemAvailable %lld MiB leaves no room above half of RAM",
		     avail / MIB);
	/* 32 MiB of slack either way for what the rest of the system does. */
	fd = test_alloc(self->dev, (room + 32 * MIB) / PAGE * PAGE);
	EXPECT_EQ(-ENOMEM, fd) TH_LOG("%lld MiB beyond the reserve", room / MIB + 32);
	if (fd >= 0)
		close(fd);
	fd = test_alloc(self->dev, (room - 32 * MIB) / PAGE * PAGE);
	EXPECT_LE(0, fd) TH_LOG("%lld MiB inside the reserve: %s", room / MIB - 32,
				strerror(-fd));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, live_bytes_back_to(self->live0));
}

TEST_HARNESS_MAIN
