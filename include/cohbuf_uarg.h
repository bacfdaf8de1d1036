/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copy-in and copy-out of the growable ioctl arguments of both cohbuf
 * modules, as both uapi headers describe them: the size comes from the
 * ioctl number; a structure shorter than the kernel's is zero-extended, a
 * longer one is accepted only if the bytes this module does not know are
 * zero, and at most as many bytes as user space passed are written back.
 * Each module describes its ioctls in a table of struct cohbuf_uarg_ioctl,
 * which cohbuf_uarg_find() and cohbuf_uarg_copy_in_ioctl() check a call
 * against, so that every dispatcher only chooses the handler.
 *
 * Static inline, so that neither module depends on the other's symbols.
 */
#ifndef COHBUF_UARG_H
#define COHBUF_UARG_H

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/ioctl.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/cohbuf.h>	/* COHBUF_IOC_MAGIC */

/**
 * cohbuf_uarg_copy_in() - copy a growable ioctl argument from user space
 * @karg: kernel copy, @ksize bytes
 * @ksize: size of the structure this module knows
 * @uarg: user argument
 * @usize: its size, from the ioctl number
 * @min_usize: size of the first version of the structure
 *
 * Return: 0; -EINVAL if @usize is below @min_usize or if a byte beyond
 * @ksize is not zero; -EFAULT if @uarg cannot be read.
 */
static inline int cohbuf_uarg_copy_in(void *karg, size_t ksize,
				      const void __user *uarg, size_t usize,
				      size_t min_usize)
{
	int ret;

	if (usize < min_usize)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, usize);
	/* Unknown non-zero trailing bytes are invalid input, not a size. */
	return ret == -E2BIG ? -EINVAL : ret;
}

/**
 * struct cohbuf_uarg_ioctl - what a module knows of one of its ioctls
 * @cmd: the number as the module's uapi header defines it, with the
 *	direction it accepts and the size of the structure the module knows
 * @size_ver0: size of that structure's first version, the least accepted
 */
struct cohbuf_uarg_ioctl {
	unsigned int cmd;
	size_t size_ver0;
};

/**
 * cohbuf_uarg_find() - the table entry for an ioctl number
 * @table: the module's ioctls
 * @n: entries in @table
 * @cmd: the number user space passed
 *
 * The magic and the direction must be ours; the size is checked by
 * cohbuf_uarg_copy_in_ioctl().
 *
 * Return: the entry, or NULL if the number is not one of @table (ENOTTY).
 */
static inline const struct cohbuf_uarg_ioctl *
cohbuf_uarg_find(const struct cohbuf_uarg_ioctl *table, size_t n,
		 unsigned int cmd)
{
	size_t i;

	if (_IOC_TYPE(cmd) != COHBUF_IOC_MAGIC)
		return NULL;
	for (i = 0; i < n; i++) {
		if (_IOC_NR(table[i].cmd) != _IOC_NR(cmd))
			continue;
		return _IOC_DIR(table[i].cmd) == _IOC_DIR(cmd) ? &table[i] : NULL;
	}
	return NULL;
}

/**
 * cohbuf_uarg_copy_in_ioctl() - copy in the argument of a known ioctl
 * @ioc: its entry, from cohbuf_uarg_find()
 * @karg: the dispatcher's kernel copy
 * @kbuf_size: size of @karg, at least that of every structure in the table
 * @uarg: user argument
 * @cmd: the number user space passed, whose size field is the user size
 *
 * Return: as cohbuf_uarg_copy_in().
 */
static inline int cohbuf_uarg_copy_in_ioctl(const struct cohbuf_uarg_ioctl *ioc,
					    void *karg, size_t kbuf_size,
					    const void __user *uarg,
					    unsigned int cmd)
{
	size_t ksize = _IOC_SIZE(ioc->cmd);

	if (WARN_ON_ONCE(ksize > kbuf_size))
		return -ENOTTY;
	return cohbuf_uarg_copy_in(karg, ksize, uarg, _IOC_SIZE(cmd),
				   ioc->size_ver0);
}

/**
 * cohbuf_uarg_copy_out() - write a growable ioctl result back
 * @uarg: user argument
 * @usize: its size, from the ioctl number
 * @karg: kernel copy
 * @ksize: its size
 *
 * Writes the first min(@usize, @ksize) bytes of @karg.
 *
 * Return: 0, or -EFAULT if @uarg cannot be written.
 */
static inline int cohbuf_uarg_copy_out(void __user *uarg, size_t usize,
				       const void *karg, size_t ksize)
{
	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	return 0;
}

/**
 * cohbuf_uarg_copy_out_fd() - write back an answer that carries a new fd
 * @uarg: user space's argument
 * @usize: its size, from the ioctl number
 * @karg: the answer, with the fd already in it
 * @ksize: the answer's size
 * @fd: a reserved fd (get_unused_fd_flags()), or negative for none
 * @file: the file @fd is for, with a reference that passes on; NULL if none
 *
 * The fd is installed only once the answer is written back, the last
 * thing that can fail; if it cannot be, @file is dropped and @fd released
 * unused.
 *
 * Return: 0, or -EFAULT if @uarg cannot be written.
 */
static inline int cohbuf_uarg_copy_out_fd(void __user *uarg, size_t usize,
					  const void *karg, size_t ksize,
					  int fd, struct file *file)
{
	int ret = cohbuf_uarg_copy_out(uarg, usize, karg, ksize);

	if (ret) {
		if (file)
			fput(file);
		if (fd >= 0)
			put_unused_fd(fd);
		return ret;
	}
	if (file)
		fd_install(fd, file);
	return 0;
}

#endif /* COHBUF_UARG_H */
