// SPDX-License-Identifier: MIT
/*
 * libcohbuf: thin wrappers over cohbuf's ioctls, the dma-buf core's and
 * vgem's (see libcohbuf.h).  vgem's two fence ioctls are defined here from
 * the kernel's documented uapi, since Debian's libdrm-dev has no vgem header.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "libcohbuf.h"

#define COHBUF_DEV_PATH		"/dev/cohbuf"
#define COHBUF_IMP_DEV_PATH	"/dev/cohbuf-importer"

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

int cohbuf_open(void)
{
	return open_dev(COHBUF_DEV_PATH);
}

int cohbuf_alloc(int dev, const struct cohbuf_buffer_desc *desc, uint64_t *id)
{
	struct cohbuf_alloc_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = desc->size;
	d.fd_flags = (desc->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	d.flags = desc->flags;
	d.cache_mode = desc->cache_mode;
	if (desc->name) {
		if (strlen(desc->name) >= sizeof(d.name))
			return -ENAMETOOLONG;
		memcpy(d.name, desc->name, strlen(desc->name));
	}
	ret = do_ioctl(dev, COHBUF_IOCTL_ALLOC, &d);
	if (ret)
		return ret;
	if (id)
		*id = d.id;
	return (int)d.fd;
}

int cohbuf_info(int dev, int buf, struct cohbuf_info_data *info,
		struct cohbuf_chunk_info *chunks, uint32_t cap)
{
	memset(info, 0, sizeof(*info));
	info->fd = (uint32_t)buf;
	info->chunks_cap = cap;
	info->chunks_ptr = (uintptr_t)chunks;
	return do_ioctl(dev, COHBUF_IOCTL_INFO, info);
}

void *cohbuf_map(int buf, uint64_t offset, size_t len, int writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *p = mmap(NULL, len, prot, MAP_SHARED, buf, (off_t)offset);

	return p == MAP_FAILED ? NULL : p;
}

int cohbuf_unmap(void *addr, size_t len)
{
	return munmap(addr, len) ? -errno : 0;
}

static int sync_ioctl(int buf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	/* Interrupted waits are restarted: the caller asked to wait. */
	do {
		ret = do_ioctl(buf, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret == -EINTR || ret == -EAGAIN);
	return ret;
}

int cohbuf_cpu_access_begin(int buf, uint64_t flags)
{
	return sync_ioctl(buf, DMA_BUF_SYNC_START | flags);
}

int cohbuf_cpu_access_end(int buf, uint64_t flags)
{
	return sync_ioctl(buf, DMA_BUF_SYNC_END | flags);
}

int cohbuf_export_sync_file(int buf, uint32_t flags)
{
	struct dma_buf_export_sync_file e = { .flags = flags, .fd = -1 };
	int ret = do_ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e);

	return ret ? ret : e.fd;
}

int cohbuf_import_sync_file(int buf, int sync_file, uint32_t flags)
{
	struct dma_buf_import_sync_file i = { .flags = flags, .fd = sync_file };

	return do_ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i);
}

int cohbuf_fd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n ? 0 : -ETIME;
}

int cohbuf_set_name(int buf, const char *name)
{
	return ioctl(buf, DMA_BUF_SET_NAME_B, name) ? -errno : 0;
}

uint32_t cohbuf_crc32(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= b[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

int cohbuf_send_fd(int sock, int fd)
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

int cohbuf_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EPROTO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int cohbuf_imp_open(void)
{
	return open_dev(COHBUF_IMP_DEV_PATH);
}

int cohbuf_imp_import(int ctx, int buf, struct cohbuf_imp_import_data *out)
{
	struct cohbuf_imp_import_data d = { .fd = (uint32_t)buf };
	int ret = do_ioctl(ctx, COHBUF_IMP_IOCTL_IMPORT, &d);

	if (ret)
		return ret;
	if (out)
		*out = d;
	return (int)d.handle;
}

int cohbuf_imp_release(int ctx, uint32_t handle)
{
	struct cohbuf_imp_release_data d = { .handle = handle };

	return do_ioctl(ctx, COHBUF_IMP_IOCTL_RELEASE, &d);
}

int cohbuf_imp_submit(int ctx, struct cohbuf_imp_submit_data *job)
{
	return do_ioctl(ctx, COHBUF_IMP_IOCTL_SUBMIT, job);
}

/* CLOCK_MONOTONIC now plus @timeout_ns, saturating. */
static uint64_t deadline_after(uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

int cohbuf_imp_wait(int ctx, uint64_t job_id, uint64_t timeout_ns,
		    int *status, uint32_t *checksum)
{
	struct cohbuf_imp_wait_data w = {
		.job_id = job_id,
		.deadline_ns = timeout_ns ? deadline_after(timeout_ns) : 0,
	};
	int ret;

	/* The deadline is absolute: a wait a signal broke resumes as it was. */
	do
		ret = do_ioctl(ctx, COHBUF_IMP_IOCTL_WAIT, &w);
	while (ret == -EINTR);

	if (ret)
		return ret;
	if (status)
		*status = w.status;
	if (checksum)
		*checksum = w.checksum;
	return 0;
}

/* vgem's fence uapi (drivers/gpu/drm/vgem, include/uapi/drm/vgem_drm.h). */
struct cohbuf_vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct cohbuf_vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define COHBUF_VGEM_FENCE_WRITE		0x1
#define COHBUF_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct cohbuf_vgem_fence_attach)
#define COHBUF_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct cohbuf_vgem_fence_signal)

static int open_vgem_card(void)
{
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		drmVersionPtr v;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -ENODEV;
}

int cohbuf_vgem_open(void)
{
	int fd = open_vgem_card();

	if (fd >= 0 || system("modprobe vgem >/dev/null 2>&1") != 0)
		return fd;
	return open_vgem_card();
}

int cohbuf_drm_import(int drm, int buf, uint32_t *handle)
{
	return drmPrimeFDToHandle(drm, buf, handle) ? -errno : 0;
}

int cohbuf_drm_export(int drm, uint32_t handle)
{
	int fd;

	if (drmPrimeHandleToFD(drm, handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	return fd;
}

int cohbuf_drm_close_handle(int drm, uint32_t handle)
{
	return drmCloseBufferHandle(drm, handle) ? -errno : 0;
}

int cohbuf_vgem_fence_attach(int drm, uint32_t handle, int write)
{
	struct cohbuf_vgem_fence_attach a = {
		.handle = handle, .flags = write ? COHBUF_VGEM_FENCE_WRITE : 0,
	};
	int ret = do_ioctl(drm, COHBUF_IOCTL_VGEM_FENCE_ATTACH, &a);

	return ret ? ret : (int)a.out_fence;
}

int cohbuf_vgem_fence_signal(int drm, uint32_t fence)
{
	struct cohbuf_vgem_fence_signal s = { .fence = fence };

	return do_ioctl(drm, COHBUF_IOCTL_VGEM_FENCE_SIGNAL, &s);
}
