/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the only place that depends on the kernel version.
 *
 * Built and checked against 6.1 and 6.12; the namespace case covers 6.13+.
 * An out-of-tree module that supports several kernels cannot avoid testing
 * LINUX_VERSION_CODE, so the test is confined to this one macro (and
 * scripts/static-checks lets checkpatch accept it in this file only).
 */
#ifndef COHBUF_COMPAT_H
#define COHBUF_COMPAT_H

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

#endif /* COHBUF_COMPAT_H */
