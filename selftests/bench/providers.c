// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_bench: dma-bufs of the kernel's own providers that more than
 * one figure uses.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/udmabuf.h>

#include "bench.h"

int bench_udmabuf(int dev, size_t len, int *memfd_out)
{
	struct udmabuf_create create = { .size = len };
	int memfd, fd;

	memfd = memfd_create("cohbuf-bench", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -1;
	if (ftruncate(memfd, len) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(memfd);
		return -1;
	}
	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	if (fd >= 0 && memfd_out)
		*memfd_out = memfd;
	else
		close(memfd);
	return fd;
}
