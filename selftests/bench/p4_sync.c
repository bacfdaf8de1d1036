// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench P4: synchronisation.  DMA_BUF_IOCTL_SYNC start+end per
 * call in each cache mode; fence signal -> poll() wake-up on the job's
 * sync_file and on the dma-buf, and SUBMIT -> WAIT completion, p50/p99/
 * max; all against an eventfd write -> read round trip between two
 * threads (the ratio is cohbuf's time / the round trip's).  And the
 * importer's jobs/s with 2 engines against 1 (jobs of 1 ms each).
 *
 * The wake-ups are timed from the fence's signal, its timestamp as the
 * sync_file reports it (SYNC_IOC_FILE_INFO, CLOCK_MONOTONIC), to poll()'s
 * return; the job keeps its engine busy for 1 ms first, so the poller is
 * asleep in poll() when the fence signals.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include <libcohbuf.h>

#include "bench.h"

#define P4_BUF_LEN	(64u << 10)
#define P4_JOB_LEN	4096u
#define P4_WAIT_NS	2000000000ULL
/* How long a wake-up job keeps its engine busy before it signals. */
#define P4_WAKE_LATENCY_MS	1
/* What the echo thread reads as "stop" (the round trips send 1). */
#define P4_ECHO_STOP	((__u64)-2)

/* The eventfd echo: the thread reads @ping and writes @pong. */
struct p4_echo {
	int ping, pong;
	pthread_t thread;
};

static void *p4_echo_thread(void *arg)
{
	struct p4_echo *e = arg;
	__u64 v;

	while (read(e->ping, &v, sizeof(v)) == sizeof(v)) {
		if (v == P4_ECHO_STOP)
			break;
		if (write(e->pong, &v, sizeof(v)) != sizeof(v))
			break;
	}
	return NULL;
}

static int p4_echo_start(struct p4_echo *e)
{
	e->ping = eventfd(0, EFD_CLOEXEC);
	e->pong = eventfd(0, EFD_CLOEXEC);
	if (e->ping < 0 || e->pong < 0)
		return -1;
	return pthread_create(&e->thread, NULL, p4_echo_thread, e) ? -1 : 0;
}

static void p4_echo_stop(struct p4_echo *e)
{
	__u64 stop = P4_ECHO_STOP;

	if (write(e->ping, &stop, sizeof(stop)) == sizeof(stop))
		pthread_join(e->thread, NULL);
	close(e->ping);
	close(e->pong);
}

/* One round trip in microseconds; 0 on failure. */
static double p4_echo_once(struct p4_echo *e)
{
	__u64 v = 1;
	double t0 = bench_now();

	if (write(e->ping, &v, sizeof(v)) != sizeof(v) ||
	    read(e->pong, &v, sizeof(v)) != sizeof(v))
		return 0;
	return (bench_now() - t0) * 1e6;
}

/* Operations per measurement of the per-call figures. */
static unsigned int p4_loops(void)
{
	return bench_cfg.quick ? 10 : 2000;
}

/* Mean round trip over p4_loops() of them, in microseconds. */
static double p4_echo_mean(void *ctx)
{
	unsigned int i, n = p4_loops();
	double sum = 0, t;

	for (i = 0; i < n; i++) {
		t = p4_echo_once(ctx);
		if (t <= 0)
			return 0;
		sum += t;
	}
	return sum / n;
}

/* Mean SYNC start+end (read-write) on the dma-buf at @ctx, in microseconds. */
static double p4_sync_mean(void *ctx)
{
	int buf = *(int *)ctx;
	unsigned int i, n = p4_loops();
	double t0 = bench_now();

	for (i = 0; i < n; i++)
		if (cohbuf_dmabuf_cpu_access_begin(buf, DMA_BUF_SYNC_RW) ||
		    cohbuf_dmabuf_cpu_access_end(buf, DMA_BUF_SYNC_RW))
			return 0;
	return (bench_now() - t0) * 1e6 / n;
}

static void p4_sync(int dev, struct p4_echo *echo, unsigned int mode)
{
	struct cohbuf_buffer_desc desc = { .size = P4_BUF_LEN, .cache_mode = mode };
	struct bench_figure f = {
		.group = "P4", .a = "cohbuf", .b = "eventfd_rtt", .unit = "us",
		.name = mode == COHBUF_CACHE_WC ? "sync_wc" : "sync_cached",
	};
	int buf = cohbuf_exporter_alloc(dev, &desc, NULL);

	if (buf < 0) {
		bench_fail(&f, "cannot allocate the cohbuf buffer");
		return;
	}
	bench_pair(&f, p4_sync_mean, &buf, p4_echo_mean, echo);
	close(buf);
}

/*
 * The importer side of the job figures: a buffer per engine, so that the
 * jobs of different engines do not wait for each other's write fences.
 */
struct p4_jobs {
	int ctx;
	int buf[2];
	__u32 handle[2];
};

static int p4_submit(const struct p4_jobs *j, __u32 flags, __u32 latency_ms,
		     __u32 engine, struct cohbuf_imp_submit_data *job)
{
	memset(job, 0, sizeof(*job));
	job->op = COHBUF_IMP_OP_FILL;
	job->flags = flags | COHBUF_IMP_SUBMIT_LATENCY;
	job->dst_handle = j->handle[engine];
	job->len = P4_JOB_LEN;
	job->pattern = 0xc0ffee;
	job->latency_ms = latency_ms;
	job->engine = engine;
	return cohbuf_importer_submit(j->ctx, job);
}

enum p4_wake { P4_WAKE_SYNC_FILE, P4_WAKE_DMABUF, P4_WAKE_WAIT };

/* When the single fence of sync_file @fd signalled, in seconds; 0 if unknown. */
static double p4_fence_signalled(int fd)
{
	struct sync_fence_info fence;
	struct sync_file_info info;

	memset(&fence, 0, sizeof(fence));
	memset(&info, 0, sizeof(info));
	info.num_fences = 1;
	info.sync_fence_info = (__u64)(unsigned long)&fence;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) || info.num_fences != 1 ||
	    fence.status != 1)
		return 0;
	return fence.timestamp_ns / 1e9;
}

/*
 * One job in microseconds; 0 on failure.  The wake-ups: from the fence's
 * signal to poll()'s return on the sync_file or on the dma-buf; the
 * completion: from before SUBMIT to WAIT's return.
 */
static double p4_job_once(const struct p4_jobs *j, enum p4_wake how)
{
	struct cohbuf_imp_submit_data job;
	double t0 = bench_now(), t, signalled;
	int status = -1, ret;

	if (how == P4_WAKE_WAIT) {
		if (p4_submit(j, 0, 0, 0, &job))
			return 0;
		ret = cohbuf_importer_wait(j->ctx, job.job_id, P4_WAIT_NS, &status, NULL);
		t = bench_now() - t0;
		return ret || status ? 0 : t * 1e6;
	}
	if (p4_submit(j, COHBUF_IMP_SUBMIT_OUT_FENCE, P4_WAKE_LATENCY_MS, 0, &job))
		return 0;
	ret = cohbuf_fd_wait(how == P4_WAKE_SYNC_FILE ? job.out_fence_fd : j->buf[0], 2000);
	t = bench_now();
	signalled = ret ? 0 : p4_fence_signalled(job.out_fence_fd);
	close(job.out_fence_fd);
	if (cohbuf_importer_wait(j->ctx, job.job_id, P4_WAIT_NS, &status, NULL) ||
	    status || !signalled)
		return 0;
	return (t - signalled) * 1e6;
}

/* A latency figure: samples of the job and of the round trip, interleaved. */
static void p4_latency(const struct p4_jobs *j, struct p4_echo *echo,
		       enum p4_wake how, const char *name)
{
	struct bench_figure f = {
		.group = "P4", .name = name, .a = "cohbuf", .b = "eventfd_rtt",
		.unit = "us",
	};
	size_t n = bench_cfg.reps * (bench_cfg.quick ? 4 : 50), i;
	double *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));

	if (!a || !b) {
		bench_fail(&f, "out of memory");
	} else {
		for (i = 0; i < n; i++) {
			a[i] = p4_job_once(j, how);
			b[i] = p4_echo_once(echo);
		}
		bench_latency(&f, a, b, n);
	}
	free(a);
	free(b);
}

/* Jobs of 1 ms each per second, spread over @ctx's number of engines. */
struct p4_rate {
	const struct p4_jobs *j;
	unsigned int engines;
};

static double p4_jobs_rate(void *ctx)
{
	const struct p4_rate *r = ctx;
	unsigned int n = bench_cfg.quick ? 4 : 20, i;
	struct cohbuf_imp_submit_data job;
	__u64 ids[20];
	double t0 = bench_now();
	int status;

	for (i = 0; i < n; i++) {
		if (p4_submit(r->j, 0, 1, i % r->engines, &job))
			return 0;
		ids[i] = job.job_id;
	}
	for (i = 0; i < n; i++)
		if (cohbuf_importer_wait(r->j->ctx, ids[i], P4_WAIT_NS, &status, NULL) ||
		    status)
			return 0;
	return n / (bench_now() - t0);
}

static void p4_importer(int dev, struct p4_echo *echo)
{
	static const char *const names[] = {
		"fence_wake_sync_file", "fence_wake_dmabuf", "submit_complete",
		"jobs_per_s",
	};
	struct cohbuf_buffer_desc desc = { .size = P4_BUF_LEN };
	struct p4_jobs j = { .ctx = -1, .buf = { -1, -1 } };
	struct p4_rate one = { &j, 1 }, two = { &j, 2 };
	struct bench_figure rate = {
		.group = "P4", .name = names[3], .a = "2_engines", .b = "1_engine",
		.unit = "jobs/s", .higher_better = 1,
	};
	const char *why = NULL;
	unsigned int i;

	for (i = 0; i < 2; i++)
		j.buf[i] = cohbuf_exporter_alloc(dev, &desc, NULL);
	if (j.buf[0] >= 0 && j.buf[1] >= 0)
		j.ctx = cohbuf_importer_open();
	if (j.buf[0] < 0 || j.buf[1] < 0)
		why = "cannot allocate the cohbuf buffers";
	else if (j.ctx < 0)
		why = "cannot open /dev/cohbuf-importer";
	else if (cohbuf_importer_import(j.ctx, j.buf[0], &j.handle[0], NULL) ||
		 cohbuf_importer_import(j.ctx, j.buf[1], &j.handle[1], NULL))
		why = "cannot import the buffers into the importer";
	if (why) {
		for (i = 0; i < 3; i++) {
			struct bench_figure f = {
				.group = "P4", .name = names[i], .a = "cohbuf",
				.b = "eventfd_rtt", .unit = "us",
			};

			bench_fail(&f, why);
		}
		bench_fail(&rate, why);
	} else {
		p4_latency(&j, echo, P4_WAKE_SYNC_FILE, names[0]);
		p4_latency(&j, echo, P4_WAKE_DMABUF, names[1]);
		p4_latency(&j, echo, P4_WAKE_WAIT, names[2]);
		bench_pair(&rate, p4_jobs_rate, &two, p4_jobs_rate, &one);
	}
	if (j.ctx >= 0)
		close(j.ctx);
	for (i = 0; i < 2; i++)
		if (j.buf[i] >= 0)
			close(j.buf[i]);
}

void bench_p4(void)
{
	struct p4_echo echo;
	int dev = cohbuf_exporter_open();

	if (dev < 0 || p4_echo_start(&echo)) {
		static const char *const names[] = {
			"sync_cached", "sync_wc", "fence_wake_sync_file",
			"fence_wake_dmabuf", "submit_complete", "jobs_per_s",
		};
		unsigned int i;

		for (i = 0; i < P4_FIGURES; i++) {
			struct bench_figure f = {
				.group = "P4", .name = names[i], .a = "cohbuf",
				.b = "eventfd_rtt",
			};

			bench_fail(&f, dev < 0 ? "cannot open /dev/cohbuf" :
				   "cannot start the eventfd thread");
		}
		if (dev >= 0)
			close(dev);
		return;
	}
	p4_sync(dev, &echo, COHBUF_CACHE_CACHED);
	p4_sync(dev, &echo, COHBUF_CACHE_WC);
	p4_importer(dev, &echo);
	p4_echo_stop(&echo);
	close(dev);
}
