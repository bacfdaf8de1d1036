// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: cache maintenance of COHBUF_CACHE_CACHED buffers.
 *
 * A cached buffer is normal cacheable memory. On a device that is not
 * DMA-coherent (arm64 without a cache-coherent interconnect) the CPU's
 * caches and memory can disagree, and only the DMA API's sync calls bring
 * them together: "for the device" writes dirty lines back before a device
 * reads memory, "for the CPU" discards stale lines before the CPU reads
 * what a device wrote. On a coherent device (x86) they cost a function
 * call and do nothing, except under DMA-API debugging, which checks every
 * one of them against the mapping it names.
 *
 * The memory is mapped for the cohbuf device by dma_alloc_pages() (one
 * mapping per chunk) and for every importer by map_dma_buf (one per call).
 * Every sync of a range of the buffer syncs that range in each of these
 * mappings, each with the direction the DMA API requires for it: the
 * caller's for cohbuf's own DMA_BIDIRECTIONAL mappings, the one it was
 * mapped with for an importer's. On arm64 one of them would do for the
 * caches, but a mapping through a bounce buffer (SWIOTLB) is synced only
 * through itself, and the DMA API's contract is per mapping.
 *
 * The bytes handed to the DMA API are counted per buffer and shown in
 * debugfs (synced_cpu=, synced_dev=), so that tests can check that a
 * ranged sync reaches the DMA API with exactly its range.
 *
 * Coherent buffers (COHBUF_CACHE_WC) are never synced: see map_dma_buf in
 * cohbuf_dmabuf.c. A write-combined CPU mapping may still hold stores in
 * the CPU's write-combining buffers, though; a sync for the device drains
 * them before a device is told to look.
 */

#include <linux/dma-mapping.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <asm/barrier.h>

#include "cohbuf_drv.h"

/**
 * cohbuf_buffer_streaming() - is the buffer synced explicitly
 * @buf: the buffer
 *
 * Return: true for COHBUF_CACHE_CACHED buffers, whose memory the DMA API
 * treats as streaming mappings.
 */
bool cohbuf_buffer_streaming(const struct cohbuf_buffer *buf)
{
	return buf->cache_mode == COHBUF_CACHE_CACHED;
}

/**
 * cohbuf_sync_init() - set up the mapping list of a new buffer
 * @buf: the buffer, not yet visible to anyone
 */
void cohbuf_sync_init(struct cohbuf_buffer *buf)
{
	mutex_init(&buf->maps_lock);
	INIT_LIST_HEAD(&buf->maps);
	atomic64_set(&buf->synced_cpu, 0);
	atomic64_set(&buf->synced_dev, 0);
}

/* One DMA-API call: @len bytes at @off past @addr, counted. */
static void cohbuf_sync_one(struct cohbuf_buffer *buf, struct device *dev,
			    dma_addr_t addr, u64 off, u64 len,
			    enum dma_data_direction dir, bool for_cpu)
{
	if (for_cpu) {
		dma_sync_single_range_for_cpu(dev, addr, off, len, dir);
		atomic64_add(len, &buf->synced_cpu);
	} else {
		dma_sync_single_range_for_device(dev, addr, off, len, dir);
		atomic64_add(len, &buf->synced_dev);
	}
}

/* The part of [@offset, @offset + @len) in cohbuf's own chunk mappings. */
static void cohbuf_sync_chunks(struct cohbuf_buffer *buf, u64 offset, u64 len,
			       enum dma_data_direction dir, bool for_cpu)
{
	u64 end = offset + len, start, lo, hi;
	unsigned int i;

	for (i = 0; i < buf->nr_chunks; i++) {
		start = (u64)buf->chunks[i].pgoff << PAGE_SHIFT;
		lo = max(offset, start);
		hi = min(end, start + buf->chunks[i].size);
		if (lo < hi)
			cohbuf_sync_one(buf, buf->dev, buf->chunks[i].dma_addr,
					lo - start, hi - lo, dir, for_cpu);
	}
}

/*
 * The same range in an importer's mapping. The DMA view of a mapped table
 * covers the buffer in order (cohbuf_dma_sgt_fits() checked that at map
 * time), though an IOMMU may have merged entries: walk it by DMA lengths.
 */
static void cohbuf_sync_mapping(struct cohbuf_buffer *buf,
				struct cohbuf_mapping *m, u64 offset, u64 len,
				bool for_cpu)
{
	u64 end = offset + len, start = 0, lo, hi;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(&m->sgt, sg, i) {
		if (start >= end)
			break;
		lo = max(offset, start);
		hi = min(end, start + sg_dma_len(sg));
		if (lo < hi)
			cohbuf_sync_one(buf, m->dev, sg_dma_address(sg),
					lo - start, hi - lo, m->dir, for_cpu);
		start += sg_dma_len(sg);
	}
}

/**
 * cohbuf_sync_track() - sync an importer's new mapping for the device and
 *	include it in later syncs
 * @buf: a cached buffer
 * @m: a mapping of @buf, DMA-mapped with DMA_ATTR_SKIP_CPU_SYNC
 */
void cohbuf_sync_track(struct cohbuf_buffer *buf, struct cohbuf_mapping *m)
{
	mutex_lock(&buf->maps_lock);
	cohbuf_sync_mapping(buf, m, 0, buf->size, false);
	list_add_tail(&m->node, &buf->maps);
	mutex_unlock(&buf->maps_lock);
}

/**
 * cohbuf_sync_untrack() - stop syncing an importer's mapping, and sync it
 *	for the CPU a last time
 * @buf: a cached buffer
 * @m: a mapping passed to cohbuf_sync_track(), to be unmapped with
 *	DMA_ATTR_SKIP_CPU_SYNC
 */
void cohbuf_sync_untrack(struct cohbuf_buffer *buf, struct cohbuf_mapping *m)
{
	mutex_lock(&buf->maps_lock);
	list_del(&m->node);
	cohbuf_sync_mapping(buf, m, 0, buf->size, true);
	mutex_unlock(&buf->maps_lock);
}

/**
 * cohbuf_sync_range() - sync part of a cached buffer in all its mappings
 * @buf: the buffer; unless cohbuf_buffer_streaming(), only a sync for the
 *	device does anything: a write barrier
 * @offset: first byte
 * @len: bytes; [@offset, @offset + @len) lies inside the buffer
 * @dir: the CPU access, as for dma_buf_ops.begin_cpu_access
 * @for_cpu: true before the CPU accesses the range, false after
 *
 * Context: process context, no reservation lock held.
 */
void cohbuf_sync_range(struct cohbuf_buffer *buf, u64 offset, u64 len,
		       enum dma_data_direction dir, bool for_cpu)
{
	struct cohbuf_mapping *m;

	if (!cohbuf_buffer_streaming(buf)) {
		if (!for_cpu)
			wmb();	/* sfence on x86, dmb on arm64 */
		return;
	}
	cohbuf_sync_chunks(buf, offset, len, dir, for_cpu);
	mutex_lock(&buf->maps_lock);
	list_for_each_entry(m, &buf->maps, node)
		cohbuf_sync_mapping(buf, m, offset, len, for_cpu);
	mutex_unlock(&buf->maps_lock);
}
