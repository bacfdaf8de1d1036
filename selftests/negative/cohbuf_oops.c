// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_oops: a test-only module that oopses on request, so that
 * "make check-selftest-negative" can prove the rig's health gate catches a
 * kernel oops.  Writing to /sys/kernel/debug/cohbuf_oops/trigger dereferences
 * a NULL pointer in the writer's context.  Never part of "make check".
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>

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

static int __init cohbuf_oops_init(void)
{
	oops_dir = debugfs_create_dir("cohbuf_oops", NULL);
	debugfs_create_file("trigger", 0200, oops_dir, NULL, &trigger_fops);
	return 0;
}

static void __exit cohbuf_oops_exit(void)
{
	debugfs_remove_recursive(oops_dir);
}

module_init(cohbuf_oops_init);
module_exit(cohbuf_oops_exit);

MODULE_DESCRIPTION("Test-only module that oopses on request");
MODULE_LICENSE("GPL");
