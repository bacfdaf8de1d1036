// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: output streams (COHBUF_STREAM_DIR_OUTPUT), the
 * DAC-like direction, in queue mode. User space fills regions with the
 * payload and queues them; the device consumes one block per region at
 * the clock's pace, through the same mapping, regions, records and
 * counters as an input stream (importer_stream_queue.c), and differs
 * only where this file says:
 *  - the access a region needs (the device reads: a read-only dma-buf is
 *    fine);
 *  - implicit sync: the device's fence goes into the reservation object
 *    with DMA_RESV_USAGE_READ, and a region waits only for the writers'
 *    fences (KERNEL and WRITE usage) that were there at QUEUE, not for
 *    other readers;
 *  - what "producing" a frame does: the device reads it and compares
 *    every sample with the payload function (importer_stream_gen.c),
 *    counting the samples that differ.
 * A frame due while no ready region is there is an underrun, counted
 * exactly as an input stream's overrun. Called by importer_stream.c
 * (CREATE) and importer_stream_queue.c; calls importer_stream_gen.c.
 * Ring mode has no output direction (yet): CREATE refuses it.
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/spinlock.h>
#include <asm/byteorder.h>

#include "importer_stream.h"

/**
 * cohbuf_imp_stream_out_check() - the mode of an output stream
 * @d: CREATE's argument, its direction %COHBUF_STREAM_DIR_OUTPUT
 *
 * Return: 0, or -EOPNOTSUPP for a mode output streams lack.
 */
int cohbuf_imp_stream_out_check(const struct cohbuf_stream_create_data *d)
{
	return d->mode == COHBUF_STREAM_MODE_QUEUE ? 0 : -EOPNOTSUPP;
}

/**
 * cohbuf_imp_stream_access() - whether the device may use a dma-buf
 * @s: the stream
 * @dmabuf: the region's dma-buf
 *
 * All fds of a dma-buf share the mode it was exported with.
 *
 * Return: 0, or -EACCES if the dma-buf's mode lacks what the direction
 * needs: write for input, read for output.
 */
int cohbuf_imp_stream_access(const struct cohbuf_imp_stream *s,
			     const struct dma_buf *dmabuf)
{
	fmode_t need = s->direction == COHBUF_STREAM_DIR_OUTPUT ? FMODE_READ :
								  FMODE_WRITE;

	return dmabuf->file->f_mode & need ? 0 : -EACCES;
}

/**
 * cohbuf_imp_stream_fence_usage() - how the device uses a region
 * @s: the stream
 *
 * Return: the usage its fence goes into the reservation object with.
 */
enum dma_resv_usage cohbuf_imp_stream_fence_usage(const struct cohbuf_imp_stream *s)
{
	return s->direction == COHBUF_STREAM_DIR_OUTPUT ? DMA_RESV_USAGE_READ :
							  DMA_RESV_USAGE_WRITE;
}

/**
 * cohbuf_imp_stream_dep_usage() - which fences a region waits for
 * @s: the stream
 *
 * A writer waits for everyone; a reader for the writers only.
 *
 * Return: the usage to collect the reservation object's fences with.
 */
enum dma_resv_usage cohbuf_imp_stream_dep_usage(const struct cohbuf_imp_stream *s)
{
	return s->direction == COHBUF_STREAM_DIR_OUTPUT ? DMA_RESV_USAGE_WRITE :
							  DMA_RESV_USAGE_READ;
}

/* Samples of @frames frames at @src that differ from the payload. */
static u32 cohbuf_imp_stream_out_compare(const struct cohbuf_imp_stream *s,
					 const void *src, u64 first_frame,
					 u32 frames)
{
	const __le16 *p16 = src;
	const __le32 *p32 = src;
	u32 f, c, w, bad = 0;

	for (f = 0; f < frames; f++) {
		for (c = 0; c < s->channels; c++) {
			if (s->format == COHBUF_STREAM_FMT_S32)
				w = le32_to_cpu(*p32++);
			else
				w = le16_to_cpu(*p16++);
			if (w != cohbuf_imp_stream_word(first_frame + f, c,
							s->format))
				bad++;
		}
	}
	return bad;
}

/**
 * cohbuf_imp_stream_out_consume() - the device plays the next frames
 * @s: the stream; the caller holds its lock, in a signalling section
 * @r: the region being consumed
 * @src: where its next frame is, in the mapping
 * @frames: how many frames to consume, which the region has
 *
 * Marks the region's record %COHBUF_STREAM_REC_MISMATCH if a sample
 * differs from the payload, and counts the samples that do in STATS.
 */
void cohbuf_imp_stream_out_consume(struct cohbuf_imp_stream *s,
				   struct cohbuf_imp_stream_region *r,
				   const void *src, u32 frames)
{
	u32 bad = cohbuf_imp_stream_out_compare(s, src, s->produced, frames);

	if (!bad)
		return;
	r->rec.flags |= COHBUF_STREAM_REC_MISMATCH;
	spin_lock(&s->rec_lock);
	s->mismatched += bad;
	spin_unlock(&s->rec_lock);
}
