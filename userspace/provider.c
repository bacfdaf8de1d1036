// SPDX-License-Identifier: MIT
/*
 * cohbuf tool: where the dma-bufs of "cohbuf stream" come from: cohbuf
 * (/dev/cohbuf), udmabuf (a sealed memfd through /dev/udmabuf) or a
 * dma-heap (/dev/dma_heap/NAME).  The stream engine takes a dma-buf of any
 * exporter.
 */

#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "cohbuf_tool.h"

#define HEAP_PREFIX	"heap:"

int tool_provider_parse(const char *spec)
{
	if (!strcmp(spec, "cohbuf") || !strcmp(spec, "udmabuf"))
		return 0;
	if (!strncmp(spec, HEAP_PREFIX, strlen(HEAP_PREFIX)) && spec[strlen(HEAP_PREFIX)] &&
	    !strchr(spec + strlen(HEAP_PREFIX), '/'))
		return 0;
	fprintf(stderr, "cohbuf: --provider: '%s' is none of cohbuf, udmabuf, heap:NAME\n", spec);
	return -1;
}

int tool_provider_open(struct tool_provider *p, const char *spec)
{
	char path[128];

	p->spec = spec;
	p->kind = !strcmp(spec, "cohbuf") ? TOOL_PROVIDER_COHBUF :
		  !strcmp(spec, "udmabuf") ? TOOL_PROVIDER_UDMABUF : TOOL_PROVIDER_HEAP;
	switch (p->kind) {
	case TOOL_PROVIDER_COHBUF:
		p->dev = cohbuf_exporter_open();
		snprintf(path, sizeof(path), "/dev/cohbuf");
		break;
	case TOOL_PROVIDER_UDMABUF:
		snprintf(path, sizeof(path), "/dev/udmabuf");
		p->dev = open(path, O_RDWR | O_CLOEXEC);
		p->dev = p->dev < 0 ? -errno : p->dev;
		break;
	default:
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", spec + strlen(HEAP_PREFIX));
		p->dev = open(path, O_RDONLY | O_CLOEXEC);
		p->dev = p->dev < 0 ? -errno : p->dev;
		break;
	}
	if (p->dev < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-p->dev));
		return -1;
	}
	return 0;
}

/* A sealed memfd of @size bytes made a dma-buf by udmabuf. */
static int udmabuf_alloc(int dev, uint64_t size)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int memfd = memfd_create("cohbuf-stream", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int buf, err;

	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = -errno;
		goto close_memfd;
	}
	c.memfd = (__u32)memfd;
	buf = ioctl(dev, UDMABUF_CREATE, &c);
	err = buf < 0 ? -errno : buf;
close_memfd:
	close(memfd);	/* the dma-buf keeps the memory */
	return err;
}

static int heap_alloc(int dev, uint64_t size)
{
	struct dma_heap_allocation_data d = { .len = size, .fd_flags = O_RDWR | O_CLOEXEC };

	if (ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return (int)d.fd;
}

int tool_provider_alloc(struct tool_provider *p, uint64_t size)
{
	struct cohbuf_buffer_desc desc = { .size = size, .name = "cohbuf-stream" };

	switch (p->kind) {
	case TOOL_PROVIDER_COHBUF:
		return cohbuf_exporter_alloc(p->dev, &desc, NULL);
	case TOOL_PROVIDER_UDMABUF:
		return udmabuf_alloc(p->dev, size);
	default:
		return heap_alloc(p->dev, size);
	}
}

void tool_provider_close(struct tool_provider *p)
{
	close(p->dev);
}
