// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: importing dma-bufs.
 *
 * An import is the usual importer sequence: dma_buf_get(), dma_buf_attach()
 * to the importer device, a DMA mapping of the whole buffer for that
 * device (its scatterlist is checked to cover the buffer, through the DMA
 * view only), and a kernel mapping for the engine, which plays the device
 * with the CPU. The mapping holds its own dma-buf reference, so the user's
 * fd may be closed, and the dma-buf holds its exporter's module.
 *
 * Like a GPU driver's PRIME import, the device maps a dma-buf once: every
 * import of the same dma-buf, by any context, shares one attachment and
 * mapping (struct cohbuf_imp_mapping), torn down with the last import.
 * Mapping the same pages for one device several times is what the DMA
 * API's debugging calls overlapping mappings, and it costs IOMMU space.
 *
 * An import is referenced by its handle and by every job using it. The
 * last reference is always dropped in process context (RELEASE, WAIT or
 * close), never by the engine: unmapping takes the reservation lock.
 *
 * A job on a device engine also needs its buffers mapped for that device
 * (cohbuf_imp_mapping_for()): the same table holds those mappings, keyed
 * by dma-buf and device, and the device's driver revokes them all when it
 * is unbound (cohbuf_imp_mappings_revoke()), whoever still refers to them.
 *
 * The simulated device's cache maintenance is done here too, on the
 * mapping this file owns: cohbuf_imp_import_sync() makes the CPU's view
 * of a range what memory holds before the engine reads or writes it, and
 * writes what the engine wrote back to memory afterwards, as a device's
 * access would find and leave it (see "The engine is the device" in
 * importer_engine.c).
 *
 * Calls only the dma-buf core, the DMA API, the compat helpers and the
 * limits (to count handles); the ioctl file calls it for IMPORT and
 * RELEASE, the job file to look up, sync and drop the imports a job
 * uses, the stream queue and ring files for the regions and the ring
 * they hold and write, the edu driver for the device's mappings.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/refcount.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <cohbuf_compat.h>
#include <cohbuf_dmadev.h>
#include "importer.h"

/*
 * The live mappings, keyed by dma-buf. cohbuf_imp_maps_lock protects the
 * table and every mapping's refcount dropping to zero, and it is held
 * across creating and tearing down a mapping, so a dma-buf never has two
 * mappings for one device, not even for a moment. Nests outside the
 * dma-buf's reservation lock.
 */
static DEFINE_HASHTABLE(cohbuf_imp_maps, 6);
static DEFINE_MUTEX(cohbuf_imp_maps_lock);

static struct cohbuf_imp_mapping *cohbuf_imp_mapping_find(struct dma_buf *dmabuf,
							  struct device *dev)
{
	struct cohbuf_imp_mapping *m;

	lockdep_assert_held(&cohbuf_imp_maps_lock);
	hash_for_each_possible(cohbuf_imp_maps, m, node, (unsigned long)dmabuf)
		if (m->dmabuf == dmabuf && m->dev == dev)
			return m;
	return NULL;
}

/* Whether any DMA segment of @m needs the DMA API's syncs for @m->dev. */
static bool cohbuf_imp_mapping_need_sync(const struct cohbuf_imp_mapping *m)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(m->sgt, sg, i)
		if (dma_need_sync(m->dev, sg_dma_address(sg)))
			return true;
	return false;
}

/* Attach, map and vmap @m->dmabuf for @m->dev. */
static int cohbuf_imp_mapping_map(struct cohbuf_imp_mapping *m)
{
	int ret;

	m->attach = dma_buf_attach(m->dmabuf, m->dev);
	if (IS_ERR(m->attach))
		return PTR_ERR(m->attach);
	m->sgt = dma_buf_map_attachment_unlocked(m->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(m->sgt)) {
		ret = PTR_ERR(m->sgt);
		goto err_detach;
	}
	/* The DMA view must cover the buffer in segments the device takes. */
	ret = -EIO;
	if (!cohbuf_dma_sgt_fits(m->sgt, m->dev, m->dmabuf->size))
		goto err_unmap;
	m->need_sync = cohbuf_imp_mapping_need_sync(m);
	ret = cohbuf_dma_buf_vmap_unlocked(m->dmabuf, &m->map);
	if (ret)
		goto err_unmap;
	if (!m->map.is_iomem)
		return 0;
	ret = -EOPNOTSUPP;
	cohbuf_dma_buf_vunmap_unlocked(m->dmabuf, &m->map);
err_unmap:
	dma_buf_unmap_attachment_unlocked(m->attach, m->sgt, DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(m->dmabuf, m->attach);
	return ret;
}

/*
 * The mapping of @dmabuf for @dev, made on first use. Consumes the
 * caller's reference to @dmabuf: a new mapping keeps it, an existing one
 * already holds its own.
 */
static struct cohbuf_imp_mapping *cohbuf_imp_mapping_get(struct dma_buf *dmabuf,
							 struct device *dev)
{
	struct cohbuf_imp_mapping *m;
	int ret;

	/* An exporter may take its time to map: let a killed process go. */
	ret = mutex_lock_killable(&cohbuf_imp_maps_lock);
	if (ret) {
		dma_buf_put(dmabuf);
		return ERR_PTR(ret);
	}
	m = cohbuf_imp_mapping_find(dmabuf, dev);
	if (m) {
		kref_get(&m->ref);
		mutex_unlock(&cohbuf_imp_maps_lock);
		dma_buf_put(dmabuf);
		return m;
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	kref_init(&m->ref);
	m->dmabuf = dmabuf;
	m->dev = dev;
	ret = cohbuf_imp_mapping_map(m);
	if (ret)
		goto err_free;
	m->nents = m->sgt->nents;
	hash_add(cohbuf_imp_maps, &m->node, (unsigned long)dmabuf);
	atomic64_inc(&cohbuf_imp_stats.mappings);
	mutex_unlock(&cohbuf_imp_maps_lock);
	return m;

err_free:
	kfree(m);
err_unlock:
	mutex_unlock(&cohbuf_imp_maps_lock);
	dma_buf_put(dmabuf);
	return ERR_PTR(ret);
}

/* Under cohbuf_imp_maps_lock: take the last import's mapping down. */
static void cohbuf_imp_mapping_unmap(struct cohbuf_imp_mapping *m)
{
	lockdep_assert_held(&cohbuf_imp_maps_lock);
	hash_del(&m->node);
	cohbuf_dma_buf_vunmap_unlocked(m->dmabuf, &m->map);
	dma_buf_unmap_attachment_unlocked(m->attach, m->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(m->dmabuf, m->attach);
	atomic64_dec(&cohbuf_imp_stats.mappings);
}

/*
 * Only the last reference takes cohbuf_imp_maps_lock (which an IMPORT
 * holds across the exporter's map, and so across its fence waits): a
 * WAIT, RELEASE or close that drops a shared mapping never queues behind
 * another process's IMPORT. Lookups take their reference under the lock,
 * so none can find a mapping whose count reached zero.
 */
static void cohbuf_imp_mapping_put(struct cohbuf_imp_mapping *m)
{
	if (!refcount_dec_and_mutex_lock(&m->ref.refcount, &cohbuf_imp_maps_lock))
		return;
	if (!m->revoked)
		cohbuf_imp_mapping_unmap(m);
	mutex_unlock(&cohbuf_imp_maps_lock);
	dma_buf_put(m->dmabuf);
	kfree(m);
}

/**
 * cohbuf_imp_mapping_for() - the mapping of a dma-buf for another device
 * @dmabuf: a dma-buf the caller holds (an import's)
 * @dev: the device, which the caller keeps bound until it has called
 *	cohbuf_imp_mappings_revoke() for it
 *
 * For the device engines: the dma-buf attached to @dev and mapped for it,
 * shared like the importer device's mappings by every job on @dev.
 *
 * Return: a reference to the mapping (cohbuf_imp_mapping_release()), or
 * an ERR_PTR() with an errno as listed for COHBUF_IMP_IOCTL_IMPORT.
 */
struct cohbuf_imp_mapping *cohbuf_imp_mapping_for(struct dma_buf *dmabuf,
						  struct device *dev)
{
	get_dma_buf(dmabuf);		/* consumed by cohbuf_imp_mapping_get() */
	return cohbuf_imp_mapping_get(dmabuf, dev);
}

/**
 * cohbuf_imp_mapping_release() - drop a reference from cohbuf_imp_mapping_for()
 * @m: the mapping; process context, no reservation lock held
 */
void cohbuf_imp_mapping_release(struct cohbuf_imp_mapping *m)
{
	cohbuf_imp_mapping_put(m);
}

/**
 * cohbuf_imp_mappings_revoke() - unmap every dma-buf from a departing device
 * @dev: a device whose driver is being unbound; nothing maps for it any
 *	more, and it no longer reaches memory
 *
 * The mappings stay allocated while jobs hold them, but their DMA
 * addresses are given back now, before the device leaves its IOMMU group
 * and before the DMA API's debugging checks that its driver left nothing
 * mapped. Whoever holds one must not use its table any more.
 */
void cohbuf_imp_mappings_revoke(struct device *dev)
{
	struct cohbuf_imp_mapping *m;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&cohbuf_imp_maps_lock);
	hash_for_each_safe(cohbuf_imp_maps, bkt, tmp, m, node) {
		if (m->dev != dev)
			continue;
		cohbuf_imp_mapping_unmap(m);
		m->revoked = true;
		m->sgt = NULL;
	}
	mutex_unlock(&cohbuf_imp_maps_lock);
}

/**
 * cohbuf_imp_import_sync() - the simulated device's side of an access
 * @imp: the import the engine accesses through its kernel mapping
 * @offset: first byte of the range, from the start of the dma-buf
 * @len: bytes; [@offset, @offset + @len) lies inside the dma-buf
 * @written: false before the engine reads or writes the range: the CPU's
 *	view of it becomes what memory holds (for the CPU, DMA_FROM_DEVICE:
 *	stale lines are invalidated, a bounce buffer copied back); true
 *	after the engine wrote it: what the CPU wrote reaches memory (for
 *	the device, DMA_TO_DEVICE: dirty lines are cleaned, a bounce buffer
 *	filled)
 *
 * A real device reads and writes memory, never the CPU's caches; the
 * engine is the CPU, through a mapping that may be cacheable. This makes
 * its accesses look like a device's to everyone else, on the importer's
 * own DMA mapping, one DMA-API call per DMA segment the range covers (a
 * ranged sync of part of a scatterlist with dma_sync_sg_*() is not
 * allowed: DMA-API debugging checks that it names the whole list). The
 * mapping is DMA_BIDIRECTIONAL, so both directions are the mapping's.
 * Nothing is done when no segment needs syncs (a coherent device without
 * bounce buffers: x86). Each call that reaches the DMA API is counted in
 * device_syncs.
 *
 * Context: any; does not sleep, allocate or take a lock of ours, so it
 * may run inside a fence-signalling section.
 */
void cohbuf_imp_import_sync(const struct cohbuf_imp_import *imp, u64 offset,
			    u64 len, bool written)
{
	const struct cohbuf_imp_mapping *m = imp->mapping;
	u64 end = offset + len, start = 0, lo, hi;
	struct scatterlist *sg;
	unsigned int i;

	if (!m->need_sync || !len)
		return;
	for_each_sgtable_dma_sg(m->sgt, sg, i) {
		if (start >= end)
			break;
		lo = max(offset, start);
		hi = min(end, start + sg_dma_len(sg));
		if (lo < hi && written)
			dma_sync_single_range_for_device(m->dev,
							 sg_dma_address(sg),
							 lo - start, hi - lo,
							 DMA_TO_DEVICE);
		else if (lo < hi)
			dma_sync_single_range_for_cpu(m->dev, sg_dma_address(sg),
						      lo - start, hi - lo,
						      DMA_FROM_DEVICE);
		start += sg_dma_len(sg);
	}
	atomic64_inc(&cohbuf_imp_stats.device_syncs);
}

/**
 * cohbuf_imp_import_create() - an import of a dma-buf fd, without a handle
 * @dev: the importer device
 * @fd: a dma-buf fd
 *
 * For IMPORT, and for streams, which hold their regions' dma-bufs this
 * way.
 *
 * Return: the import, with one reference (cohbuf_imp_import_put()), or an
 * ERR_PTR() with an errno as listed for COHBUF_IMP_IOCTL_IMPORT.
 */
struct cohbuf_imp_import *cohbuf_imp_import_create(struct device *dev, int fd)
{
	struct cohbuf_imp_import *imp;
	struct dma_buf *dmabuf;
	int ret;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	kref_init(&imp->ref);
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	imp->mapping = cohbuf_imp_mapping_get(dmabuf, dev);
	if (IS_ERR(imp->mapping)) {
		ret = PTR_ERR(imp->mapping);
		goto err_free;
	}
	imp->dmabuf = imp->mapping->dmabuf;
	imp->map = imp->mapping->map;
	imp->size = imp->dmabuf->size;
	imp->nents = imp->mapping->nents;
	atomic64_inc(&cohbuf_imp_stats.imports);
	return imp;

err_free:
	kfree(imp);
	return ERR_PTR(ret);
}

static void cohbuf_imp_import_destroy(struct kref *ref)
{
	struct cohbuf_imp_import *imp = container_of(ref,
						     struct cohbuf_imp_import,
						     ref);

	cohbuf_imp_mapping_put(imp->mapping);
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
 * @d: the argument, already copied in; handle, nents and size are filled
 *	in on success
 *
 * The handle is published at once. The caller writes @d back and, if
 * that fails, withdraws the handle with cohbuf_imp_import_withdraw().
 *
 * Return: a reference of the caller's own to the new import, which keeps
 * it from being freed and its address reused until the caller is done
 * (put it with cohbuf_imp_import_put()), or an ERR_PTR() with an errno as
 * listed in the uapi header.
 */
struct cohbuf_imp_import *cohbuf_imp_import(struct cohbuf_imp_ctx *ctx,
					    struct cohbuf_imp_import_data *d)
{
	struct cohbuf_imp_import *imp;
	int ret;

	if (d->flags)
		return ERR_PTR(-EINVAL);
	ret = cohbuf_imp_charge(ctx, COHBUF_IMP_IMPORT);
	if (ret)
		return ERR_PTR(ret);
	imp = cohbuf_imp_import_create(ctx->dev, d->fd);
	if (IS_ERR(imp)) {
		ret = PTR_ERR(imp);
		goto err_uncharge;
	}
	kref_get(&imp->ref);		/* for the handle table */
	ret = xa_alloc(&ctx->imports, &imp->handle, imp, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_put;
	d->handle = imp->handle;
	d->nents = imp->nents;
	d->size = imp->size;
	return imp;

err_put:
	cohbuf_imp_import_put(imp);
	cohbuf_imp_import_put(imp);
err_uncharge:
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_IMPORT);
	return ERR_PTR(ret);
}

/**
 * cohbuf_imp_import_withdraw() - take back a handle that was not reported
 * @ctx: the context
 * @imp: from cohbuf_imp_import(), still referenced by the caller
 *
 * Unless another thread released the handle meanwhile.
 */
void cohbuf_imp_import_withdraw(struct cohbuf_imp_ctx *ctx,
				struct cohbuf_imp_import *imp)
{
	if (xa_cmpxchg(&ctx->imports, imp->handle, imp, NULL, 0) != imp)
		return;
	cohbuf_imp_import_put(imp);
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_IMPORT);
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
	cohbuf_imp_uncharge(ctx, COHBUF_IMP_IMPORT);
	return 0;
}

/**
 * cohbuf_imp_imports_init() - set up the handle table of a new context
 * @ctx: the context, not yet visible to anyone
 */
void cohbuf_imp_imports_init(struct cohbuf_imp_ctx *ctx)
{
	xa_init_flags(&ctx->imports, XA_FLAGS_ALLOC1);
}

/**
 * cohbuf_imp_imports_drop() - forget every handle of a closed context
 * @ctx: the context; no ioctl can run on it any more, and its limits
 *	were given back (cohbuf_imp_limits_detach())
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
