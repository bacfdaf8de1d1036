/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf importer: internal interfaces shared by the module's source files.
 *
 * The files call one another only downwards, and each includes only this
 * header of the module's own:
 *   importer_main.c (module, device, file operations)
 *     -> importer_ioctl.c (copy-in, copy-out, fd install)
 *       -> importer_job.c (jobs) -> importer_import.c (imports)
 *                                -> importer_engine.c (engines, fences)
 *     -> importer_limits.c (a leaf: per-file and per-user limits, also
 *        called by the job and import files)
 *     -> importer_debugfs.c (a leaf: reads jobs through the job file)
 *     -> importer_edu.c (the edu PCI driver, registered at init; the job
 *        file calls it to map buffers for the device and to run device
 *        jobs; it calls the engine file's FILL bytes and the import
 *        file's mappings)
 *     -> importer_stream.c (streams; its files share importer_stream.h)
 *       -> ... -> importer_import.c (the shared mapping of a dma-buf)
 *
 * Lock order, outermost first:
 *   cohbuf_imp_contexts_lock -> ctx->lock -> ctx->done_lock
 *   cohbuf_imp_contexts_lock -> a context's imports xa_lock
 *   dma_resv locks (ww class) -> an engine's submit_lock -> fence locks
 * ctx->lock and ctx->done_lock are never held while taking a reservation
 * lock or submit_lock. A job's work item takes ctx->done_lock and its
 * engine's fence_lock one after the other, never nested, and nothing but
 * the wait queue's lock is taken under ctx->done_lock.
 * cohbuf_imp_maps_lock (importer_import.c) nests outside the dma_resv
 * locks the exporter's attach, map and vmap take, and is never taken with
 * any of the others held. cohbuf_imp_limits_lock (importer_limits.c) is
 * innermost: nothing is taken under it.
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
#include <linux/ww_mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/cohbuf_importer.h>

struct device;
struct dma_buf;
struct dma_buf_attachment;
struct dma_resv;
struct sg_table;
struct sync_file;
struct cohbuf_imp_engine;
struct cohbuf_imp_user;
struct file;

/* What cohbuf_imp_charge() counts, per open file and per user. */
enum cohbuf_imp_kind {
	COHBUF_IMP_CONTEXT,		/* an open file */
	COHBUF_IMP_JOB,			/* a job not yet reaped */
	COHBUF_IMP_IMPORT,		/* a live handle */
	COHBUF_IMP_STREAM,		/* a stream not yet released; per user
					 * only, never in a context's charged[]
					 */
	COHBUF_IMP_NR_KINDS
};

/* Most engines (module parameter "engines"). */
#define COHBUF_IMP_MAX_ENGINES	8
/*
 * Every engine a context has a timeline on: the CPU engines, then one per
 * device slot (COHBUF_IMP_MAX_DEVICES, uapi).
 */
#define COHBUF_IMP_NR_TIMELINES	(COHBUF_IMP_MAX_ENGINES + COHBUF_IMP_MAX_DEVICES)

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
	bool revoked;			/* @dev went away: unmapped already;
					 * under cohbuf_imp_maps_lock
					 */
	bool need_sync;			/* dma_need_sync() for a segment */
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

/*
 * The fence timeline of one context's jobs on one engine. Its seqnos are
 * handed out under the engine's submit_lock, which also queues the jobs,
 * so the timeline's seqno order is the engine's run order.
 */
struct cohbuf_imp_timeline {
	u64 context;			/* dma_fence context */
	u64 seqno;			/* last one handed out; under the
					 * engine's submit_lock
					 */
};

/* One open /dev/cohbuf-importer. */
struct cohbuf_imp_ctx {
	struct list_head node;		/* in the context list, under its lock */
	struct device *dev;		/* the importer device */
	u64 id;				/* for debugfs */
	struct xarray imports;		/* handle -> import; xa_lock protects
					 * lookups that take a reference
					 */
	struct mutex lock;		/* protects jobs */
	struct list_head jobs;		/* submitted, not yet reaped; in
					 * id order
					 */
	spinlock_t done_lock;		/* protects nr_done and every job's
					 * state, status and checksum; taken
					 * only in importer_job.c
					 */
	unsigned int nr_done;		/* completed jobs not yet reaped */
	wait_queue_head_t wq;		/* job completion; close */
	bool closing;			/* set once by release, read by the
					 * jobs' work items with READ_ONCE
					 */
	struct cohbuf_imp_timeline timelines[COHBUF_IMP_NR_TIMELINES];
	struct work_struct reap;	/* frees what close left behind */
	struct cohbuf_imp_user *user;	/* charged with what we hold */
	bool unlimited;			/* CAP_SYS_RESOURCE at open: no
					 * per-user limits
					 */
	/* under cohbuf_imp_limits_lock */
	unsigned int charged[COHBUF_IMP_NR_KINDS];
};

enum cohbuf_imp_job_state {
	COHBUF_IMP_JOB_QUEUED,
	COHBUF_IMP_JOB_RUNNING,
	COHBUF_IMP_JOB_DONE,
};

/*
 * A job. Its parameters are fixed at submission. Its fence has its own
 * lifetime: it may outlive the job in reservation objects and sync_files.
 * The job is freed only in process context (WAIT, or the work item that
 * frees a closed context), never by its engine's work item, so dropping
 * its imports never takes a reservation lock on the signalling path.
 * Only importer_job.c reads or writes its fields, but for debugfs walking
 * @node under ctx->lock.
 */
struct cohbuf_imp_job {
	struct kref ref;		/* ctx->jobs, and each WAIT in progress */
	struct list_head node;		/* in ctx->jobs, under ctx->lock */
	struct work_struct work;	/* runs the job; queued on its
					 * engine's ordered workqueue
					 */
	struct cohbuf_imp_ctx *ctx;	/* outlives the job: close cancels
					 * or waits for its work item
					 */
	struct cohbuf_imp_engine *eng;	/* runs the job */
	struct dma_fence *fence;	/* our reference */
	struct dma_fence **deps;	/* referenced; waited for by the engine */
	unsigned int nr_deps;
	struct cohbuf_imp_import *dst;	/* written, or NULL */
	struct cohbuf_imp_import *src;	/* read, or NULL */
	/* With COHBUF_IMP_SUBMIT_DEVICE: @dst and @src mapped for it */
	struct cohbuf_imp_mapping *dst_dev;
	struct cohbuf_imp_mapping *src_dev;
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

/* The reservation objects of one job, each locked once. */
struct cohbuf_imp_resvs {
	struct dma_resv *obj[2];
	bool write[2];			/* the job writes obj[i] */
	unsigned int n;
	struct ww_acquire_ctx ticket;
};

/* One operation of an engine, on kernel mappings of the buffers. */
struct cohbuf_imp_op {
	u32 op;				/* COHBUF_IMP_OP_* */
	bool random;			/* FILL: @seed's stream, not @pattern */
	u8 *dst;			/* written, or NULL */
	const u8 *src;			/* read, or NULL */
	u64 len;
	u64 seed;
	u32 pattern;
};

/*
 * One operation of a device engine, on the buffers' mappings for the
 * device (importer_edu.c), which checks under its dev_lock that they were
 * not revoked. @fill describes the operation (op, random, len, seed,
 * pattern; no pointers).
 */
struct cohbuf_imp_dev_op {
	struct cohbuf_imp_op fill;
	struct cohbuf_imp_mapping *dst;	/* written, or NULL */
	struct cohbuf_imp_mapping *src;	/* read, or NULL */
	u64 dst_offset;
	u64 src_offset;
	bool backward;			/* COPY within one buffer, upwards */
	const bool *closing;		/* the job's context's: read with
					 * READ_ONCE between transfers
					 */
};

/* What debugfs shows of a job, read consistently by the job file. */
struct cohbuf_imp_job_info {
	u64 id;
	const char *op;			/* the operation's name */
	unsigned int engine;		/* index */
	u64 seqno;
	const char *state;
	int status;
};

/* Counters for debugfs: monotonic, but for @mappings and @closing. */
struct cohbuf_imp_stats {
	atomic64_t mappings;		/* live: dma-bufs mapped for the device */
	atomic64_t closing;		/* live: closed contexts not yet freed */
	atomic64_t imports;
	atomic64_t releases;
	atomic64_t submitted;
	atomic64_t succeeded;
	atomic64_t timed_out;
	atomic64_t cancelled;
	atomic64_t streams;		/* live */
	atomic64_t stream_regions;	/* live: held by a stream or awaiting
					 * DEQUEUE
					 */
	atomic64_t stream_rings;	/* live: data areas of ring streams */
	atomic64_t device_syncs;	/* cohbuf_imp_import_sync() calls that
					 * reached the DMA API
					 */
};

extern struct cohbuf_imp_stats cohbuf_imp_stats;
extern struct mutex cohbuf_imp_contexts_lock;
extern struct list_head cohbuf_imp_contexts;

/* importer_ioctl.c */
long cohbuf_imp_ioctl(struct cohbuf_imp_ctx *ctx, unsigned int cmd,
		      unsigned long arg);

/* importer_import.c */
struct cohbuf_imp_import *cohbuf_imp_import_create(struct device *dev, int fd);
void cohbuf_imp_imports_init(struct cohbuf_imp_ctx *ctx);
struct cohbuf_imp_import *cohbuf_imp_import(struct cohbuf_imp_ctx *ctx,
					    struct cohbuf_imp_import_data *d);
void cohbuf_imp_import_withdraw(struct cohbuf_imp_ctx *ctx,
				struct cohbuf_imp_import *imp);
int cohbuf_imp_release(struct cohbuf_imp_ctx *ctx, u32 handle);
struct cohbuf_imp_import *cohbuf_imp_import_get(struct cohbuf_imp_ctx *ctx,
						u32 handle);
void cohbuf_imp_import_put(struct cohbuf_imp_import *imp);
void cohbuf_imp_import_sync(const struct cohbuf_imp_import *imp, u64 offset,
			    u64 len, bool written);
void cohbuf_imp_imports_drop(struct cohbuf_imp_ctx *ctx);
struct cohbuf_imp_mapping *cohbuf_imp_mapping_for(struct dma_buf *dmabuf,
						  struct device *dev);
void cohbuf_imp_mapping_release(struct cohbuf_imp_mapping *m);
void cohbuf_imp_mappings_revoke(struct device *dev);

/* importer_job.c */
void cohbuf_imp_jobs_init(struct cohbuf_imp_ctx *ctx);
struct cohbuf_imp_job *cohbuf_imp_job_create(struct cohbuf_imp_ctx *ctx,
					     const struct cohbuf_imp_submit_data *d);
void cohbuf_imp_job_cancel(struct cohbuf_imp_job *job);
struct sync_file *cohbuf_imp_job_submit(struct cohbuf_imp_job *job,
					bool out_fence, u64 *id);
int cohbuf_imp_wait(struct cohbuf_imp_ctx *ctx,
		    struct cohbuf_imp_wait_data *data);
void cohbuf_imp_jobs_cancel(struct cohbuf_imp_ctx *ctx);
void cohbuf_imp_jobs_free(struct cohbuf_imp_ctx *ctx);
bool cohbuf_imp_jobs_any_done(struct cohbuf_imp_ctx *ctx);
void cohbuf_imp_job_info(const struct cohbuf_imp_job *job,
			 struct cohbuf_imp_job_info *info);

/* importer_engine.c */
struct cohbuf_imp_engine *cohbuf_imp_engine_get(u32 index);
struct cohbuf_imp_engine *cohbuf_imp_engine_get_device(u32 index);
void cohbuf_imp_engine_timelines_init(struct cohbuf_imp_timeline *tl);
unsigned int cohbuf_imp_engine_index(const struct cohbuf_imp_engine *eng);
int cohbuf_imp_engine_init(void);
void cohbuf_imp_engine_exit(void);
struct dma_fence *cohbuf_imp_fence_alloc(void);
void cohbuf_imp_fence_put(struct dma_fence *fence);
int cohbuf_imp_engine_publish(struct cohbuf_imp_engine *eng,
			      struct cohbuf_imp_timeline *tl,
			      struct dma_fence *fence,
			      const struct cohbuf_imp_resvs *r,
			      struct sync_file **sync,
			      struct work_struct *work, u64 *id);
u32 cohbuf_imp_engine_execute(const struct cohbuf_imp_op *op);
void cohbuf_imp_engine_fill_at(const struct cohbuf_imp_op *op, u64 offset,
			       u8 *p, u64 len);
const char *cohbuf_imp_op_name(u32 op);

/* importer_edu.c */
int cohbuf_imp_edu_init(void);
void cohbuf_imp_edu_exit(void);
struct cohbuf_imp_mapping *cohbuf_imp_edu_map(u32 index,
					      struct dma_buf *dmabuf);
int cohbuf_imp_edu_execute(u32 index, const struct cohbuf_imp_dev_op *op,
			   u32 *checksum);

/* importer_limits.c */
int cohbuf_imp_limits_attach(struct cohbuf_imp_ctx *ctx, struct file *file);
void cohbuf_imp_limits_detach(struct cohbuf_imp_ctx *ctx);
int cohbuf_imp_charge(struct cohbuf_imp_ctx *ctx, enum cohbuf_imp_kind kind);
void cohbuf_imp_uncharge(struct cohbuf_imp_ctx *ctx, enum cohbuf_imp_kind kind);
struct cohbuf_imp_user *cohbuf_imp_stream_charge(struct cohbuf_imp_ctx *ctx);
void cohbuf_imp_stream_uncharge(struct cohbuf_imp_user *u);

/* importer_stream.c */
struct cohbuf_stream_create_data;
struct file *cohbuf_imp_stream_create(struct cohbuf_imp_ctx *ctx,
				      const struct cohbuf_stream_create_data *d);
int cohbuf_imp_stream_init(void);
void cohbuf_imp_stream_exit(void);

/* importer_debugfs.c */
void cohbuf_imp_debugfs_init(void);
void cohbuf_imp_debugfs_exit(void);

#endif /* COHBUF_IMPORTER_H */
