// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf against drivers nobody here wrote: vgem imports cohbuf buffers and
 * fences them, the importer waits for vgem's fences and vgem sees the
 * importer's; vgem, udmabuf and the system dma-heap export buffers that the
 * importer fills, copies and checksums; explicit fences travel between
 * processes.  udmabuf and dma-heaps exist only where the kernel has them
 * (6.12 in our matrix): elsewhere those tests skip and say why.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "vgem_test.h"

#define WAIT_NS		(20000 * MS)

FIXTURE(vgem) {
	int dev, imp, drm;
	int fd;			/* the cohbuf buffer */
	__u32 vgem_handle;	/* its import into vgem */
	__u32 handle;		/* its import into the importer */
	unsigned char *map;
	__u64 size;
};

FIXTURE_VARIANT(vgem) {
	__u64 size;
	__u32 cache;
};

FIXTURE_VARIANT_ADD(vgem, cached_single_chunk) { .size = 64 * KIB, .cache = COHBUF_CACHE_CACHED };
FIXTURE_VARIANT_ADD(vgem, cached_multi_chunk) { .size = 9 * MIB, .cache = COHBUF_CACHE_CACHED };
FIXTURE_VARIANT_ADD(vgem, wc_single_chunk) { .size = 64 * KIB, .cache = COHBUF_CACHE_WC };
FIXTURE_VARIANT_ADD(vgem, wc_multi_chunk) { .size = 9 * MIB, .cache = COHBUF_CACHE_WC };

FIXTURE_SETUP(vgem)
{
	struct cohbuf_alloc_data a;
	struct stat st_a, st_b;
	int back;

	self->fd = -1;
	self->map = MAP_FAILED;
	self->drm = cohbuf_vgem_open();
	if (self->drm < 0)
		SKIP(return, "vgem is not available (no module or no card node)");
	self->dev = cohbuf_dev_open();
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->dev);
	ASSERT_LE(0, self->imp);
	self->size = variant->size;
	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, self->size, O_RDWR | O_CLOEXEC, 0,
				       variant->cache, "interop", &a));
	self->fd = (int)a.fd;
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, self->fd, &self->vgem_handle));
	/* vgem gives back our dma-buf itself, not a copy. */
	ASSERT_EQ(0, drmPrimeHandleToFD(self->drm, self->vgem_handle, DRM_CLOEXEC, &back));
	ASSERT_EQ(0, fstat(self->fd, &st_a));
	ASSERT_EQ(0, fstat(back, &st_b));
	ASSERT_EQ(st_a.st_ino, st_b.st_ino);
	close(back);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &self->handle, NULL));
	ASSERT_NE(0u, self->handle);
}

/*
 * In the test's fork parent, after the test's process has ended (and
 * closed its fds): the importer's timeout goes back, even when the test
 * failed.
 */
FIXTURE_TEARDOWN_PARENT(vgem)
{
	EXPECT_EQ(0, settings_pop_all());
}

/* Blocked in DMA_BUF_IOCTL_SYNC in a child; the pipe says when it returns. */
static pid_t sync_in_child(int fd, int *pipe_rd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

		close(p[0]);
		if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s))
			_exit(1);
		_exit(write(p[1], "s", 1) == 1 ? 0 : 2);
	}
	close(p[1]);
	*pipe_rd = p[0];
	return pid;
}

TEST_F(vgem, vgem_write_fence_holds_everyone_until_signalled)
{
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, self->size);
	int ret, rd, status = 1;
	__u32 csum = 0, fence;
	pid_t pid;

	random_bytes(self->map, self->size, 5);
	ret = cohbuf_vgem_fence_attach(self->drm, self->vgem_handle, 1, &fence);
	ASSERT_EQ(0, ret) TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(-ret));

	/* The fence landed on cohbuf's reservation object: all see it. */
	EXPECT_FALSE(fd_ready(self->fd, POLLIN));
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e));
	EXPECT_FALSE(fd_ready(e.fd, POLLIN));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &c));
	pid = sync_in_child(self->fd, &rd);
	ASSERT_LT(0, pid);
	usleep(300 * 1000);
	EXPECT_FALSE(fd_ready(rd, POLLIN)) TH_LOG("DMA_BUF_IOCTL_SYNC did not block");
	EXPECT_EQ(-ETIME, cohbuf_importer_wait(self->imp, c.job_id, 0, NULL, NULL));

	ASSERT_EQ(0, cohbuf_vgem_fence_signal(self->drm, fence));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, &csum));
	EXPECT_EQ(0, status);
	EXPECT_EQ(test_crc32(self->map, self->size), csum);
	EXPECT_EQ(0, waitpid(pid, &status, 0) == pid && WIFEXITED(status) ?
		  WEXITSTATUS(status) : -1);
	EXPECT_TRUE(fd_ready(rd, POLLIN));
	EXPECT_TRUE(fd_ready(e.fd, POLLIN));
	EXPECT_TRUE(fd_ready(self->fd, POLLIN));
	close(rd);
	close(e.fd);
}

TEST_F(vgem, vgem_fence_never_signalled_fails_the_job_by_its_timeout)
{
	struct cohbuf_imp_submit_data c = imp_checksum(self->handle, 0, 4096);
	int status = 0;
	__u32 fence;

	ASSERT_EQ(0, cohbuf_vgem_fence_attach(self->drm, self->vgem_handle, 1, &fence));
	ASSERT_EQ(0, setting_push(IMPORTER_PARAM("timeout_ms"), "500"));
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &c));
	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, c.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(-ETIMEDOUT, status);
	EXPECT_EQ(0, cohbuf_vgem_fence_signal(self->drm, fence));
}

TEST_F(vgem, importer_fence_is_seen_by_vgem)
{
	struct cohbuf_imp_submit_data f = imp_fill(self->handle, 0, self->size, 0x99999999);
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };
	int ret, status = 1;
	__u32 fence;

	imp_set_latency(&f, 1500);
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &f));
	/* vgem refuses a fence that would conflict with our pending write. */
	EXPECT_EQ(-EBUSY, cohbuf_vgem_fence_attach(self->drm, self->vgem_handle, 1, &fence));
	EXPECT_EQ(-EBUSY, cohbuf_vgem_fence_attach(self->drm, self->vgem_handle, 0, &fence));
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e));
	EXPECT_FALSE(fd_ready(e.fd, POLLIN));

	EXPECT_EQ(0, cohbuf_importer_wait(self->imp, f.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	EXPECT_TRUE(fd_ready(e.fd, POLLIN));
	EXPECT_EQ(0x99, self->map[self->size - 1]);
	ret = cohbuf_vgem_fence_attach(self->drm, self->vgem_handle, 1, &fence);
	EXPECT_EQ(0, ret);
	if (!ret)
		cohbuf_vgem_fence_signal(self->drm, fence);
	close(e.fd);
}

/* A foreign buffer: mapped by its own exporter for the CPU check. */
struct foreign {
	int fd;			/* dma-buf */
	unsigned char *map;	/* the exporter's own CPU view */
	size_t size;
};

static void exercise_foreign(struct __test_metadata *_metadata, int dev, int imp,
			     struct foreign *f)
{
	struct cohbuf_imp_submit_data d;
	unsigned char *want, *cmap;
	int ret, cfd, status = 1;
	__u32 csum = 0, h, ch;

	ret = cohbuf_importer_import(imp, f->fd, &h, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	ASSERT_NE(0u, h);
	cfd = test_alloc(dev, f->size);
	ASSERT_LE(0, cfd);
	cmap = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, cmap);
	ASSERT_EQ(0, cohbuf_importer_import(imp, cfd, &ch, NULL));
	ASSERT_NE(0u, ch);
	want = malloc(f->size);
	ASSERT_NE(NULL, want);

	/* FILL the foreign buffer; its exporter's mapping shows the bytes. */
	d = imp_fill(h, 0, f->size, 0);
	d.flags |= COHBUF_IMP_SUBMIT_RANDOM;
	d.seed = 77;
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
	ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, status);
	random_bytes(want, f->size, 77);
	EXPECT_EQ(0, memcmp(want, f->map, f->size));

	/* COPY foreign -> cohbuf, and cohbuf -> foreign (other bytes). */
	d = imp_copy(ch, 0, h, 0, f->size);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
	ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_EQ(0, memcmp(want, cmap, f->size));
	memset(cmap, 0x6b, f->size);
	d = imp_copy(h, 0, ch, 0, f->size);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
	ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, NULL));
	EXPECT_TRUE(all_bytes(f->map, f->size, 0x6b));

	/* CHECKSUM of what the foreign exporter's CPU view now holds. */
	f->map[123] = 0x01;
	d = imp_checksum(h, 0, f->size);
	ASSERT_EQ(0, cohbuf_importer_submit(imp, &d));
	ASSERT_EQ(0, cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &status, &csum));
	EXPECT_EQ(test_crc32(f->map, f->size), csum);

	free(want);
	munmap(cmap, f->size);
	close(cfd);
	EXPECT_EQ(0, cohbuf_importer_release(imp, h));
	EXPECT_EQ(0, cohbuf_importer_release(imp, ch));
}

FIXTURE(foreign) {
	int dev, imp;
};

FIXTURE_SETUP(foreign)
{
	self->dev = cohbuf_dev_open();
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->dev);
	ASSERT_LE(0, self->imp);
}

FIXTURE_TEARDOWN(foreign)
{
	close(self->imp);
	close(self->dev);
}

TEST_F(foreign, vgem_buffer_into_the_importer)
{
	struct drm_mode_create_dumb dumb = { .width = 256, .height = 256, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct foreign f = { .fd = -1 };
	int drm = cohbuf_vgem_open();

	if (drm < 0)
		SKIP(return, "vgem is not available (no module or no card node)");
	ASSERT_EQ(0, drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb));
	ASSERT_EQ(0, drmPrimeHandleToFD(drm, dumb.handle, DRM_CLOEXEC | DRM_RDWR, &f.fd));
	md.handle = dumb.handle;
	ASSERT_EQ(0, drmIoctl(drm, DRM_IOCTL_MODE_MAP_DUMB, &md));
	f.size = dumb.size;
	f.map = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, drm, md.offset);
	ASSERT_NE(MAP_FAILED, f.map);
	exercise_foreign(_metadata, self->dev, self->imp, &f);
	munmap(f.map, f.size);
	close(f.fd);

	drmCloseBufferHandle(drm, dumb.handle);

	/* First exported without DRM_RDWR, a dma-buf is read-only: no writes. */
	{
		struct cohbuf_imp_submit_data d;
		__u32 h;
		int ro;

		ASSERT_EQ(0, drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb));
		ASSERT_EQ(0, drmPrimeHandleToFD(drm, dumb.handle, DRM_CLOEXEC, &ro));
		ASSERT_EQ(0, cohbuf_importer_import(self->imp, ro, &h, NULL));
		ASSERT_NE(0u, h);
		d = imp_fill(h, 0, 4096, 1);
		EXPECT_EQ(-EACCES, cohbuf_importer_submit(self->imp, &d));
		d = imp_checksum(h, 0, 4096);
		EXPECT_EQ(0, cohbuf_importer_submit(self->imp, &d));
		EXPECT_EQ(0, cohbuf_importer_wait(self->imp, d.job_id, WAIT_NS, NULL, NULL));
		close(ro);
	}
	drmCloseBufferHandle(drm, dumb.handle);
	close(drm);
}

TEST_F(foreign, udmabuf_into_the_importer)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 1 * MIB };
	struct foreign f = { .size = 1 * MIB };
	int udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), memfd;

	if (udev < 0)
		SKIP(return, "no /dev/udmabuf: kernel built without CONFIG_UDMABUF");
	memfd = memfd_create("udmabuf-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, f.size));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	c.memfd = (__u32)memfd;
	f.fd = ioctl(udev, UDMABUF_CREATE, &c);
	ASSERT_LE(0, f.fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	f.map = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, f.map);
	exercise_foreign(_metadata, self->dev, self->imp, &f);
	munmap(f.map, f.size);
	close(f.fd);
	close(memfd);
	close(udev);
}

TEST_F(foreign, system_heap_into_the_importer)
{
	struct dma_heap_allocation_data a = {
		.len = 2 * MIB, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct foreign f = { .size = 2 * MIB };
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	if (heap < 0)
		SKIP(return, "no /dev/dma_heap/system: kernel built without DMABUF_HEAPS_SYSTEM");
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a));
	f.fd = (int)a.fd;
	f.map = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	ASSERT_NE(MAP_FAILED, f.map);
	exercise_foreign(_metadata, self->dev, self->imp, &f);
	munmap(f.map, f.size);
	close(f.fd);
	close(heap);
}

/*
 * Explicit fences between processes: A's out-fence, sent over SCM_RIGHTS,
 * is B's in-fence, and B also imports it onto a buffer of its own.
 */
TEST_F(foreign, out_fence_crosses_processes)
{
	int sv[2], status, fd, other;
	struct cohbuf_imp_submit_data d;
	pid_t pid;
	__u32 h;

	fd = test_alloc(self->dev, 1 * MIB);
	other = test_alloc(self->dev, 64 * KIB);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/*
	 * The child keeps no copy of sv[0], so it reads EOF if the parent
	 * fails before it sent both fds; and it dies with the test, so a
	 * failing parent never leaves it blocked or holding buffers.
	 */
	pid = test_fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct dma_buf_import_sync_file in = { .flags = DMA_BUF_SYNC_WRITE };
		unsigned char want[4096];
		__u32 csum = 0, bh;
		int imp, buf, sf;
		int st = 1;

		close(sv[0]);
		imp = cohbuf_importer_open();
		buf = cohbuf_fd_recv(sv[1]);
		sf = cohbuf_fd_recv(sv[1]);
		if (imp < 0 || buf < 0 || sf < 0)
			_exit(1);
		/* Imported onto another buffer, the fence makes it busy. */
		in.fd = sf;
		if (ioctl(other, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &in) || fd_ready(other, POLLIN))
			_exit(2);
		if (cohbuf_importer_import(imp, buf, &bh, NULL) || !bh)
			_exit(3);
		d = imp_checksum(bh, 0, 4096);
		d.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
		d.in_fence_fd = sf;
		if (cohbuf_importer_submit(imp, &d))
			_exit(3);
		if (cohbuf_importer_wait(imp, d.job_id, WAIT_NS, &st, &csum) || st)
			_exit(4);
		pattern_bytes(want, sizeof(want), 0x2468ace0);
		if (csum != test_crc32(want, sizeof(want)) || !fd_ready(other, POLLIN))
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, fd, &h, NULL));
	ASSERT_NE(0u, h);
	d = imp_fill(h, 0, 1 * MIB, 0x2468ace0);
	imp_set_latency(&d, 1000);
	d.flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
	ASSERT_EQ(0, cohbuf_importer_submit(self->imp, &d));
	ASSERT_EQ(0, cohbuf_fd_send(sv[0], fd));
	ASSERT_EQ(0, cohbuf_fd_send(sv[0], d.out_fence_fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("process B failed at step %d",
						 WEXITSTATUS(status));
	close(d.out_fence_fd);
	close(sv[0]);
	close(fd);
	close(other);
}

TEST_HARNESS_MAIN
