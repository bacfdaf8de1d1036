// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: job submission, dependencies, and reaping.
 *
 * SUBMIT, in order:
 *  1. check the arguments, count the job against max_jobs, look up the
 *     handles and the in-fence (all of which may fail);
 *  2. lock the reservation objects of the buffers (ww_mutex protocol),
 *     reserve a fence slot in each and collect, as referenced fences, the
 *     dependencies: for the buffer written every fence up to READ usage
 *     (readers and writers), for a buffer only read every fence up to
 *     WRITE usage (writers);
 *  3. under its engine's submit_lock: give the fence its seqno, create
 *     the out-fence sync_file, then publish - add the fence to each
 *     reservation object - and queue. Nothing after the first
 *     dma_resv_add_fence() allocates or fails;
 *  4. unlock, report, and only then install the out-fence fd.
 *
 * The engine needs no reservation lock: it waits for the fences collected
 * in step 2. A job stays in its context until a WAIT reaps it or the
 * context is closed; close waits for the context's jobs, the ones not yet
 * started being cancelled by the engine.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sync_file.h>

#include <cohbuf_uarg.h>
#include "importer.h"

/* The reservation objects of one job, each locked once. */
struct cohbuf_imp_resvs {
	struct dma_resv *obj[2];
	bool write[2];			/* the job writes obj[i] */
	unsigned int n;
	struct ww_acquire_ctx ticket;
};

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
	if (d->pad || !cohbuf_imp_engine_get(d->engine))
		return -EINVAL;
	return 0;
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

static int cohbuf_imp_job_charge(struct cohbuf_imp_ctx *ctx)
{
	int ret = 0;

	mutex_lock(&ctx->lock);
	if (ctx->nr_jobs >= cohbuf_imp_max_jobs())
		ret = -EBUSY;
	else
		ctx->nr_jobs++;
	mutex_unlock(&ctx->lock);
	return ret;
}

static void cohbuf_imp_job_uncharge(struct cohbuf_imp_ctx *ctx)
{
	mutex_lock(&ctx->lock);
	ctx->nr_jobs--;
	mutex_unlock(&ctx->lock);
}

/* Process context only: dropping an import may take its resv lock. */
static void cohbuf_imp_job_free(struct kref *ref)
{
	struct cohbuf_imp_job *job = container_of(ref, struct cohbuf_imp_job,
						  ref);
	unsigned int i;

	for (i = 0; i < job->nr_deps; i++)
		dma_fence_put(job->deps[i]);
	kfree(job->deps);
	if (job->dst)
		cohbuf_imp_import_put(job->dst);
	if (job->src)
		cohbuf_imp_import_put(job->src);
	if (job->id)
		dma_fence_put(job->fence);
	else
		kfree(job->fence);	/* never initialised */
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
	deps = krealloc_array(job->deps, job->nr_deps + n, sizeof(*deps),
			      GFP_KERNEL);
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
		job->latency_ms = cohbuf_imp_default_latency_ms();
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
	INIT_WORK(&job->work, cohbuf_imp_job_work);
	job->ctx = ctx;
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

static int cohbuf_imp_job_bind(struct cohbuf_imp_job *job,
			       const struct cohbuf_imp_submit_data *d)
{
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

/* Lock one or two reservation objects, backing off on -EDEADLK. */
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

/*
 * Under the resv locks: number the fence, create the sync_file if asked,
 * then publish and queue. Publication is the point of no return.
 */
static int cohbuf_imp_job_publish(struct cohbuf_imp_job *job,
				  const struct cohbuf_imp_resvs *r,
				  struct sync_file **sync)
{
	unsigned int i;

	cohbuf_imp_engine_begin(job);
	if (sync) {
		*sync = sync_file_create(job->fence);
		if (!*sync) {
			cohbuf_imp_engine_abort(job);
			return -ENOMEM;
		}
	}
	for (i = 0; i < r->n; i++)
		dma_resv_add_fence(r->obj[i], job->fence,
				   r->write[i] ? DMA_RESV_USAGE_WRITE :
						 DMA_RESV_USAGE_READ);
	cohbuf_imp_engine_commit(job);
	return 0;
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
		ret = cohbuf_imp_job_publish(job, &r, sync);
	cohbuf_imp_resvs_unlock(&r);
	return ret;
}

/*
 * The job is queued whatever happens here. If the result cannot be
 * written back, the out-fence is dropped and its fd released unused.
 */
static int cohbuf_imp_submit_report(struct cohbuf_imp_submit_data *d,
				    void __user *uarg, size_t usize,
				    int fd, struct sync_file *sync)
{
	d->out_fence_fd = fd;
	if (cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d))) {
		if (sync) {
			put_unused_fd(fd);
			fput(sync->file);
		}
		return -EFAULT;
	}
	if (sync)
		fd_install(fd, sync->file);
	return 0;
}

static void cohbuf_imp_job_list(struct cohbuf_imp_ctx *ctx,
				struct cohbuf_imp_job *job)
{
	mutex_lock(&ctx->lock);
	list_add_tail(&job->node, &ctx->jobs);
	mutex_unlock(&ctx->lock);
}

static int cohbuf_imp_submit_prepare(struct cohbuf_imp_ctx *ctx,
				     const struct cohbuf_imp_submit_data *d,
				     struct cohbuf_imp_job **jobp)
{
	struct cohbuf_imp_job *job;
	int ret;

	job = cohbuf_imp_job_alloc(ctx, d);
	if (!job)
		return -ENOMEM;
	ret = cohbuf_imp_job_bind(job, d);
	if (ret) {
		cohbuf_imp_job_put(job);
		return ret;
	}
	*jobp = job;
	return 0;
}

/**
 * cohbuf_imp_submit() - COHBUF_IMP_IOCTL_SUBMIT
 * @ctx: the context
 * @d: the argument, already copied in
 * @uarg: user copy of the argument, for the write-back
 * @usize: its size
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
int cohbuf_imp_submit(struct cohbuf_imp_ctx *ctx,
		      struct cohbuf_imp_submit_data *d,
		      void __user *uarg, size_t usize)
{
	bool out = d->flags & COHBUF_IMP_SUBMIT_OUT_FENCE;
	struct sync_file *sync = NULL;
	struct cohbuf_imp_job *job;
	int fd = -1, ret;

	ret = cohbuf_imp_submit_check_flags(d) ?: cohbuf_imp_submit_check_op(d);
	if (ret)
		return ret;
	ret = cohbuf_imp_job_charge(ctx);
	if (ret)
		return ret;
	ret = cohbuf_imp_submit_prepare(ctx, d, &job);
	if (ret)
		goto err_uncharge;
	if (out) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0) {
			ret = fd;
			goto err_put;
		}
	}
	ret = cohbuf_imp_job_queue(job, out ? &sync : NULL);
	if (ret)
		goto err_fd;
	/* Once listed, a WAIT may reap and free the job: read it before. */
	d->job_id = job->id;
	cohbuf_imp_job_list(ctx, job);
	return cohbuf_imp_submit_report(d, uarg, usize, fd, sync);

err_fd:
	if (fd >= 0)
		put_unused_fd(fd);
err_put:
	cohbuf_imp_job_put(job);
err_uncharge:
	cohbuf_imp_job_uncharge(ctx);
	return ret;
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
	if (listed) {
		list_del_init(&job->node);
		ctx->nr_jobs--;
	}
	mutex_unlock(&ctx->lock);
	if (!listed)
		return -ENOENT;

	spin_lock(&ctx->done_lock);
	ctx->nr_done--;
	d->status = job->status;
	d->checksum = job->checksum;
	spin_unlock(&ctx->done_lock);
	cohbuf_imp_job_put(job);	/* the context's reference */
	return 0;
}

/*
 * Jiffies from now until an absolute CLOCK_MONOTONIC deadline, rounded up
 * so that a deadline in the future never degenerates into a poll.
 */
static long cohbuf_imp_deadline_to_jiffies(u64 deadline_ns)
{
	u64 now = ktime_get_ns();
	u64 j;

	if (deadline_ns <= now)
		return 0;
	j = nsecs_to_jiffies64(deadline_ns - now);
	if (!j)
		j = 1;
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

static bool cohbuf_imp_all_done(struct cohbuf_imp_ctx *ctx)
{
	bool done;

	spin_lock(&ctx->done_lock);
	done = ctx->nr_done == ctx->nr_jobs;
	spin_unlock(&ctx->done_lock);
	return done;
}

/**
 * cohbuf_imp_jobs_drain() - wait for and free every job of a context
 * @ctx: a context being closed; no ioctl can run on it any more
 *
 * Jobs that have not started are cancelled by the engine when their
 * turn comes, and a running one stops waiting for its dependencies and
 * its latency at once, so this waits only for the jobs of other contexts
 * queued before ours on the same engines, each bounded by timeout_ms plus
 * its latency.
 */
void cohbuf_imp_jobs_drain(struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_job *job, *tmp;

	WRITE_ONCE(ctx->closing, true);
	wake_up_all(&ctx->wq);
	/* Bounded but possibly long: idle, so no hung-task report. */
	wait_event_idle(ctx->wq, cohbuf_imp_all_done(ctx));
	list_for_each_entry_safe(job, tmp, &ctx->jobs, node) {
		list_del_init(&job->node);
		cohbuf_imp_job_put(job);
	}
	ctx->nr_jobs = 0;
	ctx->nr_done = 0;
}
