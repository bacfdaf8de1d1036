// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: the engine, which runs jobs one at a time in the order
 * they were submitted, and the fences that report their completion.
 *
 * All fences come from one fence context. A job gets its seqno, is
 * published and is queued under submit_lock, so seqno order is queue
 * order; the workqueue is ordered, so queue order is signalling order,
 * as the dma_fence rules require within a context.
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
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "importer.h"

/* Amount of work between two cond_resched() calls. */
#define COHBUF_IMP_STEP		SZ_1M

struct cohbuf_imp_engine {
	struct workqueue_struct *wq;	/* ordered: one job at a time */
	u64 context;			/* fence context of every job */
	struct mutex submit_lock;	/* protects seqno; makes seqno order,
					 * publication order and queue order
					 * the same
					 */
	u64 seqno;			/* last seqno handed out */
	spinlock_t fence_lock;		/* the dma_fence lock of every job */
};

static struct cohbuf_imp_engine cohbuf_imp_engine;

static const char *cohbuf_imp_fence_driver_name(struct dma_fence *fence)
{
	return "cohbuf_importer";
}

static const char *cohbuf_imp_fence_timeline_name(struct dma_fence *fence)
{
	return "cohbuf-importer-engine";
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
	.use_64bit_seqno = true,
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
	return kzalloc(sizeof(struct dma_fence), GFP_KERNEL);
}

/**
 * cohbuf_imp_engine_begin() - start publishing a job
 * @job: job with an allocated, uninitialised fence
 *
 * Takes submit_lock and initialises the fence with the next seqno, which
 * becomes the job id. Must be followed by cohbuf_imp_engine_commit() or
 * cohbuf_imp_engine_abort().
 */
void cohbuf_imp_engine_begin(struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_engine *eng = &cohbuf_imp_engine;

	mutex_lock(&eng->submit_lock);
	__module_get(THIS_MODULE);	/* dropped by the fence's release */
	dma_fence_init(job->fence, &cohbuf_imp_fence_ops, &eng->fence_lock,
		       eng->context, ++eng->seqno);
	job->id = job->fence->seqno;
}

/**
 * cohbuf_imp_engine_commit() - queue a published job, drop submit_lock
 * @job: job whose fence is in its buffers' reservation objects
 */
void cohbuf_imp_engine_commit(struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_engine *eng = &cohbuf_imp_engine;

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
	mutex_unlock(&cohbuf_imp_engine.submit_lock);
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
		memmove(dst, src, job->len);
		break;
	case COHBUF_IMP_OP_CHECKSUM:
		return cohbuf_imp_crc32(src, job->len);
	}
	/* Drain write-combining buffers before the fence says "done". */
	wmb();
	return 0;
}

/*
 * Wait for every dependency, all within one timeout_ms budget counted
 * from the start of the job. A dependency that failed cancels the job.
 */
static int cohbuf_imp_job_wait_deps(const struct cohbuf_imp_job *job)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(cohbuf_imp_timeout_ms());
	unsigned int i;
	long left;

	for (i = 0; i < job->nr_deps; i++) {
		if (READ_ONCE(job->ctx->closing))
			return -ECANCELED;
		left = max_t(long, (long)(deadline - jiffies), 0);
		left = dma_fence_wait_timeout(job->deps[i], false, left);
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
 * cohbuf_imp_engine_init() - create the engine's workqueue and context
 *
 * Return: 0 or -ENOMEM.
 */
int cohbuf_imp_engine_init(void)
{
	struct cohbuf_imp_engine *eng = &cohbuf_imp_engine;

	mutex_init(&eng->submit_lock);
	spin_lock_init(&eng->fence_lock);
	eng->context = dma_fence_context_alloc(1);
	eng->wq = alloc_ordered_workqueue("cohbuf-importer", WQ_MEM_RECLAIM);
	return eng->wq ? 0 : -ENOMEM;
}

/**
 * cohbuf_imp_engine_exit() - destroy the engine
 *
 * Runs only when no context is open, so no job is queued or running.
 */
void cohbuf_imp_engine_exit(void)
{
	destroy_workqueue(cohbuf_imp_engine.wq);
	mutex_destroy(&cohbuf_imp_engine.submit_lock);
}
