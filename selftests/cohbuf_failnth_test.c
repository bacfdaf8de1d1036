// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection on every allocation of every ioctl of both modules, of
 * opening their device nodes and of mmap() on a cohbuf dma-buf.  With the
 * kernel's fail-nth interface (/proc/thread-self/fail-nth, which drives
 * failslab and fail_page_alloc for this thread only) each call is made
 * with its 1st, 2nd, ... Nth fault-injection point failing, until a call
 * runs with the counter left over, i.e. without reaching a failure point.
 * Each failed call must return a documented error and leave nothing
 * behind: no file descriptor, no mapping, no buffer, import, job or byte
 * in the modules' accounting.  A call that succeeds although a point failed
 * (an allocation with a fallback) is undone and the walk goes on.  The
 * number of points is printed per call as a TAP diagnostic.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and
 * FAULT_INJECTION_DEBUG_FS (the rig's debug kernel); skips elsewhere.
 */

#include <poll.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "stream_test.h"
#include "vgem_test.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc/"
/*
 * The slab cache spared.  CONFIG_DMA_API_DEBUG tracks the cachelines of
 * every mapping in a radix tree whose nodes it allocates with GFP_ATOMIC,
 * and a failure there disables the DMA-API checks for the rest of the boot
 * ("cacheline tracking ENOMEM, dma-debug disabled"): not a failure of ours
 * to inject.  The rig boots the debug kernel with
 * "slub_debug=A;-,radix_tree_node", which marks every other cache for
 * failslab's cache filter, and the test turns the filter on.  The cost:
 * xa_alloc() of the importer's handle table takes its nodes from the same
 * cache, so that point is never failed here.
 */
#define SLAB_MARK(c)	"/sys/kernel/slab/" c "/failslab"
#define SLAB_SPARED	"radix_tree_node"
#define SLAB_MARKED	"kmalloc-64"	/* one the module allocates from */
#define MAX_POINTS	2000	/* far more than any of these calls has */
#define WAIT_NS		(20000 * MS)
#define SNAP_LEN	16384

/* What a failed call must leave exactly as it was. */
struct snapshot {
	int fds;
	int maps;
	long long live_buffers, live_bytes;
	long long imports, releases, submitted;
	long long streams, stream_regions, stream_rings;	/* live */
	char buffers[SNAP_LEN];		/* cohbuf debugfs: every buffer */
	char imp_imports[SNAP_LEN];	/* importer debugfs: every import */
	char imp_jobs[SNAP_LEN];	/* importer debugfs: every job */
};

struct fn_state {
	int dev, imp, nth;
	int buf;			/* a 9 MiB (three chunk) buffer, */
	__u32 handle;			/* imported */
	__u32 src_handle;		/* a second buffer for COPY */
	int src_buf;
	int fresh_buf;			/* one chunk, never imported */
	int drm;			/* vgem, for an unsignalled fence */
	int in_fence;			/* its sync_file, or -1 */
	__u32 vgem_fence;
	__u64 job;			/* WAIT: the job to reap */
	int newfd;			/* what a successful call made */
	void *map;
	__u32 new_handle;
	int stream;			/* QUEUE: the stream, or -1 */
	int file;			/* WRITE_FILE: a memfd, or -1 */
	struct snapshot before, after;
};

static void take_snapshot(struct snapshot *s)
{
	const char *imp_stats = IMPORTER_DEBUGFS "/stats";

	s->fds = test_count_fds();
	s->maps = test_count_lines("/proc/self/maps", NULL);
	s->live_buffers = cohbuf_stat("live_buffers");
	s->live_bytes = cohbuf_stat("live_bytes");
	s->imports = read_number(imp_stats, "imports");
	s->releases = read_number(imp_stats, "releases");
	s->submitted = read_number(imp_stats, "submitted");
	s->streams = read_number(imp_stats, "streams");
	s->stream_regions = read_number(imp_stats, "stream_regions");
	s->stream_rings = read_number(imp_stats, "stream_rings");
	read_text(COHBUF_DEBUGFS "/buffers", s->buffers, sizeof(s->buffers));
	read_text(IMPORTER_DEBUGFS "/imports", s->imp_imports, sizeof(s->imp_imports));
	read_text(IMPORTER_DEBUGFS "/jobs", s->imp_jobs, sizeof(s->imp_jobs));
}

/*
 * One call under test.  prepare (optional) runs before the snapshot,
 * call runs with fail-nth armed and returns 0 or -errno, undo (optional)
 * cleans up after a successful call, and after_fail (optional) after a
 * failed one, once the snapshot was compared.
 */
struct fn_call {
	const char *name;
	void (*prepare)(struct __test_metadata *_metadata, struct fn_state *self);
	int (*call)(struct fn_state *self);
	void (*undo)(struct __test_metadata *_metadata, struct fn_state *self);
	void (*after_fail)(struct __test_metadata *_metadata, struct fn_state *self);
	int errnos[4];			/* what the uapi allows it to fail with */
	int allocates_nothing;		/* 0 points is right, not a dead injection */
	int transient_import;		/* may import and release again when it
					 * fails (a stream's QUEUE): only the
					 * live imports must stay the same
					 */
	int syncs;			/* may sync the buffer before it fails:
					 * the buffers' synced_cpu= and
					 * synced_dev= counters are history,
					 * not state, and are not compared
					 */
};

static int arm(int nth, int n)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%d", n);

	return pwrite(nth, text, len, 0) == len ? 0 : -1;
}

static int left_over(int nth)
{
	char text[16] = "";
	ssize_t n = pread(nth, text, sizeof(text) - 1, 0);

	return n > 0 ? atoi(text) : -1;
}

static int allowed(const struct fn_call *c, int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c->errnos); i++)
		if (c->errnos[i] && c->errnos[i] == err)
			return 1;
	return 0;
}

/* @text without the " synced_cpu=N synced_dev=N" of each buffer line. */
static void strip_synced(char *text)
{
	char *p = text, *end;

	while ((p = strstr(p, " synced_cpu="))) {
		end = strstr(p, " pid=");
		if (!end)
			break;
		memmove(p, end, strlen(end) + 1);
	}
}

static void compare(struct __test_metadata *_metadata, const struct fn_call *c, int n,
		    struct snapshot *a, struct snapshot *b)
{
	const char *name = c->name;

	EXPECT_EQ(a->fds, b->fds) TH_LOG("%s, point %d: a file descriptor was left", name, n);
	EXPECT_EQ(a->maps, b->maps) TH_LOG("%s, point %d: a mapping was left", name, n);
	EXPECT_EQ(a->live_buffers, b->live_buffers)
		TH_LOG("%s, point %d: cohbuf live_buffers changed", name, n);
	EXPECT_EQ(a->live_bytes, b->live_bytes)
		TH_LOG("%s, point %d: cohbuf live_bytes changed", name, n);
	if (c->transient_import) {
		EXPECT_EQ(a->imports - a->releases, b->imports - b->releases)
			TH_LOG("%s, point %d: an import was left", name, n);
	} else {
		EXPECT_EQ(a->imports, b->imports)
			TH_LOG("%s, point %d: importer imports changed", name, n);
		EXPECT_EQ(a->releases, b->releases)
			TH_LOG("%s, point %d: importer releases changed", name, n);
	}
	EXPECT_EQ(a->streams, b->streams) TH_LOG("%s, point %d: a stream was left", name, n);
	EXPECT_EQ(a->stream_regions, b->stream_regions)
		TH_LOG("%s, point %d: a stream region was left", name, n);
	EXPECT_EQ(a->stream_rings, b->stream_rings)
		TH_LOG("%s, point %d: a stream ring was left", name, n);
	EXPECT_EQ(a->submitted, b->submitted)
		TH_LOG("%s, point %d: importer submitted changed", name, n);
	if (c->syncs) {
		strip_synced(a->buffers);
		strip_synced(b->buffers);
	}
	EXPECT_STREQ(a->buffers, b->buffers)
		TH_LOG("%s, point %d: cohbuf's buffers changed", name, n);
	EXPECT_STREQ(a->imp_imports, b->imp_imports)
		TH_LOG("%s, point %d: the importer's imports changed", name, n);
	EXPECT_STREQ(a->imp_jobs, b->imp_jobs)
		TH_LOG("%s, point %d: the importer's jobs changed", name, n);
}

static void drive(struct __test_metadata *_metadata, struct fn_state *self,
		  const struct fn_call *c)
{
	int n, ret, left, failed = 0, absorbed = 0;

	for (n = 1; n <= MAX_POINTS; n++) {
		if (c->prepare)
			c->prepare(_metadata, self);
		take_snapshot(&self->before);
		ASSERT_EQ(0, arm(self->nth, n));
		ret = c->call(self);
		left = left_over(self->nth);
		ASSERT_EQ(0, arm(self->nth, 0));
		ASSERT_LE(0, left);
		if (ret == 0) {
			if (c->undo)
				c->undo(_metadata, self);
			if (left > 0)
				break;	/* no point was reached: all were driven */
			absorbed++;
			continue;
		}
		/* A failure with the counter left over was not injected. */
		ASSERT_EQ(0, left) TH_LOG("%s, point %d: %s without an injected fault",
					  c->name, n, strerror(-ret));
		ASSERT_TRUE(allowed(c, -ret))
			TH_LOG("%s, point %d: undocumented error %s", c->name, n, strerror(-ret));
		take_snapshot(&self->after);
		compare(_metadata, c, n, &self->before, &self->after);
		if (c->after_fail)
			c->after_fail(_metadata, self);
		failed++;
		if (_metadata->exit_code != KSFT_PASS)
			return;
	}
	ASSERT_GE(MAX_POINTS, n) TH_LOG("%s never succeeded within %d failure points",
					c->name, MAX_POINTS);
	/* A call that allocates must have been failed at least once. */
	if (!c->allocates_nothing)
		ASSERT_LT(1, n) TH_LOG("%s: no failure point reached: is fail-nth working?",
				       c->name);
	printf("# %s: %d failure points driven (%d %s, %d %s)\n", c->name, n - 1,
	       failed, "failed the call cleanly", absorbed, "absorbed by a fallback");
	fflush(stdout);
}

/* ---- cohbuf.ko ---- */

static int do_alloc(struct fn_state *self, __u64 size, __u32 flags, __u32 mode,
		    const char *name)
{
	struct cohbuf_alloc_data d;

	self->newfd = -1;
	if (cohbuf_alloc_full(self->dev, size, O_RDWR | O_CLOEXEC, flags, mode, name, &d))
		return -errno;
	self->newfd = (int)d.fd;
	return 0;
}

static int alloc_page(struct fn_state *self)
{
	return do_alloc(self, 4 * KIB, 0, COHBUF_CACHE_CACHED, NULL);
}

static int alloc_chunked(struct fn_state *self)
{
	return do_alloc(self, 9 * MIB, 0, COHBUF_CACHE_CACHED, NULL);
}

static int alloc_contig(struct fn_state *self)
{
	return do_alloc(self, 1 * MIB, COHBUF_ALLOC_CONTIGUOUS, COHBUF_CACHE_CACHED, NULL);
}

static int alloc_wc_named(struct fn_state *self)
{
	return do_alloc(self, 256 * KIB, 0, COHBUF_CACHE_WC, "failnth");
}

static int alloc_rdonly(struct fn_state *self)
{
	struct cohbuf_alloc_data d;

	self->newfd = -1;
	if (cohbuf_alloc_full(self->dev, 64 * KIB, O_RDONLY, 0, COHBUF_CACHE_CACHED, NULL, &d))
		return -errno;
	self->newfd = (int)d.fd;
	return 0;
}

static void close_newfd(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_LE(0, self->newfd);
	ASSERT_EQ(0, close(self->newfd));
	self->newfd = -1;
}

static int info(struct fn_state *self)
{
	struct cohbuf_chunk_info chunks[8];
	struct cohbuf_info_data d;

	return cohbuf_exporter_info(self->dev, self->buf, &d, chunks, 8);
}

static int open_cohbuf(struct fn_state *self)
{
	self->newfd = cohbuf_dev_open();
	return self->newfd < 0 ? -errno : 0;
}

static int mmap_buf(struct fn_state *self)
{
	self->map = mmap(NULL, 9 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, self->buf, 0);
	return self->map == MAP_FAILED ? -errno : 0;
}

static void unmap_buf(struct __test_metadata *_metadata, struct fn_state *self)
{
	unsigned char *p = self->map;

	/* The mapping works: the last page of the last chunk is there. */
	p[9 * MIB - 1] = 0x5a;
	__sync_synchronize();
	ASSERT_EQ(0x5a, p[9 * MIB - 1]);
	ASSERT_EQ(0, munmap(self->map, 9 * MIB));
	self->map = MAP_FAILED;
}

/* ---- cohbuf_importer.ko ---- */

static int open_importer(struct fn_state *self)
{
	self->newfd = cohbuf_importer_open();
	return self->newfd < 0 ? -errno : 0;
}

static int import_fd(struct fn_state *self, int fd)
{
	return cohbuf_importer_import(self->imp, fd, &self->new_handle, NULL);
}

/* A buffer already imported: the import shares its mapping. */
static int import(struct fn_state *self)
{
	return import_fd(self, self->buf);
}

/*
 * The whole attach and map path of cohbuf's exporter, on a buffer of one
 * chunk: its vmap allocates nothing.  A vmap that fails makes the dma-buf
 * core warn (WARN_ON_ONCE in dma_buf_vmap()), which the health gate would
 * count as a kernel fault, so no exporter's vmap is failed here; the same
 * holds for every foreign exporter, whose imports are therefore not
 * driven either.
 */
static int import_fresh(struct fn_state *self)
{
	return import_fd(self, self->fresh_buf);
}

static void import_new(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_EQ(0, import(self));
}

static int release(struct fn_state *self)
{
	return cohbuf_importer_release(self->imp, self->new_handle);
}

static void release_new(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_EQ(0, release(self));
}

static int submit(struct fn_state *self, struct cohbuf_imp_submit_data *d)
{
	int ret;

	self->job = 0;
	self->newfd = -1;
	ret = cohbuf_importer_submit(self->imp, d);
	if (ret)
		return ret;
	self->job = d->job_id;
	if (d->flags & COHBUF_IMP_SUBMIT_OUT_FENCE)
		self->newfd = d->out_fence_fd;
	return 0;
}

static int submit_fill(struct fn_state *self)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 4 * KIB, 64 * KIB, 0xa5a5a5a5);

	return submit(self, &d);
}

static int submit_fill_random_fence(struct fn_state *self)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, 9 * MIB, 0);

	d.flags = COHBUF_IMP_SUBMIT_RANDOM | COHBUF_IMP_SUBMIT_OUT_FENCE;
	d.seed = 7;
	return submit(self, &d);
}

static int submit_copy(struct fn_state *self)
{
	struct cohbuf_imp_submit_data d = imp_copy(self->handle, 8 * MIB, self->src_handle,
						   0, 64 * KIB);

	return submit(self, &d);
}

static int submit_checksum(struct fn_state *self)
{
	struct cohbuf_imp_submit_data d = imp_checksum(self->handle, 0, 9 * MIB);

	d.engine = 1;
	return submit(self, &d);
}

/* An unsignalled foreign fence for the next SUBMIT to wait for. */
static void make_in_fence(struct __test_metadata *_metadata, struct fn_state *self)
{
	self->in_fence = vgem_sync_file(self->drm, &self->vgem_fence);
	ASSERT_LE(0, self->in_fence) TH_LOG("vgem fence: %s", strerror(-self->in_fence));
}

static void signal_in_fence(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_EQ(0, cohbuf_vgem_fence_signal(self->drm, self->vgem_fence));
	close(self->in_fence);
	self->in_fence = -1;
}

/* A job that must wait: fence callbacks and the dependency timer. */
static int submit_behind_fence(struct fn_state *self)
{
	struct cohbuf_imp_submit_data d = imp_fill(self->handle, 0, 64 * KIB, 0x5a5a5a5a);

	d.flags = COHBUF_IMP_SUBMIT_IN_FENCE;
	d.in_fence_fd = self->in_fence;
	return submit(self, &d);
}

static void reap(struct __test_metadata *_metadata, struct fn_state *self);

static void signal_and_reap(struct __test_metadata *_metadata, struct fn_state *self)
{
	signal_in_fence(_metadata, self);
	reap(_metadata, self);
}

/* Reap the job a successful SUBMIT queued; close its out-fence. */
static void reap(struct __test_metadata *_metadata, struct fn_state *self)
{
	struct cohbuf_imp_wait_data w = {
		.job_id = self->job, .deadline_ns = monotonic_ns() + WAIT_NS,
	};

	ASSERT_NE(0, self->job);
	ASSERT_EQ(0, ioctl(self->imp, COHBUF_IMP_IOCTL_WAIT, &w));
	EXPECT_EQ(0, w.status);
	if (self->newfd >= 0)
		close(self->newfd);
	self->newfd = -1;
	self->job = 0;
}

/* WAIT: a completed job (the context polls readable), which the call reaps. */
static void submit_done(struct __test_metadata *_metadata, struct fn_state *self)
{
	struct pollfd p = { .fd = self->imp, .events = POLLIN };

	ASSERT_EQ(0, submit_fill(self));
	ASSERT_EQ(1, poll(&p, 1, 20000));
}

static int wait_job(struct fn_state *self)
{
	struct cohbuf_imp_wait_data w = {
		.job_id = self->job, .deadline_ns = monotonic_ns() + WAIT_NS,
	};

	return ioctl(self->imp, COHBUF_IMP_IOCTL_WAIT, &w) ? -errno : 0;
}

/* ---- streams of cohbuf_importer.ko ---- */

#define FN_BLOCK	256	/* frames of 8 bytes (ADC12, 4 channels) */

static int create_stream(struct fn_state *self)
{
	struct cohbuf_stream_create_data p = stream_params(FN_BLOCK);
	int s = stream_create(self->imp, &p);

	self->newfd = s < 0 ? -1 : s;
	return s < 0 ? s : 0;
}

/* A ring stream whose data area is four block records of the imported buffer. */
static int create_ring_stream(struct fn_state *self)
{
	struct cohbuf_stream_create_data p = stream_params(FN_BLOCK);
	int s;

	p.mode = COHBUF_STREAM_MODE_RING;
	p.ring_fd = self->buf;
	p.ring_length = 4 * (COHBUF_RING_BLOCK_SIZE_VER0 + FN_BLOCK * 8);
	s = stream_create(self->imp, &p);
	self->newfd = s < 0 ? -1 : s;
	return s < 0 ? s : 0;
}

/* QUEUE: on a stream of its own, made before the snapshot. */
static void make_stream(struct __test_metadata *_metadata, struct fn_state *self)
{
	struct cohbuf_stream_create_data p = stream_params(FN_BLOCK);

	self->stream = stream_create(self->imp, &p);
	ASSERT_LE(0, self->stream);
}

/* A block of the imported 9 MiB buffer, with an out-fence. */
static int queue_region_out_fence(struct fn_state *self)
{
	struct cohbuf_stream_queue_data d = {
		.dmabuf_fd = self->buf, .flags = COHBUF_STREAM_QUEUE_OUT_FENCE,
		.length = FN_BLOCK * 8, .cookie = 1,
	};
	int ret = stream_queue_full(self->stream, &d);

	self->newfd = ret ? -1 : d.out_fence_fd;
	return ret;
}

static void close_stream(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_EQ(0, close(self->stream));
	self->stream = -1;
}

/* STOP gives the queued region back, its fence cancelled. */
static void stop_stream(struct __test_metadata *_metadata, struct fn_state *self)
{
	struct cohbuf_stream_record rec;

	ASSERT_EQ(0, stream_stop(self->stream));
	ASSERT_EQ(0, stream_dequeue(self->stream, 0, &rec));
	EXPECT_EQ(-ECANCELED, rec.status);
	if (self->newfd >= 0)
		close_newfd(_metadata, self);
	close_stream(_metadata, self);
}

/* A block of the never-imported buffer: QUEUE attaches and maps it. */
static int queue_region_fresh(struct fn_state *self)
{
	self->newfd = -1;
	return stream_queue(self->stream, self->fresh_buf, 0, FN_BLOCK * 8, 2);
}

/* ---- COHBUF_IOCTL_WRITE_FILE ---- */

/* A fresh memfd (tmpfs) to write to, made before the snapshot. */
static void make_file(struct __test_metadata *_metadata, struct fn_state *self)
{
	self->file = memfd_create("cohbuf-failnth", MFD_CLOEXEC);
	ASSERT_LE(0, self->file);
}

static void close_file(struct __test_metadata *_metadata, struct fn_state *self)
{
	ASSERT_EQ(0, close(self->file));
	self->file = -1;
}

/* 16 KiB across the first two chunks of the 9 MiB buffer, into the page cache. */
static int write_file(struct fn_state *self)
{
	__s64 n = cohbuf_exporter_write_file(self->dev, self->buf, 4 * MIB - 8 * KIB,
					     16 * KIB, self->file, 4096);

	return n < 0 ? (int)n : 0;
}

FIXTURE(fn) {
	struct fn_state s;
};

FIXTURE_VARIANT(fn) {
	struct fn_call c;
	int needs_vgem;
};

/* The errors each call may fail with, from the uapi headers and open(2)/mmap(2). */
FIXTURE_VARIANT_ADD(fn, cohbuf_open)
{
	.c = { .name = "cohbuf_open",
		.call = open_cohbuf,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_alloc_page)
{
	.c = { .name = "cohbuf_alloc_page",
		.call = alloc_page,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_alloc_chunked)
{
	.c = { .name = "cohbuf_alloc_chunked",
		.call = alloc_chunked,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_alloc_contiguous)
{
	.c = { .name = "cohbuf_alloc_contiguous",
		.call = alloc_contig,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_alloc_wc_named)
{
	.c = { .name = "cohbuf_alloc_wc_named",
		.call = alloc_wc_named,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_alloc_rdonly)
{
	.c = { .name = "cohbuf_alloc_rdonly",
		.call = alloc_rdonly,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_info)
{
	.c = { .name = "cohbuf_info",
		.call = info,
		.allocates_nothing = 1,
	},
};

FIXTURE_VARIANT_ADD(fn, cohbuf_mmap)
{
	.c = { .name = "cohbuf_mmap",
		.call = mmap_buf,
		.undo = unmap_buf,
		.errnos = { ENOMEM, EAGAIN },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_open)
{
	.c = { .name = "importer_open",
		.call = open_importer,
		.undo = close_newfd,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_import)
{
	.c = { .name = "importer_import",
		.call = import_fresh,
		.undo = release_new,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_import_shared)
{
	.c = { .name = "importer_import_shared",
		.call = import,
		.undo = release_new,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_release)
{
	.c = { .name = "importer_release",
		.prepare = import_new,
		.call = release,
		.after_fail = release_new,
		.allocates_nothing = 1,
	},
};

FIXTURE_VARIANT_ADD(fn, importer_submit_fill)
{
	.c = { .name = "importer_submit_fill",
		.call = submit_fill,
		.undo = reap,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_submit_fill_random_out_fence)
{
	.c = { .name = "importer_submit_fill_random_out_fence",
		.call = submit_fill_random_fence,
		.undo = reap,
		.errnos = { ENOMEM, EMFILE },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_submit_behind_foreign_fence)
{
	.c = { .name = "importer_submit_behind_foreign_fence",
		.prepare = make_in_fence,
		.call = submit_behind_fence,
		.undo = signal_and_reap,
		.after_fail = signal_in_fence,
		.errnos = { ENOMEM },
	},
	.needs_vgem = 1,
};

FIXTURE_VARIANT_ADD(fn, importer_submit_copy)
{
	.c = { .name = "importer_submit_copy",
		.call = submit_copy,
		.undo = reap,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_submit_checksum)
{
	.c = { .name = "importer_submit_checksum",
		.call = submit_checksum,
		.undo = reap,
		.errnos = { ENOMEM },
	},
};

FIXTURE_VARIANT_ADD(fn, importer_wait)
{
	.c = { .name = "importer_wait",
		.prepare = submit_done,
		.call = wait_job,
		.after_fail = reap,
		.allocates_nothing = 1,
	},
};

FIXTURE_VARIANT_ADD(fn, stream_create)
{
	.c = { .name = "stream_create",
		.call = create_stream,
		.undo = close_newfd,
		.errnos = { ENOMEM, ENFILE },
	},
};

FIXTURE_VARIANT_ADD(fn, stream_create_ring)
{
	.c = { .name = "stream_create_ring",
		.call = create_ring_stream,
		.undo = close_newfd,
		.errnos = { ENOMEM, ENFILE },
		.transient_import = 1,
	},
};

FIXTURE_VARIANT_ADD(fn, stream_queue_unimported)
{
	.c = { .name = "stream_queue_unimported",
		.prepare = make_stream,
		.call = queue_region_fresh,
		.undo = stop_stream,
		.after_fail = close_stream,
		.errnos = { ENOMEM },
		.transient_import = 1,
		.syncs = 1,
	},
};

/* A partial write (a later page cache page failed) counts as a success. */
FIXTURE_VARIANT_ADD(fn, cohbuf_write_file)
{
	.c = { .name = "cohbuf_write_file",
		.prepare = make_file,
		.call = write_file,
		.undo = close_file,
		.after_fail = close_file,
		.errnos = { ENOMEM },
		.syncs = 1,
	},
};

FIXTURE_VARIANT_ADD(fn, stream_queue_out_fence)
{
	.c = { .name = "stream_queue_out_fence",
		.prepare = make_stream,
		.call = queue_region_out_fence,
		.undo = stop_stream,
		.after_fail = close_stream,
		.errnos = { ENOMEM, EMFILE },
		.transient_import = 1,
	},
};

/*
 * Whether the caches are marked as the rig marks them: SLAB_SPARED not,
 * SLAB_MARKED (and so, with the boot option, all the others) yes.
 */
static bool caches_marked(void)
{
	return read_number(SLAB_MARK(SLAB_SPARED), NULL) == 0 &&
	       read_number(SLAB_MARK(SLAB_MARKED), NULL) == 1;
}

FIXTURE_SETUP(fn)
{
	struct fn_state *st = &self->s;
	static const struct setting_value knobs[] = {
		/* only this thread's fail-nth makes anything fail */
		{ FAILSLAB "probability", .text = "0" },
		{ FAIL_PAGE "probability", .text = "0" },
		/* sleeping allocations too: GFP_KERNEL is what drivers use */
		{ FAILSLAB "ignore-gfp-wait", .text = "N" },
		{ FAIL_PAGE "ignore-gfp-wait", .text = "N" },
		{ FAIL_PAGE "ignore-gfp-highmem", .text = "N" },
		{ FAIL_PAGE "min-order", .text = "0" },
		/* the default (2) dumps a stack: the health gate would trip */
		{ FAILSLAB "verbose", .text = "0" },
		{ FAIL_PAGE "verbose", .text = "0" },
	};
	struct cohbuf_alloc_data alloc;

	st->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (st->nth < 0)
		SKIP(return, "%s: %s (no CONFIG_FAULT_INJECTION in this kernel)",
		     FAIL_NTH, strerror(errno));
	if (access(FAILSLAB, F_OK) || access(FAIL_PAGE, F_OK))
		SKIP(return, "no %s or %s (%s)", FAILSLAB, FAIL_PAGE,
		     "needs FAILSLAB, FAIL_PAGE_ALLOC and FAULT_INJECTION_DEBUG_FS");
	st->dev = cohbuf_dev_open();
	ASSERT_LE(0, st->dev);
	st->imp = cohbuf_importer_open();
	ASSERT_LE(0, st->imp);
	st->buf = test_alloc(st->dev, 9 * MIB);
	ASSERT_LE(0, st->buf);
	st->src_buf = test_alloc(st->dev, 64 * KIB);
	ASSERT_LE(0, st->src_buf);
	ASSERT_EQ(0, cohbuf_importer_import(st->imp, st->buf, &st->handle, NULL));
	ASSERT_NE(0u, st->handle);
	ASSERT_EQ(0, cohbuf_importer_import(st->imp, st->src_buf, &st->src_handle, NULL));
	ASSERT_NE(0u, st->src_handle);
	memset(&alloc, 0, sizeof(alloc));
	ASSERT_EQ(0, cohbuf_alloc_full(st->dev, 1 * MIB, O_RDWR | O_CLOEXEC,
				       COHBUF_ALLOC_CONTIGUOUS, COHBUF_CACHE_CACHED, NULL, &alloc));
	st->fresh_buf = (int)alloc.fd;
	ASSERT_LE(0, st->fresh_buf);
	st->drm = cohbuf_vgem_open();
	st->in_fence = -1;
	st->stream = -1;
	st->file = -1;
	st->newfd = -1;
	st->map = MAP_FAILED;
	/* Last: the harness runs no teardown after a failed setup. */
	ASSERT_EQ(0, settings_push_all(knobs, ARRAY_SIZE(knobs)));
	if (!caches_marked())
		ksft_print_msg("no slub_debug=A;-,%s: every slab cache fails, dma-debug's too\n",
			       SLAB_SPARED);
	else if (setting_push(FAILSLAB "cache-filter", "Y")) {
		EXPECT_EQ(0, settings_pop_all());
		ASSERT_TRUE(0) TH_LOG("failslab cache-filter: %s", strerror(errno));
	}
}

/*
 * In the test's fork parent, after the test's process has ended (and
 * closed its fds): the fault-injection knobs go back, whatever became of
 * the test.
 */
FIXTURE_TEARDOWN_PARENT(fn)
{
	EXPECT_EQ(0, settings_pop_all());
}

TEST_F_TIMEOUT(fn, every_allocation_fails_cleanly, 120)
{
	if (variant->needs_vgem && self->s.drm < 0)
		SKIP(return, "no vgem in this kernel");
	drive(_metadata, &self->s, &variant->c);
}

TEST_HARNESS_MAIN
