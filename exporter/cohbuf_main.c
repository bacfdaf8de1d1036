// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: exports coherent DMA memory as dma-buf file descriptors.
 *
 * The module owns a platform device, which is the struct device the DMA API
 * allocates for, and a misc device, /dev/cohbuf, through which user space
 * asks for buffers.
 */

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>

static struct platform_device *cohbuf_pdev;

static long cohbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations cohbuf_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = cohbuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice cohbuf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cohbuf",
	.fops = &cohbuf_fops,
	.mode = 0666,
};

static int __init cohbuf_init(void)
{
	int ret;

	cohbuf_pdev = platform_device_register_simple("cohbuf", PLATFORM_DEVID_NONE,
						      NULL, 0);
	if (IS_ERR(cohbuf_pdev))
		return PTR_ERR(cohbuf_pdev);

	ret = dma_coerce_mask_and_coherent(&cohbuf_pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_pdev;

	cohbuf_misc.parent = &cohbuf_pdev->dev;
	ret = misc_register(&cohbuf_misc);
	if (ret)
		goto err_pdev;

	return 0;

err_pdev:
	platform_device_unregister(cohbuf_pdev);
	return ret;
}

static void __exit cohbuf_exit(void)
{
	misc_deregister(&cohbuf_misc);
	platform_device_unregister(cohbuf_pdev);
}

module_init(cohbuf_init);
module_exit(cohbuf_exit);

MODULE_DESCRIPTION("Coherent DMA memory exported as dma-buf file descriptors");
MODULE_LICENSE("GPL");
