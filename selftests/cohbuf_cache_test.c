// SPDX-License-Identifier: GPL-2.0
/*
 * Cache modes on coherent and non-coherent devices: what the CPU mappings
 * and the importers' mappings of each mode are, that a buffer of each mode
 * works through an importer and through the CPU, and COHBUF_IOCTL_SYNC.
 *
 * What the tests read back, and from where (nothing else in these
 * kernels exposes a mapping's cache attributes):
 * - /sys/kernel/debug/cohbuf/device "dma_coherent": dev_is_dma_coherent()
 *   of the cohbuf device, checked against the platform: x86 DMA is always
 *   coherent; on Debian's arm64 kernels the cohbuf platform device has no
 *   firmware node and so is not coherent.
 * - the buffers file's "cpu_map": the class of the page protection cohbuf
 *   chose for every user (mmap) and kernel (vmap) mapping, and "dev_sync":
 *   whether importers' mappings are synced through the DMA API or skip it.
 *   They are checked against what the DMA API does with the same memory:
 *   dma_alloc_pages() memory is cacheable; dma_alloc_wc() memory is mapped
 *   with dma_pgprot(), unchanged on a coherent device and write-combined
 *   (Normal Non-cacheable on arm64) on a non-coherent one.
 * - "synced_cpu"/"synced_dev": a counter in cohbuf of the bytes it passed
 *   to the DMA API's sync calls (on the debug kernel, DMA-API debugging
 *   also checks each call's range and direction against the mapping, and
 *   the rig fails the run on any report).
 * QEMU's TCG does not model caches: stale data cannot be shown here, only
 * that every sync the protocol needs happens, with the right range.
 */

#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

#define WAIT_NS		(20000 * MS)
#define SIZE		(9 * MIB)	/* chunks of 4, 4 and 1 MiB */

FIXTURE(cache) {
	int dev, imp;
	int fd;
	__u64 id;
	unsigned char *map;
	int coherent;		/* the cohbuf device's, from debugfs */
};

FIXTURE_VARIANT(cache) {
	__u32 mode;
};

FIXTURE_VARIANT_ADD(cache, cached) {
	.mode = COHBUF_CACHE_CACHED,
};

FIXTURE_VARIANT_ADD(cache, wc) {
	.mode = COHBUF_CACHE_WC,
};

FIXTURE_SETUP(cache)
{
	struct cohbuf_alloc_data d;

	self->dev = cohbuf_dev_open();
	ASSERT_LE(0, self->dev);
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", IMPORTER_DEV, strerror(errno));
	ASSERT_EQ(0, cohbuf_alloc_full(self->dev, SIZE, O_RDWR | O_CLOEXEC, 0, variant->mode,
				       NULL, &d)) TH_LOG("%s", strerror(errno));
	self->fd = d.fd;
	self->id = d.id;
	self->map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->coherent = read_number(COHBUF_DEBUGFS "/device", "dma_coherent");
	ASSERT_LE(0, self->coherent);
}

FIXTURE_TEARDOWN(cache)
{
	munmap(self->map, SIZE);
	close(self->fd);
	close(self->imp);
	close(self->dev);
}

static long long synced(__u64 id, const char *key)
{
	return cohbuf_buffer_field(id, key);
}

static int dmabuf_sync(int fd, __u64 flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

/* Submit @d and wait for it: its status, the checksum via @csum. */
static int run_job(struct __test_metadata *_metadata, int imp,
		   struct cohbuf_imp_submit_data *d, __u32 *csum)
{
	int status = -1;

	EXPECT_EQ(0, cohbuf_importer_submit(imp, d));
	EXPECT_EQ(0, cohbuf_importer_wait(imp, d->job_id, WAIT_NS, &status, csum));
	return status;
}

TEST_F(cache, device_coherence_is_the_platforms)
{
	struct utsname u;
	int x86, arm64;

	ASSERT_EQ(0, uname(&u));
	x86 = !strcmp(u.machine, "x86_64");
	arm64 = !strcmp(u.machine, "aarch64");
	if (!x86 && !arm64)
		SKIP(return, "no expectation for %s", u.machine);
	EXPECT_EQ(x86, self->coherent);
}

TEST_F(cache, cpu_and_importer_mappings_have_the_dma_apis_attributes)
{
	const char *cpu = "cached", *dev = "dma-api";
	char word[32];
	__u32 h;

	if (variant->mode == COHBUF_CACHE_WC) {
		cpu = self->coherent ? "cached" : "wc";
		dev = "none";
	}
	ASSERT_EQ(0, cohbuf_buffer_word(self->id, "cpu_map", word, sizeof(word)));
	EXPECT_STREQ(cpu, word);
	ASSERT_EQ(0, cohbuf_buffer_word(self->id, "dev_sync", word, sizeof(word)));
	EXPECT_STREQ(dev, word);
	/* Importing maps for the importer's device and vmaps: both work. */
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &h, NULL));
	EXPECT_EQ(1, cohbuf_buffer_field(self->id, "attachments"));
	EXPECT_EQ(1, cohbuf_buffer_field(self->id, "mmaps"));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
}

/*
 * The device (the importer) fills, the CPU reads after SYNC START and
 * writes before SYNC END, the device checksums: every party sees the
 * others' data, and a cached buffer's syncs reach the DMA API for both
 * mappings (cohbuf's own and the importer's), a coherent buffer's never.
 */
TEST_F(cache, importer_and_cpu_share_the_buffer_with_the_syncs_each_mode_needs)
{
	long long per_sync = variant->mode == COHBUF_CACHE_CACHED ? 2 * SIZE : 0;
	long long cpu0, dev0;
	struct cohbuf_imp_submit_data d;
	__u32 h, csum = 0;
	size_t i;

	EXPECT_EQ(0, synced(self->id, "synced_cpu"));
	dev0 = synced(self->id, "synced_dev");
	EXPECT_EQ(0, dev0);
	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &h, NULL));
	/* A cached buffer's new mapping is synced for the device. */
	EXPECT_EQ(dev0 + per_sync / 2, synced(self->id, "synced_dev"));

	d = imp_fill(h, 0, SIZE, 0x5a5a5a5a);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, NULL));
	cpu0 = synced(self->id, "synced_cpu");
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(cpu0 + per_sync, synced(self->id, "synced_cpu"));
	EXPECT_EQ(1, all_bytes(self->map, SIZE, 0x5a));
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	dev0 = synced(self->id, "synced_dev");
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	for (i = 0; i < SIZE; i += 4096)
		self->map[i] = (unsigned char)(i >> 12);
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	EXPECT_EQ(dev0 + per_sync, synced(self->id, "synced_dev"));

	d = imp_checksum(h, 0, SIZE);
	ASSERT_EQ(0, run_job(_metadata, self->imp, &d, &csum));
	EXPECT_EQ(test_crc32(self->map, SIZE), csum);

	/* Unmapping a cached buffer's mapping syncs it for the CPU. */
	cpu0 = synced(self->id, "synced_cpu");
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
	EXPECT_EQ(cpu0 + per_sync / 2, synced(self->id, "synced_cpu"));
}

/*
 * A range that crosses the first chunk boundary (4 MiB) and many of the
 * importer's segments reaches the DMA API exactly: its length once for
 * cohbuf's mapping and once for the importer's, in one direction only.
 */
TEST_F(cache, ranged_sync_passes_exactly_its_range_to_the_dma_api)
{
	long long n = variant->mode == COHBUF_CACHE_CACHED ? 1 : 0;
	const __u64 off = 4 * MIB - 1000, len = 300 * KIB + 7;
	long long cpu0, dev0;
	__u32 h;

	cpu0 = synced(self->id, "synced_cpu");
	dev0 = synced(self->id, "synced_dev");
	ASSERT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, off, len,
					  COHBUF_SYNC_START | COHBUF_SYNC_READ));
	EXPECT_EQ(cpu0 + n * len, synced(self->id, "synced_cpu"));
	EXPECT_EQ(dev0, synced(self->id, "synced_dev"));

	ASSERT_EQ(0, cohbuf_importer_import(self->imp, self->fd, &h, NULL));
	cpu0 = synced(self->id, "synced_cpu");
	dev0 = synced(self->id, "synced_dev");
	ASSERT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, off, len,
					  COHBUF_SYNC_START | COHBUF_SYNC_RW));
	EXPECT_EQ(cpu0 + 2 * n * len, synced(self->id, "synced_cpu"));
	EXPECT_EQ(dev0, synced(self->id, "synced_dev"));
	ASSERT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, off, len,
					  COHBUF_SYNC_END | COHBUF_SYNC_WRITE));
	EXPECT_EQ(cpu0 + 2 * n * len, synced(self->id, "synced_cpu"));
	EXPECT_EQ(dev0 + 2 * n * len, synced(self->id, "synced_dev"));
	/* The last byte of the buffer, and one page at the very end. */
	EXPECT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, SIZE - 1, 1,
					  COHBUF_SYNC_START | COHBUF_SYNC_READ));
	EXPECT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, SIZE - 4096, 4096,
					  COHBUF_SYNC_END | COHBUF_SYNC_RW));
	EXPECT_EQ(cpu0 + 2 * n * (len + 1), synced(self->id, "synced_cpu"));
	EXPECT_EQ(dev0 + 2 * n * (len + 4096), synced(self->id, "synced_dev"));
	EXPECT_EQ(0, cohbuf_importer_release(self->imp, h));
}

/* A raw COHBUF_IOCTL_SYNC with the argument structure @size bytes long. */
static int sync_sized(int dev, const void *arg, size_t size)
{
	return ioctl(dev, _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOC_MAGIC,
			       _IOC_NR(COHBUF_IOCTL_SYNC), size), arg) ? -errno : 0;
}

TEST_F(cache, sync_ioctl_refuses_bad_flags_ranges_and_fds)
{
	const __u32 rd = COHBUF_SYNC_START | COHBUF_SYNC_READ;
	struct {
		struct cohbuf_sync_data d;
		__u64 tail;
	} big = { .d = { .fd = self->fd, .flags = rd, .len = 1 } };
	long long cpu0 = synced(self->id, "synced_cpu");
	int pipefd[2];

	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, 1, 8));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, 1, 1U << 31 | rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, 1, COHBUF_SYNC_START));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, 1, COHBUF_SYNC_END));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, 0, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 0, SIZE + 1, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, SIZE, 1, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 1, SIZE, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, ~0ULL, 2, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->fd, 4096, ~0ULL, rd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, self->dev, 0, 1, rd));
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, cohbuf_exporter_sync(self->dev, pipefd[0], 0, 1, rd));
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(-EBADF, cohbuf_exporter_sync(self->dev, -1, 0, 1, rd));
	/* Shorter than the first version; longer with a non-zero tail. */
	EXPECT_EQ(-EINVAL, sync_sized(self->dev, &big, COHBUF_SYNC_DATA_SIZE_VER0 - 8));
	big.tail = 1;
	EXPECT_EQ(-EINVAL, sync_sized(self->dev, &big, sizeof(big)));
	/* Nothing was synced by any of them. */
	EXPECT_EQ(cpu0, synced(self->id, "synced_cpu"));
	/* The same calls valid: the whole buffer, a zero tail. */
	EXPECT_EQ(0, cohbuf_exporter_sync(self->dev, self->fd, 0, SIZE, rd));
	big.tail = 0;
	EXPECT_EQ(0, sync_sized(self->dev, &big, sizeof(big)));
}

TEST_HARNESS_MAIN
