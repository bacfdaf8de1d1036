/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libcohbuf and libcohbuf-drm as the tests include them, plus two one-line
 * adapters for the calls that give back a handle: the tests keep "handle or
 * -errno" in one int, which ASSERT_LE(0, h) and EXPECT_EQ(-EINVAL, ...)
 * read directly.  They call the library; the ioctls stay written once.
 */
#ifndef COHBUF_LIBCOHBUF_TEST_H
#define COHBUF_LIBCOHBUF_TEST_H

#include <libcohbuf.h>
#include <libcohbuf_drm.h>

/* cohbuf_importer_import(): the handle, or -errno. */
static inline int test_imp_import(int ctx, int buf, struct cohbuf_imp_import_data *info)
{
	__u32 handle;
	int ret = cohbuf_importer_import(ctx, buf, &handle, info);

	return ret ? ret : (int)handle;
}

/* cohbuf_vgem_fence_attach(): the fence id, or -errno. */
static inline int test_vgem_fence(int drm, __u32 handle, int write)
{
	__u32 fence;
	int ret = cohbuf_vgem_fence_attach(drm, handle, write, &fence);

	return ret ? ret : (int)fence;
}

#endif /* COHBUF_LIBCOHBUF_TEST_H */
