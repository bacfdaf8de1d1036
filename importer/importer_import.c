// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: importing dma-bufs.
 *
 * An import is the usual importer sequence: dma_buf_get(), dma_buf_attach()
 * to the importer device, a DMA mapping of the whole buffer for that
 * device (its scatterlist is checked to cover the buffer, through the DMA
 * view only), and a kernel mapping for the engine, which plays the device
 * with the CPU. The import holds its own dma-buf reference, so the user's
 * fd may be closed, and the dma-buf holds its exporter's module.
 *
 * An import is referenced by its handle and by every job using it. The
 * last reference is always dropped in process context (RELEASE, WAIT or
 * close), never by the engine: unmapping takes the reservation lock.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <cohbuf_compat.h>
#include "importer.h"

/* The DMA view must cover the buffer; CPU-side fields are not looked at. */
static int cohbuf_imp_sgt_check(struct sg_table *sgt, size_t size)
{
	struct scatterlist *sg;
	u64 total = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!sg_dma_len(sg))
			return -EIO;
		total += sg_dma_len(sg);
	}
	return total < size ? -EIO : 0;
}

static int cohbuf_imp_import_map(struct cohbuf_imp_import *imp,
				 struct device *dev)
{
	int ret;

	imp->attach = dma_buf_attach(imp->dmabuf, dev);
	if (IS_ERR(imp->attach))
		return PTR_ERR(imp->attach);
	imp->sgt = dma_buf_map_attachment_unlocked(imp->attach,
						   DMA_BIDIRECTIONAL);
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto err_detach;
	}
	ret = cohbuf_imp_sgt_check(imp->sgt, imp->size);
	if (ret)
		goto err_unmap;
	ret = cohbuf_dma_buf_vmap_unlocked(imp->dmabuf, &imp->map);
	if (ret)
		goto err_unmap;
	if (!imp->map.is_iomem)
		return 0;
	ret = -EOPNOTSUPP;
	cohbuf_dma_buf_vunmap_unlocked(imp->dmabuf, &imp->map);
err_unmap:
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(imp->dmabuf, imp->attach);
	return ret;
}

static struct cohbuf_imp_import *cohbuf_imp_import_create(struct device *dev,
							  int fd)
{
	struct cohbuf_imp_import *imp;
	int ret;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	kref_init(&imp->ref);
	imp->dmabuf = dma_buf_get(fd);
	if (IS_ERR(imp->dmabuf)) {
		ret = PTR_ERR(imp->dmabuf);
		goto err_free;
	}
	imp->size = imp->dmabuf->size;
	ret = cohbuf_imp_import_map(imp, dev);
	if (ret)
		goto err_put;
	imp->nents = imp->sgt->nents;
	atomic64_inc(&cohbuf_imp_stats.imports);
	return imp;

err_put:
	dma_buf_put(imp->dmabuf);
err_free:
	kfree(imp);
	return ERR_PTR(ret);
}

static void cohbuf_imp_import_destroy(struct kref *ref)
{
	struct cohbuf_imp_import *imp = container_of(ref,
						     struct cohbuf_imp_import,
						     ref);

	cohbuf_dma_buf_vunmap_unlocked(imp->dmabuf, &imp->map);
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	kfree(imp);
	atomic64_inc(&cohbuf_imp_stats.releases);
}

/**
 * cohbuf_imp_import_put() - drop a reference to an import
 * @imp: the import; process context, no reservation lock held
 */
void cohbuf_imp_import_put(struct cohbuf_imp_import *imp)
{
	kref_put(&imp->ref, cohbuf_imp_import_destroy);
}

/**
 * cohbuf_imp_import_get() - look up a handle
 * @ctx: the context
 * @handle: a handle from COHBUF_IMP_IOCTL_IMPORT
 *
 * Return: a new reference to the import, or NULL if there is no such
 * handle.
 */
struct cohbuf_imp_import *cohbuf_imp_import_get(struct cohbuf_imp_ctx *ctx,
						u32 handle)
{
	struct cohbuf_imp_import *imp;

	xa_lock(&ctx->imports);
	imp = xa_load(&ctx->imports, handle);
	if (imp)
		kref_get(&imp->ref);
	xa_unlock(&ctx->imports);
	return imp;
}

/**
 * cohbuf_imp_import() - COHBUF_IMP_IOCTL_IMPORT
 * @ctx: the context
 * @d: the argument, already copied in
 * @uarg: user copy of the argument, for the write-back
 * @usize: its size
 *
 * The handle is published before the write-back and withdrawn if that
 * fails, unless another thread released it meanwhile. A reference of our
 * own is held until then, so that @imp cannot be freed and its address
 * reused under us.
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
int cohbuf_imp_import(struct cohbuf_imp_ctx *ctx,
		      struct cohbuf_imp_import_data *d,
		      void __user *uarg, size_t usize)
{
	struct cohbuf_imp_import *imp;
	int ret;

	if (d->flags)
		return -EINVAL;
	imp = cohbuf_imp_import_create(ctx->dev, (int)d->fd);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	kref_get(&imp->ref);		/* for the handle table */
	ret = xa_alloc(&ctx->imports, &imp->handle, imp, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		cohbuf_imp_import_put(imp);
		goto out_put;
	}
	d->handle = imp->handle;
	d->nents = imp->nents;
	d->size = imp->size;
	ret = cohbuf_imp_copy_out(uarg, usize, d, sizeof(*d));
	if (ret && xa_cmpxchg(&ctx->imports, imp->handle, imp, NULL, 0) == imp)
		cohbuf_imp_import_put(imp);
out_put:
	cohbuf_imp_import_put(imp);
	return ret;
}

/**
 * cohbuf_imp_release() - COHBUF_IMP_IOCTL_RELEASE
 * @ctx: the context
 * @handle: the handle to forget
 *
 * Return: 0, or -ENOENT if @handle is not live.
 */
int cohbuf_imp_release(struct cohbuf_imp_ctx *ctx, u32 handle)
{
	struct cohbuf_imp_import *imp;

	/*
	 * Index 0 of an XA_FLAGS_ALLOC1 array holds the reservation that
	 * keeps xa_alloc() from handing it out: erasing it would make the
	 * next IMPORT return handle 0, which the uapi promises never to do.
	 */
	if (!handle)
		return -ENOENT;
	imp = xa_erase(&ctx->imports, handle);
	if (!imp)
		return -ENOENT;
	cohbuf_imp_import_put(imp);
	return 0;
}

/**
 * cohbuf_imp_imports_drop() - forget every handle of a closing context
 * @ctx: the context; no ioctl can run on it any more
 */
void cohbuf_imp_imports_drop(struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_import *imp;
	unsigned long handle;

	xa_for_each(&ctx->imports, handle, imp) {
		xa_erase(&ctx->imports, handle);
		cohbuf_imp_import_put(imp);
	}
	xa_destroy(&ctx->imports);
}
