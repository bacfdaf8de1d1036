// SPDX-License-Identifier: GPL-2.0
/*
 * The oracle: every result must be a success or an errno documented for
 * the call, and a call the generators made invalid (bad()) must fail.
 * Failures are reported with the seed and the operation index.
 */

#include "fuzz.h"

void fz_fail(const char *fmt, ...)
{
	char text[384];
	va_list ap;

	if (F.failed)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	F.failed = 1;
	snprintf(F.msg, sizeof(F.msg), "%sseed=%#llx op=%lu kind=%s: %s",
		 F.child ? "child: " : "", (unsigned long long)F.seed, F.op,
		 fz_kind_names[F.kind], text);
	if (F.child) {
		fprintf(stderr, "# FUZZ FAILURE %s\n", F.msg);
		_exit(1);
	}
}

/* A fault inside a mapping the model says is valid. */
void fz_fault(int sig, siginfo_t *si, void *uc)
{
	char text[256];
	int n;

	(void)uc;
	n = snprintf(text, sizeof(text),
		     "# FUZZ FAILURE %sseed=%#llx op=%lu kind=%s: signal %d at %p inside a valid mapping\n",
		     F.child ? "child: " : "", (unsigned long long)F.seed, F.op,
		     fz_kind_names[F.kind], sig, si->si_addr);
	if (write(2, text, n) < 0)
		n = 0;
	_exit(1);
}

static int errno_in(int e, const int *list)
{
	for (; *list; list++)
		if (*list == e)
			return 1;
	return 0;
}

/*
 * Judge a result: 1 for success, 0 for a failure with an allowed errno.
 * A success when F.why says the call must fail, and an errno that is not
 * in the list, fail the run.
 */
int fz_result(long ret, const char *call, const int *allowed)
{
	int e = errno;

	if (ret >= 0) {
		if (F.why)
			fz_fail("%s succeeded but must fail: %s", call, F.why);
		F.ok[F.kind]++;
		return 1;
	}
	if (!errno_in(e, allowed))
		fz_fail("%s: errno %d (%s) is not documented for it%s%s", call, e,
			strerror(e), F.why ? "; expected failure because " : "",
			F.why ? F.why : "");
	errno = e;
	return 0;
}

void bad(const char *why)
{
	if (!F.why)
		F.why = why;
}
