// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: a stream's clock - when frames are due. Called by the
 * stream file (importer_stream.c) for START, STOP, ADVANCE and close;
 * calls cohbuf_imp_stream_produce() of importer_stream_queue.c, always
 * with the stream's lock held.
 *
 * HRTIMER: from START on, frame i of the run is due at
 * START + i / rate_hz. A timer fires every period_ns (a block period, at
 * least COHBUF_IMP_STREAM_MIN_PERIOD_NS) and does nothing but queue the
 * stream's work item: samples are never generated in interrupt context,
 * which keeps the timer short and PREEMPT_RT happy. The work item
 * produces every frame due by the time it runs, from the elapsed time, so
 * a late timer or a preempted worker delays frames but never changes how
 * many there are. It produces at most COHBUF_IMP_STREAM_BATCH bytes per
 * run and queues itself again for the rest, so that STOP and close need
 * not wait for a long catch-up.
 *
 * MANUAL: ADVANCE produces its frames itself, in the caller's context.
 *
 * Either way the frames go to the ring producer for a ring stream
 * (importer_stream_ring.c), to the queue producer otherwise.
 *
 * Either clock: the timeout work gives back the held regions whose
 * deadline passed (cohbuf_imp_stream_expire()). QUEUE arms it for the new
 * region's deadline if it is idle; the work re-arms itself, under the
 * lock, for the oldest region left. It may fire early (the oldest region
 * completed meanwhile), never late.
 *
 * The workqueue has WQ_MEM_RECLAIM: the work item signals fences.
 */

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#include <cohbuf_compat.h>
#include "importer_stream.h"

#define COHBUF_IMP_STREAM_MIN_PERIOD_NS	NSEC_PER_MSEC
#define COHBUF_IMP_STREAM_BATCH		SZ_4M

static struct workqueue_struct *cohbuf_imp_stream_wq;

/* Under lock: the device of the stream's mode produces @frames. */
static u64 cohbuf_imp_stream_make(struct cohbuf_imp_stream *s, u64 frames)
{
	if (s->ring)
		return cohbuf_imp_ring_produce(s, frames);
	return cohbuf_imp_stream_produce(s, frames);
}

/* Frames one production step makes at most: a block, or BATCH bytes. */
static u64 cohbuf_imp_stream_batch(const struct cohbuf_imp_stream *s)
{
	return max_t(u64, s->block_frames,
		     COHBUF_IMP_STREAM_BATCH / s->frame_bytes);
}

/* Under lock: produce what is due; true if more is due than was made. */
static bool cohbuf_imp_stream_produce_due(struct cohbuf_imp_stream *s)
{
	u64 now = ktime_get_ns();
	u64 due, made, n, batch = cohbuf_imp_stream_batch(s);

	lockdep_assert_held(&s->lock);
	if (s->state != COHBUF_STREAM_STATE_RUNNING || now < s->run_start_ns)
		return false;
	due = mul_u64_u32_div(now - s->run_start_ns, s->rate_hz, NSEC_PER_SEC);
	made = s->produced - s->run_start_frame;
	if (due <= made)
		return false;
	n = min(due - made, batch);
	if (cohbuf_imp_stream_make(s, n) < n)
		return false;		/* stopped by an overrun */
	return due - made > batch;
}

static void cohbuf_imp_stream_work(struct work_struct *work)
{
	struct cohbuf_imp_stream *s = container_of(work, struct cohbuf_imp_stream,
						   work);
	bool more;

	mutex_lock(&s->lock);
	more = cohbuf_imp_stream_produce_due(s);
	mutex_unlock(&s->lock);
	if (more)
		queue_work(cohbuf_imp_stream_wq, &s->work);
}

/* The delay until @deadline_ns, in jiffies, rounded up. */
static unsigned long cohbuf_imp_stream_delay(u64 deadline_ns)
{
	u64 now = ktime_get_ns();

	return deadline_ns > now ? nsecs_to_jiffies(deadline_ns - now) + 1 : 0;
}

static void cohbuf_imp_stream_timeout_work(struct work_struct *work)
{
	struct cohbuf_imp_stream *s = container_of(to_delayed_work(work),
						   struct cohbuf_imp_stream,
						   timeout);
	u64 next;

	mutex_lock(&s->lock);
	next = cohbuf_imp_stream_expire(s, ktime_get_ns());
	/* Under the lock, so a QUEUE's arm cannot come after it and win. */
	if (next)
		mod_delayed_work(cohbuf_imp_stream_wq, &s->timeout,
				 cohbuf_imp_stream_delay(next));
	mutex_unlock(&s->lock);
}

/**
 * cohbuf_imp_stream_timeout_arm() - time out a region just queued
 * @s: the stream; the caller does not hold its lock
 * @deadline_ns: the region's deadline
 *
 * A no-op if the timeout work is pending: it is then due no later.
 */
void cohbuf_imp_stream_timeout_arm(struct cohbuf_imp_stream *s,
				   u64 deadline_ns)
{
	queue_delayed_work(cohbuf_imp_stream_wq, &s->timeout,
			   cohbuf_imp_stream_delay(deadline_ns));
}

/* Interrupt context (soft on PREEMPT_RT): only queue the work item. */
static enum hrtimer_restart cohbuf_imp_stream_tick(struct hrtimer *timer)
{
	struct cohbuf_imp_stream *s = container_of(timer, struct cohbuf_imp_stream,
						   timer);

	if (READ_ONCE(s->state) != COHBUF_STREAM_STATE_RUNNING)
		return HRTIMER_NORESTART;
	queue_work(cohbuf_imp_stream_wq, &s->work);
	hrtimer_forward_now(timer, ns_to_ktime(s->period_ns));
	return HRTIMER_RESTART;
}

/**
 * cohbuf_imp_stream_clock_init() - set up the clock of a new stream
 * @s: the stream, its parameters set, not yet visible to anyone
 */
void cohbuf_imp_stream_clock_init(struct cohbuf_imp_stream *s)
{
	u64 block_ns = mul_u64_u32_div(s->block_frames, NSEC_PER_SEC,
				       s->rate_hz);

	s->period_ns = max_t(u64, block_ns, COHBUF_IMP_STREAM_MIN_PERIOD_NS);
	INIT_WORK(&s->work, cohbuf_imp_stream_work);
	INIT_DELAYED_WORK(&s->timeout, cohbuf_imp_stream_timeout_work);
	cohbuf_hrtimer_setup(&s->timer, cohbuf_imp_stream_tick,
			     CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}

/**
 * cohbuf_imp_stream_clock_start() - start a run
 * @s: the stream, just set RUNNING; the caller holds its lock
 */
void cohbuf_imp_stream_clock_start(struct cohbuf_imp_stream *s)
{
	lockdep_assert_held(&s->lock);
	s->run_start_ns = ktime_get_ns();
	s->run_start_frame = s->produced;
	if (s->clock == COHBUF_STREAM_CLOCK_HRTIMER)
		hrtimer_start(&s->timer, ns_to_ktime(s->period_ns),
			      HRTIMER_MODE_REL);
}

/**
 * cohbuf_imp_stream_clock_catch_up() - produce every frame due by now
 * @s: the stream; the caller holds its lock
 *
 * For STOP: a no-op unless the stream runs on the HRTIMER clock.
 */
void cohbuf_imp_stream_clock_catch_up(struct cohbuf_imp_stream *s)
{
	lockdep_assert_held(&s->lock);
	if (s->clock != COHBUF_STREAM_CLOCK_HRTIMER)
		return;
	while (cohbuf_imp_stream_produce_due(s))
		;
}

/**
 * cohbuf_imp_stream_clock_sync() - wait until the timers and work are idle
 * @s: the stream; the caller does not hold its lock
 *
 * Afterwards neither the timer nor the production work runs until the
 * next START, nor the timeout work until the next QUEUE.
 */
void cohbuf_imp_stream_clock_sync(struct cohbuf_imp_stream *s)
{
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->work);
	cancel_delayed_work_sync(&s->timeout);
}

/**
 * cohbuf_imp_stream_advance() - COHBUF_STREAM_IOCTL_ADVANCE
 * @s: the stream
 * @frames: frames to produce
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
int cohbuf_imp_stream_advance(struct cohbuf_imp_stream *s, u64 frames)
{
	u64 done, n, batch = cohbuf_imp_stream_batch(s);
	int ret;

	if (s->clock != COHBUF_STREAM_CLOCK_MANUAL || !frames ||
	    frames > COHBUF_STREAM_MAX_ADVANCE)
		return -EINVAL;
	ret = mutex_lock_killable(&s->lock);
	if (ret)
		return ret;
	if (s->state != COHBUF_STREAM_STATE_RUNNING) {
		ret = -EPIPE;
		goto out_unlock;
	}
	s->run_start_ns = ktime_get_ns();
	for (done = 0; done < frames; done += n) {
		n = min(frames - done, batch);
		if (cohbuf_imp_stream_make(s, n) < n)
			break;		/* stopped by an overrun */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
out_unlock:
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * cohbuf_imp_stream_clock_init_wq() - create the streams' workqueue
 *
 * Return: 0 or -ENOMEM.
 */
int cohbuf_imp_stream_clock_init_wq(void)
{
	/* Unbound, as 7.x wants every workqueue to say (or WQ_PERCPU). */
	cohbuf_imp_stream_wq = alloc_workqueue("cohbuf-importer-stream",
					       WQ_UNBOUND | WQ_MEM_RECLAIM |
					       WQ_HIGHPRI, 0);
	return cohbuf_imp_stream_wq ? 0 : -ENOMEM;
}

/**
 * cohbuf_imp_stream_clock_exit_wq() - destroy it; no stream is left
 */
void cohbuf_imp_stream_clock_exit_wq(void)
{
	destroy_workqueue(cohbuf_imp_stream_wq);
}
