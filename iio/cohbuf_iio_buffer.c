// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_iio: the device's IIO buffer, a ring of exactly "length" scans
 * that the clock fills with the payload and read() on the buffer's fd
 * drains. A frame that finds the ring full is dropped and counted, never
 * written over a frame user space has not read: the buffer's sysfs
 * directory shows frames_produced and frames_lost since the last enable,
 * and frames_produced = frames read + frames in the ring + frames_lost.
 * Enabled with DMABUFs attached (6.12 and later), the frames go to the
 * enqueued blocks instead (cohbuf_iio_dmabuf.c), and those that find none
 * are lost and counted the same way.
 *
 * One producer (cohbuf_iio.h says which) and readers serialised by
 * @read_lock share the ring without a common lock: the producer publishes
 * @head with a release after it filled the slots, a reader publishes
 * @tail with a release after it copied them out, and each reads the
 * other's index with an acquire.
 */

#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/barrier.h>

#include "cohbuf_compat.h"
#include "cohbuf_iio.h"

/* A length the core may set: the ring is allocated at once, so bounded. */
#define COHBUF_IIO_MIN_LENGTH	2
#define COHBUF_IIO_MAX_LENGTH	BIT(20)
#define COHBUF_IIO_DEFAULT_LENGTH	1024

static struct cohbuf_iio_buffer *to_cbuf(struct iio_buffer *buffer)
{
	return container_of(buffer, struct cohbuf_iio_buffer, buffer);
}

static u8 *cohbuf_iio_slot(struct cohbuf_iio_buffer *b, u64 index)
{
	u32 rem;

	div_u64_rem(index, b->frames, &rem);
	return b->data + (size_t)rem * b->frame_bytes;
}

/* The read path: into the ring; returns how many fit. */
static u32 cohbuf_iio_buffer_produce_ring(struct cohbuf_iio_buffer *b,
					  u64 first_frame, u32 frames,
					  u32 channels)
{
	u64 head = b->head;
	/* Pairs with the reader's release: its slots are copied out. */
	u64 tail = smp_load_acquire(&b->tail);
	u32 fit = min_t(u64, frames, b->frames - (head - tail));
	u32 i;

	for (i = 0; i < fit; i++)
		cohbuf_iio_fill_scan(b->buffer.scan_mask,
				     (__le16 *)cohbuf_iio_slot(b, head + i),
				     first_frame + i, channels);
	/* Pairs with the reader's acquire: the slots are filled. */
	smp_store_release(&b->head, head + fit);

	if (head + fit - tail >= b->buffer.watermark)
		wake_up_interruptible_poll(&b->buffer.pollq, EPOLLIN | EPOLLRDNORM);
	return fit;
}

/* The DMABUF path: into the enqueued blocks; returns how many found one. */
static u32 cohbuf_iio_buffer_produce_dmabuf(struct cohbuf_iio_buffer *b,
					    u64 first_frame, u32 frames,
					    u32 channels)
{
#ifdef COHBUF_IIO_DMABUF
	return cohbuf_iio_dmabuf_produce(b, first_frame, frames, channels);
#else
	return 0;
#endif
}

/**
 * cohbuf_iio_buffer_produce() - the device produced frames
 * @b: the buffer
 * @first_frame: index of the first of them
 * @frames: how many
 * @channels: the device's channel count
 *
 * Stores as many as the ring (or, in DMABUF mode, the enqueued blocks)
 * has room for, counts the rest as lost and wakes readers once the
 * watermark is reached. Called by the one producer only, from any
 * context.
 */
void cohbuf_iio_buffer_produce(struct cohbuf_iio_buffer *b, u64 first_frame,
			       u32 frames, u32 channels)
{
	unsigned long irqflags;
	u32 fit;

	if (READ_ONCE(b->dmabuf_mode))
		fit = cohbuf_iio_buffer_produce_dmabuf(b, first_frame, frames,
						       channels);
	else
		fit = cohbuf_iio_buffer_produce_ring(b, first_frame, frames,
						     channels);

	spin_lock_irqsave(&b->count_lock, irqflags);
	b->produced += frames;
	b->lost += frames - fit;
	spin_unlock_irqrestore(&b->count_lock, irqflags);
}

static size_t cohbuf_iio_data_available(struct iio_buffer *buffer)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);

	/* Pairs with the producer's release, as in the read. */
	return smp_load_acquire(&b->head) - READ_ONCE(b->tail);
}

/* DMABUFs are attached, or the buffer is enabled to fill them. */
static bool cohbuf_iio_buffer_has_dmabufs(struct cohbuf_iio_buffer *b)
{
	unsigned long irqflags;
	bool ret;

	spin_lock_irqsave(&b->queue_lock, irqflags);
	ret = b->attached || b->dmabuf_mode;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	return ret;
}

/* Copies whole scans only; the core waits until there is at least one. */
static int cohbuf_iio_read(struct iio_buffer *buffer, size_t n,
			   char __user *ubuf)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	u64 head, tail, count, first, i;
	int ret;

	if (!b->frame_bytes || n < b->frame_bytes)
		return -EINVAL;
	/* The frames go to DMABUFs: there is nothing to read (as upstream). */
	if (cohbuf_iio_buffer_has_dmabufs(b))
		return -EBUSY;

	mutex_lock(&b->read_lock);
	tail = b->tail;
	/* Pairs with the producer's release: the slots up to @head are filled. */
	head = smp_load_acquire(&b->head);
	count = min_t(u64, head - tail, n / b->frame_bytes);
	/* At most two pieces: up to the end of the ring, then from its start. */
	for (i = 0; i < count; i += first) {
		u32 rem;

		div_u64_rem(tail + i, b->frames, &rem);
		first = min_t(u64, count - i, b->frames - rem);
		if (copy_to_user(ubuf + i * b->frame_bytes,
				 cohbuf_iio_slot(b, tail + i),
				 first * b->frame_bytes)) {
			ret = -EFAULT;
			goto out_unlock;
		}
	}
	/* Pairs with the producer's acquire: these slots may be refilled. */
	smp_store_release(&b->tail, tail + count);
	ret = count * b->frame_bytes;
out_unlock:
	mutex_unlock(&b->read_lock);
	return ret;
}

static int cohbuf_iio_set_bytes_per_datum(struct iio_buffer *buffer,
					  size_t bpd)
{
	buffer->bytes_per_datum = bpd;
	return 0;
}

static int cohbuf_iio_set_length(struct iio_buffer *buffer,
				 unsigned int length)
{
	buffer->length = clamp(length, COHBUF_IIO_MIN_LENGTH,
			       COHBUF_IIO_MAX_LENGTH);
	return 0;
}

/* Before an enable, with the buffer inactive: size the ring to length. */
static int cohbuf_iio_request_update(struct iio_buffer *buffer)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	u8 *data = NULL;
	int ret = 0;

	mutex_lock(&b->read_lock);
	if (b->data && b->frames == buffer->length &&
	    b->frame_bytes == buffer->bytes_per_datum)
		goto out_unlock;
	if (buffer->bytes_per_datum) {
		data = kvcalloc(buffer->length, buffer->bytes_per_datum,
				GFP_KERNEL);
		if (!data) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	kvfree(b->data);
	b->data = data;
	b->frames = buffer->length;
	b->frame_bytes = buffer->bytes_per_datum;
	b->head = 0;
	b->tail = 0;
out_unlock:
	mutex_unlock(&b->read_lock);
	return ret;
}

/*
 * An enable starts from an empty ring and zero counters, in DMABUF mode
 * if DMABUFs are attached.
 */
static int cohbuf_iio_enable(struct iio_buffer *buffer,
			     struct iio_dev *indio_dev)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	unsigned long irqflags;

	spin_lock_irqsave(&b->queue_lock, irqflags);
	b->enabled = true;
	b->dmabuf_mode = b->attached;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);

	mutex_lock(&b->read_lock);
	b->head = 0;
	b->tail = 0;
	mutex_unlock(&b->read_lock);

	spin_lock_irqsave(&b->count_lock, irqflags);
	b->produced = 0;
	b->lost = 0;
	spin_unlock_irqrestore(&b->count_lock, irqflags);
	return 0;
}

/*
 * After the clock stopped: blocks still enqueued are completed with
 * EINTR (as upstream's DMA buffers abort them), and a new enable chooses
 * the mode again.
 */
static int cohbuf_iio_disable(struct iio_buffer *buffer,
			      struct iio_dev *indio_dev)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	unsigned long irqflags;

#ifdef COHBUF_IIO_DMABUF
	cohbuf_iio_dmabuf_abort(b);
#endif
	spin_lock_irqsave(&b->queue_lock, irqflags);
	b->enabled = false;
	b->dmabuf_mode = false;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	return 0;
}

static void cohbuf_iio_release(struct iio_buffer *buffer)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);

	mutex_destroy(&b->read_lock);
	kvfree(b->data);
	kfree(b);
}

static const struct iio_buffer_access_funcs cohbuf_iio_access = {
	.read = cohbuf_iio_read,
	.data_available = cohbuf_iio_data_available,
	.request_update = cohbuf_iio_request_update,
	.set_bytes_per_datum = cohbuf_iio_set_bytes_per_datum,
	.set_length = cohbuf_iio_set_length,
	.enable = cohbuf_iio_enable,
	.disable = cohbuf_iio_disable,
	.release = cohbuf_iio_release,
#ifdef COHBUF_IIO_DMABUF
	.attach_dmabuf = cohbuf_iio_attach_dmabuf,
	.detach_dmabuf = cohbuf_iio_detach_dmabuf,
	.enqueue_dmabuf = cohbuf_iio_enqueue_dmabuf,
#endif
	.modes = INDIO_BUFFER_HARDWARE,
};

/*
 * The buffer's counters. The core hands each show() a copy of the
 * attribute that knows the buffer (and nothing else: no address).
 */
enum cohbuf_iio_counter {
	COHBUF_IIO_PRODUCED,
	COHBUF_IIO_LOST,
	COHBUF_IIO_ATTACHED,
	COHBUF_IIO_QUEUED,
};

static ssize_t cohbuf_iio_counter_show(struct device_attribute *attr,
				       char *out, enum cohbuf_iio_counter which)
{
	struct cohbuf_iio_buffer *b = to_cbuf(to_iio_dev_attr(attr)->buffer);
	unsigned long irqflags;
	u64 val;

	if (which == COHBUF_IIO_PRODUCED || which == COHBUF_IIO_LOST) {
		spin_lock_irqsave(&b->count_lock, irqflags);
		val = which == COHBUF_IIO_LOST ? b->lost : b->produced;
		spin_unlock_irqrestore(&b->count_lock, irqflags);
	} else {
		spin_lock_irqsave(&b->queue_lock, irqflags);
		val = which == COHBUF_IIO_QUEUED ? b->queued : b->attached;
		spin_unlock_irqrestore(&b->queue_lock, irqflags);
	}
	return sysfs_emit(out, "%llu\n", val);
}

static ssize_t frames_produced_show(struct device *dev,
				    struct device_attribute *attr, char *out)
{
	return cohbuf_iio_counter_show(attr, out, COHBUF_IIO_PRODUCED);
}

static ssize_t frames_lost_show(struct device *dev,
				struct device_attribute *attr, char *out)
{
	return cohbuf_iio_counter_show(attr, out, COHBUF_IIO_LOST);
}

static IIO_DEVICE_ATTR_RO(frames_produced, 0);
static IIO_DEVICE_ATTR_RO(frames_lost, 0);

#ifdef COHBUF_IIO_DMABUF
static ssize_t dmabufs_attached_show(struct device *dev,
				     struct device_attribute *attr, char *out)
{
	return cohbuf_iio_counter_show(attr, out, COHBUF_IIO_ATTACHED);
}

static ssize_t dmabufs_queued_show(struct device *dev,
				   struct device_attribute *attr, char *out)
{
	return cohbuf_iio_counter_show(attr, out, COHBUF_IIO_QUEUED);
}

static IIO_DEVICE_ATTR_RO(dmabufs_attached, 0);
static IIO_DEVICE_ATTR_RO(dmabufs_queued, 0);
#endif

static const COHBUF_IIO_BUFFER_ATTR_TYPE *cohbuf_iio_buffer_attrs[] = {
	COHBUF_IIO_BUFFER_ATTR(iio_dev_attr_frames_produced),
	COHBUF_IIO_BUFFER_ATTR(iio_dev_attr_frames_lost),
#ifdef COHBUF_IIO_DMABUF
	COHBUF_IIO_BUFFER_ATTR(iio_dev_attr_dmabufs_attached),
	COHBUF_IIO_BUFFER_ATTR(iio_dev_attr_dmabufs_queued),
#endif
	NULL
};

/**
 * cohbuf_iio_buffer_alloc() - a new buffer, with no ring yet
 *
 * Return: the buffer, holding one reference, or NULL without memory.
 */
struct cohbuf_iio_buffer *cohbuf_iio_buffer_alloc(void)
{
	struct cohbuf_iio_buffer *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return NULL;
	iio_buffer_init(&b->buffer);
	mutex_init(&b->read_lock);
	spin_lock_init(&b->count_lock);
	spin_lock_init(&b->queue_lock);
	INIT_LIST_HEAD(&b->queue);
	b->buffer.access = &cohbuf_iio_access;
	b->buffer.attrs = cohbuf_iio_buffer_attrs;
	b->buffer.direction = IIO_BUFFER_DIRECTION_IN;
	b->buffer.length = COHBUF_IIO_DEFAULT_LENGTH;
	return b;
}

/* Drops the reference cohbuf_iio_buffer_alloc() returned. */
void cohbuf_iio_buffer_put(struct cohbuf_iio_buffer *b)
{
	iio_buffer_put(&b->buffer);
}
