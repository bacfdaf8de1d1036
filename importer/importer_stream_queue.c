// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: a stream's regions - queueing them with their fences,
 * filling them with frames, completing them into records, and handing
 * the records out. This is the simulated device itself; the clock file
 * (importer_stream_clock.c) says how many frames are due and calls
 * cohbuf_imp_stream_produce(), the stream file (importer_stream.c) calls
 * the rest. Calls the payload function (importer_stream_gen.c) and the
 * import file for the shared dma-buf mapping. For an output stream
 * "filling" a region is reading it, and its fences are a reader's:
 * importer_stream_out.c decides those few things.
 *
 * QUEUE, in order:
 *  1. check the arguments, take the in-fence, map the dma-buf (through
 *     the importer's shared mapping), check the range and the access mode;
 *  2. lock the dma-buf's reservation object, reserve a fence slot, and
 *     collect its fences (readers and writers) as the region's
 *     dependencies, but for the stream's own: queue order already orders
 *     those;
 *  3. under queue_lock, which the producer never takes: check room and
 *     overlap (under lock; only QUEUE adds regions, so the answer stays
 *     true), number the fence, make the out-fence's sync_file, list the
 *     region (under lock) and add the fence to the reservation object.
 * Nothing after the region is listed allocates or fails.
 *
 * Every published fence signals in bounded time: a region gets a deadline
 * at QUEUE, stream_timeout_ms later, never earlier than the last one, and
 * cohbuf_imp_stream_expire(), which the clock file's timeout work calls,
 * completes the oldest held regions whose deadline has passed as STOP
 * would, but with -ETIMEDOUT. Regions complete in queue order, so the
 * oldest has the earliest deadline.
 *
 * Producing runs under lock inside a fence-signalling section and never
 * allocates, waits for a fence or takes a reservation lock: a region is
 * taken only if its dependencies have already signalled (otherwise the
 * device has no buffer: an overrun), records are the regions' own memory,
 * and a completed region's fence is signalled before its record becomes
 * visible. Fences are numbered in queue order and regions complete in
 * queue order, so they signal in seqno order. Each fence has its own
 * lock, since a fence may outlive its stream, and holds a module
 * reference until it is freed.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sync_file.h>

#include <cohbuf_compat.h>
#include "importer.h"
#include "importer_stream.h"

#define COHBUF_IMP_STREAM_TIMEOUT_MIN_MS	100
#define COHBUF_IMP_STREAM_TIMEOUT_MAX_MS	600000

static unsigned int stream_timeout_ms = 10000;

static int cohbuf_imp_set_stream_timeout(const char *val,
					 const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, COHBUF_IMP_STREAM_TIMEOUT_MIN_MS,
				     COHBUF_IMP_STREAM_TIMEOUT_MAX_MS);
}

static const struct kernel_param_ops cohbuf_imp_stream_timeout_ops = {
	.set = cohbuf_imp_set_stream_timeout,
	.get = param_get_uint,
};
module_param_cb(stream_timeout_ms, &cohbuf_imp_stream_timeout_ops,
		&stream_timeout_ms, 0644);
MODULE_PARM_DESC(stream_timeout_ms,
		 "Longest time a stream holds a queued region before giving it back with -ETIMEDOUT, in ms (default 10000, 100 to 600000)");

/* Frames written between two cond_resched() calls, at most. */
#define COHBUF_IMP_STREAM_STEP	SZ_64K

struct cohbuf_imp_stream_fence {
	struct dma_fence base;		/* first: freed through it */
	spinlock_t lock;		/* the fence's lock */
	bool numbered;			/* dma_fence_init() was called */
};

static const char *cohbuf_imp_stream_fence_driver(struct dma_fence *fence)
{
	return "cohbuf_importer";
}

static const char *cohbuf_imp_stream_fence_timeline(struct dma_fence *fence)
{
	return "cohbuf-importer-stream";
}

static void cohbuf_imp_stream_fence_release(struct dma_fence *fence)
{
	dma_fence_free(fence);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops cohbuf_imp_stream_fence_ops = {
	COHBUF_DMA_FENCE_OPS_SEQNO64
	.get_driver_name = cohbuf_imp_stream_fence_driver,
	.get_timeline_name = cohbuf_imp_stream_fence_timeline,
	.release = cohbuf_imp_stream_fence_release,
};

static struct cohbuf_imp_stream_fence *to_stream_fence(struct dma_fence *f)
{
	return container_of(f, struct cohbuf_imp_stream_fence, base);
}

/* Under queue_lock: give @fence the next seqno of the stream. */
static void cohbuf_imp_stream_fence_number(struct cohbuf_imp_stream *s,
					   struct dma_fence *fence)
{
	struct cohbuf_imp_stream_fence *f = to_stream_fence(fence);

	lockdep_assert_held(&s->queue_lock);
	spin_lock_init(&f->lock);
	f->numbered = true;
	__module_get(THIS_MODULE);	/* dropped by the fence's release */
	cohbuf_dma_fence_init64(fence, &cohbuf_imp_stream_fence_ops, &f->lock,
				s->context, ++s->seqno);
}

/**
 * cohbuf_imp_stream_region_free() - free a region that is on no list
 * @r: the region; process context, no lock of the stream held
 */
void cohbuf_imp_stream_region_free(struct cohbuf_imp_stream_region *r)
{
	unsigned int i;

	for (i = 0; i < r->nr_deps; i++)
		dma_fence_put(r->deps[i]);
	kfree(r->deps);
	if (r->fence) {
		if (to_stream_fence(r->fence)->numbered)
			dma_fence_put(r->fence);
		else
			kfree(to_stream_fence(r->fence));
	}
	if (r->imp)
		cohbuf_imp_import_put(r->imp);
	kfree(r);
	atomic64_dec(&cohbuf_imp_stats.stream_regions);
}

static struct cohbuf_imp_stream_region *cohbuf_imp_stream_region_alloc(void)
{
	struct cohbuf_imp_stream_fence *f;
	struct cohbuf_imp_stream_region *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return NULL;
	atomic64_inc(&cohbuf_imp_stats.stream_regions);
	INIT_LIST_HEAD(&r->node);
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f) {
		cohbuf_imp_stream_region_free(r);
		return NULL;
	}
	r->fence = &f->base;
	return r;
}

/* Append the referenced @fences that are not the stream's own; put the rest. */
static int cohbuf_imp_stream_deps_add(struct cohbuf_imp_stream *s,
				      struct cohbuf_imp_stream_region *r,
				      struct dma_fence **fences, unsigned int n)
{
	struct dma_fence **deps;
	unsigned int i;

	if (!n)
		return 0;
	deps = krealloc_array(r->deps, r->nr_deps + n, sizeof(*deps),
			      GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!deps) {
		for (i = 0; i < n; i++)
			dma_fence_put(fences[i]);
		return -ENOMEM;
	}
	r->deps = deps;
	for (i = 0; i < n; i++) {
		if (fences[i]->context == s->context)
			dma_fence_put(fences[i]);
		else
			r->deps[r->nr_deps++] = fences[i];
	}
	return 0;
}

static int cohbuf_imp_stream_check(const struct cohbuf_imp_stream *s,
				   const struct cohbuf_stream_queue_data *d)
{
	if (d->flags & ~COHBUF_STREAM_QUEUE_FLAGS_MASK)
		return -EINVAL;
	if (!(d->flags & COHBUF_STREAM_QUEUE_IN_FENCE) && d->in_fence_fd)
		return -EINVAL;
	if (d->offset % s->frame_bytes || d->length % s->frame_bytes)
		return -EINVAL;
	if (d->length < (u64)s->block_frames * s->frame_bytes)
		return -EINVAL;
	return 0;
}

/* Step 1: the in-fence, the mapping, the range and the access mode. */
static int cohbuf_imp_stream_bind(struct cohbuf_imp_stream *s,
				  struct cohbuf_imp_stream_region *r,
				  const struct cohbuf_stream_queue_data *d)
{
	struct dma_fence *in;
	u64 end;
	int ret;

	if (d->flags & COHBUF_STREAM_QUEUE_IN_FENCE) {
		in = sync_file_get_fence(d->in_fence_fd);
		if (!in)
			return -EINVAL;
		ret = cohbuf_imp_stream_deps_add(s, r, &in, 1);
		if (ret)
			return ret;
	}
	r->imp = cohbuf_imp_import_create(s->dev, d->dmabuf_fd);
	if (IS_ERR(r->imp)) {
		ret = PTR_ERR(r->imp);
		r->imp = NULL;
		return ret;
	}
	if (check_add_overflow(d->offset, d->length, &end) ||
	    end > r->imp->size)
		return -EINVAL;
	ret = cohbuf_imp_stream_access(s, r->imp->dmabuf);
	if (ret)
		return ret;
	r->offset = d->offset;
	r->length = d->length;
	r->rec.cookie = d->cookie;
	return 0;
}

/* Step 2, under the reservation lock. */
static int cohbuf_imp_stream_resv_prepare(struct cohbuf_imp_stream *s,
					  struct cohbuf_imp_stream_region *r,
					  struct dma_resv *resv)
{
	struct dma_fence **fences;
	unsigned int n;
	int ret;

	dma_resv_assert_held(resv);
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret)
		return ret;
	ret = dma_resv_get_fences(resv, cohbuf_imp_stream_dep_usage(s), &n,
				  &fences);
	if (ret)
		return ret;
	ret = cohbuf_imp_stream_deps_add(s, r, fences, n);
	kfree(fences);
	return ret;
}

static bool cohbuf_imp_stream_overlap(const struct cohbuf_imp_stream_region *a,
				      const struct cohbuf_imp_stream_region *b)
{
	return a->imp->dmabuf == b->imp->dmabuf &&
	       a->offset < b->offset + b->length &&
	       b->offset < a->offset + a->length;
}

/* Under queue_lock: whether @r may join the regions the stream holds. */
static int cohbuf_imp_stream_room(struct cohbuf_imp_stream *s,
				  const struct cohbuf_imp_stream_region *r)
{
	struct cohbuf_imp_stream_region *h;
	int ret = 0;

	lockdep_assert_held(&s->queue_lock);
	mutex_lock(&s->lock);
	list_for_each_entry(h, &s->held, node) {
		if (cohbuf_imp_stream_overlap(h, r)) {
			ret = -EBUSY;
			break;
		}
	}
	spin_lock(&s->rec_lock);
	if (!ret && s->nr_held + s->nr_done >= COHBUF_STREAM_MAX_REGIONS)
		ret = -ENOSPC;
	spin_unlock(&s->rec_lock);
	mutex_unlock(&s->lock);
	return ret;
}

static void cohbuf_imp_stream_list(struct cohbuf_imp_stream *s,
				   struct cohbuf_imp_stream_region *r)
{
	mutex_lock(&s->lock);
	list_add_tail(&r->node, &s->held);
	spin_lock(&s->rec_lock);
	s->nr_held++;
	spin_unlock(&s->rec_lock);
	mutex_unlock(&s->lock);
}

/* Step 3; the caller holds the reservation lock. */
static int cohbuf_imp_stream_publish(struct cohbuf_imp_stream *s,
				     struct cohbuf_imp_stream_region *r,
				     struct dma_resv *resv,
				     struct sync_file **sync)
{
	int ret;

	mutex_lock(&s->queue_lock);
	ret = cohbuf_imp_stream_room(s, r);
	if (ret)
		goto out_unlock;
	cohbuf_imp_stream_fence_number(s, r->fence);
	if (sync) {
		*sync = sync_file_create(r->fence);
		if (!*sync) {
			/* Nobody saw it: signal it, and reuse its seqno. */
			dma_fence_set_error(r->fence, -ECANCELED);
			dma_fence_signal(r->fence);
			s->seqno--;
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	/* Never before the last one: the oldest region expires first. */
	r->deadline_ns = max(ktime_get_ns() +
			     (u64)READ_ONCE(stream_timeout_ms) * NSEC_PER_MSEC,
			     s->last_deadline_ns);
	s->last_deadline_ns = r->deadline_ns;
	cohbuf_imp_stream_list(s, r);
	dma_resv_add_fence(resv, r->fence, cohbuf_imp_stream_fence_usage(s));
out_unlock:
	mutex_unlock(&s->queue_lock);
	return ret;
}

/**
 * cohbuf_imp_stream_queue() - COHBUF_STREAM_IOCTL_QUEUE
 * @s: the stream
 * @d: the argument, already copied in
 * @sync: where to put the out-fence's sync_file, or NULL for none
 * @deadline_ns: set to the region's deadline, for the timeout work
 *
 * Return: 0, the region being queued and its fence published, or a
 * negative errno as listed in the uapi header, with nothing changed.
 */
int cohbuf_imp_stream_queue(struct cohbuf_imp_stream *s,
			    const struct cohbuf_stream_queue_data *d,
			    struct sync_file **sync, u64 *deadline_ns)
{
	struct cohbuf_imp_stream_region *r;
	struct dma_resv *resv;
	int ret;

	ret = cohbuf_imp_stream_check(s, d);
	if (ret)
		return ret;
	r = cohbuf_imp_stream_region_alloc();
	if (!r)
		return -ENOMEM;
	ret = cohbuf_imp_stream_bind(s, r, d);
	if (ret)
		goto err_free;
	resv = r->imp->dmabuf->resv;
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		goto err_free;
	ret = cohbuf_imp_stream_resv_prepare(s, r, resv);
	if (!ret)
		ret = cohbuf_imp_stream_publish(s, r, resv, sync);
	dma_resv_unlock(resv);
	if (ret)
		goto err_free;
	*deadline_ns = r->deadline_ns;
	return 0;

err_free:
	cohbuf_imp_stream_region_free(r);
	return ret;
}

/**
 * cohbuf_imp_stream_frame_ns() - the CLOCK_MONOTONIC time of a frame
 * @s: the stream; the caller holds its lock
 * @i: the frame's index
 *
 * Return: the time, as struct cohbuf_stream_record defines it.
 */
u64 cohbuf_imp_stream_frame_ns(const struct cohbuf_imp_stream *s, u64 i)
{
	if (s->clock == COHBUF_STREAM_CLOCK_MANUAL)
		return s->run_start_ns;
	return s->run_start_ns + mul_u64_u32_div(i - s->run_start_frame,
						 NSEC_PER_SEC, s->rate_hz);
}

/*
 * Under lock, in a signalling section: turn a region the device holds
 * into a record, signal its fence, then make the record visible. From
 * there on a DEQUEUE may free @r.
 */
static void cohbuf_imp_stream_complete(struct cohbuf_imp_stream *s,
				       struct cohbuf_imp_stream_region *r,
				       int status)
{
	struct cohbuf_stream_record *rec = &r->rec;

	lockdep_assert_held(&s->lock);
	if (s->active == r)
		s->active = NULL;
	rec->sequence = s->next_sequence++;
	rec->frames = r->filled;
	rec->bytes_used = r->filled * s->frame_bytes;
	rec->status = status;
	if (!r->filled) {
		rec->first_frame = s->produced;
		rec->lost_before = 0;
		rec->first_ns = 0;
		rec->last_ns = 0;
	}
	if (status)
		rec->flags |= COHBUF_STREAM_REC_ERROR;
	if (rec->lost_before)
		rec->flags |= COHBUF_STREAM_REC_DISCONTINUITY;

	/*
	 * The samples reach memory (input), or have been read (output),
	 * before the fence says so.
	 */
	mb();
	if (status)
		dma_fence_set_error(r->fence, status);
	dma_fence_signal(r->fence);

	spin_lock(&s->rec_lock);
	r->overruns = s->overruns;
	list_move_tail(&r->node, &s->done);
	s->nr_held--;
	s->nr_done++;
	s->records++;
	s->delivered += r->filled;
	s->in_flight -= r->filled;
	wake_up_all(&s->wq);
	spin_unlock(&s->rec_lock);
}

/* 1 if every dependency signalled, 0 if one has not, or its error. */
static int cohbuf_imp_stream_ready(const struct cohbuf_imp_stream_region *r)
{
	unsigned int i;
	int status;

	for (i = 0; i < r->nr_deps; i++) {
		if (!dma_fence_is_signaled(r->deps[i]))
			return 0;
		status = dma_fence_get_status(r->deps[i]);
		if (status < 0)
			return status;
	}
	return 1;
}

/* Make the oldest queued region active if it is ready; under lock. */
static bool cohbuf_imp_stream_take(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_stream_region *r;
	int ready;

	while ((r = list_first_entry_or_null(&s->held,
					     struct cohbuf_imp_stream_region,
					     node))) {
		ready = cohbuf_imp_stream_ready(r);
		if (!ready)
			return false;
		if (ready < 0) {
			cohbuf_imp_stream_complete(s, r, ready);
			continue;
		}
		s->active = r;
		r->rec.lost_before = s->lost_run;
		s->lost_run = 0;
		s->losing = false;
		return true;
	}
	return false;
}

/**
 * cohbuf_imp_stream_lose() - no room for the next frames: lose them (DROP)
 * @s: the stream; the caller holds its lock
 * @n: how many
 */
void cohbuf_imp_stream_lose(struct cohbuf_imp_stream *s, u64 n)
{
	bool first = !s->losing;

	s->losing = true;
	s->lost_run += n;
	spin_lock(&s->rec_lock);
	s->produced += n;
	s->lost += n;
	if (first) {
		s->overruns++;
		wake_up_all(&s->wq);
	}
	spin_unlock(&s->rec_lock);
}

/**
 * cohbuf_imp_stream_stop_overrun() - no room for the next frame: stop (STOP)
 * @s: the stream; the caller holds its lock
 */
void cohbuf_imp_stream_stop_overrun(struct cohbuf_imp_stream *s)
{
	spin_lock(&s->rec_lock);
	s->overruns++;
	WRITE_ONCE(s->state, COHBUF_STREAM_STATE_OVERRUN);
	wake_up_all(&s->wq);
	spin_unlock(&s->rec_lock);
}

/* Write @n frames into the active region, which has room for them. */
static void cohbuf_imp_stream_fill(struct cohbuf_imp_stream *s, u32 n)
{
	struct cohbuf_imp_stream_region *r = s->active;
	u64 off = r->offset + (u64)r->filled * s->frame_bytes;
	u64 len = (u64)n * s->frame_bytes;
	u8 *dst = (u8 *)r->imp->map.vaddr + off;

	if (!r->filled) {
		r->rec.first_frame = s->produced;
		r->rec.first_ns = cohbuf_imp_stream_frame_ns(s, s->produced);
	}
	/* What the device reads or writes is memory, not the CPU's caches. */
	cohbuf_imp_import_sync(r->imp, off, len, false);
	if (s->direction == COHBUF_STREAM_DIR_OUTPUT) {
		cohbuf_imp_stream_out_consume(s, r, dst, n);
	} else {
		cohbuf_imp_stream_generate(dst, s->produced, n, s->channels,
					   s->format);
		cohbuf_imp_import_sync(r->imp, off, len, true);
	}
	r->rec.last_ns = cohbuf_imp_stream_frame_ns(s, s->produced + n - 1);
	r->filled += n;
	spin_lock(&s->rec_lock);
	s->produced += n;
	s->in_flight += n;
	spin_unlock(&s->rec_lock);
	if (r->filled == s->block_frames)
		cohbuf_imp_stream_complete(s, r, 0);
}

/**
 * cohbuf_imp_stream_produce() - the device writes the next frames
 * @s: the stream, running; the caller holds its lock
 * @frames: how many
 *
 * A fence-signalling section: it does not allocate, wait for a fence or
 * take a reservation lock.
 *
 * Return: @frames, or fewer if the STOP policy stopped the stream.
 */
u64 cohbuf_imp_stream_produce(struct cohbuf_imp_stream *s, u64 frames)
{
	u32 step = max_t(u32, COHBUF_IMP_STREAM_STEP / s->frame_bytes, 1);
	u64 done = 0;
	bool cookie;
	u32 n;

	lockdep_assert_held(&s->lock);
	cookie = dma_fence_begin_signalling();
	while (done < frames) {
		if (!s->active && !cohbuf_imp_stream_take(s)) {
			if (s->overrun == COHBUF_STREAM_OVERRUN_STOP) {
				cohbuf_imp_stream_stop_overrun(s);
				break;
			}
			cohbuf_imp_stream_lose(s, frames - done);
			done = frames;
			break;
		}
		n = min_t(u64, frames - done,
			  min(s->block_frames - s->active->filled, step));
		cohbuf_imp_stream_fill(s, n);
		done += n;
		cond_resched();
	}
	dma_fence_end_signalling(cookie);
	return done;
}

/**
 * cohbuf_imp_stream_flush() - give every region back
 * @s: the stream, not running; the caller holds its lock
 *
 * The active region completes with the frames it has, every other one
 * unfilled with -ECANCELED. Afterwards the stream holds no region and
 * every fence it published has signalled.
 */
void cohbuf_imp_stream_flush(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_stream_region *r;
	bool cookie;

	lockdep_assert_held(&s->lock);
	cookie = dma_fence_begin_signalling();
	if (s->active)
		cohbuf_imp_stream_complete(s, s->active, 0);
	while ((r = list_first_entry_or_null(&s->held,
					     struct cohbuf_imp_stream_region,
					     node)))
		cohbuf_imp_stream_complete(s, r, -ECANCELED);
	dma_fence_end_signalling(cookie);
}

/**
 * cohbuf_imp_stream_expire() - give back the regions held too long
 * @s: the stream; the caller holds its lock
 * @now: CLOCK_MONOTONIC ns
 *
 * Each held region whose deadline is @now or earlier completes as on
 * STOP, with the frames written so far, but with -ETIMEDOUT. A
 * fence-signalling section, as cohbuf_imp_stream_produce().
 *
 * Return: the deadline of the oldest region still held, or 0 if none is.
 */
u64 cohbuf_imp_stream_expire(struct cohbuf_imp_stream *s, u64 now)
{
	struct cohbuf_imp_stream_region *r;
	bool cookie;

	lockdep_assert_held(&s->lock);
	cookie = dma_fence_begin_signalling();
	while ((r = list_first_entry_or_null(&s->held,
					     struct cohbuf_imp_stream_region,
					     node)) && r->deadline_ns <= now) {
		cohbuf_imp_stream_complete(s, r, -ETIMEDOUT);
		spin_lock(&s->rec_lock);
		s->timeouts++;
		spin_unlock(&s->rec_lock);
	}
	dma_fence_end_signalling(cookie);
	return r ? r->deadline_ns : 0;
}

/**
 * cohbuf_imp_stream_pop() - take the oldest record
 * @s: the stream
 *
 * A record with a discontinuity acknowledges the overruns before it.
 *
 * Return: the completed region, now on no list (free it with
 * cohbuf_imp_stream_region_free() once its record is copied), or NULL.
 */
struct cohbuf_imp_stream_region *cohbuf_imp_stream_pop(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_stream_region *r;

	spin_lock(&s->rec_lock);
	r = list_first_entry_or_null(&s->done, struct cohbuf_imp_stream_region,
				     node);
	if (r) {
		list_del_init(&r->node);
		s->nr_done--;
		if (r->rec.flags & COHBUF_STREAM_REC_DISCONTINUITY)
			s->acked_overruns = max(s->acked_overruns, r->overruns);
	}
	spin_unlock(&s->rec_lock);
	return r;
}

/**
 * cohbuf_imp_stream_state() - the stream's state
 * @s: the stream
 *
 * Return: COHBUF_STREAM_STATE_*.
 */
u32 cohbuf_imp_stream_state(struct cohbuf_imp_stream *s)
{
	u32 state;

	spin_lock(&s->rec_lock);
	state = s->state;
	spin_unlock(&s->rec_lock);
	return state;
}

/**
 * cohbuf_imp_stream_set_state() - change the stream's state
 * @s: the stream; the caller holds its lock
 * @state: COHBUF_STREAM_STATE_*
 */
void cohbuf_imp_stream_set_state(struct cohbuf_imp_stream *s, u32 state)
{
	lockdep_assert_held(&s->lock);
	spin_lock(&s->rec_lock);
	WRITE_ONCE(s->state, state);
	wake_up_all(&s->wq);
	spin_unlock(&s->rec_lock);
}

/**
 * cohbuf_imp_stream_queue_init() - set up the region side of a new stream
 * @s: the stream, not yet visible to anyone
 */
void cohbuf_imp_stream_queue_init(struct cohbuf_imp_stream *s)
{
	mutex_init(&s->queue_lock);
	mutex_init(&s->lock);
	spin_lock_init(&s->rec_lock);
	INIT_LIST_HEAD(&s->held);
	INIT_LIST_HEAD(&s->done);
	init_waitqueue_head(&s->wq);
	s->context = dma_fence_context_alloc(1);
}
