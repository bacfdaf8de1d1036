/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf: DMA-BUF exporter of DMA-coherent memory, userspace API.
 *
 * All ioctls are issued on /dev/cohbuf. Argument structures may grow at
 * their end in later versions. The kernel takes the argument size from the
 * ioctl number: a shorter (older) structure is zero-extended, a longer
 * (newer) one is accepted only if every byte the kernel does not know is
 * zero. On return the kernel writes back at most as many bytes as user
 * space passed in.
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

/* Values of cohbuf_alloc_data.cache_mode and cohbuf_info_data.cache_mode */
#define COHBUF_CACHE_CACHED	0U	/* dma_alloc_coherent() semantics */
#define COHBUF_CACHE_WC		1U	/* dma_alloc_wc() semantics */

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
 *
 * Output fields are ignored on input.
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

/*
 * The one ioctl magic of cohbuf's devices. Numbers 0x00-0x0f are
 * /dev/cohbuf's, 0x10-0x2f /dev/cohbuf-importer's (linux/cohbuf_importer.h);
 * 0x30-0x3f are reserved for them. In Documentation/userspace-api/
 * ioctl-number.rst this would read: 'J' 00-3F linux/cohbuf.h.
 */
#define COHBUF_IOC_MAGIC	'J'

/*
 * COHBUF_IOCTL_ALLOC - allocate a buffer and export it as a dma-buf.
 *
 * The buffer is zeroed. It is made of one or more chunks of DMA-coherent
 * memory; with COHBUF_ALLOC_CONTIGUOUS it is exactly one chunk. mmap() of
 * the returned fd must be MAP_SHARED and may cover any page-aligned window
 * of the buffer.
 *
 * Errors:
 *  EINVAL	@size is 0; @fd or @id is not 0; @fd_flags has bits other
 *		than O_CLOEXEC and the access mode, or the access mode is
 *		not O_RDWR or O_RDONLY; @flags has unknown bits; @cache_mode
 *		is unknown; @name has no NUL; the ioctl size is smaller than
 *		COHBUF_ALLOC_DATA_SIZE_VER0; a byte beyond the structure the
 *		kernel knows is not zero
 *  E2BIG	@size rounded up to the page size exceeds the max_buffer_size
 *		module parameter (this includes sizes that overflow when
 *		rounded, such as 2^64 - 1)
 *  ENOMEM	the buffer would exceed the max_total_bytes module parameter;
 *		memory could not be allocated, including a contiguous buffer
 *		for which no single chunk is available
 *  EMFILE	the process has no free file descriptor
 *  ENFILE	the system file table is full
 *  EFAULT	the argument is not readable or writable
 *  EINTR	a fatal signal arrived during the allocation
 *  ENOTTY	unknown ioctl number
 */
#define COHBUF_IOCTL_ALLOC	_IOWR(COHBUF_IOC_MAGIC, 0x00, \
				      struct cohbuf_alloc_data)

/*
 * COHBUF_IOCTL_INFO - describe a cohbuf dma-buf.
 *
 * Chunk lengths are always reported. Chunk DMA addresses are reported, and
 * COHBUF_INFO_DMA_ADDR_VALID is set, only if the caller has CAP_SYS_RAWIO;
 * otherwise they read as 0. At most @chunks_cap entries are written.
 *
 * Errors:
 *  EBADF	@fd is not an open file descriptor
 *  EINVAL	@fd is not a dma-buf, or is a dma-buf from another exporter;
 *		@chunks_cap is not 0 but @chunks_ptr is 0; the ioctl size is
 *		smaller than COHBUF_INFO_DATA_SIZE_VER0; a byte beyond the
 *		structure the kernel knows is not zero
 *  EFAULT	the argument or the chunk array is not accessible
 *  ENOTTY	unknown ioctl number
 */
#define COHBUF_IOCTL_INFO	_IOWR(COHBUF_IOC_MAGIC, 0x01, \
				      struct cohbuf_info_data)

#endif /* _UAPI_LINUX_COHBUF_H */
