// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: a PCI driver for QEMU's edu device (1234:11e8), the bus
 * master of the device engines.
 *
 * Calls the import file for the device's mappings and the engine file for
 * the bytes of a FILL; the job file calls it to map a job's buffers for a
 * device and, from the job's work item, to run the job on it; module init
 * and exit (importer_main.c) register and unregister the driver.
 */

/**
 * DOC: The edu device engine
 *
 * The importer module is also the PCI driver "cohbuf-edu" of QEMU's edu
 * device (vendor 0x1234, device 0x11e8): a driver of the same module, not
 * a module of its own, because its jobs are the importer's jobs (fences,
 * timelines, reservation objects, imports) and only the bytes move
 * differently. Each device bound takes a slot, 0 for the first, up to
 * ``COHBUF_IMP_MAX_DEVICES``; a job submitted with
 * ``COHBUF_IMP_SUBMIT_DEVICE`` runs on the slot its ``engine`` field
 * names, on that slot's engine: an ordered queue with a fence timeline per
 * context, exactly like a CPU engine, so that fences order jobs of the
 * device and of the CPU engines alike, implicitly through the buffers'
 * reservation objects and explicitly through sync_files.
 *
 * A device job's buffers are attached to the PCI device and mapped for it
 * when the job is submitted (every job on the device shares one mapping
 * of each dma-buf, as the importer device's imports do), and the device
 * reaches them only through ``sg_dma_address()`` of that mapping: bus
 * addresses without an IOMMU, IOVAs with one. The edu device copies
 * between memory and a 4 KiB window of its own, one transfer at a time
 * (about 100 ms each), and raises its interrupt (MSI, or INTx) at the end
 * of each; a transfer whose interrupt does not come (where the kernel
 * cannot route the INTx) is found ended by polling the device every
 * 20 ms, which the driver says once. A job goes through its range a window at a time (4 KiB less
 * one byte: QEMU 7.2 aborts on a transfer that ends at the window's last
 * byte): COPY loads the
 * window from the source's entries and stores it to the destination's,
 * each transfer within one entry, so pieces cross chunk boundaries; FILL
 * loads the window from a coherent staging page the CPU wrote; CHECKSUM
 * stores the window to the staging page and the CPU sums it. An
 * overlapping COPY upwards goes from the end, so it keeps memmove()
 * semantics. Each window of a job takes two transfers or more (load and
 * store, one per entry each touches): a device job should be small.
 *
 * The device reports no DMA error: a transfer that an IOMMU blocks (the
 * IOMMU logs a fault) completes all the same, having moved nothing. So the
 * CPU checks each window, through the kernel mapping of the buffers:
 * after a store, the destination must hold what the window was loaded
 * with (the FILL's bytes, or the source as the CPU saw it just before the
 * load), and CHECKSUM's staging page what the source holds; otherwise the
 * job ends with -EIO. The edu_wrong_address module parameter, a test knob,
 * programs each byte's CPU physical address instead of its DMA address:
 * without an IOMMU the two are the same and jobs succeed; behind one, the
 * IOMMU faults and the job fails with -EIO, in bounded time.
 *
 * The device clamps its addresses to its ``dma_mask`` property (28 bits by
 * default) without telling: the driver's DMA mask is the edu_dma_bits
 * module parameter (default 28), which must match it. The test guests
 * pass ``-device edu,dma_mask=0xffffffff`` and
 * ``cohbuf_importer.edu_dma_bits=32``: their 1 GiB of memory is then all
 * reachable, without bounce buffers (which dma-bufs cannot use).
 *
 * Errors end the job, whose fence is signalled with the error: a transfer
 * that does not complete within edu_timeout_ms ends the job with
 * -ETIMEDOUT (the driver waits for the device to finish it before the
 * next one; a device that never does is declared broken and its later
 * jobs end with -EIO); a device unbound or removed while a job runs ends
 * it with -ENODEV once its transfer is over, and so are the jobs queued
 * on its slot, which then fail at once (after their dependencies). Unbind
 * unmaps every buffer from the device before it returns, even those jobs
 * not yet reaped still hold. The module cannot be unloaded while a
 * context is open, and closing a context ends its jobs as for the CPU
 * engines; a running device job stops at its next window.
 */

#include <linux/crc32.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/stringify.h>
#include <linux/wait.h>

#include "importer.h"

/* Registers of BAR 0, from QEMU's docs/specs/edu.rst. */
#define EDU_REG_ID		0x00	/* 0xRRrr00ed: major, minor, "ed" */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80	/* 64 bits each */
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MASK		0xffff
#define EDU_ID			0x00ed
#define EDU_IRQ_DMA		0x100	/* in IRQ_STATUS and IRQ_ACK */
#define EDU_CMD_START		0x1
#define EDU_CMD_TO_RAM		0x2	/* else from RAM to the window */
#define EDU_CMD_IRQ		0x4	/* raise EDU_IRQ_DMA when done */

/* The device's window, in its own address space. */
#define EDU_WINDOW		0x40000
#define EDU_WINDOW_SIZE		SZ_4K
/*
 * The most one job moves through the window at a time: QEMU 7.2's edu
 * takes a transfer that ends at the window's last byte for one beyond it,
 * and aborts the whole machine.
 */
#define EDU_WINDOW_USED		(EDU_WINDOW_SIZE - 1)

#define EDU_DEFAULT_DMA_BITS	28
#define EDU_DEFAULT_TIMEOUT_MS	1000
/* How often a transfer whose interrupt has not come looks at the device. */
#define EDU_POLL_MS		20
/* How long a timed-out transfer may take to finish before we give up. */
#define EDU_IDLE_TIMEOUT_US	(2 * USEC_PER_SEC)

static unsigned int edu_dma_bits = EDU_DEFAULT_DMA_BITS;
module_param(edu_dma_bits, uint, 0444);
MODULE_PARM_DESC(edu_dma_bits,
		 "DMA mask of the edu devices in bits, as their dma_mask property sets it (default "
		 __stringify(EDU_DEFAULT_DMA_BITS) ", 12 to 64)");

static bool edu_wrong_address;
module_param(edu_wrong_address, bool, 0644);
MODULE_PARM_DESC(edu_wrong_address,
		 "Test knob: program the CPU physical address of each byte instead of its DMA address (default N)");

static unsigned int edu_timeout_ms = EDU_DEFAULT_TIMEOUT_MS;
module_param(edu_timeout_ms, uint, 0644);
MODULE_PARM_DESC(edu_timeout_ms,
		 "Time in ms an edu transfer may take before its job fails (default "
		 __stringify(EDU_DEFAULT_TIMEOUT_MS) ", at least 1)");

/* One bound device. */
struct cohbuf_imp_edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *staging;			/* EDU_WINDOW_SIZE, coherent */
	dma_addr_t staging_dma;
	unsigned int slot;
	int irq;
	wait_queue_head_t wq;		/* a transfer's end, or unbind */
	bool xfer_done;			/* set by the interrupt handler */
	bool dead;			/* set once by remove */
	bool broken;			/* a transfer never ended; under the
					 * slot's dev_lock, or remove's once
					 * no job can reach the device
					 */
};

/*
 * A device slot. Two locks, because the two sides must not wait for each
 * other: job creation maps buffers (which takes reservation locks) under
 * bind_sem, and a job's work item drives the device under dev_lock inside
 * its fence-signalling section, where nothing may wait for a reservation
 * lock's holder.
 */
struct cohbuf_imp_edu_slot {
	struct rw_semaphore bind_sem;	/* protects @edu: read across mapping
					 * a dma-buf for the device, write
					 * across binding and unbinding
					 */
	struct mutex dev_lock;		/* protects @hw: held by a job while
					 * it drives the device, and by
					 * probe and remove to set it
					 */
	struct cohbuf_imp_edu *edu;	/* for mapping; under bind_sem */
	struct cohbuf_imp_edu *hw;	/* for running; under dev_lock */
};

static struct cohbuf_imp_edu_slot cohbuf_imp_edu_slots[COHBUF_IMP_MAX_DEVICES];

/**
 * cohbuf_imp_edu_map() - map a job's buffer for a slot's device
 * @index: the slot, from user space
 * @dmabuf: the buffer, held by the caller
 *
 * Return: a reference to the mapping (cohbuf_imp_mapping_release()), or
 * an ERR_PTR(): -ENODEV if no device is bound at @index, else an errno as
 * listed for COHBUF_IMP_IOCTL_IMPORT.
 */
struct cohbuf_imp_mapping *cohbuf_imp_edu_map(u32 index,
					      struct dma_buf *dmabuf)
{
	struct cohbuf_imp_edu_slot *slot;
	struct cohbuf_imp_mapping *m;

	if (index >= COHBUF_IMP_MAX_DEVICES)
		return ERR_PTR(-ENODEV);
	slot = &cohbuf_imp_edu_slots[index];
	down_read(&slot->bind_sem);
	if (slot->edu)
		m = cohbuf_imp_mapping_for(dmabuf, &slot->edu->pdev->dev);
	else
		m = ERR_PTR(-ENODEV);
	up_read(&slot->bind_sem);
	return m;
}

static bool cohbuf_imp_edu_busy(struct cohbuf_imp_edu *edu)
{
	return readq(edu->regs + EDU_REG_DMA_CMD) & EDU_CMD_START;
}

/*
 * Wait, bounded, for a transfer we gave up on, and for its interrupt,
 * which must not end the next transfer; mark the device broken if the
 * transfer never ends.
 */
static void cohbuf_imp_edu_settle(struct cohbuf_imp_edu *edu)
{
	u64 cmd;

	if (readq_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
			       !(cmd & EDU_CMD_START), 1000,
			       EDU_IDLE_TIMEOUT_US)) {
		dev_err(&edu->pdev->dev, "a DMA transfer never ended\n");
		edu->broken = true;
		return;
	}
	wait_event_timeout(edu->wq, READ_ONCE(edu->xfer_done), HZ);
}

/*
 * A transfer the device has finished although its interrupt has not come,
 * as where the kernel could not route the INTx (the debug guest's ACPI
 * now and then cannot): taken as done, the status acknowledged, and said
 * once.
 */
static bool cohbuf_imp_edu_ended_silently(struct cohbuf_imp_edu *edu)
{
	if (cohbuf_imp_edu_busy(edu) ||
	    !(readl(edu->regs + EDU_REG_IRQ_STATUS) & EDU_IRQ_DMA))
		return false;
	writel(EDU_IRQ_DMA, edu->regs + EDU_REG_IRQ_ACK);
	dev_info_once(&edu->pdev->dev,
		      "a transfer ended without its interrupt: polling as well\n");
	return true;
}

/*
 * One transfer of @len bytes from @src to @dst, one of them in the window;
 * waits for its interrupt, and every EDU_POLL_MS looks whether the device
 * has ended it without one. Under the slot's dev_lock.
 */
static int cohbuf_imp_edu_xfer(struct cohbuf_imp_edu *edu, u64 src, u64 dst,
			       u64 len, u64 dir)
{
	unsigned int ms = max(READ_ONCE(edu_timeout_ms), 1U);
	unsigned long deadline;
	long slice;

	if (READ_ONCE(edu->dead))
		return -ENODEV;
	WRITE_ONCE(edu->xfer_done, false);
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	/* writeq orders the staging page's contents before the command. */
	writeq(EDU_CMD_START | EDU_CMD_IRQ | dir, edu->regs + EDU_REG_DMA_CMD);
	deadline = jiffies + msecs_to_jiffies(ms);
	while (!READ_ONCE(edu->dead) && time_before(jiffies, deadline)) {
		slice = min_t(long, deadline - jiffies,
			      msecs_to_jiffies(EDU_POLL_MS));
		wait_event_timeout(edu->wq, READ_ONCE(edu->xfer_done) ||
				   READ_ONCE(edu->dead), max(slice, 1L));
		if (READ_ONCE(edu->xfer_done) ||
		    (!READ_ONCE(edu->dead) && cohbuf_imp_edu_ended_silently(edu))) {
			dma_rmb();	/* the staging page after the end */
			return 0;
		}
	}
	/* Never leave while the device may still reach the buffers. */
	cohbuf_imp_edu_settle(edu);
	return READ_ONCE(edu->dead) ? -ENODEV : -ETIMEDOUT;
}

/* The DMA entry of @sgt holding byte @off, and its bytes from there on. */
static dma_addr_t cohbuf_imp_edu_addr(struct sg_table *sgt, u64 off,
				      u64 *avail)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (off < sg_dma_len(sg)) {
			*avail = sg_dma_len(sg) - off;
			return sg_dma_address(sg) + off;
		}
		off -= sg_dma_len(sg);
	}
	/* Not reached: the range was checked against the buffer's size. */
	*avail = 0;
	return 0;
}

/*
 * The test knob's wrong address: the CPU physical address of byte @off of
 * @m, through its kernel mapping (a dma-buf importer must not look at the
 * table's pages), and its bytes up to the end of the page.
 */
static dma_addr_t cohbuf_imp_edu_wrong_addr(struct cohbuf_imp_mapping *m,
					    u64 off, u64 *avail)
{
	const u8 *p = (const u8 *)m->map.vaddr + off;
	struct page *page = is_vmalloc_addr(p) ? vmalloc_to_page(p) :
						 virt_to_page(p);

	*avail = PAGE_SIZE - offset_in_page(p);
	return page_to_phys(page) + offset_in_page(p);
}

/*
 * Move @len bytes between window offset 0 and bytes @off on of @m, one
 * transfer per DMA entry they span.
 */
static int cohbuf_imp_edu_window(struct cohbuf_imp_edu *edu,
				 struct cohbuf_imp_mapping *m, u64 off,
				 u64 len, bool to_ram)
{
	bool wrong = READ_ONCE(edu_wrong_address);
	u64 done, n, avail;
	dma_addr_t addr;
	int ret;

	for (done = 0; done < len; done += n) {
		if (wrong)
			addr = cohbuf_imp_edu_wrong_addr(m, off + done, &avail);
		else
			addr = cohbuf_imp_edu_addr(m->sgt, off + done, &avail);
		if (!avail)
			return -EIO;
		n = min(len - done, avail);
		if (to_ram)
			ret = cohbuf_imp_edu_xfer(edu, EDU_WINDOW + done, addr,
						  n, EDU_CMD_TO_RAM);
		else
			ret = cohbuf_imp_edu_xfer(edu, addr, EDU_WINDOW + done,
						  n, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static const u8 *cohbuf_imp_edu_cpu_view(const struct cohbuf_imp_mapping *m,
					 u64 off)
{
	return (const u8 *)m->map.vaddr + off;
}

/*
 * Bytes @start to @start + @len of the job's source into the window. The
 * staging page gets what the window should then hold, as far as the CPU
 * knows it: the FILL's bytes, or a COPY's source.
 */
static int cohbuf_imp_edu_load(struct cohbuf_imp_edu *edu,
			       const struct cohbuf_imp_dev_op *op, u64 start,
			       u64 len)
{
	u64 off = op->src_offset + start;

	switch (op->fill.op) {
	case COHBUF_IMP_OP_FILL:
		cohbuf_imp_engine_fill_at(&op->fill, start, edu->staging, len);
		return cohbuf_imp_edu_xfer(edu, edu->staging_dma, EDU_WINDOW,
					   len, 0);
	case COHBUF_IMP_OP_COPY:
		memcpy(edu->staging, cohbuf_imp_edu_cpu_view(op->src, off), len);
		fallthrough;
	default:
		return cohbuf_imp_edu_window(edu, op->src, off, len, false);
	}
}

/*
 * The window out to bytes @start to @start + @len of the destination, or
 * of CHECKSUM to the staging page, which it sums. The edu device reports
 * no DMA errors (a transfer the IOMMU blocks completes all the same), so
 * the CPU checks that the bytes arrived: -EIO if not.
 */
static int cohbuf_imp_edu_store(struct cohbuf_imp_edu *edu,
				const struct cohbuf_imp_dev_op *op, u64 start,
				u64 len, u32 *crc)
{
	u64 off;
	int ret;

	if (op->fill.op == COHBUF_IMP_OP_CHECKSUM) {
		off = op->src_offset + start;
		ret = cohbuf_imp_edu_xfer(edu, EDU_WINDOW, edu->staging_dma,
					  len, EDU_CMD_TO_RAM);
		if (ret)
			return ret;
		if (memcmp(edu->staging, cohbuf_imp_edu_cpu_view(op->src, off),
			   len))
			return -EIO;
		*crc = crc32_le(*crc, edu->staging, len);
		return 0;
	}
	off = op->dst_offset + start;
	ret = cohbuf_imp_edu_window(edu, op->dst, off, len, true);
	if (ret)
		return ret;
	if (memcmp(cohbuf_imp_edu_cpu_view(op->dst, off), edu->staging, len))
		return -EIO;
	return 0;
}

/* Under dev_lock: the whole job, one window at a time. */
static int cohbuf_imp_edu_run(struct cohbuf_imp_edu *edu,
			      const struct cohbuf_imp_dev_op *op, u32 *checksum)
{
	u64 len = op->fill.len, done, n, start;
	u32 crc = ~0U;
	int ret;

	for (done = 0; done < len; done += n) {
		/* Close waits for a running job: not for all of a long one. */
		if (READ_ONCE(*op->closing))
			return -ECANCELED;
		n = min_t(u64, len - done, EDU_WINDOW_USED);
		start = op->backward ? len - done - n : done;
		ret = cohbuf_imp_edu_load(edu, op, start, n);
		if (!ret)
			ret = cohbuf_imp_edu_store(edu, op, start, n, &crc);
		if (ret)
			return ret;
	}
	*checksum = op->fill.op == COHBUF_IMP_OP_CHECKSUM ? ~crc : 0;
	return 0;
}

static bool cohbuf_imp_edu_revoked(const struct cohbuf_imp_mapping *m)
{
	return m && READ_ONCE(m->revoked);
}

/**
 * cohbuf_imp_edu_execute() - run a job's operation on a slot's device
 * @index: the slot of the job's engine
 * @op: the operation, on mappings for the device made at submission
 * @checksum: set to the CHECKSUM result, else to 0
 *
 * Runs in the job's work item, inside its fence-signalling section: it
 * does not allocate, and the one lock it takes, the slot's dev_lock, is
 * held by nobody who waits for a fence or a reservation lock.
 *
 * Return: 0; -ECANCELED if the job's context was closed meanwhile (it
 * stops at the next window); -ENODEV if the device the buffers were
 * mapped for is no longer bound; -ETIMEDOUT if a transfer did not end in edu_timeout_ms;
 * -EIO if the device no longer ends its transfers.
 */
int cohbuf_imp_edu_execute(u32 index, const struct cohbuf_imp_dev_op *op,
			   u32 *checksum)
{
	struct cohbuf_imp_edu_slot *slot = &cohbuf_imp_edu_slots[index];
	struct cohbuf_imp_edu *edu;
	int ret;

	*checksum = 0;
	mutex_lock(&slot->dev_lock);
	edu = slot->hw;
	/*
	 * Revoked means mapped for a device since unbound, even if the same
	 * one is bound again: remove revokes before probe can set @hw anew.
	 */
	if (!edu || cohbuf_imp_edu_revoked(op->dst) ||
	    cohbuf_imp_edu_revoked(op->src))
		ret = -ENODEV;
	else if (edu->broken)
		ret = -EIO;
	else
		ret = cohbuf_imp_edu_run(edu, op, checksum);
	mutex_unlock(&slot->dev_lock);
	return ret;
}

static irqreturn_t cohbuf_imp_edu_irq(int irq, void *data)
{
	struct cohbuf_imp_edu *edu = data;
	u32 status = readl(edu->regs + EDU_REG_IRQ_STATUS);

	/* INTx may be shared; the factorial interrupt is never enabled. */
	if (!(status & EDU_IRQ_DMA))
		return IRQ_NONE;
	writel(status, edu->regs + EDU_REG_IRQ_ACK);
	WRITE_ONCE(edu->xfer_done, true);
	wake_up(&edu->wq);
	return IRQ_HANDLED;
}

/* A free slot, taken: under each slot's bind_sem. */
static int cohbuf_imp_edu_bind_slot(struct cohbuf_imp_edu *edu)
{
	struct cohbuf_imp_edu_slot *slot;
	unsigned int i;

	for (i = 0; i < COHBUF_IMP_MAX_DEVICES; i++) {
		slot = &cohbuf_imp_edu_slots[i];
		down_write(&slot->bind_sem);
		if (!slot->edu) {
			edu->slot = i;
			mutex_lock(&slot->dev_lock);
			slot->hw = edu;
			mutex_unlock(&slot->dev_lock);
			slot->edu = edu;
			up_write(&slot->bind_sem);
			return 0;
		}
		up_write(&slot->bind_sem);
	}
	return -EBUSY;
}

/* Set up the device's DMA side: mask, segments, staging page. */
static int cohbuf_imp_edu_dma_setup(struct cohbuf_imp_edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	int ret;

	if (edu_dma_bits < 12 || edu_dma_bits > 64)
		return -EINVAL;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(edu_dma_bits));
	if (ret)
		return ret;
	/* The device has no segment limits: jobs split at 4 KiB anyway. */
	dma_set_max_seg_size(dev, UINT_MAX);
	edu->staging = dma_alloc_coherent(dev, EDU_WINDOW_SIZE,
					  &edu->staging_dma, GFP_KERNEL);
	return edu->staging ? 0 : -ENOMEM;
}

static int cohbuf_imp_edu_probe(struct pci_dev *pdev,
				const struct pci_device_id *id)
{
	struct cohbuf_imp_edu *edu;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	init_waitqueue_head(&edu->wq);
	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_free;
	ret = pci_request_region(pdev, 0, "cohbuf-edu");
	if (ret)
		goto err_disable;
	ret = -ENOMEM;
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs)
		goto err_release;
	ret = -ENODEV;
	if ((readl(edu->regs + EDU_REG_ID) & EDU_ID_MASK) != EDU_ID)
		goto err_unmap;
	ret = cohbuf_imp_edu_dma_setup(edu);
	if (ret)
		goto err_unmap;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_ALL_TYPES);
	if (ret < 0)
		goto err_staging;
	edu->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(edu->irq, cohbuf_imp_edu_irq, IRQF_SHARED,
			  "cohbuf-edu", edu);
	if (ret)
		goto err_vectors;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);
	ret = cohbuf_imp_edu_bind_slot(edu);
	if (ret)
		goto err_master;
	dev_info(&pdev->dev, "device engine %u, %u-bit DMA, %s\n", edu->slot,
		 edu_dma_bits, pdev->msi_enabled ? "MSI" : "INTx");
	return 0;

err_master:
	pci_clear_master(pdev);
	free_irq(edu->irq, edu);
err_vectors:
	pci_free_irq_vectors(pdev);
err_staging:
	dma_free_coherent(&pdev->dev, EDU_WINDOW_SIZE, edu->staging,
			  edu->staging_dma);
err_unmap:
	pci_iounmap(pdev, edu->regs);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(edu);
	return ret;
}

/*
 * Unbind, PCI remove and module unload all come here. New jobs and
 * mappings for the slot stop first; then the job driving the device (if
 * any) stops waiting and ends once its transfer is over, and the queued
 * ones find no device; then every buffer is unmapped from the device.
 */
static void cohbuf_imp_edu_remove(struct pci_dev *pdev)
{
	struct cohbuf_imp_edu *edu = pci_get_drvdata(pdev);
	struct cohbuf_imp_edu_slot *slot = &cohbuf_imp_edu_slots[edu->slot];

	down_write(&slot->bind_sem);
	slot->edu = NULL;
	up_write(&slot->bind_sem);

	WRITE_ONCE(edu->dead, true);
	wake_up(&edu->wq);
	mutex_lock(&slot->dev_lock);
	slot->hw = NULL;
	mutex_unlock(&slot->dev_lock);

	/* No job drives the device any more, and none will. */
	if (cohbuf_imp_edu_busy(edu))
		cohbuf_imp_edu_settle(edu);
	pci_clear_master(pdev);
	cohbuf_imp_mappings_revoke(&pdev->dev);

	free_irq(edu->irq, edu);
	pci_free_irq_vectors(pdev);
	dma_free_coherent(&pdev->dev, EDU_WINDOW_SIZE, edu->staging,
			  edu->staging_dma);
	pci_iounmap(pdev, edu->regs);
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
	kfree(edu);
}

static const struct pci_device_id cohbuf_imp_edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, cohbuf_imp_edu_ids);

static struct pci_driver cohbuf_imp_edu_driver = {
	.name = "cohbuf-edu",
	.id_table = cohbuf_imp_edu_ids,
	.probe = cohbuf_imp_edu_probe,
	.remove = cohbuf_imp_edu_remove,
};

/**
 * cohbuf_imp_edu_init() - set up the slots and register the driver
 *
 * Return: 0 or the error of pci_register_driver().
 */
int cohbuf_imp_edu_init(void)
{
	unsigned int i;

	for (i = 0; i < COHBUF_IMP_MAX_DEVICES; i++) {
		init_rwsem(&cohbuf_imp_edu_slots[i].bind_sem);
		mutex_init(&cohbuf_imp_edu_slots[i].dev_lock);
	}
	return pci_register_driver(&cohbuf_imp_edu_driver);
}

/**
 * cohbuf_imp_edu_exit() - unregister the driver, which unbinds every device
 *
 * Runs only when no context is open, so no job is queued or running.
 */
void cohbuf_imp_edu_exit(void)
{
	unsigned int i;

	pci_unregister_driver(&cohbuf_imp_edu_driver);
	for (i = 0; i < COHBUF_IMP_MAX_DEVICES; i++)
		mutex_destroy(&cohbuf_imp_edu_slots[i].dev_lock);
}
