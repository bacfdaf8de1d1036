/* SPDX-License-Identifier: MIT */
/*
 * libcohbuf: a small C library over cohbuf's uapi (/dev/cohbuf and
 * /dev/cohbuf-importer) and the standard dma-buf ioctls.  It needs only the
 * C library; the vgem/PRIME helpers are the optional libcohbuf-drm
 * (libcohbuf_drm.h).
 *
 * Return convention, for every function here and in libcohbuf_drm.h:
 *  - a negative errno on failure; the functions never print;
 *  - 0 on success, or a new file descriptor (>= 0, close-on-exec) for the
 *    calls that create one;
 *  - handles, ids and job ids come back through pointer arguments;
 *  - cohbuf_dmabuf_map() alone is mmap-like: NULL with errno set;
 *  - the computations, cohbuf_importer_crc32(),
 *    cohbuf_importer_random_fill(), cohbuf_stream_now_ns() and the stream
 *    payload's sample functions, cannot fail and return their result;
 *  - cohbuf_stream_read() returns a count of records.
 *
 * Names: every symbol is cohbuf_<group>_<what>, the group one of exporter,
 * importer, stream, dmabuf, fd (and drm, vgem in libcohbuf-drm).  The kernel
 * modules use none of these groups; "make -C userspace" fails if a library
 * symbol equals a function name in exporter/, importer/ or include/.
 */
#ifndef LIBCOHBUF_H
#define LIBCOHBUF_H

#include <stddef.h>
#include <stdint.h>

#include <linux/cohbuf.h>
#include <linux/cohbuf_importer.h>
#include <linux/cohbuf_stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- the exporter, /dev/cohbuf ------------------------------------------ */

/* Open /dev/cohbuf: an fd. */
int cohbuf_exporter_open(void);

struct cohbuf_buffer_desc {
	uint64_t size;		/* bytes, rounded up to the page size */
	uint32_t flags;		/* COHBUF_ALLOC_* */
	uint32_t cache_mode;	/* COHBUF_CACHE_* */
	int read_only;		/* export O_RDONLY instead of O_RDWR */
	const char *name;	/* NULL or up to COHBUF_NAME_LEN - 1 chars */
};

/* Allocate a buffer: its dma-buf fd; its id through @id (may be NULL). */
int cohbuf_exporter_alloc(int dev, const struct cohbuf_buffer_desc *desc, uint64_t *id);

/* Describe a cohbuf dma-buf; room for @cap entries at @chunks (may be 0). */
int cohbuf_exporter_info(int dev, int buf, struct cohbuf_info_data *info,
			 struct cohbuf_chunk_info *chunks, uint32_t cap);

/*
 * COHBUF_IOCTL_SYNC: sync [@offset, @offset + @len) of cohbuf dma-buf @buf;
 * @flags is COHBUF_SYNC_START or _END with COHBUF_SYNC_READ, _WRITE or _RW.
 * Does not wait for fences. 0 or -errno.
 */
int cohbuf_exporter_sync(int dev, int buf, uint64_t offset, uint64_t len,
			 uint32_t flags);

/*
 * COHBUF_IOCTL_WRITE_FILE: write [@offset, @offset + @len) of cohbuf dma-buf
 * @buf to @file at @file_offset, as pwrite(2) would from a copy, but from
 * the buffer's own pages (O_DIRECT on a block device: DMA from the buffer).
 * Does not wait for fences. Bytes written (fewer than @len after a signal,
 * a full device or a size limit), or -errno.
 */
int64_t cohbuf_exporter_write_file(int dev, int buf, uint64_t offset, uint64_t len,
				   int file, int64_t file_offset);

/*
 * COHBUF_IOCTL_MAP_PCI (CAP_SYS_RAWIO): map cohbuf dma-buf @buf for the PCI
 * device @bdf ("DDDD:BB:DD.F", its sysfs name) and write the addresses that
 * device must use to @segs, room for @cap; @dma_mask is the highest address
 * the device reaches, 0 for the kernel's mask. The number of segments goes
 * to @nr (may be NULL), also on -ENOSPC (@cap too small). The fd that holds
 * the mapping (O_CLOEXEC; closing it unmaps), or -errno.
 */
int cohbuf_exporter_map_pci(int dev, int buf, const char *bdf, uint64_t dma_mask,
			    struct cohbuf_dma_seg *segs, uint32_t cap, uint32_t *nr);

/* --- any dma-buf -------------------------------------------------------- */

/* Map [@offset, @offset + @len) of a dma-buf, shared; NULL (errno) on failure. */
void *cohbuf_dmabuf_map(int buf, uint64_t offset, size_t len, int writable);
int cohbuf_dmabuf_unmap(void *addr, size_t len);

/* DMA_BUF_IOCTL_SYNC around CPU access; @flags is DMA_BUF_SYNC_READ/WRITE/RW. */
int cohbuf_dmabuf_cpu_access_begin(int buf, uint64_t flags);
int cohbuf_dmabuf_cpu_access_end(int buf, uint64_t flags);

/* The buffer's fences as a sync_file fd (DMA_BUF_SYNC_READ/WRITE semantics). */
int cohbuf_dmabuf_export_sync_file(int buf, uint32_t flags);
/* Add a sync_file's fence to the buffer (as a writer with DMA_BUF_SYNC_WRITE). */
int cohbuf_dmabuf_import_sync_file(int buf, int sync_file, uint32_t flags);
/* Name a dma-buf (DMA_BUF_SET_NAME). */
int cohbuf_dmabuf_set_name(int buf, const char *name);

/* --- file descriptors --------------------------------------------------- */

/*
 * Wait up to @timeout_ms (-1: forever) for a dma-buf or sync_file fd to be
 * readable: 0, -ETIME when the time is up, -EBADF if @fd is not an open
 * fd, -EIO if poll() reports an error on it.  A signal does not end the
 * wait: it goes on for the time left (CLOCK_MONOTONIC).
 */
int cohbuf_fd_wait(int fd, int timeout_ms);
/* Pass an fd to another process over a unix socket. */
int cohbuf_fd_send(int sock, int fd);
/*
 * Receive one (the fd), or -errno of recvmsg(), -ECONNRESET when the
 * sender has closed its end, -EPROTO for a message with no fd or more than
 * one (any fds it carried are closed).
 */
int cohbuf_fd_recv(int sock);

/* --- the importer, /dev/cohbuf-importer --------------------------------- */

/* Open a context on /dev/cohbuf-importer: an fd. */
int cohbuf_importer_open(void);
/* Import any dma-buf: its handle through @handle, IMPORT's whole answer at @info (or NULL). */
int cohbuf_importer_import(int ctx, int buf, uint32_t *handle,
			   struct cohbuf_imp_import_data *info);
int cohbuf_importer_release(int ctx, uint32_t handle);
/* Submit a job described by @job (job_id and out_fence_fd are filled in). */
int cohbuf_importer_submit(int ctx, struct cohbuf_imp_submit_data *job);
/*
 * Wait up to @timeout_ns from now (0: only poll) and reap: 0 with
 * @status/@checksum filled (either may be NULL), or -ETIME, -ENOENT, ...
 */
int cohbuf_importer_wait(int ctx, uint64_t job_id, uint64_t timeout_ns,
			 int *status, uint32_t *checksum);

/* CRC-32 as zlib's crc32(0, p, len): what the importer's CHECKSUM computes. */
uint32_t cohbuf_importer_crc32(const void *p, size_t len);
/* The bytes a FILL with COHBUF_IMP_SUBMIT_RANDOM writes: the uapi's splitmix64 stream of @seed. */
void cohbuf_importer_random_fill(void *p, size_t len, uint64_t seed);

/* --- streams of the importer (linux/cohbuf_stream.h) -------------------- */

/*
 * Create a stream on importer context @ctx as @params says (its .fd is
 * ignored): the stream fd (always close-on-exec).
 */
int cohbuf_stream_create(int ctx, const struct cohbuf_stream_create_data *params);
/* Give the device a region; @region->out_fence_fd is filled in. */
int cohbuf_stream_queue(int stream, struct cohbuf_stream_queue_data *region);
/*
 * Take the oldest completed record, waiting until the absolute
 * CLOCK_MONOTONIC time @deadline_ns (0: only poll; see
 * cohbuf_stream_now_ns()): 0 with @rec filled, -ETIME when the deadline
 * passed, -ENODATA when the stream is not running and has no record,
 * -EAGAIN for an O_NONBLOCK fd of a running stream.  A signal does not
 * end the wait.
 */
int cohbuf_stream_dequeue(int stream, uint64_t deadline_ns, struct cohbuf_stream_record *rec);
/*
 * read() up to @max records: how many came (0: none ready and the stream
 * is not running), or -EINTR if a signal came before the first one,
 * -EAGAIN for an O_NONBLOCK fd of a running stream.
 */
int cohbuf_stream_read(int stream, struct cohbuf_stream_record *recs, unsigned int max);
int cohbuf_stream_start(int stream);
int cohbuf_stream_stop(int stream);
/* Produce @frames frames now (the MANUAL clock). */
int cohbuf_stream_advance(int stream, uint64_t frames);
/* All counters at one instant: produced = delivered + lost + in_flight. */
int cohbuf_stream_stats(int stream, struct cohbuf_stream_stats_data *stats);
/* CLOCK_MONOTONIC now in ns, the clock of deadlines and record timestamps. */
uint64_t cohbuf_stream_now_ns(void);

/*
 * The payload of "cohbuf stream payload": sample (@frame, @channel) of a
 * stream of format @format (COHBUF_STREAM_FMT_*).  These cannot fail and
 * return their result; for an unknown format, 0.
 */
/* Bytes of one sample: 2 or 4. */
uint32_t cohbuf_stream_sample_bytes(uint32_t format);
/* The sample as stored (the __le16 or __le32 word in CPU order, noise included). */
uint32_t cohbuf_stream_sample_word(uint64_t frame, uint32_t channel, uint32_t format);
/* The value it carries (ADC12: the signed 12-bit value, without the noise). */
int32_t cohbuf_stream_sample_value(uint64_t frame, uint32_t channel, uint32_t format);
/* The value of sample @n of a block (frame n / channels), as a consumer decodes it. */
int32_t cohbuf_stream_decode(const void *block, size_t n, uint32_t format);
/*
 * Write @frames frames of @channels samples from frame @first_frame on, as
 * the device does: 0, or -EINVAL for an unknown format or channel count.
 */
int cohbuf_stream_generate(void *block, uint64_t first_frame, uint32_t frames,
			   uint32_t channels, uint32_t format);
/*
 * For an output stream: write frames @first_frame.. of the payload into
 * @region, a mapping of dma-buf @buf, between DMA_BUF_IOCTL_SYNC START and
 * END with DMA_BUF_SYNC_WRITE, so that it first waits for every fence of
 * @buf (the device still reading a region it was given included).  0, or
 * -EINVAL as for cohbuf_stream_generate(), or the SYNC ioctl's -errno.
 */
int cohbuf_stream_fill(int buf, void *region, uint64_t first_frame, uint32_t frames,
		       uint32_t channels, uint32_t format);
/*
 * Check every sample of a block (value and noise): 0 when all are right,
 * -EBADMSG with the index of the first wrong sample (counted as for
 * cohbuf_stream_decode()) at @bad (may be NULL), -EINVAL as for
 * cohbuf_stream_generate().
 */
int cohbuf_stream_verify(const void *block, uint64_t first_frame, uint32_t frames,
			 uint32_t channels, uint32_t format, size_t *bad);

/*
 * Ring mode ("cohbuf stream ring"): the consumer.  The data area is
 * mapped by the caller (cohbuf_dmabuf_map() of the ring's dma-buf, at its
 * ring_offset); these take records from it in place, with no system call
 * but cohbuf_stream_ring_wait().
 */
struct cohbuf_stream_ring {
	struct cohbuf_ring_consumer *cons;		/* control page 0 */
	const struct cohbuf_ring_producer *prod;	/* control page 1 */
	const unsigned char *data;	/* the caller's mapping of the data area */
	uint64_t length;		/* of the data area */
	uint64_t pos;			/* position of the record peeked next */
	uint64_t next;			/* position after the record peeked */
	uint64_t head;			/* the head last loaded */
	uint64_t laps;			/* OVERWRITE: times the device lapped us */
};

/* Map ring stream @stream's control pages; @data is the data area: 0 or -errno. */
int cohbuf_stream_ring_map(int stream, const void *data, struct cohbuf_stream_ring *ring);
int cohbuf_stream_ring_unmap(struct cohbuf_stream_ring *ring);
/*
 * The next block or gap record (pad records are skipped): 1 with @rec
 * pointing at it in the data area, 0 if there is none yet, -ESTALE if
 * (OVERWRITE) the device lapped the consumer, which then resumes at the
 * oldest record (call again), -EBADMSG for a malformed record.
 */
int cohbuf_stream_ring_peek(struct cohbuf_stream_ring *ring, const struct cohbuf_ring_header **rec);
/*
 * After reading the record peek gave: 0 if what was read is whole,
 * -ESTALE if (OVERWRITE) the device may have written over it meanwhile:
 * drop it; the consumer then resumes at the oldest record.
 */
int cohbuf_stream_ring_check(struct cohbuf_stream_ring *ring, const struct cohbuf_ring_header *rec);
/* Release the record peek gave (and any pad before it) to the device: 0. */
int cohbuf_stream_ring_release(struct cohbuf_stream_ring *ring);
/*
 * Sleep in poll() until the watermark (POLLIN), an overrun (POLLPRI), an
 * overrun stop (POLLERR) or the absolute CLOCK_MONOTONIC @deadline_ns:
 * the revents, 0 at the deadline, or -errno.  A signal does not end it.
 * POLLPRI stays until cohbuf_stream_stats() acknowledges the overrun.
 */
int cohbuf_stream_ring_wait(int stream, uint64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHBUF_H */
