/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf: DMA-BUF exporter of DMA-coherent memory, userspace API.
 */

/**
 * DOC: cohbuf uapi conventions
 *
 * Both cohbuf devices follow the same rules; linux/cohbuf_importer.h
 * refers to them.
 *
 * Every ioctl takes one argument structure, which may grow at its end in
 * later versions. The kernel takes the size of the caller's structure from
 * the size field of the ioctl number. A structure shorter than the first
 * version (the ``*_SIZE_VER0`` constant next to it) is refused; a shorter
 * one than the kernel knows (an older program) is zero-extended; a longer
 * one (a newer program) is accepted only if every byte beyond what the
 * kernel knows is zero. On return the kernel writes back at most as many
 * bytes as the caller passed in.
 *
 * Fields marked "in" are read, fields marked "out" are written; output
 * fields are ignored on input unless their description says that they must
 * be 0. Padding (@pad), flags the caller does not set, and fields that an
 * operation does not use must be 0, so that later versions can give them a
 * meaning. Unknown flag bits are refused, never ignored. File descriptors
 * are __s32; handles and ids are never 0.
 *
 * Errors that every ioctl of both devices can return:
 *
 * ``ENOTTY``
 *   the ioctl number is not one of the device's: unknown type, number or
 *   direction.
 * ``EINVAL``
 *   the structure is shorter than its first version, or has a non-zero
 *   byte beyond the structure the kernel knows.
 * ``EFAULT``
 *   the argument is not readable, or the result could not be written back.
 *
 * The ioctl magic is %COHBUF_IOC_MAGIC, ``'J'``, for both devices. Numbers
 * 0x00-0x0f are /dev/cohbuf's, 0x10-0x2f /dev/cohbuf-importer's and its
 * stream fds' (linux/cohbuf_importer.h, linux/cohbuf_stream.h), and
 * 0x30-0x3f are reserved for either. The line of
 * Documentation/userspace-api/ioctl/ioctl-number.rst for them would read::
 *
 *   'J'   00-3F  linux/cohbuf.h            cohbuf DMA-BUF exporter and
 *                linux/cohbuf_importer.h   its importer test driver
 *                linux/cohbuf_stream.h
 */
#ifndef _UAPI_LINUX_COHBUF_H
#define _UAPI_LINUX_COHBUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Length of a buffer name including the terminating NUL (DMA_BUF_NAME_LEN). */
#define COHBUF_NAME_LEN		32

/* Values of cohbuf_alloc_data.flags and cohbuf_info_data.flags */
#define COHBUF_ALLOC_CONTIGUOUS	0x00000001U	/* one chunk or -ENOMEM */
#define COHBUF_ALLOC_FLAGS_MASK	(COHBUF_ALLOC_CONTIGUOUS)

/*
 * Values of cohbuf_alloc_data.cache_mode and cohbuf_info_data.cache_mode;
 * see "cohbuf cache modes".
 */
#define COHBUF_CACHE_CACHED	0U	/* cacheable, synced by SYNC ioctls */
#define COHBUF_CACHE_WC		1U	/* dma_alloc_wc(): coherent, never synced */

/* Values of cohbuf_sync_data.flags: those of DMA_BUF_IOCTL_SYNC */
#define COHBUF_SYNC_READ	0x00000001U	/* the CPU reads the range */
#define COHBUF_SYNC_WRITE	0x00000002U	/* the CPU writes the range */
#define COHBUF_SYNC_RW		(COHBUF_SYNC_READ | COHBUF_SYNC_WRITE)
#define COHBUF_SYNC_START	0x00000000U	/* before the CPU accesses it */
#define COHBUF_SYNC_END		0x00000004U	/* after the CPU accessed it */
#define COHBUF_SYNC_FLAGS_MASK	(COHBUF_SYNC_RW | COHBUF_SYNC_END)

/* Values of cohbuf_info_data.info_flags */
#define COHBUF_INFO_DMA_ADDR_VALID 0x00000001U	/* dma_addr fields are set */

/**
 * struct cohbuf_alloc_data - argument of COHBUF_IOCTL_ALLOC
 * @size:	in: requested size in bytes, rounded up to the page size;
 *		the buffer size actually used is reported by COHBUF_IOCTL_INFO
 * @fd_flags:	in: O_RDWR or O_RDONLY, optionally ORed with O_CLOEXEC
 * @flags:	in: COHBUF_ALLOC_* flags
 * @cache_mode:	in: one of COHBUF_CACHE_*
 * @fd:		out: the new dma-buf file descriptor; must be 0 on input
 * @id:		out: buffer id, unique and increasing for the lifetime of the
 *		module, never 0; must be 0 on input
 * @name:	in: NUL-terminated buffer name, shown by the dma-buf core and
 *		in debugfs; an empty string means no name
 */
struct cohbuf_alloc_data {
	__u64 size;
	__u32 fd_flags;
	__u32 flags;
	__u32 cache_mode;
	__s32 fd;
	__u64 id;
	char name[COHBUF_NAME_LEN];
};

#define COHBUF_ALLOC_DATA_SIZE_VER0	64

/**
 * struct cohbuf_chunk_info - one physically contiguous chunk of a buffer
 * @dma_addr:	address of the chunk for the cohbuf device, or 0 if the
 *		caller lacks CAP_SYS_RAWIO
 * @len:	length of the chunk in bytes
 */
struct cohbuf_chunk_info {
	__u64 dma_addr;
	__u64 len;
};

/**
 * struct cohbuf_info_data - argument of COHBUF_IOCTL_INFO
 * @fd:		in: a dma-buf file descriptor exported by cohbuf
 * @chunks_cap:	in: number of entries the @chunks_ptr array can hold
 * @chunks_ptr:	in: user pointer to an array of struct cohbuf_chunk_info,
 *		filled in buffer order; must be non-zero if @chunks_cap is
 * @size:	out: buffer size in bytes
 * @id:		out: buffer id returned by COHBUF_IOCTL_ALLOC
 * @flags:	out: COHBUF_ALLOC_* flags the buffer was allocated with
 * @cache_mode:	out: COHBUF_CACHE_* mode the buffer was allocated with
 * @nr_chunks:	out: number of chunks, even if larger than @chunks_cap
 * @info_flags:	out: COHBUF_INFO_* flags
 */
struct cohbuf_info_data {
	__s32 fd;
	__u32 chunks_cap;
	__u64 chunks_ptr;
	__u64 size;
	__u64 id;
	__u32 flags;
	__u32 cache_mode;
	__u32 nr_chunks;
	__u32 info_flags;
};

#define COHBUF_INFO_DATA_SIZE_VER0	48

/**
 * struct cohbuf_sync_data - argument of COHBUF_IOCTL_SYNC
 * @fd:		in: a dma-buf file descriptor exported by cohbuf
 * @flags:	in: %COHBUF_SYNC_START or %COHBUF_SYNC_END, ORed with
 *		%COHBUF_SYNC_READ, %COHBUF_SYNC_WRITE or both
 * @offset:	in: first byte of the range, from the start of the buffer
 * @len:	in: bytes in the range, not 0
 */
struct cohbuf_sync_data {
	__s32 fd;
	__u32 flags;
	__u64 offset;
	__u64 len;
};

#define COHBUF_SYNC_DATA_SIZE_VER0	24

/**
 * struct cohbuf_write_file_data - argument of COHBUF_IOCTL_WRITE_FILE
 * @fd:		in: a dma-buf file descriptor exported by cohbuf, open
 *		read-only or read-write
 * @file_fd:	in: the file to write to, open for writing
 * @offset:	in: first byte of the range, from the start of the buffer
 * @len:	in: bytes in the range, not 0
 * @file_offset: in: position in the file of the range's first byte, as
 *		for pwrite(2); not negative
 * @flags:	in: must be 0
 * @pad:	must be 0
 * @written:	out: bytes written, at most @len; must be 0 on input
 */
struct cohbuf_write_file_data {
	__s32 fd;
	__s32 file_fd;
	__u64 offset;
	__u64 len;
	__s64 file_offset;
	__u32 flags;
	__u32 pad;
	__u64 written;
};

#define COHBUF_WRITE_FILE_DATA_SIZE_VER0	48

/* Values of cohbuf_map_pci_data.flags */
#define COHBUF_MAP_PCI_CLOEXEC	0x00000001U	/* the new fd is O_CLOEXEC */
#define COHBUF_MAP_PCI_FLAGS_MASK (COHBUF_MAP_PCI_CLOEXEC)

/**
 * struct cohbuf_dma_seg - one contiguous range of a buffer, as a device
 *	addresses it
 * @dma_addr:	the device's address of the range's first byte: a bus
 *		address, or an IOVA behind an IOMMU
 * @len:	bytes in the range
 */
struct cohbuf_dma_seg {
	__u64 dma_addr;
	__u64 len;
};

/**
 * struct cohbuf_map_pci_data - argument of COHBUF_IOCTL_MAP_PCI
 * @fd:		in: a dma-buf file descriptor exported by cohbuf
 * @flags:	in: COHBUF_MAP_PCI_* flags
 * @pci_domain:	in: PCI domain (segment) of the device, the ``DDDD`` of
 *		its sysfs name ``DDDD:BB:DD.F``
 * @pci_bus:	in: its bus number, ``BB``
 * @pci_devfn:	in: its device and function, ``(DD << 3) | F``
 * @pad:	must be 0
 * @dma_mask:	in: the highest address the device can put on the bus, or
 *		0 for the DMA mask the kernel holds for it
 * @segs_ptr:	in: user pointer to an array of struct cohbuf_dma_seg,
 *		filled in buffer order; must be non-zero if @segs_cap is
 * @segs_cap:	in: number of entries the @segs_ptr array can hold
 * @nr_segs:	out: number of segments of the mapping; must be 0 on input
 * @map_fd:	out: the new file descriptor that holds the mapping; must be
 *		0 on input
 * @pad2:	must be 0
 */
struct cohbuf_map_pci_data {
	__s32 fd;
	__u32 flags;
	__u32 pci_domain;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u16 pad;
	__u64 dma_mask;
	__u64 segs_ptr;
	__u32 segs_cap;
	__u32 nr_segs;
	__s32 map_fd;
	__u32 pad2;
};

#define COHBUF_MAP_PCI_DATA_SIZE_VER0	48

/* The one ioctl magic of both devices; see "cohbuf uapi conventions". */
#define COHBUF_IOC_MAGIC	'J'

/**
 * DOC: COHBUF_IOCTL_ALLOC
 *
 * Allocate a buffer and export it as a dma-buf; the argument is
 * &struct cohbuf_alloc_data.
 *
 * The buffer is zeroed. It is made of one or more physically contiguous
 * chunks of memory of the kind @cache_mode names (see "cohbuf cache
 * modes"); with %COHBUF_ALLOC_CONTIGUOUS it is exactly one chunk, which
 * beyond the page allocator's largest block (4 MiB) only CMA can give. The new
 * fd is installed only after the result has been written back, so a
 * failing call never leaves an fd behind.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EINVAL``
 *   @size is 0; @fd or @id is not 0; @fd_flags has bits other than
 *   O_CLOEXEC and the access mode, or the access mode is not O_RDWR or
 *   O_RDONLY; @flags has unknown bits; @cache_mode is unknown; @name has
 *   no NUL.
 * ``E2BIG``
 *   @size rounded up to the page size exceeds the max_buffer_size module
 *   parameter or 2^31 - 1 pages, or overflows when rounded (such as
 *   2^64 - 1).
 * ``ENOMEM``
 *   the buffer would take all buffers together beyond the max_total_bytes
 *   module parameter; memory could not be allocated, or the buffer would
 *   leave less than reserve_percent (module parameter) of RAM available, so
 *   that an allocation fails rather than invoking the OOM killer; the
 *   caller's memory cgroup would go beyond its memory.max (the buffer's
 *   pages are charged to it; its OOM killer is not invoked either); with
 *   %COHBUF_ALLOC_CONTIGUOUS, no single chunk of the size is available,
 *   or the size is above 1 GiB.
 * ``EMFILE``
 *   the process has no free file descriptor.
 * ``ENFILE``
 *   the system file table is full.
 * ``EINTR``
 *   a fatal signal arrived while the chunks were being allocated.
 */
#define COHBUF_IOCTL_ALLOC	_IOWR(COHBUF_IOC_MAGIC, 0x00, \
				      struct cohbuf_alloc_data)

/**
 * DOC: COHBUF_IOCTL_INFO
 *
 * Describe a cohbuf dma-buf; the argument is &struct cohbuf_info_data.
 *
 * Chunk lengths are always reported. Chunk DMA addresses are reported, and
 * %COHBUF_INFO_DMA_ADDR_VALID is set, only if the caller has
 * CAP_SYS_RAWIO; otherwise they read as 0. At most @chunks_cap entries of
 * &struct cohbuf_chunk_info are written.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EBADF``
 *   @fd is not an open file descriptor.
 * ``EINVAL``
 *   @fd is not a dma-buf, or is a dma-buf of another exporter;
 *   @chunks_cap is not 0 but @chunks_ptr is 0.
 * ``EFAULT``
 *   the chunk array is not writable.
 */
#define COHBUF_IOCTL_INFO	_IOWR(COHBUF_IOC_MAGIC, 0x01, \
				      struct cohbuf_info_data)

/**
 * DOC: COHBUF_IOCTL_SYNC
 *
 * Sync one range of a buffer for the CPU or for the devices, as
 * DMA_BUF_IOCTL_SYNC on the dma-buf fd does for the whole buffer; the
 * argument is &struct cohbuf_sync_data. For a device that hands buffers
 * over a block at a time: after the device filled a block, START with
 * %COHBUF_SYNC_READ makes that block, and only that block, valid for the
 * CPU; after the CPU filled one, END with %COHBUF_SYNC_WRITE makes it
 * valid for the devices.
 *
 * For a %COHBUF_CACHE_CACHED buffer the range is synced in cohbuf's own
 * mapping and in every importer's, with the DMA API's cache maintenance
 * (which works in whole cache lines: a line the CPU and a device share is
 * the caller's problem, as with any DMA). For a %COHBUF_CACHE_WC buffer
 * it does nothing but check its argument; END also drains the CPU's
 * write-combining buffers.
 *
 * Unlike DMA_BUF_IOCTL_SYNC it does not wait for the buffer's fences: the
 * caller knows from its own protocol (a sync_file, a fence, a completion
 * count) that the device is done with the range. Nothing is written back.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EBADF``
 *   @fd is not an open file descriptor.
 * ``EINVAL``
 *   @fd is not a dma-buf, or is a dma-buf of another exporter; @flags has
 *   unknown bits, or neither %COHBUF_SYNC_READ nor %COHBUF_SYNC_WRITE;
 *   @len is 0; @offset + @len overflows or is beyond the end of the
 *   buffer.
 */
#define COHBUF_IOCTL_SYNC	_IOWR(COHBUF_IOC_MAGIC, 0x02, \
				      struct cohbuf_sync_data)

/**
 * DOC: COHBUF_IOCTL_WRITE_FILE
 *
 * Write one range of a buffer to a file with no copy through user space;
 * the argument is &struct cohbuf_write_file_data. It is pwrite(2) with
 * the buffer's pages as the source: the kernel hands the file's
 * write_iter a list of the pages themselves (a bio_vec iterator), so a
 * file opened with O_DIRECT on a block device gets the device's DMA
 * straight from the buffer, and any other file one copy into its page
 * cache, by the kernel. A mapping of the buffer cannot be the source of
 * O_DIRECT instead: its pages are not the kind get_user_pages() pins
 * (see Documentation/exporter.rst).
 *
 * The file decides everything a write decides: O_DIRECT alignment
 * (``EINVAL`` for a range or @file_offset its block size does not divide),
 * O_APPEND (the range goes to the end of the file whatever @file_offset
 * says, as with pwrite(2) on Linux), O_DSYNC, and which errors it
 * returns. The buffer's reference is held for the whole call, so closing
 * every other fd of it meanwhile is harmless.
 *
 * A %COHBUF_CACHE_CACHED range is synced for the CPU first, as
 * %COHBUF_IOCTL_SYNC with %COHBUF_SYNC_START | %COHBUF_SYNC_READ would.
 * Like that ioctl, this one waits for no fence: the caller knows that the
 * devices are done with the range.
 *
 * The range is written in pieces; a signal that arrives between two stops
 * the call. As with write(2), a call that wrote something succeeds, and
 * @written says how much (less than @len after a signal, a full device or
 * the file's size limit); one that failed before writing anything
 * returns the error.
 *
 * Errors, besides those of every ioctl and those of the file's write:
 *
 * ``EBADF``
 *   @fd or @file_fd is not an open file descriptor; @file_fd is not open
 *   for writing.
 * ``EINVAL``
 *   @fd is not a dma-buf, or is a dma-buf of another exporter; @flags,
 *   @pad or @written is not 0; @len is 0; @offset + @len overflows or is
 *   beyond the end of the buffer; @file_offset is negative; the file
 *   cannot be written this way (a device without a write_iter, such as
 *   /dev/cohbuf), or, with O_DIRECT, refuses the alignment.
 * ``ESPIPE``
 *   the file has no position: a pipe, a FIFO, a socket, a dma-buf.
 * ``EFBIG``
 *   @file_offset is at or beyond the largest size the file may have (its
 *   file system's, or RLIMIT_FSIZE, which also sends SIGXFSZ).
 * ``EOPNOTSUPP``
 *   the buffer is %COHBUF_CACHE_WC and the cohbuf device is not
 *   DMA-coherent: its pages are mapped uncached, and the kernel's own
 *   cached mapping of them, which the page cache would copy through, may
 *   hold stale data.
 * ``EINTR``
 *   a signal arrived before anything was written.
 */
#define COHBUF_IOCTL_WRITE_FILE	_IOWR(COHBUF_IOC_MAGIC, 0x03, \
				      struct cohbuf_write_file_data)

/**
 * DOC: COHBUF_IOCTL_MAP_PCI
 *
 * Map a buffer for a PCI device that user space drives, and tell user
 * space the addresses the device must use; the argument is
 * &struct cohbuf_map_pci_data. Only for callers with CAP_SYS_RAWIO: the
 * addresses let the device, and so the caller, reach the memory behind
 * every check of the kernel's.
 *
 * The addresses %COHBUF_IOCTL_INFO reports are the cohbuf device's own.
 * Without an IOMMU they are the same for every device of the system, but
 * behind one each device sees memory through its own translation, and
 * those addresses mean nothing to it (the IOMMU blocks them, or reaches
 * whatever happens to be mapped there). This call attaches the dma-buf to
 * the device named by @pci_domain, @pci_bus and @pci_devfn and maps it
 * for that device, %DMA_BIDIRECTIONAL, exactly as a kernel driver
 * importing it would, and returns a new file descriptor, @map_fd, that
 * holds the mapping until it is closed (its last copy: it is duplicated,
 * passed and inherited like any fd). The addresses of the mapping are
 * written to the @segs_ptr array, one &struct cohbuf_dma_seg per range
 * that is contiguous for the device, in buffer order: behind an IOMMU
 * that is often a single range for the whole buffer; without one, one per
 * chunk or more. Unlike %COHBUF_IOCTL_INFO, which succeeds with a short
 * array, this call fails with ``ENOSPC`` when @segs_cap is below the
 * number of segments, because a part of a mapping's addresses is of no
 * use; @nr_segs then tells how many there are, and nothing is held. A
 * call with @segs_cap 0 is thus a query, at the price of a mapping made
 * and undone; the chunk count %COHBUF_IOCTL_INFO reports is an upper
 * bound on most systems, not a promise.
 *
 * The fd holds references to the device (its struct pci_dev) and to the
 * buffer: the buffer lives while the fd does, even if every other fd of
 * it is closed. Closing the fd unmaps the buffer from the device; behind
 * a strict IOMMU the device then faults on the addresses, and without one
 * it reaches memory that may belong to anyone else: stop the device
 * first. If the device goes away while the fd is open (PCI remove,
 * hot unplug), the buffer is unmapped from it as the device is deleted,
 * while the IOMMU still knows it; the fd stays valid and holds nothing
 * but the buffer and a device that no longer exists. Unbinding or
 * binding the device's driver changes nothing: the mapping lives in the
 * device's kernel DMA domain. Handing the device to VFIO replaces that
 * domain with user space's own, in which these addresses are not mapped.
 * Where the DMA configuration of a device is made when a driver probes
 * it (arm64 with a device tree or ACPI), a device that no driver ever
 * probed may not be set up for DMA: bind it once, to pci-stub or
 * uio_pci_generic, before mapping for it.
 *
 * Cache maintenance is the buffer's, as for any importer (see "cohbuf
 * cache modes"): on a device that is not DMA-coherent, a
 * %COHBUF_CACHE_CACHED buffer must be synced with DMA_BUF_IOCTL_SYNC or
 * %COHBUF_IOCTL_SYNC, END with %COHBUF_SYNC_WRITE after the CPU wrote
 * what the device will read, START with %COHBUF_SYNC_READ before the CPU
 * reads what the device wrote; each sync reaches this mapping too. On a
 * coherent device (x86) they do nothing. A %COHBUF_CACHE_WC buffer needs
 * no sync beyond draining the CPU's write-combining buffers (END), and
 * cannot be mapped for a device that would need cache maintenance.
 *
 * Errors, besides those of every ioctl:
 *
 * ``EPERM``
 *   the caller lacks CAP_SYS_RAWIO; nothing else is looked at.
 * ``EBADF``
 *   @fd is not an open file descriptor.
 * ``EINVAL``
 *   @fd is not a dma-buf, or is a dma-buf of another exporter; @flags has
 *   unknown bits; @pad, @pad2, @nr_segs or @map_fd is not 0; @segs_cap
 *   is not 0 but @segs_ptr is 0.
 * ``ENODEV``
 *   there is no PCI device at @pci_domain, @pci_bus, @pci_devfn (or the
 *   kernel has no PCI support).
 * ``ENOSPC``
 *   the mapping has more than @segs_cap segments; @nr_segs is written
 *   back.
 * ``ERANGE``
 *   a segment reaches beyond @dma_mask, or beyond the device's DMA mask.
 * ``EOPNOTSUPP``
 *   the buffer is %COHBUF_CACHE_WC and the device would need cache
 *   maintenance or bounce buffers to use it.
 * ``ENOMEM``
 *   no memory for the mapping, or no room for it in the device's address
 *   space.
 * ``EMFILE``
 *   the process has no free file descriptor.
 * ``EFAULT``
 *   the segment array is not writable.
 */
#define COHBUF_IOCTL_MAP_PCI	_IOWR(COHBUF_IOC_MAGIC, 0x04, \
				      struct cohbuf_map_pci_data)

/**
 * DOC: cohbuf cache modes
 *
 * %COHBUF_CACHE_CACHED buffers are ordinary cacheable memory, allocated
 * with dma_alloc_pages() and mapped cached by the CPU everywhere (user
 * mmap, kernel vmap). On a device that is not DMA-coherent (arm64 without
 * a cache-coherent interconnect) the CPU's caches and memory disagree
 * until someone syncs: DMA_BUF_IOCTL_SYNC (the whole buffer, after
 * waiting for the fences) or %COHBUF_IOCTL_SYNC (one range) on the CPU's
 * side, map and unmap for importers. Each sync reaches the DMA API for
 * cohbuf's own mapping and for every importer's. On a coherent device
 * (x86) the syncs do nothing and cost a system call.
 *
 * %COHBUF_CACHE_WC buffers are coherent memory from dma_alloc_wc(). On a
 * non-coherent device the DMA API maps it write-combined (Normal
 * Non-cacheable on arm64), and every CPU mapping of it is made the same
 * way, so nothing is ever synced and importers on any device read what the
 * CPU wrote; CPU reads are uncached and slow. On a coherent device it is
 * cached memory, exactly like %COHBUF_CACHE_CACHED without the syncs.
 */

/**
 * DOC: mapping a cohbuf dma-buf
 *
 * mmap() of a dma-buf fd from %COHBUF_IOCTL_ALLOC maps the window that
 * starts at the call's page offset and covers its length, anywhere inside
 * the buffer and across chunk boundaries. The mapping is VM_DONTEXPAND,
 * so mremap() cannot grow it (``EFAULT``; shrinking works), and VM_DONTDUMP, so core
 * dumps leave it out.
 *
 * Errors of mmap():
 *
 * ``EINVAL``
 *   the mapping is not MAP_SHARED; the window reaches past the end of the
 *   buffer (offsets near 2^64 fail with ``EINVAL`` or ``EOVERFLOW``).
 * ``EPERM``
 *   PROT_EXEC is asked for, also implicitly (READ_IMPLIES_EXEC, as under
 *   ``setarch -X``); mprotect() cannot add it later either. Memory that
 *   devices write is never executable.
 * ``EACCES``
 *   PROT_WRITE on a buffer allocated O_RDONLY.
 */

#endif /* _UAPI_LINUX_COHBUF_H */
