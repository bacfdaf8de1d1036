// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: /sys/kernel/debug/cohbuf/{buffers,stats,device}.
 *
 * buffers: one line per live buffer, space separated key=value pairs:
 *   id=1 size=4096 chunks=1 cache=cached attachments=0 mmaps=0
 *   cpu_map=cached dev_sync=dma-api synced_cpu=0 synced_dev=4096 name=foo
 * (one line). cpu_map is what cohbuf chose for every CPU mapping of the
 * buffer (cohbuf_cpu_map_name()); dev_sync is "dma-api" if importers'
 * mappings are synced through the DMA API, "none" if they skip the CPU
 * sync; synced_cpu and synced_dev count the bytes passed to the DMA API's
 * sync calls. The name is last; whitespace and backslashes in it are
 * octal-escaped, so every buffer stays on one line even after
 * DMA_BUF_SET_NAME.
 * stats: one "key: value" line per counter of struct cohbuf_stats.
 * device: "dma_coherent: 0|1", whether the cohbuf device is DMA-coherent
 * (dev_is_dma_coherent()).
 *
 * No kernel or DMA addresses are ever printed here.
 */

#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-buf.h>
#include <linux/lockdep.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <uapi/linux/dma-buf.h>

#include "cohbuf_drv.h"

static struct dentry *cohbuf_debugfs_dir;

static const char *cohbuf_cache_name(u32 mode)
{
	return mode == COHBUF_CACHE_WC ? "wc" : "cached";
}

/* Caller holds cohbuf_state.lock, so @buf and its dma-buf are alive. */
static void cohbuf_show_buffer(struct seq_file *m,
			       const struct cohbuf_buffer *buf)
{
	char name[DMA_BUF_NAME_LEN] = "";

	lockdep_assert_held(&cohbuf_state.lock);
	spin_lock(&buf->dmabuf->name_lock);
	if (buf->dmabuf->name)
		strscpy(name, buf->dmabuf->name, sizeof(name));
	spin_unlock(&buf->dmabuf->name_lock);

	seq_printf(m, "id=%llu size=%zu chunks=%u cache=%s attachments=%d mmaps=%d ",
		   buf->id, buf->size, buf->nr_chunks,
		   cohbuf_cache_name(buf->cache_mode),
		   atomic_read(&buf->attachments), atomic_read(&buf->mmaps));
	seq_printf(m, "cpu_map=%s dev_sync=%s synced_cpu=%lld synced_dev=%lld name=",
		   cohbuf_cpu_map_name(buf),
		   cohbuf_buffer_streaming(buf) ? "dma-api" : "none",
		   (long long)atomic64_read(&buf->synced_cpu),
		   (long long)atomic64_read(&buf->synced_dev));
	seq_escape(m, name, " \t\n\\");
	seq_putc(m, '\n');
}

static int cohbuf_buffers_show(struct seq_file *m, void *unused)
{
	struct cohbuf_buffer *buf;

	mutex_lock(&cohbuf_state.lock);
	list_for_each_entry(buf, &cohbuf_state.buffers, node)
		cohbuf_show_buffer(m, buf);
	mutex_unlock(&cohbuf_state.lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_buffers);

static int cohbuf_stats_show(struct seq_file *m, void *unused)
{
	struct cohbuf_stats st;

	mutex_lock(&cohbuf_state.lock);
	st = cohbuf_state.stats;
	mutex_unlock(&cohbuf_state.lock);

	seq_printf(m, "live_buffers: %llu\n", st.live_buffers);
	seq_printf(m, "live_bytes: %llu\n", st.live_bytes);
	seq_printf(m, "peak_bytes: %llu\n", st.peak_bytes);
	seq_printf(m, "allocations: %llu\n", st.allocations);
	seq_printf(m, "failures: %llu\n", st.failures);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_stats);

static int cohbuf_device_show(struct seq_file *m, void *unused)
{
	struct device *dev = m->private;

	seq_printf(m, "dma_coherent: %d\n", dev_is_dma_coherent(dev));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_device);

/**
 * cohbuf_debugfs_init() - create the debugfs files
 * @dev: the cohbuf device, which outlives them
 *
 * Failures are ignored, as debugfs is optional.
 */
void cohbuf_debugfs_init(struct device *dev)
{
	cohbuf_debugfs_dir = debugfs_create_dir("cohbuf", NULL);
	debugfs_create_file("buffers", 0444, cohbuf_debugfs_dir, NULL,
			    &cohbuf_buffers_fops);
	debugfs_create_file("stats", 0444, cohbuf_debugfs_dir, NULL,
			    &cohbuf_stats_fops);
	debugfs_create_file("device", 0444, cohbuf_debugfs_dir, dev,
			    &cohbuf_device_fops);
}

/**
 * cohbuf_debugfs_exit() - remove the debugfs files
 */
void cohbuf_debugfs_exit(void)
{
	debugfs_remove_recursive(cohbuf_debugfs_dir);
	cohbuf_debugfs_dir = NULL;
}
