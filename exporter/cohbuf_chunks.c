// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: building a buffer out of physically contiguous chunks.
 *
 * Without CMA (Debian's x86 kernels are built without it; the arm64 ones
 * and the rig's debug kernel have it) the DMA API gets its memory from
 * the page allocator, which hands out at most one MAX_PAGE_ORDER block
 * (4 MiB with 4 KiB pages) at a time. Larger buffers are built from
 * several chunks of at most chunk_size bytes. Each chunk is a power of two
 * pages, because dma-direct rounds every allocation up to a whole order
 * anyway. When a chunk of some order cannot be had, that chunk and all
 * later ones are tried with smaller orders, down to single pages.
 *
 * The two cache modes allocate differently:
 *
 * - COHBUF_CACHE_WC: dma_alloc_attrs(DMA_ATTR_WRITE_COMBINE), coherent
 *   memory. On a non-coherent device the DMA API remaps it uncached and
 *   returns that remap as the kernel address, so the pages cannot be found
 *   from the address (virt_to_page() of a vmalloc address is wrong); the
 *   chunk's sg_table comes from dma_get_sgtable_attrs(), which finds them
 *   from the DMA address.
 * - COHBUF_CACHE_CACHED: dma_alloc_pages(), normal cacheable memory in the
 *   kernel's linear map, which stays mapped for the cohbuf device
 *   (DMA_BIDIRECTIONAL) until it is freed; the chunk's sg_table is its one
 *   run of pages. The memory is zeroed through the cache and written back
 *   (synced for the device) before anyone else can see it.
 *
 * Zeroing: every buffer is zeroed (the uapi promises it), and the DMA API
 * does it for us. Documentation/core-api/dma-api.rst does not say so in
 * words, but since Linux 5.0 (which made dma_zalloc_coherent() redundant
 * and removed it) every backend that dma_alloc_attrs() and
 * dma_alloc_pages() reach on x86-64 and arm64 clears the memory before
 * returning it: in 6.1, 6.12 and 7.2 dma-direct (also through a remap and
 * from CMA), the atomic pools, the per-device and global coherent pools,
 * dma-iommu and dma_common_alloc_pages(). Only architectures with their
 * own arch_dma_alloc(), none of them in the test matrix, bypass
 * dma-direct. Zeroing once more here cost another pass over every byte:
 * a quarter of ALLOC's time at 1 MiB under TCG. cohbuf_alloc_test's
 * memory_is_zeroed checks it in every guest, in both cache modes, on
 * memory dirtied by a previous buffer.
 *
 * Every allocation here is sized by user space and made with COHBUF_GFP.
 * Large orders are expected to fail (we fall back), so without a warning;
 * and before each chunk the reserve (cohbuf_reserve.c) is checked.
 */

#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "cohbuf_drv.h"

/* Largest chunk, also for contiguous buffers. */
#define COHBUF_MAX_CHUNK	SZ_1G

static unsigned long chunk_size = SZ_4M;

static int cohbuf_chunk_size_set(const char *val,
				 const struct kernel_param *kp)
{
	unsigned long v;
	int ret;

	ret = kstrtoul(val, 0, &v);
	if (ret)
		return ret;
	if (v < PAGE_SIZE || v > COHBUF_MAX_CHUNK || !is_power_of_2(v))
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops cohbuf_chunk_size_ops = {
	.set = cohbuf_chunk_size_set,
	.get = param_get_ulong,
};

module_param_cb(chunk_size, &cohbuf_chunk_size_ops, &chunk_size, 0644);
__MODULE_PARM_TYPE(chunk_size, "ulong");
MODULE_PARM_DESC(chunk_size,
		 "Largest chunk in bytes, a power of two from PAGE_SIZE to 1 GiB (default 4 MiB)");

/* Most chunks needed for @pages pages if no chunk exceeds 2^@order pages. */
static unsigned long cohbuf_worst_chunks(unsigned long pages,
					 unsigned int order)
{
	return (pages >> order) + hweight_long(pages & ((1UL << order) - 1));
}

/* Make room for @need chunk descriptors, keeping the existing ones. */
static int cohbuf_chunks_reserve(struct cohbuf_buffer *buf,
				 unsigned long need)
{
	struct cohbuf_chunk *chunks;

	if (need <= buf->cap_chunks)
		return 0;
	chunks = kvcalloc(need, sizeof(*chunks), COHBUF_GFP);
	if (!chunks)
		return -ENOMEM;
	if (buf->nr_chunks)
		memcpy(chunks, buf->chunks, buf->nr_chunks * sizeof(*chunks));
	kvfree(buf->chunks);
	buf->chunks = chunks;
	buf->cap_chunks = need;
	return 0;
}

/* Coherent memory and the table of its pages; zeroed. */
static int cohbuf_chunk_alloc_coherent(struct cohbuf_buffer *buf,
				       struct cohbuf_chunk *c, size_t size)
{
	int ret;

	c->vaddr = dma_alloc_attrs(buf->dev, size, &c->dma_addr, COHBUF_GFP,
				   buf->dma_attrs);
	if (!c->vaddr)
		return -ENOMEM;
	ret = dma_get_sgtable_attrs(buf->dev, &c->sgt, c->vaddr, c->dma_addr,
				    size, buf->dma_attrs);
	if (ret) {
		dma_free_attrs(buf->dev, size, c->vaddr, c->dma_addr,
			       buf->dma_attrs);
		return ret;
	}
	/* Zeroed by the DMA API (see "Zeroing" above): not again here. */
	return 0;
}

/* Cacheable pages mapped for the cohbuf device; zeroed in memory. */
static int cohbuf_chunk_alloc_pages(struct cohbuf_buffer *buf,
				    struct cohbuf_chunk *c, size_t size)
{
	int ret;

	c->page = dma_alloc_pages(buf->dev, size, &c->dma_addr,
				  DMA_BIDIRECTIONAL, COHBUF_GFP);
	if (!c->page)
		return -ENOMEM;
	ret = sg_alloc_table(&c->sgt, 1, COHBUF_GFP);
	if (ret) {
		dma_free_pages(buf->dev, size, c->page, c->dma_addr,
			       DMA_BIDIRECTIONAL);
		c->page = NULL;
		return ret;
	}
	sg_set_page(c->sgt.sgl, c->page, size, 0);
	c->vaddr = page_address(c->page);
	/*
	 * Zeroed by the DMA API through the cache (see "Zeroing" above); the
	 * zeroes may still sit in the CPU's cache: write them back.
	 */
	dma_sync_single_for_device(buf->dev, c->dma_addr, size, DMA_TO_DEVICE);
	return 0;
}

/* Free what cohbuf_chunk_alloc_*() allocated. */
static void cohbuf_chunk_free(struct cohbuf_buffer *buf, struct cohbuf_chunk *c)
{
	sg_free_table(&c->sgt);
	if (c->page)
		dma_free_pages(buf->dev, c->size, c->page, c->dma_addr,
			       DMA_BIDIRECTIONAL);
	else
		dma_free_attrs(buf->dev, c->size, c->vaddr, c->dma_addr,
			       buf->dma_attrs);
}

/* Allocate one chunk of @size bytes and append it; room must exist. */
static int cohbuf_chunk_add(struct cohbuf_buffer *buf, size_t size)
{
	struct cohbuf_chunk *c = &buf->chunks[buf->nr_chunks];
	int ret;

	ret = cohbuf_reserve_check(size);
	if (ret)
		return ret;
	if (cohbuf_buffer_streaming(buf))
		ret = cohbuf_chunk_alloc_pages(buf, c, size);
	else
		ret = cohbuf_chunk_alloc_coherent(buf, c, size);
	if (ret)
		return ret;
	c->size = size;
	c->pgoff = 0;
	if (buf->nr_chunks)
		c->pgoff = c[-1].pgoff + (c[-1].size >> PAGE_SHIFT);
	buf->nr_chunks++;
	return 0;
}

static int cohbuf_chunks_alloc_split(struct cohbuf_buffer *buf)
{
	unsigned long left = buf->size >> PAGE_SHIFT;
	unsigned int order = ilog2(READ_ONCE(chunk_size) >> PAGE_SHIFT);
	int ret;

	while (left) {
		order = min_t(unsigned int, order, ilog2(left));
		ret = cohbuf_chunks_reserve(buf, buf->nr_chunks +
					    cohbuf_worst_chunks(left, order));
		if (ret)
			return ret;
		ret = cohbuf_chunk_add(buf, PAGE_SIZE << order);
		if (ret == -ENOMEM && order > 0) {
			order--;
			continue;
		}
		if (ret)
			return ret;
		left -= 1UL << order;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/**
 * cohbuf_chunks_alloc() - allocate the memory of a buffer
 * @buf: buffer whose @size, @flags, @dev and @dma_attrs are set
 *
 * Return: 0, -ENOMEM (no memory, or it would leave less than the reserve
 * available), or -EINTR if a fatal signal is pending. On error nothing
 * stays allocated.
 */
int cohbuf_chunks_alloc(struct cohbuf_buffer *buf)
{
	int ret;

	/* Fail a hopeless request before allocating and freeing most of it. */
	ret = cohbuf_reserve_check(buf->size);
	if (ret)
		return ret;
	if (buf->flags & COHBUF_ALLOC_CONTIGUOUS) {
		/* sg entry lengths are unsigned int: keep far below 4 GiB. */
		if (buf->size > COHBUF_MAX_CHUNK)
			return -ENOMEM;
		ret = cohbuf_chunks_reserve(buf, 1);
		if (!ret)
			ret = cohbuf_chunk_add(buf, buf->size);
	} else {
		ret = cohbuf_chunks_alloc_split(buf);
	}
	if (ret)
		cohbuf_chunks_free(buf);
	return ret;
}

/**
 * cohbuf_chunks_free() - free the memory of a buffer
 * @buf: buffer; may hold any number of chunks, including none
 */
void cohbuf_chunks_free(struct cohbuf_buffer *buf)
{
	struct cohbuf_chunk *c;
	unsigned int i;

	for (i = 0; i < buf->nr_chunks; i++) {
		c = &buf->chunks[i];
		cohbuf_chunk_free(buf, c);
		cond_resched();
	}
	kvfree(buf->chunks);
	buf->chunks = NULL;
	buf->nr_chunks = 0;
	buf->cap_chunks = 0;
}

/* Where an importing device lets a DMA segment end. */
struct cohbuf_seg_limits {
	unsigned int max_seg;		/* dma_get_max_seg_size(), whole pages */
	unsigned long boundary;		/* dma_get_seg_boundary() */
};

/*
 * Bytes of the entry starting at @phys with @left bytes of the segment to
 * go: no longer than the device's maximum segment size, and not across a
 * multiple of its segment boundary. Physical addresses stand for DMA
 * addresses here: an IOMMU, if any, keeps to both limits by itself.
 */
static unsigned int cohbuf_seg_len(phys_addr_t phys, unsigned int left,
				   const struct cohbuf_seg_limits *lim)
{
	unsigned int len = min(left, lim->max_seg);
	u64 to_boundary;

	if (lim->boundary == ULONG_MAX)
		return len;
	to_boundary = (u64)(lim->boundary - (phys & lim->boundary)) + 1;
	return min_t(u64, len, to_boundary);
}

/*
 * Walk every chunk segment of @buf, split by @lim; fill @dst (if not
 * NULL) with one entry per piece. Return: the number of pieces.
 */
static unsigned int cohbuf_sgt_walk(const struct cohbuf_buffer *buf,
				    const struct cohbuf_seg_limits *lim,
				    struct scatterlist *dst)
{
	struct scatterlist *src;
	unsigned int i, j, off, len, pos, n = 0;
	phys_addr_t phys;

	for (i = 0; i < buf->nr_chunks; i++) {
		for_each_sgtable_sg(&buf->chunks[i].sgt, src, j) {
			for (off = 0; off < src->length; off += len, n++) {
				pos = src->offset + off;
				/* A segment is physically contiguous. */
				phys = page_to_phys(sg_page(src)) + pos;
				len = cohbuf_seg_len(phys, src->length - off, lim);
				if (!dst)
					continue;
				sg_set_page(dst, pfn_to_page(PHYS_PFN(phys)), len,
					    offset_in_page(phys));
				dst = sg_next(dst);
			}
		}
	}
	return n;
}

/**
 * cohbuf_chunks_sgt() - describe all pages of a buffer in one table
 * @buf: exported buffer
 * @dev: the device the table will be mapped for
 * @sgt: the table to fill in
 *
 * Fills @sgt with the chunks' segments in buffer order, each split into
 * entries that keep to @dev's maximum segment size (rounded down to whole
 * pages, at least one page) and segment boundary; not DMA-mapped.
 *
 * Return: 0 or -ENOMEM. Free with sg_free_table().
 */
int cohbuf_chunks_sgt(const struct cohbuf_buffer *buf, struct device *dev,
		      struct sg_table *sgt)
{
	struct cohbuf_seg_limits lim = {
		.max_seg = max_t(unsigned int,
				 round_down(dma_get_max_seg_size(dev), PAGE_SIZE),
				 PAGE_SIZE),
		.boundary = dma_get_seg_boundary(dev),
	};
	int ret;

	ret = sg_alloc_table(sgt, cohbuf_sgt_walk(buf, &lim, NULL), COHBUF_GFP);
	if (ret)
		return ret;
	cohbuf_sgt_walk(buf, &lim, sgt->sgl);
	return 0;
}
