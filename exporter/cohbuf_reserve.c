// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: the memory reserve no buffer may take.
 *
 * The chunks are allocated with __GFP_RETRY_MAYFAIL, so allocating them
 * never invokes the OOM killer. But their pages are pinned: reclaim cannot
 * touch them. Once buffers hold nearly all memory, the next allocation
 * anywhere else (a page fault of the caller or of an unrelated process, a
 * page table, a slab object) finds nothing to reclaim, and the OOM killer
 * picks a victim that did nothing wrong. Failing our own allocation late
 * does not help: by then the damage is done elsewhere.
 *
 * So the policy is: a buffer, and each chunk of it, is refused with
 * -ENOMEM if pinning it would leave less than reserve_percent of RAM
 * available. It is checked once for the whole buffer before anything is
 * allocated (so a hopeless request fails at once) and again before every
 * chunk (memory may have gone to others, or to concurrent allocations, in
 * the meantime).
 *
 * "Available" is si_mem_available(), the estimate behind MemAvailable in
 * /proc/meminfo: free pages minus the zones' high watermarks and lowmem
 * reserves (totalreserve_pages), plus the part of the page cache and of
 * reclaimable slab that can go without thrashing. Free pages alone would
 * refuse buffers on a machine whose memory is full of clean page cache,
 * which reclaim hands over readily; comparing against the watermarks by
 * hand would repeat what si_mem_available() already does. Anonymous memory
 * is not counted as available: a buffer should not push other processes
 * into swap either. The estimate is racy by nature; the reserve is the
 * margin for that, and for what others allocate while the buffer lives.
 *
 * The default of 5 % leaves about 50 MiB on a 1 GiB machine: far more than
 * the few times min_free_kbytes the kernel itself keeps, enough for the
 * page tables, sg tables and page faults that follow a large allocation.
 */

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>

#include "cohbuf_drv.h"

/* Most of RAM a reserve may be; a larger one would refuse every buffer. */
#define COHBUF_MAX_RESERVE_PERCENT	50

static unsigned int reserve_percent = 5;

static int cohbuf_reserve_percent_set(const char *val,
				      const struct kernel_param *kp)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v > COHBUF_MAX_RESERVE_PERCENT)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops cohbuf_reserve_percent_ops = {
	.set = cohbuf_reserve_percent_set,
	.get = param_get_uint,
};

module_param_cb(reserve_percent, &cohbuf_reserve_percent_ops,
		&reserve_percent, 0644);
__MODULE_PARM_TYPE(reserve_percent, "uint");
MODULE_PARM_DESC(reserve_percent,
		 "Percentage of RAM that must stay available (MemAvailable) after an allocation, 0 (none) to 50 (default 5)");

/**
 * cohbuf_reserve_check() - whether @bytes more may be pinned
 * @bytes: size of the buffer or chunk about to be allocated
 *
 * Return: 0, or -ENOMEM if allocating @bytes would leave less than the
 * reserve available.
 */
int cohbuf_reserve_check(size_t bytes)
{
	unsigned long reserve = totalram_pages() / 100 *
				READ_ONCE(reserve_percent);
	unsigned long avail = si_mem_available();
	unsigned long need = DIV_ROUND_UP(bytes, PAGE_SIZE);

	/* No reserve: allocate until the page allocator itself fails. */
	if (!reserve)
		return 0;
	if (avail < reserve || need > avail - reserve)
		return -ENOMEM;
	return 0;
}
