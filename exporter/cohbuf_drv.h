/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf exporter: internal interfaces shared by the source files of
 * cohbuf.ko (not the uapi header linux/cohbuf.h, nor the CLI).
 */
#ifndef COHBUF_DRV_H
#define COHBUF_DRV_H

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/compiler_types.h>
#include <linux/errno.h>
#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/cohbuf.h>

struct device;
struct dma_buf;
struct page;

/*
 * For every allocation whose size user space controls: it fails with
 * -ENOMEM, without a page-allocation-failure warning and without invoking
 * the OOM killer (the memory cgroup's neither), however large it is; and
 * it is charged to the allocating task's memory cgroup. Through
 * dma_alloc_attrs() the charge reaches every chunk that dma-direct takes
 * from the page allocator (remapped ones too); pages from a CMA area are
 * not charged, as cma_alloc() charges no cgroup.
 */
#define COHBUF_GFP	(GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/*
 * One physically contiguous allocation; a buffer is a sequence of them.
 * COHBUF_CACHE_WC: dma_alloc_attrs(), coherent memory. COHBUF_CACHE_CACHED:
 * dma_alloc_pages(), cacheable memory that the DMA API keeps mapped for
 * the cohbuf device (DMA_BIDIRECTIONAL) and that is synced explicitly.
 */
struct cohbuf_chunk {
	void *vaddr;		/* kernel address: the DMA API's own mapping
				 * (WC), or page_address() (CACHED)
				 */
	struct page *page;	/* CACHED: from dma_alloc_pages(); else NULL */
	dma_addr_t dma_addr;	/* address for the cohbuf device */
	size_t size;		/* bytes, a multiple of PAGE_SIZE */
	pgoff_t pgoff;		/* index of the chunk's first page in buffer */
	struct sg_table sgt;	/* backing pages: from dma_get_sgtable_attrs()
				 * (WC) or one entry of @page (CACHED)
				 */
};

/*
 * One map_dma_buf() result: the table handed to the importer, and what
 * begin/end_cpu_access and COHBUF_IOCTL_SYNC need to sync it.
 */
struct cohbuf_mapping {
	struct list_head node;	/* in cohbuf_buffer.maps, under maps_lock */
	struct sg_table sgt;	/* mapped for @dev */
	struct device *dev;	/* the importer's device */
	enum dma_data_direction dir; /* of the dma_map_sgtable() call */
};

/*
 * A buffer. Everything but the atomic counters, @node and @maps is written
 * only before the buffer is exported and is read-only afterwards.
 */
struct cohbuf_buffer {
	struct list_head node;	/* in cohbuf_state.buffers, under its lock */
	struct device *dev;	/* device the chunks were allocated for */
	struct dma_buf *dmabuf;	/* set once exported */
	u64 id;
	size_t size;		/* bytes, a multiple of PAGE_SIZE */
	u32 flags;		/* COHBUF_ALLOC_* */
	u32 cache_mode;		/* COHBUF_CACHE_* */
	unsigned long dma_attrs; /* DMA_ATTR_* used for every chunk */
	struct cohbuf_chunk *chunks;
	unsigned int nr_chunks;
	unsigned int cap_chunks; /* allocated length of @chunks */
	atomic_t attachments;	/* live dma-buf attachments */
	atomic_t mmaps;		/* user VMAs mapping the buffer */
	struct mutex maps_lock;	/* protects @maps; never held while taking
				 * the reservation lock (map_dma_buf may
				 * run under it)
				 */
	struct list_head maps;	/* live struct cohbuf_mapping */
	atomic64_t synced_cpu;	/* bytes passed to dma_sync_*_for_cpu() */
	atomic64_t synced_dev;	/* bytes passed to dma_sync_*_for_device() */
	/* Who allocated it, for debugfs: the task its memory is charged to. */
	pid_t owner_pid;	/* thread group, in the initial namespace */
	uid_t owner_uid;	/* real uid, in the initial namespace */
	u64 owner_cgroup;	/* cgroup2 id (its directory's inode), or 0 */
};

/* Validated ALLOC request, from the ioctl or cohbuf_alloc_dmabuf(). */
struct cohbuf_request {
	size_t size;		/* page aligned, within max_buffer_size */
	u32 flags;
	u32 cache_mode;
	int access_mode;	/* O_RDWR or O_RDONLY */
	const char *name;	/* NUL-terminated, may be empty */
};

struct cohbuf_stats {
	u64 live_buffers;	/* exported and not yet released */
	u64 live_bytes;		/* charged bytes, including allocations
				 * still in progress
				 */
	u64 peak_bytes;		/* highest live_bytes at an export */
	u64 allocations;	/* successful ALLOC ioctls and in-kernel
				 * allocations (dma-heaps included)
				 */
	u64 failures;		/* allocations that passed argument checks
				 * and then failed
				 */
};

/* Module-wide state, defined in cohbuf_buffer.c. */
struct cohbuf_state {
	struct mutex lock;		/* protects buffers and stats */
	struct list_head buffers;	/* every exported, unreleased buffer */
	struct cohbuf_stats stats;
};

extern struct cohbuf_state cohbuf_state;
extern const struct dma_buf_ops cohbuf_dmabuf_ops;

/* cohbuf_buffer.c */
struct dma_buf *cohbuf_buffer_export(struct device *dev,
				     const struct cohbuf_request *req);
void cohbuf_buffer_release(struct cohbuf_buffer *buf);
void cohbuf_stats_record(bool success);

/* cohbuf_reserve.c */
int cohbuf_reserve_check(size_t bytes);

/* cohbuf_chunks.c */
int cohbuf_chunks_alloc(struct cohbuf_buffer *buf);
void cohbuf_chunks_free(struct cohbuf_buffer *buf);
int cohbuf_chunks_sgt(const struct cohbuf_buffer *buf, struct device *dev,
		      struct sg_table *sgt);

/* cohbuf_sync.c */
bool cohbuf_buffer_streaming(const struct cohbuf_buffer *buf);
void cohbuf_sync_init(struct cohbuf_buffer *buf);
void cohbuf_sync_track(struct cohbuf_buffer *buf, struct cohbuf_mapping *m);
void cohbuf_sync_untrack(struct cohbuf_buffer *buf, struct cohbuf_mapping *m);
void cohbuf_sync_range(struct cohbuf_buffer *buf, u64 offset, u64 len,
		       enum dma_data_direction dir, bool for_cpu);

/* cohbuf_file.c */
int cohbuf_write_file(struct cohbuf_write_file_data *data);

/* cohbuf_dmabuf.c */
struct cohbuf_buffer *cohbuf_buffer_from_dmabuf(struct dma_buf *dmabuf);
const char *cohbuf_cpu_map_name(const struct cohbuf_buffer *buf);

/* cohbuf_devmap.c, where the kernel has PCI */
#if IS_ENABLED(CONFIG_PCI)
int cohbuf_ioctl_map_pci(struct cohbuf_map_pci_data *data,
			 void __user *uarg, size_t usize);
int cohbuf_devmap_init(void);
void cohbuf_devmap_exit(void);
#else
static inline int cohbuf_ioctl_map_pci(struct cohbuf_map_pci_data *data,
				       void __user *uarg, size_t usize)
{
	return capable(CAP_SYS_RAWIO) ? -ENODEV : -EPERM;
}

static inline int cohbuf_devmap_init(void)
{
	return 0;
}

static inline void cohbuf_devmap_exit(void)
{
}
#endif

/* cohbuf_ioctl.c */
int cohbuf_alloc_check(u64 len, u32 fd_flags, u32 flags, u32 cache_mode,
		       struct cohbuf_request *req);
long cohbuf_ioctl(struct device *dev, unsigned int cmd, unsigned long arg);

/* cohbuf_debugfs.c */
void cohbuf_debugfs_init(struct device *dev);
void cohbuf_debugfs_exit(void);

#endif /* COHBUF_DRV_H */
