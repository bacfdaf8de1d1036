/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copy-in and copy-out of the growable ioctl arguments of both cohbuf
 * modules, as both uapi headers describe them: the size comes from the
 * ioctl number; a structure shorter than the kernel's is zero-extended, a
 * longer one is accepted only if the bytes this module does not know are
 * zero, and at most as many bytes as user space passed are written back.
 *
 * Static inline, so that neither module depends on the other's symbols.
 */
#ifndef COHBUF_UARG_H
#define COHBUF_UARG_H

#include <linux/errno.h>
#include <linux/file.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <linux/uaccess.h>

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
