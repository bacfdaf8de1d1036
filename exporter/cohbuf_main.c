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
 * Module lifetime: every exported dma-buf holds a module reference
 * (dma_buf_export() takes it through exp_info.owner), and so does every
 * open /dev/cohbuf file (fops.owner). While any of them exists,
 * delete_module() fails and rmmod reports the module in use.
 */

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#include <cohbuf_compat.h>
#include <cohbuf_dmadev.h>
#include "cohbuf.h"

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

static int __init cohbuf_init(void)
{
	struct platform_device *pdev;
	int ret;

	pdev = cohbuf_dma_pdev_create("cohbuf");
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	cohbuf_dev.pdev = pdev;
	cohbuf_dev.misc.parent = &pdev->dev;

	cohbuf_debugfs_init();

	/* Last: from here on user space can allocate. */
	ret = misc_register(&cohbuf_dev.misc);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	cohbuf_debugfs_exit();
	platform_device_unregister(pdev);
	return ret;
}

/* Runs only when no buffer and no open /dev/cohbuf is left. */
static void __exit cohbuf_exit(void)
{
	misc_deregister(&cohbuf_dev.misc);
	cohbuf_debugfs_exit();
	platform_device_unregister(cohbuf_dev.pdev);
}

module_init(cohbuf_init);
module_exit(cohbuf_exit);

MODULE_DESCRIPTION("DMA-BUF exporter of DMA-coherent memory");
MODULE_LICENSE("GPL");
COHBUF_IMPORT_NS_DMA_BUF();
