// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: module setup.
 *
 * The module registers a platform device "cohbuf" with a 64-bit DMA mask;
 * all buffers are allocated for it with the DMA API. User space reaches
 * the module through the misc device /dev/cohbuf, mode 0600: buffers pin
 * memory that no memory cgroup accounts for, so who else may allocate is
 * the administrator's choice (udev/60-cohbuf.rules grants a group).
 *
 * Other kernel code allocates the same buffers through
 * cohbuf_alloc_dmabuf() (include/cohbuf_kapi.h).
 *
 * Module lifetime: every exported dma-buf holds a module reference
 * (dma_buf_export() takes it through exp_info.owner), and so does every
 * open /dev/cohbuf file (fops.owner). While any of them exists,
 * delete_module() fails and rmmod reports the module in use. Modules
 * that call cohbuf_alloc_dmabuf() either link against it, and so pin this
 * module while they are loaded, or take it with symbol_get() around each
 * call, as cohbuf_heap.ko does.
 */

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#include <cohbuf_compat.h>
#include <cohbuf_dmadev.h>
#include <cohbuf_kapi.h>
#include "cohbuf_drv.h"

struct cohbuf_device {
	struct miscdevice misc;
	struct platform_device *pdev;	/* owns the DMA configuration */
};

static long cohbuf_fop_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct miscdevice *misc = file->private_data;
	struct cohbuf_device *cdev = container_of(misc, struct cohbuf_device,
						  misc);

	return cohbuf_ioctl(&cdev->pdev->dev, cmd, arg);
}

static const struct file_operations cohbuf_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = cohbuf_fop_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct cohbuf_device cohbuf_dev = {
	.misc = {
		.minor = MISC_DYNAMIC_MINOR,
		.name = "cohbuf",
		.fops = &cohbuf_fops,
		.mode = 0600,
	},
};

/**
 * cohbuf_alloc_dmabuf() - allocate a cohbuf buffer from kernel code
 * @len: size in bytes, rounded up to the page size
 * @fd_flags: access mode of the dma-buf file, O_RDWR or O_RDONLY,
 *	optionally ORed with O_CLOEXEC (which only matters to whoever later
 *	installs the file in an fd)
 * @flags: COHBUF_ALLOC_* flags, as for COHBUF_IOCTL_ALLOC
 * @cache_mode: one of COHBUF_CACHE_*, as for COHBUF_IOCTL_ALLOC
 *
 * Allocates a zeroed buffer of DMA memory exactly as the ALLOC
 * ioctl does, with the same checks and limits (max_buffer_size,
 * max_total_bytes), and counts it in the same statistics and debugfs
 * files. The buffer has no name and no fd: the caller owns the only
 * reference and either installs dmabuf->file in an fd or drops it with
 * dma_buf_put(). The dma-buf holds a reference on this module for as long
 * as it lives.
 *
 * Context: process context; may sleep.
 * Return: the dma-buf, or an ERR_PTR(): -EINVAL (@len is 0, unknown bits
 * in @fd_flags, access mode O_WRONLY, unknown @flags or @cache_mode),
 * -E2BIG (@len above max_buffer_size), -ENOMEM (max_total_bytes reached,
 * or no memory), -EINTR (fatal signal), -ENFILE (no file for the dma-buf).
 */
struct dma_buf *cohbuf_alloc_dmabuf(size_t len, u32 fd_flags, u32 flags,
				    u32 cache_mode)
{
	struct cohbuf_request req;
	struct dma_buf *dmabuf;
	int ret;

	ret = cohbuf_alloc_check(len, fd_flags, flags, cache_mode, &req);
	if (ret)
		return ERR_PTR(ret);
	req.name = "";
	dmabuf = cohbuf_buffer_export(&cohbuf_dev.pdev->dev, &req);
	cohbuf_stats_record(!IS_ERR(dmabuf));
	return dmabuf;
}
EXPORT_SYMBOL_GPL(cohbuf_alloc_dmabuf);

static int __init cohbuf_init(void)
{
	struct platform_device *pdev;
	int ret;

	pdev = cohbuf_dma_pdev_create("cohbuf");
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	cohbuf_dev.pdev = pdev;
	cohbuf_dev.misc.parent = &pdev->dev;

	cohbuf_debugfs_init(&pdev->dev);
	ret = cohbuf_devmap_init();
	if (ret)
		goto err_debugfs;

	/* Last: from here on user space can allocate. */
	ret = misc_register(&cohbuf_dev.misc);
	if (ret)
		goto err_devmap;
	return 0;

err_devmap:
	cohbuf_devmap_exit();
err_debugfs:
	cohbuf_debugfs_exit();
	platform_device_unregister(pdev);
	return ret;
}

/* Runs only when no buffer and no open /dev/cohbuf is left. */
static void __exit cohbuf_exit(void)
{
	misc_deregister(&cohbuf_dev.misc);
	cohbuf_devmap_exit();
	cohbuf_debugfs_exit();
	platform_device_unregister(cohbuf_dev.pdev);
}

module_init(cohbuf_init);
module_exit(cohbuf_exit);

MODULE_DESCRIPTION("DMA-BUF exporter of DMA-coherent memory");
MODULE_LICENSE("GPL");
COHBUF_IMPORT_NS_DMA_BUF();
