/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf importer: a test DMA device driver, userspace API.
 */

/**
 * DOC: cohbuf importer uapi
 *
 * A test "DMA device" that imports any dma-buf and runs FILL, COPY and
 * CHECKSUM jobs on it asynchronously, with implicit (dma-resv) and
 * explicit (sync_file) synchronisation.
 *
 * All ioctls are issued on /dev/cohbuf-importer; each open file is an
 * independent context with its own handles and jobs. The argument
 * structures, their growth, padding and flags, the ioctl numbers and the
 * errors every ioctl can return follow the cohbuf uapi conventions of
 * linux/cohbuf.h.
 *
 * Each context has a fence timeline of its own on each engine: the
 * fences of one context's jobs on one engine signal in submission order,
 * but are not ordered against other contexts' fences. Closing a context
 * (which includes the exit of its process, even by SIGKILL) waits only for
 * its own jobs that have started, which stop waiting for their
 * dependencies and latency at once; its jobs that have not started are
 * cancelled, their fences signalled with -ECANCELED. When close() returns
 * every fence of the context has signalled; jobs of other contexts are
 * not affected.
 */

/**
 * DOC: Opening /dev/cohbuf-importer
 *
 * Each open() makes a context, charged to the real uid of the opener
 * (the file's credentials) until it is closed, whoever holds its fd
 * meanwhile. What one user holds is bounded by module parameters: its
 * contexts by max_user_contexts (default 128), the jobs not yet reaped of
 * all its contexts by max_user_jobs (default 4096) and their live
 * handles by max_user_imports (default 4096); the streams made from its
 * contexts, until each is released, by max_user_streams (default 64). A
 * context opened with CAP_SYS_RESOURCE is not bound by these per-user
 * limits. Every context, whoever opened it, is also bounded on its own:
 * by max_jobs (default 1024) and max_imports (default 1024). Closing a
 * context gives back everything it was charged at once; a stream gives
 * its unit back when it is released.
 *
 * Errors of open():
 *
 * ``EMFILE``
 *   the user has max_user_contexts contexts open (module parameter),
 *   and the opener lacks CAP_SYS_RESOURCE; as for inotify instances.
 * ``ENOMEM``
 *   out of memory.
 * ``EACCES``
 *   the device node's mode does not let the caller open it.
 */
#ifndef _UAPI_LINUX_COHBUF_IMPORTER_H
#define _UAPI_LINUX_COHBUF_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/cohbuf.h>	/* COHBUF_IOC_MAGIC */

/**
 * struct cohbuf_imp_import_data - argument of COHBUF_IMP_IOCTL_IMPORT
 * @fd:		in: a dma-buf file descriptor, from any exporter
 * @flags:	in: must be 0
 * @handle:	out: handle of the import in this context, never 0
 * @nents:	out: number of DMA-mapped scatterlist entries
 * @size:	out: size of the dma-buf in bytes
 */
struct cohbuf_imp_import_data {
	__s32 fd;
	__u32 flags;
	__u32 handle;
	__u32 nents;
	__u64 size;
};

#define COHBUF_IMP_IMPORT_DATA_SIZE_VER0	24

/**
 * struct cohbuf_imp_release_data - argument of COHBUF_IMP_IOCTL_RELEASE
 * @handle:	in: handle returned by COHBUF_IMP_IOCTL_IMPORT
 * @pad:	must be 0
 */
struct cohbuf_imp_release_data {
	__u32 handle;
	__u32 pad;
};

#define COHBUF_IMP_RELEASE_DATA_SIZE_VER0	8

/* Values of cohbuf_imp_submit_data.op */
#define COHBUF_IMP_OP_FILL	1U	/* write pattern or random bytes to dst */
#define COHBUF_IMP_OP_COPY	2U	/* copy src range to dst range */
#define COHBUF_IMP_OP_CHECKSUM	3U	/* CRC-32 of the src range */

/* Values of cohbuf_imp_submit_data.flags */
#define COHBUF_IMP_SUBMIT_RANDOM	0x00000001U /* FILL: bytes from @seed */
#define COHBUF_IMP_SUBMIT_IN_FENCE	0x00000002U /* wait for @in_fence_fd */
#define COHBUF_IMP_SUBMIT_OUT_FENCE	0x00000004U /* return @out_fence_fd */
#define COHBUF_IMP_SUBMIT_LATENCY	0x00000008U /* use @latency_ms */
#define COHBUF_IMP_SUBMIT_DEVICE	0x00000010U /* @engine names a device */
#define COHBUF_IMP_SUBMIT_FLAGS_MASK	0x0000001fU

/* Most device engines: the edu devices one importer drives. */
#define COHBUF_IMP_MAX_DEVICES		2U

/* Largest latency_ms, per job and as module parameter. */
#define COHBUF_IMP_MAX_LATENCY_MS	10000U

/**
 * struct cohbuf_imp_submit_data - argument of COHBUF_IMP_IOCTL_SUBMIT
 * @op:		in: COHBUF_IMP_OP_*
 * @flags:	in: COHBUF_IMP_SUBMIT_*
 * @dst_handle:	in: buffer written by FILL and COPY; 0 for CHECKSUM
 * @src_handle:	in: buffer read by COPY and CHECKSUM; 0 for FILL
 * @dst_offset:	in: first byte written; 0 for CHECKSUM
 * @src_offset:	in: first byte read; 0 for FILL
 * @len:	in: number of bytes, not 0; both ranges must lie in their
 *		buffers. COPY ranges may overlap (memmove semantics).
 * @seed:	in: FILL with COHBUF_IMP_SUBMIT_RANDOM: seed of the byte
 *		stream below; otherwise 0
 * @pattern:	in: FILL without COHBUF_IMP_SUBMIT_RANDOM: 32-bit pattern,
 *		stored little-endian from @dst_offset on (byte i of the range
 *		is byte i % 4 of the pattern); otherwise 0
 * @latency_ms:	in: with COHBUF_IMP_SUBMIT_LATENCY, how long the engine
 *		stays busy before the operation, instead of the latency_ms
 *		module parameter; at most COHBUF_IMP_MAX_LATENCY_MS;
 *		otherwise 0
 * @in_fence_fd: in: with COHBUF_IMP_SUBMIT_IN_FENCE, a sync_file the job
 *		waits for; otherwise 0
 * @out_fence_fd: out: with COHBUF_IMP_SUBMIT_OUT_FENCE, a new sync_file
 *		(O_CLOEXEC) that signals when the job completes; else -1
 * @job_id:	out: id of the job for COHBUF_IMP_IOCTL_WAIT; unique and
 *		increasing for the lifetime of the module, never 0
 * @engine:	in: the engine that runs the job, below the "engines" module
 *		parameter (default 2). An engine runs its jobs one at a time
 *		in submission order; jobs on different engines run at the
 *		same time, ordered only by their fences. With
 *		COHBUF_IMP_SUBMIT_DEVICE, the index of a PCI device the
 *		importer drives instead (0 for the first QEMU edu device
 *		bound, below %COHBUF_IMP_MAX_DEVICES), which moves the bytes
 *		by DMA: see "The edu device engine".
 * @pad:	must be 0
 *
 * The random stream is splitmix64: with s = @seed, for each 8 bytes of
 * the range s += 0x9e3779b97f4a7c15, z = s,
 * z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9,
 * z = (z ^ (z >> 27)) * 0x94d049bb133111eb, z ^= z >> 31,
 * stored little-endian (a final partial word is truncated).
 * The CHECKSUM result is the CRC-32 of zlib's crc32(0, data, len).
 */
struct cohbuf_imp_submit_data {
	__u32 op;
	__u32 flags;
	__u32 dst_handle;
	__u32 src_handle;
	__u64 dst_offset;
	__u64 src_offset;
	__u64 len;
	__u64 seed;
	__u32 pattern;
	__u32 latency_ms;
	__s32 in_fence_fd;
	__s32 out_fence_fd;
	__u64 job_id;
	__u32 engine;
	__u32 pad;
};

#define COHBUF_IMP_SUBMIT_DATA_SIZE_VER0	80

/**
 * struct cohbuf_imp_wait_data - argument of COHBUF_IMP_IOCTL_WAIT
 * @job_id:	in: id returned by COHBUF_IMP_IOCTL_SUBMIT
 * @deadline_ns: in: absolute CLOCK_MONOTONIC time in nanoseconds until
 *		which the call waits; a deadline already passed (such as 0)
 *		only polls. Being absolute, it survives a restart of the
 *		call after a signal unchanged.
 * @flags:	in: must be 0
 * @status:	out: 0 if the job succeeded, else a negative errno:
 *		-ETIMEDOUT (a dependency did not signal within timeout_ms,
 *		or a device's transfer did not complete within
 *		edu_timeout_ms), -ECANCELED (a dependency signalled an
 *		error), -ENODEV (the job's device
 *		was unbound or removed before the job ended), -EIO (the
 *		device stopped answering after a timed-out transfer, or
 *		bytes it moved did not arrive, as when an IOMMU blocked the
 *		transfer)
 * @checksum:	out: CHECKSUM result if @status is 0, else 0
 * @pad:	must be 0
 */
struct cohbuf_imp_wait_data {
	__u64 job_id;
	__u64 deadline_ns;
	__u32 flags;
	__s32 status;
	__u32 checksum;
	__u32 pad;
};

#define COHBUF_IMP_WAIT_DATA_SIZE_VER0		32

/**
 * DOC: COHBUF_IMP_IOCTL_IMPORT
 *
 * Attach to a dma-buf and map it for the engine; the argument is
 * &struct cohbuf_imp_import_data.
 *
 * The import holds its own reference: closing @fd does not end it. It
 * ends with %COHBUF_IMP_IOCTL_RELEASE or when the context is closed, and
 * its last job has been reaped. If the result cannot be written back, the
 * handle is withdrawn again.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EBADF``
 *   @fd is not an open file descriptor.
 * ``EINVAL``
 *   @fd is not a dma-buf; @flags is not 0.
 * ``EIO``
 *   the exporter's DMA mapping does not cover the buffer, or has a segment
 *   longer than the device's max_segment or across its seg_boundary
 *   (module parameters).
 * ``EOPNOTSUPP``
 *   the exporter's kernel mapping is I/O memory; or the exporter cannot
 *   map the buffer for this device without cache maintenance it will
 *   never do: cohbuf refuses a %COHBUF_CACHE_WC buffer for a
 *   non-coherent device where the CPU caches that memory (a coherent
 *   cohbuf device), and for a device that may be given a bounce buffer;
 *   its %COHBUF_CACHE_CACHED buffers import on every device, and on a
 *   non-coherent platform such as arm64 so do its %COHBUF_CACHE_WC ones
 *   for a device that reaches all of memory.
 * ``ENOMEM``
 *   out of memory.
 * ``EBUSY``
 *   the context has max_imports live handles, or the user who opened it
 *   has max_user_imports in all its contexts and the context was not
 *   opened with CAP_SYS_RESOURCE (module parameters; see "Opening
 *   /dev/cohbuf-importer"); or the context has no free handle.
 * ``EINTR``
 *   a fatal signal arrived while the call waited for another import or
 *   release, of any context, to finish mapping or unmapping its dma-buf.
 * other errors
 *   those of the exporter's attach, map_dma_buf and vmap callbacks, passed
 *   on unchanged; for an exporter without vmap the dma-buf core returns
 *   ``EINVAL``.
 */
#define COHBUF_IMP_IOCTL_IMPORT		_IOWR(COHBUF_IOC_MAGIC, 0x10, \
					      struct cohbuf_imp_import_data)

/**
 * DOC: COHBUF_IMP_IOCTL_RELEASE
 *
 * Forget a handle; the argument is &struct cohbuf_imp_release_data.
 * Jobs already submitted keep the buffer until they are reaped.
 *
 * Errors, besides those of every ioctl:
 *
 * ``ENOENT``
 *   @handle is not a live handle of this context.
 * ``EINVAL``
 *   @pad is not 0.
 */
#define COHBUF_IMP_IOCTL_RELEASE	_IOW(COHBUF_IOC_MAGIC, 0x11, \
					     struct cohbuf_imp_release_data)

/**
 * DOC: COHBUF_IMP_IOCTL_SUBMIT
 *
 * Queue a job on an engine; the argument is
 * &struct cohbuf_imp_submit_data.
 *
 * The job's fence is added to the reservation object of each buffer,
 * as a write fence for the buffer it writes and a read fence for the one
 * it only reads, before the ioctl returns. The job runs after all jobs
 * submitted before it to the same engine (by any context), after the
 * fences it conflicts with (a writer waits for readers and writers, a
 * reader for writers) and after its in-fence.
 *
 * If the result cannot be written back (``EFAULT``), the job still runs
 * and the out-fence is not installed; its record, whose id was never
 * reported, counts against max_jobs and as a completed job for poll()
 * once done, until a WAIT names that id or the context is closed.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   unknown @op or @flags; a field the operation does not use is not 0;
 *   @len is 0; @engine does not exist; @pad is not 0; a range is outside
 *   its buffer or overflows; @latency_ms is above
 *   %COHBUF_IMP_MAX_LATENCY_MS; @in_fence_fd is not a sync_file
 *   (including not an open file descriptor).
 * ``ENODEV``
 *   %COHBUF_IMP_SUBMIT_DEVICE and no device is bound at @engine.
 * ``ENOENT``
 *   a handle is not a live handle of this context.
 * ``EACCES``
 *   @dst_handle's dma-buf was exported read-only (O_RDONLY).
 * ``EBUSY``
 *   the context has max_jobs unreaped jobs, or the user who opened it has
 *   max_user_jobs in all its contexts and the context was not opened with
 *   CAP_SYS_RESOURCE (module parameters; see "Opening
 *   /dev/cohbuf-importer").
 * ``ENOMEM``
 *   out of memory, including no file for the out-fence's sync_file (the
 *   system file table is full).
 * ``EMFILE``
 *   the process has no free file descriptor for the out-fence.
 * ``EINTR``
 *   a signal arrived while the buffers' reservation objects were being
 *   locked.
 * other errors
 *   with %COHBUF_IMP_SUBMIT_DEVICE, those listed for
 *   %COHBUF_IMP_IOCTL_IMPORT, of mapping a buffer for the device.
 */
#define COHBUF_IMP_IOCTL_SUBMIT		_IOWR(COHBUF_IOC_MAGIC, 0x12, \
					      struct cohbuf_imp_submit_data)

/**
 * DOC: COHBUF_IMP_IOCTL_WAIT
 *
 * Wait for a job and reap it; the argument is
 * &struct cohbuf_imp_wait_data.
 *
 * A completed job is reported by exactly one successful WAIT, which
 * forgets it; until then it counts against max_jobs and max_user_jobs. poll() on the
 * context reports EPOLLIN while a completed job has not been reaped. A
 * WAIT whose result cannot be written back (EFAULT) has reaped the job
 * all the same: its status is lost, and a later WAIT gets ENOENT.
 *
 * @deadline_ns is read on the host's CLOCK_MONOTONIC: a caller in a time
 * namespace with a monotonic offset (unshare --time) must take the offset
 * out, as for DRM's absolute timeouts.
 *
 * Number 0x13 was WAIT with a relative timeout_ns in the same place; it is
 * retired (ENOTTY), so that a program built for it fails at once instead
 * of reading its timeout as a deadline.
 *
 * Errors, besides those of every ioctl:
 *
 * ``ETIME``
 *   the job had not completed by @deadline_ns; it can be waited for again.
 * ``ENOENT``
 *   no such job in this context, or it was already reaped.
 * ``EINVAL``
 *   @flags or @pad is not 0.
 * ``EINTR``
 *   a signal arrived and its handler was installed without SA_RESTART;
 *   with SA_RESTART the call is restarted, and ends at the same
 *   @deadline_ns.
 */
#define COHBUF_IMP_IOCTL_WAIT		_IOWR(COHBUF_IOC_MAGIC, 0x14, \
					      struct cohbuf_imp_wait_data)

/*
 * 0x15 is COHBUF_IMP_IOCTL_STREAM_CREATE and 0x16-0x2f belong to stream
 * fds: see linux/cohbuf_stream.h.
 */

#endif /* _UAPI_LINUX_COHBUF_IMPORTER_H */
