/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf importer: internal interfaces shared by the module's source files.
 *
 * Lock order, outermost first:
 *   cohbuf_imp_contexts_lock -> ctx->lock -> dma_resv locks (ww class)
 *   -> an engine's submit_lock -> ctx->done_lock -> an engine's fence_lock
 * The engine worker takes only ctx->done_lock and engine.fence_lock.
 * cohbuf_imp_maps_lock (importer_import.c) nests outside the dma_resv
 * locks the exporter's attach, map and vmap take, and is never taken with
 * any of the others held.
 */
#ifndef COHBUF_IMPORTER_H
#define COHBUF_IMPORTER_H

#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/cohbuf_importer.h>

struct device;
struct dma_buf;
struct dma_buf_attachment;
struct dma_resv;
struct sg_table;
struct cohbuf_imp_engine;

/*
 * A dma-buf attached and mapped for the importer device and vmapped for
 * the CPU, shared by all its imports; see importer_import.c.
 */
struct cohbuf_imp_mapping {
	struct kref ref;		/* one per import using it */
	struct hlist_node node;		/* in the table of mappings */
	struct dma_buf *dmabuf;		/* our own reference */
	struct device *dev;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;		/* mapped for @dev */
	struct iosys_map map;		/* system memory, checked at import */
	unsigned int nents;		/* DMA-mapped entries of @sgt */
};

/* One import: a handle of a context on a mapping. */
struct cohbuf_imp_import {
	struct kref ref;		/* the handle table, and each job */
	u32 handle;
	struct cohbuf_imp_mapping *mapping;	/* a reference */
	struct dma_buf *dmabuf;		/* @mapping's */
	struct iosys_map map;		/* @mapping's */
	size_t size;
	unsigned int nents;		/* @mapping's */
};

/* One open /dev/cohbuf-importer. */
struct cohbuf_imp_ctx {
	struct list_head node;		/* in the context list, under its lock */
	struct device *dev;		/* the importer device */
	u64 id;				/* for debugfs */
	struct xarray imports;		/* handle -> import; xa_lock protects
					 * lookups that take a reference
					 */
	struct mutex lock;		/* protects jobs and nr_jobs */
	struct list_head jobs;		/* submitted, not yet reaped */
	unsigned int nr_jobs;		/* in @jobs or being submitted */
	spinlock_t done_lock;		/* protects nr_done and every job's
					 * state, status and checksum
					 */
	unsigned int nr_done;		/* completed jobs not yet reaped */
	wait_queue_head_t wq;		/* job completion; close */
	bool closing;			/* set once by release, read by the
					 * engine with READ_ONCE
					 */
};

enum cohbuf_imp_job_state {
	COHBUF_IMP_JOB_QUEUED,
	COHBUF_IMP_JOB_RUNNING,
	COHBUF_IMP_JOB_DONE,
};

/*
 * A job. Its parameters are fixed at submission. Its fence has its own
 * lifetime: it may outlive the job in reservation objects and sync_files.
 * The job is freed only in process context (WAIT or close), never by the
 * engine, so dropping its imports never takes a reservation lock on the
 * engine's signalling path.
 */
struct cohbuf_imp_job {
	struct kref ref;		/* ctx->jobs, and each WAIT in progress */
	struct list_head node;		/* in ctx->jobs, under ctx->lock */
	struct work_struct work;	/* on the engine's ordered workqueue */
	struct cohbuf_imp_ctx *ctx;	/* outlives the job: close waits */
	struct cohbuf_imp_engine *eng;	/* runs the job */
	struct dma_fence *fence;	/* our reference */
	struct dma_fence **deps;	/* referenced; waited for by the engine */
	unsigned int nr_deps;
	struct cohbuf_imp_import *dst;	/* written, or NULL */
	struct cohbuf_imp_import *src;	/* read, or NULL */
	u64 id;				/* unique over all engines; 0 until
					 * the fence is initialised
					 */
	u32 op;
	u32 flags;
	u64 dst_offset;
	u64 src_offset;
	u64 len;
	u64 seed;
	u32 pattern;
	u32 latency_ms;
	enum cohbuf_imp_job_state state; /* under ctx->done_lock */
	int status;			/* under ctx->done_lock */
	u32 checksum;			/* under ctx->done_lock */
};

/* Counters for debugfs: monotonic, but for @mappings. */
struct cohbuf_imp_stats {
	atomic64_t mappings;		/* live: dma-bufs mapped for the device */
	atomic64_t imports;
	atomic64_t releases;
	atomic64_t submitted;
	atomic64_t succeeded;
	atomic64_t timed_out;
	atomic64_t cancelled;
};

extern struct cohbuf_imp_stats cohbuf_imp_stats;
extern struct mutex cohbuf_imp_contexts_lock;
extern struct list_head cohbuf_imp_contexts;

/* importer_main.c */
unsigned int cohbuf_imp_timeout_ms(void);
unsigned int cohbuf_imp_default_latency_ms(void);
unsigned int cohbuf_imp_max_jobs(void);

/* importer_ioctl.c */
long cohbuf_imp_ioctl(struct cohbuf_imp_ctx *ctx, unsigned int cmd,
		      unsigned long arg);

/* importer_import.c */
int cohbuf_imp_import(struct cohbuf_imp_ctx *ctx,
		      struct cohbuf_imp_import_data *data,
		      void __user *uarg, size_t usize);
int cohbuf_imp_release(struct cohbuf_imp_ctx *ctx, u32 handle);
struct cohbuf_imp_import *cohbuf_imp_import_get(struct cohbuf_imp_ctx *ctx,
						u32 handle);
void cohbuf_imp_import_put(struct cohbuf_imp_import *imp);
void cohbuf_imp_imports_drop(struct cohbuf_imp_ctx *ctx);

/* importer_job.c */
int cohbuf_imp_submit(struct cohbuf_imp_ctx *ctx,
		      struct cohbuf_imp_submit_data *data,
		      void __user *uarg, size_t usize);
int cohbuf_imp_wait(struct cohbuf_imp_ctx *ctx,
		    struct cohbuf_imp_wait_data *data);
void cohbuf_imp_jobs_drain(struct cohbuf_imp_ctx *ctx);

/* importer_engine.c */
struct cohbuf_imp_engine *cohbuf_imp_engine_get(u32 index);
unsigned int cohbuf_imp_engine_index(const struct cohbuf_imp_engine *eng);
int cohbuf_imp_engine_init(void);
void cohbuf_imp_engine_exit(void);
struct dma_fence *cohbuf_imp_fence_alloc(void);
void cohbuf_imp_engine_begin(struct cohbuf_imp_job *job);
void cohbuf_imp_engine_commit(struct cohbuf_imp_job *job);
void cohbuf_imp_engine_abort(struct cohbuf_imp_job *job);
void cohbuf_imp_job_work(struct work_struct *work);
const char *cohbuf_imp_op_name(u32 op);

/* importer_debugfs.c */
void cohbuf_imp_debugfs_init(void);
void cohbuf_imp_debugfs_exit(void);

#endif /* COHBUF_IMPORTER_H */
