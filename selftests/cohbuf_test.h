/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the cohbuf selftests, on top of libcohbuf: the
 * ALLOC/INFO ioctls with every field explicit (for the error cases),
 * debugfs and module parameter access.  The tests run as root in the guests.
 */
#ifndef COHBUF_TEST_H
#define COHBUF_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/cohbuf.h>

#include "libcohbuf_test.h"

#define COHBUF_DEV		"/dev/cohbuf"
#define COHBUF_DEBUGFS		"/sys/kernel/debug/cohbuf"
#define COHBUF_PARAM(name)	"/sys/module/cohbuf/parameters/" name

#define KIB			1024ULL
#define MIB			(1024ULL * 1024)

/* CLOCK_MONOTONIC in nanoseconds: the clock of the importer's WAIT deadlines. */
static inline __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static inline int cohbuf_dev_open(void)
{
	return open(COHBUF_DEV, O_RDWR | O_CLOEXEC);
}

/* ALLOC with everything explicit; returns the ioctl's result (errno set). */
static inline int cohbuf_alloc_full(int dev, __u64 size, __u32 fd_flags,
				    __u32 flags, __u32 cache_mode,
				    const char *name, struct cohbuf_alloc_data *out)
{
	struct cohbuf_alloc_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = size;
	d.fd_flags = fd_flags;
	d.flags = flags;
	d.cache_mode = cache_mode;
	if (name)
		snprintf(d.name, sizeof(d.name), "%s", name);
	ret = ioctl(dev, COHBUF_IOCTL_ALLOC, &d);
	if (out)
		*out = d;
	return ret;
}

/* A read-write, close-on-exec, cached buffer: its fd, or -errno. */
static inline int test_alloc(int dev, __u64 size)
{
	struct cohbuf_buffer_desc desc = { .size = size };

	return cohbuf_exporter_alloc(dev, &desc, NULL);
}

/* INFO on @buf_fd with room for @cap chunks; returns the ioctl's result. */
static inline int test_info(int dev, int buf_fd, struct cohbuf_info_data *info,
			    struct cohbuf_chunk_info *chunks, __u32 cap)
{
	memset(info, 0, sizeof(*info));
	info->fd = (__u32)buf_fd;
	info->chunks_cap = cap;
	info->chunks_ptr = (uintptr_t)chunks;
	return ioctl(dev, COHBUF_IOCTL_INFO, info);
}

/* Read a whole small file into @buf (NUL-terminated); bytes or -1. */
static inline ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < len - 1 &&
	       (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Lines in a small text file, or -1 if it cannot be read. */
static inline int test_count_lines(const char *path)
{
	static char text[1 << 16];
	int n = 0;
	char *p;

	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	for (p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* finit_module(2) of a module file; 0, or -1 with errno set. */
static inline int test_load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

/* delete_module(2) without waiting; 0, or -1 with errno set. */
static inline int test_unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static inline int test_module_loaded(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

static inline int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A module parameter or a "key: value" line of debugfs stats, or -1. */
static inline long long read_number(const char *path, const char *key)
{
	char buf[4096], *p;

	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	if (!key)
		return strtoll(buf, NULL, 0);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t k = strlen(key);

		if (!strncmp(p, key, k) && p[k] == ':')
			return strtoll(p + k + 1, NULL, 0);
	}
	return -1;
}

static inline long long cohbuf_stat(const char *key)
{
	return read_number(COHBUF_DEBUGFS "/stats", key);
}

/* Field @key of buffer @id's line in the exporter's debugfs, or -1. */
static inline long long cohbuf_buffer_field(__u64 id, const char *key)
{
	static char text[1 << 16];
	char needle[64], *line, *p;

	if (read_text(COHBUF_DEBUGFS "/buffers", text, sizeof(text)) < 0)
		return -1;
	snprintf(needle, sizeof(needle), "id=%llu ", (unsigned long long)id);
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, needle, strlen(needle)))
			continue;
		snprintf(needle, sizeof(needle), " %s=", key);
		p = strstr(line, needle);
		return p ? strtoll(p + strlen(needle), NULL, 10) : -1;
	}
	return -1;
}

static inline long long cohbuf_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), COHBUF_PARAM("%s"), name);
	return read_number(path, NULL);
}

static inline int cohbuf_set_param(const char *name, unsigned long long value)
{
	char path[256], text[32];

	snprintf(path, sizeof(path), COHBUF_PARAM("%s"), name);
	snprintf(text, sizeof(text), "%llu", value);
	return write_text(path, text);
}

/* The line of the text file @path that contains @needle, into @line; or -1. */
static inline int find_line(const char *path, const char *needle, char *line, size_t len)
{
	static char text[1 << 16];
	char *p, *end;

	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	p = strstr(text, needle);
	if (!p)
		return -1;
	while (p > text && p[-1] != '\n')
		p--;
	end = strchr(p, '\n');
	snprintf(line, len, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
	return 0;
}

/* cohbuf.ko: $COHBUF_KO, or where the test guests install it. */
static inline const char *test_module_file(char *buf, size_t len)
{
	const char *env = getenv("COHBUF_KO");
	struct utsname u;

	if (env)
		return env;
	if (uname(&u))
		return NULL;
	snprintf(buf, len, "/lib/modules/%s/extra/cohbuf.ko", u.release);
	return buf;
}

#endif /* COHBUF_TEST_H */
