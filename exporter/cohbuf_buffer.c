// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: buffer lifetime, limits and accounting.
 *
 * A buffer is charged against max_total_bytes before its memory is
 * allocated, is put on the global list once exported, and is taken off
 * the list, freed and uncharged by the dma-buf release callback. From the
 * moment dma_buf_export() succeeds the dma-buf owns the buffer.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cohbuf_drv.h"

static unsigned long max_total_bytes = SZ_512M;
module_param(max_total_bytes, ulong, 0644);
MODULE_PARM_DESC(max_total_bytes,
		 "Limit in bytes on all buffers together (default 512 MiB)");

struct cohbuf_state cohbuf_state = {
	.lock = __MUTEX_INITIALIZER(cohbuf_state.lock),
	.buffers = LIST_HEAD_INIT(cohbuf_state.buffers),
};

/* Last buffer id handed out; ids start at 1. */
static atomic64_t cohbuf_last_id = ATOMIC64_INIT(0);

static int cohbuf_charge(size_t size)
{
	struct cohbuf_stats *st = &cohbuf_state.stats;
	u64 limit = READ_ONCE(max_total_bytes);
	int ret = -ENOMEM;

	mutex_lock(&cohbuf_state.lock);
	if (st->live_bytes <= limit && size <= limit - st->live_bytes) {
		st->live_bytes += size;
		ret = 0;
	}
	mutex_unlock(&cohbuf_state.lock);
	return ret;
}

static void cohbuf_uncharge(size_t size)
{
	mutex_lock(&cohbuf_state.lock);
	cohbuf_state.stats.live_bytes -= size;
	mutex_unlock(&cohbuf_state.lock);
}

/**
 * cohbuf_stats_record() - count the outcome of an allocation
 * @success: whether the ALLOC ioctl is about to return 0, or
 *	cohbuf_alloc_dmabuf() about to return a dma-buf
 */
void cohbuf_stats_record(bool success)
{
	mutex_lock(&cohbuf_state.lock);
	if (success)
		cohbuf_state.stats.allocations++;
	else
		cohbuf_state.stats.failures++;
	mutex_unlock(&cohbuf_state.lock);
}

static void cohbuf_register(struct cohbuf_buffer *buf)
{
	struct cohbuf_stats *st = &cohbuf_state.stats;

	mutex_lock(&cohbuf_state.lock);
	list_add_tail(&buf->node, &cohbuf_state.buffers);
	st->live_buffers++;
	st->peak_bytes = max(st->peak_bytes, st->live_bytes);
	mutex_unlock(&cohbuf_state.lock);
}

static void cohbuf_unregister(struct cohbuf_buffer *buf)
{
	mutex_lock(&cohbuf_state.lock);
	list_del(&buf->node);
	cohbuf_state.stats.live_buffers--;
	mutex_unlock(&cohbuf_state.lock);
}

static struct cohbuf_buffer *cohbuf_buffer_create(struct device *dev,
						  const struct cohbuf_request *req)
{
	struct cohbuf_buffer *buf;
	int ret;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&buf->node);
	buf->dev = dev;
	buf->size = req->size;
	buf->flags = req->flags;
	buf->cache_mode = req->cache_mode;
	cohbuf_sync_init(buf);
	if (req->cache_mode == COHBUF_CACHE_WC)
		buf->dma_attrs |= DMA_ATTR_WRITE_COMBINE;
	if (req->flags & COHBUF_ALLOC_CONTIGUOUS)
		buf->dma_attrs |= DMA_ATTR_FORCE_CONTIGUOUS;
	ret = cohbuf_chunks_alloc(buf);
	if (ret) {
		mutex_destroy(&buf->maps_lock);
		kfree(buf);
		return ERR_PTR(ret);
	}
	return buf;
}

/* Frees a buffer that has no dma-buf, or whose dma-buf is being released. */
static void cohbuf_buffer_destroy(struct cohbuf_buffer *buf)
{
	cohbuf_chunks_free(buf);
	mutex_destroy(&buf->maps_lock);
	kfree(buf);
}

/* Hand a kstrdup()ed name to the dma-buf core, which kfree()s it. */
static void cohbuf_set_name(struct dma_buf *dmabuf, char *name)
{
	spin_lock(&dmabuf->name_lock);
	dmabuf->name = name;
	spin_unlock(&dmabuf->name_lock);
}

/*
 * Export @buf. On success the dma-buf owns @buf; on failure nothing
 * changed and the caller still owns it.
 */
static struct dma_buf *cohbuf_export(struct cohbuf_buffer *buf,
				     const struct cohbuf_request *req)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dma_buf *dmabuf;
	char *name = NULL;

	if (req->name[0]) {
		name = kstrdup(req->name, GFP_KERNEL);
		if (!name)
			return ERR_PTR(-ENOMEM);
	}
	exp_info.exp_name = "cohbuf";
	exp_info.ops = &cohbuf_dmabuf_ops;
	exp_info.size = buf->size;
	exp_info.flags = req->access_mode;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(name);
		return dmabuf;
	}
	/*
	 * Ownership of @buf (its memory and its charge) and of @name passes
	 * to @dmabuf here. From now on only cohbuf_buffer_release(), called
	 * by the dma-buf core when the last reference goes, frees them; any
	 * later error path must use dma_buf_put().
	 */
	buf->dmabuf = dmabuf;
	cohbuf_set_name(dmabuf, name);
	cohbuf_register(buf);
	return dmabuf;
}

/**
 * cohbuf_buffer_export() - allocate a buffer and export it
 * @dev: device to allocate the DMA-coherent memory for
 * @req: validated request
 *
 * The returned dma-buf holds the only reference and no fd yet; the caller
 * either installs dmabuf->file in an fd or drops it with dma_buf_put().
 *
 * Return: the dma-buf or an ERR_PTR(): -ENOMEM (limit or memory), -EINTR,
 * or what dma_buf_export() returns (-ENOMEM, -ENFILE).
 */
struct dma_buf *cohbuf_buffer_export(struct device *dev,
				     const struct cohbuf_request *req)
{
	struct cohbuf_buffer *buf;
	struct dma_buf *dmabuf;
	int ret;

	ret = cohbuf_charge(req->size);
	if (ret)
		return ERR_PTR(ret);
	buf = cohbuf_buffer_create(dev, req);
	if (IS_ERR(buf)) {
		dmabuf = ERR_CAST(buf);
		goto err_uncharge;
	}
	/* Ids increase; a failed export leaves a gap. */
	buf->id = atomic64_inc_return(&cohbuf_last_id);
	dmabuf = cohbuf_export(buf, req);
	if (IS_ERR(dmabuf))
		goto err_destroy;
	return dmabuf;

err_destroy:
	cohbuf_buffer_destroy(buf);
err_uncharge:
	cohbuf_uncharge(req->size);
	return dmabuf;
}

/**
 * cohbuf_buffer_release() - free an exported buffer
 * @buf: buffer whose dma-buf is being destroyed
 *
 * Called from the dma_buf_ops release callback only.
 */
void cohbuf_buffer_release(struct cohbuf_buffer *buf)
{
	size_t size = buf->size;

	cohbuf_unregister(buf);
	cohbuf_buffer_destroy(buf);
	cohbuf_uncharge(size);
}
