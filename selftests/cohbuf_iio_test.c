// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_iio.ko: the importer's simulated ADC as an IIO device. The
 * device's sysfs layout is IIO's (channels, scan type le:s12/16>>4,
 * sampling_frequency, buffer0 with length, watermark and enable); with
 * the manual clock every frame read through the buffer's fd is checked
 * against libcohbuf's payload function, the loss counters of buffer0 are
 * exact when the buffer overflows, the watermark decides poll(), and bad
 * input gets its errno. The kernel's own lsiio and iio_generic_buffer,
 * built unchanged from the linux-source of the kernel under test
 * (scripts/vm/upstream-iio) and put next to this program, list the device
 * and print the payload's values. Where the kernel has IIO's DMABUF path,
 * cohbuf and system-heap dma-bufs are attached, enqueued, waited for and
 * verified in place, with upstream's errnos, many blocks in flight and a
 * process killed with blocks enqueued. The last test unloads cohbuf_iio, which
 * holds cohbuf_importer, so that later programs can unload the importer.
 */

#include <dirent.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/iio/buffer.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iio_test.h"
#include "stream_test.h"

#define NR_CHANNELS	IIO_NR_CHANNELS
#define FRAME_BYTES	(2 * NR_CHANNELS)
#define LENGTH		64	/* buffer0/length of most tests */

FIXTURE(iio) {
	int num;	/* iio:deviceN */
	int fd;		/* buffer 0, non-blocking */
};

/* Every test starts disabled, manual clock, all channels, LENGTH, watermark 1. */
FIXTURE_SETUP(iio)
{
	const char *why = iio_load();

	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
	self->num = iio_find_device();
	ASSERT_LE(0, self->num) TH_LOG("cohbuf_iio is loaded but no IIO device is named " IIO_NAME);
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	ASSERT_EQ(0, write_text(iio_attr(self->num, "cohbuf_clock"), "manual"));
	ASSERT_EQ(0, iio_write(self->num, "sampling_frequency", 1000));
	ASSERT_EQ(0, iio_set_channels(self->num, (1u << NR_CHANNELS) - 1));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/length", LENGTH));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/watermark", 1));
	self->fd = iio_buffer_fd(self->num, O_NONBLOCK);
	ASSERT_LE(0, self->fd) TH_LOG("IIO_BUFFER_GET_FD_IOCTL: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(iio)
{
	if (self->fd >= 0) {
		EXPECT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
		close(self->fd);
	}
}

TEST_F(iio, has_the_layout_of_an_adc)
{
	char text[64], attr[64];
	int c;

	for (c = 0; c < NR_CHANNELS; c++) {
		snprintf(attr, sizeof(attr), "buffer0/in_voltage%d_type", c);
		ASSERT_LT(0, read_text(iio_attr(self->num, attr), text, sizeof(text)));
		EXPECT_STREQ("le:s12/16>>4\n", text);
		snprintf(attr, sizeof(attr), "buffer0/in_voltage%d_index", c);
		EXPECT_EQ(c, iio_read(self->num, attr));
		snprintf(attr, sizeof(attr), "in_voltage%d_raw", c);
		EXPECT_EQ(0, access(iio_attr(self->num, attr), R_OK));
	}
	snprintf(attr, sizeof(attr), "buffer0/in_voltage%d_en", NR_CHANNELS);
	EXPECT_NE(0, access(iio_attr(self->num, attr), F_OK));
	EXPECT_EQ(1000, iio_read(self->num, "sampling_frequency"));
	EXPECT_EQ(0, iio_write(self->num, "sampling_frequency", 48000));
	EXPECT_EQ(48000, iio_read(self->num, "sampling_frequency"));
	EXPECT_EQ(LENGTH, iio_read(self->num, "buffer0/length"));
	EXPECT_EQ(1, iio_read(self->num, "buffer0/watermark"));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/enable"));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/frames_produced"));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/frames_lost"));
	ASSERT_LT(0, read_text(iio_attr(self->num, "cohbuf_clock"), text, sizeof(text)));
	EXPECT_STREQ("manual\n", text);
}

/* Frames 0, 1, ... from the enable on, each sample the payload's. */
TEST_F(iio, read_returns_the_payload_from_frame_zero)
{
	__u16 buf[LENGTH * NR_CHANNELS];
	size_t bad = 0;

	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	EXPECT_EQ(-EAGAIN, iio_read_frames(self->fd, buf, 1, FRAME_BYTES));
	ASSERT_EQ(0, iio_advance(self->num, 40));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 40, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 0, 40, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, &bad))
		TH_LOG("sample %zu differs", bad);
	EXPECT_EQ(-EAGAIN, iio_read_frames(self->fd, buf, 1, FRAME_BYTES));

	/* Past the ring's end: the reads wrap around it. */
	ASSERT_EQ(0, iio_advance(self->num, 50));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 30, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 40, 30, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, &bad));
	/* A read of more than is there returns what is there. */
	EXPECT_EQ(20 * FRAME_BYTES, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 70, 20, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, &bad));
	EXPECT_EQ(90, iio_read(self->num, "buffer0/frames_produced"));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/frames_lost"));

	/* A new enable starts again at frame 0 with zero counters. */
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/frames_produced"));
	ASSERT_EQ(0, iio_advance(self->num, 3));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 3, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 0, 3, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, &bad));
}

/* Only the enabled channels, in scan-index order. */
TEST_F(iio, a_scan_holds_the_enabled_channels_only)
{
	__u16 buf[2 * 8];
	__u64 f;

	ASSERT_EQ(0, iio_set_channels(self->num, (1u << 1) | (1u << 3)));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	ASSERT_EQ(0, iio_advance(self->num, 8));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 8, 2 * 2));
	for (f = 0; f < 8; f++) {
		EXPECT_EQ(cohbuf_stream_sample_word(f, 1, COHBUF_STREAM_FMT_ADC12),
			  le16toh(buf[2 * f]));
		EXPECT_EQ(cohbuf_stream_sample_word(f, 3, COHBUF_STREAM_FMT_ADC12),
			  le16toh(buf[2 * f + 1]));
	}
}

/*
 * A full ring drops new frames and counts each; none overwrites a frame
 * not yet read, and produced = read + in the ring + lost.
 */
TEST_F(iio, frames_lost_when_full_are_counted_exactly)
{
	__u16 buf[16 * NR_CHANNELS];

	ASSERT_EQ(0, iio_write(self->num, "buffer0/length", 16));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	ASSERT_EQ(0, iio_advance(self->num, 20));
	EXPECT_EQ(20, iio_read(self->num, "buffer0/frames_produced"));
	EXPECT_EQ(4, iio_read(self->num, "buffer0/frames_lost"));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 16, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 0, 16, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, NULL));

	/* After the gap: frames 20.., exactly. */
	ASSERT_EQ(0, iio_advance(self->num, 5));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 5, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 20, 5, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, NULL));
	EXPECT_EQ(4, iio_read(self->num, "buffer0/frames_lost"));

	/* 10 in the ring, then 13 more: 6 fit, 7 are lost. */
	ASSERT_EQ(0, iio_advance(self->num, 10));
	ASSERT_EQ(0, iio_advance(self->num, 13));
	EXPECT_EQ(48, iio_read(self->num, "buffer0/frames_produced"));
	EXPECT_EQ(11, iio_read(self->num, "buffer0/frames_lost"));
	ASSERT_EQ(0, iio_read_frames(self->fd, buf, 16, FRAME_BYTES));
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 25, 16, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, NULL));
	/* 21 read before, 16 now, none in the ring: 48 = 37 + 11. */
	EXPECT_EQ(-EAGAIN, iio_read_frames(self->fd, buf, 1, FRAME_BYTES));
}

/* poll() says readable once the watermark's worth of frames is there. */
TEST_F(iio, poll_is_readable_at_the_watermark)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	ASSERT_EQ(0, iio_write(self->num, "buffer0/watermark", 8));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	ASSERT_EQ(0, iio_advance(self->num, 7));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, iio_advance(self->num, 1));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);
}

/* A direct read of in_voltageN_raw is the value of the next frame. */
TEST_F(iio, raw_is_the_next_frames_value)
{
	char attr[32];
	int c;

	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	ASSERT_EQ(0, iio_advance(self->num, 5));
	for (c = 0; c < NR_CHANNELS; c++) {
		snprintf(attr, sizeof(attr), "in_voltage%d_raw", c);
		EXPECT_EQ(cohbuf_stream_sample_value(5, c, COHBUF_STREAM_FMT_ADC12),
			  iio_read(self->num, attr));
	}
}

/* The hrtimer clock: a blocking read gets consecutive frames from 0, none lost. */
TEST_F(iio, the_timer_clock_produces_consecutive_frames)
{
	__u16 buf[100 * NR_CHANNELS];
	int fd = iio_buffer_fd(self->num, 0);
	size_t got = 0;

	/* The fixture's fd holds the buffer: this test reads blocking. */
	ASSERT_EQ(-EBUSY, fd);
	close(self->fd);
	fd = iio_buffer_fd(self->num, 0);
	self->fd = fd;
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_text(iio_attr(self->num, "cohbuf_clock"), "timer"));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/length", 4096));	/* 4 s of slack */
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	while (got < 100) {
		ssize_t n = read(fd, (char *)buf + got * FRAME_BYTES,
				 (100 - got) * FRAME_BYTES);

		ASSERT_LT(0, n) TH_LOG("read: %s", strerror(errno));
		ASSERT_EQ(0, n % FRAME_BYTES);
		got += n / FRAME_BYTES;
	}
	EXPECT_EQ(0, cohbuf_stream_verify(buf, 0, 100, NR_CHANNELS,
					  COHBUF_STREAM_FMT_ADC12, NULL));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/frames_lost"));
	EXPECT_LE(100, iio_read(self->num, "buffer0/frames_produced"));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	ASSERT_EQ(0, write_text(iio_attr(self->num, "cohbuf_clock"), "manual"));
}

TEST_F(iio, bad_input_gets_its_errno)
{
	char c;

	/* The manual clock advances an enabled buffer only. */
	EXPECT_EQ(-EBUSY, iio_advance(self->num, 1));
	EXPECT_EQ(-EINVAL, iio_advance(self->num, -1));
	EXPECT_EQ(-EINVAL, write_text(iio_attr(self->num, "cohbuf_advance"), "x") ? -errno : 0);
	EXPECT_EQ(-EINVAL, write_text(iio_attr(self->num, "cohbuf_clock"), "sundial") ? -errno : 0);
	EXPECT_EQ(-EINVAL, iio_write(self->num, "sampling_frequency", 0));
	EXPECT_EQ(-EINVAL, iio_write(self->num, "sampling_frequency", 1000001));
	EXPECT_EQ(1000, iio_read(self->num, "sampling_frequency"));

	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	/* Nothing changes under an enabled buffer. */
	EXPECT_EQ(-EBUSY, write_text(iio_attr(self->num, "cohbuf_clock"), "timer") ? -errno : 0);
	EXPECT_EQ(-EBUSY, iio_write(self->num, "sampling_frequency", 2000));
	EXPECT_EQ(-EBUSY, iio_write(self->num, "buffer0/length", 32));
	/* A read smaller than one scan. */
	ASSERT_EQ(0, iio_advance(self->num, 1));
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	/* The timer clock has no advance. */
	ASSERT_EQ(0, write_text(iio_attr(self->num, "cohbuf_clock"), "timer"));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	EXPECT_EQ(-EINVAL, iio_advance(self->num, 1));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	ASSERT_EQ(0, write_text(iio_attr(self->num, "cohbuf_clock"), "manual"));
}

/*
 * Run ./@prog (the kernel's tools/iio program next to this one) with
 * @argv, its stdout into @out (NUL-terminated); once @start_path reads
 * "1\n", write @advance to @advance_path. Its exit status, or -1.
 */
static int run_iio_tool(char *const argv[], char *out, size_t len,
			const char *start_path, const char *advance_path,
			const char *advance)
{
	int pipefd[2], status;
	size_t total = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (start_path) {
		char text[8] = "";
		int tries;

		for (tries = 0; tries < 1000 && strcmp(text, "1\n"); tries++) {
			usleep(5000);
			read_text(start_path, text, sizeof(text));
		}
		write_text(advance_path, advance);
	}
	while (total < len - 1 && (n = read(pipefd[0], out + total, len - 1 - total)) > 0)
		total += n;
	out[total] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Say which kernel's tools/iio runs: scripts/vm/upstream-iio wrote it. */
static void print_iio_tools_source(void)
{
	char text[256];

	if (read_text("./iio-tools.SOURCE", text, sizeof(text)) > 0)
		printf("# %s", text);
}

#define IIO_TOOLS_SKIP "the kernel's tools/iio was not built for this kernel " \
	"(scripts/vm/upstream-iio builds it where the kernel's linux-source is at hand)"

/* The kernel's lsiio lists the device and its channels. */
TEST_F(iio, upstream_lsiio_lists_the_device)
{
	char out[4096], line[64];
	char *const argv[] = { "./lsiio", "-v", NULL };

	if (access("./lsiio", X_OK))
		SKIP(return, IIO_TOOLS_SKIP);
	print_iio_tools_source();
	ASSERT_EQ(0, run_iio_tool(argv, out, sizeof(out), NULL, NULL, NULL)) TH_LOG("%s", out);
	snprintf(line, sizeof(line), "Device %03d: " IIO_NAME, self->num);
	EXPECT_NE(NULL, strstr(out, line)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "in_voltage3")) TH_LOG("%s", out);
}

/*
 * The kernel's iio_generic_buffer, trigger-less, reads 32 scans of the
 * manual clock and prints each sample shifted, masked and sign-extended:
 * the payload's values, frame by frame.
 */
TEST_F(iio, upstream_iio_generic_buffer_prints_the_payload)
{
	static char out[1 << 16];
	char *const argv[] = { "./iio_generic_buffer", "-n", IIO_NAME, "-g", "-a",
			 "-c", "1", "-l", "32", NULL };
	char *p = out;
	int f, c, status;

	if (access("./iio_generic_buffer", X_OK))
		SKIP(return, IIO_TOOLS_SKIP);
	print_iio_tools_source();
	/* The tool takes the buffer and enables the channels itself. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, iio_set_channels(self->num, 0));
	/* It exits with the last poll()'s result, 1, when it read something. */
	status = run_iio_tool(argv, out, sizeof(out), iio_attr(self->num, "buffer0/enable"),
			      iio_attr(self->num, "cohbuf_advance"), "32");
	ASSERT_TRUE(status == 0 || status == 1) TH_LOG("exit status %d: %s", status, out);
	for (f = 0; f < 32; f++) {
		for (c = 0; c < NR_CHANNELS; c++) {
			char *end;
			double v;

			/* Skip the tool's other lines up to the first number. */
			while (*p && !(*p == '-' || (*p >= '0' && *p <= '9')))
				p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
			v = strtod(p, &end);
			ASSERT_NE(p, end) TH_LOG("frame %d channel %d: no value in %s", f, c, out);
			EXPECT_EQ(cohbuf_stream_sample_value(f, c, COHBUF_STREAM_FMT_ADC12), (int)v)
				TH_LOG("frame %d channel %d", f, c);
			p = end;
			while (*p == ' ')
				p++;
		}
		if (*p == '\n')
			p++;
	}
	EXPECT_EQ(0, iio_read(self->num, "buffer0/enable"));
}

#define DBUF_SIZE	4096			/* one page */
#define DBUF_FRAMES	(DBUF_SIZE / FRAME_BYTES)	/* 512 */

enum dbuf_kind { DBUF_CACHED, DBUF_WC, DBUF_SYSTEM };

/* A dma-buf for the tests, mapped read-write. */
struct dbuf {
	int fd;
	void *map;
};

/* Allocate @d of @kind: NULL, or why this kind cannot be had here. */
static const char *dbuf_alloc(struct dbuf *d, enum dbuf_kind kind)
{
	struct dma_heap_allocation_data a = {
		.len = DBUF_SIZE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct cohbuf_alloc_data out;
	int dev;

	d->fd = -1;
	d->map = MAP_FAILED;
	if (kind == DBUF_CACHED && iio_cached_reported())
		kind = DBUF_WC;
	if (kind == DBUF_SYSTEM) {
		dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (dev < 0)
			return "no /dev/dma_heap/system: kernel built without DMABUF_HEAPS_SYSTEM";
		if (!ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &a))
			d->fd = (int)a.fd;
	} else {
		dev = cohbuf_dev_open();
		if (dev < 0)
			return "no " COHBUF_DEV ": cohbuf.ko is not loaded";
		if (!cohbuf_alloc_full(dev, DBUF_SIZE, O_RDWR | O_CLOEXEC, 0,
				       kind == DBUF_WC ? COHBUF_CACHE_WC : COHBUF_CACHE_CACHED,
				       "iio-dmabuf", &out))
			d->fd = out.fd;
	}
	close(dev);
	if (d->fd < 0)
		return "the dma-buf allocation failed";
	d->map = mmap(NULL, DBUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (d->map == MAP_FAILED)
		return "mmap of the dma-buf failed";
	return NULL;
}

static void dbuf_free(struct dbuf *d)
{
	if (d->map != MAP_FAILED)
		munmap(d->map, DBUF_SIZE);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->map = MAP_FAILED;
}

/* A sync_file of the fences a reader of @dbuf waits for, or -errno. */
static int dbuf_write_fence(int dbuf)
{
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };

	return ioctl(dbuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e) ? -errno : e.fd;
}

/* A sync_file's status: 1 signalled, 0 pending, -errno signalled with it. */
static int sync_file_status(int sf)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(sf, SYNC_IOC_FILE_INFO, &info))
		return -1000 - errno;
	return info.status;
}

/*
 * Read @frames scans in place, between SYNC START and END, against the
 * payload from @first: 0 if every sample is right, else the bad sample
 * + 1 (or -1 if a sync failed).
 */
static long dbuf_verify(struct dbuf *d, __u64 first, __u32 frames)
{
	size_t bad = 0;
	int ret;

	if (dbuf_sync(d->fd, DMA_BUF_SYNC_START))
		return -1;
	ret = cohbuf_stream_verify(d->map, first, frames, NR_CHANNELS,
				   COHBUF_STREAM_FMT_ADC12, &bad);
	if (dbuf_sync(d->fd, DMA_BUF_SYNC_END))
		return -1;
	return ret ? (long)bad + 1 : 0;
}

/*
 * Two blocks of @kind: the first gets frames 0..511 (a whole page), the
 * second bytes_used of 100 scans, frames 512..611; each fence signals
 * when its block is full and not before; every sample is verified in
 * place; then frames that find no block are lost.
 */
static void dmabuf_fill_two_blocks(struct __test_metadata *_metadata, int num,
				   int fd, enum dbuf_kind kind)
{
	const char *why = iio_dmabuf_missing(num);
	struct dbuf a, b;

	if (why)
		SKIP(return, "%s", why);
	why = dbuf_alloc(&a, kind);
	if (!why)
		why = dbuf_alloc(&b, kind);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, iio_dmabuf_ioctl(fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, a.fd));
	ASSERT_EQ(0, iio_dmabuf_ioctl(fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, b.fd));
	EXPECT_EQ(2, iio_read(num, "buffer0/dmabufs_attached"));
	ASSERT_EQ(0, iio_enqueue(fd, a.fd, DBUF_SIZE, 0));
	ASSERT_EQ(0, iio_enqueue(fd, b.fd, 100 * FRAME_BYTES, 0));
	EXPECT_EQ(2, iio_read(num, "buffer0/dmabufs_queued"));
	ASSERT_EQ(0, iio_write(num, "buffer0/enable", 1));
	EXPECT_EQ(0, dbuf_ready(a.fd, 0));

	ASSERT_EQ(0, iio_advance(num, DBUF_FRAMES - 1));
	EXPECT_EQ(0, dbuf_ready(a.fd, 0));
	ASSERT_EQ(0, iio_advance(num, 1 + 60));
	EXPECT_EQ(1, dbuf_ready(a.fd, 1000));
	EXPECT_EQ(0, dbuf_ready(b.fd, 0));
	EXPECT_EQ(0, dbuf_verify(&a, 0, DBUF_FRAMES));
	ASSERT_EQ(0, iio_advance(num, 40));
	EXPECT_EQ(1, dbuf_ready(b.fd, 1000));
	EXPECT_EQ(0, dbuf_verify(&b, DBUF_FRAMES, 100));
	EXPECT_EQ(0, iio_read(num, "buffer0/frames_lost"));
	EXPECT_EQ(0, iio_read(num, "buffer0/dmabufs_queued"));

	/* No block enqueued: lost, and counted as the read path counts them. */
	ASSERT_EQ(0, iio_advance(num, 7));
	EXPECT_EQ(DBUF_FRAMES + 100 + 7, iio_read(num, "buffer0/frames_produced"));
	EXPECT_EQ(7, iio_read(num, "buffer0/frames_lost"));
	/* The block gets the frames after the gap. */
	ASSERT_EQ(0, iio_enqueue(fd, b.fd, 10 * FRAME_BYTES, 0));
	ASSERT_EQ(0, iio_advance(num, 10));
	EXPECT_EQ(1, dbuf_ready(b.fd, 1000));
	EXPECT_EQ(0, dbuf_verify(&b, DBUF_FRAMES + 107, 10));

	ASSERT_EQ(0, iio_write(num, "buffer0/enable", 0));
	EXPECT_EQ(0, iio_dmabuf_ioctl(fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, a.fd));
	EXPECT_EQ(0, iio_dmabuf_ioctl(fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, b.fd));
	EXPECT_EQ(0, iio_wait_attr(num, "buffer0/dmabufs_attached", 0));
	dbuf_free(&a);
	dbuf_free(&b);
}

TEST_F(iio, dmabuf_cached_cohbuf_blocks_hold_the_payload)
{
	if (iio_cached_reported())
		SKIP(return, "%s", IIO_CACHED_REPORTED);
	dmabuf_fill_two_blocks(_metadata, self->num, self->fd, DBUF_CACHED);
}

TEST_F(iio, dmabuf_wc_cohbuf_blocks_hold_the_payload)
{
	dmabuf_fill_two_blocks(_metadata, self->num, self->fd, DBUF_WC);
}

TEST_F(iio, dmabuf_system_heap_blocks_hold_the_payload)
{
	if (test_heap_sync_faults())
		SKIP(return, "%s", HEAP_SYNC_FAULTS);
	dmabuf_fill_two_blocks(_metadata, self->num, self->fd, DBUF_SYSTEM);
}

#define NR_BLOCKS	8
#define BLOCK_FRAMES	64

/*
 * Eight blocks in flight complete in the order they were enqueued, each
 * with the next 64 frames, whatever the sizes of the clock's steps; and
 * again when they are enqueued a second time.
 */
TEST_F(iio, dmabuf_many_blocks_in_flight_complete_in_order)
{
	const char *why = iio_dmabuf_missing(self->num);
	struct dbuf d[NR_BLOCKS];
	__u64 total = 0;
	int i, round;

	if (why)
		SKIP(return, "%s", why);
	for (i = 0; i < NR_BLOCKS; i++) {
		why = dbuf_alloc(&d[i], DBUF_CACHED);
		if (why)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, d[i].fd));
	}
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	for (round = 0; round < 2; round++) {
		__u64 first = total;

		for (i = 0; i < NR_BLOCKS; i++)
			ASSERT_EQ(0, iio_enqueue(self->fd, d[i].fd, BLOCK_FRAMES * FRAME_BYTES, 0));
		EXPECT_EQ(NR_BLOCKS, iio_read(self->num, "buffer0/dmabufs_queued"));
		while (total - first < NR_BLOCKS * BLOCK_FRAMES) {
			__u64 done;

			ASSERT_EQ(0, iio_advance(self->num, 24));
			total += 24;
			done = (total - first) / BLOCK_FRAMES;
			for (i = 0; i < NR_BLOCKS; i++)
				ASSERT_EQ((__u64)i < done, dbuf_ready(d[i].fd, 0))
					TH_LOG("round %d, %llu frames: block %d", round,
					       (unsigned long long)total, i);
		}
		for (i = 0; i < NR_BLOCKS; i++)
			EXPECT_EQ(0, dbuf_verify(&d[i], first + i * BLOCK_FRAMES, BLOCK_FRAMES))
				TH_LOG("round %d block %d", round, i);
	}
	/* Steps of 24 overshoot each round's 512 frames: those found no block. */
	EXPECT_EQ(total - 2 * NR_BLOCKS * BLOCK_FRAMES, iio_read(self->num, "buffer0/frames_lost"));
	for (i = 0; i < NR_BLOCKS; i++)
		dbuf_free(&d[i]);
}

/* Each misuse gets the errno the IIO core (or upstream's DMA buffers) gives. */
TEST_F(iio, dmabuf_bad_input_gets_upstreams_errno)
{
	const char *why = iio_dmabuf_missing(self->num);
	__u16 scan[NR_CHANNELS];
	struct dbuf a, b;
	char c = 0;
	int sf;

	if (why)
		SKIP(return, "%s", why);
	why = dbuf_alloc(&a, DBUF_CACHED);
	if (!why)
		why = dbuf_alloc(&b, DBUF_CACHED);
	if (why)
		SKIP(return, "%s", why);

	/* Not a dma-buf; not attached. */
	EXPECT_EQ(-EINVAL, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, self->fd));
	EXPECT_EQ(-EBADF, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, -1));
	EXPECT_EQ(-EPERM, iio_enqueue(self->fd, a.fd, DBUF_SIZE, 0));
	EXPECT_EQ(-EPERM, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, a.fd));

	/* Attach twice. */
	ASSERT_EQ(0, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, a.fd));
	EXPECT_EQ(-EBUSY, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, a.fd));
	EXPECT_EQ(1, iio_read(self->num, "buffer0/dmabufs_attached"));

	/* bytes_used 0, beyond the dma-buf; unknown flags; CYCLIC on input. */
	EXPECT_EQ(-EINVAL, iio_enqueue(self->fd, a.fd, 0, 0));
	EXPECT_EQ(-EINVAL, iio_enqueue(self->fd, a.fd, DBUF_SIZE + 1, 0));
	EXPECT_EQ(-EINVAL, iio_enqueue(self->fd, a.fd, DBUF_SIZE, 1u << 1));
	EXPECT_EQ(-EINVAL, iio_enqueue(self->fd, a.fd, DBUF_SIZE, IIO_BUFFER_DMABUF_CYCLIC));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/dmabufs_queued"));
	/* The wrong direction: this is an input buffer, it has no write(). */
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);

	/* Mixing the paths: read() with a DMABUF attached. */
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);	/* less than a scan is checked first */
	EXPECT_EQ(-EBUSY, iio_read_frames(self->fd, scan, 1, FRAME_BYTES));

	/* A block already enqueued (non-blocking fd: its fence is pending). */
	ASSERT_EQ(0, iio_enqueue(self->fd, a.fd, DBUF_SIZE, 0));
	EXPECT_EQ(-EBUSY, iio_enqueue(self->fd, a.fd, DBUF_SIZE, 0));
	EXPECT_EQ(1, iio_read(self->num, "buffer0/dmabufs_queued"));

	/* Detach while enqueued succeeds; the block lives on until its fence. */
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	EXPECT_EQ(0, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, a.fd));
	EXPECT_EQ(-EPERM, iio_enqueue(self->fd, a.fd, DBUF_SIZE, 0));
	EXPECT_EQ(1, iio_read(self->num, "buffer0/dmabufs_attached"));
	ASSERT_EQ(0, iio_advance(self->num, DBUF_FRAMES));
	EXPECT_EQ(1, dbuf_ready(a.fd, 1000));
	EXPECT_EQ(0, dbuf_verify(&a, 0, DBUF_FRAMES));
	EXPECT_EQ(0, iio_wait_attr(self->num, "buffer0/dmabufs_attached", 0));

	/* A disable completes what is still enqueued with EINTR. */
	ASSERT_EQ(0, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, b.fd));
	/* Less than one scan of the enabled channels (the core signals the fence). */
	EXPECT_EQ(-EINVAL, iio_enqueue(self->fd, b.fd, FRAME_BYTES - 1, 0));
	ASSERT_EQ(0, iio_enqueue(self->fd, b.fd, DBUF_SIZE, 0));
	sf = dbuf_write_fence(b.fd);
	ASSERT_LE(0, sf) TH_LOG("EXPORT_SYNC_FILE: %s", strerror(-sf));
	ASSERT_EQ(0, iio_advance(self->num, 5));
	EXPECT_EQ(0, sync_file_status(sf));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	EXPECT_EQ(1, dbuf_ready(b.fd, 1000));
	EXPECT_EQ(-EINTR, sync_file_status(sf));
	close(sf);
	EXPECT_EQ(0, iio_read(self->num, "buffer0/dmabufs_queued"));

	/* Mixing the other way: enabled for read(), attach is refused. */
	ASSERT_EQ(0, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_DETACH_IOCTL, b.fd));
	EXPECT_EQ(0, iio_wait_attr(self->num, "buffer0/dmabufs_attached", 0));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	EXPECT_EQ(-EBUSY, iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, b.fd));
	ASSERT_EQ(0, iio_advance(self->num, 1));
	EXPECT_EQ(0, iio_read_frames(self->fd, scan, 1, FRAME_BYTES));
	dbuf_free(&a);
	dbuf_free(&b);
}

/*
 * A process killed with blocks enqueued: the blocks outlive it and its
 * buffer fd, and hold the module; the next disable completes them, and
 * then nothing is left attached (the module would not unload otherwise:
 * zz_ checks that).
 */
TEST_F(iio, dmabuf_sigkill_with_blocks_enqueued_leaks_nothing)
{
	const char *why = iio_dmabuf_missing(self->num);
	int pipefd[2], status, i;
	struct dbuf d[4];
	pid_t pid;
	char c;

	if (why)
		SKIP(return, "%s", why);
	for (i = 0; i < 4; i++) {
		why = dbuf_alloc(&d[i], DBUF_CACHED);
		if (why)
			SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, pipe(pipefd));
	pid = test_fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < 4; i++)
			if (iio_dmabuf_ioctl(self->fd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, d[i].fd) ||
			    iio_enqueue(self->fd, d[i].fd, DBUF_SIZE, 0))
				_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	/* The child's copy of the buffer fd is the last one. */
	close(self->fd);
	self->fd = -1;
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 1));
	ASSERT_EQ(0, iio_advance(self->num, DBUF_FRAMES + 10));
	EXPECT_EQ(1, dbuf_ready(d[0].fd, 1000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	/* Its fd is closed, its blocks are still enqueued and still fill. */
	EXPECT_EQ(3, iio_read(self->num, "buffer0/dmabufs_queued"));
	/* They hold the module: nothing but them has it open now. */
	EXPECT_EQ(-1, test_unload_module("cohbuf_iio"));
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, iio_advance(self->num, DBUF_FRAMES));
	EXPECT_EQ(1, dbuf_ready(d[1].fd, 1000));
	EXPECT_EQ(0, dbuf_verify(&d[1], DBUF_FRAMES, DBUF_FRAMES));
	EXPECT_EQ(0, dbuf_ready(d[2].fd, 0));
	ASSERT_EQ(0, iio_write(self->num, "buffer0/enable", 0));
	EXPECT_EQ(1, dbuf_ready(d[2].fd, 1000));
	EXPECT_EQ(1, dbuf_ready(d[3].fd, 1000));
	EXPECT_EQ(0, iio_read(self->num, "buffer0/dmabufs_queued"));
	EXPECT_EQ(0, iio_wait_attr(self->num, "buffer0/dmabufs_attached", 0));
	for (i = 0; i < 4; i++)
		dbuf_free(&d[i]);
	self->fd = iio_buffer_fd(self->num, O_NONBLOCK);
	ASSERT_LE(0, self->fd);
}

/*
 * Last: cohbuf_iio holds the importer, and is held while the IIO device
 * is open; closed, it unloads, and with it the IIO device.
 */
TEST_F(iio, zz_unloads_once_closed)
{
	char path[64];
	int dev;

	snprintf(path, sizeof(path), "/dev/iio:device%d", self->num);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, test_unload_module("cohbuf_importer"));
	dev = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, test_unload_module("cohbuf_iio"));
	close(dev);
	ASSERT_EQ(0, test_unload_module("cohbuf_iio")) TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_FALSE(test_module_loaded("cohbuf_iio"));
	EXPECT_EQ(-1, iio_find_device());
	EXPECT_TRUE(test_module_loaded("cohbuf_importer"));
}

TEST_HARNESS_MAIN
