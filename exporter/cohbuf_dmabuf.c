// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: dma_buf_ops of the exported buffers, and the CPU mappings
 * (page protection, mmap, vmap) they make.
 *
 * Locking: the dma-buf core calls map_dma_buf, unmap_dma_buf, vmap and
 * vunmap with the reservation lock held on 6.2+, and on 6.1 with or
 * without it depending on the path. None of these callbacks takes or
 * asserts that lock. Everything they read is immutable once the buffer
 * is exported, the counters are atomic, and the core serialises
 * vmap/vunmap itself (it calls vmap only for the first kernel mapping and
 * vunmap only for the last). The one thing that changes is the list of a
 * cached buffer's importer mappings, which map/unmap_dma_buf and the
 * syncs share under the buffer's maps_lock (cohbuf_sync.c); it nests
 * inside the reservation lock and never around it.
 *
 * Lifetime: the dma-buf file is referenced by every fd, by every VMA
 * (vm_file) and by every importer (dma_buf_get() or an fd it holds); the
 * release callback runs when the last of them is gone. Each dma-buf also
 * holds a reference on this module, taken by dma_buf_export() through
 * exp_info.owner, so the module cannot be unloaded while a buffer lives.
 */

#include <linux/cc_platform.h>
#include <linux/dma-buf.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <cohbuf_compat.h>
#include <cohbuf_dmadev.h>
#include "cohbuf_drv.h"

static int cohbuf_attach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	atomic_inc(&buf->attachments);
	return 0;
}

static void cohbuf_detach(struct dma_buf *dmabuf,
			  struct dma_buf_attachment *attach)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	atomic_dec(&buf->attachments);
}

/*
 * Coherent (COHBUF_CACHE_WC) memory is shared as it is and never synced.
 * Does @dev need no sync to use it? If the DMA API says it needs none,
 * yes. If it needs syncs for its caches alone, they would have nothing to
 * do when every CPU mapping of the memory is uncached: the DMA API mapped
 * the memory uncached because the cohbuf device is not coherent, and
 * cohbuf's own user and kernel mappings use the same protection
 * (cohbuf_pgprot()); no CPU cache ever holds a dirty or stale line of it.
 * That leaves bounce buffers (SWIOTLB), which need syncs whatever the
 * caches do: a coherent device needs syncs for nothing else, and a device
 * that cannot address all of memory may have been given one. Those are
 * refused, as is any device needing syncs for memory the CPU caches
 * (a coherent cohbuf device, a non-coherent importer).
 */
static bool cohbuf_coherent_dev_ok(const struct cohbuf_buffer *buf,
				   struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;
	bool need = false;

	for_each_sgtable_dma_sg(sgt, sg, i)
		need |= dma_need_sync(dev, sg_dma_address(sg));
	if (!need)
		return true;
	return !dev_is_dma_coherent(buf->dev) && !dev_is_dma_coherent(dev) &&
	       !dma_addressing_limited(dev);
}

/*
 * A fresh table per call, mapped for the importer's own device.
 *
 * Coherent buffers (COHBUF_CACHE_WC): mapped with DMA_ATTR_SKIP_CPU_SYNC,
 * on map and unmap, because there is no cache maintenance to do (see
 * cohbuf_coherent_dev_ok()). This also tells DMA-API debugging that the
 * mapping may overlap others of the same memory: the coherent allocation
 * itself, and the mappings of every other importer.
 *
 * Cached buffers (COHBUF_CACHE_CACHED): streaming mappings. The table is
 * synced for the device here, for the CPU at unmap, and both ways at
 * every begin/end_cpu_access and COHBUF_IOCTL_SYNC (cohbuf_sync.c). The
 * map and unmap calls themselves skip the sync and cohbuf_sync_track()
 * and cohbuf_sync_untrack() do it, exactly as dma_map_sgtable() would
 * have: the memory is also mapped for the cohbuf device and maybe for
 * other importers, and DMA-API debugging reports overlapping mappings
 * that do their own cache maintenance, because one's could destroy
 * another's data. Here all of them are synced together.
 */
static struct sg_table *cohbuf_map_dma_buf(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct cohbuf_buffer *buf = attach->dmabuf->priv;
	struct cohbuf_mapping *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dev = attach->dev;
	m->dir = dir;
	ret = cohbuf_chunks_sgt(buf, attach->dev, &m->sgt);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, &m->sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		goto err_free_table;
	/*
	 * The table was split by physical address; check the DMA view, in
	 * case the bus offsets addresses so that an entry crosses a boundary.
	 */
	ret = -EIO;
	if (!cohbuf_dma_sgt_fits(&m->sgt, attach->dev, buf->size))
		goto err_unmap;
	if (cohbuf_buffer_streaming(buf)) {
		cohbuf_sync_track(buf, m);
	} else if (!cohbuf_coherent_dev_ok(buf, attach->dev, &m->sgt)) {
		ret = -EOPNOTSUPP;
		goto err_unmap;
	}
	return &m->sgt;

err_unmap:
	dma_unmap_sgtable(attach->dev, &m->sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
err_free_table:
	sg_free_table(&m->sgt);
err_free:
	kfree(m);
	return ERR_PTR(ret);
}

static void cohbuf_unmap_dma_buf(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct cohbuf_mapping *m = container_of(sgt, struct cohbuf_mapping, sgt);
	struct cohbuf_buffer *buf = attach->dmabuf->priv;

	if (cohbuf_buffer_streaming(buf))
		cohbuf_sync_untrack(buf, m);
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(m);
}

/* Protection of @buf's CPU mappings, before memory encryption. */
static pgprot_t cohbuf_cache_pgprot(const struct cohbuf_buffer *buf,
				    pgprot_t prot)
{
	/* Cacheable pages from dma_alloc_pages(): mapped as they are. */
	if (cohbuf_buffer_streaming(buf) || dev_is_dma_coherent(buf->dev))
		return prot;
	/* What dma_pgprot() gives DMA_ATTR_WRITE_COMBINE allocations. */
	if (IS_ENABLED(CONFIG_ARCH_HAS_DMA_WRITE_COMBINE))
		return pgprot_writecombine(prot);
	return pgprot_dmacoherent(prot);
}

/**
 * cohbuf_pgprot() - page protection for a CPU mapping of a buffer
 * @buf: the buffer
 * @prot: protection the mapping would have for ordinary memory
 *
 * What the DMA API gives its own mappings of the same memory, so that no
 * page is ever mapped with two different cache attributes. Cached buffers
 * are ordinary cacheable pages (dma_mmap_pages() maps them with @prot
 * unchanged). Coherent buffers are unchanged for a cache-coherent device
 * (x86), else mapped as dma_pgprot() maps DMA_ATTR_WRITE_COMBINE memory:
 * write-combined, or the architecture's coherent protection where it has
 * no DMA write-combining (arm64, where both are Normal Non-cacheable).
 * Decrypted in a memory-encrypted guest, where dma-direct shares DMA
 * memory in clear.
 *
 * Return: the protection for kernel (vmap) and user (mmap) mappings.
 */
static pgprot_t cohbuf_pgprot(const struct cohbuf_buffer *buf, pgprot_t prot)
{
	prot = cohbuf_cache_pgprot(buf, prot);
	if (cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT))
		prot = pgprot_decrypted(prot);
	return prot;
}

/**
 * cohbuf_cpu_map_name() - how the CPU maps a buffer, for debugfs
 * @buf: the buffer
 *
 * Classifies the protection of every user (mmap) and kernel (vmap) mapping
 * of @buf, which cohbuf_pgprot() chooses: the DMA API's own kernel mapping
 * of a one-chunk coherent buffer gets the same protection from dma_pgprot().
 *
 * Return: "cached", "wc" (write-combined or Normal Non-cacheable: the
 * same on arm64) or "uncached".
 */
const char *cohbuf_cpu_map_name(const struct cohbuf_buffer *buf)
{
	pgprot_t prot = cohbuf_cache_pgprot(buf, PAGE_KERNEL);

	if (pgprot_val(prot) == pgprot_val(PAGE_KERNEL))
		return "cached";
	if (pgprot_val(prot) == pgprot_val(pgprot_writecombine(PAGE_KERNEL)))
		return "wc";
	return "uncached";
}

/* Called for every new VMA: mmap, split, fork, mremap. */
static void cohbuf_vm_open(struct vm_area_struct *vma)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;

	atomic_inc(&buf->mmaps);
}

static void cohbuf_vm_close(struct vm_area_struct *vma)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;

	atomic_dec(&buf->mmaps);
}

static const struct vm_operations_struct cohbuf_vm_ops = {
	.open = cohbuf_vm_open,
	.close = cohbuf_vm_close,
};

/*
 * Map the part of one physically contiguous run (an sg entry of a chunk)
 * that falls inside the window. @pos is the buffer page index of the run's
 * first page; the window is buffer pages [@first, @last) and starts at the
 * VMA's start. Pieces are mapped with remap_pfn_range() on the real VMA, so
 * the mm core knows exactly which pages are where.
 */
static int cohbuf_mmap_run(struct vm_area_struct *vma, struct scatterlist *sg,
			   pgoff_t pos, pgoff_t first, pgoff_t last,
			   pgprot_t prot)
{
	pgoff_t lo = max(first, pos);
	pgoff_t hi = min(last, pos + (sg->length >> PAGE_SHIFT));
	unsigned long uaddr = vma->vm_start + ((lo - first) << PAGE_SHIFT);

	if (lo >= hi)
		return 0;
	return remap_pfn_range(vma, uaddr, page_to_pfn(sg_page(sg)) + (lo - pos),
			       (hi - lo) << PAGE_SHIFT, prot);
}

/* Map buffer pages [@first, @last) over the whole VMA, run by run. */
static int cohbuf_mmap_window(const struct cohbuf_buffer *buf,
			      struct vm_area_struct *vma,
			      pgoff_t first, pgoff_t last)
{
	pgprot_t prot = cohbuf_pgprot(buf, vma->vm_page_prot);
	struct scatterlist *sg;
	pgoff_t pos = 0;
	unsigned int i, j;
	int ret;

	for (i = 0; i < buf->nr_chunks && pos < last; i++) {
		for_each_sgtable_sg(&buf->chunks[i].sgt, sg, j) {
			ret = cohbuf_mmap_run(vma, sg, pos, first, last, prot);
			if (ret)
				return ret;
			pos += sg->length >> PAGE_SHIFT;
		}
	}
	return 0;
}

/*
 * vm_pgoff is the first buffer page of the window. Only shared mappings
 * are allowed: MAP_SHARED sets VM_MAYSHARE, and also VM_SHARED unless
 * the fd is read-only, so VM_MAYSHARE is the flag to test. Memory that
 * devices write is never executable: PROT_EXEC fails with EPERM, as on a
 * noexec mount, and mprotect() cannot add it later. On error the mm core
 * zaps whatever part of the window was already mapped.
 */
static int cohbuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	pgoff_t first = vma->vm_pgoff, last;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (check_add_overflow(first, vma_pages(vma), &last) ||
	    last > buf->size >> PAGE_SHIFT)
		return -EINVAL;
	cohbuf_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	ret = cohbuf_mmap_window(buf, vma, first, last);
	if (ret)
		return ret;
	vma->vm_ops = &cohbuf_vm_ops;
	vma->vm_private_data = buf;
	cohbuf_vm_open(vma);
	return 0;
}

/*
 * DMA_BUF_IOCTL_SYNC START (after the core waited for the fences) and
 * dma_buf_begin_cpu_access(): a cached buffer is synced for the CPU in
 * all its mappings. Coherent memory has nothing to sync.
 */
static int cohbuf_begin_cpu_access(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	cohbuf_sync_range(buf, 0, buf->size, dir, true);
	return 0;
}

/*
 * DMA_BUF_IOCTL_SYNC END: a cached buffer is synced for the devices in
 * all its mappings; a coherent one has its write-combining buffers drained.
 */
static int cohbuf_end_cpu_access(struct dma_buf *dmabuf,
				 enum dma_data_direction dir)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	cohbuf_sync_range(buf, 0, buf->size, dir, false);
	return 0;
}

/**
 * cohbuf_chunks_vmap() - map all chunks contiguously into kernel space
 * @buf: exported buffer
 *
 * Return: the kernel address, to be released with vunmap(), or NULL.
 */
static void *cohbuf_chunks_vmap(const struct cohbuf_buffer *buf)
{
	unsigned long n = buf->size >> PAGE_SHIFT, i = 0;
	struct sg_page_iter piter;
	struct page **pages;
	unsigned int c;
	void *vaddr = NULL;

	pages = kvmalloc_array(n, sizeof(*pages), COHBUF_GFP);
	if (!pages)
		return NULL;
	for (c = 0; c < buf->nr_chunks; c++) {
		for_each_sgtable_page(&buf->chunks[c].sgt, &piter, 0) {
			if (WARN_ON_ONCE(i >= n))
				goto out;
			pages[i++] = sg_page_iter_page(&piter);
		}
	}
	/*
	 * vmap() allocates its page tables with GFP_KERNEL, a 512th of the
	 * buffer: small enough for the reserve (cohbuf_reserve.c) to cover.
	 */
	if (!WARN_ON_ONCE(i != n))
		vaddr = vmap(pages, n, VM_MAP, cohbuf_pgprot(buf, PAGE_KERNEL));
out:
	kvfree(pages);
	return vaddr;
}

static int cohbuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	void *vaddr;

	if (buf->nr_chunks == 1)
		vaddr = buf->chunks[0].vaddr;
	else
		vaddr = cohbuf_chunks_vmap(buf);
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void cohbuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	if (buf->nr_chunks > 1)
		vunmap(map->vaddr);
}

static void cohbuf_release(struct dma_buf *dmabuf)
{
	cohbuf_buffer_release(dmabuf->priv);
}

const struct dma_buf_ops cohbuf_dmabuf_ops = {
	.attach = cohbuf_attach,
	.detach = cohbuf_detach,
	.map_dma_buf = cohbuf_map_dma_buf,
	.unmap_dma_buf = cohbuf_unmap_dma_buf,
	.release = cohbuf_release,
	.begin_cpu_access = cohbuf_begin_cpu_access,
	.end_cpu_access = cohbuf_end_cpu_access,
	.mmap = cohbuf_mmap,
	.vmap = cohbuf_vmap,
	.vunmap = cohbuf_vunmap,
};

/**
 * cohbuf_buffer_from_dmabuf() - the cohbuf buffer behind a dma-buf
 * @dmabuf: any dma-buf
 *
 * Return: the buffer, or NULL if @dmabuf was exported by someone else.
 */
struct cohbuf_buffer *cohbuf_buffer_from_dmabuf(struct dma_buf *dmabuf)
{
	if (dmabuf->ops != &cohbuf_dmabuf_ops)
		return NULL;
	return dmabuf->priv;
}
