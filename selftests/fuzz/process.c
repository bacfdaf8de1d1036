// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on processes: fork() children that run operations of their
 * own, and a lowered RLIMIT_NOFILE.
 */

#include "fuzz.h"

static void child_main(int share)
{
	int i;

	F.child = 1;
	for (i = 0; i < NKIDS; i++)
		F.kids[i] = 0;
	/*
	 * Either race the parent on its contexts, or leave them alone and
	 * maybe use one of our own.
	 */
	for (i = 0; i < NCTX; i++) {
		F.shared[i] = share;
		if (share)
			continue;
		F.ctx[i] = -1;
		F.ghost_jobs[i] = 0;
		ctx_drop_model(i);
	}
	if (!share && chance(70))
		F.ctx[0] = open(IMPORTER_DEV, O_RDWR | O_CLOEXEC);
	for (i = 0; i < NMAPS; i++)
		if (F.maps[i].addr && F.maps[i].dontfork)
			F.maps[i].addr = NULL;
	fz_run(10 + below(150));
	if (F.failed)
		_exit(1);
	/* Leave with everything open and in flight: exit cleans up. */
	_exit(0);
}

/* Wait for child @k (killing it first if @kill); 1 if it ended well. */
int kid_reap(int k, int kill_it, int block)
{
	int status, killed = 0;
	pid_t r;

	if (kill_it) {
		killed = !kill(F.kids[k], SIGKILL);
		F.kills += killed;
		block = 1;
	}
	r = waitpid(F.kids[k], &status, block ? 0 : WNOHANG);
	if (!r)
		return 1;	/* still running */
	if (r != F.kids[k]) {
		fz_fail("waitpid: %s", strerror(errno));
		return 0;
	}
	F.kids[k] = 0;
	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		return 1;
	fz_fail("child ended with status %#x", status);
	return 0;
}

/*
 * Start a child that runs alongside this process, or check on, wait for
 * or kill one that runs.
 */
void op_fork(void)
{
	int k = below(NKIDS), share, i;
	pid_t pid;

	if (F.kids[k]) {
		if (kid_reap(k, chance(40), chance(30)))
			F.ok[F.kind]++;
		return;
	}
	F.forks++;
	share = chance(50);
	pid = fork();
	if (pid < 0) {
		fz_result(-1, "fork", ERRS(EAGAIN, ENOMEM));
		return;
	}
	if (!pid) {
		F.rng ^= 0x5555555555555555ULL;
		child_main(share);
	}
	F.kids[k] = pid;
	for (i = 0; i < NCTX && share; i++)
		F.shared[i] = 1;
	F.ok[F.kind]++;
}

/*
 * Lower RLIMIT_NOFILE to a few fds above those in use (so that the next
 * ALLOC, EXPORT_SYNC_FILE, out-fence or dup fails with EMFILE and must
 * leave nothing behind), or restore it.
 */
void op_rlimit(void)
{
	struct rlimit r = F.nofile;
	int ret;

	if (!F.low_nofile)
		r.rlim_cur = 3 + below(48);
	ret = setrlimit(RLIMIT_NOFILE, &r);
	if (fz_result(ret, "setrlimit", ERRS(EINVAL, EPERM)))
		F.low_nofile = !F.low_nofile;
}
