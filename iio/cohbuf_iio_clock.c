// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_iio: the sample clock. While the buffer is enabled, either an
 * hrtimer produces the frames due at sampling_frequency since the enable
 * (at most every COHBUF_IIO_MIN_TICK_NS, several frames a tick at high
 * rates), or, with the manual clock, each write of N to cohbuf_advance
 * produces exactly N frames, so that a test knows every index.
 */

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>

#include "cohbuf_compat.h"
#include "cohbuf_iio.h"

/* The frames a tick hands over at most: more are due only after a stall. */
#define COHBUF_IIO_MAX_TICK_FRAMES	BIT(16)

static void cohbuf_iio_produce(struct cohbuf_iio *ci, u64 frames)
{
	while (frames) {
		u32 n = min_t(u64, frames, COHBUF_IIO_MAX_TICK_FRAMES);

		cohbuf_iio_buffer_produce(ci->buf, ci->next_frame, n,
					  ci->channels);
		ci->next_frame += n;
		frames -= n;
	}
}

static u64 cohbuf_iio_tick_ns(u32 rate_hz)
{
	return max_t(u64, NSEC_PER_SEC / rate_hz, COHBUF_IIO_MIN_TICK_NS);
}

static enum hrtimer_restart cohbuf_iio_tick(struct hrtimer *timer)
{
	struct cohbuf_iio *ci = container_of(timer, struct cohbuf_iio, timer);
	u64 elapsed = ktime_get_ns() - ci->start_ns;
	u64 due = mul_u64_u32_div(elapsed, ci->rate_hz, NSEC_PER_SEC);

	if (due > ci->next_frame)
		cohbuf_iio_produce(ci, due - ci->next_frame);
	hrtimer_forward_now(timer, ns_to_ktime(cohbuf_iio_tick_ns(ci->rate_hz)));
	return HRTIMER_RESTART;
}

/* Once, before the device is registered. */
void cohbuf_iio_clock_init(struct cohbuf_iio *ci)
{
	cohbuf_hrtimer_setup(&ci->timer, cohbuf_iio_tick, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL);
}

/**
 * cohbuf_iio_clock_start() - the buffer was enabled: frames from index 0 on
 * @ci: the device
 *
 * Return: 0.
 */
int cohbuf_iio_clock_start(struct cohbuf_iio *ci)
{
	mutex_lock(&ci->lock);
	ci->next_frame = 0;
	ci->start_ns = ktime_get_ns();
	ci->running = true;
	if (!ci->manual)
		hrtimer_start(&ci->timer, ns_to_ktime(cohbuf_iio_tick_ns(ci->rate_hz)),
			      HRTIMER_MODE_REL);
	mutex_unlock(&ci->lock);
	return 0;
}

/**
 * cohbuf_iio_clock_stop() - the buffer is being disabled: no more frames
 * @ci: the device
 *
 * Returns once the timer's callback, if any, has finished.
 */
void cohbuf_iio_clock_stop(struct cohbuf_iio *ci)
{
	mutex_lock(&ci->lock);
	ci->running = false;
	hrtimer_cancel(&ci->timer);
	mutex_unlock(&ci->lock);
}

/**
 * cohbuf_iio_clock_advance() - the manual clock: produce @frames frames now
 * @ci: the device
 * @frames: how many
 *
 * Return: 0, -EINVAL if the clock is the timer, -EBUSY if the buffer is
 * not enabled.
 */
int cohbuf_iio_clock_advance(struct cohbuf_iio *ci, u64 frames)
{
	int ret = 0;

	mutex_lock(&ci->lock);
	if (!ci->manual)
		ret = -EINVAL;
	else if (!ci->running)
		ret = -EBUSY;
	else
		cohbuf_iio_produce(ci, frames);
	mutex_unlock(&ci->lock);
	return ret;
}
