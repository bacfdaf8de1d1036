// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: ioctl argument handling for /dev/cohbuf.
 *
 * Arguments are extensible structures (see the uapi header): the size is
 * taken from the ioctl number, a shorter structure is zero-extended, and
 * a longer one must be zero beyond what this module knows.
 */

#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-buf.h>

#include <cohbuf_uarg.h>
#include "cohbuf_drv.h"

#define COHBUF_FD_FLAGS_MASK	(O_CLOEXEC | O_ACCMODE)

/* Chunk counts and sg_table lengths are unsigned int. */
#define COHBUF_MAX_PAGES	((u64)INT_MAX)

static unsigned long max_buffer_size = SZ_256M;
module_param(max_buffer_size, ulong, 0644);
MODULE_PARM_DESC(max_buffer_size,
		 "Largest buffer in bytes (default 256 MiB)");

static_assert(COHBUF_NAME_LEN == DMA_BUF_NAME_LEN);
static_assert(offsetofend(struct cohbuf_alloc_data, name) ==
	      COHBUF_ALLOC_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_info_data, info_flags) ==
	      COHBUF_INFO_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_sync_data, len) ==
	      COHBUF_SYNC_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_write_file_data, written) ==
	      COHBUF_WRITE_FILE_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_map_pci_data, pad2) ==
	      COHBUF_MAP_PCI_DATA_SIZE_VER0);
/* The flags are those of DMA_BUF_IOCTL_SYNC, so programs can share them. */
static_assert(DMA_BUF_SYNC_READ == COHBUF_SYNC_READ);
static_assert(DMA_BUF_SYNC_WRITE == COHBUF_SYNC_WRITE);
static_assert(DMA_BUF_SYNC_END == COHBUF_SYNC_END);

/**
 * cohbuf_size_check() - validate and round a requested buffer size
 * @len: size requested by user space
 * @size: on success, @len rounded up to a multiple of PAGE_SIZE
 *
 * Return: 0, -EINVAL for 0, or -E2BIG if the rounded size exceeds
 * max_buffer_size (or cannot be represented).
 */
static int cohbuf_size_check(u64 len, size_t *size)
{
	u64 max = READ_ONCE(max_buffer_size);
	u64 aligned;

	if (!len)
		return -EINVAL;
	if (check_add_overflow(len, (u64)PAGE_SIZE - 1, &aligned))
		return -E2BIG;
	aligned &= ~((u64)PAGE_SIZE - 1);
	if (aligned > max || (aligned >> PAGE_SHIFT) > COHBUF_MAX_PAGES)
		return -E2BIG;
	*size = aligned;
	return 0;
}

/**
 * cohbuf_alloc_check() - validate an allocation request
 * @len: requested size in bytes
 * @fd_flags: O_RDWR or O_RDONLY, optionally with O_CLOEXEC
 * @flags: COHBUF_ALLOC_* flags
 * @cache_mode: one of COHBUF_CACHE_*
 * @req: filled in on success; its name is left alone
 *
 * The checks the ALLOC ioctl and cohbuf_alloc_dmabuf() share.
 *
 * Return: 0, -EINVAL or -E2BIG as documented for COHBUF_IOCTL_ALLOC.
 */
int cohbuf_alloc_check(u64 len, u32 fd_flags, u32 flags, u32 cache_mode,
		       struct cohbuf_request *req)
{
	u32 accmode = fd_flags & O_ACCMODE;

	if (fd_flags & ~COHBUF_FD_FLAGS_MASK)
		return -EINVAL;
	if (accmode != O_RDWR && accmode != O_RDONLY)
		return -EINVAL;
	if (flags & ~COHBUF_ALLOC_FLAGS_MASK)
		return -EINVAL;
	if (cache_mode != COHBUF_CACHE_CACHED && cache_mode != COHBUF_CACHE_WC)
		return -EINVAL;
	req->flags = flags;
	req->cache_mode = cache_mode;
	req->access_mode = accmode;
	return cohbuf_size_check(len, &req->size);
}

static int cohbuf_alloc_parse(const struct cohbuf_alloc_data *d,
			      struct cohbuf_request *req)
{
	if (d->fd || d->id)
		return -EINVAL;
	if (strnlen(d->name, sizeof(d->name)) == sizeof(d->name))
		return -EINVAL;
	req->name = d->name;
	return cohbuf_alloc_check(d->size, d->fd_flags, d->flags,
				  d->cache_mode, req);
}

/*
 * Reserve an fd, report it, and only then install it: once installed an
 * fd cannot be taken back, so everything that can fail comes first. On
 * error the fd is released and the caller still owns its dma-buf ref.
 */
static int cohbuf_alloc_publish(struct dma_buf *dmabuf,
				struct cohbuf_alloc_data *data,
				void __user *uarg, size_t usize)
{
	int fd, ret;

	fd = get_unused_fd_flags(data->fd_flags & O_CLOEXEC);
	if (fd < 0)
		return fd;
	data->fd = fd;
	data->id = cohbuf_buffer_from_dmabuf(dmabuf)->id;
	ret = cohbuf_uarg_copy_out(uarg, usize, data, sizeof(*data));
	if (ret) {
		put_unused_fd(fd);
		return ret;
	}
	/* Consumes the reference dma_buf_export() gave us. */
	fd_install(fd, dmabuf->file);
	return 0;
}

static int cohbuf_ioctl_alloc(struct device *dev,
			      struct cohbuf_alloc_data *data,
			      void __user *uarg, size_t usize)
{
	struct cohbuf_request req;
	struct dma_buf *dmabuf;
	int ret;

	ret = cohbuf_alloc_parse(data, &req);
	if (ret)
		return ret;
	dmabuf = cohbuf_buffer_export(dev, &req);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_count;
	}
	ret = cohbuf_alloc_publish(dmabuf, data, uarg, usize);
	if (ret)
		goto err_put;
	cohbuf_stats_record(true);
	return 0;

err_put:
	dma_buf_put(dmabuf);	/* the buffer is freed by ->release */
err_count:
	cohbuf_stats_record(false);
	return ret;
}

static int cohbuf_info_chunks(const struct cohbuf_buffer *buf,
			      const struct cohbuf_info_data *data, bool raw)
{
	struct cohbuf_chunk_info __user *uci = u64_to_user_ptr(data->chunks_ptr);
	unsigned int i, n = min(data->chunks_cap, buf->nr_chunks);
	struct cohbuf_chunk_info ci;

	for (i = 0; i < n; i++) {
		ci.dma_addr = raw ? buf->chunks[i].dma_addr : 0;
		ci.len = buf->chunks[i].size;
		if (copy_to_user(&uci[i], &ci, sizeof(ci)))
			return -EFAULT;
	}
	return 0;
}

static int cohbuf_info_fill(const struct cohbuf_buffer *buf,
			    struct cohbuf_info_data *data)
{
	/* Lacking the capability is normal here: do not audit it. */
	bool raw = ns_capable_noaudit(&init_user_ns, CAP_SYS_RAWIO);

	data->size = buf->size;
	data->id = buf->id;
	data->flags = buf->flags;
	data->cache_mode = buf->cache_mode;
	data->nr_chunks = buf->nr_chunks;
	data->info_flags = raw ? COHBUF_INFO_DMA_ADDR_VALID : 0;
	return cohbuf_info_chunks(buf, data, raw);
}

static int cohbuf_ioctl_info(struct cohbuf_info_data *data,
			     void __user *uarg, size_t usize)
{
	struct cohbuf_buffer *buf;
	struct dma_buf *dmabuf;
	int ret;

	if (data->chunks_cap && !data->chunks_ptr)
		return -EINVAL;
	dmabuf = dma_buf_get(data->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = cohbuf_buffer_from_dmabuf(dmabuf);
	if (!buf) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = cohbuf_info_fill(buf, data);
	if (!ret)
		ret = cohbuf_uarg_copy_out(uarg, usize, data, sizeof(*data));
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* The CPU access of a sync, as the dma-buf core maps its own flags. */
static enum dma_data_direction cohbuf_sync_dir(u32 flags)
{
	switch (flags & COHBUF_SYNC_RW) {
	case COHBUF_SYNC_READ:
		return DMA_FROM_DEVICE;
	case COHBUF_SYNC_WRITE:
		return DMA_TO_DEVICE;
	default:
		return DMA_BIDIRECTIONAL;
	}
}

static int cohbuf_ioctl_sync(const struct cohbuf_sync_data *data)
{
	struct cohbuf_buffer *buf;
	struct dma_buf *dmabuf;
	u64 end;
	int ret = -EINVAL;

	if (data->flags & ~COHBUF_SYNC_FLAGS_MASK ||
	    !(data->flags & COHBUF_SYNC_RW) || !data->len ||
	    check_add_overflow(data->offset, data->len, &end))
		return -EINVAL;
	dmabuf = dma_buf_get(data->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = cohbuf_buffer_from_dmabuf(dmabuf);
	if (!buf || end > buf->size)
		goto out_put;
	cohbuf_sync_range(buf, data->offset, data->len,
			  cohbuf_sync_dir(data->flags),
			  !(data->flags & COHBUF_SYNC_END));
	ret = 0;
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* Every ioctl of /dev/cohbuf: read and written back, growable. */
static const struct cohbuf_uarg_ioctl cohbuf_ioctls[] = {
	{ COHBUF_IOCTL_ALLOC, COHBUF_ALLOC_DATA_SIZE_VER0 },
	{ COHBUF_IOCTL_INFO, COHBUF_INFO_DATA_SIZE_VER0 },
	{ COHBUF_IOCTL_SYNC, COHBUF_SYNC_DATA_SIZE_VER0 },
	{ COHBUF_IOCTL_WRITE_FILE, COHBUF_WRITE_FILE_DATA_SIZE_VER0 },
	{ COHBUF_IOCTL_MAP_PCI, COHBUF_MAP_PCI_DATA_SIZE_VER0 },
};

/**
 * cohbuf_ioctl() - dispatch an ioctl issued on /dev/cohbuf
 * @dev: device buffers are allocated for
 * @cmd: ioctl number; its size field gives the user structure size
 * @arg: user pointer to the argument
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
long cohbuf_ioctl(struct device *dev, unsigned int cmd, unsigned long arg)
{
	const struct cohbuf_uarg_ioctl *ioc;
	void __user *uarg = (void __user *)arg;
	size_t usize = _IOC_SIZE(cmd);
	union {
		struct cohbuf_alloc_data alloc;
		struct cohbuf_info_data info;
		struct cohbuf_sync_data sync;
		struct cohbuf_write_file_data wf;
		struct cohbuf_map_pci_data map;
	} k;
	int ret;

	ioc = cohbuf_uarg_find(cohbuf_ioctls, ARRAY_SIZE(cohbuf_ioctls), cmd);
	if (!ioc)
		return -ENOTTY;
	ret = cohbuf_uarg_copy_in_ioctl(ioc, &k, sizeof(k), uarg, cmd);
	if (ret)
		return ret;

	switch (ioc->cmd) {
	case COHBUF_IOCTL_ALLOC:
		return cohbuf_ioctl_alloc(dev, &k.alloc, uarg, usize);
	case COHBUF_IOCTL_INFO:
		return cohbuf_ioctl_info(&k.info, uarg, usize);
	case COHBUF_IOCTL_SYNC:
		return cohbuf_ioctl_sync(&k.sync);
	case COHBUF_IOCTL_WRITE_FILE:
		ret = cohbuf_write_file(&k.wf);
		return ret ?: cohbuf_uarg_copy_out(uarg, usize, &k.wf,
						   sizeof(k.wf));
	case COHBUF_IOCTL_MAP_PCI:
		return cohbuf_ioctl_map_pci(&k.map, uarg, usize);
	default:
		return -ENOTTY;
	}
}
