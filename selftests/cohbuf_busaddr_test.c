// SPDX-License-Identifier: GPL-2.0
/*
 * A user-space driver of QEMU's edu PCI device DMAs into and out of a
 * cohbuf buffer with the addresses COHBUF_IOCTL_MAP_PCI gives it for the
 * device: the test unbinds edu from the importer's cohbuf-edu driver,
 * enables it and turns on bus mastering through sysfs, programs its DMA
 * registers through a mapping of BAR 0 (sysfs resource0) and polls for
 * the end of each transfer; then it checks the bytes, across a chunk
 * boundary, with and without an IOMMU. Behind an IOMMU, the cohbuf
 * device's own addresses (INFO's, the CPU's physical addresses in the
 * test guests) and the addresses of a closed mapping must fault and move
 * nothing. The mapping must be refused to a caller without CAP_SYS_RAWIO,
 * and must not outlive the device's removal. Each edu transfer takes
 * about 100 ms of virtual time: a few of them in all. Every test leaves
 * edu bound to cohbuf-edu again.
 */

#include <sys/wait.h>
#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "edu_test.h"

/* Registers of BAR 0 (QEMU's docs/specs/edu.rst), 64-bit ones from 0x80. */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_START		0x1
#define EDU_CMD_TO_RAM		0x2
#define EDU_WINDOW		0x40000	/* the device's 4 KiB buffer */
#define EDU_BAR_SIZE		0x100000
/* The device's dma_mask property in the test guests (scripts/vm/boot). */
#define EDU_DMA_MASK		0xffffffffULL
#define XFER_TIMEOUT_S		5.0

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MASTER	0x4

#define BUF_SIZE	(5 * MIB)	/* two chunks: 4 MiB and 1 MiB */
/* Chunks (INFO) and segments (MAP_PCI): the debug kernel makes many small chunks. */
#define MAX_SEGS	256
#define SPAN		2000		/* bytes a test moves */

/* An edu device that this program drives from user space. */
struct udrv {
	char bdf[256];
	__u8 *regs;			/* BAR 0, or MAP_FAILED */
};

static int udrv_sysfs(const char *bdf, const char *file, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, file);
	return write_text(path, text);
}

/* Bus mastering on or off, in the COMMAND register of config space. */
static int udrv_master(const char *bdf, int on)
{
	char path[512];
	__u16 cmd;
	int fd, ret = -1;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/config", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, &cmd, sizeof(cmd), PCI_COMMAND) == sizeof(cmd)) {
		cmd = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
		if (pwrite(fd, &cmd, sizeof(cmd), PCI_COMMAND) == sizeof(cmd))
			ret = 0;
	}
	close(fd);
	return ret;
}

/*
 * Take the device from cohbuf-edu and set it up for user space: enabled,
 * bus master, BAR 0 mapped. 0, or -1 with the step in @step.
 */
static int udrv_open(struct udrv *u, const char **step)
{
	char path[512];
	void *p;
	int fd;

	*step = "unbind";
	if (edu_bound(u->bdf) && write_text(EDU_DRIVER "/unbind", u->bdf))
		return -1;
	*step = "enable";
	if (udrv_sysfs(u->bdf, "enable", "1"))
		return -1;
	*step = "bus master";
	if (udrv_master(u->bdf, 1))
		return -1;
	*step = "mmap resource0";
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource0", u->bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	p = mmap(NULL, EDU_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	u->regs = p;
	return 0;
}

/* Undo udrv_open(); the fixture's teardown binds cohbuf-edu again. */
static void udrv_close(struct udrv *u)
{
	if (u->regs != MAP_FAILED)
		munmap(u->regs, EDU_BAR_SIZE);
	u->regs = MAP_FAILED;
	udrv_master(u->bdf, 0);
	udrv_sysfs(u->bdf, "enable", "0");
}

/* Register accesses: atomic, so that the compiler neither merges nor drops them. */
static void udrv_write(struct udrv *u, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)(u->regs + reg), val, __ATOMIC_SEQ_CST);
}

static __u64 udrv_read(struct udrv *u, unsigned int reg)
{
	return __atomic_load_n((__u64 *)(u->regs + reg), __ATOMIC_SEQ_CST);
}

/*
 * One transfer of @len bytes (at most 4095: QEMU 7.2 aborts on one that
 * ends at the window's last byte) between @addr and window offset @woff,
 * polled to its end. 0, or -1 if the device is still busy after
 * XFER_TIMEOUT_S.
 */
static int udrv_xfer(struct udrv *u, __u64 addr, __u64 woff, __u64 len, int to_ram)
{
	struct timespec pause = { 0, 1000 * 1000 };
	double start = monotonic_s();

	udrv_write(u, EDU_REG_DMA_SRC, to_ram ? EDU_WINDOW + woff : addr);
	udrv_write(u, EDU_REG_DMA_DST, to_ram ? addr : EDU_WINDOW + woff);
	udrv_write(u, EDU_REG_DMA_COUNT, len);
	__sync_synchronize();	/* the buffer's bytes before the command */
	udrv_write(u, EDU_REG_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	while (udrv_read(u, EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (monotonic_s() - start > XFER_TIMEOUT_S)
			return -1;
		nanosleep(&pause, NULL);
	}
	__sync_synchronize();
	return 0;
}

/* The address of buffer byte @off in @segs, and the bytes from there on in its segment. */
static __u64 seg_addr(const struct cohbuf_dma_seg *segs, __u32 n, __u64 off, __u64 *avail)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		if (off < segs[i].len) {
			*avail = segs[i].len - off;
			return segs[i].dma_addr + off;
		}
		off -= segs[i].len;
	}
	*avail = 0;
	return 0;
}

/*
 * Move @len bytes between buffer offset @off, as @segs address it, and
 * window offset 0: one transfer per segment the range touches. 0 or -1.
 */
static int udrv_move(struct udrv *u, const struct cohbuf_dma_seg *segs, __u32 n,
		     __u64 off, __u64 len, int to_ram)
{
	__u64 done, piece, avail, addr;

	for (done = 0; done < len; done += piece) {
		addr = seg_addr(segs, n, off + done, &avail);
		if (!avail)
			return -1;
		piece = len - done < avail ? len - done : avail;
		if (udrv_xfer(u, addr, done, piece, to_ram))
			return -1;
	}
	return 0;
}

/* MAP_PCI's raw ioctl, for the argument checks: 0 or -errno. */
static int map_raw(int dev, struct cohbuf_map_pci_data *d)
{
	return ioctl(dev, COHBUF_IOCTL_MAP_PCI, d) ? -errno : 0;
}

/* /dev/kmsg, positioned at its end: what the kernel logs from now on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait up to 3 s for the IOMMU to log a fault on @kmsg: intel-iommu's
 * "DMAR: [DMA Read ...] Request device [...] fault addr ...", SMMUv3's
 * "event 0x10 received". 1 if it did, else 0.
 */
static int kmsg_fault(int kmsg)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	double start = monotonic_s();
	char rec[2048];
	ssize_t n;

	while (monotonic_s() - start < 3.0) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EAGAIN) {
			nanosleep(&pause, NULL);
			continue;
		}
		if (n < 0 && errno != EPIPE)
			return 0;
		if (n <= 0)
			continue;
		rec[n] = '\0';
		if (strstr(rec, "fault addr") || strstr(rec, " event 0x"))
			return 1;
	}
	return 0;
}

/* A test's buffer and devices. */
struct busaddr_ctx {
	char pci[256];		/* a PCI device to map for: edu, else any */
	int dev, fd;
	unsigned char *map;
	__u64 id, boundary;	/* offset of the second chunk */
	struct cohbuf_chunk_info chunks[MAX_SEGS];	/* from INFO */
	struct udrv u;		/* edu, if there is one: bdf "" if not */
};

#define NO_EDU	"no QEMU edu device (1234:11e8) on this machine"

/* Any PCI device, for the tests that map but do no DMA: 0, or -1. */
static int pci_any(char *bdf, size_t len)
{
	DIR *dir = opendir(PCI_DEVICES);
	struct dirent *e;
	int found = -1;

	while (dir && found && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(bdf, len, "%s", e->d_name);
		found = 0;
	}
	if (dir)
		closedir(dir);
	return found;
}

FIXTURE(busaddr) {
	struct busaddr_ctx c;
};

FIXTURE_SETUP(busaddr)
{
	struct cohbuf_info_data info;
	struct cohbuf_alloc_data a;

	self->c.fd = -1;
	self->c.u.regs = MAP_FAILED;
	if (edu_find(self->c.u.bdf, sizeof(self->c.u.bdf)))
		self->c.u.bdf[0] = '\0';
	if (self->c.u.bdf[0])
		snprintf(self->c.pci, sizeof(self->c.pci), "%s", self->c.u.bdf);
	else if (pci_any(self->c.pci, sizeof(self->c.pci)))
		SKIP(return, "no PCI device on this machine");
	self->c.dev = cohbuf_dev_open();
	ASSERT_LE(0, self->c.dev);
	ASSERT_EQ(0, cohbuf_alloc_full(self->c.dev, BUF_SIZE, O_RDWR | O_CLOEXEC, 0,
				       COHBUF_CACHE_CACHED, NULL, &a));
	self->c.fd = a.fd;
	self->c.id = a.id;
	ASSERT_EQ(0, cohbuf_exporter_info(self->c.dev, self->c.fd, &info, self->c.chunks,
					  MAX_SEGS));
	ASSERT_LE(2, info.nr_chunks) TH_LOG("a %d MiB buffer in one chunk", BUF_SIZE / MIB);
	self->c.boundary = self->c.chunks[0].len;
	self->c.map = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->c.fd, 0);
	ASSERT_NE(MAP_FAILED, self->c.map);
}

FIXTURE_TEARDOWN_PARENT(busaddr)
{
	if (self->c.u.bdf[0])
		EXPECT_EQ(0, edu_restore());
}

/* Map the buffer for edu: the mapping's fd; its segments in @segs, their count in @n. */
static int map_edu(struct __test_metadata *_metadata, struct busaddr_ctx *c,
		   struct cohbuf_dma_seg *segs, __u32 *n)
{
	int mfd = cohbuf_exporter_map_pci(c->dev, c->fd, c->u.bdf, EDU_DMA_MASK,
					  segs, MAX_SEGS, n);

	EXPECT_LE(0, mfd) TH_LOG("MAP_PCI %s: %s", c->u.bdf, strerror(-mfd));
	return mfd;
}

static void set_up_driver(struct __test_metadata *_metadata, struct udrv *u)
{
	const char *step = "";

	ASSERT_EQ(0, udrv_open(u, &step)) TH_LOG("%s: %s", step, strerror(errno));
}

/* DMA_BUF_IOCTL_SYNC on the buffer: END after the CPU wrote, START before it reads. */
static void cpu_sync(struct __test_metadata *_metadata, int fd, __u64 flags)
{
	struct dma_buf_sync s = { .flags = flags };

	EXPECT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &s));
}

/*
 * The device reads SPAN bytes across the chunk boundary into its window
 * and writes them back elsewhere across it, with the mapping's addresses;
 * the bytes around stay as the CPU left them.
 */
TEST_F(busaddr, user_space_driver_dmas_across_a_chunk_boundary)
{
	__u64 src = self->c.boundary - SPAN / 2, dst = self->c.boundary - SPAN / 2 - 700;
	struct cohbuf_dma_seg segs[MAX_SEGS];
	unsigned char expect[SPAN];
	__u32 n = 0, i;
	int mfd;

	if (!self->c.u.bdf[0])
		SKIP(return, NO_EDU);

	for (i = 0; i < SPAN; i++)
		expect[i] = (unsigned char)(i * 7 + 3);
	memset(self->c.map + src - 4096, 0x55, SPAN + 8192);
	memcpy(self->c.map + src, expect, SPAN);
	cpu_sync(_metadata, self->c.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	set_up_driver(_metadata, &self->c.u);
	mfd = map_edu(_metadata, &self->c, segs, &n);
	ASSERT_LE(0, mfd);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++)
		EXPECT_GE(EDU_DMA_MASK, segs[i].dma_addr + segs[i].len - 1);
	TH_LOG("%u segment(s), the first at 0x%llx; %s", n, (unsigned long long)segs[0].dma_addr,
	       edu_translated(self->c.u.bdf) ? "IOVAs" : "no IOMMU");
	ASSERT_EQ(0, udrv_move(&self->c.u, segs, n, src, SPAN, 0));

	/* The window holds the bytes now: clear the buffer, then store them. */
	cpu_sync(_metadata, self->c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	memset(self->c.map + src - 4096, 0x55, SPAN + 8192);
	cpu_sync(_metadata, self->c.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	ASSERT_EQ(0, udrv_move(&self->c.u, segs, n, dst, SPAN, 1));
	cpu_sync(_metadata, self->c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, memcmp(self->c.map + dst, expect, SPAN));
	EXPECT_EQ(0x55, self->c.map[dst - 1]);
	EXPECT_EQ(0x55, self->c.map[dst + SPAN]);
	EXPECT_EQ(1, cohbuf_buffer_field(self->c.id, "attachments"));
	close(mfd);
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));
	udrv_close(&self->c.u);
}

/*
 * Store 4 bytes of the window (loaded through the mapping) to buffer
 * offset @off at the device address @addr, which should not be mapped:
 * behind an IOMMU the transfer ends, the IOMMU logs a fault, and the
 * bytes are not written. 4 bytes make one SMMUv3 event (it reports each
 * 4-byte access), but the log is rate-limited (10 messages in 5 s), and
 * the edu test or the previous test may have used them up: with no
 * message, the store is tried once more when the 5 s are over.
 */
static void store_faults(struct __test_metadata *_metadata, struct busaddr_ctx *c,
			 __u64 addr, __u64 off)
{
	struct timespec ratelimit = { 5, 500 * 1000 * 1000 };
	int kmsg = kmsg_open(), tries, logged = 0;

	ASSERT_LE(0, kmsg);
	for (tries = 0; tries < 2 && !logged; tries++) {
		if (tries)
			nanosleep(&ratelimit, NULL);
		EXPECT_EQ(0, udrv_xfer(&c->u, addr, 0, 4, 1));
		logged = kmsg_fault(kmsg);
	}
	EXPECT_TRUE(logged) TH_LOG("no IOMMU fault logged for 0x%llx", (unsigned long long)addr);
	close(kmsg);
	cpu_sync(_metadata, c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	EXPECT_TRUE(all_bytes(c->map + off, 4, 0x55))
		TH_LOG("the transfer to 0x%llx landed", (unsigned long long)addr);
}

/* Load 256 bytes of 0x3c into the window through a mapping; 0x55 around them. */
static void load_window(struct __test_metadata *_metadata, struct busaddr_ctx *c,
			const struct cohbuf_dma_seg *segs, __u32 n)
{
	memset(c->map, 0x55, 8192);
	memset(c->map + 8192, 0x3c, 256);
	cpu_sync(_metadata, c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	ASSERT_EQ(0, udrv_move(&c->u, segs, n, 8192, 256, 0));
}

/*
 * The start of the tests behind an IOMMU: the user-space driver set up,
 * the buffer mapped for edu and the window loaded. The mapping's fd, or
 * -1 once the test is skipped (no edu, or no IOMMU translating its DMA).
 */
static int map_behind_an_iommu(struct __test_metadata *_metadata, struct busaddr_ctx *c,
			       struct cohbuf_dma_seg *segs, __u32 *n)
{
	int mfd;

	if (!c->u.bdf[0])
		SKIP(return -1, NO_EDU);
	if (!edu_translated(c->u.bdf))
		SKIP(return -1, "no IOMMU translates %s's DMA", c->u.bdf);
	set_up_driver(_metadata, &c->u);
	mfd = map_edu(_metadata, c, segs, n);
	ASSERT_LE(0, mfd);
	load_window(_metadata, c, segs, *n);
	return mfd;
}

/*
 * Behind an IOMMU, the cohbuf device's own addresses (INFO's, the CPU's
 * physical addresses in the test guests: what u-dma-buf's users are
 * given) fault and move nothing, while the mapping's reach the buffer.
 */
TEST_F(busaddr, cohbuf_device_addresses_fault_behind_an_iommu)
{
	struct cohbuf_dma_seg segs[MAX_SEGS];
	__u32 n = 0;
	int mfd = map_behind_an_iommu(_metadata, &self->c, segs, &n);

	if (mfd < 0)
		return;
	store_faults(_metadata, &self->c, self->c.chunks[0].dma_addr, 0);
	/* The same store through the mapping lands. */
	ASSERT_EQ(0, udrv_move(&self->c.u, segs, n, 0, 256, 1));
	cpu_sync(_metadata, self->c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	EXPECT_EQ(0x3c, self->c.map[0]);
	EXPECT_EQ(0x3c, self->c.map[255]);
	EXPECT_EQ(0x55, self->c.map[256]);
	close(mfd);
	udrv_close(&self->c.u);
}

/* Once the mapping's fd is closed, its addresses fault (strict IOMMU). */
TEST_F(busaddr, addresses_fault_once_the_mapping_is_closed)
{
	struct cohbuf_dma_seg segs[MAX_SEGS];
	__u32 n = 0;
	int mfd = map_behind_an_iommu(_metadata, &self->c, segs, &n);

	if (mfd < 0)
		return;
	close(mfd);
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));
	store_faults(_metadata, &self->c, segs[0].dma_addr, 0);
	udrv_close(&self->c.u);
}

/* Without CAP_SYS_RAWIO: EPERM, whatever the argument. */
TEST_F(busaddr, refused_without_cap_sys_rawio)
{
	pid_t pid = test_fork_child();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		struct cohbuf_dma_seg segs[MAX_SEGS];
		struct cohbuf_map_pci_data d = { .fd = -1, .flags = ~0U };

		if (drop_cap_sys_rawio())
			_exit(10);
		if (cohbuf_exporter_map_pci(self->c.dev, self->c.fd, self->c.pci, 0, segs,
					    MAX_SEGS, NULL) != -EPERM)
			_exit(11);
		if (map_raw(self->c.dev, &d) != -EPERM)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child step %d failed", WEXITSTATUS(status));
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));
}

/*
 * The argument checks, each on an otherwise good request for a device that
 * no test drives (edu, bound, or any other one).
 */
TEST_F(busaddr, bad_arguments_are_refused_and_a_good_one_maps)
{
	struct cohbuf_dma_seg segs[MAX_SEGS];
	struct cohbuf_map_pci_data good, d;
	unsigned int dom, bus, slot, fn;
	int fds[2], closed, got;
	__u32 n = 0;

	got = sscanf(self->c.pci, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
	ASSERT_EQ(4, got);
	memset(&good, 0, sizeof(good));
	good.fd = self->c.fd;
	good.pci_domain = dom;
	good.pci_bus = bus;
	good.pci_devfn = slot << 3 | fn;
	good.segs_ptr = (uintptr_t)segs;
	good.segs_cap = MAX_SEGS;

	d = good;
	d.flags = 2;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	d = good;
	d.pad = 1;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	d = good;
	d.pad2 = 1;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	d = good;
	d.nr_segs = 1;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	d = good;
	d.map_fd = 3;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	d = good;
	d.segs_ptr = 0;
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	ASSERT_EQ(0, pipe(fds));
	d = good;
	d.fd = fds[0];
	EXPECT_EQ(-EINVAL, map_raw(self->c.dev, &d));
	close(fds[0]);
	close(fds[1]);
	closed = fds[0];
	d = good;
	d.fd = closed;
	EXPECT_EQ(-EBADF, map_raw(self->c.dev, &d));
	/* No such device: bus 0xff of a domain no guest has. */
	d = good;
	d.pci_domain = 0x7777;
	d.pci_bus = 0xff;
	EXPECT_EQ(-ENODEV, map_raw(self->c.dev, &d));
	d = good;
	d.pci_devfn = good.pci_devfn ^ 0x80;
	EXPECT_EQ(-ENODEV, map_raw(self->c.dev, &d));
	/* A device that reaches 4 KiB of bus addresses reaches none of the buffer. */
	d = good;
	d.dma_mask = 0xfff;
	EXPECT_EQ(-ERANGE, map_raw(self->c.dev, &d));
	/* A count-only query: ENOSPC with the count, and nothing held. */
	d = good;
	d.segs_cap = 0;
	d.segs_ptr = 0;
	EXPECT_EQ(-ENOSPC, map_raw(self->c.dev, &d));
	EXPECT_LE(1, d.nr_segs);
	EXPECT_EQ(0, d.map_fd);
	EXPECT_EQ(-ENOSPC,
		  cohbuf_exporter_map_pci(self->c.dev, self->c.fd, self->c.pci, 0, segs, 0, &n));
	EXPECT_EQ(d.nr_segs, n);
	EXPECT_EQ(-EINVAL,
		  cohbuf_exporter_map_pci(self->c.dev, self->c.fd, "00:03", 0, segs, 1, &n));
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));

	/* And the good request maps, until its fd is closed. */
	closed = map_raw(self->c.dev, &good);
	EXPECT_EQ(0, closed);
	EXPECT_LE(0, good.map_fd);
	EXPECT_EQ(1, cohbuf_buffer_field(self->c.id, "attachments"));
	EXPECT_EQ(0, close(good.map_fd));
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));
}

/*
 * PCI remove of the device while a mapping of it is held, with the
 * importer's driver still bound to it: the buffer is unmapped from it as
 * the driver goes, before DMA-API debugging would report the mapping as
 * the driver's leak (the health gate of the debug guest), the fd stays
 * valid and closes cleanly, and the buffer lives on.
 */
TEST_F(busaddr, pci_remove_revokes_a_held_mapping)
{
	struct cohbuf_dma_seg segs[MAX_SEGS];
	__u32 n = 0;
	int mfd;

	if (!self->c.u.bdf[0])
		SKIP(return, NO_EDU);

	mfd = map_edu(_metadata, &self->c, segs, &n);
	ASSERT_LE(0, mfd);
	EXPECT_EQ(1, cohbuf_buffer_field(self->c.id, "attachments"));
	ASSERT_EQ(0, udrv_sysfs(self->c.u.bdf, "remove", "1"))
		TH_LOG("remove: %s", strerror(errno));
	EXPECT_EQ(0, cohbuf_buffer_field(self->c.id, "attachments"));
	EXPECT_EQ(-ENODEV, cohbuf_exporter_map_pci(self->c.dev, self->c.fd, self->c.u.bdf, 0, segs,
						   MAX_SEGS, &n));
	EXPECT_EQ(0, close(mfd));
	self->c.map[0] = 1;
	EXPECT_EQ(1, self->c.map[0]);
}

TEST_HARNESS_MAIN
