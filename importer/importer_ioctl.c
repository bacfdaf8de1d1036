// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: the ioctls of /dev/cohbuf-importer.
 *
 * This file owns every user pointer of the module but a stream fd's
 * (importer_stream.c): it copies each argument in, calls the import or
 * job file with kernel structures, copies the result back and installs
 * any new fd, only once nothing can fail any more. Arguments are
 * extensible structures (see the uapi header and include/cohbuf_uarg.h).
 * Called by importer_main.c; calls
 * importer_import.c, importer_job.c and, for STREAM_CREATE,
 * importer_stream.c.
 */

#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/sync_file.h>

#include <linux/cohbuf_stream.h>

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

/* The fd is installed only after the write-back. */
static int cohbuf_imp_ioctl_stream_create(struct cohbuf_imp_ctx *ctx,
					  struct cohbuf_stream_create_data *d,
					  void __user *uarg, size_t usize)
{
	struct file *file;
	int fd, ret;

	file = cohbuf_imp_stream_create(ctx, d);
	if (IS_ERR(file))
		return PTR_ERR(file);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		fput(file);
		return fd;
	}
	d->fd = fd;
	ret = cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d));
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	fd_install(fd, file);
	return 0;
}

/*
 * The handle is published before the write-back and withdrawn if that
 * fails; our own reference keeps the import alive until then.
 */
static int cohbuf_imp_ioctl_import(struct cohbuf_imp_ctx *ctx,
				   struct cohbuf_imp_import_data *d,
				   void __user *uarg, size_t usize)
{
	struct cohbuf_imp_import *imp;
	int ret;

	imp = cohbuf_imp_import(ctx, d);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	ret = cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d));
	if (ret)
		cohbuf_imp_import_withdraw(ctx, imp);
	cohbuf_imp_import_put(imp);
	return ret;
}

static int cohbuf_imp_ioctl_release(struct cohbuf_imp_ctx *ctx,
				    const struct cohbuf_imp_release_data *d)
{
	if (d->pad)
		return -EINVAL;
	return cohbuf_imp_release(ctx, d->handle);
}

/*
 * The out-fence fd is reserved once the job is checked and before it is
 * queued, and installed only after the write-back: once queued the job
 * runs whatever happens here, and if the result cannot be written back,
 * the out-fence is dropped and its fd released unused.
 */
static int cohbuf_imp_ioctl_submit(struct cohbuf_imp_ctx *ctx,
				   struct cohbuf_imp_submit_data *d,
				   void __user *uarg, size_t usize)
{
	bool out = d->flags & COHBUF_IMP_SUBMIT_OUT_FENCE;
	struct cohbuf_imp_job *job;
	struct sync_file *sync;
	int fd = -1, ret;

	job = cohbuf_imp_job_create(ctx, d);
	if (IS_ERR(job))
		return PTR_ERR(job);
	if (out) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0) {
			cohbuf_imp_job_cancel(job);
			return fd;
		}
	}
	sync = cohbuf_imp_job_submit(job, out, &d->job_id);
	if (IS_ERR(sync)) {
		ret = PTR_ERR(sync);
		goto err_fd;
	}
	d->out_fence_fd = fd;
	return cohbuf_uarg_copy_out_fd(uarg, usize, d, sizeof(*d), fd,
				       sync ? sync->file : NULL);

err_fd:
	if (fd >= 0)
		put_unused_fd(fd);
	return ret;
}

static int cohbuf_imp_ioctl_wait(struct cohbuf_imp_ctx *ctx,
				 struct cohbuf_imp_wait_data *d,
				 void __user *uarg, size_t usize)
{
	int ret = cohbuf_imp_wait(ctx, d);

	return ret ?: cohbuf_uarg_copy_out(uarg, usize, d, sizeof(*d));
}

/* Every ioctl of a context, with the direction it accepts; all growable. */
static const struct cohbuf_uarg_ioctl cohbuf_imp_ioctls[] = {
	{ COHBUF_IMP_IOCTL_IMPORT, COHBUF_IMP_IMPORT_DATA_SIZE_VER0 },
	{ COHBUF_IMP_IOCTL_RELEASE, COHBUF_IMP_RELEASE_DATA_SIZE_VER0 },
	{ COHBUF_IMP_IOCTL_SUBMIT, COHBUF_IMP_SUBMIT_DATA_SIZE_VER0 },
	{ COHBUF_IMP_IOCTL_WAIT, COHBUF_IMP_WAIT_DATA_SIZE_VER0 },
	{ COHBUF_IMP_IOCTL_STREAM_CREATE, COHBUF_STREAM_CREATE_DATA_SIZE_VER0 },
};

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
	const struct cohbuf_uarg_ioctl *ioc;
	void __user *uarg = (void __user *)arg;
	size_t usize = _IOC_SIZE(cmd);
	union {
		struct cohbuf_imp_import_data import;
		struct cohbuf_imp_release_data release;
		struct cohbuf_imp_submit_data submit;
		struct cohbuf_imp_wait_data wait;
		struct cohbuf_stream_create_data stream_create;
	} k;
	int ret;

	ioc = cohbuf_uarg_find(cohbuf_imp_ioctls, ARRAY_SIZE(cohbuf_imp_ioctls),
			       cmd);
	if (!ioc)
		return -ENOTTY;
	ret = cohbuf_uarg_copy_in_ioctl(ioc, &k, sizeof(k), uarg, cmd);
	if (ret)
		return ret;

	switch (ioc->cmd) {
	case COHBUF_IMP_IOCTL_IMPORT:
		return cohbuf_imp_ioctl_import(ctx, &k.import, uarg, usize);
	case COHBUF_IMP_IOCTL_RELEASE:
		return cohbuf_imp_ioctl_release(ctx, &k.release);
	case COHBUF_IMP_IOCTL_SUBMIT:
		return cohbuf_imp_ioctl_submit(ctx, &k.submit, uarg, usize);
	case COHBUF_IMP_IOCTL_WAIT:
		return cohbuf_imp_ioctl_wait(ctx, &k.wait, uarg, usize);
	case COHBUF_IMP_IOCTL_STREAM_CREATE:
		return cohbuf_imp_ioctl_stream_create(ctx, &k.stream_create,
						      uarg, usize);
	default:
		return -ENOTTY;
	}
}
