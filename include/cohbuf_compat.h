/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the only place that depends on the kernel version.
 *
 * Built and checked against 6.1, 6.12 and 7.2; the cases for 6.13 (namespace
 * names) and 6.17 (64-bit fence seqnos) cover the kernels in between.
 * An out-of-tree module that supports several kernels cannot avoid testing
 * LINUX_VERSION_CODE, so the test is confined to this one macro (and
 * scripts/static-checks lets checkpatch accept it in this file only).
 */
#ifndef COHBUF_COMPAT_H
#define COHBUF_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/hrtimer.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/version.h>

#define COHBUF_KERNEL_AT_LEAST(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/* Symbol namespace names are string literals from 6.13 on. */
#if COHBUF_KERNEL_AT_LEAST(6, 13)
#define COHBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define COHBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/* dma_heap_add() and friends; only used on kernels that export them. */
#if COHBUF_KERNEL_AT_LEAST(6, 13)
#define COHBUF_IMPORT_NS_DMA_BUF_HEAP()	MODULE_IMPORT_NS("DMA_BUF_HEAP")
#else
#define COHBUF_IMPORT_NS_DMA_BUF_HEAP()	MODULE_IMPORT_NS(DMA_BUF_HEAP)
#endif

/*
 * 64-bit fence seqnos. Up to 6.16 a fence's ops ask for them with the
 * use_64bit_seqno field; from 6.17 on that field is gone and the fence is
 * initialised with dma_fence_init64() instead, which sets a flag in the
 * fence. A driver that wants them puts COHBUF_DMA_FENCE_OPS_SEQNO64 in its
 * dma_fence_ops initialiser and initialises its fences with
 * cohbuf_dma_fence_init64(); each half is a no-op where the other does the
 * work.
 */
#if COHBUF_KERNEL_AT_LEAST(6, 17)
#define COHBUF_DMA_FENCE_OPS_SEQNO64
#else
#define COHBUF_DMA_FENCE_OPS_SEQNO64	.use_64bit_seqno = true,
#endif

static inline void cohbuf_dma_fence_init64(struct dma_fence *fence,
					   const struct dma_fence_ops *ops,
					   spinlock_t *lock, u64 context,
					   u64 seqno)
{
#if COHBUF_KERNEL_AT_LEAST(6, 17)
	dma_fence_init64(fence, ops, lock, context, seqno);
#else
	dma_fence_init(fence, ops, lock, context, seqno);
#endif
}

/* vm_flags is read-only from 6.3 on and changed through vm_flags_mod(). */
static inline void cohbuf_vm_flags_mod(struct vm_area_struct *vma,
				       vm_flags_t set, vm_flags_t clear)
{
#if COHBUF_KERNEL_AT_LEAST(6, 3)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * dma_buf_vmap() expects the reservation lock held from 6.2 on, and the
 * _unlocked variants take it. 6.1 has no _unlocked vmap: its dma_buf_vmap()
 * serialises on dmabuf->lock by itself and must be called without the
 * reservation lock. (dma_buf_map_attachment_unlocked() exists on both.)
 */
static inline int cohbuf_dma_buf_vmap_unlocked(struct dma_buf *dmabuf,
					       struct iosys_map *map)
{
#if COHBUF_KERNEL_AT_LEAST(6, 2)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void cohbuf_dma_buf_vunmap_unlocked(struct dma_buf *dmabuf,
						  struct iosys_map *map)
{
#if COHBUF_KERNEL_AT_LEAST(6, 2)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/* hrtimer_setup() replaces hrtimer_init() and the function assignment from 6.13 on. */
static inline void cohbuf_hrtimer_setup(struct hrtimer *timer,
					enum hrtimer_restart (*fn)(struct hrtimer *),
					clockid_t clock, enum hrtimer_mode mode)
{
#if COHBUF_KERNEL_AT_LEAST(6, 13)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * An IIO buffer's own sysfs attributes (struct iio_buffer's attrs): an
 * array of struct attribute pointers in 6.1, of struct iio_dev_attr
 * pointers in 6.12 and later (from 6.2 on). Declare the array's element
 * type with COHBUF_IIO_BUFFER_ATTR_TYPE and name each IIO_DEVICE_ATTR()
 * in it with COHBUF_IIO_BUFFER_ATTR().
 */
#if COHBUF_KERNEL_AT_LEAST(6, 2)
#define COHBUF_IIO_BUFFER_ATTR_TYPE	struct iio_dev_attr
#define COHBUF_IIO_BUFFER_ATTR(ia)	(&(ia))
#else
#define COHBUF_IIO_BUFFER_ATTR_TYPE	struct attribute
#define COHBUF_IIO_BUFFER_ATTR(ia)	(&(ia).dev_attr.attr)
#endif

#endif /* COHBUF_COMPAT_H */
