// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P5 (second part): the largest buffer each provider
 * allocates in the guest (1 GiB of memory).  A search in a child process:
 * sizes double from 1 MiB until an allocation fails, then bisect to
 * P5_STEP between the last success and the first failure.  No size is
 * tried that would leave less than P5_KEEP_PERCENT of MemTotal available:
 * the system heap and udmabuf wake the OOM killer instead of failing
 * (measured: both at 1 GiB in a 1 GiB guest), and the rig fails a guest
 * whose kernel log has an OOM report.  cohbuf keeps a reserve of its own
 * (reserve_percent, 5 % by default) and fails with ENOMEM before it.  In
 * case a provider gets there all the same, the child has the highest OOM
 * score, so it is the one killed, and the result is the largest size it
 * reported before.  How each search ended is printed as a diagnostic.
 *
 * The configured limits are lifted for the search, and put back after it:
 * cohbuf's max_buffer_size and max_total_bytes (its reserve_percent stays:
 * it is what keeps the OOM killer away) and udmabuf's size_limit_mb.  The
 * value is a capacity, not a timing: one search per side, MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-heap.h>

#include <libcohbuf.h>

#include "../cohbuf_test.h"
#include "bench.h"

#define P5_MIB		(1024ull * 1024)
#define P5_STEP		(4 * P5_MIB)
#define P5_LIMIT	(4ull << 30)	/* above any guest's memory */
#define P5_QUICK_LIMIT	(8 * P5_MIB)
#define P5_UDMABUF_MB	"/sys/module/udmabuf/parameters/size_limit_mb"
#define P5_KEEP_PERCENT	5

enum p5_kind { P5_COHBUF, P5_COHBUF_CONTIG, P5_SYSTEM_HEAP, P5_CMA_HEAP, P5_UDMABUF, P5_KINDS };

static const char *const p5_dev[P5_KINDS] = {
	[P5_COHBUF] = "/dev/cohbuf", [P5_COHBUF_CONTIG] = "/dev/cohbuf",
	[P5_SYSTEM_HEAP] = "/dev/dma_heap/system", [P5_CMA_HEAP] = "/dev/dma_heap/reserved",
	[P5_UDMABUF] = "/dev/udmabuf",
};

static const char *const p5_name[P5_KINDS] = {
	[P5_COHBUF] = "cohbuf", [P5_COHBUF_CONTIG] = "cohbuf_contiguous",
	[P5_SYSTEM_HEAP] = "system_heap", [P5_CMA_HEAP] = "cma_heap",
	[P5_UDMABUF] = "udmabuf",
};

/* A dma-buf of @len from @kind's device @dev; its fd, or -1 with errno. */
static int p5_alloc(enum p5_kind kind, int dev, size_t len)
{
	struct cohbuf_buffer_desc desc = {
		.size = len, .flags = kind == P5_COHBUF_CONTIG ? COHBUF_ALLOC_CONTIGUOUS : 0,
	};
	struct dma_heap_allocation_data heap = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int ret;

	switch (kind) {
	case P5_COHBUF:
	case P5_COHBUF_CONTIG:
		ret = cohbuf_exporter_alloc(dev, &desc, NULL);
		if (ret < 0)
			errno = -ret;
		return ret < 0 ? -1 : ret;
	case P5_SYSTEM_HEAP:
	case P5_CMA_HEAP:
		return ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &heap) ? -1 : (int)heap.fd;
	case P5_UDMABUF:
		return bench_udmabuf(dev, len, NULL);
	case P5_KINDS:
		break;
	}
	errno = EINVAL;
	return -1;
}

/*
 * Whether a buffer of @len can be had; on failure the errno is at @err,
 * ENOSPC when the size was not tried, for the memory it would leave.
 */
static int p5_fits(enum p5_kind kind, int dev, size_t len, int *err)
{
	long long avail = meminfo_bytes("MemAvailable");
	long long keep = meminfo_bytes("MemTotal") / 100 * P5_KEEP_PERCENT;
	int fd;

	if (avail < 0 || keep < 0 || (long long)len > avail - keep) {
		*err = ENOSPC;
		return 0;
	}
	fd = p5_alloc(kind, dev, len);

	if (fd < 0) {
		*err = errno;
		return 0;
	}
	close(fd);
	return 1;
}

/* The child: searches, writing each size that fitted to @out. */
static void p5_search(enum p5_kind kind, int out, unsigned long long limit)
{
	unsigned long long lo = 0, hi = P5_MIB, mid;
	int dev = open(p5_dev[kind], O_RDWR | O_CLOEXEC), err = 0;

	write_text("/proc/self/oom_score_adj", "1000");
	if (dev < 0)
		_exit(1);
	while (hi <= limit && p5_fits(kind, dev, hi, &err)) {
		lo = hi;
		if (write(out, &lo, sizeof(lo)) != sizeof(lo))
			_exit(1);
		hi *= 2;
	}
	while (lo && hi <= limit && hi - lo > P5_STEP) {
		mid = (lo + hi) / 2 / P5_MIB * P5_MIB;
		if (p5_fits(kind, dev, mid, &err)) {
			lo = mid;
			if (write(out, &lo, sizeof(lo)) != sizeof(lo))
				_exit(1);
		} else {
			hi = mid;
		}
	}
	printf("# P5 largest %s: %llu MiB; then %s\n", p5_name[kind], lo / P5_MIB,
	       hi > limit ? "the search's limit" :
	       err == ENOSPC ? "not tried: too close to MemAvailable" : strerror(err));
	fflush(stdout);
	_exit(0);
}

/* The largest size of @kind, in MiB (0 if none fitted), searched once. */
static double p5_largest(enum p5_kind kind)
{
	static double found[P5_KINDS];
	unsigned long long limit = bench_cfg.quick ? P5_QUICK_LIMIT : P5_LIMIT, v, best = 0;
	int pipefd[2], status;
	pid_t pid;

	if (found[kind] > 0)
		return found[kind];
	if (pipe(pipefd))
		return 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		p5_search(kind, pipefd[1], limit);
	}
	close(pipefd[1]);
	while (pid > 0 && read(pipefd[0], &v, sizeof(v)) == sizeof(v))
		best = v;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	if (WIFSIGNALED(status))
		printf("# P5 largest %s: %llu MiB; then killed by signal %d (the OOM killer)\n",
		       p5_name[kind], best / P5_MIB, WTERMSIG(status));
	found[kind] = (double)best / P5_MIB;
	return found[kind];
}

static double p5_largest_fn(void *ctx)
{
	return p5_largest(*(const enum p5_kind *)ctx);
}

/* One figure: @a's largest against @b's, or a skip if @b's device is absent. */
static void p5_figure(const char *name, const enum p5_kind *a, const enum p5_kind *b)
{
	struct bench_figure f = {
		.group = "P5", .name = name, .a = p5_name[*a], .b = p5_name[*b],
		.unit = "MiB", .higher_better = 1,
	};
	unsigned int reps = bench_cfg.reps;
	char why[96];

	if (access(p5_dev[*b], R_OK | W_OK)) {
		snprintf(why, sizeof(why), "%s: %s (not in this kernel)", p5_dev[*b],
			 strerror(errno));
		bench_skip(&f, why);
		return;
	}
	bench_cfg.reps = 1;	/* a capacity, not a timing */
	bench_pair(&f, p5_largest_fn, (void *)a, p5_largest_fn, (void *)b);
	bench_cfg.reps = reps;
}

void bench_p5_largest(void)
{
	static const enum p5_kind kinds[P5_KINDS] = {
		P5_COHBUF, P5_COHBUF_CONTIG, P5_SYSTEM_HEAP, P5_CMA_HEAP, P5_UDMABUF,
	};
	const struct setting_value lifted[] = {
		{ COHBUF_PARAM("max_buffer_size"), NULL, P5_LIMIT },
		{ COHBUF_PARAM("max_total_bytes"), NULL, P5_LIMIT },
	};
	int pushed = !settings_push_all(lifted, 2);

	if (pushed && !access(P5_UDMABUF_MB, W_OK))
		pushed = !setting_push_number(P5_UDMABUF_MB, P5_LIMIT / P5_MIB);
	if (!pushed)
		printf("# P5 largest: cannot lift the limits: %s\n", strerror(errno));
	p5_figure("largest_buffer", &kinds[P5_COHBUF], &kinds[P5_SYSTEM_HEAP]);
	p5_figure("largest_buffer", &kinds[P5_COHBUF], &kinds[P5_UDMABUF]);
	p5_figure("largest_buffer", &kinds[P5_COHBUF], &kinds[P5_CMA_HEAP]);
	p5_figure("largest_contiguous", &kinds[P5_COHBUF_CONTIG], &kinds[P5_CMA_HEAP]);
	if (settings_pop_all())
		printf("# P5 largest: a limit could not be put back\n");
}
