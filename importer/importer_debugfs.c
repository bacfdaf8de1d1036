// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: /sys/kernel/debug/cohbuf_importer/{imports,jobs,stats}.
 *
 * imports: one line per live handle of every open context:
 *   ctx=1 handle=1 size=8192 nents=2 exporter=cohbuf
 * jobs: one line per unreaped job of every open context:
 *   ctx=1 id=7 op=fill engine=0 state=done seqno=4 status=0
 * stats: one "key: value" line per counter of struct cohbuf_imp_stats,
 *   streams and stream_regions included; closing counts closed contexts
 *   whose imports are not yet dropped.
 *
 * No kernel or DMA addresses are ever printed here.
 *
 * A leaf: called by importer_main.c at init and exit. It walks the
 * context list of importer_main.c, each context's import table and job
 * list under the locks that protect them (reading the list links and an
 * import's fixed fields), and reads a job's state only through
 * cohbuf_imp_job_info() of the job file.
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/seq_file.h>

#include "importer.h"

static struct dentry *cohbuf_imp_debugfs_dir;

/* Under xa_lock, every listed import holds the table's reference. */
static void cohbuf_imp_show_imports(struct seq_file *m,
				    struct cohbuf_imp_ctx *ctx)
{
	struct cohbuf_imp_import *imp;
	unsigned long handle;

	xa_lock(&ctx->imports);
	xa_for_each(&ctx->imports, handle, imp)
		seq_printf(m, "ctx=%llu handle=%lu size=%zu nents=%u exporter=%s\n",
			   ctx->id, handle, imp->size, imp->nents,
			   imp->dmabuf->exp_name);
	xa_unlock(&ctx->imports);
}

static int cohbuf_imp_imports_show(struct seq_file *m, void *unused)
{
	struct cohbuf_imp_ctx *ctx;

	mutex_lock(&cohbuf_imp_contexts_lock);
	list_for_each_entry(ctx, &cohbuf_imp_contexts, node)
		cohbuf_imp_show_imports(m, ctx);
	mutex_unlock(&cohbuf_imp_contexts_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_imp_imports);

/* Under ctx->lock, which keeps @job listed. */
static void cohbuf_imp_show_job(struct seq_file *m, struct cohbuf_imp_ctx *ctx,
				const struct cohbuf_imp_job *job)
{
	struct cohbuf_imp_job_info info;

	cohbuf_imp_job_info(job, &info);
	seq_printf(m, "ctx=%llu id=%llu op=%s engine=%u state=%s seqno=%llu status=%d\n",
		   ctx->id, info.id, info.op, info.engine, info.state,
		   info.seqno, info.status);
}

static int cohbuf_imp_jobs_show(struct seq_file *m, void *unused)
{
	struct cohbuf_imp_ctx *ctx;
	struct cohbuf_imp_job *job;

	mutex_lock(&cohbuf_imp_contexts_lock);
	list_for_each_entry(ctx, &cohbuf_imp_contexts, node) {
		mutex_lock(&ctx->lock);
		list_for_each_entry(job, &ctx->jobs, node)
			cohbuf_imp_show_job(m, ctx, job);
		mutex_unlock(&ctx->lock);
	}
	mutex_unlock(&cohbuf_imp_contexts_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_imp_jobs);

static int cohbuf_imp_stats_show(struct seq_file *m, void *unused)
{
	struct cohbuf_imp_stats *st = &cohbuf_imp_stats;

	seq_printf(m, "mappings: %lld\n", atomic64_read(&st->mappings));
	seq_printf(m, "closing: %lld\n", atomic64_read(&st->closing));
	seq_printf(m, "imports: %lld\n", atomic64_read(&st->imports));
	seq_printf(m, "releases: %lld\n", atomic64_read(&st->releases));
	seq_printf(m, "submitted: %lld\n", atomic64_read(&st->submitted));
	seq_printf(m, "succeeded: %lld\n", atomic64_read(&st->succeeded));
	seq_printf(m, "timed_out: %lld\n", atomic64_read(&st->timed_out));
	seq_printf(m, "cancelled: %lld\n", atomic64_read(&st->cancelled));
	seq_printf(m, "streams: %lld\n", atomic64_read(&st->streams));
	seq_printf(m, "stream_regions: %lld\n",
		   atomic64_read(&st->stream_regions));
	seq_printf(m, "stream_rings: %lld\n", atomic64_read(&st->stream_rings));
	seq_printf(m, "device_syncs: %lld\n", atomic64_read(&st->device_syncs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_imp_stats);

/**
 * cohbuf_imp_debugfs_init() - create the debugfs files
 *
 * Failures are ignored, as debugfs is optional.
 */
void cohbuf_imp_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("cohbuf_importer", NULL);

	cohbuf_imp_debugfs_dir = dir;
	debugfs_create_file("imports", 0444, dir, NULL,
			    &cohbuf_imp_imports_fops);
	debugfs_create_file("jobs", 0444, dir, NULL, &cohbuf_imp_jobs_fops);
	debugfs_create_file("stats", 0444, dir, NULL, &cohbuf_imp_stats_fops);
}

/**
 * cohbuf_imp_debugfs_exit() - remove the debugfs files
 */
void cohbuf_imp_debugfs_exit(void)
{
	debugfs_remove_recursive(cohbuf_imp_debugfs_dir);
	cohbuf_imp_debugfs_dir = NULL;
}
