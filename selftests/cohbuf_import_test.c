// SPDX-License-Identifier: GPL-2.0
/*
 * Another driver imports cohbuf buffers: vgem (in-tree, loaded here with
 * modprobe) attaches and maps them through PRIME.  Checks that attachments
 * are counted and released, that the import keeps a buffer alive after its
 * last fd is closed, and that exporting the import again gives back the same
 * dma-buf.
 */

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "vgem_test.h"

FIXTURE(import) {
	int dev;
	int drm;
};

FIXTURE_SETUP(import)
{
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->drm = cohbuf_vgem_open();
	if (self->drm < 0)
		SKIP(return, "vgem is not available (no module or no card node)");
}

FIXTURE_TEARDOWN(import)
{
	if (self->drm >= 0)
		close(self->drm);
	close(self->dev);
}

static void import_and_release(struct __test_metadata *_metadata, int dev, int drm,
			       __u64 size, __u32 flags, __u32 cache_mode)
{
	struct cohbuf_alloc_data d;
	struct stat a, b;
	__u32 handle;
	int fd2;

	ASSERT_EQ(0, cohbuf_alloc_full(dev, size, O_RDWR | O_CLOEXEC, flags, cache_mode,
				       "imported", &d));
	EXPECT_EQ(0, cohbuf_buffer_field(d.id, "attachments"));
	ASSERT_EQ(0, drmPrimeFDToHandle(drm, d.fd, &handle));
	EXPECT_EQ(1, cohbuf_buffer_field(d.id, "attachments"));

	/* Exporting the import again gives back our dma-buf, not a copy. */
	ASSERT_EQ(0, drmPrimeHandleToFD(drm, handle, DRM_CLOEXEC, &fd2));
	ASSERT_EQ(0, fstat(d.fd, &a));
	ASSERT_EQ(0, fstat(fd2, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	close(fd2);

	/* With every fd closed, vgem's attachment keeps the buffer alive. */
	close(d.fd);
	EXPECT_EQ(1, cohbuf_stat("live_buffers"));
	EXPECT_EQ(1, cohbuf_buffer_field(d.id, "attachments"));

	ASSERT_EQ(0, drmCloseBufferHandle(drm, handle));
	EXPECT_EQ(-1, cohbuf_buffer_field(d.id, "attachments"));
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
}

TEST_F(import, vgem_attaches_single_chunk)
{
	import_and_release(_metadata, self->dev, self->drm, 64 * KIB, 0, COHBUF_CACHE_CACHED);
}

TEST_F(import, vgem_attaches_multi_chunk)
{
	import_and_release(_metadata, self->dev, self->drm, 9 * MIB, 0, COHBUF_CACHE_CACHED);
}

TEST_F(import, vgem_attaches_write_combine)
{
	import_and_release(_metadata, self->dev, self->drm, 5 * MIB, 0, COHBUF_CACHE_WC);
}

TEST_F(import, vgem_attaches_contiguous)
{
	import_and_release(_metadata, self->dev, self->drm, 4 * MIB, COHBUF_ALLOC_CONTIGUOUS,
			   COHBUF_CACHE_CACHED);
}

TEST_F(import, rmmod_refused_while_imported)
{
	__u32 handle;
	int fd = test_alloc(self->dev, 64 * KIB);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &handle));
	close(fd);
	close(self->dev);
	self->dev = -1;
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cohbuf", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, drmCloseBufferHandle(self->drm, handle));
	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_HARNESS_MAIN
