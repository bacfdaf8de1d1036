/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_iio: the importer's simulated ADC as an IIO device, its internal
 * interfaces. The files call one another only downwards:
 *   cohbuf_iio_main.c (module, platform device, IIO device, channels,
 *                      sampling_frequency, the clock's sysfs knobs)
 *     -> cohbuf_iio_clock.c (when frames are due: hrtimer or advance)
 *       -> cohbuf_iio_buffer.c (the IIO buffer: ring, read(), counters)
 *         -> cohbuf_imp_stream_generate() (cohbuf_importer.ko's payload)
 *
 * There is one producer at a time: the hrtimer's callback, or (manual
 * clock) cohbuf_iio_clock_advance() under @lock; the clock cannot change
 * while the buffer is enabled. Lock order, outermost first: the IIO
 * core's device lock -> cohbuf_iio @lock -> the buffer's @read_lock ->
 * its @count_lock.
 */
#ifndef COHBUF_IIO_H
#define COHBUF_IIO_H

#include <linux/hrtimer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

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
 * @lost: of those, frames dropped because the buffer was full
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

/* cohbuf_iio_buffer.c */
struct cohbuf_iio_buffer *cohbuf_iio_buffer_alloc(void);
void cohbuf_iio_buffer_put(struct cohbuf_iio_buffer *b);
void cohbuf_iio_buffer_produce(struct cohbuf_iio_buffer *b, u64 first_frame,
			       u32 frames, u32 channels);

#endif /* COHBUF_IIO_H */
