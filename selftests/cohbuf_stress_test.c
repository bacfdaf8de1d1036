// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: everything at once, for a bounded time, and then nothing left.
 *
 *  - mixed_load: threads of this process and of child processes allocate,
 *    map, import, run FILL/COPY/CHECKSUM chains ordered by sync_files and
 *    by the buffers' reservation objects, check every result, and close
 *    contexts with jobs still queued;
 *  - sigkill_mid_job: processes are killed with SIGKILL while their jobs
 *    are queued or running and while they wait in WAIT, poll() or an
 *    ioctl; all they held must be released within a bounded time;
 *  - killed_process_exits_at_once: a process killed with its jobs queued
 *    behind another context's long queue exits in the time of its own
 *    running job, its fences signal, the other context's jobs all run;
 *  - quota_exhaustion: concurrent allocators run into max_total_bytes;
 *    live_bytes, sampled all along, never exceeds it, and allocations
 *    succeed again after frees, up to exactly the quota;
 *  - load_unload_cycles: 100 unloads and loads of both modules, each load
 *    proven by an allocation, an import and a job.
 *
 * "Released" is judged by the modules' own counters: debugfs live_buffers
 * and live_bytes of cohbuf, imports minus releases and jobs submitted minus
 * finished of the importer, the lines of its imports and jobs files, and
 * the module reference counts, all back to what they were before. Every
 * wait is bounded; each part prints its duration and operation counts as
 * TAP diagnostics.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

#define MIXED_SECONDS		5.0
#define MIXED_THREADS		3	/* in the test process */
#define MIXED_PROCS		2	/* child processes ... */
#define MIXED_PROC_THREADS	2	/* ... of this many threads each */
#define KILL_ROUNDS		10
#define KILL_VICTIMS		3
#define QUOTA_SECONDS		3.0
#define QUOTA_BYTES		(24 * MIB)
#define QUOTA_THREADS		4
/* Each load of the importer probes the edu device (about 0.2 s). */
#define LOAD_CYCLES		30
/* Longer than the importer's timeout_ms (5 s) plus its longest busy hold. */
#define SETTLE_SECONDS		20.0
#define WAIT_NS			(20000 * MS)

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* xorshift64*, per worker. */
static __u64 next_rand(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* What the modules hold, as their counters say. */
struct held {
	long long live_buffers, live_bytes;
	long long imports;	/* imports - releases */
	long long jobs;		/* submitted - finished */
	long import_lines, job_lines;
	long long cohbuf_ref, imp_ref;
};

static long long imp_stat(const char *key)
{
	return read_number(IMPORTER_DEBUGFS "/stats", key);
}

static void held_now(struct held *h)
{
	h->live_buffers = cohbuf_stat("live_buffers");
	h->live_bytes = cohbuf_stat("live_bytes");
	h->imports = imp_stat("imports") - imp_stat("releases");
	h->jobs = imp_stat("submitted") - imp_stat("succeeded") -
		  imp_stat("timed_out") - imp_stat("cancelled");
	h->import_lines = test_count_lines(IMPORTER_DEBUGFS "/imports", NULL);
	h->job_lines = test_count_lines(IMPORTER_DEBUGFS "/jobs", NULL);
	h->cohbuf_ref = read_number("/sys/module/cohbuf/refcnt", NULL);
	h->imp_ref = read_number("/sys/module/cohbuf_importer/refcnt", NULL);
}

static void held_print(const char *what, const struct held *h)
{
	ksft_print_msg("%s: live_buffers=%lld live_bytes=%lld imports=%lld jobs=%lld\n",
		       what, h->live_buffers, h->live_bytes, h->imports, h->jobs);
	ksft_print_msg("%s: import_lines=%ld job_lines=%ld refcnt cohbuf=%lld importer=%lld\n",
		       what, h->import_lines, h->job_lines, h->cohbuf_ref, h->imp_ref);
}

/* Wait up to SETTLE_SECONDS for @base; seconds taken, or -1 (printed). */
static double settle(const struct held *base)
{
	double start = monotonic_s();
	struct held h;

	for (;;) {
		held_now(&h);
		if (!memcmp(&h, base, sizeof(h)))
			return monotonic_s() - start;
		if (monotonic_s() - start > SETTLE_SECONDS) {
			held_print("baseline", base);
			held_print("now", &h);
			return -1;
		}
		sleep_ms(10);
	}
}

/* Counters shared by all workers, threads and processes alike. */
struct shared {
	long allocs, maps, imports, jobs, waits, busy_closes, errors;
	char first_error[256];
	double deadline;
};

static struct shared *shared_new(void)
{
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	memset(s, 0, sizeof(*s));
	return s;
}

static long add(long *counter, long n)
{
	return __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static int failed(struct shared *s, const char *what, int err)
{
	if (add(&s->errors, 1) == 0)
		snprintf(s->first_error, sizeof(s->first_error), "pid %d: %s: %s",
			 getpid(), what, strerror(err));
	return -1;
}

struct worker {
	struct shared *s;
	__u64 seed;
};

static int submit(int ctx, struct cohbuf_imp_submit_data *job, __u32 engine,
		  int in_fence, int want_out)
{
	job->engine = engine;
	if (in_fence >= 0) {
		job->flags |= COHBUF_IMP_SUBMIT_IN_FENCE;
		job->in_fence_fd = in_fence;
	}
	if (want_out)
		job->flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
	return cohbuf_importer_submit(ctx, job);
}

/*
 * One round: a is written by the CPU, b[0, half) filled by a job on one
 * engine, b[half, size) copied from a by a job on the other engine that
 * waits for the fill's sync_file, and b checksummed by a third job that
 * the reservation object orders after both. Every fourth round the
 * context is closed with the jobs still in flight instead of waiting.
 */
static int mixed_round(struct worker *w, int dev, int *ctx)
{
	struct shared *s = w->s;
	__u64 r = next_rand(&w->seed);
	size_t size = (1 + r % 32) * 8192, half = size / 2;
	struct cohbuf_buffer_desc desc = { .size = size, .cache_mode = (r >> 8) & 1 };
	struct cohbuf_imp_submit_data fill, copy, sum;
	unsigned char *map = MAP_FAILED, *expect = NULL;
	int a = -1, b = -1, ia, ib, status = 0, ret = -1;
	__u32 pattern = (__u32)(r >> 16), crc, eng = (r >> 9) & 1, ha = 0, hb = 0;
	int busy_close = (r >> 12) % 4 == 0;

	a = cohbuf_exporter_alloc(dev, &desc, NULL);
	b = cohbuf_exporter_alloc(dev, &desc, NULL);
	if (a < 0 || b < 0) {
		failed(s, "alloc", -(a < 0 ? a : b));
		goto out;
	}
	add(&s->allocs, 2);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	expect = malloc(size);
	if (map == MAP_FAILED || !expect) {
		failed(s, "mmap", errno);
		goto out;
	}
	add(&s->maps, 1);
	cohbuf_dmabuf_cpu_access_begin(a, DMA_BUF_SYNC_WRITE);
	memset(map, (int)(r >> 40), size);
	cohbuf_dmabuf_cpu_access_end(a, DMA_BUF_SYNC_WRITE);
	pattern_bytes(expect, half, pattern);
	memset(expect + half, (int)(r >> 40), size - half);

	ia = cohbuf_importer_import(*ctx, a, &ha, NULL);
	ib = cohbuf_importer_import(*ctx, b, &hb, NULL);
	if (ia || ib || !ha || !hb) {
		failed(s, "import", ia || !ha ? -ia : -ib);
		goto out;
	}
	add(&s->imports, 2);
	fill = imp_fill(hb, 0, half, pattern);
	copy = imp_copy(hb, half, ha, 0, size - half);
	sum = imp_checksum(hb, 0, size);
	if (submit(*ctx, &fill, eng, -1, 1)) {
		failed(s, "submit fill", errno);
		goto out;
	}
	ret = submit(*ctx, &copy, !eng, fill.out_fence_fd, 0);
	close(fill.out_fence_fd);
	if (ret || submit(*ctx, &sum, r & 1, -1, 0)) {
		ret = failed(s, "submit copy/checksum", errno);
		goto out;
	}
	ret = -1;
	add(&s->jobs, 3);
	/* The imports may go before their jobs are done. */
	if (cohbuf_importer_release(*ctx, ha)) {
		failed(s, "release", errno);
		goto out;
	}
	if (busy_close) {
		close(*ctx);
		*ctx = cohbuf_importer_open();
		if (*ctx < 0) {
			failed(s, "reopen importer", -*ctx);
			goto out;
		}
		add(&s->busy_closes, 1);
		ret = 0;
		goto out;
	}
	if (cohbuf_importer_wait(*ctx, sum.job_id, WAIT_NS, &status, &crc) || status) {
		failed(s, "wait checksum", status ? -status : errno);
		goto out;
	}
	if (crc != test_crc32(expect, size)) {
		failed(s, "checksum differs from the CPU's", EIO);
		goto out;
	}
	if (cohbuf_importer_wait(*ctx, fill.job_id, 0, &status, NULL) || status ||
	    cohbuf_importer_wait(*ctx, copy.job_id, 0, &status, NULL) || status) {
		failed(s, "reap fill/copy", errno);
		goto out;
	}
	add(&s->waits, 3);
	cohbuf_importer_release(*ctx, hb);
	ret = 0;
out:
	free(expect);
	if (map != MAP_FAILED)
		munmap(map, size);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return ret;
}

static void *mixed_worker(void *arg)
{
	struct worker *w = arg;
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open();

	if (dev < 0 || ctx < 0) {
		failed(w->s, "open", dev < 0 ? errno : -ctx);
	} else {
		while (monotonic_s() < w->s->deadline)
			if (mixed_round(w, dev, &ctx))
				break;
	}
	if (ctx >= 0)
		close(ctx);
	if (dev >= 0)
		close(dev);
	return NULL;
}

/* Run @n mixed workers as threads of the calling process; 0 or -1. */
static int mixed_threads(struct shared *s, int n, __u64 seed)
{
	pthread_t tid[8];
	struct worker w[8];
	int i, started = 0;

	for (i = 0; i < n; i++) {
		w[i].s = s;
		w[i].seed = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		if (pthread_create(&tid[i], NULL, mixed_worker, &w[i]))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return started == n ? 0 : -1;
}

FIXTURE(stress) {
	struct held base;
};

/* What the modules hold before a test; what earlier programs released late is not ours. */
static void held_baseline(struct held *base)
{
	double t = monotonic_s();

	memset(base, 0, sizeof(*base));
	held_now(base);
	while (base->jobs && monotonic_s() - t < SETTLE_SECONDS) {
		sleep_ms(10);
		held_now(base);
	}
}

FIXTURE_SETUP(stress)
{
	if (access(IMPORTER_DEV, F_OK))
		SKIP(return, "cohbuf_importer is not loaded");
	if (access(COHBUF_DEBUGFS "/stats", R_OK) || access(IMPORTER_DEBUGFS "/stats", R_OK))
		SKIP(return, "debugfs of cohbuf or cohbuf_importer is not mounted");
	held_baseline(&self->base);
}

/* In the test's fork parent: the quota goes back, whatever became of the test. */
FIXTURE_TEARDOWN_PARENT(stress)
{
	EXPECT_EQ(0, settings_pop_all());
}

TEST_F_TIMEOUT(stress, mixed_load, 90)
{
	struct shared *s = shared_new();
	pid_t pids[MIXED_PROCS];
	double start, t;
	int i, status;

	ASSERT_NE(NULL, s);
	start = monotonic_s();
	s->deadline = start + MIXED_SECONDS;
	for (i = 0; i < MIXED_PROCS; i++) {
		pids[i] = test_fork_child();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(mixed_threads(s, MIXED_PROC_THREADS, getpid()) ? 1 : 0);
	}
	EXPECT_EQ(0, mixed_threads(s, MIXED_THREADS, getpid()));
	for (i = 0; i < MIXED_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ksft_print_msg("mixed_load: %.1f s, %d threads + %d processes x %d threads\n",
		       monotonic_s() - start, MIXED_THREADS, MIXED_PROCS, MIXED_PROC_THREADS);
	ksft_print_msg("mixed_load: %ld allocs, %ld mmaps, %ld imports, %ld jobs, %ld waits\n",
		       s->allocs, s->maps, s->imports, s->jobs, s->waits);
	ksft_print_msg("mixed_load: %ld contexts closed with jobs in flight, %ld errors\n",
		       s->busy_closes, s->errors);
	EXPECT_EQ(0, s->errors) TH_LOG("first error: %s", s->first_error);
	EXPECT_LT(0, s->waits);
	EXPECT_LT(0, s->busy_closes);
	t = settle(&self->base);
	ksft_print_msg("mixed_load: released in %.2f s\n", t);
	EXPECT_LE(0, t) TH_LOG("the modules still hold something");
	munmap(s, sizeof(*s));
}

/*
 * A victim sets up jobs that stay queued or running, says so through
 * @ready, then blocks until it is killed: in WAIT (kind 0), in poll() on
 * a dma-buf with a write fence (kind 1), or in a loop of ALLOC, IMPORT,
 * SUBMIT (the first 64 times, with long latencies) and RELEASE (kind 2), so
 * that the kill lands anywhere.
 */
static void victim(int kind, int ready)
{
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open();
	struct cohbuf_imp_submit_data job;
	__u32 ha = 0, hb = 0;
	unsigned char *map;
	int a, b, i;

	if (dev < 0 || ctx < 0)
		_exit(10);
	a = test_alloc(dev, 256 * KIB);
	b = test_alloc(dev, 256 * KIB);
	if (a < 0 || b < 0)
		_exit(11);
	map = mmap(NULL, 256 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	if (cohbuf_importer_import(ctx, a, &ha, NULL) ||
	    cohbuf_importer_import(ctx, b, &hb, NULL) ||
	    map == MAP_FAILED || !ha || !hb)
		_exit(12);
	/* Running on engine kind % 2, and queued behind it on both. */
	job = imp_fill(ha, 0, 256 * KIB, 0x5a5a5a5a);
	imp_set_latency(&job, 3000);
	if (submit(ctx, &job, kind % 2, -1, 1))
		_exit(13);
	for (i = 0; i < 4; i++) {
		struct cohbuf_imp_submit_data more = imp_copy(hb, 0, ha, 0, 4096);

		imp_set_latency(&more, 500);
		if (submit(ctx, &more, (kind + i) % 2, i ? -1 : job.out_fence_fd, 0))
			_exit(14);
	}
	if (write(ready, "r", 1) != 1)
		_exit(15);
	switch (kind) {
	case 0:
		cohbuf_importer_wait(ctx, job.job_id, WAIT_NS, NULL, NULL);
		break;
	case 1:
		cohbuf_fd_wait(b, 20000);
		break;
	default:
		for (i = 0;; i++) {
			int c = test_alloc(dev, 64 * KIB);
			__u32 hc = 0;
			int imported = c >= 0 && !cohbuf_importer_import(ctx, c, &hc, NULL) && hc;
			struct cohbuf_imp_submit_data f = imp_fill(hc, 0, 4096, 1);

			imp_set_latency(&f, 1000);
			if (imported && i < 64)
				submit(ctx, &f, 0, -1, 0);
			if (imported)
				cohbuf_importer_release(ctx, hc);
			if (c >= 0)
				close(c);
		}
	}
	_exit(16);	/* only if the wait ended: the parent reports it */
}

TEST_F_TIMEOUT(stress, sigkill_mid_job, 120)
{
	long killed = 0, busy_seen = 0, queued_seen = 0, running_seen = 0;
	double start = monotonic_s(), worst = 0, t;
	__u64 seed = 12345;
	int round, i;

	for (round = 0; round < KILL_ROUNDS; round++) {
		pid_t pids[KILL_VICTIMS];
		int pipes[KILL_VICTIMS][2];
		long q, r;

		for (i = 0; i < KILL_VICTIMS; i++) {
			ASSERT_EQ(0, pipe2(pipes[i], O_CLOEXEC));
			pids[i] = test_fork_child();
			ASSERT_LE(0, pids[i]);
			if (pids[i] == 0) {
				close(pipes[i][0]);
				victim((round + i) % 3, pipes[i][1]);
			}
			close(pipes[i][1]);
		}
		for (i = 0; i < KILL_VICTIMS; i++) {
			struct pollfd p = { .fd = pipes[i][0], .events = POLLIN };
			char c;

			ASSERT_EQ(1, poll(&p, 1, 20000)) TH_LOG("victim %d not ready", i);
			ASSERT_EQ(1, read(pipes[i][0], &c, 1)) TH_LOG("victim %d died early", i);
			close(pipes[i][0]);
		}
		sleep_ms(next_rand(&seed) % 200);
		q = test_count_lines(IMPORTER_DEBUGFS "/jobs", "state=queued");
		r = test_count_lines(IMPORTER_DEBUGFS "/jobs", "state=running");
		queued_seen += q;
		running_seen += r;
		busy_seen += q > 0 && r > 0;
		for (i = 0; i < KILL_VICTIMS; i++)
			ASSERT_EQ(0, kill(pids[i], SIGKILL));
		for (i = 0; i < KILL_VICTIMS; i++) {
			int status;

			ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
			EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
				TH_LOG("victim %d: status %#x", i, status);
			killed++;
		}
		t = settle(&self->base);
		ASSERT_LE(0, t) TH_LOG("round %d: the killed processes' resources stay", round);
		if (t > worst)
			worst = t;
	}
	ksft_print_msg("sigkill_mid_job: %.1f s, %d rounds, %ld processes killed\n",
		       monotonic_s() - start, KILL_ROUNDS, killed);
	ksft_print_msg("sigkill_mid_job: %ld jobs queued, %ld running at the kills\n",
		       queued_seen, running_seen);
	ksft_print_msg("sigkill_mid_job: slowest release %.2f s\n", worst);
	/* The kills must have hit jobs in flight, or this tested nothing. */
	EXPECT_EQ(KILL_ROUNDS, busy_seen);
}

/*
 * A process killed behind another context's long queue: context A (the
 * test) queues BEHIND_A_JOBS jobs of a_ms each on engine 0, then
 * process B queues its own jobs behind them (and, in one variant, has a
 * job running on engine 1) and is killed. B's exit must take no longer
 * than its own running job (or BEHIND_SLACK_S when none has started), not
 * A's queue; once it is reaped, every fence of B has signalled, the
 * cancelled ones with -ECANCELED; A's jobs all run and give the right
 * result; the modules' counters come back and the importer unloads.
 */
#define BEHIND_A_JOBS		4
#define BEHIND_B_QUEUED		3
/* A process's exit and waitpid() under TCG, with room to spare. */
#define BEHIND_SLACK_S		1.0

FIXTURE(behind) {
	struct held base;
	char imp_ko[PATH_MAX];
};

FIXTURE_VARIANT(behind) {
	unsigned int running_ms;	/* B's job running on engine 1, or 0 */
	/* Each of A's jobs: their sum outlasts B's bound by over a second. */
	unsigned int a_ms;
};

FIXTURE_VARIANT_ADD(behind, none_started) {
	.running_ms = 0,
	.a_ms = 750,
};

FIXTURE_VARIANT_ADD(behind, one_running) {
	.running_ms = 1500,
	.a_ms = 1250,
};

FIXTURE_SETUP(behind)
{
	if (access(IMPORTER_DEV, F_OK))
		SKIP(return, "cohbuf_importer is not loaded");
	if (access(COHBUF_DEBUGFS "/stats", R_OK) || access(IMPORTER_DEBUGFS "/stats", R_OK))
		SKIP(return, "debugfs of cohbuf or cohbuf_importer is not mounted");
	if (test_importer_module_file(self->imp_ko, sizeof(self->imp_ko)))
		SKIP(return, "cohbuf_importer.ko not found (set COHBUF_KO)");
	if (read_number(IMPORTER_PARAM("engines"), NULL) < 2)
		SKIP(return, "the importer has fewer than 2 engines");
	held_baseline(&self->base);
}

FIXTURE_TEARDOWN_PARENT(behind)
{
	if (access("/sys/module/cohbuf_importer", F_OK))
		test_load_module(self->imp_ko);
}

/* Process B: queue behind A, pass every out-fence to the parent, wait to be killed. */
static void queue_behind(int sock, unsigned int running_ms)
{
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open(), buf, i;
	struct cohbuf_imp_submit_data job;
	__u32 h = 0;

	if (dev < 0 || ctx < 0)
		_exit(10);
	buf = test_alloc(dev, (BEHIND_B_QUEUED + 1) * 4096);
	if (buf < 0 || cohbuf_importer_import(ctx, buf, &h, NULL) || !h)
		_exit(11);
	if (running_ms) {
		job = imp_fill(h, 0, 4096, 0xb0b0b0b0);
		imp_set_latency(&job, running_ms);
		if (submit(ctx, &job, 1, -1, 1) || cohbuf_fd_send(sock, job.out_fence_fd))
			_exit(12);
	}
	for (i = 0; i < BEHIND_B_QUEUED; i++) {
		job = imp_fill(h, (i + 1) * 4096, 4096, 0xb1b1b1b1 + i);
		if (submit(ctx, &job, 0, -1, 1) || cohbuf_fd_send(sock, job.out_fence_fd))
			_exit(13);
	}
	for (;;)
		pause();
}

/* Lines of the importer's jobs file with both @a and @b. */
static long job_lines_with(const char *a, const char *b)
{
	static char text[1 << 16];
	char *line, *save = NULL;
	long n = 0;

	if (read_text(IMPORTER_DEBUGFS "/jobs", text, sizeof(text)) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += strstr(line, a) && strstr(line, b);
	return n;
}

TEST_F_TIMEOUT(behind, killed_process_exits_at_once, 90)
{
	struct cohbuf_imp_submit_data a[BEHIND_A_JOBS], sum;
	unsigned char expect[BEHIND_A_JOBS * 4096];
	int dev, ctx, buf, sv[2], fences[BEHIND_B_QUEUED + 1], nr_fences, i, status;
	double queued_at, killed_at, exit_s, a_left, bound;
	__u32 h = 0, crc = 0;
	pid_t pid;

	dev = cohbuf_dev_open();
	ctx = cohbuf_importer_open();
	ASSERT_LE(0, dev);
	ASSERT_LE(0, ctx);
	buf = test_alloc(dev, sizeof(expect));
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, cohbuf_importer_import(ctx, buf, &h, NULL));
	queued_at = monotonic_s();
	for (i = 0; i < BEHIND_A_JOBS; i++) {
		a[i] = imp_fill(h, i * 4096, 4096, 0xa0a0a0a0 + i);
		imp_set_latency(&a[i], variant->a_ms);
		ASSERT_EQ(0, submit(ctx, &a[i], 0, -1, 0));
		pattern_bytes(expect + i * 4096, 4096, 0xa0a0a0a0 + i);
	}
	sum = imp_checksum(h, 0, sizeof(expect));
	ASSERT_EQ(0, submit(ctx, &sum, 0, -1, 0));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = test_fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		queue_behind(sv[1], variant->running_ms);
	}
	close(sv[1]);
	nr_fences = BEHIND_B_QUEUED + !!variant->running_ms;
	for (i = 0; i < nr_fences; i++) {
		fences[i] = cohbuf_fd_recv(sv[0]);
		ASSERT_LE(0, fences[i]) TH_LOG("fence %d of B: %s", i, strerror(-fences[i]));
	}
	close(sv[0]);
	/* B's jobs wait behind A's; its engine 1 job, if any, has started. */
	EXPECT_LE(BEHIND_B_QUEUED + BEHIND_A_JOBS - 1, job_lines_with("engine=0", "state=queued"));
	if (variant->running_ms) {
		for (i = 0; i < 200 && job_lines_with("engine=1", "state=running") < 1; i++)
			sleep_ms(10);
		ASSERT_EQ(1, job_lines_with("engine=1", "state=running"));
	}

	killed_at = monotonic_s();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	exit_s = monotonic_s() - killed_at;
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	a_left = BEHIND_A_JOBS * variant->a_ms / 1000.0 - (killed_at - queued_at);
	bound = variant->running_ms / 1000.0 + BEHIND_SLACK_S;
	ksft_print_msg("killed behind %.1f s of A's queue: exit took %.3f s (bound %.1f s)\n",
		       a_left, exit_s, bound);
	/* Or the test could not tell waiting for A from not waiting. */
	ASSERT_LT(bound + 1.0, a_left);
	EXPECT_GE(bound, exit_s);

	/* Once B is reaped, every fence of its context has signalled, none successfully. */
	for (i = 0; i < nr_fences; i++) {
		struct sync_file_info info = { 0 };

		EXPECT_TRUE(fd_ready(fences[i], POLLIN)) TH_LOG("fence %d of B unsignalled", i);
		ASSERT_EQ(0, ioctl(fences[i], SYNC_IOC_FILE_INFO, &info));
		EXPECT_EQ(-ECANCELED, info.status) TH_LOG("fence %d of B", i);
		close(fences[i]);
	}

	/* A's queue runs to the end, each job with its full latency, and right. */
	for (i = 0; i < BEHIND_A_JOBS; i++) {
		status = 1;
		EXPECT_EQ(0, cohbuf_importer_wait(ctx, a[i].job_id, WAIT_NS, &status, NULL));
		EXPECT_EQ(0, status) TH_LOG("job %d of A", i);
	}
	status = 1;
	EXPECT_EQ(0, cohbuf_importer_wait(ctx, sum.job_id, WAIT_NS, &status, &crc));
	EXPECT_EQ(0, status);
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), crc);
	EXPECT_LE(BEHIND_A_JOBS * variant->a_ms / 1000.0 * 0.95, monotonic_s() - queued_at);
	close(ctx);
	close(buf);
	close(dev);

	EXPECT_LE(0, settle(&self->base)) TH_LOG("the killed process's resources stay");
	EXPECT_EQ(0, test_module_unused("cohbuf_importer", SETTLE_SECONDS));
	EXPECT_EQ(0, test_unload_module("cohbuf_importer")) TH_LOG("unload: %s", strerror(errno));
	EXPECT_EQ(0, test_load_module(self->imp_ko)) TH_LOG("load: %s", strerror(errno));
}

struct quota_run {
	struct shared *s;
	__u64 quota;		/* bytes the test may use */
	long long base;		/* live_bytes before */
	long long held;		/* bytes held by user space, all threads */
	long long max_live;	/* largest live_bytes seen */
	long samples, enomem, frees;
	int heap;		/* /dev/dma_heap/cohbuf, or -1 */
	int stop;
};

static int quota_alloc(struct quota_run *q, int dev, size_t size, int use_heap)
{
	if (use_heap) {
		struct dma_heap_allocation_data d = {
			.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		return ioctl(q->heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : (int)d.fd;
	}
	return test_alloc(dev, size);
}

static void *quota_worker(void *arg)
{
	struct quota_run *q = arg;
	int dev = cohbuf_dev_open(), fds[64], n = 0, i;
	size_t sizes[64];
	__u64 seed = (uintptr_t)&dev;

	if (dev < 0) {
		failed(q->s, "open", errno);
		return NULL;
	}
	while (monotonic_s() < q->s->deadline) {
		__u64 r = next_rand(&seed);
		size_t size = (1 + r % 32) * 64 * KIB;
		int fd;

		if (n == 64 || (r >> 20) % 4 == 0) {
			/* Give back about half. */
			for (i = n - 1; i >= 0; i--) {
				if (next_rand(&seed) & 1)
					continue;
				__atomic_fetch_sub(&q->held, sizes[i], __ATOMIC_RELAXED);
				close(fds[i]);
				fds[i] = fds[--n];
				sizes[i] = sizes[n];
				add(&q->frees, 1);
			}
			continue;
		}
		fd = quota_alloc(q, dev, size, q->heap >= 0 && (r >> 24) % 4 == 0);
		if (fd == -ENOMEM) {
			add(&q->enomem, 1);
			continue;
		}
		if (fd < 0) {
			failed(q->s, "alloc", -fd);
			break;
		}
		add(&q->s->allocs, 1);
		/*
		 * Counted after the charge, uncounted before the uncharge, and
		 * compared with the whole limit (base + quota): buffers live at
		 * the start may be released during the run (seen once in the
		 * sid guest), which lets this run hold more than the quota.
		 */
		if (__atomic_add_fetch(&q->held, size, __ATOMIC_RELAXED) >
		    (long long)(q->base + q->quota))
			failed(q->s, "more than the quota allocated", EOVERFLOW);
		fds[n] = fd;
		sizes[n++] = size;
	}
	/*
	 * Uncounted here too: another worker may still be allocating (its
	 * last check of the deadline came just before ours).
	 */
	while (n--) {
		__atomic_fetch_sub(&q->held, sizes[n], __ATOMIC_RELAXED);
		close(fds[n]);
	}
	close(dev);
	return NULL;
}

static void *quota_monitor(void *arg)
{
	struct quota_run *q = arg;

	while (!__atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
		long long live = cohbuf_stat("live_bytes") - q->base;

		if (live > q->max_live)
			q->max_live = live;
		q->samples++;
		sleep_ms(1);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, quota_exhaustion, 90)
{
	struct quota_run q = { .quota = QUOTA_BYTES, .heap = -1 };
	pthread_t tid[QUOTA_THREADS], mon;
	double start = monotonic_s();
	int i, dev, fd;

	q.s = shared_new();
	ASSERT_NE(NULL, q.s);
	q.base = cohbuf_stat("live_bytes");
	ASSERT_LE(0, q.base);
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"), q.base + QUOTA_BYTES));
	q.heap = open("/dev/dma_heap/cohbuf", O_RDONLY | O_CLOEXEC);
	q.s->deadline = start + QUOTA_SECONDS;
	ASSERT_EQ(0, pthread_create(&mon, NULL, quota_monitor, &q));
	for (i = 0; i < QUOTA_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, quota_worker, &q));
	for (i = 0; i < QUOTA_THREADS; i++)
		pthread_join(tid[i], NULL);
	__atomic_store_n(&q.stop, 1, __ATOMIC_RELAXED);
	pthread_join(mon, NULL);
	if (q.heap >= 0)
		close(q.heap);
	ksft_print_msg("quota_exhaustion: %.1f s, %d threads%s, quota %llu MiB\n",
		       monotonic_s() - start, QUOTA_THREADS,
		       q.heap >= 0 ? " (a quarter of allocs via the heap)" : "",
		       QUOTA_BYTES / MIB);
	ksft_print_msg("quota_exhaustion: %ld allocs, %ld ENOMEM, %ld frees\n",
		       q.s->allocs, q.enomem, q.frees);
	ksft_print_msg("quota_exhaustion: live_bytes sampled %ld times, at most %lld\n",
		       q.samples, q.max_live);
	EXPECT_EQ(0, q.s->errors) TH_LOG("first error: %s", q.s->first_error);
	EXPECT_LT(0, q.enomem) TH_LOG("the quota was never reached");
	EXPECT_LE(q.max_live, (long long)QUOTA_BYTES);
	EXPECT_EQ(q.base, cohbuf_stat("live_bytes"));

	/* Recovered, to the byte: exactly the quota fits, one page more not. */
	dev = cohbuf_dev_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOMEM, test_alloc(dev, QUOTA_BYTES + 4 * KIB));
	fd = test_alloc(dev, QUOTA_BYTES);
	EXPECT_LE(0, fd) TH_LOG("alloc of the whole quota: %s", strerror(-fd));
	if (fd >= 0) {
		EXPECT_EQ(-ENOMEM, test_alloc(dev, 4 * KIB));
		close(fd);
	}
	fd = test_alloc(dev, 4 * KIB);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	close(dev);
	EXPECT_LE(0, settle(&self->base));
	munmap(q.s, sizeof(*q.s));
}

/* A freshly loaded pair works: allocate, import, fill, checksum. */
static int tiny_round_trip(int heap_too)
{
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open(), buf = -1, status = -1;
	struct cohbuf_imp_submit_data fill, sum;
	unsigned char expect[4096];
	__u32 crc = 0, h;
	int ret = -1;

	if (dev < 0 || ctx < 0)
		goto out;
	buf = test_alloc(dev, 4096);
	if (buf < 0 || cohbuf_importer_import(ctx, buf, &h, NULL) || !h)
		goto out;
	fill = imp_fill(h, 0, 4096, 0xc0ffee11);
	sum = imp_checksum(h, 0, 4096);
	if (cohbuf_importer_submit(ctx, &fill) || cohbuf_importer_submit(ctx, &sum) ||
	    cohbuf_importer_wait(ctx, sum.job_id, WAIT_NS, &status, &crc) || status ||
	    cohbuf_importer_wait(ctx, fill.job_id, WAIT_NS, &status, NULL) || status)
		goto out;
	pattern_bytes(expect, sizeof(expect), 0xc0ffee11);
	if (crc != test_crc32(expect, sizeof(expect)))
		goto out;
	ret = 0;
	if (heap_too) {
		int heap = open("/dev/dma_heap/cohbuf", O_RDONLY | O_CLOEXEC);
		struct dma_heap_allocation_data d = {
			.len = 4096, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
			ret = -1;
		else
			close(d.fd);
		if (heap >= 0)
			close(heap);
	}
out:
	if (buf >= 0)
		close(buf);
	if (ctx >= 0)
		close(ctx);
	if (dev >= 0)
		close(dev);
	return ret;
}

FIXTURE(cycles) {
	char ko[PATH_MAX], imp_ko[PATH_MAX];
};

FIXTURE_SETUP(cycles)
{
	const char *ko = test_module_file(self->ko, sizeof(self->ko));

	if (!ko || access(ko, R_OK))
		SKIP(return, "module file not found (set COHBUF_KO)");
	if (access("/sys/module/cohbuf_importer", F_OK))
		SKIP(return, "cohbuf_importer is not loaded");
	if (ko != self->ko)
		snprintf(self->ko, sizeof(self->ko), "%s", ko);
	if (test_importer_module_file(self->imp_ko, sizeof(self->imp_ko)))
		SKIP(return, "cohbuf_importer.ko not found next to cohbuf.ko");
}

/* Whatever happened, both modules are loaded again for the next programs. */
FIXTURE_TEARDOWN_PARENT(cycles)
{
	if (access("/sys/module/cohbuf", F_OK))
		test_load_module(self->ko);
	if (access("/sys/module/cohbuf_importer", F_OK))
		test_load_module(self->imp_ko);
}

TEST_F_TIMEOUT(cycles, load_unload_cycles, 180)
{
	int heap = access("/sys/module/cohbuf_heap", F_OK) == 0;
	double start = monotonic_s();
	int i;

	/* Leftovers of earlier programs would keep the modules busy. */
	test_module_unused("cohbuf_importer", SETTLE_SECONDS);
	test_module_unused("cohbuf", SETTLE_SECONDS);
	for (i = 0; i < LOAD_CYCLES; i++) {
		/* The round trip's context is freed just after its close. */
		EXPECT_EQ(0, test_module_unused("cohbuf_importer", SETTLE_SECONDS));
		ASSERT_EQ(0, test_unload_module("cohbuf_importer"))
			TH_LOG("cycle %d: unload cohbuf_importer: %s", i, strerror(errno));
		ASSERT_EQ(0, test_unload_module("cohbuf"))
			TH_LOG("cycle %d: unload cohbuf: %s", i, strerror(errno));
		ASSERT_NE(0, access(COHBUF_DEV, F_OK));
		ASSERT_NE(0, access(IMPORTER_DEV, F_OK));
		ASSERT_EQ(0, test_load_module(self->ko))
			TH_LOG("cycle %d: load %s: %s", i, self->ko, strerror(errno));
		ASSERT_EQ(0, test_load_module(self->imp_ko))
			TH_LOG("cycle %d: load %s: %s", i, self->imp_ko, strerror(errno));
		ASSERT_EQ(0, tiny_round_trip(heap)) TH_LOG("cycle %d: the loaded pair fails", i);
	}
	ksft_print_msg("load_unload_cycles: %.1f s, %d cycles, each: unload, load, %s\n",
		       monotonic_s() - start, LOAD_CYCLES,
		       heap ? "4 KiB alloc+import+fill+checksum+heap alloc" :
		       "4 KiB alloc+import+fill+checksum");
	if (heap) {
		EXPECT_EQ(-1, test_unload_module("cohbuf_heap"));
		EXPECT_EQ(0, access("/sys/module/cohbuf_heap", F_OK));
	}
}

TEST_HARNESS_MAIN
