/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf importer: streams from a simulated acquisition device, userspace API.
 */

/**
 * DOC: cohbuf stream uapi
 *
 * The importer device (linux/cohbuf_importer.h) has a stream engine: a
 * simulated acquisition device, such as an ADC, that writes a continuous
 * stream of samples into regions of dma-bufs which user space hands to it.
 *
 * %COHBUF_IMP_IOCTL_STREAM_CREATE, issued on an open /dev/cohbuf-importer,
 * creates a stream and returns a new file descriptor for it. Everything
 * else is done on that fd: %COHBUF_STREAM_IOCTL_QUEUE gives the device a
 * region to fill, %COHBUF_STREAM_IOCTL_START and %COHBUF_STREAM_IOCTL_STOP
 * run and halt the stream's clock, %COHBUF_STREAM_IOCTL_DEQUEUE and read()
 * return one completion record (&struct cohbuf_stream_record) per region,
 * in queue order, and %COHBUF_STREAM_IOCTL_STATS counts every frame. The
 * stream does not depend on the context it was created from: closing the
 * context leaves it running.
 *
 * Terms. A *sample* is one value of one channel; a *frame* is one sample
 * of every channel, channel 0 first (interleaved); a *block* is
 * @block_frames frames, the most the device writes into one region. Frame
 * indices count from 0 at creation over the stream's whole life, lost
 * frames included, so a gap in the indices of two records is exactly the
 * number of frames lost between them.
 *
 * Regions. The device takes the queued regions in queue order. A region is
 * *ready* once its in-fence and the fences that were in its dma-buf's
 * reservation object when it was queued (readers and writers: implicit
 * synchronisation) have signalled. When the device has a frame to write
 * and no region being filled, it takes the oldest queued region if that is
 * ready; a region is filled from its offset on, one block (@block_frames
 * frames) per region, and completed when the block is full or the stream
 * is stopped. The device never writes a region user space holds: a region
 * belongs to the device from QUEUE until its record is created, and to user
 * space after. When no ready region is there, the frame has nowhere to go
 * (an *overrun*): under %COHBUF_STREAM_OVERRUN_DROP it is lost and counted,
 * never written over anything; under %COHBUF_STREAM_OVERRUN_STOP the
 * stream stops before producing it (state %COHBUF_STREAM_STATE_OVERRUN).
 *
 * Fences. QUEUE adds a fence to the dma-buf's reservation object with
 * DMA_RESV_USAGE_WRITE, so that other drivers (an importer CHECKSUM job,
 * vgem, a GPU) wait for the device, and with %COHBUF_STREAM_QUEUE_OUT_FENCE
 * also returns it as a sync_file. The fences of a stream are on a timeline
 * of their own, numbered in queue order, and signal in that order, when
 * the region's record is created: without error for a region that was
 * filled (even partly), with -ECANCELED for one that the stream gave back
 * unfilled (STOP, close), with -ETIMEDOUT for one that reached its
 * deadline, with the in-fence's error if that failed. A fence signals just
 * before its record can be dequeued: a record dequeued means its fence
 * has signalled, but a signalled fence does not mean that a DEQUEUE
 * without waiting finds the record yet. Every fence a stream published
 * is signalled by the time its fd is closed.
 *
 * Bounded time. Every fence signals in bounded time, whatever user space
 * does: a region gets a deadline when it is queued, the importer's
 * ``stream_timeout_ms`` module parameter later (default 10000 ms, 100 to
 * 600000, read at each QUEUE; a region's deadline is never before the
 * previous region's). If the stream still holds the region then (stopped,
 * waiting for ADVANCE, or waiting for its dependencies) it gives it back
 * as STOP gives back the region being filled, with the frames written so
 * far, if any, but as an error: its record has %COHBUF_STREAM_REC_ERROR
 * and @status -ETIMEDOUT, its fence signals with -ETIMEDOUT, and STATS
 * counts it in @timeouts. No frame is dropped for that: frames already
 * written are delivered in the record. The regions after it keep their
 * own deadlines. A running HRTIMER stream holds a region for up to its
 * queue depth times the block period: a stream slower than that (deep
 * queues of long blocks) sees timeouts unless the parameter is raised.
 *
 * Clocks. %COHBUF_STREAM_CLOCK_HRTIMER produces frames at @rate_hz in
 * real time from START on: a timer fires once per block period, but no
 * more often than every millisecond, and a work item (not the timer's
 * interrupt) produces every frame due by then, so a frame is written about
 * a timer period after its time. A device that cannot keep up with
 * @rate_hz falls behind: its frames come late, they are not lost for that.
 * %COHBUF_STREAM_CLOCK_MANUAL produces frames only
 * when %COHBUF_STREAM_IOCTL_ADVANCE asks for them, within that call: tests
 * use it to be exact.
 *
 * Lifetime. A stream's parameters are fixed at creation; to change them,
 * create another stream (STOP, close, CREATE). A stream is created
 * stopped; regions may be queued before START, and should be, so that the
 * first frames are not lost. STOP ends the clock, completes the region
 * being filled with the frames it has, and gives every other queued region
 * back unfilled; START after STOP resumes with the next frame index, and
 * the frames the stopped clock did not produce are neither produced nor
 * lost. close() of the last fd of a stream stops it the same way and then
 * frees it; a process killed or exec'ing (the fd is O_CLOEXEC) mid-stream
 * does the same. While a stream exists the importer module cannot be
 * unloaded.
 *
 * Output streams (@direction %COHBUF_STREAM_DIR_OUTPUT, queue mode only)
 * run the other way; "cohbuf output streams" says how.
 *
 * Unless said otherwise, the errors of every ioctl of "cohbuf uapi
 * conventions" (linux/cohbuf.h) apply to every ioctl here, and a stream
 * fd's ioctls fail with ``ENOTTY`` on any other fd and vice versa.
 */
#ifndef _UAPI_LINUX_COHBUF_STREAM_H
#define _UAPI_LINUX_COHBUF_STREAM_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/cohbuf.h>		/* COHBUF_IOC_MAGIC */
#include <linux/cohbuf_importer.h>

/* Values of cohbuf_stream_create_data.direction */
#define COHBUF_STREAM_DIR_INPUT		0U	/* the device writes (ADC) */
#define COHBUF_STREAM_DIR_OUTPUT	1U	/* the device reads (DAC) */

/* Values of cohbuf_stream_create_data.mode */
#define COHBUF_STREAM_MODE_QUEUE	0U	/* regions queued one by one */
#define COHBUF_STREAM_MODE_RING		1U	/* one circular dma-buf */

/* Values of cohbuf_stream_create_data.format; see "cohbuf stream payload" */
#define COHBUF_STREAM_FMT_ADC12		1U	/* 12 bits in a __le16, << 4 */
#define COHBUF_STREAM_FMT_S16		2U	/* __le16, signed */
#define COHBUF_STREAM_FMT_S32		3U	/* __le32, signed */

/* Values of cohbuf_stream_create_data.clock */
#define COHBUF_STREAM_CLOCK_HRTIMER	1U	/* real time at rate_hz */
#define COHBUF_STREAM_CLOCK_MANUAL	2U	/* COHBUF_STREAM_IOCTL_ADVANCE */

/* Values of cohbuf_stream_create_data.overrun */
#define COHBUF_STREAM_OVERRUN_DROP	1U	/* lose the frame, count it */
#define COHBUF_STREAM_OVERRUN_STOP	2U	/* stop before the frame */

/* Values of cohbuf_stream_create_data.flags: none yet */
#define COHBUF_STREAM_CREATE_FLAGS_MASK	0x00000000U

/* Values of cohbuf_stream_create_data.ring_flags; see "cohbuf stream ring" */
#define COHBUF_STREAM_RING_OVERWRITE	0x00000001U /* the oldest data goes */
#define COHBUF_STREAM_RING_FLAGS_MASK	0x00000001U

/* Limits of cohbuf_stream_create_data */
#define COHBUF_STREAM_MAX_CHANNELS	16U
#define COHBUF_STREAM_MAX_RATE_HZ	100000000U	/* frames per second */
#define COHBUF_STREAM_MAX_BLOCK_BYTES	(16U << 20)	/* block_frames * frame size */
#define COHBUF_STREAM_MAX_WATERMARK	COHBUF_STREAM_MAX_REGIONS

/* Regions a stream holds at most, queued or completed but not dequeued. */
#define COHBUF_STREAM_MAX_REGIONS	256U

/* Largest cohbuf_stream_advance_data.frames of one call. */
#define COHBUF_STREAM_MAX_ADVANCE	16777216U	/* 2^24 */

/**
 * struct cohbuf_stream_create_data - argument of COHBUF_IMP_IOCTL_STREAM_CREATE
 * @flags:	in: COHBUF_STREAM_CREATE_* flags; none is defined: must be 0
 * @fd_flags:	in: O_NONBLOCK or 0 (DEQUEUE and read() then fail with
 *		EAGAIN instead of waiting; fcntl(F_SETFL) changes it later);
 *		O_CLOEXEC is accepted and implied: the fd is always O_CLOEXEC
 * @direction:	in: COHBUF_STREAM_DIR_*
 * @mode:	in: COHBUF_STREAM_MODE_*
 * @format:	in: COHBUF_STREAM_FMT_*; the sample size is 2 bytes for
 *		ADC12 and S16, 4 for S32
 * @channels:	in: samples per frame, 1 to %COHBUF_STREAM_MAX_CHANNELS
 * @rate_hz:	in: frames per second, 1 to %COHBUF_STREAM_MAX_RATE_HZ;
 *		with the MANUAL clock it only spaces the timestamps
 * @block_frames: in: frames per block (per region), at least 1, and
 *		@block_frames times the frame size at most
 *		%COHBUF_STREAM_MAX_BLOCK_BYTES
 * @clock:	in: COHBUF_STREAM_CLOCK_*
 * @overrun:	in: COHBUF_STREAM_OVERRUN_*
 * @watermark:	in: completed records from which poll() reports EPOLLIN,
 *		1 to %COHBUF_STREAM_MAX_WATERMARK
 * @pad:	must be 0
 * @first_sequence: in: sequence number of the stream's first record; any
 *		value (tests start near 2^32 to cross the 32-bit wrap)
 * @fd:		out: the new stream fd (O_RDWR, O_CLOEXEC); must be 0 on input
 * @pad2:	must be 0
 * @ring_fd:	in: %COHBUF_STREAM_MODE_RING: the data area's dma-buf, from
 *		any exporter, exported read-write; else 0. Since
 *		%COHBUF_STREAM_CREATE_DATA_SIZE_VER1, as are the fields below.
 * @ring_flags:	in: RING: COHBUF_STREAM_RING_*; else 0
 * @ring_offset: in: RING: first byte of the data area in the dma-buf, a
 *		multiple of %COHBUF_RING_ALIGN; else 0
 * @ring_length: in: RING: bytes of the data area, a multiple of
 *		%COHBUF_RING_ALIGN, inside the dma-buf, at least two block
 *		records plus a gap record (two block records, and a multiple
 *		of the block record's size, with
 *		%COHBUF_STREAM_RING_OVERWRITE), and at least @watermark block
 *		records; else 0
 *
 * In ring mode @watermark counts block records' worth of bytes, see
 * "reading and polling a stream".
 */
struct cohbuf_stream_create_data {
	__u32 flags;
	__u32 fd_flags;
	__u32 direction;
	__u32 mode;
	__u32 format;
	__u32 channels;
	__u32 rate_hz;
	__u32 block_frames;
	__u32 clock;
	__u32 overrun;
	__u32 watermark;
	__u32 pad;
	__u64 first_sequence;
	__s32 fd;
	__u32 pad2;
	__s32 ring_fd;
	__u32 ring_flags;
	__u64 ring_offset;
	__u64 ring_length;
};

#define COHBUF_STREAM_CREATE_DATA_SIZE_VER0	64
#define COHBUF_STREAM_CREATE_DATA_SIZE_VER1	88

/* Values of cohbuf_stream_queue_data.flags */
#define COHBUF_STREAM_QUEUE_IN_FENCE	0x00000001U /* wait for @in_fence_fd */
#define COHBUF_STREAM_QUEUE_OUT_FENCE	0x00000002U /* return @out_fence_fd */
#define COHBUF_STREAM_QUEUE_FLAGS_MASK	0x00000003U

/**
 * struct cohbuf_stream_queue_data - argument of COHBUF_STREAM_IOCTL_QUEUE
 * @dmabuf_fd:	in: a dma-buf fd, from any exporter, exported read-write
 *		(input) or readable (output: O_RDONLY will do)
 * @flags:	in: COHBUF_STREAM_QUEUE_*
 * @offset:	in: first byte of the region in the dma-buf; a multiple of
 *		the frame size
 * @length:	in: bytes of the region; a multiple of the frame size, at
 *		least one block; the region lies inside the dma-buf. The
 *		device writes (output: reads) one block from @offset on;
 *		the rest of a longer region is never touched.
 * @cookie:	in: any value, returned in the region's record
 * @in_fence_fd: in: with %COHBUF_STREAM_QUEUE_IN_FENCE, a sync_file that
 *		must signal before the device writes the region; else 0
 * @out_fence_fd: out: with %COHBUF_STREAM_QUEUE_OUT_FENCE, a new sync_file
 *		(O_CLOEXEC) of the region's fence; else -1
 */
struct cohbuf_stream_queue_data {
	__s32 dmabuf_fd;
	__u32 flags;
	__u64 offset;
	__u64 length;
	__u64 cookie;
	__s32 in_fence_fd;
	__s32 out_fence_fd;
};

#define COHBUF_STREAM_QUEUE_DATA_SIZE_VER0	40

/* Values of cohbuf_stream_record.flags */
#define COHBUF_STREAM_REC_ERROR		0x00000001U /* not filled: @status */
#define COHBUF_STREAM_REC_DISCONTINUITY	0x00000002U /* @lost_before > 0 */
#define COHBUF_STREAM_REC_MISMATCH	0x00000004U /* output: a sample read
						     * was not the payload
						     */

/**
 * struct cohbuf_stream_record - the completion record of one region
 * @cookie:	the region's cookie from QUEUE
 * @sequence:	the record's number: @first_sequence for a stream's first
 *		record, one more for each next one, modulo 2^64; records of
 *		unfilled regions are numbered too
 * @first_frame: index of the first frame in the region; with @frames 0,
 *		the index of the next frame the stream would produce
 * @lost_before: frames lost since the previous filled region ended (or
 *		the stream began) up to @first_frame, so that @first_frame is
 *		the previous filled record's @first_frame + @frames +
 *		@lost_before; 0 for an unfilled region (its count goes to the
 *		next filled one)
 * @first_ns:	CLOCK_MONOTONIC time of the first frame in nanoseconds: its
 *		nominal sampling time with the HRTIMER clock (START plus the
 *		frame's offset at @rate_hz), the time of the ADVANCE that
 *		produced it with the MANUAL clock; 0 if @frames is 0
 * @last_ns:	the same for the last frame; 0 if @frames is 0
 * @frames:	frames written, from the region's offset on: @block_frames,
 *		fewer if the stream was stopped while it filled the region
 *		or the region reached its deadline, 0 if it was not filled
 * @bytes_used:	bytes written, @frames times the frame size
 * @flags:	COHBUF_STREAM_REC_*; %COHBUF_STREAM_REC_MISMATCH only for
 *		an output stream, when at least one sample the device read
 *		from the region differed from the payload (STATS'
 *		@mismatched counts how many)
 * @status:	0; for %COHBUF_STREAM_REC_ERROR, the negative errno the
 *		region's fence signalled with: -ECANCELED if the stream was
 *		stopped or closed before the region's turn, -ETIMEDOUT if the
 *		region reached its deadline (@frames may then be above 0),
 *		or the error of its in-fence or of a fence of its dma-buf's
 *		reservation object
 *
 * A record is 64 bytes, %COHBUF_STREAM_RECORD_SIZE_VER0. It may grow at
 * its end in a later version, but only for a stream whose creator asks for
 * it through a field of &struct cohbuf_stream_create_data that is 0 today:
 * every stream created as documented here keeps 64-byte records for good,
 * in read() as in DEQUEUE.
 */
struct cohbuf_stream_record {
	__u64 cookie;
	__u64 sequence;
	__u64 first_frame;
	__u64 lost_before;
	__u64 first_ns;
	__u64 last_ns;
	__u32 frames;
	__u32 bytes_used;
	__u32 flags;
	__s32 status;
};

#define COHBUF_STREAM_RECORD_SIZE_VER0	64

/**
 * struct cohbuf_stream_dequeue_data - argument of COHBUF_STREAM_IOCTL_DEQUEUE
 * @deadline_ns: in: absolute CLOCK_MONOTONIC time in nanoseconds until
 *		which the call waits for a record; a deadline already
 *		passed (such as 0) only polls
 * @flags:	in: must be 0
 * @pad:	must be 0
 * @record:	out: the oldest completed record, which is removed
 */
struct cohbuf_stream_dequeue_data {
	__u64 deadline_ns;
	__u32 flags;
	__u32 pad;
	struct cohbuf_stream_record record;
};

#define COHBUF_STREAM_DEQUEUE_DATA_SIZE_VER0	80

/**
 * struct cohbuf_stream_start_data - argument of COHBUF_STREAM_IOCTL_START
 * and COHBUF_STREAM_IOCTL_STOP
 * @flags:	in: must be 0
 * @pad:	must be 0
 */
struct cohbuf_stream_start_data {
	__u32 flags;
	__u32 pad;
};

#define COHBUF_STREAM_START_DATA_SIZE_VER0	8

/**
 * struct cohbuf_stream_advance_data - argument of COHBUF_STREAM_IOCTL_ADVANCE
 * @frames:	in: frames to produce, 1 to %COHBUF_STREAM_MAX_ADVANCE
 * @flags:	in: must be 0
 * @pad:	must be 0
 */
struct cohbuf_stream_advance_data {
	__u64 frames;
	__u32 flags;
	__u32 pad;
};

#define COHBUF_STREAM_ADVANCE_DATA_SIZE_VER0	16

/* Values of cohbuf_stream_stats_data.state */
#define COHBUF_STREAM_STATE_STOPPED	0U	/* created, or after STOP */
#define COHBUF_STREAM_STATE_RUNNING	1U	/* between START and STOP */
#define COHBUF_STREAM_STATE_OVERRUN	2U	/* stopped by OVERRUN_STOP */

/**
 * struct cohbuf_stream_stats_data - argument of COHBUF_STREAM_IOCTL_STATS
 * @flags:	in: must be 0
 * @state:	out: COHBUF_STREAM_STATE_*
 * @produced:	out: frames the clock produced since creation, which is the
 *		index of the next frame
 * @delivered:	out: frames in completed records
 * @lost:	out: frames lost (DROP policy only)
 * @in_flight:	out: frames written into the region being filled, not yet
 *		in a record; always @produced = @delivered + @lost + @in_flight
 * @overruns:	out: overruns: runs of consecutive lost frames under DROP
 *		(each counted once, when its first frame is lost), stops
 *		under STOP
 * @queued:	out: regions the device holds: queued or being filled
 * @completed:	out: records not yet dequeued
 * @records:	out: records created since creation
 * @timeouts:	out: regions the stream gave back because they reached their
 *		deadline (see "Bounded time" in "cohbuf stream uapi"); since
 *		%COHBUF_STREAM_STATS_DATA_SIZE_VER1
 * @mismatched: out: output streams: samples the device read that differed
 *		from the payload, over the stream's life; 0 for an input
 *		stream; since %COHBUF_STREAM_STATS_DATA_SIZE_VER2
 *
 * For an output stream, "produced" reads "demanded by the clock": frames
 * the device was to play, @delivered those it read from completed
 * regions, @lost those it had no ready region for (underruns), and
 * @in_flight those it read from the region being consumed.
 */
struct cohbuf_stream_stats_data {
	__u32 flags;
	__u32 state;
	__u64 produced;
	__u64 delivered;
	__u64 lost;
	__u64 in_flight;
	__u64 overruns;
	__u32 queued;
	__u32 completed;
	__u64 records;
	__u64 timeouts;
	__u64 mismatched;
};

#define COHBUF_STREAM_STATS_DATA_SIZE_VER0	64
#define COHBUF_STREAM_STATS_DATA_SIZE_VER1	72
#define COHBUF_STREAM_STATS_DATA_SIZE_VER2	80

/**
 * DOC: cohbuf output streams
 *
 * An output stream is a simulated playback device, such as a DAC: user
 * space fills regions with samples and queues them, and the device
 * consumes them at @rate_hz (either clock), one block per region, in
 * queue order, reading the block through the same mapping an input
 * stream writes through. Everything said of input streams holds, with
 * "write" and "read" exchanged and these differences:
 *
 * - Fences. QUEUE adds the region's fence with DMA_RESV_USAGE_READ: the
 *   device only reads, so other readers (an importer CHECKSUM job, a CPU
 *   reader) run alongside it, while writers (an importer FILL job, vgem
 *   with %VGEM_FENCE_WRITE, DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_WRITE)
 *   wait until the device has read the region. A region's dependencies
 *   are its in-fence and the fences of the dma-buf's writers (usage
 *   KERNEL and WRITE) that were in its reservation object at QUEUE, not
 *   its readers': the device reads the region once every writer queued
 *   before it has written. A writer that comes after QUEUE waits for the
 *   device (or, writing with the CPU, must not write a region it has
 *   queued: it belongs to the device until its record comes).
 * - Underruns. When the device needs a frame and no ready region is
 *   there, the frame is not played: that is an *underrun*, counted
 *   exactly as an input stream's overrun (the frame is lost: STATS'
 *   @lost and @overruns, EPOLLPRI, and @lost_before with
 *   %COHBUF_STREAM_REC_DISCONTINUITY in the next filled record), and
 *   %COHBUF_STREAM_OVERRUN_DROP and %COHBUF_STREAM_OVERRUN_STOP apply
 *   as they do to overruns.
 * - Verification. The device compares every sample it reads with "cohbuf
 *   stream payload" for the frame index it plays it at (value and noise
 *   bits): frame @first_frame + n of a record is expected at byte
 *   n * frame size of its region, as an input stream would have written
 *   it. A record whose region held at least one other sample has
 *   %COHBUF_STREAM_REC_MISMATCH; STATS' @mismatched counts every such
 *   sample. So user space fills a region for the frames it will be
 *   played at, which it knows when no underrun intervenes: the region
 *   queued k blocks after a region played from frame F plays from
 *   F + k * @block_frames plus the frames lost between them. libcohbuf's
 *   cohbuf_stream_fill() writes a region so.
 * - Records describe what was read: @frames and @bytes_used are the
 *   frames and bytes the device consumed, @first_ns and @last_ns when it
 *   played the first and last of them.
 *
 * The fence of a region signals once the device has read it, so that
 * region is the writers' again; as for input, every fence signals by
 * STOP, close or the region's deadline, with -ECANCELED or -ETIMEDOUT for
 * a region not (fully) played.
 */

/**
 * DOC: cohbuf stream ring
 *
 * In ring mode (%COHBUF_STREAM_MODE_RING, the shape of perf's ring buffer
 * and of AF_XDP) the device writes into one circular *data area*, bytes
 * @ring_offset to @ring_offset + @ring_length of the dma-buf @ring_fd,
 * and user space consumes it in place with no system call per block: the
 * stream fd's two *control pages* say how far the device wrote (the
 * *head*) and how far user space has read (the *tail*). There is no QUEUE,
 * DEQUEUE or read() in ring mode (``EINVAL``).
 *
 * Positions. @head and @tail are byte counts since creation (__u64, they
 * never wrap); the byte at position p is at offset p % @ring_length of the
 * data area. The device writes only between its head and the consumer's
 * tail plus @ring_length; bytes from @tail to @head are the consumer's.
 *
 * Control pages. mmap() of the stream fd maps them: page 0 (offset 0,
 * &struct cohbuf_ring_consumer) is the consumer's, read-write; page 1
 * (offset one page, &struct cohbuf_ring_producer) is the device's and
 * read-only. A mapping may cover page 0, page 1 or both, but a writable
 * one (PROT_WRITE with MAP_SHARED) may not cover page 1. The data area is
 * mapped through the dma-buf itself.
 *
 * Records. The data area holds records, each starting on a multiple of
 * %COHBUF_RING_ALIGN bytes, none crossing the end of the data area, each
 * beginning with &struct cohbuf_ring_header. A *block record*
 * (&struct cohbuf_ring_block, type %COHBUF_RING_REC_BLOCK) carries one
 * block: its header, then the block's frames, laid out as in a region of
 * queue mode ("cohbuf stream payload"); every block record is
 * @record_bytes long (56 bytes of header, the block, rounded up), even one
 * that STOP ended with fewer frames. A *gap record* (&struct
 * cohbuf_ring_gap, %COHBUF_RING_REC_GAP) comes just before the block
 * record that follows lost frames and gives the index of the first lost
 * frame and their number (the block record's @lost_before says the same).
 * A *pad record* (%COHBUF_RING_REC_PAD) fills the end of the data area
 * when the next record would cross it: skip @size bytes, to offset 0.
 *
 * Loss. Without %COHBUF_STREAM_RING_OVERWRITE the device never writes
 * over bytes the consumer has not released: when it starts a block it
 * reads the tail, and if the block (with its gap and pad records) does
 * not fit before tail + @ring_length, the block's frames are lost (under
 * %COHBUF_STREAM_OVERRUN_DROP, counted in @lost and in STATS) or the
 * stream stops (%COHBUF_STREAM_OVERRUN_STOP). Frames are lost a block at a
 * time, and the next block record written says how many were lost. A
 * tail that is not between head - @ring_length and head is not used: the
 * ring counts as full until the consumer writes a valid one.
 *
 * Overwrite. With %COHBUF_STREAM_RING_OVERWRITE frames are never lost: the
 * device writes over the oldest block record when the ring is full, the
 * tail is read only for poll() and @overwritten, and records are always
 * block records, tiling the data area (@ring_length is a multiple of
 * @record_bytes), so there are no gap or pad records. Before the device
 * writes over a record it raises @oldest past it. A consumer was lapped
 * if its tail is below @oldest (the records from its tail to @oldest are
 * gone; @oldest is where the oldest intact record starts), and a record
 * it read at position p may have been overwritten while it read it if
 * @oldest is above p after the reading: it must then drop what it read.
 * @overwritten counts the block records the device wrote over before the
 * tail passed them.
 *
 * Memory ordering (as in perf and AF_XDP). The device writes a record,
 * then publishes it by smp_store_release() of @head; the consumer loads
 * @head with acquire semantics, reads the records before it, and releases
 * them with a release store of @tail; the device loads the tail with
 * smp_load_acquire() before it writes where released records were. In
 * C11 terms, for user space::
 *
 *   head = __atomic_load_n(&prod->head, __ATOMIC_ACQUIRE);
 *   ... read records from tail to head ...
 *   __atomic_store_n(&cons->tail, tail, __ATOMIC_RELEASE);
 *
 * With OVERWRITE the device stores @oldest, then issues smp_wmb(), then
 * writes the record; the consumer reads a record, then issues
 * __atomic_thread_fence(__ATOMIC_ACQUIRE), then loads @oldest, and keeps
 * what it read only if @oldest is still at most the record's position
 * (the seqlock pattern). The other fields of the producer page are
 * informative and read with plain (relaxed) loads.
 *
 * Wake-ups. poll() reports EPOLLIN once @watermark block records' worth
 * of bytes (@watermark_bytes) lie between the tail and the head. A poll()
 * that finds fewer sets @need_wakeup; the device wakes the stream's
 * waiters only when it publishes a record while @need_wakeup is set and
 * the watermark is reached, then clears it and counts @wakeups. A consumer
 * that finds records by reading @head (busy polling) costs the device no
 * wake-up at all; one that sleeps in poll() gets one wake-up per
 * watermark. STOP, an overrun (EPOLLPRI) and an overrun stop (EPOLLERR)
 * wake waiters too, as in queue mode; but in ring mode only STATS
 * acknowledges an overrun (the device does not see which records were
 * read), so a consumer that sleeps in poll() calls STATS on EPOLLPRI.
 *
 * Implicit sync. A ring stream adds no fence to the dma-buf's reservation
 * object: the data area is written continuously, not in fenced jobs, and
 * a fence that stays unsignalled while the stream runs would break the
 * rule that every fence signals in bounded time. So the dma-buf must be
 * idle when the stream is created (``EBUSY`` otherwise), and nothing else
 * should write it while the stream exists; the head and tail order the
 * device and the consumer. DMA_BUF_IOCTL_SYNC on the dma-buf therefore
 * never waits for the stream. The device is the CPU writing through the
 * kernel's mapping of the dma-buf; where the CPU's view of a buffer needs
 * syncing (a cached buffer on a non-coherent platform), a consumer
 * brackets its reads of a batch of records with DMA_BUF_IOCTL_SYNC START
 * and END (DMA_BUF_SYNC_READ): one pair per wake-up, not per block.
 *
 * STATS holds in ring mode as in queue mode: a block's frames are
 * delivered when its record is published, in flight while it is written,
 * lost when they had no room; @queued and @completed are 0.
 */

/* Page offsets of the control pages in the stream fd (mmap offset / page size) */
#define COHBUF_RING_CONSUMER_PGOFF	0	/* struct cohbuf_ring_consumer, rw */
#define COHBUF_RING_PRODUCER_PGOFF	1	/* struct cohbuf_ring_producer, ro */
#define COHBUF_RING_CONTROL_PAGES	2

/* Records start on multiples of this many bytes; sizes are multiples of it. */
#define COHBUF_RING_ALIGN		8U

/* Values of cohbuf_ring_header.type */
#define COHBUF_RING_REC_PAD		1U	/* skip to the data area's start */
#define COHBUF_RING_REC_BLOCK		2U	/* struct cohbuf_ring_block */
#define COHBUF_RING_REC_GAP		3U	/* struct cohbuf_ring_gap */

/**
 * struct cohbuf_ring_consumer - control page 0, written by user space
 * @tail:	position up to which the consumer has read and released the
 *		records; the device never writes over bytes at or after it
 *		(without OVERWRITE). 0 at creation; store it with release
 *		semantics.
 */
struct cohbuf_ring_consumer {
	__u64 tail;
};

/**
 * struct cohbuf_ring_producer - control page 1, written by the device
 * @head:	position up to which records are complete; loaded with
 *		acquire semantics, see "cohbuf stream ring"
 * @oldest:	OVERWRITE: bytes before this position may have been
 *		written over; it is where the oldest intact record starts.
 *		0 without OVERWRITE.
 * @sequence:	the sequence number the next block record will have
 * @lost:	frames lost for lack of room, as STATS' @lost
 * @overwritten: OVERWRITE: block records written over before the
 *		consumer's tail passed them
 * @wakeups:	times the device woke the stream's waiters at the watermark
 * @length:	@ring_length, bytes of the data area
 * @record_bytes: bytes of every block record, header included
 * @watermark_bytes: @watermark times @record_bytes
 * @need_wakeup: 1 while a poll() found the ring below its watermark and
 *		the device has not woken the waiters since
 * @ring_flags: the stream's @ring_flags (COHBUF_STREAM_RING_*)
 */
struct cohbuf_ring_producer {
	__u64 head;
	__u64 oldest;
	__u64 sequence;
	__u64 lost;
	__u64 overwritten;
	__u64 wakeups;
	__u64 length;
	__u32 record_bytes;
	__u32 watermark_bytes;
	__u32 need_wakeup;
	__u32 ring_flags;
};

/**
 * struct cohbuf_ring_header - the start of every record in the data area
 * @type:	COHBUF_RING_REC_*; other values may come later: skip them
 * @size:	bytes of the record, header included, a multiple of
 *		%COHBUF_RING_ALIGN
 */
struct cohbuf_ring_header {
	__u32 type;
	__u32 size;
};

/**
 * struct cohbuf_ring_block - a block record; the block's frames follow it
 * @hdr:	type %COHBUF_RING_REC_BLOCK, size @record_bytes
 * @frames:	frames in the block: @block_frames, fewer if STOP ended it
 * @flags:	%COHBUF_STREAM_REC_DISCONTINUITY if @lost_before is not 0
 * @sequence:	as in &struct cohbuf_stream_record
 * @first_frame: index of the block's first frame
 * @lost_before: frames lost just before it, as in &struct
 *		cohbuf_stream_record
 * @first_ns:	CLOCK_MONOTONIC time of the first frame, as in &struct
 *		cohbuf_stream_record
 * @last_ns:	the same for the last frame
 */
struct cohbuf_ring_block {
	struct cohbuf_ring_header hdr;
	__u32 frames;
	__u32 flags;
	__u64 sequence;
	__u64 first_frame;
	__u64 lost_before;
	__u64 first_ns;
	__u64 last_ns;
};

#define COHBUF_RING_BLOCK_SIZE_VER0	56

/**
 * struct cohbuf_ring_gap - a gap record: frames were lost here
 * @hdr:	type %COHBUF_RING_REC_GAP, size %COHBUF_RING_GAP_SIZE_VER0
 * @first_lost:	index of the first lost frame
 * @lost:	frames lost: the next block record's first frame is
 *		@first_lost + @lost
 */
struct cohbuf_ring_gap {
	struct cohbuf_ring_header hdr;
	__u64 first_lost;
	__u64 lost;
};

#define COHBUF_RING_GAP_SIZE_VER0	24

/**
 * DOC: cohbuf stream payload
 *
 * The samples are a pure function of the frame index *i* (a __u64 counted
 * as in "cohbuf stream uapi") and the channel *c* (0 to @channels - 1), so
 * that a consumer can check every sample it gets. With the splitmix64
 * finaliser
 *
 *   z = i * 16 + c;
 *   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *   z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *   z = z ^ (z >> 31);
 *
 * on __u64 (wrapping), sample (i, c) is stored at byte offset
 * (i - first_frame) * frame size + c * sample size of its record's region,
 * little-endian, as:
 *
 * %COHBUF_STREAM_FMT_ADC12
 *   a __le16 word ((z >> 48) & 0xfff0) | (z & 0xf): the 12-bit signed
 *   value in bits 15..4, which is the top 12 bits of z read as signed,
 *   ((__s64)z >> 52), and 4 bits of noise (the low bits of z) in bits
 *   3..0. A consumer takes the value as ((__s16)word >> 4), as the IIO
 *   scan type ``le:s12/16>>4`` says; one that forgets the shift sees
 *   16 times the value plus noise and fails the check.
 * %COHBUF_STREAM_FMT_S16
 *   a __le16, the top 16 bits of z, (__s16)(z >> 48).
 * %COHBUF_STREAM_FMT_S32
 *   a __le32, the top 32 bits of z, (__s32)(z >> 32).
 */

/**
 * DOC: COHBUF_IMP_IOCTL_STREAM_CREATE
 *
 * Create a stream; issued on an open /dev/cohbuf-importer, the argument is
 * &struct cohbuf_stream_create_data. The new fd is installed only after
 * the result has been written back, so a failing call leaves no fd.
 *
 * A stream is charged to the user of the context it is created from (see
 * "Opening /dev/cohbuf-importer") until the stream is released, even if
 * that is long after the context was closed: a user has at most
 * max_user_streams (module parameter, default 64) streams, unless the
 * context was opened with CAP_SYS_RESOURCE.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   @flags has unknown bits; @fd_flags has bits other than O_NONBLOCK and
 *   O_CLOEXEC; @direction, @mode, @format, @clock or @overrun is not a
 *   value above; @channels, @rate_hz, @block_frames or @watermark is out
 *   of its range (0 included); @pad, @pad2 or @fd is not 0; in queue
 *   mode, a ring field is not 0; in ring mode, @ring_fd is not a dma-buf,
 *   @ring_flags has unknown bits, @ring_offset or @ring_length is not a
 *   multiple of %COHBUF_RING_ALIGN, the data area does not lie inside
 *   the dma-buf, or it is too small (see @ring_length).
 * ``EBADF``
 *   ring mode: @ring_fd is not an open file descriptor.
 * ``EACCES``
 *   ring mode: the dma-buf was exported read-only (O_RDONLY).
 * ``EBUSY``
 *   ring mode: the dma-buf's reservation object has unsignalled fences.
 * ``EOPNOTSUPP``
 *   @direction is %COHBUF_STREAM_DIR_OUTPUT and @mode is
 *   %COHBUF_STREAM_MODE_RING: not implemented (output streams have queue
 *   mode only); or the ring's dma-buf cannot be mapped for the device, as
 *   listed for %COHBUF_IMP_IOCTL_IMPORT.
 * ``ENOMEM``
 *   out of memory.
 * ``EMFILE``
 *   the process has no free file descriptor; the context's user has
 *   max_user_streams streams not yet released and the context was not
 *   opened with CAP_SYS_RESOURCE.
 * ``ENFILE``
 *   the system file table is full.
 */
#define COHBUF_IMP_IOCTL_STREAM_CREATE	_IOWR(COHBUF_IOC_MAGIC, 0x15, \
					      struct cohbuf_stream_create_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_QUEUE
 *
 * Give the device a region to fill; the argument is
 * &struct cohbuf_stream_queue_data. Allowed in every state.
 *
 * The stream takes its own reference to the dma-buf: closing
 * @dmabuf_fd, or releasing an import of it, while the region is queued
 * changes nothing. The region's fence is in the reservation object when
 * the call returns; the out-fence fd is installed only after the result
 * has been written back. If that write-back fails (``EFAULT``) the region
 * stays queued, and its record comes as for any other.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EBADF``
 *   @dmabuf_fd is not an open file descriptor.
 * ``EINVAL``
 *   the stream is in ring mode; @dmabuf_fd is not a dma-buf; @flags has
 *   unknown bits; @in_fence_fd is not 0 without
 *   %COHBUF_STREAM_QUEUE_IN_FENCE, or not a sync_file with it; @offset or
 *   @length is not a multiple of the frame size; @length is smaller than
 *   a block; the region does not lie inside the dma-buf
 *   (or its end overflows).
 * ``EACCES``
 *   an input stream's dma-buf was exported read-only (O_RDONLY); an
 *   output stream's was exported without read access (an exporter that
 *   allows O_WRONLY). An output stream accepts a read-only dma-buf.
 * ``EBUSY``
 *   the region overlaps a region of the same dma-buf that the stream
 *   holds (queued or being filled).
 * ``ENOSPC``
 *   the stream holds %COHBUF_STREAM_MAX_REGIONS regions, queued or with
 *   records not yet dequeued.
 * ``ENOMEM``
 *   out of memory, including no file for the out-fence's sync_file.
 * ``EMFILE``
 *   the process has no free file descriptor for the out-fence.
 * ``EINTR``
 *   a signal arrived while the dma-buf's reservation object was being
 *   locked, or a fatal one while it was being mapped for the device.
 * other errors
 *   those of mapping the dma-buf for the device, as listed for
 *   %COHBUF_IMP_IOCTL_IMPORT (``EIO``, ``EOPNOTSUPP``, the exporter's).
 */
#define COHBUF_STREAM_IOCTL_QUEUE	_IOWR(COHBUF_IOC_MAGIC, 0x16, \
					      struct cohbuf_stream_queue_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_DEQUEUE
 *
 * Take the oldest completed record; the argument is
 * &struct cohbuf_stream_dequeue_data. Records come in sequence order, one
 * per queued region, by DEQUEUE and read() alike; each is returned once.
 * When the call returns a record, its region belongs to user space again.
 * A record whose write-back fails (``EFAULT``) is lost.
 *
 * A record with %COHBUF_STREAM_REC_DISCONTINUITY acknowledges the overruns
 * before it, as STATS does: EPOLLPRI clears.
 *
 * @deadline_ns is read on the host's CLOCK_MONOTONIC, as for
 * %COHBUF_IMP_IOCTL_WAIT.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EAGAIN``
 *   no record is ready, the stream is running and the fd is O_NONBLOCK.
 * ``ETIME``
 *   no record was ready by @deadline_ns.
 * ``ENODATA``
 *   no record is ready and the stream is not running (stopped, or stopped
 *   by an overrun), so none will come until START; also with O_NONBLOCK.
 * ``EINVAL``
 *   @flags or @pad is not 0; the stream is in ring mode.
 * ``EINTR``
 *   a signal arrived and its handler was installed without SA_RESTART;
 *   with SA_RESTART the call is restarted and ends at the same
 *   @deadline_ns.
 */
#define COHBUF_STREAM_IOCTL_DEQUEUE	_IOWR(COHBUF_IOC_MAGIC, 0x17, \
					      struct cohbuf_stream_dequeue_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_START
 *
 * Start the stream's clock; the argument is
 * &struct cohbuf_stream_start_data. Allowed when the state is STOPPED or
 * OVERRUN; the HRTIMER clock counts time from this call.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EBUSY``
 *   the stream is already running.
 * ``EINVAL``
 *   @flags or @pad is not 0.
 */
#define COHBUF_STREAM_IOCTL_START	_IOW(COHBUF_IOC_MAGIC, 0x18, \
					     struct cohbuf_stream_start_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_STOP
 *
 * Stop the stream; the argument is &struct cohbuf_stream_start_data.
 * With the HRTIMER clock the frames due by now are produced first. Then
 * the region being filled is completed with the frames it has, and every
 * other queued region is given back unfilled: its record has
 * %COHBUF_STREAM_REC_ERROR, @status -ECANCELED and @frames 0, and its
 * fence signals with -ECANCELED. So when STOP returns, the stream holds no
 * region and every fence it published has signalled. A stopped stream can
 * be stopped again (which gives back the regions queued since); the state
 * becomes STOPPED also after an OVERRUN.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   @flags or @pad is not 0.
 */
#define COHBUF_STREAM_IOCTL_STOP	_IOW(COHBUF_IOC_MAGIC, 0x19, \
					     struct cohbuf_stream_start_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_ADVANCE
 *
 * Produce frames now with the MANUAL clock; the argument is
 * &struct cohbuf_stream_advance_data. When the call returns, all @frames
 * have been written (or lost), and the records of the regions they
 * filled are ready. Under %COHBUF_STREAM_OVERRUN_STOP the call produces
 * fewer if the stream stops on an overrun meanwhile (the call still
 * returns 0; STATS tells how many).
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   the stream's clock is not MANUAL; @frames is 0 or above
 *   %COHBUF_STREAM_MAX_ADVANCE; @flags or @pad is not 0.
 * ``EPIPE``
 *   the stream is not running (STOPPED or OVERRUN).
 * ``EINTR``
 *   a fatal signal arrived; the frames produced until then stay produced.
 */
#define COHBUF_STREAM_IOCTL_ADVANCE	_IOW(COHBUF_IOC_MAGIC, 0x1a, \
					     struct cohbuf_stream_advance_data)

/**
 * DOC: COHBUF_STREAM_IOCTL_STATS
 *
 * Read the stream's counters, all at one instant; the argument is
 * &struct cohbuf_stream_stats_data. The call acknowledges the overruns
 * counted so far: EPOLLPRI clears until the next one.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   @flags is not 0.
 */
#define COHBUF_STREAM_IOCTL_STATS	_IOWR(COHBUF_IOC_MAGIC, 0x1b, \
					      struct cohbuf_stream_stats_data)

/*
 * Numbers 0x1c-0x2f are free for later stream ioctls.
 */

/**
 * DOC: reading and polling a stream
 *
 * read() on a stream fd returns whole records (&struct
 * cohbuf_stream_record), as many as are ready and fit in the count, the
 * oldest first, each once, sharing one sequence with DEQUEUE. It waits for
 * the first record unless the fd is O_NONBLOCK. The file position is not
 * used (pread() fails with ``ESPIPE``). write() is not supported
 * (``EINVAL``), nor is mmap() in queue mode (``ENODEV``); in ring mode
 * mmap() maps the control pages and read() is not supported.
 *
 * Errors and results of read():
 *
 * 0
 *   no record is ready and the stream is not running (end of stream,
 *   until START).
 * ``EINVAL``
 *   the count is smaller than one record; the stream is in ring mode.
 * ``EAGAIN``
 *   no record is ready, the stream is running and the fd is O_NONBLOCK.
 * ``EINTR``
 *   a signal arrived before the first record.
 * ``EFAULT``
 *   the buffer is not writable; records already copied are returned, the
 *   record that failed to copy is lost.
 *
 * Errors of mmap() in ring mode (see "cohbuf stream ring"):
 *
 * ``EINVAL``
 *   the mapping reaches beyond the two control pages.
 * ``EACCES``
 *   a writable shared mapping covers page 1, the producer page.
 *
 * poll() reports:
 *
 * EPOLLIN | EPOLLRDNORM
 *   at least @watermark records are ready, or at least one is and the
 *   stream is not running; in ring mode, at least @watermark_bytes lie
 *   between the tail and the head, or at least one byte does and the
 *   stream is not running.
 * EPOLLPRI
 *   an overrun happened that neither STATS nor a record with
 *   %COHBUF_STREAM_REC_DISCONTINUITY has reported yet.
 * EPOLLERR
 *   the stream was stopped by an overrun (state OVERRUN), until START or
 *   STOP.
 */

#endif /* _UAPI_LINUX_COHBUF_STREAM_H */
