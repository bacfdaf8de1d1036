// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_oops: a test-only module that oopses on request, so that
 * "make check-selftest-negative" can prove the rig's health gate catches a
 * kernel oops.  Writing to /sys/kernel/debug/cohbuf_oops/trigger dereferences
 * a NULL pointer in the writer's context.  For the debug kernel, writing to
 * use_after_free reads a freed allocation (a KASAN report) and writing to
 * leak loses one (a kmemleak report).  Never part of "make check".
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

static struct dentry *oops_dir;
/* Never set: the compiler cannot prove it is NULL, so the write is kept. */
static int *oops_target;

static ssize_t trigger_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	pr_info("cohbuf_oops: dereferencing NULL on purpose\n");
	WRITE_ONCE(*oops_target, 1);
	return len;
}

static const struct file_operations trigger_fops = {
	.owner = THIS_MODULE,
	.write = trigger_write,
};

static ssize_t use_after_free_write(struct file *file, const char __user *buf,
				    size_t len, loff_t *ppos)
{
	u8 *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("cohbuf_oops: reading freed memory on purpose: %u\n", READ_ONCE(p[8]));
	return len;
}

static const struct file_operations use_after_free_fops = {
	.owner = THIS_MODULE,
	.write = use_after_free_write,
};

/* The only pointer to the lost allocation, cleared at once. */
static void *leak_ptr;

static ssize_t leak_write(struct file *file, const char __user *buf,
			  size_t len, loff_t *ppos)
{
	void *p = kzalloc(128, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	WRITE_ONCE(leak_ptr, p);
	WRITE_ONCE(leak_ptr, NULL);
	pr_info("cohbuf_oops: lost 128 bytes on purpose\n");
	return len;
}

static const struct file_operations leak_fops = {
	.owner = THIS_MODULE,
	.write = leak_write,
};

static int __init cohbuf_oops_init(void)
{
	oops_dir = debugfs_create_dir("cohbuf_oops", NULL);
	debugfs_create_file("trigger", 0200, oops_dir, NULL, &trigger_fops);
	debugfs_create_file("use_after_free", 0200, oops_dir, NULL, &use_after_free_fops);
	debugfs_create_file("leak", 0200, oops_dir, NULL, &leak_fops);
	return 0;
}

static void __exit cohbuf_oops_exit(void)
{
	debugfs_remove_recursive(oops_dir);
}

module_init(cohbuf_oops_init);
module_exit(cohbuf_oops_exit);

MODULE_DESCRIPTION("Test-only module that oopses, reads freed memory or leaks on request");
MODULE_LICENSE("GPL");
