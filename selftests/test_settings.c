// SPDX-License-Identifier: GPL-2.0
/*
 * The settings stack of the selftests (see cohbuf_test.h): module
 * parameters and debugfs knobs pushed by a test and put back by its
 * fixture's parent-side teardown, by the next push after a killed test,
 * or at the program's exit.
 */

#include "kselftest.h"
#include "cohbuf_test.h"

#define SETTINGS_MAX	16

struct setting {
	char path[256];
	char old[64];		/* the value as read, without its newline */
};

/*
 * Shared (MAP_SHARED) by the harness's processes and the tests' own: it is
 * mapped before the harness forks anything.  Only one process of a program
 * uses it at a time: the test's process while it runs, then its fork
 * parent (the teardown), and at the end the harness's (the exit handler).
 */
static struct settings {
	pid_t owner;		/* the program's first process: pops at exit */
	pid_t pgrp;		/* the test (process group) that pushed them */
	int n;
	struct setting s[SETTINGS_MAX];
} *settings;

/*
 * A value that could not be put back fails the program: its exit status
 * becomes KSFT_FAIL (after the harness's output is flushed, which _exit()
 * would not do).
 */
static void settings_at_exit(void)
{
	if (getpid() == settings->owner && settings_pop_all()) {
		fflush(NULL);
		_exit(KSFT_FAIL);
	}
}

static void __attribute__((constructor)) settings_init(void)
{
	settings = test_shared_memory(sizeof(*settings));
	settings->owner = getpid();
	atexit(settings_at_exit);
}

int settings_pop_all(void)
{
	struct setting *s;
	int failed = 0;

	while (settings->n > 0) {
		s = &settings->s[--settings->n];
		if (write_text(s->path, s->old)) {
			fprintf(stderr, "# cannot put back %s=%s: %s\n", s->path, s->old,
				strerror(errno));
			failed++;
		}
	}
	return failed;
}

int setting_push(const char *path, const char *value)
{
	struct setting *s;
	ssize_t len;

	/* The harness gives each test a process group: this one's are not ours. */
	if (settings->n && settings->pgrp != getpgrp() && settings_pop_all()) {
		errno = EIO;
		return -1;
	}
	if (settings->n == SETTINGS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	s = &settings->s[settings->n];
	len = read_text(path, s->old, sizeof(s->old));
	if (len < 0)
		return -1;
	if (len && s->old[len - 1] == '\n')
		s->old[len - 1] = '\0';
	snprintf(s->path, sizeof(s->path), "%s", path);
	settings->pgrp = getpgrp();
	settings->n++;
	return write_text(path, value);
}

int setting_push_number(const char *path, unsigned long long value)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", value);
	return setting_push(path, text);
}

int settings_push_all(const struct setting_value *v, size_t n)
{
	size_t i;
	int ret, err;

	for (i = 0; i < n; i++) {
		ret = v[i].text ? setting_push(v[i].path, v[i].text) :
				  setting_push_number(v[i].path, v[i].number);
		if (ret) {
			err = errno;
			fprintf(stderr, "# cannot set %s: %s\n", v[i].path, strerror(err));
			settings_pop_all();
			errno = err;
			return -1;
		}
	}
	return 0;
}
