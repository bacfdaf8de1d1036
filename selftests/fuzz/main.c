// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer over the whole uapi of cohbuf, its importer and the dma-buf
 * core: random sequences of ALLOC, INFO, mmap/munmap/mremap/mprotect/
 * madvise, DMA_BUF_IOCTL_SYNC, COHBUF_IOCTL_WRITE_FILE, SET_NAME,
 * EXPORT/IMPORT_SYNC_FILE, IMPORT, SUBMIT, WAIT, RELEASE, the stream
 * ioctls, read() and poll() of streams on the manual clock (input and
 * output, queue and ring mode, the ring read in place), close/dup2
 * games and fork() children, on cohbuf buffers and on foreign dma-bufs
 * (vgem, udmabuf, dma-heaps) where the kernel has them.
 *
 * Every result must be a success or an errno documented for the call, and
 * a call whose arguments are known to be invalid must fail.  Pages of a
 * successful mapping are touched; a fault there is a failure.  A model of
 * the live objects is kept, everything is closed at the end, and the
 * debugfs counters of both modules must be back where they started.
 *
 * Each run is bounded in operations and in time and reproducible from its
 * seed, which it prints: COHBUF_FUZZ_SEED, COHBUF_FUZZ_OPS and
 * COHBUF_FUZZ_SECONDS set the seed, the operation count and the time limit
 * of every run (-t NAME or COHBUF_FUZZ_RUN=NAME picks one),
 * COHBUF_FUZZ_TRACE=N prints the operations from index N on,
 * COHBUF_FUZZ_PROFILE prints the time each kind of operation takes and
 * COHBUF_FUZZ_FOREIGN=vgem,vgem-ro,udmabuf,/dev/dma_heap/system,... keeps
 * only the foreign dma-bufs it names (none: COHBUF_FUZZ_FOREIGN=).  The
 * kernel's answers (ETIME or not, ENOMEM or not) steer the model, so a
 * replay on another machine follows the same path only as long as the
 * kernel answers the same.
 *
 * This file holds the tests; the fuzzer's parts are in the files beside
 * it (fuzz.h lists them).
 */

#include "kselftest_harness.h"
#include "fuzz.h"

FIXTURE(fuzz) {
};

/* The harness runs no teardown after a failed setup: all pushed, or none. */
FIXTURE_SETUP(fuzz)
{
	static const struct setting_value params[] = {
		{ COHBUF_PARAM("max_buffer_size"), .number = FZ_MAX_BUFFER },
		{ COHBUF_PARAM("max_total_bytes"), .number = FZ_MAX_TOTAL },
		{ COHBUF_PARAM("chunk_size"), .number = FZ_CHUNK },
		{ IMPORTER_PARAM("timeout_ms"), .number = FZ_IMP_TIMEOUT_MS },
		{ IMPORTER_PARAM("stream_timeout_ms"), .number = FZ_STREAM_TIMEOUT_MS },
	};

	ASSERT_EQ(0, settings_push_all(params, ARRAY_SIZE(params)));
}

/* In the test's fork parent: the parameters go back, whatever became of the run. */
FIXTURE_TEARDOWN_PARENT(fuzz)
{
	EXPECT_EQ(0, settings_pop_all());
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/*
 * One of the FZ_RUNS fuzz runs: by default @share percent of DEFAULT_OPS,
 * DEFAULT_SEED + @index and what the runs before it left of
 * DEFAULT_SECONDS, less FZ_MIN_SECONDS for each run still to come (runs
 * differ in speed, and kernels and loads differ in which one is slow).
 */
#define FZ_RUNS		4
#define FZ_MIN_SECONDS	10.0

/*
 * The watchdog of a run: its time limit plus this for the cleanup.  The
 * harness's own timeout of each test (FZ_TIMEOUT) is only a backstop, so
 * that COHBUF_FUZZ_SECONDS can ask for runs of any length.
 */
#define FZ_CLEANUP_SECONDS	60
#define FZ_TIMEOUT		(7 * 24 * 3600)

/*
 * What the runs of this invocation did, for the time budget of the runs
 * after them and the total: in memory shared by every process of the
 * program (mapped before the harness forks its first test), so that no
 * two invocations share it and nothing is left behind.
 */
static struct fz_budget {
	unsigned long ops;
	double seconds;
} *budget;

static void __attribute__((constructor)) fz_budget_init(void)
{
	budget = test_shared_memory(sizeof(*budget));
}

/* A run that outlived its watchdog: a hang; its children go with it. */
static void fz_watchdog(int sig)
{
	static const char text[] = "# FUZZ FAILURE: the run outlived its time limit\n";
	int i;

	(void)sig;
	for (i = 0; i < NKIDS; i++)
		if (F.kids[i] > 0)
			kill(F.kids[i], SIGKILL);
	if (write(2, text, sizeof(text) - 1) < 0)
		i = 0;
	_exit(1);
}

static void fuzz_test(struct __test_metadata *_metadata, const char *name, int index,
		      unsigned int share, const unsigned int *weights)
{
	double seconds, t0, dt;
	struct fz_counters base;
	struct sigaction sa;
	char why[512], line[1024];
	const char *env;
	int i, n = 0, fds;

	env = getenv("COHBUF_FUZZ_RUN");
	if (env && *env && strcmp(env, name))
		SKIP(return, "COHBUF_FUZZ_RUN=%s", env);
	seconds = DEFAULT_SECONDS - budget->seconds - FZ_MIN_SECONDS * (FZ_RUNS - 1 - index);
	if (seconds < FZ_MIN_SECONDS)
		seconds = FZ_MIN_SECONDS;
	env = getenv("COHBUF_FUZZ_SECONDS");
	if (env && *env)
		seconds = strtod(env, NULL);
	signal(SIGALRM, fz_watchdog);
	alarm((unsigned int)seconds + FZ_CLEANUP_SECONDS);
	memset(&F, 0, sizeof(F));
	F.seed = env_ul("COHBUF_FUZZ_SEED", DEFAULT_SEED + (__u64)index);
	F.rng = F.seed;
	F.max_ops = env_ul("COHBUF_FUZZ_OPS", DEFAULT_OPS * share / 100);
	F.weights = weights;
	F.trace = env_ul("COHBUF_FUZZ_TRACE", 0);
	F.profile = !!getenv("COHBUF_FUZZ_PROFILE");
	F.closed_fd = -1;
	for (i = 0; i < NFDS; i++)
		F.fds[i].fd = -1;
	for (i = 0; i < NIMPS; i++)
		F.imps[i].ctx = -1;
	for (i = 0; i < NJOBS; i++)
		F.jobs[i].ctx = -1;
	for (i = 0; i < NSTREAMS; i++)
		F.streams[i].fd = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	read_counters(&base);
	fds = test_count_fds();
	ASSERT_LE(0, base.live_buffers);
	ASSERT_LE(0, base.imports) TH_LOG("no importer debugfs");
	F.engines = (int)read_number(IMPORTER_PARAM("engines"), NULL);
	ASSERT_LT(0, F.engines);
	F.dev = cohbuf_dev_open();
	ASSERT_LE(0, F.dev);
	F.wfile = memfd_create("cohbuf-fuzz", MFD_CLOEXEC);
	ASSERT_LE(0, F.wfile);
	for (i = 0; i < NCTX; i++) {
		F.ctx[i] = cohbuf_importer_open();
		ASSERT_LE(0, F.ctx[i]);
	}
	F.ro_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, F.ro_page);
	F.guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, F.guard);
	ASSERT_EQ(0, mprotect(F.guard + PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &F.nofile));
	if (!argbuf)
		argbuf = mmap(NULL, ARGBUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
	ASSERT_NE(MAP_FAILED, argbuf);
	F.dma_debug = !access("/sys/kernel/debug/dma-api", F_OK);
	make_foreign();
	F.drm = cohbuf_vgem_open();
	n = 0;
	line[0] = 0;
	for (i = 0; i < F.ntmpl; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s", F.tmpl[i].what);
	ksft_print_msg("fuzz %s: seed=%#llx ops=%lu time limit %.0f s, foreign dma-bufs:%s\n",
		       name, (unsigned long long)F.seed, F.max_ops, seconds,
		       F.ntmpl ? line : " none");

	t0 = monotonic_s();
	F.deadline = t0 + seconds;
	fz_run(F.max_ops);
	dt = monotonic_s() - t0;
	if (!F.failed)
		fz_cleanup();
	close(F.dev);
	close(F.wfile);
	if (F.drm >= 0)
		close(F.drm);

	n = 0;
	for (i = 0; i < K_MAX; i++)
		if (F.count[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu/%lu",
				      fz_kind_names[i], F.ok[i], F.count[i]);
	ksft_print_msg("fuzz %s: %lu ops in %.2f s, %.0f ops/s%s; forks %lu (killed %lu)\n",
		       name, F.op, dt, F.op / (dt > 0 ? dt : 1),
		       F.failed ? ", STOPPED by the failure" :
		       F.op < F.max_ops ? ", STOPPED EARLY by the time limit" : "",
		       F.forks, F.kills);
	ksft_print_msg("fuzz %s: jobs reaped: %lu ok, %lu timed out, %lu cancelled\n", name,
		       F.jobs_ok, F.jobs_timedout, F.jobs_cancelled);
	ksft_print_msg("fuzz %s: succeeded/issued:%s\n", name, line);
	for (i = 0, n = 0; i < K_MAX && F.profile; i++)
		if (F.count[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%.0f",
				      fz_kind_names[i], 1e6 * F.spent[i] / F.count[i]);
	if (F.profile)
		ksft_print_msg("fuzz %s: microseconds per op:%s\n", name, line);
	budget->ops += F.op;
	budget->seconds += dt;
	ASSERT_FALSE(F.failed) TH_LOG("%s", F.msg);
	EXPECT_EQ(fds, test_count_fds())
		TH_LOG("seed %#llx: an fd leaked", (unsigned long long)F.seed);
	ASSERT_TRUE(counters_settled(&base, why, sizeof(why)))
		TH_LOG("seed %#llx: not back to the start after closing everything: %s",
		       (unsigned long long)F.seed, why);
}

/* Weights per operation kind, in enum fz_kind order. */
static const unsigned int w_exporter[K_MAX] = {
	[K_ALLOC] = 14, [K_INFO] = 25, [K_CLOSE] = 10, [K_DUP] = 8, [K_OTHERFD] = 2,
	[K_FOREIGN] = 2, [K_SYNC] = 15, [K_SETNAME] = 8, [K_EXPORT_SF] = 6,
	[K_IMPORT_SF] = 6, [K_POLL] = 8, [K_RAW] = 10, [K_RLIMIT] = 1, [K_CHUNK_SIZE] = 1,
	[K_RANGE_SYNC] = 10, [K_WRITE_FILE] = 6,
};

static const unsigned int w_mmap[K_MAX] = {
	[K_ALLOC] = 8, [K_INFO] = 2, [K_CLOSE] = 5, [K_DUP] = 2, [K_FOREIGN] = 3,
	[K_SYNC] = 3, [K_MMAP] = 25, [K_MUNMAP] = 12, [K_MPROTECT] = 10,
	[K_MREMAP] = 10, [K_MADVISE] = 10, [K_TOUCH] = 20, [K_MMAP_FIXED] = 5,
	[K_CHUNK_SIZE] = 1,
};

static const unsigned int w_importer[K_MAX] = {
	[K_ALLOC] = 12, [K_INFO] = 4, [K_CLOSE] = 8, [K_DUP] = 4, [K_OTHERFD] = 2,
	[K_FOREIGN] = 6, [K_SYNC] = 8, [K_EXPORT_SF] = 8, [K_IMPORT_SF] = 8,
	[K_POLL] = 8, [K_RAW] = 12, [K_IMPORT] = 30, [K_RELEASE] = 20, [K_SUBMIT] = 50,
	[K_WAIT] = 50, [K_REOPEN] = 1, [K_RLIMIT] = 1, [K_VGEM_FENCE] = 2, [K_CHUNK_SIZE] = 1,
	/*
	 * Stream operations cost about 20 times a job's: few of them, 16 in
	 * all, ring and output streams included (stream.c makes them).
	 */
	[K_RANGE_SYNC] = 8, [K_STREAM_CREATE] = 1, [K_STREAM_QUEUE] = 3,
	[K_STREAM_DEQUEUE] = 1, [K_STREAM_STARTSTOP] = 1, [K_STREAM_ADVANCE] = 3,
	[K_STREAM_STATS] = 2, [K_STREAM_READ] = 1, [K_RING_CONSUME] = 2, [K_RING_POLL] = 1,
	[K_STREAM_CLOSE] = 1,
};

static const unsigned int w_mixed[K_MAX] = {
	[K_ALLOC] = 16, [K_INFO] = 10, [K_CLOSE] = 10, [K_DUP] = 8, [K_OTHERFD] = 2,
	[K_FOREIGN] = 4, [K_SYNC] = 8, [K_SETNAME] = 4, [K_EXPORT_SF] = 6,
	[K_IMPORT_SF] = 6, [K_POLL] = 6, [K_RAW] = 6, [K_MMAP] = 16, [K_MUNMAP] = 8,
	[K_MPROTECT] = 6, [K_MREMAP] = 6, [K_MADVISE] = 6, [K_TOUCH] = 12,
	[K_IMPORT] = 12, [K_RELEASE] = 8, [K_SUBMIT] = 16, [K_WAIT] = 16, [K_REOPEN] = 1,
	[K_FORK] = 1, [K_MMAP_FIXED] = 4, [K_RLIMIT] = 1, [K_CHUNK_SIZE] = 1,
	[K_RANGE_SYNC] = 4, [K_WRITE_FILE] = 2, [K_STREAM_CREATE] = 1, [K_STREAM_QUEUE] = 3,
	[K_STREAM_DEQUEUE] = 1, [K_STREAM_STARTSTOP] = 1, [K_STREAM_ADVANCE] = 3,
	[K_STREAM_STATS] = 2, [K_STREAM_READ] = 1, [K_RING_CONSUME] = 2, [K_RING_POLL] = 1,
	[K_STREAM_CLOSE] = 1,
};

TEST_F_TIMEOUT(fuzz, exporter_uapi, FZ_TIMEOUT)
{
	fuzz_test(_metadata, "exporter_uapi", 0, 37, w_exporter);
}

TEST_F_TIMEOUT(fuzz, mmap, FZ_TIMEOUT)
{
	fuzz_test(_metadata, "mmap", 1, 28, w_mmap);
}

TEST_F_TIMEOUT(fuzz, importer, FZ_TIMEOUT)
{
	fuzz_test(_metadata, "importer", 2, 27, w_importer);
}

TEST_F_TIMEOUT(fuzz, processes, FZ_TIMEOUT)
{
	fuzz_test(_metadata, "processes", 3, 8, w_mixed);
}

/* After all runs: nothing of ours is alive at all, and the op total. */
TEST_F(fuzz, final_accounting)
{
	unsigned long total = budget->ops;
	double secs = budget->seconds;

	ksft_print_msg("fuzz total: %lu ops in %.2f s (%.0f ops/s)%s\n", total, secs,
		       total / (secs > 0 ? secs : 1),
		       total < DEFAULT_OPS ? ", fewer than 1000000" : "");
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
	EXPECT_EQ(0, test_count_lines(COHBUF_DEBUGFS "/buffers", NULL));
	EXPECT_EQ(0, test_count_lines(IMPORTER_DEBUGFS "/imports", NULL));
	EXPECT_EQ(0, test_count_lines(IMPORTER_DEBUGFS "/jobs", NULL));
}

TEST_HARNESS_MAIN
