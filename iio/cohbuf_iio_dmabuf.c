// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_iio: the buffer's DMABUF queue (IIO_BUFFER_DMABUF_ATTACH, DETACH
 * and ENQUEUE on the buffer fd, where the kernel has them: 6.12 and later).
 *
 * The IIO core does the user-space side: it attaches the dma-buf to the
 * device's parent and maps it DMA_FROM_DEVICE (an input buffer), and for
 * each ENQUEUE it puts a new WRITE fence on the dma-buf and hands the
 * block, the fence and bytes_used to this file. Here a block is the
 * dma-buf's kernel mapping and its place in the queue: the clock's
 * frames fill the oldest enqueued block scan after scan, exactly as
 * read() would have returned them, and a full block is completed with
 * iio_buffer_signal_dmabuf_done(), which signals that fence. Frames that
 * find no block are lost (cohbuf_iio_buffer.c counts them). A disable
 * completes the blocks still enqueued with EINTR.
 *
 * The device is the CPU writing through the dma-buf's kernel mapping;
 * where the parent device is not DMA-coherent (arm64 here), that write
 * must look like a device's to every other user of the memory: a block is
 * synced for the device when it is enqueued, and once written for the
 * device again (the CPU's writes reach memory) and then for the CPU (it
 * owns the block again), always in the mapping's own direction.
 *
 * A block's lifetime is the core's: it is created by attach and freed by
 * detach, which the core calls only once no enqueued fence refers to the
 * attachment any more, so a block on the queue is never freed. Each block
 * holds a reference on this module: while a DMABUF is attached, even by
 * a process that has exited with blocks enqueued, the module stays.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "cohbuf_compat.h"
#include "cohbuf_iio.h"

COHBUF_IMPORT_NS_DMA_BUF();

/**
 * DOC: cohbuf_iio DMABUF errors
 *
 * The ioctls on the buffer fd fail as the IIO core defines it (its
 * checks first, then this buffer's), with:
 *
 * ``EBADF``
 *	ATTACH, DETACH or ENQUEUE of a number that is not an open fd.
 *
 * ``EINVAL``
 *	the fd is not a dma-buf; ENQUEUE with ``bytes_used`` 0 or beyond the
 *	dma-buf's size, with less than one scan of the enabled channels, or
 *	with flags other than ``IIO_BUFFER_DMABUF_CYCLIC``, or with it (this
 *	is an input buffer); write() on the buffer fd (an input buffer), and
 *	read() of less than one scan. A block enqueued with ``bytes_used``
 *	that no longer holds one scan when it is filled (the channels changed)
 *	is completed with this error on its fence.
 *
 * ``EPERM``
 *	ENQUEUE or DETACH of a dma-buf that is not attached to this buffer.
 *
 * ``EBUSY``
 *	ATTACH of a dma-buf attached already, or while the buffer is enabled
 *	with none attached (for read()); ENQUEUE of a block whose previous
 *	enqueue has not completed (a non-blocking fd; a blocking one waits up
 *	to 5 s for the fence, then fails so); read() while a DMABUF is
 *	attached or the buffer is enabled for them (the two paths do not
 *	mix, as upstream's DMA buffers refuse file I/O then).
 *
 * ``EOPNOTSUPP``
 *	ATTACH of a dma-buf whose exporter has no kernel mapping in system
 *	memory for it (the simulated ADC writes through one).
 *
 * ``EINTR``
 *	not returned: the error on the fence of every block still enqueued
 *	when the buffer is disabled.
 *
 * DETACH of a block still enqueued succeeds: the block is filled and its
 * fence signalled as if it had not been detached, and released after.
 */

/**
 * struct cohbuf_iio_block - one attached DMABUF
 * @entry: in the buffer's @queue while enqueued (its @queue_lock)
 * @queued: on the queue (the buffer's @queue_lock)
 * @b: the buffer it is attached to
 * @dmabuf: the dma-buf (the core holds it while attached)
 * @dev: the device it is mapped for
 * @map: its kernel mapping, for the whole attachment
 * @sgt: the core's DMA mapping, set by each enqueue
 * @fence: the fence of the current enqueue, set by it
 * @bytes: bytes_used of the current enqueue
 * @filled: scans written since the current enqueue (the producer's)
 */
struct cohbuf_iio_block {
	struct list_head entry;
	bool queued;
	struct cohbuf_iio_buffer *b;
	struct dma_buf *dmabuf;
	struct device *dev;
	struct iosys_map map;
	struct sg_table *sgt;
	struct dma_fence *fence;
	size_t bytes;
	size_t filled;
};

/*
 * The core passes blocks as an opaque struct iio_dma_buffer_block pointer
 * (the type of upstream's DMA buffers, never dereferenced by the core).
 */
static struct iio_dma_buffer_block *to_iio_block(struct cohbuf_iio_block *blk)
{
	return (struct iio_dma_buffer_block *)blk;
}

static struct cohbuf_iio_block *to_block(struct iio_dma_buffer_block *block)
{
	return (struct cohbuf_iio_block *)block;
}

static struct cohbuf_iio_buffer *to_cbuf(struct iio_buffer *buffer)
{
	return container_of(buffer, struct cohbuf_iio_buffer, buffer);
}

/* Syncs @blk's mapping for @for_device or the CPU where the device needs it. */
static void cohbuf_iio_block_sync(struct cohbuf_iio_block *blk, bool for_device)
{
	struct scatterlist *sg;
	bool need = false;
	unsigned int i;

	for_each_sgtable_dma_sg(blk->sgt, sg, i)
		need |= dma_need_sync(blk->dev, sg_dma_address(sg));
	if (!need)
		return;
	if (for_device)
		dma_sync_sgtable_for_device(blk->dev, blk->sgt, DMA_FROM_DEVICE);
	else
		dma_sync_sgtable_for_cpu(blk->dev, blk->sgt, DMA_FROM_DEVICE);
}

/**
 * cohbuf_iio_attach_dmabuf() - the core attached a dma-buf to the buffer
 * @buffer: the buffer
 * @attach: the attachment, mapped by the core
 *
 * Called with the dma-buf's reservation lock held.
 *
 * Return: the new block, or an ERR_PTR(): -ENOMEM; -EOPNOTSUPP if the
 * dma-buf has no kernel mapping in system memory; -EBUSY if the buffer is
 * enabled for read() (as upstream refuses DMABUFs in file-I/O mode);
 * -ENODEV if the module is going away; the exporter's vmap error.
 */
struct iio_dma_buffer_block *
cohbuf_iio_attach_dmabuf(struct iio_buffer *buffer,
			 struct dma_buf_attachment *attach)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	struct cohbuf_iio_block *blk;
	unsigned long irqflags;
	int ret;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return ERR_PTR(-ENOMEM);
	blk->b = b;
	blk->dmabuf = attach->dmabuf;
	blk->dev = attach->dev;
	INIT_LIST_HEAD(&blk->entry);

	ret = dma_buf_vmap(blk->dmabuf, &blk->map);
	if (ret)
		goto err_free;
	ret = -EOPNOTSUPP;
	if (blk->map.is_iomem)
		goto err_vunmap;
	ret = -ENODEV;
	if (!try_module_get(THIS_MODULE))
		goto err_vunmap;

	ret = 0;
	spin_lock_irqsave(&b->queue_lock, irqflags);
	if (b->enabled && !b->dmabuf_mode)
		ret = -EBUSY;
	else
		b->attached++;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	if (ret)
		goto err_module_put;
	return to_iio_block(blk);

err_module_put:
	module_put(THIS_MODULE);
err_vunmap:
	dma_buf_vunmap(blk->dmabuf, &blk->map);
err_free:
	kfree(blk);
	return ERR_PTR(ret);
}

/**
 * cohbuf_iio_detach_dmabuf() - the core dropped its last use of a block
 * @buffer: the buffer
 * @block: the block, not enqueued
 *
 * Called without the reservation lock, in process context.
 */
void cohbuf_iio_detach_dmabuf(struct iio_buffer *buffer,
			      struct iio_dma_buffer_block *block)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	struct cohbuf_iio_block *blk = to_block(block);
	unsigned long irqflags;

	WARN_ON_ONCE(blk->queued);
	cohbuf_dma_buf_vunmap_unlocked(blk->dmabuf, &blk->map);
	spin_lock_irqsave(&b->queue_lock, irqflags);
	b->attached--;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	kfree(blk);
	module_put(THIS_MODULE);
}

/**
 * cohbuf_iio_enqueue_dmabuf() - the core enqueues a block
 * @buffer: the buffer
 * @block: the block
 * @fence: the fence the core put on the dma-buf, to signal when written
 * @sgt: the attachment's DMA mapping
 * @size: bytes_used: at most the dma-buf's size, not 0
 * @cyclic: only for output buffers (the core refuses it here)
 *
 * Called inside a fence-signalling section: allocates nothing and takes
 * no sleeping lock. On an error the core signals @fence with it.
 *
 * Return: 0; -EINVAL if @size holds no whole scan of the channels enabled
 * (as last configured; checked again when the block is filled) or
 * @cyclic; -EBUSY if the block is enqueued already.
 */
int cohbuf_iio_enqueue_dmabuf(struct iio_buffer *buffer,
			      struct iio_dma_buffer_block *block,
			      struct dma_fence *fence, struct sg_table *sgt,
			      size_t size, bool cyclic)
{
	struct cohbuf_iio_buffer *b = to_cbuf(buffer);
	struct cohbuf_iio_block *blk = to_block(block);
	unsigned long irqflags;
	int ret = 0;

	if (cyclic || size < buffer->bytes_per_datum)
		return -EINVAL;

	spin_lock_irqsave(&b->queue_lock, irqflags);
	if (blk->queued) {
		ret = -EBUSY;
	} else {
		blk->sgt = sgt;
		blk->fence = fence;
		blk->bytes = size;
		blk->filled = 0;
		blk->queued = true;
		list_add_tail(&blk->entry, &b->queue);
		b->queued++;
	}
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	if (!ret)
		cohbuf_iio_block_sync(blk, true);
	return ret;
}

/*
 * Takes @blk off the queue and completes it with @err. The core may free
 * the block as soon as its fence is signalled: it is not touched after.
 */
static void cohbuf_iio_block_done(struct cohbuf_iio_buffer *b,
				  struct cohbuf_iio_block *blk, int err)
{
	struct dma_fence *fence;
	unsigned long irqflags;

	spin_lock_irqsave(&b->queue_lock, irqflags);
	list_del_init(&blk->entry);
	blk->queued = false;
	b->queued--;
	fence = blk->fence;
	blk->fence = NULL;
	spin_unlock_irqrestore(&b->queue_lock, irqflags);

	/* The device's writes reach memory; the CPU owns the block again. */
	cohbuf_iio_block_sync(blk, true);
	cohbuf_iio_block_sync(blk, false);
	iio_buffer_signal_dmabuf_done(fence, err);
}

static struct cohbuf_iio_block *cohbuf_iio_queue_head(struct cohbuf_iio_buffer *b)
{
	struct cohbuf_iio_block *blk;
	unsigned long irqflags;

	spin_lock_irqsave(&b->queue_lock, irqflags);
	blk = list_first_entry_or_null(&b->queue, struct cohbuf_iio_block, entry);
	spin_unlock_irqrestore(&b->queue_lock, irqflags);
	return blk;
}

/**
 * cohbuf_iio_dmabuf_produce() - frames for the enqueued blocks
 * @b: the buffer, in DMABUF mode
 * @first_frame: index of the first frame
 * @frames: how many
 * @channels: the device's channel count
 *
 * Writes the scans into the oldest block, completes each block it fills
 * (whole scans: bytes_used rounded down) and goes on with the next.
 * Called by the one producer only, from any context; only the producer
 * takes blocks off the queue while the buffer is enabled, so the head
 * stays valid without the lock.
 *
 * Return: the frames written; the rest found no block.
 */
u32 cohbuf_iio_dmabuf_produce(struct cohbuf_iio_buffer *b, u64 first_frame,
			      u32 frames, u32 channels)
{
	size_t scan_bytes = b->frame_bytes;
	struct cohbuf_iio_block *blk;
	u32 done = 0;

	while (done < frames && (blk = cohbuf_iio_queue_head(b))) {
		size_t cap = scan_bytes ? blk->bytes / scan_bytes : 0;
		u32 n = min_t(size_t, frames - done, cap - blk->filled);
		u8 *dst = (u8 *)blk->map.vaddr + blk->filled * scan_bytes;
		u32 i;

		for (i = 0; i < n; i++)
			cohbuf_iio_fill_scan(b->buffer.scan_mask,
					     (__le16 *)(dst + i * scan_bytes),
					     first_frame + done + i, channels);
		blk->filled += n;
		done += n;
		/* A block the scans no longer fit (channels changed) fails. */
		if (blk->filled == cap)
			cohbuf_iio_block_done(b, blk, cap ? 0 : -EINVAL);
	}
	return done;
}

/**
 * cohbuf_iio_dmabuf_abort() - complete every enqueued block with EINTR
 * @b: the buffer, its producer stopped
 */
void cohbuf_iio_dmabuf_abort(struct cohbuf_iio_buffer *b)
{
	struct cohbuf_iio_block *blk;

	while ((blk = cohbuf_iio_queue_head(b)))
		cohbuf_iio_block_done(b, blk, -EINTR);
}
