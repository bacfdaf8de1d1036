/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the platform device each module registers to act as its DMA
 * device, and the check of a mapping against a device's segment limits,
 * shared by the exporter and the importer.
 */
#ifndef COHBUF_DMADEV_H
#define COHBUF_DMADEV_H

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>

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

/**
 * cohbuf_dma_sgt_fits() - does a DMA-mapped table keep to a device's limits
 * @sgt: the table, mapped for @dev
 * @dev: the device
 * @size: bytes the table must cover at least
 *
 * Looks at the DMA view only: every entry non-empty, no longer than
 * dma_get_max_seg_size(@dev) and not across dma_get_seg_boundary(@dev),
 * and @size bytes in all.
 *
 * Return: true if it does.
 */
static inline bool cohbuf_dma_sgt_fits(struct sg_table *sgt, struct device *dev,
				       u64 size)
{
	unsigned int max = dma_get_max_seg_size(dev), len, i;
	unsigned long boundary = dma_get_seg_boundary(dev);
	struct scatterlist *sg;
	dma_addr_t start;
	u64 total = 0;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		start = sg_dma_address(sg);
		len = sg_dma_len(sg);
		if (!len || len > max)
			return false;
		if ((start | boundary) != ((start + len - 1) | boundary))
			return false;
		total += len;
	}
	return total >= size;
}

#endif /* COHBUF_DMADEV_H */
