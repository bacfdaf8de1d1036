// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: dma-heaps that hand out cohbuf buffers.
 *
 * Registers /dev/dma_heap/cohbuf (cached, possibly several chunks),
 * /dev/dma_heap/cohbuf-wc (write-combined) and /dev/dma_heap/cohbuf-contig
 * (cached, a single chunk). Their allocate op calls cohbuf_alloc_dmabuf()
 * in cohbuf.ko, so heap buffers are the exporter's own buffers, with its
 * limits, statistics and debugfs entries.
 *
 * Lifetime. A dma-heap cannot be removed once added, and the dma-heap core
 * calls the allocate op without taking any reference on the module that
 * provides it. This module therefore never unloads: it has no module_exit,
 * and the module loader refuses to remove a module that has an init
 * function but no exit function. Its text must stay for as long as the
 * heaps can be opened, which is until the next boot.
 *
 * cohbuf.ko, on the other hand, must stay unloadable. So this module does
 * not link against it: each allocation looks cohbuf_alloc_dmabuf() up with
 * symbol_get(), which fails while cohbuf is not loaded, still loading or
 * being unloaded (the ALLOC then fails with -ENODEV), and holds a
 * reference on cohbuf only for the duration of the call. The dma-buf
 * returned holds its own reference on cohbuf.ko, so cohbuf stays loaded
 * while heap buffers exist, and unloads normally once they are gone.
 */

#include <linux/dma-heap.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/printk.h>

#include <cohbuf_compat.h>
#include <cohbuf_kapi.h>

/* What one heap allocates; the heap's drvdata. */
struct cohbuf_heap {
	const char *name;	/* /dev/dma_heap/<name> */
	u32 flags;		/* COHBUF_ALLOC_* */
	u32 cache_mode;		/* COHBUF_CACHE_* */
};

/* Written only here; the heaps keep pointers to the entries for ever. */
static struct cohbuf_heap cohbuf_heaps[] __ro_after_init = {
	{ .name = "cohbuf", .cache_mode = COHBUF_CACHE_CACHED },
	{ .name = "cohbuf-wc", .cache_mode = COHBUF_CACHE_WC },
	{
		.name = "cohbuf-contig",
		.flags = COHBUF_ALLOC_CONTIGUOUS,
		.cache_mode = COHBUF_CACHE_CACHED,
	},
};

/*
 * The core has checked that @fd_flags holds only O_CLOEXEC and an access
 * mode, that @heap_flags is 0, and has page-aligned a non-zero @len.
 * cohbuf_alloc_dmabuf() checks the rest as the ALLOC ioctl does (O_WRONLY
 * fails with -EINVAL, a size above max_buffer_size with -E2BIG).
 */
static struct dma_buf *cohbuf_heap_allocate(struct dma_heap *heap,
					    unsigned long len, u32 fd_flags,
					    u64 heap_flags)
{
	const struct cohbuf_heap *ch = dma_heap_get_drvdata(heap);
	struct dma_buf *(*alloc)(size_t len, u32 fd_flags, u32 flags,
				 u32 cache_mode);
	struct dma_buf *dmabuf;

	if (heap_flags)
		return ERR_PTR(-EINVAL);
	alloc = symbol_get(cohbuf_alloc_dmabuf);
	if (!alloc)
		return ERR_PTR(-ENODEV);
	dmabuf = alloc(len, fd_flags, ch->flags, ch->cache_mode);
	symbol_put(cohbuf_alloc_dmabuf);
	return dmabuf;
}

static const struct dma_heap_ops cohbuf_heap_ops = {
	.allocate = cohbuf_heap_allocate,
};

/*
 * Once one heap is added this module must stay, so a later failure is
 * only reported: the heaps added so far keep working.
 */
static int __init cohbuf_heap_init(void)
{
	struct dma_heap_export_info exp_info = { .ops = &cohbuf_heap_ops };
	struct dma_heap *heap;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cohbuf_heaps); i++) {
		exp_info.name = cohbuf_heaps[i].name;
		exp_info.priv = &cohbuf_heaps[i];
		heap = dma_heap_add(&exp_info);
		if (IS_ERR(heap))
			goto err_add;
	}
	return 0;

err_add:
	pr_err("cohbuf_heap: cannot add dma-heap %s: %pe\n",
	       cohbuf_heaps[i].name, heap);
	/* Nothing was added yet: the module may still go away. */
	return i ? 0 : PTR_ERR(heap);
}

/* No module_exit: see the lifetime note at the top of this file. */
module_init(cohbuf_heap_init);

MODULE_DESCRIPTION("dma-heaps of DMA-coherent cohbuf buffers (cannot be unloaded)");
MODULE_LICENSE("GPL");
COHBUF_IMPORT_NS_DMA_BUF_HEAP();
