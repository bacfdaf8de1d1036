// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: jobs - their submission, their states and results,
 * and their reaping. Owns every job, the per-context job list and the
 * results under ctx->done_lock; the other files read them only through
 * the functions here. Calls the engine (importer_engine.c) to number,
 * publish and queue a job and to perform its operation, and the imports
 * (importer_import.c) to look up and drop the buffers a job uses.
 *
 * SUBMIT, in order:
 *  1. cohbuf_imp_job_create(): check the arguments, count the job against
 *     the limits (importer_limits.c), look up the handles and the in-fence (all of which may
 *     fail);
 *  2. cohbuf_imp_job_submit(): lock the reservation objects of the buffers
 *     (ww_mutex protocol), reserve a fence slot in each and collect, as
 *     referenced fences, the dependencies: for the buffer written every
 *     fence up to READ usage (readers and writers), for a buffer only read
 *     every fence up to WRITE usage (writers);
 *  3. cohbuf_imp_engine_publish(), under the engine's submit_lock: give the
 *     fence its seqno, create the out-fence sync_file, then publish - add
 *     the fence to each reservation object - and queue. Nothing after the
 *     first dma_resv_add_fence() allocates or fails;
 *  4. unlock and list the job; the ioctl file then reports and only then
 *     installs the out-fence fd.
 *
 * A job moves QUEUED -> RUNNING -> DONE in its work item, which the
 * engine's ordered workqueue runs: it waits for the dependencies collected
 * in step 2 (no reservation lock needed), holds the engine for the job's
 * latency, has the engine perform the operation, signals the fence and
 * records the result. A job stays in its context until a WAIT reaps it or
 * the context is closed. Close never waits behind other contexts' jobs:
 * it takes the context's jobs that have not started off their engines'
 * queues and signals them cancelled, waits only for its own running ones
 * (which stop waiting for dependencies and latency at once), and leaves
 * the freeing to a work item (see cohbuf_imp_jobs_cancel()).
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/sync_file.h>
#include <linux/workqueue.h>

#include "importer.h"

#define COHBUF_IMP_DEFAULT_TIMEOUT_MS	5000
/* Largest timeout_ms used, whatever the parameter says. */
#define COHBUF_IMP_MAX_TIMEOUT_MS	60000

static unsigned int timeout_ms = COHBUF_IMP_DEFAULT_TIMEOUT_MS;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Time in ms a job waits for its dependencies (default "
		 __stringify(COHBUF_IMP_DEFAULT_TIMEOUT_MS) ", at most "
		 __stringify(COHBUF_IMP_MAX_TIMEOUT_MS) ")");

static unsigned int latency_ms;
module_param(latency_ms, uint, 0644);
MODULE_PARM_DESC(latency_ms,
		 "Time in ms a job keeps its engine busy unless it sets its own (default 0, at most "
		 __stringify(COHBUF_IMP_MAX_LATENCY_MS) ")");

static const char *const cohbuf_imp_state_names[] = {
	[COHBUF_IMP_JOB_QUEUED] = "queued",
	[COHBUF_IMP_JOB_RUNNING] = "running",
	[COHBUF_IMP_JOB_DONE] = "done",
};

/**
 * cohbuf_imp_jobs_init() - set up the job side of a new context
 * @ctx: the context, not yet visible to anyone
 */
void cohbuf_imp_jobs_init(struct cohbuf_imp_ctx *ctx)
{
	mutex_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->jobs);
	spin_lock_init(&ctx->done_lock);
	init_waitqueue_head(&ctx->wq);
	cohbuf_imp_engine_timelines_init(ctx->timelines);
}

static int cohbuf_imp_submit_check_flags(const struct cohbuf_imp_submit_data *d)
{
	if (d->flags & ~COHBUF_IMP_SUBMIT_FLAGS_MASK)
		return -EINVAL;
	if (!(d->flags & COHBUF_IMP_SUBMIT_IN_FENCE) && d->in_fence_fd)
		return -EINVAL;
	if (!(d->flags & COHBUF_IMP_SUBMIT_LATENCY) && d->latency_ms)
		return -EINVAL;
	if (d->latency_ms > COHBUF_IMP_MAX_LATENCY_MS)
		return -EINVAL;
	if (d->pad)
		return -EINVAL;
	if (d->flags & COHBUF_IMP_SUBMIT_DEVICE)
		return cohbuf_imp_engine_get_device(d->engine) ? 0 : -ENODEV;
	return cohbuf_imp_engine_get(d->engine) ? 0 : -EINVAL;
}

/* Every field an operation does not use must be 0. */
static int cohbuf_imp_submit_check_op(const struct cohbuf_imp_submit_data *d)
{
	bool random = d->flags & COHBUF_IMP_SUBMIT_RANDOM;

	if (!d->len || (!random && d->seed))
		return -EINVAL;
	switch (d->op) {
	case COHBUF_IMP_OP_FILL:
		if (d->src_handle || d->src_offset || (random && d->pattern))
			return -EINVAL;
		return 0;
	case COHBUF_IMP_OP_COPY:
		return random || d->pattern ? -EINVAL : 0;
	case COHBUF_IMP_OP_CHECKSUM:
		if (random || d->pattern || d->dst_handle || d->dst_offset)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Process context only, never an engine's: dropping an import may take
 * its resv lock.
 */
static void cohbuf_imp_job_free(struct kref *ref)
{
	struct cohbuf_imp_job *job = container_of(ref, struct cohbuf_imp_job,
						  ref);
	unsigned int i;

	for (i = 0; i < job->nr_deps; i++)
		dma_fence_put(job->deps[i]);
	kfree(job->deps);
	if (job->dst_dev)
		cohbuf_imp_mapping_release(job->dst_dev);
	if (job->src_dev)
		cohbuf_imp_mapping_release(job->src_dev);
	if (job->dst)
		cohbuf_imp_import_put(job->dst);
	if (job->src)
		cohbuf_imp_import_put(job->src);
	cohbuf_imp_fence_put(job->fence);
	kfree(job);
}

static void cohbuf_imp_job_put(struct cohbuf_imp_job *job)
{
	kref_put(&job->ref, cohbuf_imp_job_free);
}

/* Append @n referenced fences; on failure they are put. */
static int cohbuf_imp_deps_add(struct cohbuf_imp_job *job,
			       struct dma_fence **fences, unsigned int n)
{
	struct dma_fence **deps;
	unsigned int i;

	if (!n)
		return 0;
	/* As many as the buffers' reservations hold: may be large. */
	deps = krealloc_array(job->deps, job->nr_deps + n, sizeof(*deps),
			      GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!deps) {
		for (i = 0; i < n; i++)
			dma_fence_put(fences[i]);
		return -ENOMEM;
	}
	memcpy(deps + job->nr_deps, fences, n * sizeof(*deps));
	job->deps = deps;
	job->nr_deps += n;
	return 0;
}

static void cohbuf_imp_job_params(struct cohbuf_imp_job *job,
				  const struct cohbuf_imp_submit_data *d)
{
	job->op = d->op;
	job->flags = d->flags;
	job->dst_offset = d->dst_offset;
	job->src_offset = d->src_offset;
	job->len = d->len;
	job->seed = d->seed;
	job->pattern = d->pattern;
	if (d->flags & COHBUF_IMP_SUBMIT_LATENCY)
		job->latency_ms = d->latency_ms;
	else
		job->latency_ms = min(READ_ONCE(latency_ms),
				      COHBUF_IMP_MAX_LATENCY_MS);
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
	unsigned int timeout = min_t(unsigned int, READ_ONCE(timeout_ms),
				     COHBUF_IMP_MAX_TIMEOUT_MS);
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout);
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

/* Have the device perform the job's operation, on its own mappings. */
static int cohbuf_imp_job_execute_dev(const struct cohbuf_imp_job *job,
				      const struct cohbuf_imp_op *fill,
				      u32 *checksum)
{
	struct cohbuf_imp_dev_op op = {
		.fill = *fill,
		.dst = job->dst_dev,
		.src = job->src_dev,
		.dst_offset = job->dst_offset,
		.src_offset = job->src_offset,
		.closing = &job->ctx->closing,
	};

	/* Two imports of one dma-buf share its mapping (importer_import.c). */
	op.backward = job->dst_dev && job->dst_dev == job->src_dev &&
		      job->dst_offset > job->src_offset;
	return cohbuf_imp_edu_execute(cohbuf_imp_engine_index(job->eng) -
				      COHBUF_IMP_MAX_ENGINES, &op, checksum);
}

/*
 * Have the engine perform the job's operation; sets the checksum. The
 * ranges the CPU engine reads and writes are synced around it as a
 * device's access would find and leave memory (cohbuf_imp_import_sync());
 * a device engine uses its own mappings, which the DMA API keeps.
 */
static int cohbuf_imp_job_execute(const struct cohbuf_imp_job *job,
				  u32 *checksum)
{
	struct cohbuf_imp_op op = {
		.op = job->op,
		.random = job->flags & COHBUF_IMP_SUBMIT_RANDOM,
		.len = job->len,
		.seed = job->seed,
		.pattern = job->pattern,
	};

	if (job->flags & COHBUF_IMP_SUBMIT_DEVICE)
		return cohbuf_imp_job_execute_dev(job, &op, checksum);
	if (job->src) {
		cohbuf_imp_import_sync(job->src, job->src_offset, job->len,
				       false);
		op.src = (const u8 *)job->src->map.vaddr + job->src_offset;
	}
	if (job->dst) {
		cohbuf_imp_import_sync(job->dst, job->dst_offset, job->len,
				       false);
		op.dst = (u8 *)job->dst->map.vaddr + job->dst_offset;
	}
	*checksum = cohbuf_imp_engine_execute(&op);
	if (job->dst)
		cohbuf_imp_import_sync(job->dst, job->dst_offset, job->len,
				       true);
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
 * Hand the result to the context. The wake-up happens under done_lock,
 * and nothing touches the job or the context after it: a WAIT may reap
 * the job as soon as done_lock is released. Close waits for the work
 * item as a whole (cancel_work_sync()).
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

/* Inside a fence-signalling section: signal the job's fence and record it. */
static void cohbuf_imp_job_end(struct cohbuf_imp_job *job, int status,
			       u32 checksum)
{
	if (status)
		dma_fence_set_error(job->fence, status);
	dma_fence_signal(job->fence);
	cohbuf_imp_count(status);
	cohbuf_imp_job_finish(job, status, checksum);
}

/*
 * The job's work item, run by its engine's ordered workqueue. The whole
 * job, dependency waits included, is one fence-signalling section, so
 * that lockdep checks it; waiting for other fences inside such a section
 * is allowed by the annotation. Every wait is bounded: dependencies by
 * timeout_ms, the hold by COHBUF_IMP_MAX_LATENCY_MS, and both end early
 * when the job's context is closed. The fence is signalled on every path.
 */
static void cohbuf_imp_job_run(struct work_struct *work)
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
		ret = cohbuf_imp_job_execute(job, &checksum);
	cohbuf_imp_job_end(job, ret, checksum);
	dma_fence_end_signalling(cookie);
}

static struct cohbuf_imp_job *cohbuf_imp_job_alloc(struct cohbuf_imp_ctx *ctx,
						   const struct cohbuf_imp_submit_data *d)
{
	struct cohbuf_imp_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job)
		return NULL;
	job->fence = cohbuf_imp_fence_alloc();
	if (!job->fence) {
		kfree(job);
		return NULL;
	}
	kref_init(&job->ref);
	INIT_LIST_HEAD(&job->node);
	INIT_WORK(&job->work, cohbuf_imp_job_run);
	job->ctx = ctx;
	if (d->flags & COHBUF_IMP_SUBMIT_DEVICE)
		job->eng = cohbuf_imp_engine_get_device(d->engine);
	else
		job->eng = cohbuf_imp_engine_get(d->engine);
	cohbuf_imp_job_params(job, d);
	return job;
}

static bool cohbuf_imp_range_ok(const struct cohbuf_imp_import *imp,
				u64 offset, u64 len)
{
	u64 end;

	return !check_add_overflow(offset, len, &end) && end <= imp->size;
}

/*
 * All fds of a dma-buf share its one file, whose mode was fixed at export:
 * a buffer exported read-only must not become writable through us.
 */
static bool cohbuf_imp_writable(const struct cohbuf_imp_import *imp)
{
	return imp->dmabuf->file->f_mode & FMODE_WRITE;
}

static int cohbuf_imp_job_in_fence(struct cohbuf_imp_job *job, s32 fd)
{
	struct dma_fence *fence = sync_file_get_fence(fd);

	if (!fence)
		return -EINVAL;
	return cohbuf_imp_deps_add(job, &fence, 1);
}

/*
 * A device job also maps its buffers for the device, through the shared
 * table of mappings; each failure is the job's to undo (job_free).
 */
static int cohbuf_imp_job_map_dev(struct cohbuf_imp_job *job, u32 index)
{
	struct cohbuf_imp_mapping *m;

	if (job->dst) {
		m = cohbuf_imp_edu_map(index, job->dst->dmabuf);
		if (IS_ERR(m))
			return PTR_ERR(m);
		job->dst_dev = m;
	}
	if (job->src) {
		m = cohbuf_imp_edu_map(index, job->src->dmabuf);
		if (IS_ERR(m))
			return PTR_ERR(m);
		job->src_dev = m;
	}
	return 0;
}

static int cohbuf_imp_job_bind(struct cohbuf_imp_job *job,
			       const struct cohbuf_imp_submit_data *d)
{
	int ret;

	if (d->op != COHBUF_IMP_OP_CHECKSUM) {
		job->dst = cohbuf_imp_import_get(job->ctx, d->dst_handle);
		if (!job->dst)
			return -ENOENT;
		if (!cohbuf_imp_writable(job->dst))
			return -EACCES;
		if (!cohbuf_imp_range_ok(job->dst, d->dst_offset, d->len))
			return -EINVAL;
	}
	if (d->op != COHBUF_IMP_OP_FILL) {
		job->src = cohbuf_imp_import_get(job->ctx, d->src_handle);
		if (!job->src)
			return -ENOENT;
		if (!cohbuf_imp_range_ok(job->src, d->src_offset, d->len))
			return -EINVAL;
	}
	if (d->flags & COHBUF_IMP_SUBMIT_DEVICE) {
		ret = cohbuf_imp_job_map_dev(job, d->engine);
		if (ret)
			return ret;
	}
	if (d->flags & COHBUF_IMP_SUBMIT_IN_FENCE)
		return cohbuf_imp_job_in_fence(job, d->in_fence_fd);
	return 0;
}

/* Two imports of one dma-buf share its reservation object: lock it once. */
static void cohbuf_imp_resvs_collect(const struct cohbuf_imp_job *job,
				     struct cohbuf_imp_resvs *r)
{
	struct dma_resv *dst = job->dst ? job->dst->dmabuf->resv : NULL;

	r->n = 0;
	r->obj[1] = NULL;
	if (dst) {
		r->obj[r->n] = dst;
		r->write[r->n++] = true;
	}
	if (job->src && job->src->dmabuf->resv != dst) {
		r->obj[r->n] = job->src->dmabuf->resv;
		r->write[r->n++] = false;
	}
}

/*
 * Lock one or two reservation objects, backing off on -EDEADLK. On
 * success cohbuf_imp_resvs_unlock() releases them: the pair is the
 * ww_mutex acquire protocol, whose back-off loop wants a function of its
 * own, and cohbuf_imp_job_queue() is the one caller of both.
 */
static int cohbuf_imp_resvs_lock(struct cohbuf_imp_resvs *r)
{
	struct dma_resv *a = r->obj[0], *b = r->obj[1];
	int ret;

	ww_acquire_init(&r->ticket, &reservation_ww_class);
	ret = dma_resv_lock_interruptible(a, &r->ticket);
	if (ret)
		goto err_fini;
	if (b)
		ret = dma_resv_lock_interruptible(b, &r->ticket);
	while (ret == -EDEADLK) {
		dma_resv_unlock(a);
		ret = dma_resv_lock_slow_interruptible(b, &r->ticket);
		if (ret)
			goto err_fini;
		swap(a, b);
		ret = dma_resv_lock_interruptible(b, &r->ticket);
	}
	if (ret) {
		dma_resv_unlock(a);
		goto err_fini;
	}
	ww_acquire_done(&r->ticket);
	return 0;

err_fini:
	ww_acquire_fini(&r->ticket);
	return ret;
}

static void cohbuf_imp_resvs_unlock(struct cohbuf_imp_resvs *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		dma_resv_unlock(r->obj[i]);
	ww_acquire_fini(&r->ticket);
}

/* Under the resv locks: reserve a slot and collect the conflicts. */
static int cohbuf_imp_resvs_prepare(struct cohbuf_imp_job *job,
				    const struct cohbuf_imp_resvs *r)
{
	struct dma_fence **fences;
	unsigned int i, n;
	int ret;

	for (i = 0; i < r->n; i++) {
		dma_resv_assert_held(r->obj[i]);
		ret = dma_resv_reserve_fences(r->obj[i], 1);
		if (ret)
			return ret;
		ret = dma_resv_get_fences(r->obj[i],
					  dma_resv_usage_rw(r->write[i]),
					  &n, &fences);
		if (ret)
			return ret;
		ret = cohbuf_imp_deps_add(job, fences, n);
		kfree(fences);
		if (ret)
			return ret;
	}
	return 0;
}

static struct cohbuf_imp_timeline *cohbuf_imp_job_timeline(struct cohbuf_imp_job *job)
{
	return &job->ctx->timelines[cohbuf_imp_engine_index(job->eng)];
}

static int cohbuf_imp_job_queue(struct cohbuf_imp_job *job,
				struct sync_file **sync)
{
	struct cohbuf_imp_resvs r;
	int ret;

	cohbuf_imp_resvs_collect(job, &r);
	ret = cohbuf_imp_resvs_lock(&r);
	if (ret)
		return ret;
	ret = cohbuf_imp_resvs_prepare(job, &r);
	if (!ret)
		ret = cohbuf_imp_engine_publish(job->eng, cohbuf_imp_job_timeline(job),
						job->fence, &r, sync,
						&job->work, &job->id);
	cohbuf_imp_resvs_unlock(&r);
	return ret;
}

/*
 * In id order, which is each timeline's seqno order: two SUBMITs may list
 * their jobs in the other order than they were numbered in.
 */
static void cohbuf_imp_job_list(struct cohbuf_imp_ctx *ctx,
				struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_job *prev;

	mutex_lock(&ctx->lock);
	list_for_each_entry_reverse(prev, &ctx->jobs, node)
		if (prev->id < job->id)
			break;
	list_add(&job->node, &prev->node);
	mutex_unlock(&ctx->lock);
}

/**
 * cohbuf_imp_job_cancel() - drop a job that was never queued
 * @job: from cohbuf_imp_job_create()
 *
 * Also gives back its charge against the job limits.
 */
void cohbuf_imp_job_cancel(struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_ctx *ctx = job->ctx;

	cohbuf_imp_job_put(job);
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_JOB);
}

/**
 * cohbuf_imp_job_create() - step 1 of COHBUF_IMP_IOCTL_SUBMIT
 * @ctx: the context
 * @d: the argument, already copied in
 *
 * Return: a job charged to @ctx, to be passed to cohbuf_imp_job_submit()
 * or cohbuf_imp_job_cancel(), or an ERR_PTR() with an errno as listed in
 * the uapi header.
 */
struct cohbuf_imp_job *cohbuf_imp_job_create(struct cohbuf_imp_ctx *ctx,
					     const struct cohbuf_imp_submit_data *d)
{
	struct cohbuf_imp_job *job;
	int ret;

	ret = cohbuf_imp_submit_check_flags(d) ?: cohbuf_imp_submit_check_op(d);
	if (ret)
		return ERR_PTR(ret);
	ret = cohbuf_imp_charge(ctx, COHBUF_IMP_JOB);
	if (ret)
		return ERR_PTR(ret);
	job = cohbuf_imp_job_alloc(ctx, d);
	if (!job) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ret = cohbuf_imp_job_bind(job, d);
	if (ret)
		goto err_cancel;
	return job;

err_cancel:
	cohbuf_imp_job_cancel(job);
	return ERR_PTR(ret);
err_uncharge:
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_JOB);
	return ERR_PTR(ret);
}

/**
 * cohbuf_imp_job_submit() - steps 2 to 4 of COHBUF_IMP_IOCTL_SUBMIT
 * @job: from cohbuf_imp_job_create(); consumed
 * @out_fence: whether to make a sync_file of the job's fence
 * @id: set to the job's id on success
 *
 * On success the job is queued and listed in its context, where a WAIT
 * may reap it at once: the caller must not touch @job any more.
 *
 * Return: the out-fence sync_file, whose file the caller installs or
 * fput()s; NULL without @out_fence; or an ERR_PTR() with an errno as
 * listed in the uapi header, the job then being dropped.
 */
struct sync_file *cohbuf_imp_job_submit(struct cohbuf_imp_job *job,
					bool out_fence, u64 *id)
{
	struct sync_file *sync = NULL;
	int ret;

	ret = cohbuf_imp_job_queue(job, out_fence ? &sync : NULL);
	if (ret) {
		cohbuf_imp_job_cancel(job);
		return ERR_PTR(ret);
	}
	/* Once listed, a WAIT may reap and free the job: read it before. */
	*id = job->id;
	cohbuf_imp_job_list(job->ctx, job);
	return sync;
}

static struct cohbuf_imp_job *cohbuf_imp_job_find(struct cohbuf_imp_ctx *ctx,
						  u64 id)
{
	struct cohbuf_imp_job *job, *found = NULL;

	mutex_lock(&ctx->lock);
	list_for_each_entry(job, &ctx->jobs, node) {
		if (job->id == id) {
			kref_get(&job->ref);
			found = job;
			break;
		}
	}
	mutex_unlock(&ctx->lock);
	return found;
}

static bool cohbuf_imp_job_is_done(struct cohbuf_imp_job *job)
{
	bool done;

	spin_lock(&job->ctx->done_lock);
	done = job->state == COHBUF_IMP_JOB_DONE;
	spin_unlock(&job->ctx->done_lock);
	return done;
}

/* Take a completed job off its context; only one WAIT succeeds. */
static int cohbuf_imp_job_reap(struct cohbuf_imp_ctx *ctx,
			       struct cohbuf_imp_job *job,
			       struct cohbuf_imp_wait_data *d)
{
	bool listed;

	mutex_lock(&ctx->lock);
	listed = !list_empty(&job->node);
	if (listed)
		list_del_init(&job->node);
	mutex_unlock(&ctx->lock);
	if (!listed)
		return -ENOENT;
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_JOB);

	spin_lock(&ctx->done_lock);
	ctx->nr_done--;
	d->status = job->status;
	d->checksum = job->checksum;
	spin_unlock(&ctx->done_lock);
	cohbuf_imp_job_put(job);	/* the context's reference */
	return 0;
}

/*
 * Jiffies to sleep from now so as not to wake before an absolute
 * CLOCK_MONOTONIC deadline: one more for the division's truncation and
 * one for the tick already under way, so a WAIT never ends early.
 */
static long cohbuf_imp_deadline_to_jiffies(u64 deadline_ns)
{
	u64 now = ktime_get_ns();
	u64 j;

	if (deadline_ns <= now)
		return 0;
	j = nsecs_to_jiffies64(deadline_ns - now) + 2;
	/* Longer sleeps are not representable by the timer wheel. */
	return min_t(u64, j, MAX_JIFFY_OFFSET);
}

/**
 * cohbuf_imp_wait() - COHBUF_IMP_IOCTL_WAIT
 * @ctx: the context
 * @d: the argument; status and checksum are filled in on success
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
int cohbuf_imp_wait(struct cohbuf_imp_ctx *ctx,
		    struct cohbuf_imp_wait_data *d)
{
	struct cohbuf_imp_job *job;
	long left;
	int ret;

	if (d->flags || d->pad)
		return -EINVAL;
	job = cohbuf_imp_job_find(ctx, d->job_id);
	if (!job)
		return -ENOENT;
	left = wait_event_interruptible_timeout(ctx->wq,
						cohbuf_imp_job_is_done(job),
						cohbuf_imp_deadline_to_jiffies(d->deadline_ns));
	/*
	 * The engine signals the job's fence and only then records the
	 * result. A job whose fence has signalled is complete for everyone
	 * else (its out-fence, the buffers' poll, the jobs that waited for
	 * it), so it is not reported as pending here: the record follows
	 * at once, without any sleeping lock in between; the wait for it is
	 * still bounded, by a second.
	 */
	if (!left && dma_fence_is_signaled(job->fence))
		left = wait_event_interruptible_timeout(ctx->wq,
							cohbuf_imp_job_is_done(job),
							HZ);
	if (left > 0)
		ret = cohbuf_imp_job_reap(ctx, job, d);
	else
		ret = left ? (int)left : -ETIME;
	cohbuf_imp_job_put(job);
	return ret;
}

/**
 * cohbuf_imp_jobs_cancel() - end every job of a closing context
 * @ctx: a context being closed; no ioctl can run on it any more, and
 *	nobody else walks its job list
 *
 * Marks the context closing, which makes its running jobs stop waiting
 * for their dependencies and latency. Each job that has not started is
 * taken off its engine's queue, newest first; each one that has is
 * waited for, which takes no longer than its operation (it was started:
 * nothing else of another context is waited for). Then the jobs taken
 * off are signalled -ECANCELED in id order: on each timeline (context
 * and engine) they come after every job that ran, so seqno order is
 * signalling order still.
 * On return every fence of the context has signalled, and no work item
 * refers to its jobs; cohbuf_imp_jobs_free() frees them.
 */
void cohbuf_imp_jobs_cancel(struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_job *job;
	bool cookie;

	WRITE_ONCE(ctx->closing, true);
	wake_up_all(&ctx->wq);
	/*
	 * Take each pending work item off its queue, or wait for it to end;
	 * the last one first: once a job is off, no later one of its
	 * timeline is left to start (and signal) before it is signalled.
	 */
	list_for_each_entry_reverse(job, &ctx->jobs, node)
		cancel_work_sync(&job->work);
	cookie = dma_fence_begin_signalling();
	list_for_each_entry(job, &ctx->jobs, node)
		if (!cohbuf_imp_job_is_done(job))
			cohbuf_imp_job_end(job, -ECANCELED, 0);
	dma_fence_end_signalling(cookie);
}

/**
 * cohbuf_imp_jobs_free() - free every job of a closed context
 * @ctx: the context, after cohbuf_imp_jobs_cancel(); process context
 *
 * Undoes cohbuf_imp_jobs_init(). Dropping the jobs' imports may take
 * their reservation locks.
 */
void cohbuf_imp_jobs_free(struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_job *job, *tmp;

	list_for_each_entry_safe(job, tmp, &ctx->jobs, node) {
		list_del_init(&job->node);
		cohbuf_imp_job_put(job);
	}
	ctx->nr_done = 0;
	mutex_destroy(&ctx->lock);
}

/**
 * cohbuf_imp_jobs_any_done() - whether a completed job awaits its WAIT
 * @ctx: the context
 *
 * Return: true if at least one job of @ctx is done and not yet reaped.
 */
bool cohbuf_imp_jobs_any_done(struct cohbuf_imp_ctx *ctx)
{
	unsigned int done;

	spin_lock(&ctx->done_lock);
	done = ctx->nr_done;
	spin_unlock(&ctx->done_lock);
	return done > 0;
}

/**
 * cohbuf_imp_job_info() - a consistent snapshot of a job, for debugfs
 * @job: a job listed in its context, under ctx->lock
 * @info: filled in
 */
void cohbuf_imp_job_info(const struct cohbuf_imp_job *job,
			 struct cohbuf_imp_job_info *info)
{
	struct cohbuf_imp_ctx *ctx = job->ctx;

	lockdep_assert_held(&ctx->lock);
	info->id = job->id;
	info->op = cohbuf_imp_op_name(job->op);
	info->engine = cohbuf_imp_engine_index(job->eng);
	info->seqno = job->fence->seqno;
	spin_lock(&ctx->done_lock);
	info->state = cohbuf_imp_state_names[job->state];
	info->status = job->status;
	spin_unlock(&ctx->done_lock);
}
