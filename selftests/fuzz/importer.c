// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on cohbuf_importer's uapi: IMPORT, RELEASE, SUBMIT, WAIT
 * and reopening a context.
 */

#include "fuzz.h"

static void imp_release_now(int c, __u32 handle)
{
	struct cohbuf_imp_release_data r = { .handle = handle };

	if (ioctl(F.ctx[c], COHBUF_IMP_IOCTL_RELEASE, &r))
		fz_fail("RELEASE of a fresh handle: %s", strerror(errno));
}

void op_import(void)
{
	struct cohbuf_imp_import_data *d = (void *)argbuf;
	int c = below(NCTX), slot, fd, ret, s, kind;
	unsigned long cmd;
	void *argp;

	if (F.ctx[c] < 0)
		return;
	memset(d, 0, sizeof(*d));
	fd = some_fd(FK_COHBUF, &slot);
	if (chance(20)) {
		int f = fd_slot_pick(FK_FOREIGN);

		if (f >= 0) {
			slot = f;
			fd = F.fds[f].fd;
		}
	}
	kind = slot >= 0 ? F.fds[slot].kind : FK_FREE;
	d->fd = (__u32)fd;
	if (chance(3)) {
		d->flags = (__u32)r64() | 1;
		bad("flags not 0");
	}
	if (chance(10)) {
		d->handle = (__u32)r64();	/* outputs are ignored */
		d->size = r64();
	}
	if (slot >= 0 && !is_dmabuf_kind(kind))
		bad("not a dma-buf");
	cmd = fz_cmd(COHBUF_IMP_IOCTL_IMPORT, COHBUF_IMP_IMPORT_DATA_SIZE_VER0);
	argp = fz_argp();
	if (!F.why)	/* an import whose handle is withdrawn again */
		argp = fz_ro_arg(argp, sizeof(*d), &cmd, COHBUF_IMP_IOCTL_IMPORT);
	ret = ioctl(F.ctx[c], cmd, argp);
	if (kind != FK_COHBUF) {
		/* "and whatever the exporter's attach, map or vmap returns" */
		if (!fz_result(ret, "IMPORT",
			       ERRS(EBADF, EINVAL, EIO, EOPNOTSUPP, ENOMEM, EBUSY, EFAULT,
				    ENOTTY, ENODEV, EPERM, ENOSPC, ENXIO)))
			return;
	} else if (!fz_result(ret, "IMPORT",
			      ERRS(EBADF, EINVAL, EIO, EOPNOTSUPP, ENOMEM, EBUSY, EFAULT,
				   ENOTTY))) {
		return;
	}
	if (F.trace)
		fprintf(stderr, "# T import c=%d h=%u slot=%d\n", c, d->handle, slot);
	if (slot < 0) {
		/* Some fd we do not model imported: forget it again. */
		imp_release_now(c, d->handle);
		return;
	}
	if (!d->handle || d->size != F.fds[slot].size || !d->nents) {
		fz_fail("IMPORT: handle %u size %llu (model %llu) nents %u", d->handle,
			(unsigned long long)d->size, (unsigned long long)F.fds[slot].size,
			d->nents);
		return;
	}
	s = imp_free_slot();
	if (s < 0) {
		imp_release_now(c, d->handle);
		return;
	}
	F.imps[s] = (struct fz_imp){ .ctx = c, .handle = d->handle, .size = d->size,
				     .rdonly = F.fds[slot].rdonly };
}

void op_release(void)
{
	struct cohbuf_imp_release_data *d = (void *)argbuf;
	int c = below(NCTX), s = imp_pick(c), ret;
	unsigned long cmd;

	if (F.ctx[c] < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->handle = s >= 0 && chance(90) ? F.imps[s].handle : (__u32)below(64);
	s = imp_find(c, d->handle);
	if (chance(3)) {
		d->pad = (__u32)r64() | 1;
		bad("pad not 0");
	}
	cmd = fz_cmd(COHBUF_IMP_IOCTL_RELEASE, COHBUF_IMP_RELEASE_DATA_SIZE_VER0);
	ret = ioctl(F.ctx[c], cmd, fz_argp());
	if (F.trace)
		fprintf(stderr, "# T release c=%d h=%u ret=%d errno=%d why=%s\n", c, d->handle, ret,
			errno, F.why ? F.why : "");
	if (!fz_result(ret, "RELEASE", ERRS(ENOENT, EINVAL, EFAULT, ENOTTY))) {
		if (s >= 0 && !F.why && errno == ENOENT && !ctx_shared(c))
			fz_fail("RELEASE of live handle %u: ENOENT", d->handle);
		if (s >= 0 && errno == ENOENT)
			F.imps[s].ctx = -1;
		return;
	}
	if (s >= 0)
		F.imps[s].ctx = -1;
	else if (!F.why && !ctx_shared(c))
		fz_fail("RELEASE of handle %u, which the model does not have, succeeded",
			d->handle);
}

void op_submit(void)
{
	struct cohbuf_imp_submit_data *d = (void *)argbuf;
	int c = below(NCTX), ds, ss, out, js, sslot, ret, strict;
	__u64 dsize = 0, ssize = 0;
	unsigned long cmd;
	void *argp;

	if (F.ctx[c] < 0)
		return;
	strict = !ctx_shared(c);
	js = job_pick(-1);
	if (js < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->op = chance(97) ? 1 + below(3) : below(100);
	if (d->op < COHBUF_IMP_OP_FILL || d->op > COHBUF_IMP_OP_CHECKSUM)
		bad("unknown op");
	ds = imp_pick(c);
	ss = imp_pick(c);
	if (d->op == COHBUF_IMP_OP_FILL || d->op == COHBUF_IMP_OP_COPY) {
		d->dst_handle = ds >= 0 && chance(95) ? F.imps[ds].handle : below(64);
		ds = imp_find(c, d->dst_handle);
		if (ds >= 0) {
			dsize = F.imps[ds].size;
			if (F.imps[ds].rdonly && strict)
				bad("destination exported read-only");
		} else if (strict) {
			bad("unknown dst handle");
		}
		pick_range(dsize, &d->dst_offset, &d->len, &out);
		if (out && strict)
			bad("dst range outside the buffer");
	}
	if (d->op == COHBUF_IMP_OP_COPY || d->op == COHBUF_IMP_OP_CHECKSUM) {
		__u64 len;

		d->src_handle = ss >= 0 && chance(95) ? F.imps[ss].handle : below(64);
		ss = imp_find(c, d->src_handle);
		if (ss >= 0)
			ssize = F.imps[ss].size;
		else if (strict)
			bad("unknown src handle");
		pick_range(ssize, &d->src_offset, &len, &out);
		if (d->op == COHBUF_IMP_OP_CHECKSUM)
			d->len = len;
		else
			out = d->src_offset > ssize || d->len > ssize - d->src_offset;
		if (out && strict)
			bad("src range outside the buffer");
	}
	if (!d->len)
		bad("len 0");
	if (d->op == COHBUF_IMP_OP_FILL) {
		if (chance(50)) {
			d->flags |= COHBUF_IMP_SUBMIT_RANDOM;
			d->seed = r64();
		} else {
			d->pattern = (__u32)r64();
		}
	}
	if (chance(15)) {
		d->flags |= COHBUF_IMP_SUBMIT_IN_FENCE;
		d->in_fence_fd = some_fd(FK_SYNC, &sslot);
		if ((sslot >= 0 && F.fds[sslot].kind != FK_SYNC) || d->in_fence_fd < 0)
			bad("in_fence_fd not a sync_file");
	}
	if (chance(20))
		d->flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
	if (chance(2)) {
		d->flags |= COHBUF_IMP_SUBMIT_LATENCY;
		d->latency_ms = chance(90) ? below(3) : COHBUF_IMP_MAX_LATENCY_MS + 1 + below(1000);
		if (d->latency_ms > COHBUF_IMP_MAX_LATENCY_MS)
			bad("latency_ms too large");
	}
	d->engine = chance(95) ? below((__u32)F.engines) : (__u32)F.engines + below(100);
	if (d->engine >= (__u32)F.engines)
		bad("no such engine");
	gen_submit_bad_field(d);
	/* Outputs are ignored on input. */
	d->out_fence_fd = chance(80) ? 0 : (__s32)r64();
	d->job_id = chance(80) ? 0 : r64();
	cmd = fz_cmd(COHBUF_IMP_IOCTL_SUBMIT, COHBUF_IMP_SUBMIT_DATA_SIZE_VER0);
	argp = fz_argp();
	if (!F.why)	/* a job that runs but cannot be reported */
		argp = fz_ro_arg(argp, sizeof(*d), &cmd, COHBUF_IMP_IOCTL_SUBMIT);
	ret = ioctl(F.ctx[c], cmd, argp);
	if (ret && errno == EFAULT && argp == F.ro_page)
		F.ghost_jobs[c] = 1;	/* it may have been queued */
	if (!fz_result(ret, "SUBMIT", ERRS(EINVAL, ENOENT, EACCES, EBUSY, ENOMEM, EMFILE, ENFILE,
					   EINTR, EFAULT, ENOTTY)))
		return;
	if (d->job_id <= F.last_job_id) {
		fz_fail("SUBMIT: job id %llu not above %llu", (unsigned long long)d->job_id,
			(unsigned long long)F.last_job_id);
		return;
	}
	F.last_job_id = d->job_id;
	F.jobs[js] = (struct fz_job){ .ctx = c, .id = d->job_id, .op = d->op };
	if (d->flags & COHBUF_IMP_SUBMIT_OUT_FENCE) {
		if (d->out_fence_fd < 0)
			fz_fail("SUBMIT: no out-fence fd");
		else
			fd_add(d->out_fence_fd, FK_SYNC, 0, 0, 0, 0);
	} else if (d->out_fence_fd != -1) {
		fz_fail("SUBMIT: out_fence_fd %d without OUT_FENCE", d->out_fence_fd);
	}
}

int do_wait(int c, int js, __u64 id, __u64 timeout_ns)
{
	struct cohbuf_imp_wait_data *d = (void *)argbuf;
	unsigned long cmd = COHBUF_IMP_IOCTL_WAIT;
	int ret;

	memset(d, 0, sizeof(*d));
	d->job_id = id;
	/* 0 polls; otherwise a deadline that far ahead, or sometimes one past. */
	if (timeout_ns)
		d->deadline_ns = monotonic_ns() + timeout_ns;
	else if (chance(10))
		d->deadline_ns = monotonic_ns() - below(1000000);
	if (chance(20)) {
		d->status = (__s32)r64();	/* outputs are ignored */
		d->checksum = (__u32)r64();
	}
	if (js < 0) {
		switch (below(40)) {
		case 0:
			d->flags = 1 + below(100);
			bad("flags not 0");
			break;
		case 1:
			d->pad = 1 + below(100);
			bad("pad not 0");
			break;
		}
		cmd = fz_cmd(cmd, COHBUF_IMP_WAIT_DATA_SIZE_VER0);
	}
	ret = ioctl(F.ctx[c], cmd, js < 0 ? fz_argp() : argbuf);
	if (!fz_result(ret, "WAIT", ERRS(ETIME, ENOENT, EINVAL, EINTR, EFAULT, ENOTTY))) {
		if (js >= 0 && !F.why && errno == ENOENT) {
			if (!ctx_shared(c))
				fz_fail("WAIT for unreaped job %llu: ENOENT",
					(unsigned long long)id);
			F.jobs[js].ctx = -1;	/* reaped by a child */
			return 1;
		}
		return 0;
	}
	if (js < 0)
		return 1;
	F.jobs_ok += !d->status;
	F.jobs_timedout += d->status == -ETIMEDOUT;
	F.jobs_cancelled += d->status == -ECANCELED;
	if (d->status != 0 && d->status != -ETIMEDOUT && d->status != -ECANCELED)
		fz_fail("WAIT: job %llu status %d", (unsigned long long)id, d->status);
	if ((d->status || F.jobs[js].op != COHBUF_IMP_OP_CHECKSUM) && d->checksum)
		fz_fail("WAIT: job %llu status %d op %u checksum %#x", (unsigned long long)id,
			d->status, F.jobs[js].op, d->checksum);
	F.jobs[js].ctx = -1;
	return 1;
}

void op_wait(void)
{
	int c = below(NCTX), js = job_pick(c);
	__u64 timeout = chance(85) ? 0 : chance(95) ? below(200000) : 20 * MS;
	__u64 id;

	if (F.ctx[c] < 0)
		return;
	if (js >= 0 && chance(90)) {
		do_wait(c, js, F.jobs[js].id, timeout);
		return;
	}
	/* A job of the other context, one never issued, or id 0. */
	js = job_pick(c ^ 1);
	if (js >= 0 && chance(50))
		id = F.jobs[js].id;
	else
		id = chance(50) ? 0 : F.last_job_id + 1 + below(1000);
	if (!ctx_shared(c))	/* else a child may have submitted it */
		bad("not a job of this context");
	do_wait(c, -1, id, 0);
}

/* Close a context with whatever it has in flight, and open a new one. */
void op_reopen(void)
{
	int c = below(NCTX);

	if (F.ctx[c] >= 0 && close(F.ctx[c])) {
		fz_fail("close of a context: %s", strerror(errno));
		return;
	}
	ctx_drop_model(c);
	F.shared[c] = 0;
	F.ghost_jobs[c] = 0;
	F.ctx[c] = open(IMPORTER_DEV, O_RDWR | O_CLOEXEC);
	if (F.trace)
		fprintf(stderr, "# T reopen c=%d\n", c);
	fz_result(F.ctx[c], "open context", ERRS(EMFILE, ENFILE, ENOMEM));
}
