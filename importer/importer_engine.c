// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: the engines - their queues, their fence contexts and
 * the operations they perform. Calls nothing else of the module (it only
 * counts in cohbuf_imp_stats, which importer_main.c defines); the job
 * file (importer_job.c) calls it to number, publish and queue a job's
 * fence and, from the job's work item, to perform the job's operation.
 *
 * Like the channels of a DMA controller, the engines (module parameter
 * "engines") run at the same time; only fences order jobs of different
 * engines. Each engine has its own ordered workqueue, and each context
 * has a fence timeline (a dma_fence context) of its own on each engine,
 * as the DRM scheduler gives each entity: a context's fences then need
 * not wait for other contexts' to be signalled in order, which lets a
 * closing context cancel its queued jobs at once (importer_job.c).
 * cohbuf_imp_engine_publish() numbers a fence on its timeline, publishes
 * it and queues its work item, all under the engine's submit_lock, so a
 * timeline's seqno order is queue order; the workqueue is ordered, so
 * queue order is run order, and a job that is cancelled instead of run is
 * signalled only after the earlier jobs of its timeline: the dma_fence
 * rules hold within each context. Job ids are counted over all engines,
 * in the same function.
 *
 * Fence signalling rules: from the moment a fence is in a reservation
 * object until it is signalled, nothing allocates memory or takes a
 * reservation lock, since whoever waits for the fence may hold one or be
 * reclaiming memory. cohbuf_imp_engine_publish() therefore makes the
 * out-fence's sync_file before the first dma_resv_add_fence(), and
 * nothing after that allocates or fails; the job's work item runs between
 * dma_fence_begin_signalling() and dma_fence_end_signalling(). The
 * workqueue has WQ_MEM_RECLAIM so that a job can run under memory
 * pressure. Every fence of ours is signalled, even one that was never
 * published.
 *
 * The engine is the device: it reaches the buffers through their kernel
 * mapping and never calls dma_buf_begin_cpu_access(), which would take the
 * reservation lock and wait for the job's own fence.
 *
 * Each device slot (COHBUF_IMP_MAX_DEVICES) has an engine too, set up
 * here like the CPU ones, whether or not a device is bound to it: its
 * fences, queue and timelines follow the same rules, only its jobs move
 * their bytes through the device (importer_edu.c). Being static, an
 * engine outlives every fence on its timeline whatever happens to the
 * device.
 *
 * A real device reads and writes memory; the engine is a CPU, and the
 * kernel mapping may be cacheable (a COHBUF_CACHE_CACHED buffer, vgem,
 * udmabuf). On a platform whose DMA is not cache-coherent (arm64 without
 * a coherent interconnect) the engine would otherwise leave its data in
 * dirty cache lines, which a consumer's DMA_BUF_IOCTL_SYNC START (an
 * invalidate) may discard, and read lines older than memory. So the job
 * file brackets every operation with cohbuf_imp_import_sync() on the
 * importer's own DMA mapping (importer_import.c), the stream files every
 * region, frame and ring record:
 *  - before the engine reads or writes a range, a sync for the CPU
 *    (DMA_FROM_DEVICE) makes the CPU's view of it what memory holds, as
 *    a device reads it: the lines the CPU caches are dropped, and bytes a
 *    producer left in its cache without DMA_BUF_IOCTL_SYNC END are not
 *    seen, as no device would see them. Writers do it too, so that the
 *    partly written lines at the ends of a range are not written back
 *    stale around the new bytes;
 *  - after the engine wrote a range, a sync for the device (DMA_TO_DEVICE)
 *    cleans it to memory before the fence or the ring's head says "done".
 * Where the DMA API needs no syncs for the importer's device (x86, no
 * bounce buffer) nothing is done. Cache maintenance neither allocates nor
 * takes a lock of ours: it is fine inside the fence-signalling section.
 */

#include <linux/crc32.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/sync_file.h>
#include <asm/byteorder.h>

#include <cohbuf_compat.h>
#include "importer.h"

/* Amount of work between two cond_resched() calls. */
#define COHBUF_IMP_STEP		SZ_1M

#define COHBUF_IMP_DEFAULT_ENGINES	2

static unsigned int engines = COHBUF_IMP_DEFAULT_ENGINES;
module_param(engines, uint, 0444);
MODULE_PARM_DESC(engines,
		 "Engines that run jobs concurrently (default "
		 __stringify(COHBUF_IMP_DEFAULT_ENGINES) ", 1 to "
		 __stringify(COHBUF_IMP_MAX_ENGINES) ")");

struct cohbuf_imp_engine {
	struct workqueue_struct *wq;	/* ordered: one job at a time */
	struct mutex submit_lock;	/* protects the seqno of every
					 * context's timeline on this engine;
					 * held across numbering, publishing
					 * and queueing a job, so that seqno
					 * order, publication order and queue
					 * order are the same
					 */
	spinlock_t fence_lock;		/* the dma_fence lock of its jobs */
	unsigned int index;		/* in cohbuf_imp_engines[]: a device
					 * slot's is COHBUF_IMP_MAX_ENGINES
					 * + the slot
					 */
	/* the fences' timeline name, "cohbuf-importer-engine<index>" */
	char name[sizeof("cohbuf-importer-engine") + 10];
};

/* The CPU engines, then the device slots' (COHBUF_IMP_NR_TIMELINES). */
static struct cohbuf_imp_engine cohbuf_imp_engines[COHBUF_IMP_NR_TIMELINES];
static unsigned int cohbuf_imp_nr_engines;	/* CPU ones set up at init */
static unsigned int cohbuf_imp_nr_device_engines;	/* device ones */

/* Last job id handed out, over all engines; ids start at 1. */
static atomic64_t cohbuf_imp_last_job_id = ATOMIC64_INIT(0);

static const char *cohbuf_imp_fence_driver_name(struct dma_fence *fence)
{
	return "cohbuf_importer";
}

/* A job's fence, and the engine whose timeline it is on. */
struct cohbuf_imp_fence {
	struct dma_fence base;		/* first: freed through it */
	const struct cohbuf_imp_engine *eng;	/* set with dma_fence_init() */
};

static const char *cohbuf_imp_fence_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct cohbuf_imp_fence, base)->eng->name;
}

/*
 * A fence may outlive every job, context and import, in another driver's
 * reservation object or in a sync_file, and its ops live in this module:
 * each fence therefore holds a module reference, dropped here.
 */
static void cohbuf_imp_fence_release(struct dma_fence *fence)
{
	dma_fence_free(fence);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops cohbuf_imp_fence_ops = {
	COHBUF_DMA_FENCE_OPS_SEQNO64
	.get_driver_name = cohbuf_imp_fence_driver_name,
	.get_timeline_name = cohbuf_imp_fence_timeline_name,
	.release = cohbuf_imp_fence_release,
};

/**
 * cohbuf_imp_fence_alloc() - allocate a fence, numbered when published
 *
 * Return: the fence, to be dropped with cohbuf_imp_fence_put(), or NULL.
 */
struct dma_fence *cohbuf_imp_fence_alloc(void)
{
	struct cohbuf_imp_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	return f ? &f->base : NULL;
}

/**
 * cohbuf_imp_fence_put() - drop a fence from cohbuf_imp_fence_alloc()
 * @fence: the fence; a reference, if cohbuf_imp_engine_publish() got it
 */
void cohbuf_imp_fence_put(struct dma_fence *fence)
{
	/* Numbered means initialised; before that it is only memory. */
	if (container_of(fence, struct cohbuf_imp_fence, base)->eng)
		dma_fence_put(fence);
	else
		kfree(container_of(fence, struct cohbuf_imp_fence, base));
}

/**
 * cohbuf_imp_engine_timelines_init() - give a context its fence timelines
 * @tl: the context's timelines, one per possible engine
 */
void cohbuf_imp_engine_timelines_init(struct cohbuf_imp_timeline *tl)
{
	u64 base = dma_fence_context_alloc(COHBUF_IMP_NR_TIMELINES);
	unsigned int i;

	for (i = 0; i < COHBUF_IMP_NR_TIMELINES; i++) {
		tl[i].context = base + i;
		tl[i].seqno = 0;
	}
}

/* Under submit_lock: the next seqno of the timeline @tl, and a job id. */
static u64 cohbuf_imp_fence_number(struct cohbuf_imp_engine *eng,
				   struct cohbuf_imp_timeline *tl,
				   struct dma_fence *fence)
{
	lockdep_assert_held(&eng->submit_lock);
	container_of(fence, struct cohbuf_imp_fence, base)->eng = eng;
	__module_get(THIS_MODULE);	/* dropped by the fence's release */
	cohbuf_dma_fence_init64(fence, &cohbuf_imp_fence_ops, &eng->fence_lock,
				tl->context, ++tl->seqno);
	return atomic64_inc_return(&cohbuf_imp_last_job_id);
}

/**
 * cohbuf_imp_engine_publish() - number, publish and queue a job's fence
 * @eng: the engine that runs the job
 * @tl: the timeline of the job's context on @eng
 * @fence: from cohbuf_imp_fence_alloc()
 * @r: the reservation objects the job uses, locked by the caller, each
 *	with a fence slot reserved
 * @sync: where to put an out-fence sync_file, or NULL for none
 * @work: the job's work item, queued once @fence is published
 * @id: set to the job's id, counted over all engines
 *
 * Holds the engine's submit_lock throughout, so that seqno order,
 * publication order and queue order are the same. The sync_file is made
 * first: once the fence is in a reservation object nothing here
 * allocates or fails. If it cannot be made, the fence is signalled with
 * -ECANCELED (nobody but the caller can see it yet), so that no fence of
 * ours is ever freed unsignalled, and @work is not queued.
 *
 * Return: 0, or -ENOMEM if the sync_file could not be made.
 */
int cohbuf_imp_engine_publish(struct cohbuf_imp_engine *eng,
			      struct cohbuf_imp_timeline *tl,
			      struct dma_fence *fence,
			      const struct cohbuf_imp_resvs *r,
			      struct sync_file **sync,
			      struct work_struct *work, u64 *id)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < r->n; i++)
		dma_resv_assert_held(r->obj[i]);
	mutex_lock(&eng->submit_lock);
	*id = cohbuf_imp_fence_number(eng, tl, fence);
	if (sync) {
		*sync = sync_file_create(fence);
		if (!*sync) {
			dma_fence_set_error(fence, -ECANCELED);
			dma_fence_signal(fence);
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	for (i = 0; i < r->n; i++)
		dma_resv_add_fence(r->obj[i], fence,
				   r->write[i] ? DMA_RESV_USAGE_WRITE :
						 DMA_RESV_USAGE_READ);
	atomic64_inc(&cohbuf_imp_stats.submitted);
	queue_work(eng->wq, work);
out_unlock:
	mutex_unlock(&eng->submit_lock);
	return ret;
}

static void cohbuf_imp_fill_pattern(u8 *p, u64 len, u32 pattern)
{
	u64 done, n, head = min_t(u64, len, PAGE_SIZE);

	for (done = 0; done < head; done++)
		p[done] = pattern >> (8 * (done & 3));
	/* PAGE_SIZE is a multiple of 4: page copies keep the phase. */
	while (done < len) {
		n = min_t(u64, len - done, PAGE_SIZE);
		memcpy(p + done, p, n);
		done += n;
		if (!(done % COHBUF_IMP_STEP))
			cond_resched();
	}
}

static u64 cohbuf_imp_splitmix64(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void cohbuf_imp_fill_random(u8 *p, u64 len, u64 seed)
{
	__le64 word;
	u64 i, n;

	for (i = 0; i < len; i += n) {
		word = cpu_to_le64(cohbuf_imp_splitmix64(&seed));
		n = min_t(u64, len - i, sizeof(word));
		memcpy(p + i, &word, n);
		if (!(i % COHBUF_IMP_STEP))
			cond_resched();
	}
}

/**
 * cohbuf_imp_engine_fill_at() - some of the bytes a FILL writes
 * @op: the FILL (its pointers are not used)
 * @offset: where in the FILL's range the bytes start
 * @p: where to put them
 * @len: how many
 *
 * For a device engine, which writes the range piece by piece: bytes
 * @offset to @offset + @len - 1 of what cohbuf_imp_engine_execute() would
 * write for @op, the same stream, from any offset.
 */
void cohbuf_imp_engine_fill_at(const struct cohbuf_imp_op *op, u64 offset,
			       u8 *p, u64 len)
{
	u64 state, i = 0, skip, n;
	__le64 word;

	if (!op->random) {
		for (i = 0; i < len; i++)
			p[i] = op->pattern >> (8 * ((offset + i) & 3));
		return;
	}
	/* Word w of the stream comes from the state seed + w * step. */
	state = op->seed + (offset / sizeof(word)) * 0x9e3779b97f4a7c15ULL;
	skip = offset % sizeof(word);
	while (i < len) {
		word = cpu_to_le64(cohbuf_imp_splitmix64(&state));
		n = min_t(u64, len - i, sizeof(word) - skip);
		memcpy(p + i, (u8 *)&word + skip, n);
		i += n;
		skip = 0;
	}
}

/*
 * memmove() in steps, rescheduling between them: a step never overwrites
 * source bytes a later step still reads, because steps go forwards when
 * the destination is below the source and backwards otherwise.
 */
static void cohbuf_imp_copy(u8 *dst, const u8 *src, u64 len)
{
	u64 done, n;

	for (done = 0; done < len; done += n) {
		n = min_t(u64, len - done, COHBUF_IMP_STEP);
		if (dst <= src)
			memmove(dst + done, src + done, n);
		else
			memmove(dst + len - done - n, src + len - done - n, n);
		cond_resched();
	}
}

/* zlib's crc32(0, p, len). */
static u32 cohbuf_imp_crc32(const u8 *p, u64 len)
{
	u32 crc = ~0U;
	u64 done, n;

	for (done = 0; done < len; done += n) {
		n = min_t(u64, len - done, COHBUF_IMP_STEP);
		crc = crc32_le(crc, p + done, n);
		cond_resched();
	}
	return ~crc;
}

/**
 * cohbuf_imp_engine_execute() - perform an operation
 * @op: the operation, on kernel mappings of the buffers
 *
 * Runs in a job's work item, inside its fence-signalling section: it does
 * not allocate and takes no lock.
 *
 * Return: the checksum for COHBUF_IMP_OP_CHECKSUM, else 0.
 */
u32 cohbuf_imp_engine_execute(const struct cohbuf_imp_op *op)
{
	switch (op->op) {
	case COHBUF_IMP_OP_FILL:
		if (op->random)
			cohbuf_imp_fill_random(op->dst, op->len, op->seed);
		else
			cohbuf_imp_fill_pattern(op->dst, op->len, op->pattern);
		break;
	case COHBUF_IMP_OP_COPY:
		cohbuf_imp_copy(op->dst, op->src, op->len);
		break;
	case COHBUF_IMP_OP_CHECKSUM:
		return cohbuf_imp_crc32(op->src, op->len);
	}
	/* Drain write-combining buffers before the fence says "done". */
	wmb();
	return 0;
}

/**
 * cohbuf_imp_op_name() - name of an operation, for debugfs
 * @op: COHBUF_IMP_OP_*
 *
 * Return: a static string.
 */
const char *cohbuf_imp_op_name(u32 op)
{
	switch (op) {
	case COHBUF_IMP_OP_FILL:
		return "fill";
	case COHBUF_IMP_OP_COPY:
		return "copy";
	case COHBUF_IMP_OP_CHECKSUM:
		return "checksum";
	default:
		return "?";
	}
}

/**
 * cohbuf_imp_engine_get() - an engine by index
 * @index: engine index from user space
 *
 * Return: the engine, or NULL if there is no such engine.
 */
struct cohbuf_imp_engine *cohbuf_imp_engine_get(u32 index)
{
	if (index >= cohbuf_imp_nr_engines)
		return NULL;
	return &cohbuf_imp_engines[index];
}

/**
 * cohbuf_imp_engine_get_device() - the engine of a device slot
 * @index: slot index from user space
 *
 * Return: the engine, or NULL if there is no such slot. Whether a device
 * is bound to it is importer_edu.c's to say.
 */
struct cohbuf_imp_engine *cohbuf_imp_engine_get_device(u32 index)
{
	if (index >= cohbuf_imp_nr_device_engines)
		return NULL;
	return &cohbuf_imp_engines[COHBUF_IMP_MAX_ENGINES + index];
}

/**
 * cohbuf_imp_engine_index() - index of an engine, for debugfs
 * @eng: the engine
 *
 * Return: its index.
 */
unsigned int cohbuf_imp_engine_index(const struct cohbuf_imp_engine *eng)
{
	return eng->index;
}

static int cohbuf_imp_engine_setup(struct cohbuf_imp_engine *eng,
				   unsigned int index)
{
	eng->index = index;
	if (index < COHBUF_IMP_MAX_ENGINES)
		snprintf(eng->name, sizeof(eng->name),
			 "cohbuf-importer-engine%u", index);
	else
		snprintf(eng->name, sizeof(eng->name),
			 "cohbuf-importer-device%u",
			 index - COHBUF_IMP_MAX_ENGINES);
	mutex_init(&eng->submit_lock);
	spin_lock_init(&eng->fence_lock);
	eng->wq = alloc_ordered_workqueue("cohbuf-importer%u", WQ_MEM_RECLAIM,
					  index);
	return eng->wq ? 0 : -ENOMEM;
}

/**
 * cohbuf_imp_engine_init() - create the engines
 *
 * Return: 0, -EINVAL for a bad "engines" parameter, or -ENOMEM.
 */
int cohbuf_imp_engine_init(void)
{
	unsigned int i;
	int ret;

	if (!engines || engines > COHBUF_IMP_MAX_ENGINES)
		return -EINVAL;
	for (i = 0; i < engines; i++) {
		ret = cohbuf_imp_engine_setup(&cohbuf_imp_engines[i], i);
		if (ret)
			goto err;
		cohbuf_imp_nr_engines = i + 1;
	}
	for (i = 0; i < COHBUF_IMP_MAX_DEVICES; i++) {
		ret = cohbuf_imp_engine_setup(&cohbuf_imp_engines[COHBUF_IMP_MAX_ENGINES + i],
					      COHBUF_IMP_MAX_ENGINES + i);
		if (ret)
			goto err;
		cohbuf_imp_nr_device_engines = i + 1;
	}
	return 0;

err:
	cohbuf_imp_engine_exit();
	return ret;
}

/**
 * cohbuf_imp_engine_exit() - destroy the engines
 *
 * Runs only when no context is open, so no job is queued or running.
 */
void cohbuf_imp_engine_exit(void)
{
	struct cohbuf_imp_engine *eng;

	while (cohbuf_imp_nr_device_engines) {
		eng = &cohbuf_imp_engines[COHBUF_IMP_MAX_ENGINES +
					  --cohbuf_imp_nr_device_engines];
		destroy_workqueue(eng->wq);
		mutex_destroy(&eng->submit_lock);
	}
	while (cohbuf_imp_nr_engines) {
		eng = &cohbuf_imp_engines[--cohbuf_imp_nr_engines];
		destroy_workqueue(eng->wq);
		mutex_destroy(&eng->submit_lock);
	}
}
