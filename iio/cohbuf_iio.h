/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_iio: the importer's simulated ADC as an IIO device, its internal
 * interfaces. The files call one another only downwards:
 *   cohbuf_iio_main.c (module, platform device, IIO device, channels,
 *                      sampling_frequency, the clock's sysfs knobs)
 *     -> cohbuf_iio_clock.c (when frames are due: hrtimer or advance)
 *       -> cohbuf_iio_buffer.c (the IIO buffer: ring, read(), counters)
 *         -> cohbuf_iio_dmabuf.c (its DMABUF queue, 6.12 and later)
 *           -> cohbuf_iio_fill_scan() -> cohbuf_imp_stream_generate()
 *              (cohbuf_importer.ko's payload)
 *
 * There is one producer at a time: the hrtimer's callback, or (manual
 * clock) cohbuf_iio_clock_advance() under @lock; the clock cannot change
 * while the buffer is enabled. Lock order, outermost first: the IIO
 * core's device lock -> cohbuf_iio @lock -> the buffer's @read_lock ->
 * its @count_lock; a dma-buf's reservation lock -> the buffer's
 * @queue_lock; @queue_lock -> a dma_fence's lock.
 */
#ifndef COHBUF_IIO_H
#define COHBUF_IIO_H

#include <linux/bitops.h>
#include <linux/hrtimer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <linux/cohbuf_stream.h>

#include "cohbuf_payload.h"

/* At most this many channels, the stream engine's limit too. */
#define COHBUF_IIO_MAX_CHANNELS		16
#define COHBUF_IIO_MIN_RATE_HZ		1
#define COHBUF_IIO_MAX_RATE_HZ		1000000
/* The hrtimer fires at least this far apart, with several frames per tick. */
#define COHBUF_IIO_MIN_TICK_NS		(1 * NSEC_PER_MSEC)

/**
 * struct cohbuf_iio_buffer - the device's IIO buffer
 * @buffer: the IIO core's part (its refcount is this object's lifetime)
 * @read_lock: serialises readers; protects @tail's updates and the slots
 *	between @tail and @head while they are copied out
 * @count_lock: protects @produced and @lost (the producer updates them,
 *	sysfs reads them)
 * @data: @frames slots of @frame_bytes, allocated by request_update
 * @frames: capacity in frames: the buffer's length
 * @frame_bytes: bytes of one scan: the buffer's bytes_per_datum
 * @head: frames stored since enable (written by the producer with release)
 * @tail: frames read since enable (written by readers with release)
 * @produced: frames the device produced since the buffer was enabled
 * @lost: of those, frames dropped because the buffer was full (read
 *	path) or found no enqueued block (DMABUF path)
 * @queue_lock: protects @queue, @queued, @attached, @enabled, @dmabuf_mode
 *	and the @entry and @queued of every block (cohbuf_iio_dmabuf.c)
 * @queue: the enqueued DMABUF blocks, oldest (being filled) first
 * @queued: blocks on @queue
 * @attached: DMABUFs attached to the buffer
 * @enabled: between the buffer's enable and disable
 * @dmabuf_mode: enabled with DMABUFs attached: frames go to @queue, and
 *	read() fails with EBUSY
 */
struct cohbuf_iio_buffer {
	struct iio_buffer buffer;
	struct mutex read_lock;		/* protects @tail, see above */
	spinlock_t count_lock;		/* protects @produced, @lost */
	u8 *data;
	u32 frames;
	u32 frame_bytes;
	u64 head;
	u64 tail;
	u64 produced;
	u64 lost;
	spinlock_t queue_lock;		/* protects @queue, see above */
	struct list_head queue;
	u32 queued;
	u32 attached;
	bool enabled;
	bool dmabuf_mode;
};

/**
 * struct cohbuf_iio - the device (iio_priv() of its iio_dev)
 * @indio_dev: the IIO device this is the private part of
 * @buf: its one buffer
 * @channels: number of in_voltageN channels
 * @lock: protects @rate_hz, @manual and @running, and serialises
 *	cohbuf_iio_clock_advance()
 * @rate_hz: sampling_frequency
 * @manual: the clock is the cohbuf_advance attribute, not the hrtimer
 * @running: the buffer is enabled: frames are produced
 * @start_ns: CLOCK_MONOTONIC when the buffer was enabled (timer clock)
 * @next_frame: index of the next frame the device produces; the
 *	producer's (see above), reset while stopped
 * @timer: the sample clock
 */
struct cohbuf_iio {
	struct iio_dev *indio_dev;
	struct cohbuf_iio_buffer *buf;
	u32 channels;
	struct mutex lock;		/* protects the clock's settings */
	u32 rate_hz;
	bool manual;
	bool running;
	u64 start_ns;
	u64 next_frame;
	struct hrtimer timer;
};

/* cohbuf_iio_clock.c */
void cohbuf_iio_clock_init(struct cohbuf_iio *ci);
int cohbuf_iio_clock_start(struct cohbuf_iio *ci);
void cohbuf_iio_clock_stop(struct cohbuf_iio *ci);
int cohbuf_iio_clock_advance(struct cohbuf_iio *ci, u64 frames);

/*
 * One scan as IIO lays it out: the enabled channels (@scan_mask) of frame
 * @frame in scan-index order, 16 bits each (no timestamp channel). The
 * read path and the DMABUF path both write scans with it.
 */
static inline void cohbuf_iio_fill_scan(const long *scan_mask, __le16 *scan,
					u64 frame, u32 channels)
{
	__le16 all[COHBUF_IIO_MAX_CHANNELS];
	unsigned int c, i = 0;

	cohbuf_imp_stream_generate(all, frame, 1, channels,
				   COHBUF_STREAM_FMT_ADC12);
	for_each_set_bit(c, (const unsigned long *)scan_mask, channels)
		scan[i++] = all[c];
}

/* cohbuf_iio_dmabuf.c, or nothing where the kernel has no DMABUF path */
#ifdef COHBUF_IIO_DMABUF
struct iio_dma_buffer_block *
cohbuf_iio_attach_dmabuf(struct iio_buffer *buffer,
			 struct dma_buf_attachment *attach);
void cohbuf_iio_detach_dmabuf(struct iio_buffer *buffer,
			      struct iio_dma_buffer_block *block);
int cohbuf_iio_enqueue_dmabuf(struct iio_buffer *buffer,
			      struct iio_dma_buffer_block *block,
			      struct dma_fence *fence, struct sg_table *sgt,
			      size_t size, bool cyclic);
u32 cohbuf_iio_dmabuf_produce(struct cohbuf_iio_buffer *b, u64 first_frame,
			      u32 frames, u32 channels);
void cohbuf_iio_dmabuf_abort(struct cohbuf_iio_buffer *b);
#endif

/* cohbuf_iio_buffer.c */
struct cohbuf_iio_buffer *cohbuf_iio_buffer_alloc(void);
void cohbuf_iio_buffer_put(struct cohbuf_iio_buffer *b);
void cohbuf_iio_buffer_produce(struct cohbuf_iio_buffer *b, u64 first_frame,
			       u32 frames, u32 channels);

#endif /* COHBUF_IIO_H */
