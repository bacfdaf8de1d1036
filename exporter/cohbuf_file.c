// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: writing a range of a buffer to a file (COHBUF_IOCTL_WRITE_FILE).
 *
 * Why an in-kernel write, and not direct I/O from a user mapping: a cohbuf
 * mapping is made with remap_pfn_range(), so get_user_pages() refuses it
 * (VM_PFNMAP), and O_DIRECT, vmsplice() and process_vm_readv() from it
 * fail with EFAULT. Letting GUP pin the pages instead would be worse: a
 * pin is a page reference user space controls, it can outlive the buffer
 * (an io_uring registered buffer, a stuck bio), and memory from
 * dma_alloc_*() and CMA must come back to the DMA API with no extra
 * reference (CMA's free warns about them, and the page would be reused
 * under the pin). Here the kernel describes the pages with a bio_vec
 * iterator and calls vfs_iter_write() itself, holding the dma-buf's
 * reference until the write returned: a bio_vec iterator takes no page
 * reference (the block layer's direct I/O uses the array as it is), and
 * vfs_iter_write() returns only after synchronous I/O completed, so
 * nothing refers to the pages once this call is done.
 *
 * An O_DIRECT file on a block device then gets the device's DMA straight
 * from the buffer; a buffered file gets one copy, by the kernel, through
 * the pages' kernel (linear map) addresses. That is why a write-combined
 * buffer of a non-coherent device is refused: its memory is mapped
 * uncached everywhere cohbuf maps it, but the linear map is cacheable,
 * and a copy through it could read stale lines.
 */

#include <linux/bvec.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/dma-map-ops.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "cohbuf_drv.h"

/* Bytes per vfs_iter_write() call; signals are checked between calls. */
#define COHBUF_WRITE_STEP	SZ_16M

/* Number of sg entries of @buf's chunks that overlap [@start, @end). */
static unsigned int cohbuf_file_nr_segs(const struct cohbuf_buffer *buf,
					u64 start, u64 end)
{
	struct scatterlist *sg;
	unsigned int i, j, n = 0;
	u64 pos = 0;

	for (i = 0; i < buf->nr_chunks && pos < end; i++) {
		for_each_sgtable_sg(&buf->chunks[i].sgt, sg, j) {
			if (pos < end && pos + sg->length > start)
				n++;
			pos += sg->length;
		}
	}
	return n;
}

/*
 * Fill @bv with the pieces of @buf's sg entries inside [@start, @end),
 * in buffer order; @bv has cohbuf_file_nr_segs() entries.
 */
static void cohbuf_file_fill(const struct cohbuf_buffer *buf, u64 start,
			     u64 end, struct bio_vec *bv)
{
	struct scatterlist *sg;
	unsigned int i, j;
	u64 pos = 0, lo, hi;

	for (i = 0; i < buf->nr_chunks && pos < end; i++) {
		for_each_sgtable_sg(&buf->chunks[i].sgt, sg, j) {
			lo = max(start, pos);
			hi = min(end, pos + sg->length);
			if (lo < hi) {
				bvec_set_page(bv++, sg_page(sg), hi - lo,
					      sg->offset + (lo - pos));
			}
			pos += sg->length;
		}
	}
}

/* Write @iter to @file at *@pos in steps: bytes written, or an errno. */
static ssize_t cohbuf_file_write_iter(struct file *file, struct iov_iter *iter,
				      loff_t *pos)
{
	size_t total = iov_iter_count(iter), done = 0, step;
	ssize_t ret = 0;

	while (done < total) {
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		step = min_t(size_t, total - done, COHBUF_WRITE_STEP);
		iov_iter_truncate(iter, step);
		ret = vfs_iter_write(file, iter, pos, 0);
		if (ret <= 0)
			break;
		done += ret;
		iov_iter_reexpand(iter, total - done);
		if (ret < step)
			break;	/* the file took less: full, or at its limit */
	}
	return done ? done : ret;
}

/* The checks that need the buffer; 0 or the documented errno. */
static int cohbuf_file_buffer_check(const struct cohbuf_buffer *buf,
				    u64 offset, u64 len)
{
	u64 end;

	if (check_add_overflow(offset, len, &end) || end > buf->size)
		return -EINVAL;
	if (!cohbuf_buffer_streaming(buf) && !dev_is_dma_coherent(buf->dev))
		return -EOPNOTSUPP;
	return 0;
}

/* The checks that need the file; 0 or the documented errno. */
static int cohbuf_file_dest_check(const struct file *file)
{
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!(file->f_mode & FMODE_PWRITE))
		return -ESPIPE;
	return 0;
}

/* Write [@offset, @offset + @len) of @buf to @file at @file_offset. */
static ssize_t cohbuf_file_write_range(struct cohbuf_buffer *buf,
				       struct file *file, u64 offset, u64 len,
				       loff_t file_offset)
{
	struct iov_iter iter;
	struct bio_vec *bv;
	unsigned int n;
	ssize_t ret;

	n = cohbuf_file_nr_segs(buf, offset, offset + len);
	bv = kvmalloc_array(n, sizeof(*bv), COHBUF_GFP);
	if (!bv)
		return -ENOMEM;
	cohbuf_file_fill(buf, offset, offset + len, bv);
	iov_iter_bvec(&iter, ITER_SOURCE, bv, n, len);
	/* What the devices wrote, for a copy by the CPU. */
	cohbuf_sync_range(buf, offset, len, DMA_FROM_DEVICE, true);
	ret = cohbuf_file_write_iter(file, &iter, &file_offset);
	kvfree(bv);
	return ret;
}

/**
 * cohbuf_write_file() - COHBUF_IOCTL_WRITE_FILE
 * @data: the argument, copied in; @data->written is set on success
 *
 * Return: 0 or a negative errno, as documented in the uapi header.
 */
int cohbuf_write_file(struct cohbuf_write_file_data *data)
{
	struct cohbuf_buffer *buf;
	struct dma_buf *dmabuf;
	struct file *file;
	ssize_t ret;

	if (data->flags || data->pad || data->written || !data->len ||
	    data->file_offset < 0)
		return -EINVAL;
	dmabuf = dma_buf_get(data->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = cohbuf_buffer_from_dmabuf(dmabuf);
	ret = buf ? cohbuf_file_buffer_check(buf, data->offset, data->len) :
		    -EINVAL;
	if (ret)
		goto out_put_dmabuf;
	file = fget(data->file_fd);
	ret = -EBADF;
	if (!file)
		goto out_put_dmabuf;
	ret = cohbuf_file_dest_check(file);
	if (ret)
		goto out_put_file;
	/* A pwrite() writes at most MAX_RW_COUNT bytes; so does this. */
	ret = cohbuf_file_write_range(buf, file, data->offset,
				      min_t(u64, data->len, MAX_RW_COUNT),
				      data->file_offset);
	if (ret >= 0) {
		data->written = ret;
		ret = 0;
	}
out_put_file:
	fput(file);
out_put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}
