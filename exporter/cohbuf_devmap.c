// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: mappings of a buffer for a PCI device that user space drives
 * (COHBUF_IOCTL_MAP_PCI), each held by a file descriptor of its own.
 *
 * A mapping is an ordinary dma-buf attachment of the device, mapped
 * DMA_BIDIRECTIONAL through the dma-buf core, so map_dma_buf
 * (cohbuf_dmabuf.c) makes it and every sync of the buffer reaches it. Its
 * file holds a reference to the buffer's dma-buf and to the pci_dev.
 *
 * A device can lose its driver or be deleted while a mapping of it is
 * held. The DMA API cannot unmap for a device the IOMMU has released (its
 * domain is freed, and the unmap would go to dma-direct with an IOVA),
 * and it holds a device's driver answerable for the device's mappings,
 * so a PCI bus notifier unmaps and detaches every mapping of a device
 * when its driver is unbound or the device is deleted; the file then
 * holds the references alone. The ioctl looks the device up and records its
 * mapping under the PCI rescan/remove lock, which every removal holds,
 * so that no device is deleted between the two.
 */

#include <linux/anon_inodes.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <cohbuf_uarg.h>
#include "cohbuf_drv.h"

/* One mapping of a buffer for a PCI device, the private data of its file. */
struct cohbuf_devmap {
	struct list_head node;		/* in cohbuf_devmaps */
	struct pci_dev *pdev;		/* referenced */
	struct dma_buf *dmabuf;		/* referenced */
	struct dma_buf_attachment *attach; /* NULL once revoked */
	struct sg_table *sgt;		/* the mapping, while @attach is set */
};

static DEFINE_MUTEX(cohbuf_devmap_lock); /* protects cohbuf_devmaps and
					  * every devmap's @attach and @sgt
					  */
static LIST_HEAD(cohbuf_devmaps);

/* Unmap and detach @dm, once. Under cohbuf_devmap_lock. */
static void cohbuf_devmap_revoke(struct cohbuf_devmap *dm)
{
	if (!dm->attach)
		return;
	dma_buf_unmap_attachment_unlocked(dm->attach, dm->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(dm->dmabuf, dm->attach);
	dm->attach = NULL;
	dm->sgt = NULL;
}

/* Forget, undo and free @dm, whatever part of it was made. */
static void cohbuf_devmap_destroy(struct cohbuf_devmap *dm)
{
	mutex_lock(&cohbuf_devmap_lock);
	list_del(&dm->node);
	cohbuf_devmap_revoke(dm);
	mutex_unlock(&cohbuf_devmap_lock);
	dma_buf_put(dm->dmabuf);
	pci_dev_put(dm->pdev);
	kfree(dm);
}

static int cohbuf_devmap_release(struct inode *inode, struct file *file)
{
	cohbuf_devmap_destroy(file->private_data);
	return 0;
}

static const struct file_operations cohbuf_devmap_fops = {
	.owner = THIS_MODULE,
	.release = cohbuf_devmap_release,
	.llseek = noop_llseek,
};

/* Does every segment of @sgt end at or below @mask? */
static bool cohbuf_devmap_fits(struct sg_table *sgt, u64 mask)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!sg_dma_len(sg) || sg_dma_address(sg) > mask ||
		    sg_dma_len(sg) - 1 > mask - sg_dma_address(sg))
			return false;
	}
	return true;
}

/* The segments of @dm's mapping, into the caller's array. */
static int cohbuf_devmap_copy_segs(const struct cohbuf_devmap *dm,
				   const struct cohbuf_map_pci_data *data)
{
	struct cohbuf_dma_seg __user *useg = u64_to_user_ptr(data->segs_ptr);
	struct cohbuf_dma_seg seg;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(dm->sgt, sg, i) {
		seg.dma_addr = sg_dma_address(sg);
		seg.len = sg_dma_len(sg);
		if (copy_to_user(&useg[i], &seg, sizeof(seg)))
			return -EFAULT;
	}
	return 0;
}

/*
 * Attach and map @dm's buffer for its device, check the addresses against
 * the masks, and report them. Unwinds itself on error.
 */
static int cohbuf_devmap_map(struct cohbuf_devmap *dm,
			     struct cohbuf_map_pci_data *data)
{
	struct device *dev = &dm->pdev->dev;
	u64 mask = dma_get_mask(dev);
	int ret;

	if (data->dma_mask)
		mask = min(mask, data->dma_mask);
	dm->attach = dma_buf_attach(dm->dmabuf, dev);
	if (IS_ERR(dm->attach)) {
		ret = PTR_ERR(dm->attach);
		goto err_none;
	}
	dm->sgt = dma_buf_map_attachment_unlocked(dm->attach,
						  DMA_BIDIRECTIONAL);
	if (IS_ERR(dm->sgt)) {
		ret = PTR_ERR(dm->sgt);
		goto err_detach;
	}
	data->nr_segs = dm->sgt->nents;
	ret = -ENOSPC;
	if (data->nr_segs > data->segs_cap)
		goto err_unmap;
	ret = -ERANGE;
	if (!cohbuf_devmap_fits(dm->sgt, mask))
		goto err_unmap;
	ret = cohbuf_devmap_copy_segs(dm, data);
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	dma_buf_unmap_attachment_unlocked(dm->attach, dm->sgt,
					  DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(dm->dmabuf, dm->attach);
err_none:
	dm->attach = NULL;
	dm->sgt = NULL;
	return ret;
}

/*
 * Look the device up, map for it and record the mapping, with no device
 * removal in between (see the top of the file).
 */
static int cohbuf_devmap_create(struct cohbuf_devmap *dm,
				struct cohbuf_map_pci_data *data)
{
	int ret;

	pci_lock_rescan_remove();
	dm->pdev = pci_get_domain_bus_and_slot(data->pci_domain, data->pci_bus,
					       data->pci_devfn);
	if (!dm->pdev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = cohbuf_devmap_map(dm, data);
	if (ret) {
		pci_dev_put(dm->pdev);
		dm->pdev = NULL;
		goto out_unlock;
	}
	mutex_lock(&cohbuf_devmap_lock);
	list_add_tail(&dm->node, &cohbuf_devmaps);
	mutex_unlock(&cohbuf_devmap_lock);
out_unlock:
	pci_unlock_rescan_remove();
	return ret;
}

static int cohbuf_devmap_check(const struct cohbuf_map_pci_data *data)
{
	if (data->flags & ~COHBUF_MAP_PCI_FLAGS_MASK || data->pad ||
	    data->pad2 || data->nr_segs || data->map_fd)
		return -EINVAL;
	if (data->segs_cap && !data->segs_ptr)
		return -EINVAL;
	return 0;
}

/*
 * The new file, then its fd, reported before it is installed. Consumes
 * @dm: on error it is destroyed, by the file's release once there is one.
 */
static int cohbuf_devmap_publish(struct cohbuf_devmap *dm,
				 struct cohbuf_map_pci_data *data,
				 void __user *uarg, size_t usize)
{
	bool cloexec = data->flags & COHBUF_MAP_PCI_CLOEXEC;
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
	if (fd < 0) {
		cohbuf_devmap_destroy(dm);
		return fd;
	}
	file = anon_inode_getfile("cohbuf-pci-map", &cohbuf_devmap_fops, dm,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		cohbuf_devmap_destroy(dm);
		return PTR_ERR(file);
	}
	data->map_fd = fd;
	return cohbuf_uarg_copy_out_fd(uarg, usize, data, sizeof(*data), fd,
				       file);
}

/**
 * cohbuf_ioctl_map_pci() - COHBUF_IOCTL_MAP_PCI
 * @data: the argument, copied in
 * @uarg: user space's argument
 * @usize: its size, from the ioctl number
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
int cohbuf_ioctl_map_pci(struct cohbuf_map_pci_data *data,
			 void __user *uarg, size_t usize)
{
	struct cohbuf_devmap *dm;
	struct dma_buf *dmabuf;
	int ret;

	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	ret = cohbuf_devmap_check(data);
	if (ret)
		return ret;
	dmabuf = dma_buf_get(data->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = -EINVAL;
	if (!cohbuf_buffer_from_dmabuf(dmabuf))
		goto err_put;
	ret = -ENOMEM;
	dm = kzalloc(sizeof(*dm), GFP_KERNEL);
	if (!dm)
		goto err_put;
	dm->dmabuf = dmabuf;
	ret = cohbuf_devmap_create(dm, data);
	if (ret == -ENOSPC)
		ret = cohbuf_uarg_copy_out(uarg, usize, data, sizeof(*data)) ?:
		      -ENOSPC;
	if (ret)
		goto err_free;
	return cohbuf_devmap_publish(dm, data, uarg, usize);

err_free:
	kfree(dm);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

/*
 * A device's driver being unbound, or the device being deleted: revoke
 * its mappings while the IOMMU knows it. The unbind too, because the DMA
 * API holds the driver bound to a device answerable for every mapping of
 * it (DMA-API debugging reports those left when it goes), and a driver
 * bound next (VFIO) may give the device another IOMMU domain.
 */
static int cohbuf_devmap_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	struct cohbuf_devmap *dm;

	if (action != BUS_NOTIFY_UNBIND_DRIVER && action != BUS_NOTIFY_DEL_DEVICE)
		return NOTIFY_DONE;
	mutex_lock(&cohbuf_devmap_lock);
	list_for_each_entry(dm, &cohbuf_devmaps, node) {
		if (dm->pdev == pdev && dm->attach) {
			pci_info(pdev, "cohbuf: mapping revoked, the device %s\n",
				 action == BUS_NOTIFY_DEL_DEVICE ? "is going away" :
				 "loses its driver");
			cohbuf_devmap_revoke(dm);
		}
	}
	mutex_unlock(&cohbuf_devmap_lock);
	return NOTIFY_OK;
}

static struct notifier_block cohbuf_devmap_nb = {
	.notifier_call = cohbuf_devmap_notify,
};

/**
 * cohbuf_devmap_init() - watch PCI devices for deletion
 *
 * Return: 0 or the error of bus_register_notifier().
 */
int cohbuf_devmap_init(void)
{
	return bus_register_notifier(&pci_bus_type, &cohbuf_devmap_nb);
}

/**
 * cohbuf_devmap_exit() - stop watching
 *
 * Runs only when no mapping file is left: each holds a module reference.
 */
void cohbuf_devmap_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &cohbuf_devmap_nb);
}
