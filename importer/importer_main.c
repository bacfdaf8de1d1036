// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: module setup, the device, and file operations.
 *
 * The module plays a DMA device driver: it registers a platform device
 * "cohbuf-importer" with a 64-bit DMA mask, attaches every imported
 * dma-buf to it and maps it for it. User space reaches the module through
 * the misc device /dev/cohbuf-importer, mode 0600 like /dev/cohbuf
 * (udev/60-cohbuf.rules grants the group cohbuf both). Each open file
 * is a context with its own imports and jobs; poll() reports EPOLLIN
 * while a completed job awaits its WAIT.
 *
 * Calls the ioctl file for ioctls, the import and job files to set up and
 * tear down a context, the engine file, the edu PCI driver and debugfs at
 * init and exit.
 *
 * Module lifetime: every open file holds a module reference (fops.owner),
 * and so does every fence the engine ever created, until it is freed
 * (it may sit in another driver's reservation object or a sync_file).
 * Imports live inside files; close ends the context's jobs at once and
 * hands the rest (imports, job records, the context) to a work item on
 * cohbuf_imp_reap_wq, which holds a module reference of its own, so rmmod
 * is refused while any import exists. Each import also holds its
 * dma-buf, which holds the exporter's module.
 */

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <cohbuf_compat.h>
#include <cohbuf_dmadev.h>
#include "importer.h"

struct cohbuf_imp_stats cohbuf_imp_stats;

/* Every open context, for debugfs. */
DEFINE_MUTEX(cohbuf_imp_contexts_lock);	/* protects cohbuf_imp_contexts */
LIST_HEAD(cohbuf_imp_contexts);

static atomic64_t cohbuf_imp_last_ctx_id = ATOMIC64_INIT(0);

/*
 * Frees closed contexts. Not ordered, and not an engine's: a reaper may
 * wait for a reservation lock whose holder waits for a fence of any
 * engine, or for another reaper. Not WQ_MEM_RECLAIM: no fence waits for
 * a reaper (close signals them all), and a reaper flushes the kernel's
 * delayed fput work, which a WQ_MEM_RECLAIM worker must not (7.2 warns).
 */
static struct workqueue_struct *cohbuf_imp_reap_wq;

struct cohbuf_imp_device {
	struct miscdevice misc;
	struct platform_device *pdev;	/* owns the DMA configuration */
};

static int cohbuf_imp_fop_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct cohbuf_imp_device *idev = container_of(misc,
						      struct cohbuf_imp_device,
						      misc);
	struct cohbuf_imp_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	ctx->dev = &idev->pdev->dev;
	ret = cohbuf_imp_limits_attach(ctx, file);
	if (ret) {
		kfree(ctx);
		return ret;
	}
	ctx->id = atomic64_inc_return(&cohbuf_imp_last_ctx_id);
	cohbuf_imp_imports_init(ctx);
	cohbuf_imp_jobs_init(ctx);

	mutex_lock(&cohbuf_imp_contexts_lock);
	list_add_tail(&ctx->node, &cohbuf_imp_contexts);
	mutex_unlock(&cohbuf_imp_contexts_lock);
	file->private_data = ctx;
	return 0;
}

/*
 * The module reference taken by release is dropped last: module exit
 * destroys the workqueue, which waits for this function to return.
 * A kernel thread's last fput() of a dma-buf is deferred to a work item;
 * flushing it lets the buffers this context held last be released here,
 * before "closing" in debugfs drops.
 */
static void cohbuf_imp_ctx_reap(struct work_struct *work)
{
	struct cohbuf_imp_ctx *ctx = container_of(work, struct cohbuf_imp_ctx,
						  reap);

	cohbuf_imp_jobs_free(ctx);
	cohbuf_imp_imports_drop(ctx);
	kfree(ctx);
	flush_delayed_fput();
	atomic64_dec(&cohbuf_imp_stats.closing);
	module_put(THIS_MODULE);
}

/*
 * Also runs for a process killed mid-job, from its exit path: it waits
 * only for the context's own running jobs, never behind other contexts'.
 */
static int cohbuf_imp_fop_release(struct inode *inode, struct file *file)
{
	struct cohbuf_imp_ctx *ctx = file->private_data;

	mutex_lock(&cohbuf_imp_contexts_lock);
	list_del(&ctx->node);
	mutex_unlock(&cohbuf_imp_contexts_lock);

	cohbuf_imp_jobs_cancel(ctx);
	cohbuf_imp_limits_detach(ctx);
	__module_get(THIS_MODULE);	/* the file's goes when we return */
	atomic64_inc(&cohbuf_imp_stats.closing);
	INIT_WORK(&ctx->reap, cohbuf_imp_ctx_reap);
	queue_work(cohbuf_imp_reap_wq, &ctx->reap);
	return 0;
}

static long cohbuf_imp_fop_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return cohbuf_imp_ioctl(file->private_data, cmd, arg);
}

static __poll_t cohbuf_imp_fop_poll(struct file *file, poll_table *wait)
{
	struct cohbuf_imp_ctx *ctx = file->private_data;

	poll_wait(file, &ctx->wq, wait);
	return cohbuf_imp_jobs_any_done(ctx) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations cohbuf_imp_fops = {
	.owner = THIS_MODULE,
	.open = cohbuf_imp_fop_open,
	.release = cohbuf_imp_fop_release,
	.unlocked_ioctl = cohbuf_imp_fop_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = cohbuf_imp_fop_poll,
	.llseek = noop_llseek,
};

static struct cohbuf_imp_device cohbuf_imp_dev = {
	.misc = {
		.minor = MISC_DYNAMIC_MINOR,
		.name = "cohbuf-importer",
		.fops = &cohbuf_imp_fops,
		.mode = 0600,
	},
};

/*
 * The importer device's DMA segment limits, declared as a real device's
 * driver declares them. The engine reaches buffers through the CPU, so
 * by default a segment may be of any length and cross any boundary; tests
 * lower them to make exporters split their tables. A change applies to
 * dma-bufs mapped after it. The setters run under the module's parameter
 * lock, which also orders them against init and exit.
 */
static unsigned int max_segment = UINT_MAX;
static unsigned long seg_boundary = ULONG_MAX;

/* Declare both to the device, if there is one; under the parameters' lock. */
static void cohbuf_imp_apply_limits(void)
{
	struct platform_device *pdev = cohbuf_imp_dev.pdev;

	if (!pdev)
		return;
	dma_set_max_seg_size(&pdev->dev, max_segment);
	dma_set_seg_boundary(&pdev->dev, seg_boundary);
}

static int cohbuf_imp_set_max_segment(const char *val,
				      const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (v < PAGE_SIZE)
		return -EINVAL;
	max_segment = v;
	cohbuf_imp_apply_limits();
	return 0;
}

static const struct kernel_param_ops cohbuf_imp_max_segment_ops = {
	.set = cohbuf_imp_set_max_segment,
	.get = param_get_uint,
};
module_param_cb(max_segment, &cohbuf_imp_max_segment_ops, &max_segment, 0644);
MODULE_PARM_DESC(max_segment,
		 "Longest DMA segment of the importer device in bytes (default UINT_MAX, at least PAGE_SIZE)");

static int cohbuf_imp_set_seg_boundary(const char *val,
				       const struct kernel_param *kp)
{
	unsigned long v;
	int ret = kstrtoul(val, 0, &v);

	if (ret)
		return ret;
	/* A mask: one less than a power of two, at least a page. */
	if ((v & (v + 1)) || v < PAGE_SIZE - 1)
		return -EINVAL;
	seg_boundary = v;
	cohbuf_imp_apply_limits();
	return 0;
}

static const struct kernel_param_ops cohbuf_imp_seg_boundary_ops = {
	.set = cohbuf_imp_set_seg_boundary,
	.get = param_get_ulong,
};
module_param_cb(seg_boundary, &cohbuf_imp_seg_boundary_ops, &seg_boundary, 0644);
MODULE_PARM_DESC(seg_boundary,
		 "DMA segment boundary mask of the importer device (default ULONG_MAX, at least PAGE_SIZE - 1)");

/*
 * The parameter files outlive module_exit() and a failed init: after
 * this, their setters only store the value.
 */
static void cohbuf_imp_pdev_unregister(void)
{
	struct platform_device *pdev;

	kernel_param_lock(THIS_MODULE);
	pdev = cohbuf_imp_dev.pdev;
	cohbuf_imp_dev.pdev = NULL;
	kernel_param_unlock(THIS_MODULE);
	platform_device_unregister(pdev);
}

static int __init cohbuf_imp_init(void)
{
	struct platform_device *pdev;
	int ret;

	pdev = cohbuf_dma_pdev_create("cohbuf-importer");
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	cohbuf_imp_dev.misc.parent = &pdev->dev;
	/*
	 * Declared even at their defaults: without them the DMA API assumes
	 * 64 KiB segments, and exporters that hand out longer entries (the
	 * system dma-heap's are up to 1 MiB) would map for us what we
	 * claimed not to support. The parameters' lock orders this against
	 * their setters, whose files exist already.
	 */
	kernel_param_lock(THIS_MODULE);
	cohbuf_imp_dev.pdev = pdev;
	cohbuf_imp_apply_limits();
	kernel_param_unlock(THIS_MODULE);

	ret = cohbuf_imp_engine_init();
	if (ret)
		goto err_pdev;
	ret = -ENOMEM;
	cohbuf_imp_reap_wq = alloc_workqueue("cohbuf-importer-reap",
					     WQ_UNBOUND, 0);
	if (!cohbuf_imp_reap_wq)
		goto err_engines;
	ret = cohbuf_imp_stream_init();
	if (ret)
		goto err_reap_wq;
	cohbuf_imp_debugfs_init();
	ret = cohbuf_imp_edu_init();
	if (ret)
		goto err_debugfs;

	/* Last: from here on user space can import. */
	ret = misc_register(&cohbuf_imp_dev.misc);
	if (ret)
		goto err_edu;
	return 0;

err_edu:
	cohbuf_imp_edu_exit();
err_debugfs:
	cohbuf_imp_debugfs_exit();
	cohbuf_imp_stream_exit();
err_reap_wq:
	destroy_workqueue(cohbuf_imp_reap_wq);
err_engines:
	cohbuf_imp_engine_exit();
err_pdev:
	cohbuf_imp_pdev_unregister();
	return ret;
}

/*
 * Runs only when no file is open, no closed context is left to reap
 * (but perhaps the tail of the last reaper) and no fence of ours is left.
 */
static void __exit cohbuf_imp_exit(void)
{
	misc_deregister(&cohbuf_imp_dev.misc);
	cohbuf_imp_edu_exit();
	cohbuf_imp_debugfs_exit();
	cohbuf_imp_stream_exit();
	destroy_workqueue(cohbuf_imp_reap_wq);
	cohbuf_imp_engine_exit();
	cohbuf_imp_pdev_unregister();
}

module_init(cohbuf_imp_init);
module_exit(cohbuf_imp_exit);

MODULE_DESCRIPTION("Test DMA-BUF importer with an asynchronous fenced engine");
MODULE_LICENSE("GPL");
COHBUF_IMPORT_NS_DMA_BUF();
