// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_pkg_test: a program of someone who installed libcohbuf-dev.  It
 * includes only the installed <libcohbuf.h> and is built by scripts/pkg-check
 * with "pkg-config --cflags --libs cohbuf" against the files of the
 * packages, twice: statically (--static, COHBUF_PKG_STATIC defined) and
 * against libcohbuf.so.1.  In a guest whose modules dkms built from the
 * package cohbuf-dkms, each build allocates, maps, fills and has the
 * importer checksum a buffer, and checks that it uses the library the way
 * it was linked.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <libcohbuf.h>

#include "kselftest_harness.h"

#define BUF_SIZE	(1024 * 1024)
#define NS_PER_S	1000000000ULL

/* Whether /proc/self/maps shows libcohbuf.so.1 mapped into this process. */
static int maps_libcohbuf(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/libcohbuf.so.1"))
			found = 1;
	fclose(f);
	return found;
}

TEST(linked_as_built)
{
#ifdef COHBUF_PKG_STATIC
	ASSERT_EQ(0, maps_libcohbuf());
#else
	ASSERT_EQ(1, maps_libcohbuf());
#endif
}

TEST(alloc_map_checksum)
{
	struct cohbuf_buffer_desc desc = { .size = BUF_SIZE, .name = "pkg-test" };
	struct cohbuf_imp_submit_data job = { .op = COHBUF_IMP_OP_CHECKSUM };
	__u32 csum = 0;
	int dev, buf, ctx, status = -1;
	void *p;

	dev = cohbuf_exporter_open();
	ASSERT_LE(0, dev) TH_LOG("open /dev/cohbuf: %s", strerror(-dev));
	buf = cohbuf_exporter_alloc(dev, &desc, NULL);
	ASSERT_LE(0, buf) TH_LOG("alloc: %s", strerror(-buf));
	p = cohbuf_dmabuf_map(buf, 0, BUF_SIZE, 1);
	ASSERT_NE(NULL, p) TH_LOG("map: %s", strerror(errno));
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_begin(buf, DMA_BUF_SYNC_WRITE));
	cohbuf_importer_random_fill(p, BUF_SIZE, 19);
	ASSERT_EQ(0, cohbuf_dmabuf_cpu_access_end(buf, DMA_BUF_SYNC_WRITE));

	ctx = cohbuf_importer_open();
	ASSERT_LE(0, ctx) TH_LOG("open /dev/cohbuf-importer: %s", strerror(-ctx));
	ASSERT_EQ(0, cohbuf_importer_import(ctx, buf, &job.src_handle, NULL));
	job.len = BUF_SIZE;
	ASSERT_EQ(0, cohbuf_importer_submit(ctx, &job));
	ASSERT_EQ(0, cohbuf_importer_wait(ctx, job.job_id, 10 * NS_PER_S, &status, &csum));
	ASSERT_EQ(0, status);
	EXPECT_EQ(cohbuf_importer_crc32(p, BUF_SIZE), csum);

	EXPECT_EQ(0, cohbuf_importer_release(ctx, job.src_handle));
	EXPECT_EQ(0, cohbuf_dmabuf_unmap(p, BUF_SIZE));
	close(ctx);
	close(buf);
	close(dev);
}

TEST_HARNESS_MAIN
