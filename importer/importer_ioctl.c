// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: ioctl argument handling for /dev/cohbuf-importer.
 *
 * Arguments are extensible structures (see the uapi header): the size is
 * taken from the ioctl number, a shorter structure is zero-extended, and
 * a longer one must be zero beyond what this module knows.
 */

#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include <cohbuf_uarg.h>
#include "importer.h"

static_assert(offsetofend(struct cohbuf_imp_import_data, size) ==
	      COHBUF_IMP_IMPORT_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_imp_release_data, pad) ==
	      COHBUF_IMP_RELEASE_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_imp_submit_data, pad) ==
	      COHBUF_IMP_SUBMIT_DATA_SIZE_VER0);
static_assert(offsetofend(struct cohbuf_imp_wait_data, pad) ==
	      COHBUF_IMP_WAIT_DATA_SIZE_VER0);

static int cohbuf_imp_ioctl_release(struct cohbuf_imp_ctx *ctx,
				    const struct cohbuf_imp_release_data *d)
{
	if (d->pad)
		return -EINVAL;
	return cohbuf_imp_release(ctx, d->handle);
}

static int cohbuf_imp_ioctl_wait(struct cohbuf_imp_ctx *ctx,
				 struct cohbuf_imp_wait_data *d,
				 void __user *uarg, size_t usize)
{
	int ret = cohbuf_imp_wait(ctx, d);

	return ret ?: cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d));
}

/* The direction bits of every ioctl of ours, by number. */
static unsigned int cohbuf_imp_ioc_dir(unsigned int nr)
{
	switch (nr) {
	case _IOC_NR(COHBUF_IMP_IOCTL_RELEASE):
		return _IOC_WRITE;
	case _IOC_NR(COHBUF_IMP_IOCTL_IMPORT):
	case _IOC_NR(COHBUF_IMP_IOCTL_SUBMIT):
	case _IOC_NR(COHBUF_IMP_IOCTL_WAIT):
		return _IOC_READ | _IOC_WRITE;
	default:
		return _IOC_NONE;
	}
}

/**
 * cohbuf_imp_ioctl() - dispatch an ioctl issued on a context
 * @ctx: the context of the file
 * @cmd: ioctl number; its size field gives the user structure size
 * @arg: user pointer to the argument
 *
 * Return: 0 or a negative errno as listed in the uapi header.
 */
long cohbuf_imp_ioctl(struct cohbuf_imp_ctx *ctx, unsigned int cmd,
		      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	size_t usize = _IOC_SIZE(cmd);
	union {
		struct cohbuf_imp_import_data import;
		struct cohbuf_imp_release_data release;
		struct cohbuf_imp_submit_data submit;
		struct cohbuf_imp_wait_data wait;
	} k;
	int ret;

	if (_IOC_TYPE(cmd) != COHBUF_IOC_MAGIC ||
	    _IOC_DIR(cmd) != cohbuf_imp_ioc_dir(_IOC_NR(cmd)))
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(COHBUF_IMP_IOCTL_IMPORT):
		ret = cohbuf_uarg_copy_in(&k.import, sizeof(k.import), uarg,
					  usize, COHBUF_IMP_IMPORT_DATA_SIZE_VER0);
		return ret ?: cohbuf_imp_import(ctx, &k.import, uarg, usize);
	case _IOC_NR(COHBUF_IMP_IOCTL_RELEASE):
		ret = cohbuf_uarg_copy_in(&k.release, sizeof(k.release), uarg,
					  usize, COHBUF_IMP_RELEASE_DATA_SIZE_VER0);
		return ret ?: cohbuf_imp_ioctl_release(ctx, &k.release);
	case _IOC_NR(COHBUF_IMP_IOCTL_SUBMIT):
		ret = cohbuf_uarg_copy_in(&k.submit, sizeof(k.submit), uarg,
					  usize, COHBUF_IMP_SUBMIT_DATA_SIZE_VER0);
		return ret ?: cohbuf_imp_submit(ctx, &k.submit, uarg, usize);
	case _IOC_NR(COHBUF_IMP_IOCTL_WAIT):
		ret = cohbuf_uarg_copy_in(&k.wait, sizeof(k.wait), uarg,
					  usize, COHBUF_IMP_WAIT_DATA_SIZE_VER0);
		return ret ?: cohbuf_imp_ioctl_wait(ctx, &k.wait, uarg, usize);
	default:
		return -ENOTTY;
	}
}
