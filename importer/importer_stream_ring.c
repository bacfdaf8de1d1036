// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: a stream in ring mode - one circular data area in a
 * dma-buf, two control pages user space maps, in-band block, gap and pad
 * records, as "cohbuf stream ring" in linux/cohbuf_stream.h describes
 * them. The stream file (importer_stream.c) calls the creation, mmap,
 * poll, flush and teardown here; the clock file calls
 * cohbuf_imp_ring_produce() instead of the queue file's producer for a
 * ring stream. Calls the queue file's loss and timestamp helpers, the
 * payload function and the import file (the data area's mapping and
 * its cache maintenance: every record and frame is written to memory).
 *
 * The device's state of the ring is under the stream's lock, like a queue
 * stream's regions: the position of the block being written, its frames
 * and its header. @head and @need_wakeup are also under rec_lock, because
 * poll() reads them there: the producer publishes a block and decides on
 * a wake-up under rec_lock, poll() arms the wake-up under it, so that a
 * wake-up is never lost between the two.
 *
 * User space can write anything into the consumer page and the data area
 * at any time. The device reads nothing back from the data area, and the
 * tail only once per block, checks it, and uses the checked copy.
 *
 * A ring stream publishes no fence (see "Implicit sync" in the uapi), so
 * producing is not a fence-signalling section.
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <asm/barrier.h>

#include <cohbuf_compat.h>
#include "importer.h"
#include "importer_stream.h"

static_assert(sizeof(struct cohbuf_ring_block) == COHBUF_RING_BLOCK_SIZE_VER0);
static_assert(sizeof(struct cohbuf_ring_gap) == COHBUF_RING_GAP_SIZE_VER0);
static_assert(sizeof(struct cohbuf_ring_producer) <= PAGE_SIZE);
static_assert(offsetofend(struct cohbuf_stream_create_data, ring_length) ==
	      COHBUF_STREAM_CREATE_DATA_SIZE_VER1);

/* Frames written between two cond_resched() calls, at most. */
#define COHBUF_IMP_RING_STEP	SZ_64K

struct cohbuf_imp_ring {
	struct cohbuf_imp_import *imp;	/* our reference: the mapping */
	u8 *data;			/* the data area in the kernel mapping */
	u64 offset;			/* of the data area in the dma-buf */
	u64 length;
	u32 flags;			/* COHBUF_STREAM_RING_* */
	u32 record_bytes;
	u32 watermark_bytes;
	struct page *pages[COHBUF_RING_CONTROL_PAGES];
	struct cohbuf_ring_consumer *cons;	/* user space writes it */
	struct cohbuf_ring_producer *prod;	/* user space reads it */
	/* Under the stream's lock; @head and @need_wakeup also rec_lock. */
	u64 head;			/* published */
	u64 tail;			/* the last valid tail read */
	u64 block;			/* position of the block being written */
	u64 end;			/* where the head goes when it is done */
	bool writing;			/* a block is being written */
	bool need_wakeup;		/* a poll() waits for the watermark */
	u32 filled;			/* frames in the block so far */
	struct cohbuf_ring_block hdr;	/* the block's header, written last */
};

static u64 cohbuf_imp_ring_offset(const struct cohbuf_imp_ring *rg, u64 pos)
{
	return pos % rg->length;
}

/* Bytes of one block record: its header and the block, aligned. */
static u64 cohbuf_imp_ring_record_bytes(const struct cohbuf_stream_create_data *d,
					u32 frame_bytes)
{
	return ALIGN(sizeof(struct cohbuf_ring_block) +
		     (u64)d->block_frames * frame_bytes, COHBUF_RING_ALIGN);
}

/**
 * cohbuf_imp_ring_check() - check the ring fields of STREAM_CREATE
 * @d: the argument; the other parameters are already checked
 * @frame_bytes: the size of a frame of the stream
 *
 * Return: 0 or -EINVAL.
 */
int cohbuf_imp_ring_check(const struct cohbuf_stream_create_data *d,
			  u32 frame_bytes)
{
	u64 rec = cohbuf_imp_ring_record_bytes(d, frame_bytes);

	if (d->mode != COHBUF_STREAM_MODE_RING)
		return d->ring_fd || d->ring_flags || d->ring_offset ||
		       d->ring_length ? -EINVAL : 0;
	if (d->ring_flags & ~COHBUF_STREAM_RING_FLAGS_MASK)
		return -EINVAL;
	if (d->ring_offset % COHBUF_RING_ALIGN ||
	    d->ring_length % COHBUF_RING_ALIGN)
		return -EINVAL;
	if (d->ring_flags & COHBUF_STREAM_RING_OVERWRITE) {
		if (d->ring_length < 2 * rec || d->ring_length % rec)
			return -EINVAL;
	} else if (d->ring_length < 2 * rec + sizeof(struct cohbuf_ring_gap)) {
		return -EINVAL;
	}
	if ((u64)d->watermark * rec > d->ring_length)
		return -EINVAL;
	return 0;
}

static void cohbuf_imp_ring_free(struct cohbuf_imp_ring *rg)
{
	unsigned int i;

	if (rg->imp)
		cohbuf_imp_import_put(rg->imp);
	for (i = 0; i < COHBUF_RING_CONTROL_PAGES; i++)
		if (rg->pages[i])
			__free_page(rg->pages[i]);
	kfree(rg);
}

/* The data area: mapped, inside the dma-buf, writable, idle. */
static int cohbuf_imp_ring_bind(struct cohbuf_imp_stream *s,
				struct cohbuf_imp_ring *rg,
				const struct cohbuf_stream_create_data *d)
{
	u64 end;

	rg->imp = cohbuf_imp_import_create(s->dev, d->ring_fd);
	if (IS_ERR(rg->imp)) {
		int ret = PTR_ERR(rg->imp);

		rg->imp = NULL;
		return ret;
	}
	if (check_add_overflow(d->ring_offset, d->ring_length, &end) ||
	    end > rg->imp->size)
		return -EINVAL;
	/* All fds of a dma-buf share the mode it was exported with. */
	if (!(rg->imp->dmabuf->file->f_mode & FMODE_WRITE))
		return -EACCES;
	if (!dma_resv_test_signaled(rg->imp->dmabuf->resv, DMA_RESV_USAGE_READ))
		return -EBUSY;
	rg->offset = d->ring_offset;
	rg->data = (u8 *)rg->imp->map.vaddr + d->ring_offset;
	return 0;
}

/**
 * cohbuf_imp_ring_create() - give a new stream its ring
 * @s: the stream, its parameters set, not yet visible to anyone
 * @d: the argument of STREAM_CREATE, checked by cohbuf_imp_ring_check()
 *
 * Return: 0, or a negative errno as listed in the uapi header, with
 * nothing left to undo.
 */
int cohbuf_imp_ring_create(struct cohbuf_imp_stream *s,
			   const struct cohbuf_stream_create_data *d)
{
	struct cohbuf_imp_ring *rg;
	unsigned int i;
	int ret;

	rg = kzalloc(sizeof(*rg), GFP_KERNEL_ACCOUNT);
	if (!rg)
		return -ENOMEM;
	for (i = 0; i < COHBUF_RING_CONTROL_PAGES; i++) {
		rg->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!rg->pages[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	ret = cohbuf_imp_ring_bind(s, rg, d);
	if (ret)
		goto err_free;
	rg->length = d->ring_length;
	rg->flags = d->ring_flags;
	rg->record_bytes = cohbuf_imp_ring_record_bytes(d, s->frame_bytes);
	rg->watermark_bytes = d->watermark * rg->record_bytes;
	rg->cons = page_address(rg->pages[COHBUF_RING_CONSUMER_PGOFF]);
	rg->prod = page_address(rg->pages[COHBUF_RING_PRODUCER_PGOFF]);
	rg->prod->sequence = s->next_sequence;
	rg->prod->length = rg->length;
	rg->prod->record_bytes = rg->record_bytes;
	rg->prod->watermark_bytes = rg->watermark_bytes;
	rg->prod->ring_flags = rg->flags;
	s->ring = rg;
	atomic64_inc(&cohbuf_imp_stats.stream_rings);
	return 0;

err_free:
	cohbuf_imp_ring_free(rg);
	return ret;
}

/**
 * cohbuf_imp_ring_destroy() - free a stream's ring, if it has one
 * @s: the stream, stopped and flushed, with no mapping of its fd left
 */
void cohbuf_imp_ring_destroy(struct cohbuf_imp_stream *s)
{
	if (!s->ring)
		return;
	cohbuf_imp_ring_free(s->ring);
	s->ring = NULL;
	atomic64_dec(&cohbuf_imp_stats.stream_rings);
}

/*
 * Under lock: read the consumer's tail. Return: false if it is not
 * between head - length and head; else true, with @rg->tail updated.
 */
static bool cohbuf_imp_ring_read_tail(struct cohbuf_imp_ring *rg)
{
	/* Pairs with the consumer's release store: its reads came first. */
	u64 tail = smp_load_acquire(&rg->cons->tail);

	if (tail > rg->head || rg->head - tail > rg->length)
		return false;
	rg->tail = tail;
	return true;
}

/* Where a record of @size bytes goes at @pos or later: after a pad, maybe. */
static u64 cohbuf_imp_ring_place(const struct cohbuf_imp_ring *rg, u64 pos,
				 u64 size)
{
	u64 left = rg->length - cohbuf_imp_ring_offset(rg, pos);

	return left < size ? pos + left : pos;
}

/*
 * The device writes @size bytes at @pos of the data area: to memory, not
 * to the CPU's caches, before the head covers them.
 */
static void cohbuf_imp_ring_put(struct cohbuf_imp_ring *rg, u64 pos,
				const void *rec, size_t size)
{
	u64 off = cohbuf_imp_ring_offset(rg, pos);

	cohbuf_imp_import_sync(rg->imp, rg->offset + off, size, false);
	memcpy(rg->data + off, rec, size);
	cohbuf_imp_import_sync(rg->imp, rg->offset + off, size, true);
}

/* A pad record from @pos to @end, if they differ. */
static void cohbuf_imp_ring_pad(struct cohbuf_imp_ring *rg, u64 pos, u64 end)
{
	struct cohbuf_ring_header pad = {
		.type = COHBUF_RING_REC_PAD,
		.size = end - pos,
	};

	if (end != pos)
		cohbuf_imp_ring_put(rg, pos, &pad, sizeof(pad));
}

/*
 * OVERWRITE: the block goes at @rg->block, where the data area's records
 * tile it; the record there (if the ring has wrapped) is written over:
 * raise @oldest past it first.
 */
static void cohbuf_imp_ring_overwrite(struct cohbuf_imp_ring *rg)
{
	u64 old;

	if (rg->end <= rg->length)
		return;
	old = rg->block - rg->length;
	/* A tail at or before it had not passed it, even a lapped one. */
	if (smp_load_acquire(&rg->cons->tail) <= old)
		WRITE_ONCE(rg->prod->overwritten, rg->prod->overwritten + 1);
	WRITE_ONCE(rg->prod->oldest, rg->end - rg->length);
	/* The consumer sees the new @oldest before any byte written over. */
	smp_wmb();
}

/*
 * Under lock: start a block at the head, after a gap record if frames
 * were lost since the last one. Return: false if it does not fit.
 */
static bool cohbuf_imp_ring_begin(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_ring *rg = s->ring;
	struct cohbuf_ring_gap gap = {
		.hdr.type = COHBUF_RING_REC_GAP,
		.hdr.size = sizeof(gap),
	};
	u64 gap_at = rg->head, pos = rg->head;

	if (s->lost_run) {
		gap_at = cohbuf_imp_ring_place(rg, pos, sizeof(gap));
		pos = gap_at + sizeof(gap);
	}
	rg->block = cohbuf_imp_ring_place(rg, pos, rg->record_bytes);
	rg->end = rg->block + rg->record_bytes;
	if (rg->flags & COHBUF_STREAM_RING_OVERWRITE) {
		cohbuf_imp_ring_overwrite(rg);
	} else if (!cohbuf_imp_ring_read_tail(rg) ||
		   rg->end - rg->tail > rg->length) {
		return false;
	}
	if (s->lost_run) {
		cohbuf_imp_ring_pad(rg, rg->head, gap_at);
		gap.first_lost = s->produced - s->lost_run;
		gap.lost = s->lost_run;
		cohbuf_imp_ring_put(rg, gap_at, &gap, sizeof(gap));
		pos = gap_at + sizeof(gap);
	} else {
		pos = rg->head;
	}
	cohbuf_imp_ring_pad(rg, pos, rg->block);
	memset(&rg->hdr, 0, sizeof(rg->hdr));
	rg->hdr.hdr.type = COHBUF_RING_REC_BLOCK;
	rg->hdr.hdr.size = rg->record_bytes;
	rg->hdr.lost_before = s->lost_run;
	if (s->lost_run)
		rg->hdr.flags = COHBUF_STREAM_REC_DISCONTINUITY;
	s->lost_run = 0;
	s->losing = false;
	rg->filled = 0;
	rg->writing = true;
	return true;
}

/* Under lock or rec_lock (both guard @head): bytes the consumer has to read. */
static u64 cohbuf_imp_ring_avail(const struct cohbuf_imp_ring *rg)
{
	u64 tail = READ_ONCE(rg->cons->tail);

	if (rg->flags & COHBUF_STREAM_RING_OVERWRITE)
		tail = max(tail, READ_ONCE(rg->prod->oldest));
	return tail <= rg->head ? rg->head - tail : 0;
}

/* Under lock: write the block's header and move the head past it. */
static void cohbuf_imp_ring_publish(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_ring *rg = s->ring;

	rg->hdr.frames = rg->filled;
	rg->hdr.sequence = s->next_sequence++;
	cohbuf_imp_ring_put(rg, rg->block, &rg->hdr, sizeof(rg->hdr));
	rg->writing = false;

	spin_lock(&s->rec_lock);
	rg->head = rg->end;
	/* The records reach the consumer before the head that covers them. */
	smp_store_release(&rg->prod->head, rg->head);
	WRITE_ONCE(rg->prod->sequence, s->next_sequence);
	s->records++;
	s->delivered += rg->filled;
	s->in_flight -= rg->filled;
	if (rg->need_wakeup &&
	    cohbuf_imp_ring_avail(rg) >= rg->watermark_bytes) {
		rg->need_wakeup = false;
		WRITE_ONCE(rg->prod->need_wakeup, 0);
		WRITE_ONCE(rg->prod->wakeups, rg->prod->wakeups + 1);
		wake_up_all(&s->wq);
	}
	spin_unlock(&s->rec_lock);
}

/* Write @n frames into the block, which has room for them. */
static void cohbuf_imp_ring_fill(struct cohbuf_imp_stream *s, u32 n)
{
	struct cohbuf_imp_ring *rg = s->ring;
	u64 off = cohbuf_imp_ring_offset(rg, rg->block) + sizeof(rg->hdr) +
		  (u64)rg->filled * s->frame_bytes;
	u64 len = (u64)n * s->frame_bytes;

	if (!rg->filled) {
		rg->hdr.first_frame = s->produced;
		rg->hdr.first_ns = cohbuf_imp_stream_frame_ns(s, s->produced);
	}
	/* As cohbuf_imp_ring_put(): the frames go to memory. */
	cohbuf_imp_import_sync(rg->imp, rg->offset + off, len, false);
	cohbuf_imp_stream_generate(rg->data + off, s->produced, n, s->channels,
				   s->format);
	cohbuf_imp_import_sync(rg->imp, rg->offset + off, len, true);
	rg->hdr.last_ns = cohbuf_imp_stream_frame_ns(s, s->produced + n - 1);
	rg->filled += n;
	spin_lock(&s->rec_lock);
	s->produced += n;
	s->in_flight += n;
	spin_unlock(&s->rec_lock);
	if (rg->filled == s->block_frames)
		cohbuf_imp_ring_publish(s);
}

/**
 * cohbuf_imp_ring_produce() - the device writes the next frames
 * @s: a ring stream, running; the caller holds its lock
 * @frames: how many
 *
 * A block that finds no room is lost whole (DROP) or stops the stream
 * before its first frame (STOP).
 *
 * Return: @frames, or fewer if the STOP policy stopped the stream.
 */
u64 cohbuf_imp_ring_produce(struct cohbuf_imp_stream *s, u64 frames)
{
	struct cohbuf_imp_ring *rg = s->ring;
	u32 step = max_t(u32, COHBUF_IMP_RING_STEP / s->frame_bytes, 1);
	u64 done = 0, n;

	lockdep_assert_held(&s->lock);
	while (done < frames) {
		if (!rg->writing && !cohbuf_imp_ring_begin(s)) {
			if (s->overrun == COHBUF_STREAM_OVERRUN_STOP) {
				cohbuf_imp_stream_stop_overrun(s);
				break;
			}
			n = min_t(u64, frames - done, s->block_frames);
			cohbuf_imp_stream_lose(s, n);
			WRITE_ONCE(rg->prod->lost, rg->prod->lost + n);
		} else {
			n = min_t(u64, frames - done,
				  min(s->block_frames - rg->filled, step));
			cohbuf_imp_ring_fill(s, n);
		}
		done += n;
		cond_resched();
	}
	return done;
}

/**
 * cohbuf_imp_ring_flush() - publish the block being written, if any
 * @s: a ring stream, not running; the caller holds its lock
 */
void cohbuf_imp_ring_flush(struct cohbuf_imp_stream *s)
{
	lockdep_assert_held(&s->lock);
	if (s->ring->writing)
		cohbuf_imp_ring_publish(s);
}

/**
 * cohbuf_imp_ring_poll() - the EPOLLIN part of poll() for a ring stream
 * @s: the stream; the caller holds rec_lock
 *
 * Below the watermark, arms the device's wake-up.
 *
 * Return: EPOLLIN | EPOLLRDNORM or 0.
 */
__poll_t cohbuf_imp_ring_poll(struct cohbuf_imp_stream *s)
{
	struct cohbuf_imp_ring *rg = s->ring;
	u64 avail = cohbuf_imp_ring_avail(rg);

	lockdep_assert_held(&s->rec_lock);
	if (avail >= rg->watermark_bytes ||
	    (avail && s->state != COHBUF_STREAM_STATE_RUNNING))
		return EPOLLIN | EPOLLRDNORM;
	rg->need_wakeup = true;
	WRITE_ONCE(rg->prod->need_wakeup, 1);
	return 0;
}

/**
 * cohbuf_imp_ring_mmap() - map control pages of a ring stream
 * @s: the stream
 * @vma: the new mapping: shared, within the two pages, writable only if
 *	it covers the consumer page alone
 *
 * Return: 0, -ENODEV for a queue stream, -EINVAL, -EACCES, or an error of
 * remap_pfn_range().
 */
int cohbuf_imp_ring_mmap(struct cohbuf_imp_stream *s,
			 struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma), i;
	bool producer;
	int ret;

	if (!s->ring)
		return -ENODEV;
	if (!(vma->vm_flags & VM_SHARED) ||
	    vma->vm_pgoff >= COHBUF_RING_CONTROL_PAGES ||
	    pages > COHBUF_RING_CONTROL_PAGES - vma->vm_pgoff)
		return -EINVAL;
	producer = vma->vm_pgoff + pages > COHBUF_RING_PRODUCER_PGOFF;
	if (producer && (vma->vm_flags & VM_WRITE))
		return -EACCES;
	cohbuf_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP,
			    producer ? VM_MAYWRITE : 0);
	for (i = 0; i < pages; i++) {
		ret = remap_pfn_range(vma, vma->vm_start + i * PAGE_SIZE,
				      page_to_pfn(s->ring->pages[vma->vm_pgoff + i]),
				      PAGE_SIZE, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
}
