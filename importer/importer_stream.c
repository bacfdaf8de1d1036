// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: streams - the object, its fd and file operations, its
 * ioctls, and its lifetime, as linux/cohbuf_stream.h describes them.
 *
 * COHBUF_IMP_IOCTL_STREAM_CREATE arrives through importer_ioctl.c, which
 * calls cohbuf_imp_stream_create() and installs the fd. A stream needs
 * nothing of the context it was created from but its user, whom it is
 * charged to (max_user_streams, importer_limits.c) until its release,
 * and the importer device, which lives as long as the module: the file
 * holds the module through its fops owner, every fence a stream
 * published holds it too, so rmmod is refused while a stream or one of
 * its fences exists.
 *
 * This file owns the stream's user pointers: it copies each argument in,
 * calls the clock file (START, STOP, ADVANCE) or the queue file (QUEUE,
 * records), and copies results back, installing an out-fence fd only once
 * nothing can fail any more.
 *
 * Ring mode (importer_stream_ring.c) changes only what the device writes
 * into and how user space learns of it: creation binds the data area,
 * mmap() maps the control pages, poll() asks the ring for EPOLLIN, STOP and
 * close publish the block being written; QUEUE, DEQUEUE and read() are
 * refused.
 *
 * STOP and close: the timer and the work item are stopped first (without
 * the stream's lock, which the work item takes), then, under the lock,
 * the frames due are produced (STOP only), the state is set and every
 * region is given back (cohbuf_imp_stream_flush()). A process killed or
 * exec'ing mid-stream closes the fd, so the same happens.
 */

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <cohbuf_uarg.h>
#include "importer.h"
#include "importer_stream.h"

static_assert(offsetofend(struct cohbuf_stream_create_data, pad2) ==
	      COHBUF_STREAM_CREATE_DATA_SIZE_VER0);
static_assert(sizeof(struct cohbuf_stream_create_data) ==
	      COHBUF_STREAM_CREATE_DATA_SIZE_VER1);
static_assert(offsetofend(struct cohbuf_stream_queue_data, out_fence_fd) ==
	      COHBUF_STREAM_QUEUE_DATA_SIZE_VER0);
static_assert(sizeof(struct cohbuf_stream_record) ==
	      COHBUF_STREAM_RECORD_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_stream_dequeue_data, record) ==
	      COHBUF_STREAM_DEQUEUE_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_stream_start_data, pad) ==
	      COHBUF_STREAM_START_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_stream_advance_data, pad) ==
	      COHBUF_STREAM_ADVANCE_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_stream_stats_data, records) ==
	      COHBUF_STREAM_STATS_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_stream_stats_data, timeouts) ==
	      COHBUF_STREAM_STATS_DATA_SIZE_VER1);
static_assert(sizeof(struct cohbuf_stream_stats_data) ==
	      COHBUF_STREAM_STATS_DATA_SIZE_VER2);

/* Bytes per sample of a format, or 0 if the format is unknown. */
static u32 cohbuf_imp_stream_sample_bytes(u32 format)
{
	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
	case COHBUF_STREAM_FMT_S16:
		return 2;
	case COHBUF_STREAM_FMT_S32:
		return 4;
	default:
		return 0;
	}
}

/* The parameters other than direction and mode. */
static int cohbuf_imp_stream_check_params(const struct cohbuf_stream_create_data *d)
{
	u32 sample = cohbuf_imp_stream_sample_bytes(d->format);

	if (!sample || !d->channels || d->channels > COHBUF_STREAM_MAX_CHANNELS)
		return -EINVAL;
	if (!d->rate_hz || d->rate_hz > COHBUF_STREAM_MAX_RATE_HZ)
		return -EINVAL;
	if (!d->block_frames || (u64)d->block_frames * d->channels * sample >
	    COHBUF_STREAM_MAX_BLOCK_BYTES)
		return -EINVAL;
	if (d->clock != COHBUF_STREAM_CLOCK_HRTIMER &&
	    d->clock != COHBUF_STREAM_CLOCK_MANUAL)
		return -EINVAL;
	if (d->overrun != COHBUF_STREAM_OVERRUN_DROP &&
	    d->overrun != COHBUF_STREAM_OVERRUN_STOP)
		return -EINVAL;
	if (!d->watermark || d->watermark > COHBUF_STREAM_MAX_WATERMARK)
		return -EINVAL;
	return 0;
}

static int cohbuf_imp_stream_check_create(const struct cohbuf_stream_create_data *d)
{
	int ret;

	if (d->flags & ~COHBUF_STREAM_CREATE_FLAGS_MASK ||
	    d->fd_flags & ~(O_NONBLOCK | O_CLOEXEC) ||
	    d->pad || d->pad2 || d->fd)
		return -EINVAL;
	if (d->direction != COHBUF_STREAM_DIR_INPUT &&
	    d->direction != COHBUF_STREAM_DIR_OUTPUT)
		return -EINVAL;
	if (d->mode != COHBUF_STREAM_MODE_QUEUE &&
	    d->mode != COHBUF_STREAM_MODE_RING)
		return -EINVAL;
	ret = cohbuf_imp_stream_check_params(d);
	if (ret)
		return ret;
	/* An output ring is refused whatever its ring fields say. */
	if (d->direction == COHBUF_STREAM_DIR_OUTPUT) {
		ret = cohbuf_imp_stream_out_check(d);
		if (ret)
			return ret;
	}
	return cohbuf_imp_ring_check(d, cohbuf_imp_stream_sample_bytes(d->format) *
				     d->channels);
}

static void cohbuf_imp_stream_free(struct cohbuf_imp_stream *s)
{
	cohbuf_imp_ring_destroy(s);
	cohbuf_imp_stream_uncharge(s->user);
	mutex_destroy(&s->lock);
	mutex_destroy(&s->queue_lock);
	kfree(s);
	atomic64_dec(&cohbuf_imp_stats.streams);
}

/* Under lock, stopped: complete what the device holds, in either mode. */
static void cohbuf_imp_stream_give_back(struct cohbuf_imp_stream *s)
{
	if (s->ring)
		cohbuf_imp_ring_flush(s);
	else
		cohbuf_imp_stream_flush(s);
}

/* Also runs for a process killed or exec'ing mid-stream. */
static int cohbuf_imp_stream_fop_release(struct inode *inode, struct file *file)
{
	struct cohbuf_imp_stream *s = file->private_data;
	struct cohbuf_imp_stream_region *r;

	mutex_lock(&s->lock);
	cohbuf_imp_stream_set_state(s, COHBUF_STREAM_STATE_STOPPED);
	mutex_unlock(&s->lock);
	/* Stopped: neither the timer nor the work item starts anything. */
	cohbuf_imp_stream_clock_sync(s);
	mutex_lock(&s->lock);
	cohbuf_imp_stream_give_back(s);
	mutex_unlock(&s->lock);
	while ((r = cohbuf_imp_stream_pop(s)))
		cohbuf_imp_stream_region_free(r);
	cohbuf_imp_stream_free(s);
	return 0;
}

static int cohbuf_imp_stream_start(struct cohbuf_imp_stream *s,
				   const struct cohbuf_stream_start_data *d)
{
	int ret = 0;

	if (d->flags || d->pad)
		return -EINVAL;
	mutex_lock(&s->lock);
	if (s->state == COHBUF_STREAM_STATE_RUNNING) {
		ret = -EBUSY;
	} else {
		s->losing = false;
		cohbuf_imp_stream_set_state(s, COHBUF_STREAM_STATE_RUNNING);
		cohbuf_imp_stream_clock_start(s);
	}
	mutex_unlock(&s->lock);
	return ret;
}

static int cohbuf_imp_stream_stop(struct cohbuf_imp_stream *s,
				  const struct cohbuf_stream_start_data *d)
{
	if (d->flags || d->pad)
		return -EINVAL;
	/* A START meanwhile fails with EBUSY, so nothing restarts them. */
	cohbuf_imp_stream_clock_sync(s);
	mutex_lock(&s->lock);
	cohbuf_imp_stream_clock_catch_up(s);
	cohbuf_imp_stream_set_state(s, COHBUF_STREAM_STATE_STOPPED);
	cohbuf_imp_stream_give_back(s);
	mutex_unlock(&s->lock);
	return 0;
}

static void cohbuf_imp_stream_stats(struct cohbuf_imp_stream *s,
				    struct cohbuf_stream_stats_data *d)
{
	spin_lock(&s->rec_lock);
	d->state = s->state;
	d->produced = s->produced;
	d->delivered = s->delivered;
	d->lost = s->lost;
	d->in_flight = s->in_flight;
	d->overruns = s->overruns;
	d->queued = s->nr_held;
	d->completed = s->nr_done;
	d->records = s->records;
	d->timeouts = s->timeouts;
	d->mismatched = s->mismatched;
	s->acked_overruns = s->overruns;
	spin_unlock(&s->rec_lock);
}

/* Whether a wait for a record can end: one is there, or none will come. */
static bool cohbuf_imp_stream_wait_over(struct cohbuf_imp_stream *s)
{
	bool over;

	spin_lock(&s->rec_lock);
	over = s->nr_done || s->state != COHBUF_STREAM_STATE_RUNNING;
	spin_unlock(&s->rec_lock);
	return over;
}

/*
 * The oldest record, waiting for it until @deadline_ns (absolute
 * CLOCK_MONOTONIC, U64_MAX for ever) unless @nonblock.
 * Return: the region, -ENODATA if the stream is not running and has no
 * record, -EAGAIN, -ETIME or -ERESTARTSYS.
 */
static struct cohbuf_imp_stream_region *
cohbuf_imp_stream_next(struct cohbuf_imp_stream *s, bool nonblock,
		       u64 deadline_ns)
{
	struct cohbuf_imp_stream_region *r;
	ktime_t left;
	u64 now;
	int ret;

	for (;;) {
		r = cohbuf_imp_stream_pop(s);
		if (r)
			return r;
		if (cohbuf_imp_stream_state(s) != COHBUF_STREAM_STATE_RUNNING)
			return ERR_PTR(-ENODATA);
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		if (deadline_ns == U64_MAX) {
			ret = wait_event_interruptible(s->wq,
						       cohbuf_imp_stream_wait_over(s));
		} else {
			now = ktime_get_ns();
			if (deadline_ns <= now)
				return ERR_PTR(-ETIME);
			/* A deadline beyond what ktime_t holds is for ever. */
			left = ns_to_ktime(min_t(u64, deadline_ns - now, KTIME_MAX));
			ret = wait_event_interruptible_hrtimeout(s->wq,
								 cohbuf_imp_stream_wait_over(s),
								 left);
		}
		if (ret)
			return ERR_PTR(ret);
	}
}

static int cohbuf_imp_stream_dequeue(struct cohbuf_imp_stream *s,
				     struct file *file,
				     struct cohbuf_stream_dequeue_data *d,
				     void __user *uarg, size_t usize)
{
	struct cohbuf_imp_stream_region *r;
	int ret;

	if (d->flags || d->pad)
		return -EINVAL;
	r = cohbuf_imp_stream_next(s, file->f_flags & O_NONBLOCK,
				   d->deadline_ns);
	if (IS_ERR(r))
		return PTR_ERR(r);
	d->record = r->rec;
	cohbuf_imp_stream_region_free(r);
	ret = cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d));
	return ret;
}

/*
 * The out-fence fd is reserved before the region is queued and installed
 * after the write-back; if that fails, the region stays queued and the
 * sync_file is dropped.
 */
static int cohbuf_imp_stream_ioctl_queue(struct cohbuf_imp_stream *s,
					 struct cohbuf_stream_queue_data *d,
					 void __user *uarg, size_t usize)
{
	bool out = d->flags & COHBUF_STREAM_QUEUE_OUT_FENCE;
	struct sync_file *sync = NULL;
	int fd = -1, ret;
	u64 deadline;

	if (out) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0)
			return fd;
	}
	ret = cohbuf_imp_stream_queue(s, d, out ? &sync : NULL, &deadline);
	if (ret)
		goto err_fd;
	cohbuf_imp_stream_timeout_arm(s, deadline);
	d->out_fence_fd = fd;
	return cohbuf_uarg_copy_out_fd(uarg, usize, d, sizeof(*d), fd,
				       sync ? sync->file : NULL);

err_fd:
	if (fd >= 0)
		put_unused_fd(fd);
	return ret;
}

/* Every ioctl of a stream, with the direction it accepts; all growable. */
static const struct cohbuf_uarg_ioctl cohbuf_imp_stream_ioctls[] = {
	{ COHBUF_STREAM_IOCTL_QUEUE, COHBUF_STREAM_QUEUE_DATA_SIZE_VER0 },
	{ COHBUF_STREAM_IOCTL_DEQUEUE, COHBUF_STREAM_DEQUEUE_DATA_SIZE_VER0 },
	{ COHBUF_STREAM_IOCTL_START, COHBUF_STREAM_START_DATA_SIZE_VER0 },
	{ COHBUF_STREAM_IOCTL_STOP, COHBUF_STREAM_START_DATA_SIZE_VER0 },
	{ COHBUF_STREAM_IOCTL_ADVANCE, COHBUF_STREAM_ADVANCE_DATA_SIZE_VER0 },
	{ COHBUF_STREAM_IOCTL_STATS, COHBUF_STREAM_STATS_DATA_SIZE_VER0 },
};

static long cohbuf_imp_stream_fop_ioctl(struct file *file, unsigned int cmd,
					unsigned long arg)
{
	struct cohbuf_imp_stream *s = file->private_data;
	const struct cohbuf_uarg_ioctl *ioc;
	void __user *uarg = (void __user *)arg;
	size_t usize = _IOC_SIZE(cmd);
	union {
		struct cohbuf_stream_queue_data queue;
		struct cohbuf_stream_dequeue_data dequeue;
		struct cohbuf_stream_start_data start;
		struct cohbuf_stream_advance_data advance;
		struct cohbuf_stream_stats_data stats;
	} k;
	int ret;

	ioc = cohbuf_uarg_find(cohbuf_imp_stream_ioctls,
			       ARRAY_SIZE(cohbuf_imp_stream_ioctls), cmd);
	if (!ioc)
		return -ENOTTY;
	/* A ring stream has no regions and no records to take. */
	if (s->ring && (ioc->cmd == COHBUF_STREAM_IOCTL_QUEUE ||
			ioc->cmd == COHBUF_STREAM_IOCTL_DEQUEUE))
		return -EINVAL;
	ret = cohbuf_uarg_copy_in_ioctl(ioc, &k, sizeof(k), uarg, cmd);
	if (ret)
		return ret;

	switch (ioc->cmd) {
	case COHBUF_STREAM_IOCTL_QUEUE:
		return cohbuf_imp_stream_ioctl_queue(s, &k.queue, uarg, usize);
	case COHBUF_STREAM_IOCTL_DEQUEUE:
		return cohbuf_imp_stream_dequeue(s, file, &k.dequeue, uarg,
						 usize);
	case COHBUF_STREAM_IOCTL_START:
		return cohbuf_imp_stream_start(s, &k.start);
	case COHBUF_STREAM_IOCTL_STOP:
		return cohbuf_imp_stream_stop(s, &k.start);
	case COHBUF_STREAM_IOCTL_ADVANCE:
		if (k.advance.flags || k.advance.pad)
			return -EINVAL;
		return cohbuf_imp_stream_advance(s, k.advance.frames);
	case COHBUF_STREAM_IOCTL_STATS:
		if (k.stats.flags)
			return -EINVAL;
		cohbuf_imp_stream_stats(s, &k.stats);
		return cohbuf_uarg_copy_out(uarg, usize, &k.stats,
					    sizeof(k.stats));
	default:
		return -ENOTTY;
	}
}

/* Whole records; see "reading and polling a stream" in the uapi. */
static ssize_t cohbuf_imp_stream_fop_read(struct file *file, char __user *buf,
					  size_t count, loff_t *ppos)
{
	struct cohbuf_imp_stream *s = file->private_data;
	const size_t size = sizeof(struct cohbuf_stream_record);
	struct cohbuf_imp_stream_region *r;
	ssize_t done = 0;
	int ret;

	if (count < size || s->ring)
		return -EINVAL;
	r = cohbuf_imp_stream_next(s, file->f_flags & O_NONBLOCK, U64_MAX);
	if (IS_ERR(r))
		return PTR_ERR(r) == -ENODATA ? 0 : PTR_ERR(r);
	do {
		ret = copy_to_user(buf + done, &r->rec, size) ? -EFAULT : 0;
		cohbuf_imp_stream_region_free(r);
		if (ret)
			return done ?: ret;
		done += size;
	} while (count - done >= size && (r = cohbuf_imp_stream_pop(s)));
	return done;
}

static __poll_t cohbuf_imp_stream_fop_poll(struct file *file, poll_table *wait)
{
	struct cohbuf_imp_stream *s = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &s->wq, wait);
	spin_lock(&s->rec_lock);
	if (s->ring)
		mask |= cohbuf_imp_ring_poll(s);
	else if (s->nr_done >= s->watermark ||
		 (s->nr_done && s->state != COHBUF_STREAM_STATE_RUNNING))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (s->overruns > s->acked_overruns)
		mask |= EPOLLPRI;
	if (s->state == COHBUF_STREAM_STATE_OVERRUN)
		mask |= EPOLLERR;
	spin_unlock(&s->rec_lock);
	return mask;
}

/* The control pages of a ring stream; see "cohbuf stream ring". */
static int cohbuf_imp_stream_fop_mmap(struct file *file,
				      struct vm_area_struct *vma)
{
	return cohbuf_imp_ring_mmap(file->private_data, vma);
}

static const struct file_operations cohbuf_imp_stream_fops = {
	.owner = THIS_MODULE,
	.release = cohbuf_imp_stream_fop_release,
	.unlocked_ioctl = cohbuf_imp_stream_fop_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = cohbuf_imp_stream_fop_read,
	.poll = cohbuf_imp_stream_fop_poll,
	.mmap = cohbuf_imp_stream_fop_mmap,
	.llseek = noop_llseek,
};

/**
 * cohbuf_imp_stream_create() - COHBUF_IMP_IOCTL_STREAM_CREATE
 * @ctx: the context it is created from; the stream does not refer to it
 * @d: the argument, already copied in
 *
 * Return: the stream's new file, O_RDWR, O_NONBLOCK if asked for, for the
 * caller to install (with O_CLOEXEC) or fput(); or an ERR_PTR() with an
 * errno as listed in the uapi header.
 */
struct file *cohbuf_imp_stream_create(struct cohbuf_imp_ctx *ctx,
				      const struct cohbuf_stream_create_data *d)
{
	struct cohbuf_imp_stream *s;
	struct cohbuf_imp_user *user;
	struct file *file;
	int ret;

	ret = cohbuf_imp_stream_check_create(d);
	if (ret)
		return ERR_PTR(ret);
	user = cohbuf_imp_stream_charge(ctx);
	if (IS_ERR(user))
		return ERR_CAST(user);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s) {
		cohbuf_imp_stream_uncharge(user);
		return ERR_PTR(-ENOMEM);
	}
	atomic64_inc(&cohbuf_imp_stats.streams);
	s->user = user;		/* from here on, given back by _free() */
	s->dev = ctx->dev;
	s->direction = d->direction;
	s->format = d->format;
	s->channels = d->channels;
	s->rate_hz = d->rate_hz;
	s->block_frames = d->block_frames;
	s->clock = d->clock;
	s->overrun = d->overrun;
	s->watermark = d->watermark;
	s->sample_bytes = cohbuf_imp_stream_sample_bytes(d->format);
	s->frame_bytes = s->sample_bytes * d->channels;
	s->next_sequence = d->first_sequence;
	s->state = COHBUF_STREAM_STATE_STOPPED;
	cohbuf_imp_stream_queue_init(s);
	cohbuf_imp_stream_clock_init(s);
	if (d->mode == COHBUF_STREAM_MODE_RING) {
		ret = cohbuf_imp_ring_create(s, d);
		if (ret) {
			cohbuf_imp_stream_free(s);
			return ERR_PTR(ret);
		}
	}

	file = anon_inode_getfile("[cohbuf-stream]", &cohbuf_imp_stream_fops, s,
				  O_RDWR | (d->fd_flags & O_NONBLOCK));
	if (IS_ERR(file)) {
		cohbuf_imp_stream_free(s);
		return file;
	}
	/* No file position: pread() and lseek() fail with ESPIPE. */
	stream_open(file_inode(file), file);
	return file;
}

/**
 * cohbuf_imp_stream_init() - set up the stream engine at module init
 *
 * Return: 0 or -ENOMEM.
 */
int cohbuf_imp_stream_init(void)
{
	return cohbuf_imp_stream_clock_init_wq();
}

/**
 * cohbuf_imp_stream_exit() - tear it down; no stream is left
 */
void cohbuf_imp_stream_exit(void)
{
	cohbuf_imp_stream_clock_exit_wq();
}
