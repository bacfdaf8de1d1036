// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: the engines, each of which runs its jobs one at a time
 * in the order they were submitted, and the fences that report completion.
 *
 * Like the channels of a DMA controller, the engines (module parameter
 * "engines") run at the same time; only fences order jobs of different
 * engines. Each engine has its own fence context and ordered workqueue. A
 * job gets its seqno, is published and is queued under its engine's
 * submit_lock, so seqno order is queue order; the workqueue is ordered, so
 * queue order is signalling order, as the dma_fence rules require within a
 * context. Job ids are counted over all engines.
 *
 * Fence signalling rules: from the moment a job's fence is in a
 * reservation object until it is signalled, the engine does not allocate
 * memory and takes no reservation lock, since whoever waits for the fence
 * may hold one or be reclaiming memory. The whole job, dependency waits
 * included, runs between dma_fence_begin_signalling() and
 * dma_fence_end_signalling(), so that lockdep checks this; waiting for
 * other fences inside such a section is allowed by the annotation. The
 * workqueue has WQ_MEM_RECLAIM so that a job can run under memory
 * pressure. Every wait is bounded: dependencies by timeout_ms, the busy
 * hold by COHBUF_IMP_MAX_LATENCY_MS, and both end early when the job's
 * context is closed.
 *
 * The engine is the device: it reaches the buffers through their kernel
 * mapping and never calls dma_buf_begin_cpu_access(), which would take the
 * reservation lock and wait for the job's own fence.
 */

#include <linux/crc32.h>
#include <linux/dma-fence.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include <cohbuf_compat.h>
#include "importer.h"

/* Amount of work between two cond_resched() calls. */
#define COHBUF_IMP_STEP		SZ_1M

#define COHBUF_IMP_MAX_ENGINES	8

static unsigned int engines = 2;
module_param(engines, uint, 0444);
MODULE_PARM_DESC(engines,
		 "Number of engines that run jobs concurrently (default 2, 1 to 8)");

struct cohbuf_imp_engine {
	struct workqueue_struct *wq;	/* ordered: one job at a time */
	u64 context;			/* fence context of the engine's jobs */
	struct mutex submit_lock;	/* protects seqno; makes seqno order,
					 * publication order and queue order
					 * the same
					 */
	u64 seqno;			/* last seqno handed out */
	spinlock_t fence_lock;		/* the dma_fence lock of its jobs */
	unsigned int index;
	/* the fences' timeline name, "cohbuf-importer-engine<index>" */
	char name[sizeof("cohbuf-importer-engine") + 10];
};

static struct cohbuf_imp_engine cohbuf_imp_engines[COHBUF_IMP_MAX_ENGINES];
static unsigned int cohbuf_imp_nr_engines;	/* set up at module init */

/* Last job id handed out, over all engines; ids start at 1. */
static atomic64_t cohbuf_imp_last_job_id = ATOMIC64_INIT(0);

static const char *cohbuf_imp_fence_driver_name(struct dma_fence *fence)
{
	return "cohbuf_importer";
}

/* A job's fence, and the engine whose timeline it is on. */
struct cohbuf_imp_fence {
	struct dma_fence base;		/* first: freed through it */
	const struct cohbuf_imp_engine *eng;
};

static const char *cohbuf_imp_fence_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct cohbuf_imp_fence, base)->eng->name;
}

/*
 * A fence may outlive every job, context and import, in another driver's
 * reservation object or in a sync_file, and its ops live in this module:
 * each fence therefore holds a module reference, dropped here.
 */
static void cohbuf_imp_fence_release(struct dma_fence *fence)
{
	dma_fence_free(fence);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops cohbuf_imp_fence_ops = {
	COHBUF_DMA_FENCE_OPS_SEQNO64
	.get_driver_name = cohbuf_imp_fence_driver_name,
	.get_timeline_name = cohbuf_imp_fence_timeline_name,
	.release = cohbuf_imp_fence_release,
};

/**
 * cohbuf_imp_fence_alloc() - allocate a fence, initialised by the engine
 *
 * Return: the fence, to be freed with kfree() unless it was passed to
 * cohbuf_imp_engine_begin(), or NULL.
 */
struct dma_fence *cohbuf_imp_fence_alloc(void)
{
	struct cohbuf_imp_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	return f ? &f->base : NULL;
}

/**
 * cohbuf_imp_engine_begin() - start publishing a job
 * @job: job with an allocated, uninitialised fence
 *
 * Takes the engine's submit_lock, initialises the fence with the engine's
 * next seqno and gives the job its id. Must be followed by
 * cohbuf_imp_engine_commit() or cohbuf_imp_engine_abort().
 */
void cohbuf_imp_engine_begin(struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_engine *eng = job->eng;

	mutex_lock(&eng->submit_lock);
	container_of(job->fence, struct cohbuf_imp_fence, base)->eng = eng;
	__module_get(THIS_MODULE);	/* dropped by the fence's release */
	cohbuf_dma_fence_init64(job->fence, &cohbuf_imp_fence_ops,
				&eng->fence_lock, eng->context, ++eng->seqno);
	job->id = atomic64_inc_return(&cohbuf_imp_last_job_id);
}

/**
 * cohbuf_imp_engine_commit() - queue a published job, drop submit_lock
 * @job: job whose fence is in its buffers' reservation objects
 */
void cohbuf_imp_engine_commit(struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_engine *eng = job->eng;

	atomic64_inc(&cohbuf_imp_stats.submitted);
	queue_work(eng->wq, &job->work);
	mutex_unlock(&eng->submit_lock);
}

/**
 * cohbuf_imp_engine_abort() - give up on a job before publication
 * @job: job passed to cohbuf_imp_engine_begin()
 *
 * Nobody but the caller can see the fence yet; it is signalled with
 * -ECANCELED all the same, so that no fence of ours is ever freed
 * unsignalled.
 */
void cohbuf_imp_engine_abort(struct cohbuf_imp_job *job)
{
	dma_fence_set_error(job->fence, -ECANCELED);
	dma_fence_signal(job->fence);
	mutex_unlock(&job->eng->submit_lock);
}

static void cohbuf_imp_fill_pattern(u8 *p, u64 len, u32 pattern)
{
	u64 done, n, head = min_t(u64, len, PAGE_SIZE);

	for (done = 0; done < head; done++)
		p[done] = pattern >> (8 * (done & 3));
	/* PAGE_SIZE is a multiple of 4: page copies keep the phase. */
	while (done < len) {
		n = min_t(u64, len - done, PAGE_SIZE);
		memcpy(p + done, p, n);
		done += n;
		if (!(done % COHBUF_IMP_STEP))
			cond_resched();
	}
}

static u64 cohbuf_imp_splitmix64(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void cohbuf_imp_fill_random(u8 *p, u64 len, u64 seed)
{
	__le64 word;
	u64 i, n;

	for (i = 0; i < len; i += n) {
		word = cpu_to_le64(cohbuf_imp_splitmix64(&seed));
		n = min_t(u64, len - i, sizeof(word));
		memcpy(p + i, &word, n);
		if (!(i % COHBUF_IMP_STEP))
			cond_resched();
	}
}

/*
 * memmove() in steps, rescheduling between them: a step never overwrites
 * source bytes a later step still reads, because steps go forwards when
 * the destination is below the source and backwards otherwise.
 */
static void cohbuf_imp_copy(u8 *dst, const u8 *src, u64 len)
{
	u64 done, n;

	for (done = 0; done < len; done += n) {
		n = min_t(u64, len - done, COHBUF_IMP_STEP);
		if (dst <= src)
			memmove(dst + done, src + done, n);
		else
			memmove(dst + len - done - n, src + len - done - n, n);
		cond_resched();
	}
}

/* zlib's crc32(0, p, len). */
static u32 cohbuf_imp_crc32(const u8 *p, u64 len)
{
	u32 crc = ~0U;
	u64 done, n;

	for (done = 0; done < len; done += n) {
		n = min_t(u64, len - done, COHBUF_IMP_STEP);
		crc = crc32_le(crc, p + done, n);
		cond_resched();
	}
	return ~crc;
}

/* Run the operation itself; returns the checksum (0 unless CHECKSUM). */
static u32 cohbuf_imp_job_execute(const struct cohbuf_imp_job *job)
{
	u8 *dst = job->dst ? (u8 *)job->dst->map.vaddr + job->dst_offset : NULL;
	u8 *src = job->src ? (u8 *)job->src->map.vaddr + job->src_offset : NULL;

	switch (job->op) {
	case COHBUF_IMP_OP_FILL:
		if (job->flags & COHBUF_IMP_SUBMIT_RANDOM)
			cohbuf_imp_fill_random(dst, job->len, job->seed);
		else
			cohbuf_imp_fill_pattern(dst, job->len, job->pattern);
		break;
	case COHBUF_IMP_OP_COPY:
		cohbuf_imp_copy(dst, src, job->len);
		break;
	case COHBUF_IMP_OP_CHECKSUM:
		return cohbuf_imp_crc32(src, job->len);
	}
	/* Drain write-combining buffers before the fence says "done". */
	wmb();
	return 0;
}

/* Wakes the job's context when a dependency signals. */
struct cohbuf_imp_dep_waiter {
	struct dma_fence_cb cb;
	struct cohbuf_imp_ctx *ctx;
};

static void cohbuf_imp_dep_signalled(struct dma_fence *fence,
				     struct dma_fence_cb *cb)
{
	wake_up_all(&container_of(cb, struct cohbuf_imp_dep_waiter, cb)->ctx->wq);
}

/*
 * Wait up to @left jiffies for @dep, or until the context closes.
 * Return: jiffies left (at least 1) once signalled, 0 on timeout, or
 * -ECANCELED when the context closed first.
 */
static long cohbuf_imp_dep_wait(struct cohbuf_imp_ctx *ctx,
				struct dma_fence *dep, long left)
{
	struct cohbuf_imp_dep_waiter w = { .ctx = ctx };

	if (dma_fence_add_callback(dep, &w.cb, cohbuf_imp_dep_signalled))
		return max(left, 1L);	/* already signalled */
	left = wait_event_timeout(ctx->wq, dma_fence_is_signaled(dep) ||
				  READ_ONCE(ctx->closing), left);
	dma_fence_remove_callback(dep, &w.cb);
	if (dma_fence_is_signaled(dep))
		return max(left, 1L);
	return READ_ONCE(ctx->closing) ? -ECANCELED : 0;
}

/*
 * Wait for every dependency, all within one timeout_ms budget counted
 * from the start of the job. A dependency that failed cancels the job,
 * and so does the context closing meanwhile.
 */
static int cohbuf_imp_job_wait_deps(const struct cohbuf_imp_job *job)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(cohbuf_imp_timeout_ms());
	unsigned int i;
	long left;

	for (i = 0; i < job->nr_deps; i++) {
		left = max_t(long, (long)(deadline - jiffies), 0);
		left = cohbuf_imp_dep_wait(job->ctx, job->deps[i], left);
		if (!left)
			return -ETIMEDOUT;
		if (left < 0 || dma_fence_get_status(job->deps[i]) < 0)
			return -ECANCELED;
	}
	return 0;
}

/* Stay busy for the job's latency; cut short if the context closes. */
static int cohbuf_imp_job_hold(const struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_ctx *ctx = job->ctx;

	if (!job->latency_ms)
		return 0;
	if (wait_event_timeout(ctx->wq, READ_ONCE(ctx->closing),
			       msecs_to_jiffies(job->latency_ms)))
		return -ECANCELED;
	return 0;
}

static void cohbuf_imp_job_set_state(struct cohbuf_imp_job *job,
				     enum cohbuf_imp_job_state state)
{
	spin_lock(&job->ctx->done_lock);
	job->state = state;
	spin_unlock(&job->ctx->done_lock);
}

static void cohbuf_imp_count(int status)
{
	if (!status)
		atomic64_inc(&cohbuf_imp_stats.succeeded);
	else if (status == -ETIMEDOUT)
		atomic64_inc(&cohbuf_imp_stats.timed_out);
	else
		atomic64_inc(&cohbuf_imp_stats.cancelled);
}

/*
 * Hand the result to the context. The wake-up happens under done_lock:
 * close waits until every job is done, then frees the jobs and the
 * context, so neither may be touched once done_lock is released.
 */
static void cohbuf_imp_job_finish(struct cohbuf_imp_job *job, int status,
				  u32 checksum)
{
	struct cohbuf_imp_ctx *ctx = job->ctx;

	spin_lock(&ctx->done_lock);
	job->state = COHBUF_IMP_JOB_DONE;
	job->status = status;
	job->checksum = checksum;
	ctx->nr_done++;
	wake_up_all(&ctx->wq);
	spin_unlock(&ctx->done_lock);
}

/**
 * cohbuf_imp_job_work() - run one job on the engine
 * @work: the job's work item
 */
void cohbuf_imp_job_work(struct work_struct *work)
{
	struct cohbuf_imp_job *job = container_of(work, struct cohbuf_imp_job,
						  work);
	u32 checksum = 0;
	bool cookie;
	int ret;

	cohbuf_imp_job_set_state(job, COHBUF_IMP_JOB_RUNNING);
	cookie = dma_fence_begin_signalling();
	if (READ_ONCE(job->ctx->closing))
		ret = -ECANCELED;
	else
		ret = cohbuf_imp_job_wait_deps(job);
	if (!ret)
		ret = cohbuf_imp_job_hold(job);
	if (!ret)
		checksum = cohbuf_imp_job_execute(job);
	if (ret)
		dma_fence_set_error(job->fence, ret);
	dma_fence_signal(job->fence);
	dma_fence_end_signalling(cookie);

	cohbuf_imp_count(ret);
	cohbuf_imp_job_finish(job, ret, checksum);
}

/**
 * cohbuf_imp_op_name() - name of an operation, for debugfs
 * @op: COHBUF_IMP_OP_*
 *
 * Return: a static string.
 */
const char *cohbuf_imp_op_name(u32 op)
{
	switch (op) {
	case COHBUF_IMP_OP_FILL:
		return "fill";
	case COHBUF_IMP_OP_COPY:
		return "copy";
	case COHBUF_IMP_OP_CHECKSUM:
		return "checksum";
	default:
		return "?";
	}
}

/**
 * cohbuf_imp_engine_get() - an engine by index
 * @index: engine index from user space
 *
 * Return: the engine, or NULL if there is no such engine.
 */
struct cohbuf_imp_engine *cohbuf_imp_engine_get(u32 index)
{
	if (index >= cohbuf_imp_nr_engines)
		return NULL;
	return &cohbuf_imp_engines[index];
}

/**
 * cohbuf_imp_engine_index() - index of an engine, for debugfs
 * @eng: the engine
 *
 * Return: its index.
 */
unsigned int cohbuf_imp_engine_index(const struct cohbuf_imp_engine *eng)
{
	return eng->index;
}

static int cohbuf_imp_engine_setup(struct cohbuf_imp_engine *eng,
				   unsigned int index)
{
	eng->index = index;
	snprintf(eng->name, sizeof(eng->name), "cohbuf-importer-engine%u",
		 index);
	mutex_init(&eng->submit_lock);
	spin_lock_init(&eng->fence_lock);
	eng->context = dma_fence_context_alloc(1);
	eng->wq = alloc_ordered_workqueue("cohbuf-importer%u", WQ_MEM_RECLAIM,
					  index);
	return eng->wq ? 0 : -ENOMEM;
}

/**
 * cohbuf_imp_engine_init() - create the engines
 *
 * Return: 0, -EINVAL for a bad "engines" parameter, or -ENOMEM.
 */
int cohbuf_imp_engine_init(void)
{
	unsigned int i;
	int ret;

	if (!engines || engines > COHBUF_IMP_MAX_ENGINES)
		return -EINVAL;
	for (i = 0; i < engines; i++) {
		ret = cohbuf_imp_engine_setup(&cohbuf_imp_engines[i], i);
		if (ret)
			goto err;
		cohbuf_imp_nr_engines = i + 1;
	}
	return 0;

err:
	cohbuf_imp_engine_exit();
	return ret;
}

/**
 * cohbuf_imp_engine_exit() - destroy the engines
 *
 * Runs only when no context is open, so no job is queued or running.
 */
void cohbuf_imp_engine_exit(void)
{
	struct cohbuf_imp_engine *eng;

	while (cohbuf_imp_nr_engines) {
		eng = &cohbuf_imp_engines[--cohbuf_imp_nr_engines];
		destroy_workqueue(eng->wq);
		mutex_destroy(&eng->submit_lock);
	}
}
