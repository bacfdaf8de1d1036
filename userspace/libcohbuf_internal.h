/* SPDX-License-Identifier: MIT */
/* libcohbuf's own helpers, shared by its source files; not installed. */
#ifndef LIBCOHBUF_INTERNAL_H
#define LIBCOHBUF_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

/* open(2) read-write and close-on-exec: the fd or -errno. */
static inline int lib_open_rdwr(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* ioctl(2): 0 or -errno. */
static inline int lib_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

#endif /* LIBCOHBUF_INTERNAL_H */
