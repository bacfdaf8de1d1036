// SPDX-License-Identifier: GPL-2.0
/*
 * The driver: picks the operations by the run's weights, runs them, and
 * closes everything the model has at the end.
 */

#include "fuzz.h"

typedef void (*fz_op)(void);

static const fz_op fz_ops[K_MAX] = {
	op_alloc, op_info, op_close, op_dup, op_otherfd, op_foreign, op_sync,
	op_setname, op_export_sf, op_import_sf, op_poll, op_raw,
	op_mmap, op_munmap, op_mprotect, op_mremap, op_madvise, op_touch,
	op_import, op_release, op_submit, op_wait, op_reopen, op_fork,
	op_mmap_fixed, op_rlimit, op_vgem_fence, op_chunk_size, op_range_sync,
	op_stream_create, op_stream_queue, op_stream_dequeue, op_stream_startstop,
	op_stream_advance, op_stream_stats, op_stream_read, op_ring_consume,
	op_ring_poll, op_stream_close,
	op_write_file,
};

static int pick_kind(void)
{
	unsigned int total = 0, x;
	int k;

	for (k = 0; k < K_MAX; k++)
		total += F.weights[k];
	x = below(total);
	for (k = 0; k < K_MAX; k++) {
		if (x < F.weights[k])
			return k;
		x -= F.weights[k];
	}
	return 0;
}

void fz_run(unsigned long ops)
{
	unsigned long end = F.op + ops;

	for (; F.op < end && !F.failed; F.op++) {
		if (!(F.op & 127) && monotonic_s() > F.deadline)
			break;
		F.kind = pick_kind();
		/* A child's DEQUEUE would take records the parent's model counts. */
		if (F.child && (F.kind == K_FORK || is_stream_kind(F.kind)))
			continue;
		F.why = NULL;
		F.count[F.kind]++;
		if (F.trace && F.op >= F.trace)
			fprintf(stderr, "# op %lu%s %s\n", F.op, F.child ? " child" : "",
				fz_kind_names[F.kind]);
		if (F.profile) {
			double t = monotonic_s();

			fz_ops[F.kind]();
			F.spent[F.kind] += monotonic_s() - t;
		} else {
			fz_ops[F.kind]();
		}
	}
}

/* Close everything the model has, waiting for every job first. */
void fz_cleanup(void)
{
	int i, c;

	if (F.low_nofile && setrlimit(RLIMIT_NOFILE, &F.nofile))
		fz_fail("restoring RLIMIT_NOFILE: %s", strerror(errno));
	F.low_nofile = 0;
	F.kind = K_VGEM_FENCE;
	vgem_signal_all();
	F.kind = K_FORK;
	for (i = 0; i < NKIDS; i++)
		if (F.kids[i])
			kid_reap(i, 0, 1);
	F.kind = K_STREAM_CLOSE;
	streams_close_all();
	F.kind = K_WAIT;
	for (i = 0; i < NJOBS; i++) {
		c = F.jobs[i].ctx;
		if (c < 0)
			continue;
		F.why = NULL;
		if (!do_wait(c, i, F.jobs[i].id, 30000 * MS) && !F.failed && !ctx_shared(c))
			fz_fail("final WAIT for job %llu: %s", (unsigned long long)F.jobs[i].id,
				strerror(errno));
	}
	for (i = 0; i < NIMPS; i++) {
		struct cohbuf_imp_release_data d = { .handle = F.imps[i].handle };

		if (F.imps[i].ctx < 0)
			continue;
		if (ioctl(F.ctx[F.imps[i].ctx], COHBUF_IMP_IOCTL_RELEASE, &d) && !F.failed &&
		    !(errno == ENOENT && ctx_shared(F.imps[i].ctx)))
			fz_fail("final RELEASE of %u: %s", d.handle, strerror(errno));
		F.imps[i].ctx = -1;
	}
	for (i = 0; i < NMAPS; i++) {
		if (F.maps[i].addr && munmap(F.maps[i].addr, F.maps[i].len) && !F.failed)
			fz_fail("final munmap: %s", strerror(errno));
		F.maps[i].addr = NULL;
	}
	for (i = 0; i < NFDS; i++) {
		if (F.fds[i].kind != FK_FREE && close(F.fds[i].fd) && !F.failed)
			fz_fail("final close: %s", strerror(errno));
		F.fds[i].kind = FK_FREE;
	}
	for (c = 0; c < NCTX; c++) {
		if (F.ctx[c] >= 0)
			close(F.ctx[c]);
		F.ctx[c] = -1;
	}
	for (i = 0; i < F.ntmpl; i++)
		close(F.tmpl[i].fd);
	F.ntmpl = 0;
}
