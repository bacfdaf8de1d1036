/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf importer: the stream engine's internal interfaces, shared by the
 * importer_stream*.c files only (the rest of the module sees the three
 * functions declared in importer.h).
 *
 * The files call one another only downwards:
 *   importer_stream.c (the object, its fd, ioctls, read, poll, lifetime)
 *     -> importer_stream_clock.c (when frames are due: hrtimer or ADVANCE)
 *       -> importer_stream_ring.c (ring mode: data area, control pages)
 *       -> importer_stream_queue.c (regions, fences, producing, records)
 *         -> importer_stream_out.c (what differs for output streams)
 *         -> importer_stream_gen.c (the payload function)
 *         -> importer_import.c (the shared dma-buf mapping)
 *
 * Lock order, outermost first:
 *   dma_resv locks -> queue_lock -> lock -> rec_lock -> fence and wait
 *   queue locks
 * cohbuf_imp_maps_lock (mapping a dma-buf) is taken before any of these,
 * and nothing is ever allocated with @lock held, because the producer
 * holds it inside its fence-signalling section.
 */
#ifndef COHBUF_IMPORTER_STREAM_H
#define COHBUF_IMPORTER_STREAM_H

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/cohbuf_stream.h>

#include "cohbuf_payload.h"	/* importer_stream_gen.c */

struct cohbuf_imp_import;
struct cohbuf_imp_ring;
struct dma_buf;

/*
 * A region a stream holds. From QUEUE until it is completed it is on the
 * stream's @held list and belongs to the device; its record is then
 * filled in and it moves to @done, where it belongs to user space until
 * DEQUEUE or read() frees it.
 */
struct cohbuf_imp_stream_region {
	struct list_head node;		/* in @held under lock, in @done
					 * under rec_lock
					 */
	struct cohbuf_imp_import *imp;	/* our reference: the mapping */
	u64 offset;
	u64 length;
	struct dma_fence *fence;	/* our reference; signalled when the
					 * region completes
					 */
	struct dma_fence **deps;	/* referenced: in-fence, and the
					 * dma-buf's fences at QUEUE
					 */
	unsigned int nr_deps;
	u64 deadline_ns;		/* CLOCK_MONOTONIC: completed with
					 * -ETIMEDOUT if still held then
					 */
	u32 filled;			/* frames written so far */
	u64 overruns;			/* the stream's count at completion */
	struct cohbuf_stream_record rec;	/* filled in on completion */
};

/* One stream; the file's private data. */
struct cohbuf_imp_stream {
	struct device *dev;		/* the importer device */
	struct cohbuf_imp_user *user;	/* charged with this stream */

	/* Parameters, fixed at creation. */
	u32 direction;
	u32 format;
	u32 channels;
	u32 rate_hz;
	u32 block_frames;
	u32 clock;
	u32 overrun;
	u32 watermark;
	u32 sample_bytes;
	u32 frame_bytes;
	u64 context;			/* fence context of the regions */
	/* QUEUE's side */
	struct mutex queue_lock;	/* serialises QUEUE; protects seqno.
					 * Never taken by the producer, so a
					 * QUEUE may allocate under it.
					 */
	u64 seqno;			/* last fence seqno handed out */
	u64 last_deadline_ns;		/* of the last region queued */
	/* the device's side */
	struct mutex lock;		/* the device: protects @held, @active,
					 * the clock fields and the loss run;
					 * held by the producer across a whole
					 * production, in its fence-signalling
					 * section
					 */
	struct list_head held;		/* regions queued, in queue order;
					 * @active first if set
					 */
	struct cohbuf_imp_stream_region *active;	/* being filled */
	u64 run_start_ns;		/* HRTIMER: START time; MANUAL: the
					 * current ADVANCE's time
					 */
	u64 run_start_frame;		/* frame index at START */
	u64 lost_run;			/* frames lost since the last filled
					 * region ended, for the next record
					 */
	bool losing;			/* the last frame was lost */
	u64 next_sequence;		/* of the next record */
	/* the records' side, and what STATS and poll() read */
	spinlock_t rec_lock;		/* protects @done, @state and the
					 * counters; @state is also read
					 * locklessly by the timer
					 */
	struct list_head done;		/* completed regions, in order */
	u32 state;			/* COHBUF_STREAM_STATE_* */
	u64 acked_overruns;		/* @overruns that STATS or a record
					 * reported: EPOLLPRI while fewer
					 */
	u32 nr_held;
	u32 nr_done;
	u64 produced;
	u64 delivered;
	u64 lost;
	u64 in_flight;
	u64 overruns;
	u64 records;
	u64 timeouts;
	u64 mismatched;			/* output: samples read that differ
					 * from the payload
					 */
	wait_queue_head_t wq;		/* records and state changes */

	struct hrtimer timer;		/* HRTIMER clock: queues @work */
	u64 period_ns;
	struct work_struct work;	/* produces the frames due */
	struct delayed_work timeout;	/* times out the oldest held region;
					 * pending, or running, whenever
					 * @held is not empty
					 */
	struct cohbuf_imp_ring *ring;	/* ring mode, else NULL; set at
					 * creation
					 */
};

/* importer_stream_clock.c */
void cohbuf_imp_stream_clock_init(struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_clock_start(struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_clock_catch_up(struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_clock_sync(struct cohbuf_imp_stream *s);
int cohbuf_imp_stream_advance(struct cohbuf_imp_stream *s, u64 frames);
void cohbuf_imp_stream_timeout_arm(struct cohbuf_imp_stream *s,
				   u64 deadline_ns);
int cohbuf_imp_stream_clock_init_wq(void);
void cohbuf_imp_stream_clock_exit_wq(void);

/* importer_stream_queue.c */
void cohbuf_imp_stream_queue_init(struct cohbuf_imp_stream *s);
struct sync_file;
int cohbuf_imp_stream_queue(struct cohbuf_imp_stream *s,
			    const struct cohbuf_stream_queue_data *d,
			    struct sync_file **sync, u64 *deadline_ns);
u64 cohbuf_imp_stream_produce(struct cohbuf_imp_stream *s, u64 frames);
void cohbuf_imp_stream_flush(struct cohbuf_imp_stream *s);
u64 cohbuf_imp_stream_expire(struct cohbuf_imp_stream *s, u64 now);
struct cohbuf_imp_stream_region *
cohbuf_imp_stream_pop(struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_region_free(struct cohbuf_imp_stream_region *r);
u32 cohbuf_imp_stream_state(struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_set_state(struct cohbuf_imp_stream *s, u32 state);
u64 cohbuf_imp_stream_frame_ns(const struct cohbuf_imp_stream *s, u64 i);
void cohbuf_imp_stream_lose(struct cohbuf_imp_stream *s, u64 n);
void cohbuf_imp_stream_stop_overrun(struct cohbuf_imp_stream *s);

/* importer_stream_ring.c */
int cohbuf_imp_ring_check(const struct cohbuf_stream_create_data *d,
			  u32 frame_bytes);
int cohbuf_imp_ring_create(struct cohbuf_imp_stream *s,
			   const struct cohbuf_stream_create_data *d);
void cohbuf_imp_ring_destroy(struct cohbuf_imp_stream *s);
u64 cohbuf_imp_ring_produce(struct cohbuf_imp_stream *s, u64 frames);
void cohbuf_imp_ring_flush(struct cohbuf_imp_stream *s);
__poll_t cohbuf_imp_ring_poll(struct cohbuf_imp_stream *s);
struct vm_area_struct;
int cohbuf_imp_ring_mmap(struct cohbuf_imp_stream *s,
			 struct vm_area_struct *vma);

/* importer_stream_out.c */
int cohbuf_imp_stream_out_check(const struct cohbuf_stream_create_data *d);
int cohbuf_imp_stream_access(const struct cohbuf_imp_stream *s,
			     const struct dma_buf *dmabuf);
enum dma_resv_usage cohbuf_imp_stream_fence_usage(const struct cohbuf_imp_stream *s);
enum dma_resv_usage cohbuf_imp_stream_dep_usage(const struct cohbuf_imp_stream *s);
void cohbuf_imp_stream_out_consume(struct cohbuf_imp_stream *s,
				   struct cohbuf_imp_stream_region *r,
				   const void *src, u32 frames);

/* importer_stream_gen.c (cohbuf_imp_stream_generate(): cohbuf_payload.h) */
u32 cohbuf_imp_stream_word(u64 frame, u32 channel, u32 format);

#endif /* COHBUF_IMPORTER_STREAM_H */
