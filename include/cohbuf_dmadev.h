/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the platform device each module registers to act as its DMA
 * device, shared by the exporter and the importer.
 */
#ifndef COHBUF_DMADEV_H
#define COHBUF_DMADEV_H

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/platform_device.h>

/**
 * cohbuf_dma_pdev_create() - register a platform device for the DMA API
 * @name: device name, as it appears under /sys/devices/platform
 *
 * Return: the device, with a 64-bit streaming and coherent DMA mask, or an
 * ERR_PTR(). Unregister with platform_device_unregister().
 */
static inline struct platform_device *cohbuf_dma_pdev_create(const char *name)
{
	const struct platform_device_info info = {
		.name = name,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev))
		return pdev;
	/* The mask is already set; this checks the platform supports it. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		platform_device_unregister(pdev);
		return ERR_PTR(ret);
	}
	return pdev;
}

#endif /* COHBUF_DMADEV_H */
