// SPDX-License-Identifier: MIT
/* libcohbuf: waiting on an fd, and passing fds between processes. */

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

/* Now on CLOCK_MONOTONIC, in ns. */
static int64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The ms from now to @end (ns), rounded up: poll() never ends early. */
static int ms_until(int64_t end)
{
	int64_t left = end - monotonic_ns();

	return left > 0 ? (int)((left + 999999) / 1000000) : 0;
}

int cohbuf_fd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = monotonic_ns() + (int64_t)timeout_ms * 1000000;
	int left = timeout_ms, n;

	/* A signal does not end the wait: poll again for the time left. */
	while ((n = poll(&p, 1, left)) < 0) {
		if (errno != EINTR)
			return -errno;
		if (timeout_ms > 0)
			left = ms_until(end);
	}
	if (!n)
		return -ETIME;
	if (p.revents & POLLNVAL)
		return -EBADF;
	if (p.revents & POLLERR)
		return -EIO;
	return 0;
}

int cohbuf_fd_send(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Close every fd that came with @msg: it is refused. */
static void close_received_fds(struct msghdr *msg)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int cohbuf_fd_recv(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd, ret;

	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!n) {
		ret = -ECONNRESET;	/* the sender is gone */
	} else if ((msg.msg_flags & MSG_CTRUNC) || !c || c->cmsg_level != SOL_SOCKET ||
		   c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		ret = -EPROTO;		/* not exactly one fd */
	} else {
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		return fd;
	}
	close_received_fds(&msg);
	return ret;
}
