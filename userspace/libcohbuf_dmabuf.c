// SPDX-License-Identifier: MIT
/*
 * libcohbuf: what works on any dma-buf: mapping, CPU access brackets,
 * sync_file export and import, the name (see libcohbuf.h).
 */

#include <sys/mman.h>

#include <linux/dma-buf.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

void *cohbuf_dmabuf_map(int buf, uint64_t offset, size_t len, int writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *p = mmap(NULL, len, prot, MAP_SHARED, buf, (off_t)offset);

	return p == MAP_FAILED ? NULL : p;
}

int cohbuf_dmabuf_unmap(void *addr, size_t len)
{
	return munmap(addr, len) ? -errno : 0;
}

static int sync_ioctl(int buf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	/* Interrupted waits are restarted: the caller asked to wait. */
	do {
		ret = lib_ioctl(buf, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret == -EINTR || ret == -EAGAIN);
	return ret;
}

int cohbuf_dmabuf_cpu_access_begin(int buf, uint64_t flags)
{
	return sync_ioctl(buf, DMA_BUF_SYNC_START | flags);
}

int cohbuf_dmabuf_cpu_access_end(int buf, uint64_t flags)
{
	return sync_ioctl(buf, DMA_BUF_SYNC_END | flags);
}

int cohbuf_dmabuf_export_sync_file(int buf, uint32_t flags)
{
	struct dma_buf_export_sync_file e = { .flags = flags, .fd = -1 };
	int ret = lib_ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e);

	return ret ? ret : e.fd;
}

int cohbuf_dmabuf_import_sync_file(int buf, int sync_file, uint32_t flags)
{
	struct dma_buf_import_sync_file i = { .flags = flags, .fd = sync_file };

	return lib_ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i);
}

int cohbuf_dmabuf_set_name(int buf, const char *name)
{
	return ioctl(buf, DMA_BUF_SET_NAME_B, name) ? -errno : 0;
}
