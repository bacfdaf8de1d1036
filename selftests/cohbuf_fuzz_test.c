// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer over the whole uapi of cohbuf, its importer and the dma-buf
 * core: random sequences of ALLOC, INFO, mmap/munmap/mremap/mprotect/
 * madvise, DMA_BUF_IOCTL_SYNC, SET_NAME, EXPORT/IMPORT_SYNC_FILE, IMPORT,
 * SUBMIT, WAIT, RELEASE, close/dup2 games and fork() children, on cohbuf
 * buffers and on foreign dma-bufs (vgem, udmabuf, dma-heaps) where the
 * kernel has them.
 *
 * Every result must be a success or an errno documented for the call, and
 * a call whose arguments are known to be invalid must fail.  Pages of a
 * successful mapping are touched; a fault there is a failure.  A model of
 * the live objects is kept, everything is closed at the end, and the
 * debugfs counters of both modules must be back where they started.
 *
 * Each run is bounded in operations and in time and reproducible from its
 * seed, which it prints: COHBUF_FUZZ_SEED, COHBUF_FUZZ_OPS and
 * COHBUF_FUZZ_SECONDS set the seed, the operation count and the time limit
 * of every run (-t NAME or COHBUF_FUZZ_RUN=NAME picks one),
 * COHBUF_FUZZ_TRACE=N prints the operations from index N on and
 * COHBUF_FUZZ_FOREIGN=vgem,vgem-ro,udmabuf,/dev/dma_heap/system,... keeps
 * only the foreign dma-bufs it names (none: COHBUF_FUZZ_FOREIGN=).  The
 * kernel's answers (ETIME or not, ENOMEM or not) steer the model, so a
 * replay on another machine follows the same path only as long as the
 * kernel answers the same.
 */

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <xf86drm.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "vgem_test.h"

#define PAGE		4096UL
#define NFDS		24	/* pool of fds the operations pick from */
#define NMAPS		32	/* mapped regions */
#define NIMPS		24	/* importer handles */
#define NJOBS		64	/* unreaped jobs */
#define NCTX		2	/* importer contexts */
#define NTMPL		8	/* foreign dma-bufs, duplicated into the pool */
#define NKIDS		2	/* children running at once */
#define NVGEM		2	/* unsignalled vgem fences */
#define FZ_IMP_TIMEOUT_MS 20	/* importer timeout_ms for the run */
#define FZ_STR2(x)	#x
#define FZ_STR(x)	FZ_STR2(x)
#define ARGBUF		(16 * 1024 + PAGE)

/* Module parameters for the run, restored afterwards. */
#define FZ_MAX_BUFFER	(1 * MIB)
#define FZ_MAX_TOTAL	(8 * MIB)
#define FZ_CHUNK	(256 * KIB)

#define DEFAULT_SEED	0xc0b0f0220250001ULL
#define DEFAULT_OPS	1000000UL
#define DEFAULT_SECONDS	80.0	/* for the four runs together */

enum fz_fd_kind { FK_FREE, FK_COHBUF, FK_FOREIGN, FK_SYNC, FK_OTHER };

struct fz_fd {
	int fd;
	int kind;
	__u64 size;		/* dma-bufs */
	int rdonly;
	__u32 flags, cache_mode; /* cohbuf */
};

struct fz_map {
	char *addr;		/* NULL: free slot */
	size_t len;
	int prot;
	int cohbuf;
	int shared;
	int touch;		/* pages may be touched */
	int dontfork;
	int rdonly;		/* of a read-only dma-buf */
};

struct fz_imp {
	int ctx;		/* -1: free slot */
	__u32 handle;
	__u64 size;
	int rdonly;
};

struct fz_job {
	int ctx;		/* -1: free slot */
	__u64 id;
	__u32 op;
};

enum fz_kind {
	K_ALLOC, K_INFO, K_CLOSE, K_DUP, K_OTHERFD, K_FOREIGN, K_SYNC,
	K_SETNAME, K_EXPORT_SF, K_IMPORT_SF, K_POLL, K_RAW,
	K_MMAP, K_MUNMAP, K_MPROTECT, K_MREMAP, K_MADVISE, K_TOUCH,
	K_IMPORT, K_RELEASE, K_SUBMIT, K_WAIT, K_REOPEN, K_FORK,
	K_MMAP_FIXED, K_RLIMIT, K_VGEM_FENCE, K_CHUNK_SIZE,
	K_MAX
};

static const char *const fz_kind_names[K_MAX] = {
	"alloc", "info", "close", "dup", "otherfd", "foreign", "sync",
	"setname", "export_sf", "import_sf", "poll", "raw_ioctl",
	"mmap", "munmap", "mprotect", "mremap", "madvise", "touch",
	"import", "release", "submit", "wait", "reopen_ctx", "fork",
	"mmap_fixed", "rlimit", "vgem_fence", "chunk_size",
};

/*
 * What DMA_BUF_IOCTL_SYNC may do to a foreign dma-buf on a kernel with
 * DMA-API debugging, where two upstream exporters have known faults:
 *
 * SYNC_ONE_DIR: udmabuf maps its CPU-sync table once, in the direction of
 * the first SYNC, and syncs it later in whatever direction is asked
 * (still so in 7.2): dma-debug reports every other direction.  Its dups
 * are synced in the direction the template was first synced in (RW).
 *
 * SYNC_NEVER: up to 6.x, CONFIG_DMABUF_DEBUG scrambles the page links of
 * a table in place for as long as an importer has it mapped, and the
 * system heap's begin_cpu_access syncs those very tables; dma-debug then
 * follows a scrambled page pointer (a general protection fault on the
 * debug kernel).  7.x hands importers a copy instead.  No SYNC on it.
 */
enum fz_sync_hazard { SYNC_ANY, SYNC_ONE_DIR, SYNC_NEVER };

struct fz_tmpl {
	int fd;
	__u64 size;
	int rdonly;
	int cohbuf;
	const char *what;
	ino_t ino;			/* of the dma-buf's file */
	enum fz_sync_hazard hazard;
};

static struct fz {
	__u64 seed, rng;
	unsigned long op, max_ops, forks, kills;
	unsigned long jobs_ok, jobs_timedout, jobs_cancelled;	/* reaped by WAIT */
	double deadline;
	int kind;
	int child;
	int failed;
	char msg[512];
	const char *why;	/* why the current call must fail, or NULL */
	int dev, ctx[NCTX], engines;
	/*
	 * A context a child process has used at the same time: its handles
	 * and jobs may have changed behind the model's back, so only checks
	 * that do not depend on them apply until it is reopened.
	 */
	int shared[NCTX];
	/*
	 * A context with a job the model has no id for: a SUBMIT whose
	 * argument could be read but not written back fails with EFAULT
	 * after queueing the job, as the uapi says. Its id is above
	 * last_job_id, so a WAIT on an id "never issued" may reap it (seen
	 * once, seed 0xc0b0f0220250004, op 72986), until the context is
	 * reopened.
	 */
	int ghost_jobs[NCTX];
	pid_t kids[NKIDS];	/* children running alongside */
	__u64 last_buf_id, last_job_id;
	int closed_fd;
	struct fz_fd fds[NFDS];
	struct fz_map maps[NMAPS];
	struct fz_imp imps[NIMPS];
	struct fz_job jobs[NJOBS];
	struct fz_tmpl tmpl[NTMPL];
	int ntmpl;
	const unsigned int *weights;
	unsigned long count[K_MAX], ok[K_MAX];
	double spent[K_MAX];	/* seconds, with COHBUF_FUZZ_PROFILE */
	int profile;
	unsigned char *ro_page;	/* a read-only page, for EFAULT on write-back */
	unsigned char *guard;	/* a writable page followed by an inaccessible one */
	struct rlimit nofile;	/* RLIMIT_NOFILE as found */
	int low_nofile;		/* RLIMIT_NOFILE is lowered */
	int drm;		/* vgem, for fences that stay unsignalled */
	__u32 vgem[NVGEM];	/* their ids, 0: none */
	unsigned long trace;	/* COHBUF_FUZZ_TRACE: print the ops from this one on */
	int dma_debug;		/* the kernel has DMA-API debugging */
} F;

/* May this context hold handles or jobs the model does not know? */
static int ctx_shared(int c)
{
	return F.shared[c] || F.ghost_jobs[c];
}

static unsigned char *argbuf;	/* ARGBUF bytes, page aligned */
static struct cohbuf_chunk_info chunkbuf[1024];

/* --- randomness, time, reporting ---------------------------------------- */

static __u64 r64(void)
{
	__u64 z = (F.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 below(__u32 n)
{
	return n ? (__u32)(r64() % n) : 0;
}

static int chance(unsigned int pct)
{
	return below(100) < pct;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fz_fail(const char *fmt, ...) __printf(1, 2);
static void fz_fail(const char *fmt, ...)
{
	char text[384];
	va_list ap;

	if (F.failed)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	F.failed = 1;
	snprintf(F.msg, sizeof(F.msg), "%sseed=%#llx op=%lu kind=%s: %s",
		 F.child ? "child: " : "", (unsigned long long)F.seed, F.op,
		 fz_kind_names[F.kind], text);
	if (F.child) {
		fprintf(stderr, "# FUZZ FAILURE %s\n", F.msg);
		_exit(1);
	}
}

/* A fault inside a mapping the model says is valid. */
static void fz_fault(int sig, siginfo_t *si, void *uc)
{
	char text[256];
	int n;

	(void)uc;
	n = snprintf(text, sizeof(text),
		     "# FUZZ FAILURE %sseed=%#llx op=%lu kind=%s: signal %d at %p inside a valid mapping\n",
		     F.child ? "child: " : "", (unsigned long long)F.seed, F.op,
		     fz_kind_names[F.kind], sig, si->si_addr);
	if (write(2, text, n) < 0)
		n = 0;
	_exit(1);
}

static int errno_in(int e, const int *list)
{
	for (; *list; list++)
		if (*list == e)
			return 1;
	return 0;
}

/* A list of errnos, ended by 0. */
#define ERRS(...) ((const int[]){ __VA_ARGS__, 0 })

/*
 * Judge a result: 1 for success, 0 for a failure with an allowed errno.
 * A success when F.why says the call must fail, and an errno that is not
 * in the list, fail the run.
 */
static int fz_result(long ret, const char *call, const int *allowed)
{
	int e = errno;

	if (ret >= 0) {
		if (F.why)
			fz_fail("%s succeeded but must fail: %s", call, F.why);
		F.ok[F.kind]++;
		return 1;
	}
	if (!errno_in(e, allowed))
		fz_fail("%s: errno %d (%s) is not documented for it%s%s", call, e,
			strerror(e), F.why ? "; expected failure because " : "",
			F.why ? F.why : "");
	errno = e;
	return 0;
}

static void bad(const char *why)
{
	if (!F.why)
		F.why = why;
}

/* --- the fd pool --------------------------------------------------------- */

static int fd_slot_free(void)
{
	int i, s = below(NFDS);

	for (i = 0; i < NFDS; i++)
		if (F.fds[(s + i) % NFDS].kind == FK_FREE)
			return (s + i) % NFDS;
	return -1;
}

/* A random live slot, preferring @kind (FK_FREE: any kind); -1 if none. */
static int fd_slot_pick(int kind)
{
	int i, s = below(NFDS), any = -1;

	for (i = 0; i < NFDS; i++) {
		struct fz_fd *f = &F.fds[(s + i) % NFDS];

		if (f->kind == FK_FREE)
			continue;
		if (kind == FK_FREE || f->kind == kind)
			return (s + i) % NFDS;
		if (any < 0)
			any = (s + i) % NFDS;
	}
	return any;
}

static void fd_add(int fd, int kind, __u64 size, int rdonly, __u32 flags, __u32 cache)
{
	int s = fd_slot_free();

	if (s < 0) {
		close(fd);
		return;
	}
	F.fds[s] = (struct fz_fd){ .fd = fd, .kind = kind, .size = size,
				   .rdonly = rdonly, .flags = flags, .cache_mode = cache };
}

static void fd_forget(int s)
{
	F.closed_fd = F.fds[s].fd;
	F.fds[s].kind = FK_FREE;
	F.fds[s].fd = -1;
}

/* Some fd number: mostly a live one of @kind, else odd ones. */
static int some_fd(int kind, int *slot)
{
	int s;

	*slot = -1;
	switch (below(16)) {
	case 0:
		return -1;
	case 1:
		return F.closed_fd;
	case 2:
		return (int)below(1200);
	case 3:
		return F.dev;
	case 4:
		return F.ctx[below(NCTX)];
	case 5:
		return F.ntmpl ? F.tmpl[below(F.ntmpl)].fd : -1;
	default:
		s = fd_slot_pick(kind);
		*slot = s;
		return s < 0 ? -1 : F.fds[s].fd;
	}
}

static int is_dmabuf_kind(int kind)
{
	return kind == FK_COHBUF || kind == FK_FOREIGN;
}

/* Fill the argument buffer's tail [from, to) with zeros or random bytes. */
static int fill_tail(size_t from, size_t to)
{
	int nonzero = 0;
	size_t i;

	memset(argbuf + from, 0, to > from ? to - from : 0);
	if (to > from && chance(30)) {
		i = from + below(to - from);
		argbuf[i] = (unsigned char)(1 + below(255));
		nonzero = 1;
	}
	return nonzero;
}

/*
 * The ioctl number for @cmd with a random size (mostly the real one);
 * sets F.why for sizes the kernel must refuse and fills the tail.
 */
static unsigned long fz_cmd(unsigned long cmd, size_t ver0)
{
	size_t usize = _IOC_SIZE(cmd);

	if (chance(85))
		return cmd;
	switch (below(4)) {
	case 0:
		usize = below(ver0);
		break;
	case 1:
		usize = ver0 + 1 + below(64);
		break;
	case 2:
		usize = ver0 + below(16384 - ver0);
		break;
	default:
		usize = ver0 + 8;
		break;
	}
	if (usize < ver0)
		bad("ioctl size below the first version");
	else if (fill_tail(ver0, usize))
		bad("non-zero byte beyond the known structure");
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), usize);
}

/* The argument pointer: mostly argbuf, sometimes NULL or unmapped. */
static void *fz_argp(void)
{
	switch (below(200)) {
	case 0:
		bad("NULL argument");
		return NULL;
	case 1:
		bad("argument in kernel space");
		return (void *)0xffff888000000000UL;
	default:
		return argbuf;
	}
}

/*
 * Now and then, instead of @argp (when it is argbuf), a read-only copy of
 * the first @len bytes: the kernel reads it, does the work and then fails
 * to write the result back. *@cmd becomes @real (the structure's real
 * size), so that the copy holds all of it.
 */
static void *fz_ro_arg(void *argp, size_t len, unsigned long *cmd, unsigned long real)
{
	if (argp != argbuf || !chance(1) ||
	    mprotect(F.ro_page, PAGE, PROT_READ | PROT_WRITE))
		return argp;
	memcpy(F.ro_page, argbuf, len);
	mprotect(F.ro_page, PAGE, PROT_READ);
	*cmd = real;
	F.why = NULL;		/* the size may have been the only fault */
	bad("argument not writable");
	return F.ro_page;
}

/* --- the exporter -------------------------------------------------------- */

static __u64 pick_size(void)
{
	switch (below(20)) {
	case 0:
		return 0;
	case 1:
		return FZ_MAX_BUFFER;
	case 2:
		return FZ_MAX_BUFFER - PAGE + 1 + below(PAGE);
	case 3:
		return FZ_MAX_BUFFER + 1 + below(PAGE);
	case 4:
		return ~0ULL - below(2 * PAGE);
	case 5:
		return 1ULL << (32 + below(32));
	case 6:
		return 1 + below(FZ_MAX_BUFFER);
	default:
		return 1 + below(16 * PAGE);
	}
}

static __u64 round_page_u64(__u64 size, int *overflow)
{
	*overflow = size > ~0ULL - (PAGE - 1);
	return (size + PAGE - 1) & ~(__u64)(PAGE - 1);
}

static void op_alloc(void)
{
	struct cohbuf_alloc_data *d = (void *)argbuf;
	unsigned long cmd = COHBUF_IOCTL_ALLOC;
	__u64 rounded;
	int ovf, ret, i;
	void *argp;

	memset(d, 0, sizeof(*d));
	d->size = pick_size();
	d->fd_flags = chance(80) ? O_RDWR | O_CLOEXEC : O_RDONLY | (chance(50) ? O_CLOEXEC : 0);
	d->flags = chance(20) ? COHBUF_ALLOC_CONTIGUOUS : 0;
	d->cache_mode = below(2);
	if (chance(60)) {
		for (i = 0; i < (int)below(COHBUF_NAME_LEN); i++)
			d->name[i] = (char)(chance(80) ? 'a' + below(26) : 1 + below(255));
	}
	switch (below(40)) {
	case 0:
		d->fd_flags = (__u32)r64();
		break;
	case 1:
		d->fd_flags = O_WRONLY;
		break;
	case 2:
		d->flags = (__u32)r64() | (1U << (1 + below(31)));
		break;
	case 3:
		d->cache_mode = 2 + below(100);
		break;
	case 4:
		d->fd = 1 + below(100);
		break;
	case 5:
		d->id = 1 + r64() % 1000;
		break;
	case 6:
		memset(d->name, 'x', sizeof(d->name));
		break;
	case 7:
		cmd = _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOC_MAGIC, 2 + below(254),
			   sizeof(*d));
		bad("unknown ioctl number");
		break;
	case 8: {
		static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE };

		cmd = _IOC(dirs[below(3)], COHBUF_IOC_MAGIC, 0, sizeof(*d));
		bad("wrong ioctl direction");
		break;
	}
	}
	rounded = round_page_u64(d->size, &ovf);
	if (!d->size)
		bad("size 0");
	if (ovf || rounded > FZ_MAX_BUFFER)
		bad("size over max_buffer_size");
	if (d->fd_flags & ~(O_CLOEXEC | O_ACCMODE))
		bad("unknown fd_flags");
	if ((d->fd_flags & O_ACCMODE) != O_RDWR && (d->fd_flags & O_ACCMODE) != O_RDONLY)
		bad("access mode not O_RDWR or O_RDONLY");
	if (d->flags & ~COHBUF_ALLOC_FLAGS_MASK)
		bad("unknown flags");
	if (d->cache_mode > COHBUF_CACHE_WC)
		bad("unknown cache_mode");
	if (d->fd || d->id)
		bad("fd or id not 0");
	if (strnlen(d->name, sizeof(d->name)) == sizeof(d->name))
		bad("name without NUL");
	if (cmd == COHBUF_IOCTL_ALLOC)
		cmd = fz_cmd(cmd, COHBUF_ALLOC_DATA_SIZE_VER0);
	/* Readable, not writable: the write-back fails, no fd may stay. */
	{
		const char *why = F.why;

		argp = fz_ro_arg(fz_argp(), sizeof(*d), &cmd, COHBUF_IOCTL_ALLOC);
		if (argp == F.ro_page && why)
			F.why = why;
	}
	ret = ioctl(F.dev, cmd, argp);
	if (!fz_result(ret, "ALLOC",
		       ERRS(EINVAL, E2BIG, ENOMEM, EMFILE, ENFILE, EFAULT, EINTR, ENOTTY)))
		return;
	if ((int)d->fd < 0 || d->id <= F.last_buf_id) {
		fz_fail("ALLOC returned fd %d id %llu (last id %llu)", (int)d->fd,
			(unsigned long long)d->id, (unsigned long long)F.last_buf_id);
		return;
	}
	F.last_buf_id = d->id;
	fd_add((int)d->fd, FK_COHBUF, rounded, (d->fd_flags & O_ACCMODE) == O_RDONLY,
	       d->flags, d->cache_mode);
}

static void op_info(void)
{
	struct cohbuf_info_data *d = (void *)argbuf;
	unsigned long cmd;
	int slot, fd, ret;
	__u32 n;
	__u64 sum = 0;
	__u32 i;

	memset(d, 0, sizeof(*d));
	fd = some_fd(FK_COHBUF, &slot);
	d->fd = (__u32)fd;
	switch (below(8)) {
	case 0:
		d->chunks_cap = 1 + below(1024);
		if (chance(50)) {
			d->chunks_ptr = 0;
			bad("chunks_cap without chunks_ptr");
		} else {
			d->chunks_ptr = chance(50) ? (uintptr_t)F.ro_page : 0xffff888000000000ULL;
		}
		break;
	case 1:
		/* Room for n entries before an inaccessible page: partial write-back. */
		n = 1 + below(4);
		d->chunks_cap = n + below(64);
		d->chunks_ptr = (uintptr_t)(F.guard + PAGE - n * sizeof(struct cohbuf_chunk_info));
		break;
	case 2:
		d->chunks_cap = below(1025);
		d->chunks_ptr = (uintptr_t)chunkbuf;
		break;
	default:
		d->chunks_cap = 0;
		d->chunks_ptr = chance(20) ? r64() : 0;
		break;
	}
	/* Output fields are ignored on input. */
	if (chance(20)) {
		d->size = r64();
		d->nr_chunks = (__u32)r64();
	}
	if (slot >= 0 && F.fds[slot].kind != FK_COHBUF)
		bad("not a cohbuf dma-buf");
	if (slot >= 0 && d->chunks_cap && d->chunks_ptr && d->chunks_ptr != (uintptr_t)chunkbuf &&
	    (d->chunks_ptr < (uintptr_t)F.guard || d->chunks_ptr >= (uintptr_t)F.guard + PAGE))
		bad("chunk array not writable");
	cmd = fz_cmd(COHBUF_IOCTL_INFO, COHBUF_INFO_DATA_SIZE_VER0);
	ret = ioctl(F.dev, cmd, fz_argp());
	if (!fz_result(ret, "INFO", ERRS(EBADF, EINVAL, EFAULT, ENOTTY)) || slot < 0 ||
	    F.fds[slot].kind != FK_COHBUF || _IOC_SIZE(cmd) < COHBUF_INFO_DATA_SIZE_VER0)
		return;
	if (d->size != F.fds[slot].size || !d->nr_chunks || d->flags != F.fds[slot].flags ||
	    d->cache_mode != F.fds[slot].cache_mode) {
		fz_fail("INFO: size %llu (model %llu) chunks %u flags %u/%u cache %u/%u id %llu",
			(unsigned long long)d->size, (unsigned long long)F.fds[slot].size,
			d->nr_chunks, d->flags, F.fds[slot].flags, d->cache_mode,
			F.fds[slot].cache_mode, (unsigned long long)d->id);
		return;
	}
	if (d->chunks_ptr != (uintptr_t)chunkbuf || d->chunks_cap < d->nr_chunks)
		return;
	for (i = 0; i < d->nr_chunks; i++)
		sum += chunkbuf[i].len;
	if (sum != d->size)
		fz_fail("INFO: chunk lengths add up to %llu, size %llu",
			(unsigned long long)sum, (unsigned long long)d->size);
}

static void op_close(void)
{
	int s = fd_slot_pick(FK_FREE);

	if (s < 0)
		return;
	if (fz_result(close(F.fds[s].fd), "close", ERRS(0)))
		fd_forget(s);
	else
		fz_fail("close of a live fd failed: %s", strerror(errno));
}

static void op_dup(void)
{
	int a = fd_slot_pick(FK_FREE), b, fd;

	if (a < 0)
		return;
	b = fd_slot_pick(FK_FREE);
	if (chance(50) && b >= 0 && b != a) {
		/* dup2 onto another live fd of the pool: that one is closed. */
		fd = chance(50) ? dup2(F.fds[a].fd, F.fds[b].fd) :
			dup3(F.fds[a].fd, F.fds[b].fd, O_CLOEXEC);
		if (!fz_result(fd, "dup2", F.low_nofile ? ERRS(EMFILE, EINTR, EBUSY, EBADF) :
					   ERRS(EMFILE, EINTR, EBUSY)))
			return;
		if (fd != F.fds[b].fd) {
			fz_fail("dup2 returned %d, not %d", fd, F.fds[b].fd);
			return;
		}
		F.fds[b] = F.fds[a];
		F.fds[b].fd = fd;
		return;
	}
	if (chance(10)) {
		/* dup2 onto itself is a no-op. */
		fd = dup2(F.fds[a].fd, F.fds[a].fd);
		if (fz_result(fd, "dup2 self", ERRS(EBADF)) && fd != F.fds[a].fd)
			fz_fail("dup2(fd, fd) returned %d", fd);
		return;
	}
	fd = fcntl(F.fds[a].fd, F_DUPFD_CLOEXEC, below(3) ? 0 : 100 + below(200));
	if (!fz_result(fd, "dup", ERRS(EMFILE, EINVAL)))
		return;
	{
		struct fz_fd copy = F.fds[a];

		fd_add(fd, copy.kind, copy.size, copy.rdonly, copy.flags, copy.cache_mode);
	}
}

static void op_otherfd(void)
{
	int p[2], fd = -1;

	switch (below(4)) {
	case 0:
		if (pipe2(p, O_CLOEXEC) == 0) {
			int keep = chance(50);

			close(p[!keep]);
			fd = p[keep];
		}
		break;
	case 1:
		fd = eventfd(0, EFD_CLOEXEC);
		break;
	case 2:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	default:
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, 4 * PAGE))
			fz_fail("ftruncate memfd: %s", strerror(errno));
		break;
	}
	if (fd < 0) {
		fz_result(fd, "open other fd", ERRS(EMFILE, ENFILE, ENOMEM));
		return;
	}
	F.ok[F.kind]++;
	fd_add(fd, FK_OTHER, 0, 0, 0, 0);
}

/* A duplicate of a foreign dma-buf (or a cohbuf dma-heap buffer). */
static void op_foreign(void)
{
	struct fz_tmpl *t;
	int fd;

	if (!F.ntmpl)
		return;
	t = &F.tmpl[below(F.ntmpl)];
	fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 0);
	if (!fz_result(fd, "dup foreign", ERRS(EMFILE)))
		return;
	fd_add(fd, t->cohbuf ? FK_COHBUF : FK_FOREIGN, t->size, t->rdonly, 0, 0);
}

/* Signal vgem fence @i (another process may have signalled it already). */
static void vgem_signal(int i)
{
	int ret;

	if (!F.vgem[i])
		return;
	ret = cohbuf_vgem_fence_signal(F.drm, F.vgem[i]);
	F.vgem[i] = 0;
	if (ret < 0) {
		errno = -ret;
		fz_result(-1, "VGEM_FENCE_SIGNAL", ERRS(ENOENT, ETIMEDOUT, EINVAL));
	}
}

static void vgem_signal_all(void)
{
	int i;

	for (i = 0; i < NVGEM; i++)
		vgem_signal(i);
}

/* The hazard of SYNC on @fd: that of the foreign template it is a dup of. */
static enum fz_sync_hazard sync_hazard(int fd)
{
	struct stat st;
	int i;

	if (!F.dma_debug || fstat(fd, &st))
		return SYNC_ANY;
	for (i = 0; i < F.ntmpl; i++)
		if (F.tmpl[i].hazard && F.tmpl[i].ino == st.st_ino)
			return F.tmpl[i].hazard;
	return SYNC_ANY;
}

static void op_sync(void)
{
	struct dma_buf_sync *s = (void *)argbuf;
	int slot, fd = some_fd(FK_COHBUF, &slot), ret;
	enum fz_sync_hazard hazard = sync_hazard(fd);
	static const __u64 valid[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};

	if (hazard == SYNC_NEVER)
		return;
	vgem_signal_all();
	s->flags = chance(80) ? valid[below(6)] : r64() >> below(64);
	if (hazard == SYNC_ONE_DIR)
		s->flags = (s->flags & DMA_BUF_SYNC_END) | DMA_BUF_SYNC_RW;
	if (slot >= 0 && is_dmabuf_kind(F.fds[slot].kind) &&
	    ((s->flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) || !(s->flags & DMA_BUF_SYNC_RW)))
		bad("invalid sync flags");
	if (slot >= 0 && !is_dmabuf_kind(F.fds[slot].kind))
		bad("not a dma-buf");
	ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, fz_argp());
	fz_result(ret, "DMA_BUF_IOCTL_SYNC",
		  ERRS(EINVAL, EFAULT, ENOTTY, EBADF, EINTR, ENOMEM));
}

static void op_setname(void)
{
	int slot, fd = some_fd(FK_COHBUF, &slot), ret, i, n;
	char *name = (char *)argbuf;

	n = chance(90) ? (int)below(DMA_BUF_NAME_LEN) : DMA_BUF_NAME_LEN + (int)below(64);
	for (i = 0; i < n; i++)
		name[i] = (char)(chance(90) ? 'A' + below(26) : 1 + below(255));
	name[n] = 0;
	if (slot >= 0 && !is_dmabuf_kind(F.fds[slot].kind))
		bad("not a dma-buf");
	if (n >= DMA_BUF_NAME_LEN)
		bad("name too long");
	ret = ioctl(fd, DMA_BUF_SET_NAME_B, chance(99) ? name : NULL);
	fz_result(ret, "DMA_BUF_SET_NAME", ERRS(EINVAL, EFAULT, ENOMEM, EBUSY, ENOTTY, EBADF));
}

static void op_export_sf(void)
{
	struct dma_buf_export_sync_file *e = (void *)argbuf;
	int slot, fd = some_fd(FK_COHBUF, &slot), ret;

	e->flags = chance(85) ? 1 + below(3) : (__u32)r64();
	e->fd = chance(80) ? -1 : (__s32)r64();
	if (slot >= 0 && is_dmabuf_kind(F.fds[slot].kind) &&
	    ((e->flags & ~DMA_BUF_SYNC_RW) || !(e->flags & DMA_BUF_SYNC_RW)))
		bad("invalid export flags");
	if (slot >= 0 && !is_dmabuf_kind(F.fds[slot].kind))
		bad("not a dma-buf");
	ret = ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, fz_argp());
	if (!fz_result(ret, "EXPORT_SYNC_FILE",
		       ERRS(EINVAL, EFAULT, ENOMEM, EMFILE, ENFILE, ENOTTY, EBADF)))
		return;
	if (e->fd < 0) {
		fz_fail("EXPORT_SYNC_FILE returned fd %d", e->fd);
		return;
	}
	fd_add(e->fd, FK_SYNC, 0, 0, 0, 0);
}

static void op_import_sf(void)
{
	struct dma_buf_import_sync_file *im = (void *)argbuf;
	int slot, fd = some_fd(FK_COHBUF, &slot), sslot, ret;

	im->flags = chance(85) ? 1 + below(3) : (__u32)r64();
	im->fd = some_fd(FK_SYNC, &sslot);
	if (slot >= 0 && is_dmabuf_kind(F.fds[slot].kind) &&
	    ((im->flags & ~DMA_BUF_SYNC_RW) || !(im->flags & DMA_BUF_SYNC_RW)))
		bad("invalid import flags");
	if (slot >= 0 && !is_dmabuf_kind(F.fds[slot].kind))
		bad("not a dma-buf");
	if (sslot >= 0 && F.fds[sslot].kind != FK_SYNC)
		bad("not a sync_file");
	ret = ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, fz_argp());
	fz_result(ret, "IMPORT_SYNC_FILE", ERRS(EINVAL, EFAULT, ENOMEM, ENOTTY, EBADF));
}

static void op_poll(void)
{
	struct pollfd p[3];
	int slot, i, ret;

	for (i = 0; i < 3; i++) {
		p[i].fd = i == 2 ? F.ctx[below(NCTX)] : some_fd(FK_FREE, &slot);
		p[i].events = (short)(POLLIN | POLLOUT | (chance(10) ? r64() : 0));
	}
	ret = poll(p, 3, 0);
	fz_result(ret, "poll", ERRS(EINTR, ENOMEM));
}

/*
 * A random ioctl number on /dev/cohbuf or a context, with a zeroed
 * argument: size 0 buffers, fd 0, handle 0, op 0 and job 0 make every one
 * of them fail, whatever number it decodes to.
 */
static void op_raw(void)
{
	int ctx = chance(50), fd = ctx ? F.ctx[below(NCTX)] : F.dev, ret;
	unsigned long cmd = _IOC(below(4), chance(90) ? 'J' : below(256), below(0x20),
				 below(chance(90) ? 160 : 16384));

	memset(argbuf, 0, _IOC_SIZE(cmd) + 1);
	bad("zeroed argument");
	ret = ioctl(fd, cmd, chance(95) ? (void *)argbuf : NULL);
	fz_result(ret, "raw ioctl", ERRS(ENOTTY, EINVAL, EFAULT, EBADF, ENOENT));
}

/*
 * Change cohbuf's chunk_size between allocations (down to single pages,
 * so that buffers have hundreds of chunks), or write a value the module
 * must refuse.
 */
static void op_chunk_size(void)
{
	static const char *const invalid[] = {
		"0", "4095", "12288", "2147483648", "-4096", "abc", "", "99999999999999999999999",
	};
	char text[32];
	const char *v = text;
	int fd, ret;

	if (chance(75)) {
		snprintf(text, sizeof(text), "%lu", PAGE << below(9));	/* 4 KiB to 1 MiB */
	} else {
		v = invalid[below(ARRAY_SIZE(invalid))];
		bad("invalid chunk_size");
	}
	fd = open(COHBUF_PARAM("chunk_size"), O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		F.why = NULL;
		fz_result(fd, "open chunk_size", ERRS(EMFILE, ENFILE));
		return;
	}
	ret = (int)write(fd, v, strlen(v));
	close(fd);
	if (!*v && ret == 0)
		return;		/* an empty write writes nothing */
	fz_result(ret, "write chunk_size", ERRS(EINVAL, ERANGE));
}

/* --- mappings -------------------------------------------------------------- */

static int map_slot_free(void)
{
	int i;

	for (i = 0; i < NMAPS; i++)
		if (!F.maps[i].addr)
			return i;
	return -1;
}

static int map_slot_pick(void)
{
	int i, s = below(NMAPS);

	for (i = 0; i < NMAPS; i++)
		if (F.maps[(s + i) % NMAPS].addr)
			return (s + i) % NMAPS;
	return -1;
}

/* Accesses the compiler may not drop or merge. */
#define READ_ONCE_CHAR(p)	__atomic_load_n((char *)(p), __ATOMIC_RELAXED)
#define WRITE_ONCE_CHAR(p, v)	__atomic_store_n((char *)(p), (v), __ATOMIC_RELAXED)

static void touch(struct fz_map *m, size_t off)
{
	char *p = m->addr + (off & ~(PAGE - 1)) + below(PAGE);

	if (!m->touch)
		return;
	if (m->prot & PROT_READ)
		(void)READ_ONCE_CHAR(p);
	if (m->prot & PROT_WRITE)
		WRITE_ONCE_CHAR(p, (char)r64());
}

static void touch_all(struct fz_map *m)
{
	touch(m, 0);
	touch(m, m->len - 1);
	touch(m, below(m->len));
}

/*
 * Split region @i so that the pages [@off, @off + @len) of it are one
 * region, and return that region's index (or -1: no free slots).
 */
static int map_isolate(int i, size_t off, size_t len)
{
	struct fz_map m = F.maps[i];
	int l = -1, r = -1;

	if (off) {
		l = map_slot_free();
		if (l < 0)
			return -1;
		F.maps[l].addr = (char *)1;	/* reserve */
	}
	if (off + len < m.len) {
		r = map_slot_free();
		if (r < 0) {
			if (l >= 0)
				F.maps[l].addr = NULL;
			return -1;
		}
	}
	if (l >= 0) {
		F.maps[l] = m;
		F.maps[l].len = off;
	}
	if (r >= 0) {
		F.maps[r] = m;
		F.maps[r].addr = m.addr + off + len;
		F.maps[r].len = m.len - off - len;
	}
	F.maps[i].addr = m.addr + off;
	F.maps[i].len = len;
	return i;
}

/* A random page-aligned sub-range of region @i: *off, *len. */
static void map_subrange(int i, size_t *off, size_t *len)
{
	size_t pages = F.maps[i].len / PAGE, first, n;

	if (chance(50)) {
		*off = 0;
		*len = F.maps[i].len;
		return;
	}
	first = below(pages);
	n = 1 + below(pages - first);
	*off = first * PAGE;
	*len = n * PAGE;
}

static void op_mmap(void)
{
	int slot, fd = some_fd(FK_COHBUF, &slot), prot, flags, kind, s;
	__u64 size = 0, pages;
	size_t len;
	off_t off;
	char *p;

	kind = slot >= 0 ? F.fds[slot].kind : FK_FREE;
	if (is_dmabuf_kind(kind))
		size = F.fds[slot].size;
	pages = size / PAGE;
	len = (1 + below(pages ? pages : 4)) * PAGE;
	off = (off_t)(below(pages ? pages : 4) * PAGE);
	switch (below(30)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = len - below(PAGE);	/* rounded up by the kernel */
		break;
	case 2:
		off = (off_t)(size + below(4) * PAGE);
		break;
	case 3:
		off = (off_t)(~0ULL << (12 + below(40)));
		break;
	case 4:
		off += 1 + below(PAGE - 1);
		break;
	case 5:
		len = size + PAGE;
		break;
	}
	prot = chance(75) ? PROT_READ | PROT_WRITE : (int)below(8);
	flags = chance(85) ? MAP_SHARED : chance(50) ? MAP_PRIVATE : MAP_SHARED_VALIDATE;
	if (chance(10))
		flags |= MAP_POPULATE;
	if (chance(5))
		flags |= MAP_NORESERVE;
	if (is_dmabuf_kind(kind)) {
		if (!len)
			bad("length 0");
		else if (off & (PAGE - 1))
			bad("offset not page aligned");
		else if ((__u64)off / PAGE + (len + PAGE - 1) / PAGE > pages ||
			 (__u64)off / PAGE > pages)
			bad("window past the end of the buffer");
		if (kind == FK_COHBUF) {
			if (!(flags & MAP_SHARED))
				bad("MAP_PRIVATE of a cohbuf buffer");
			if (prot & PROT_EXEC)
				bad("PROT_EXEC on a cohbuf buffer");
		}
		if ((prot & PROT_WRITE) && (flags & MAP_SHARED) && F.fds[slot].rdonly)
			bad("PROT_WRITE on a read-only dma-buf");
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	if (!fz_result(p == MAP_FAILED ? -1 : 0, "mmap",
		       ERRS(EACCES, EAGAIN, EINVAL, ENOMEM, EOVERFLOW, EPERM, ENODEV, EBADF,
			    ENFILE, EOPNOTSUPP)))
		return;
	len = (len + PAGE - 1) & ~(PAGE - 1);
	s = map_slot_free();
	if (!is_dmabuf_kind(kind) || s < 0) {
		if (munmap(p, len))
			fz_fail("munmap of a fresh mapping: %s", strerror(errno));
		return;
	}
	F.maps[s] = (struct fz_map){ .addr = p, .len = len, .prot = prot,
				     .cohbuf = kind == FK_COHBUF,
				     .shared = !!(flags & MAP_SHARED), .touch = 1,
				     .rdonly = F.fds[slot].rdonly };
	touch_all(&F.maps[s]);
}

static void op_munmap(void)
{
	int i = map_slot_pick(), j;
	size_t off, len;

	if (i < 0)
		return;
	if (chance(3)) {
		bad("address not page aligned");
		fz_result(munmap(F.maps[i].addr + 1 + below(PAGE - 1), PAGE), "munmap",
			  ERRS(EINVAL));
		return;
	}
	if (chance(2)) {
		bad("length 0");
		fz_result(munmap(F.maps[i].addr, 0), "munmap", ERRS(EINVAL));
		return;
	}
	map_subrange(i, &off, &len);
	/* An unaligned length is rounded up. */
	j = map_isolate(i, off, len);
	if (j < 0)
		return;
	if (!fz_result(munmap(F.maps[j].addr, len - (chance(10) ? below(PAGE) : 0)),
		       "munmap", ERRS(0)))
		return;
	F.maps[j].addr = NULL;
}

static void op_mprotect(void)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int i = map_slot_pick(), j, prot;
	size_t off, len;

	if (i < 0)
		return;
	map_subrange(i, &off, &len);
	j = map_isolate(i, off, len);
	if (j < 0)
		return;
	prot = prots[below(6)];
	if (F.maps[j].cohbuf && (prot & PROT_EXEC))
		bad("PROT_EXEC on a cohbuf mapping");
	if (F.maps[j].shared && F.maps[j].rdonly && (prot & PROT_WRITE))
		bad("PROT_WRITE on a shared mapping of a read-only dma-buf");
	if (mprotect(F.maps[j].addr, len, prot) == 0) {
		fz_result(0, "mprotect", ERRS(0));
		F.maps[j].prot = prot;
		touch_all(&F.maps[j]);
	} else {
		fz_result(-1, "mprotect", ERRS(EACCES, EINVAL, ENOMEM));
	}
}

/* A PROT_NONE reservation of @len bytes to move a mapping onto. */
static char *reserve(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void op_mremap(void)
{
	int i = map_slot_pick(), j, variant, flags = 0, grows;
	size_t off, len, new_len;
	char *p, *target = NULL;

	if (i < 0)
		return;
	map_subrange(i, &off, &len);
	j = map_isolate(i, off, len);
	if (j < 0)
		return;
	variant = below(6);
	new_len = len;
	switch (variant) {
	case 0:		/* shrink in place */
		new_len = len > PAGE ? (1 + below(len / PAGE - 1)) * PAGE : len;
		flags = chance(50) ? MREMAP_MAYMOVE : 0;
		break;
	case 1:		/* grow */
		new_len = len + (1 + below(8)) * PAGE;
		flags = chance(50) ? MREMAP_MAYMOVE : 0;
		break;
	case 2:		/* move, maybe shrinking */
		if (chance(30))
			new_len = (1 + below(len / PAGE)) * PAGE;
		target = reserve(new_len);
		if (!target)
			return;
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		break;
	case 3:		/* keep the old range mapped */
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		break;
	case 4:		/* duplicate a shared mapping (old_len 0) */
		flags = MREMAP_MAYMOVE;
		break;
	default:	/* let the kernel move it */
		flags = MREMAP_MAYMOVE;
		break;
	}
	grows = variant == 4 || new_len > len;
	if (F.maps[j].cohbuf && grows)
		bad("growing a VM_DONTEXPAND cohbuf mapping");
	if (F.maps[j].cohbuf && variant == 3)
		bad("MREMAP_DONTUNMAP of a VM_PFNMAP cohbuf mapping");
	p = mremap(F.maps[j].addr, variant == 4 ? 0 : len, new_len, flags, target);
	if (!fz_result(p == MAP_FAILED ? -1 : 0, "mremap", ERRS(EAGAIN, EFAULT, EINVAL, ENOMEM))) {
		if (target)
			munmap(target, new_len);
		return;
	}
	if (target && p != target) {
		fz_fail("mremap MREMAP_FIXED moved to %p, not %p", p, target);
		return;
	}
	if (variant == 3 || variant == 4) {
		/* Foreign only: keep both, touch neither (semantics vary). */
		int k = map_slot_free();

		F.maps[j].touch = 0;
		if (k < 0) {
			munmap(p, new_len);
			return;
		}
		F.maps[k] = F.maps[j];
		F.maps[k].addr = p;
		F.maps[k].len = new_len;
		return;
	}
	if (variant == 0 && !(flags & MREMAP_MAYMOVE) && p != F.maps[j].addr) {
		fz_fail("mremap shrink in place moved the mapping");
		return;
	}
	F.maps[j].addr = p;
	F.maps[j].len = new_len;
	if (grows)
		F.maps[j].touch = 0;
	touch_all(&F.maps[j]);
}

static void op_madvise(void)
{
	static const int advice[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_FREE,
		MADV_COLD, MADV_PAGEOUT, MADV_REMOVE, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
		MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_WIPEONFORK, MADV_KEEPONFORK,
		22 /* MADV_POPULATE_READ */, 23 /* MADV_POPULATE_WRITE */,
	};
	int i = map_slot_pick(), j, adv;
	size_t off, len;

	if (i < 0)
		return;
	map_subrange(i, &off, &len);
	j = map_isolate(i, off, len);
	if (j < 0)
		return;
	adv = advice[below(ARRAY_SIZE(advice))];
	if (F.maps[j].cohbuf && (adv == MADV_DONTNEED || adv == MADV_FREE || adv == MADV_REMOVE))
		bad("discarding pages of a VM_PFNMAP cohbuf mapping");
	/*
	 * MADV_REMOVE is fallocate(PUNCH_HOLE), which fails with ENODEV on
	 * a file that is not a regular file, such as a dma-buf.
	 */
	if (!fz_result(madvise(F.maps[j].addr, len, adv), "madvise",
		       adv == MADV_REMOVE ?
		       ERRS(EACCES, EINVAL, ENODEV, EOPNOTSUPP, ENOMEM, EAGAIN) :
		       ERRS(EACCES, EAGAIN, EBADF, EINVAL, EIO, ENOMEM, EPERM, EFAULT)))
		return;
	if (adv == MADV_DONTFORK)
		F.maps[j].dontfork = 1;
	else if (adv == MADV_DOFORK)
		F.maps[j].dontfork = 0;
	if (!F.maps[j].cohbuf && (adv == MADV_DONTNEED || adv == MADV_FREE ||
				  adv == MADV_REMOVE))
		F.maps[j].touch = 0;	/* a private copy may now read zeros or fault */
	touch_all(&F.maps[j]);
}

static void op_touch(void)
{
	int i = map_slot_pick(), k;

	if (i < 0)
		return;
	for (k = 0; k < 4; k++)
		touch(&F.maps[i], below(F.maps[i].len));
	F.ok[F.kind]++;
}

/*
 * A sync_file whose fence stays unsignalled until it is signalled here
 * (or vgem's own 10 s timer): jobs that wait for it time out after the
 * importer's timeout_ms, their dependants are cancelled. CPU access
 * (DMA_BUF_IOCTL_SYNC) would wait for it, so that signals them all first;
 * the run with child processes does without them.
 */
static void op_vgem_fence(void)
{
	int i = below(NVGEM), fd;
	__u32 id = 0;

	/*
	 * Not with other processes around: their DMA_BUF_IOCTL_SYNC would
	 * wait for fences they cannot signal.
	 */
	if (F.drm < 0 || F.child)
		return;
	if (F.vgem[i]) {
		/* Keep it a while, so that jobs time out waiting for it. */
		if (chance(40))
			vgem_signal(i);
		F.ok[F.kind]++;
		return;
	}
	fd = vgem_sync_file(F.drm, &id);
	if (fd < 0) {
		errno = -fd;
		fz_result(-1, "vgem fence", ERRS(EMFILE, ENFILE, ENOMEM, ENOSPC));
		return;
	}
	F.ok[F.kind]++;
	F.vgem[i] = id;
	fd_add(fd, FK_SYNC, 0, 0, 0, 0);
}

/*
 * mmap(MAP_FIXED) of a dma-buf over part of an existing mapping, which
 * splits it; or MAP_FIXED_NOREPLACE there, which must fail.
 */
static void op_mmap_fixed(void)
{
	int i = map_slot_pick(), j, slot, fd, kind, noreplace = chance(20), prot;
	__u64 pages = 0;
	size_t off, len;
	off_t foff;
	char *p;

	if (i < 0)
		return;
	fd = some_fd(FK_COHBUF, &slot);
	kind = slot >= 0 ? F.fds[slot].kind : FK_FREE;
	if (!is_dmabuf_kind(kind))
		return;
	pages = F.fds[slot].size / PAGE;
	map_subrange(i, &off, &len);
	if (len / PAGE > pages)
		len = pages * PAGE;
	j = map_isolate(i, off, len);
	if (j < 0)
		return;
	foff = (off_t)(below(pages - len / PAGE + 1) * PAGE);
	if (chance(5))
		foff = (off_t)(pages * PAGE);
	if ((__u64)foff / PAGE + len / PAGE > pages)
		bad("window past the end of the buffer");
	prot = chance(80) ? PROT_READ | PROT_WRITE : PROT_READ;
	if ((prot & PROT_WRITE) && F.fds[slot].rdonly)
		bad("PROT_WRITE on a read-only dma-buf");
	if (noreplace)
		bad("MAP_FIXED_NOREPLACE over a mapping");
	p = mmap(F.maps[j].addr, len, prot,
		 MAP_SHARED | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED), fd, foff);
	if (!fz_result(p == MAP_FAILED ? -1 : 0, "mmap MAP_FIXED",
		       ERRS(EACCES, EAGAIN, EINVAL, ENOMEM, EOVERFLOW, EPERM, EEXIST))) {
		/* A failed MAP_FIXED may have unmapped the range already. */
		if (!noreplace) {
			if (munmap(F.maps[j].addr, len))
				fz_fail("munmap after a failed MAP_FIXED: %s", strerror(errno));
			F.maps[j].addr = NULL;
		}
		return;
	}
	if (p != F.maps[j].addr) {
		fz_fail("MAP_FIXED mapped at %p, not %p", p, F.maps[j].addr);
		return;
	}
	F.maps[j] = (struct fz_map){ .addr = p, .len = len, .prot = prot,
				     .cohbuf = kind == FK_COHBUF, .shared = 1, .touch = 1,
				     .rdonly = F.fds[slot].rdonly };
	touch_all(&F.maps[j]);
}

/*
 * Lower RLIMIT_NOFILE to a few fds above those in use (so that the next
 * ALLOC, EXPORT_SYNC_FILE, out-fence or dup fails with EMFILE and must
 * leave nothing behind), or restore it.
 */
static void op_rlimit(void)
{
	struct rlimit r = F.nofile;
	int ret;

	if (!F.low_nofile)
		r.rlim_cur = 3 + below(48);
	ret = setrlimit(RLIMIT_NOFILE, &r);
	if (fz_result(ret, "setrlimit", ERRS(EINVAL, EPERM)))
		F.low_nofile = !F.low_nofile;
}

/* --- the importer -------------------------------------------------------- */

static int imp_pick(int ctx)
{
	int i, s = below(NIMPS);

	for (i = 0; i < NIMPS; i++)
		if (F.imps[(s + i) % NIMPS].ctx == ctx)
			return (s + i) % NIMPS;
	return -1;
}

/* The model's import for handle @h of context @c, or -1. */
static int imp_find(int c, __u32 h)
{
	int i;

	for (i = 0; i < NIMPS; i++)
		if (F.imps[i].ctx == c && F.imps[i].handle == h)
			return i;
	return -1;
}

static int imp_free_slot(void)
{
	return imp_pick(-1);
}

static int job_pick(int ctx)
{
	int i, s = below(NJOBS);

	for (i = 0; i < NJOBS; i++)
		if (F.jobs[(s + i) % NJOBS].ctx == ctx)
			return (s + i) % NJOBS;
	return -1;
}

/* Release a handle the model does not keep; it must work. */
static void imp_release_now(int c, __u32 handle)
{
	struct cohbuf_imp_release_data r = { .handle = handle };

	if (ioctl(F.ctx[c], COHBUF_IMP_IOCTL_RELEASE, &r))
		fz_fail("RELEASE of a fresh handle: %s", strerror(errno));
}

static void op_import(void)
{
	struct cohbuf_imp_import_data *d = (void *)argbuf;
	int c = below(NCTX), slot, fd, ret, s, kind;
	unsigned long cmd;
	void *argp;

	if (F.ctx[c] < 0)
		return;
	memset(d, 0, sizeof(*d));
	fd = some_fd(FK_COHBUF, &slot);
	if (chance(20)) {
		int f = fd_slot_pick(FK_FOREIGN);

		if (f >= 0) {
			slot = f;
			fd = F.fds[f].fd;
		}
	}
	kind = slot >= 0 ? F.fds[slot].kind : FK_FREE;
	d->fd = (__u32)fd;
	if (chance(3)) {
		d->flags = (__u32)r64() | 1;
		bad("flags not 0");
	}
	if (chance(10)) {
		d->handle = (__u32)r64();	/* outputs are ignored */
		d->size = r64();
	}
	if (slot >= 0 && !is_dmabuf_kind(kind))
		bad("not a dma-buf");
	cmd = fz_cmd(COHBUF_IMP_IOCTL_IMPORT, COHBUF_IMP_IMPORT_DATA_SIZE_VER0);
	argp = fz_argp();
	if (!F.why)	/* an import whose handle is withdrawn again */
		argp = fz_ro_arg(argp, sizeof(*d), &cmd, COHBUF_IMP_IOCTL_IMPORT);
	ret = ioctl(F.ctx[c], cmd, argp);
	if (kind != FK_COHBUF) {
		/* "and whatever the exporter's attach, map or vmap returns" */
		if (!fz_result(ret, "IMPORT",
			       ERRS(EBADF, EINVAL, EIO, EOPNOTSUPP, ENOMEM, EBUSY, EFAULT,
				    ENOTTY, ENODEV, EPERM, ENOSPC, ENXIO)))
			return;
	} else if (!fz_result(ret, "IMPORT",
			      ERRS(EBADF, EINVAL, EIO, EOPNOTSUPP, ENOMEM, EBUSY, EFAULT,
				   ENOTTY))) {
		return;
	}
	if (F.trace)
		fprintf(stderr, "# T import c=%d h=%u slot=%d\n", c, d->handle, slot);
	if (slot < 0) {
		/* Some fd we do not model imported: forget it again. */
		imp_release_now(c, d->handle);
		return;
	}
	if (!d->handle || d->size != F.fds[slot].size || !d->nents) {
		fz_fail("IMPORT: handle %u size %llu (model %llu) nents %u", d->handle,
			(unsigned long long)d->size, (unsigned long long)F.fds[slot].size,
			d->nents);
		return;
	}
	s = imp_free_slot();
	if (s < 0) {
		imp_release_now(c, d->handle);
		return;
	}
	F.imps[s] = (struct fz_imp){ .ctx = c, .handle = d->handle, .size = d->size,
				     .rdonly = F.fds[slot].rdonly };
}

static void op_release(void)
{
	struct cohbuf_imp_release_data *d = (void *)argbuf;
	int c = below(NCTX), s = imp_pick(c), ret;
	unsigned long cmd;

	if (F.ctx[c] < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->handle = s >= 0 && chance(90) ? F.imps[s].handle : (__u32)below(64);
	s = imp_find(c, d->handle);
	if (chance(3)) {
		d->pad = (__u32)r64() | 1;
		bad("pad not 0");
	}
	cmd = fz_cmd(COHBUF_IMP_IOCTL_RELEASE, COHBUF_IMP_RELEASE_DATA_SIZE_VER0);
	ret = ioctl(F.ctx[c], cmd, fz_argp());
	if (F.trace)
		fprintf(stderr, "# T release c=%d h=%u ret=%d errno=%d why=%s\n", c, d->handle, ret,
			errno, F.why ? F.why : "");
	if (!fz_result(ret, "RELEASE", ERRS(ENOENT, EINVAL, EFAULT, ENOTTY))) {
		if (s >= 0 && !F.why && errno == ENOENT && !ctx_shared(c))
			fz_fail("RELEASE of live handle %u: ENOENT", d->handle);
		if (s >= 0 && errno == ENOENT)
			F.imps[s].ctx = -1;
		return;
	}
	if (s >= 0)
		F.imps[s].ctx = -1;
	else if (!F.why && !ctx_shared(c))
		fz_fail("RELEASE of handle %u, which the model does not have, succeeded",
			d->handle);
}

/* A range of a buffer of @size: mostly inside, sometimes not. */
static void pick_range(__u64 size, __u64 *off, __u64 *len, int *out)
{
	/* Mostly short jobs: the engine is the CPU, emulated. */
	__u64 cap = chance(80) ? 4 * KIB : 64 * KIB;
	__u64 max = size < cap ? size : cap;

	*out = 0;
	switch (below(24)) {
	case 0:
		*off = size;
		*len = 1 + below(PAGE);
		*out = 1;
		return;
	case 1:
		*off = ~0ULL - below(PAGE);
		*len = 1 + below(PAGE);
		*out = 1;
		return;
	case 2:
		*off = below(size);
		*len = ~0ULL - below(PAGE);
		*out = 1;
		return;
	case 3:
		*off = below(size);
		*len = size - *off + 1 + below(PAGE);
		*out = 1;
		return;
	case 4:
		*off = 0;
		*len = size;
		return;
	default:
		*len = max ? 1 + r64() % max : 1;
		*off = size > *len ? r64() % (size - *len + 1) : 0;
		*out = *len > size;
		return;
	}
}

static void op_submit(void)
{
	struct cohbuf_imp_submit_data *d = (void *)argbuf;
	int c = below(NCTX), ds, ss, out, js, sslot, ret, strict;
	__u64 dsize = 0, ssize = 0;
	unsigned long cmd;
	void *argp;

	if (F.ctx[c] < 0)
		return;
	strict = !ctx_shared(c);
	js = job_pick(-1);
	if (js < 0)
		return;
	memset(d, 0, sizeof(*d));
	d->op = chance(97) ? 1 + below(3) : below(100);
	if (d->op < COHBUF_IMP_OP_FILL || d->op > COHBUF_IMP_OP_CHECKSUM)
		bad("unknown op");
	ds = imp_pick(c);
	ss = imp_pick(c);
	if (d->op == COHBUF_IMP_OP_FILL || d->op == COHBUF_IMP_OP_COPY) {
		d->dst_handle = ds >= 0 && chance(95) ? F.imps[ds].handle : below(64);
		ds = imp_find(c, d->dst_handle);
		if (ds >= 0) {
			dsize = F.imps[ds].size;
			if (F.imps[ds].rdonly && strict)
				bad("destination exported read-only");
		} else if (strict) {
			bad("unknown dst handle");
		}
		pick_range(dsize, &d->dst_offset, &d->len, &out);
		if (out && strict)
			bad("dst range outside the buffer");
	}
	if (d->op == COHBUF_IMP_OP_COPY || d->op == COHBUF_IMP_OP_CHECKSUM) {
		__u64 len;

		d->src_handle = ss >= 0 && chance(95) ? F.imps[ss].handle : below(64);
		ss = imp_find(c, d->src_handle);
		if (ss >= 0)
			ssize = F.imps[ss].size;
		else if (strict)
			bad("unknown src handle");
		pick_range(ssize, &d->src_offset, &len, &out);
		if (d->op == COHBUF_IMP_OP_CHECKSUM)
			d->len = len;
		else
			out = d->src_offset > ssize || d->len > ssize - d->src_offset;
		if (out && strict)
			bad("src range outside the buffer");
	}
	if (!d->len)
		bad("len 0");
	if (d->op == COHBUF_IMP_OP_FILL) {
		if (chance(50)) {
			d->flags |= COHBUF_IMP_SUBMIT_RANDOM;
			d->seed = r64();
		} else {
			d->pattern = (__u32)r64();
		}
	}
	if (chance(15)) {
		d->flags |= COHBUF_IMP_SUBMIT_IN_FENCE;
		d->in_fence_fd = some_fd(FK_SYNC, &sslot);
		if ((sslot >= 0 && F.fds[sslot].kind != FK_SYNC) || d->in_fence_fd < 0)
			bad("in_fence_fd not a sync_file");
	}
	if (chance(20))
		d->flags |= COHBUF_IMP_SUBMIT_OUT_FENCE;
	if (chance(2)) {
		d->flags |= COHBUF_IMP_SUBMIT_LATENCY;
		d->latency_ms = chance(90) ? below(3) : COHBUF_IMP_MAX_LATENCY_MS + 1 + below(1000);
		if (d->latency_ms > COHBUF_IMP_MAX_LATENCY_MS)
			bad("latency_ms too large");
	}
	d->engine = chance(95) ? below((__u32)F.engines) : (__u32)F.engines + below(100);
	if (d->engine >= (__u32)F.engines)
		bad("no such engine");
	switch (below(60)) {
	case 0:
		d->flags |= 1U << (4 + below(28));
		bad("unknown flags");
		break;
	case 1:
		d->pad = 1 + below(100);
		bad("pad not 0");
		break;
	case 2:
		if (d->op == COHBUF_IMP_OP_FILL) {
			d->src_offset = 1 + below(100);
			bad("src_offset for FILL");
		}
		break;
	case 3:
		if (!(d->flags & COHBUF_IMP_SUBMIT_RANDOM)) {
			d->seed = 1 + below(100);
			bad("seed without RANDOM");
		}
		break;
	case 4:
		if (!(d->flags & COHBUF_IMP_SUBMIT_IN_FENCE)) {
			d->in_fence_fd = 1 + below(100);
			bad("in_fence_fd without IN_FENCE");
		}
		break;
	case 5:
		if (d->op == COHBUF_IMP_OP_CHECKSUM) {
			d->pattern = 1 + below(100);
			bad("pattern for CHECKSUM");
		}
		break;
	case 6:
		if (!(d->flags & COHBUF_IMP_SUBMIT_LATENCY)) {
			d->latency_ms = 1 + below(100);
			bad("latency_ms without LATENCY");
		}
		break;
	}
	/* Outputs are ignored on input. */
	d->out_fence_fd = chance(80) ? 0 : (__s32)r64();
	d->job_id = chance(80) ? 0 : r64();
	cmd = fz_cmd(COHBUF_IMP_IOCTL_SUBMIT, COHBUF_IMP_SUBMIT_DATA_SIZE_VER0);
	argp = fz_argp();
	if (!F.why)	/* a job that runs but cannot be reported */
		argp = fz_ro_arg(argp, sizeof(*d), &cmd, COHBUF_IMP_IOCTL_SUBMIT);
	ret = ioctl(F.ctx[c], cmd, argp);
	if (ret && errno == EFAULT && argp == F.ro_page)
		F.ghost_jobs[c] = 1;	/* it may have been queued */
	if (!fz_result(ret, "SUBMIT", ERRS(EINVAL, ENOENT, EACCES, EBUSY, ENOMEM, EMFILE, ENFILE,
					   EINTR, EFAULT, ENOTTY)))
		return;
	if (d->job_id <= F.last_job_id) {
		fz_fail("SUBMIT: job id %llu not above %llu", (unsigned long long)d->job_id,
			(unsigned long long)F.last_job_id);
		return;
	}
	F.last_job_id = d->job_id;
	F.jobs[js] = (struct fz_job){ .ctx = c, .id = d->job_id, .op = d->op };
	if (d->flags & COHBUF_IMP_SUBMIT_OUT_FENCE) {
		if (d->out_fence_fd < 0)
			fz_fail("SUBMIT: no out-fence fd");
		else
			fd_add(d->out_fence_fd, FK_SYNC, 0, 0, 0, 0);
	} else if (d->out_fence_fd != -1) {
		fz_fail("SUBMIT: out_fence_fd %d without OUT_FENCE", d->out_fence_fd);
	}
}

static int do_wait(int c, int js, __u64 id, __u64 timeout_ns)
{
	struct cohbuf_imp_wait_data *d = (void *)argbuf;
	unsigned long cmd = COHBUF_IMP_IOCTL_WAIT;
	int ret;

	memset(d, 0, sizeof(*d));
	d->job_id = id;
	/* 0 polls; otherwise a deadline that far ahead, or sometimes one past. */
	if (timeout_ns)
		d->deadline_ns = monotonic_ns() + timeout_ns;
	else if (chance(10))
		d->deadline_ns = monotonic_ns() - below(1000000);
	if (chance(20)) {
		d->status = (__s32)r64();	/* outputs are ignored */
		d->checksum = (__u32)r64();
	}
	if (js < 0) {
		switch (below(40)) {
		case 0:
			d->flags = 1 + below(100);
			bad("flags not 0");
			break;
		case 1:
			d->pad = 1 + below(100);
			bad("pad not 0");
			break;
		}
		cmd = fz_cmd(cmd, COHBUF_IMP_WAIT_DATA_SIZE_VER0);
	}
	ret = ioctl(F.ctx[c], cmd, js < 0 ? fz_argp() : argbuf);
	if (!fz_result(ret, "WAIT", ERRS(ETIME, ENOENT, EINVAL, EINTR, EFAULT, ENOTTY))) {
		if (js >= 0 && !F.why && errno == ENOENT) {
			if (!ctx_shared(c))
				fz_fail("WAIT for unreaped job %llu: ENOENT",
					(unsigned long long)id);
			F.jobs[js].ctx = -1;	/* reaped by a child */
			return 1;
		}
		return 0;
	}
	if (js < 0)
		return 1;
	F.jobs_ok += !d->status;
	F.jobs_timedout += d->status == -ETIMEDOUT;
	F.jobs_cancelled += d->status == -ECANCELED;
	if (d->status != 0 && d->status != -ETIMEDOUT && d->status != -ECANCELED)
		fz_fail("WAIT: job %llu status %d", (unsigned long long)id, d->status);
	if ((d->status || F.jobs[js].op != COHBUF_IMP_OP_CHECKSUM) && d->checksum)
		fz_fail("WAIT: job %llu status %d op %u checksum %#x", (unsigned long long)id,
			d->status, F.jobs[js].op, d->checksum);
	F.jobs[js].ctx = -1;
	return 1;
}

static void op_wait(void)
{
	int c = below(NCTX), js = job_pick(c);
	__u64 timeout = chance(85) ? 0 : chance(95) ? below(200000) : 20 * MS;
	__u64 id;

	if (F.ctx[c] < 0)
		return;
	if (js >= 0 && chance(90)) {
		do_wait(c, js, F.jobs[js].id, timeout);
		return;
	}
	/* A job of the other context, one never issued, or id 0. */
	js = job_pick(c ^ 1);
	if (js >= 0 && chance(50))
		id = F.jobs[js].id;
	else
		id = chance(50) ? 0 : F.last_job_id + 1 + below(1000);
	if (!ctx_shared(c))	/* else a child may have submitted it */
		bad("not a job of this context");
	do_wait(c, -1, id, 0);
}

static void ctx_drop_model(int c)
{
	int i;

	for (i = 0; i < NIMPS; i++)
		if (F.imps[i].ctx == c)
			F.imps[i].ctx = -1;
	for (i = 0; i < NJOBS; i++)
		if (F.jobs[i].ctx == c)
			F.jobs[i].ctx = -1;
}

/* Close a context with whatever it has in flight, and open a new one. */
static void op_reopen(void)
{
	int c = below(NCTX);

	if (F.ctx[c] >= 0 && close(F.ctx[c])) {
		fz_fail("close of a context: %s", strerror(errno));
		return;
	}
	ctx_drop_model(c);
	F.shared[c] = 0;
	F.ghost_jobs[c] = 0;
	F.ctx[c] = open(IMPORTER_DEV, O_RDWR | O_CLOEXEC);
	if (F.trace)
		fprintf(stderr, "# T reopen c=%d\n", c);
	fz_result(F.ctx[c], "open context", ERRS(EMFILE, ENFILE, ENOMEM));
}

/* --- processes -------------------------------------------------------------- */

static void fz_run(unsigned long ops);

static void child_main(int share)
{
	int i;

	F.child = 1;
	for (i = 0; i < NKIDS; i++)
		F.kids[i] = 0;
	/*
	 * Either race the parent on its contexts, or leave them alone and
	 * maybe use one of our own.
	 */
	for (i = 0; i < NCTX; i++) {
		F.shared[i] = share;
		if (share)
			continue;
		F.ctx[i] = -1;
		F.ghost_jobs[i] = 0;
		ctx_drop_model(i);
	}
	if (!share && chance(70))
		F.ctx[0] = open(IMPORTER_DEV, O_RDWR | O_CLOEXEC);
	for (i = 0; i < NMAPS; i++)
		if (F.maps[i].addr && F.maps[i].dontfork)
			F.maps[i].addr = NULL;
	fz_run(10 + below(150));
	if (F.failed)
		_exit(1);
	/* Leave with everything open and in flight: exit cleans up. */
	_exit(0);
}

/* Wait for child @k (killing it first if @kill); 1 if it ended well. */
static int kid_reap(int k, int kill_it, int block)
{
	int status, killed = 0;
	pid_t r;

	if (kill_it) {
		killed = !kill(F.kids[k], SIGKILL);
		F.kills += killed;
		block = 1;
	}
	r = waitpid(F.kids[k], &status, block ? 0 : WNOHANG);
	if (!r)
		return 1;	/* still running */
	if (r != F.kids[k]) {
		fz_fail("waitpid: %s", strerror(errno));
		return 0;
	}
	F.kids[k] = 0;
	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		return 1;
	fz_fail("child ended with status %#x", status);
	return 0;
}

/*
 * Start a child that runs alongside this process, or check on, wait for
 * or kill one that runs.
 */
static void op_fork(void)
{
	int k = below(NKIDS), share, i;
	pid_t pid;

	if (F.kids[k]) {
		if (kid_reap(k, chance(40), chance(30)))
			F.ok[F.kind]++;
		return;
	}
	F.forks++;
	share = chance(50);
	pid = fork();
	if (pid < 0) {
		fz_result(-1, "fork", ERRS(EAGAIN, ENOMEM));
		return;
	}
	if (!pid) {
		F.rng ^= 0x5555555555555555ULL;
		child_main(share);
	}
	F.kids[k] = pid;
	for (i = 0; i < NCTX && share; i++)
		F.shared[i] = 1;
	F.ok[F.kind]++;
}

/* --- the driver ------------------------------------------------------------ */

typedef void (*fz_op)(void);

static const fz_op fz_ops[K_MAX] = {
	op_alloc, op_info, op_close, op_dup, op_otherfd, op_foreign, op_sync,
	op_setname, op_export_sf, op_import_sf, op_poll, op_raw,
	op_mmap, op_munmap, op_mprotect, op_mremap, op_madvise, op_touch,
	op_import, op_release, op_submit, op_wait, op_reopen, op_fork,
	op_mmap_fixed, op_rlimit, op_vgem_fence, op_chunk_size,
};

static int pick_kind(void)
{
	unsigned int total = 0, x;
	int k;

	for (k = 0; k < K_MAX; k++)
		total += F.weights[k];
	x = below(total);
	for (k = 0; k < K_MAX; k++) {
		if (x < F.weights[k])
			return k;
		x -= F.weights[k];
	}
	return 0;
}

static void fz_run(unsigned long ops)
{
	unsigned long end = F.op + ops;

	for (; F.op < end && !F.failed; F.op++) {
		if (!(F.op & 127) && now() > F.deadline)
			break;
		F.kind = pick_kind();
		if (F.child && F.kind == K_FORK)
			continue;
		F.why = NULL;
		F.count[F.kind]++;
		if (F.trace && F.op >= F.trace)
			fprintf(stderr, "# op %lu%s %s\n", F.op, F.child ? " child" : "",
				fz_kind_names[F.kind]);
		if (F.profile) {
			double t = now();

			fz_ops[F.kind]();
			F.spent[F.kind] += now() - t;
		} else {
			fz_ops[F.kind]();
		}
	}
}

/* Close everything the model has, waiting for every job first. */
static void fz_cleanup(void)
{
	int i, c;

	if (F.low_nofile && setrlimit(RLIMIT_NOFILE, &F.nofile))
		fz_fail("restoring RLIMIT_NOFILE: %s", strerror(errno));
	F.low_nofile = 0;
	F.kind = K_VGEM_FENCE;
	vgem_signal_all();
	F.kind = K_FORK;
	for (i = 0; i < NKIDS; i++)
		if (F.kids[i])
			kid_reap(i, 0, 1);
	F.kind = K_WAIT;
	for (i = 0; i < NJOBS; i++) {
		c = F.jobs[i].ctx;
		if (c < 0)
			continue;
		F.why = NULL;
		if (!do_wait(c, i, F.jobs[i].id, 30000 * MS) && !F.failed && !ctx_shared(c))
			fz_fail("final WAIT for job %llu: %s", (unsigned long long)F.jobs[i].id,
				strerror(errno));
	}
	for (i = 0; i < NIMPS; i++) {
		struct cohbuf_imp_release_data d = { .handle = F.imps[i].handle };

		if (F.imps[i].ctx < 0)
			continue;
		if (ioctl(F.ctx[F.imps[i].ctx], COHBUF_IMP_IOCTL_RELEASE, &d) && !F.failed &&
		    !(errno == ENOENT && ctx_shared(F.imps[i].ctx)))
			fz_fail("final RELEASE of %u: %s", d.handle, strerror(errno));
		F.imps[i].ctx = -1;
	}
	for (i = 0; i < NMAPS; i++) {
		if (F.maps[i].addr && munmap(F.maps[i].addr, F.maps[i].len) && !F.failed)
			fz_fail("final munmap: %s", strerror(errno));
		F.maps[i].addr = NULL;
	}
	for (i = 0; i < NFDS; i++) {
		if (F.fds[i].kind != FK_FREE && close(F.fds[i].fd) && !F.failed)
			fz_fail("final close: %s", strerror(errno));
		F.fds[i].kind = FK_FREE;
	}
	for (c = 0; c < NCTX; c++) {
		if (F.ctx[c] >= 0)
			close(F.ctx[c]);
		F.ctx[c] = -1;
	}
	for (i = 0; i < F.ntmpl; i++)
		close(F.tmpl[i].fd);
	F.ntmpl = 0;
}

/* --- foreign dma-bufs -------------------------------------------------------- */

/* COHBUF_FUZZ_FOREIGN=vgem,udmabuf,...: only these foreign dma-bufs. */
static int tmpl_wanted(const char *what)
{
	const char *list = getenv("COHBUF_FUZZ_FOREIGN"), *p;
	size_t n = strlen(what);

	if (!list)
		return 1;
	for (p = strstr(list, what); p; p = strstr(p + 1, what))
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* See enum fz_sync_hazard. */
static void tmpl_hazard(struct fz_tmpl *t)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	struct stat st;
	struct utsname u;

	if (!F.dma_debug || fstat(t->fd, &st))
		return;
	t->ino = st.st_ino;
	if (!strcmp(t->what, "udmabuf")) {
		t->hazard = SYNC_ONE_DIR;
		/* Its CPU-sync table is mapped by the first SYNC: make it RW. */
		if (!ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &s)) {
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &s);
		}
	} else if (!strcmp(t->what, "/dev/dma_heap/system") && !uname(&u) &&
		   atoi(u.release) < 7) {
		t->hazard = SYNC_NEVER;
	}
}

static void tmpl_add(int fd, __u64 size, int rdonly, int cohbuf, const char *what)
{
	if (fd < 0 || F.ntmpl == NTMPL || !tmpl_wanted(what)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	F.tmpl[F.ntmpl] = (struct fz_tmpl){ .fd = fd, .size = size, .rdonly = rdonly,
					   .cohbuf = cohbuf, .what = what };
	tmpl_hazard(&F.tmpl[F.ntmpl++]);
}

static void make_foreign(void)
{
	int drm = cohbuf_vgem_open(), fd, dev, memfd, ro;

	/*
	 * A GEM object has one dma-buf, made by its first export: the
	 * read-only export needs an object of its own.
	 */
	for (ro = 0; drm >= 0 && ro < 2; ro++) {
		struct drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };

		if (drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
			break;
		if (!drmPrimeHandleToFD(drm, dumb.handle, DRM_CLOEXEC | (ro ? 0 : DRM_RDWR), &fd))
			tmpl_add(fd, dumb.size, ro, 0, ro ? "vgem-ro" : "vgem");
		drmCloseBufferHandle(drm, dumb.handle);
	}
	if (drm >= 0)
		close(drm);

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	memfd = memfd_create("fuzz-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (dev >= 0 && memfd >= 0 && !ftruncate(memfd, 16 * PAGE) &&
	    !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		struct udmabuf_create c = { .memfd = (__u32)memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
					    .size = 16 * PAGE };

		tmpl_add(ioctl(dev, UDMABUF_CREATE, &c), 16 * PAGE, 0, 0, "udmabuf");
	}
	if (memfd >= 0)
		close(memfd);
	if (dev >= 0)
		close(dev);

	for (fd = 0; fd < 2; fd++) {
		const char *heap = fd ? "/dev/dma_heap/cohbuf" : "/dev/dma_heap/system";
		struct dma_heap_allocation_data a = { .len = 8 * PAGE,
						      .fd_flags = O_RDWR | O_CLOEXEC };

		dev = open(heap, O_RDONLY | O_CLOEXEC);
		if (dev < 0)
			continue;
		if (!ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &a))
			tmpl_add((int)a.fd, a.len, 0, fd, heap);
		close(dev);
	}
}

/* --- accounting ------------------------------------------------------------- */

struct fz_counters {
	long long live_buffers, live_bytes, imports, releases, submitted, done;
	int buffer_lines, import_lines, job_lines;
};

/* Open fds of this process. */
static int count_fds(void)
{
	struct dirent *e;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}

static void read_counters(struct fz_counters *c)
{
	const char *st = IMPORTER_DEBUGFS "/stats";

	c->live_buffers = cohbuf_stat("live_buffers");
	c->live_bytes = cohbuf_stat("live_bytes");
	c->imports = read_number(st, "imports");
	c->releases = read_number(st, "releases");
	c->submitted = read_number(st, "submitted");
	c->done = read_number(st, "succeeded") + read_number(st, "timed_out") +
		  read_number(st, "cancelled");
	c->buffer_lines = test_count_lines(COHBUF_DEBUGFS "/buffers");
	c->import_lines = test_count_lines(IMPORTER_DEBUGFS "/imports");
	c->job_lines = test_count_lines(IMPORTER_DEBUGFS "/jobs");
}

/* Every live count back at @base (fences and frees may lag a little). */
static int counters_settled(const struct fz_counters *base, char *why, size_t len)
{
	struct fz_counters c;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		read_counters(&c);
		if (c.live_buffers == base->live_buffers && c.live_bytes == base->live_bytes &&
		    c.imports - c.releases == base->imports - base->releases &&
		    c.submitted - c.done == base->submitted - base->done &&
		    c.buffer_lines == base->buffer_lines &&
		    c.import_lines == base->import_lines && c.job_lines == base->job_lines)
			return 1;
		usleep(20000);
	}
	snprintf(why, len,
		 "live_buffers %lld->%lld live_bytes %lld->%lld live imports %lld->%lld unfinished jobs %lld->%lld debugfs lines buffers %d->%d imports %d->%d jobs %d->%d",
		 base->live_buffers, c.live_buffers, base->live_bytes, c.live_bytes,
		 base->imports - base->releases, c.imports - c.releases,
		 base->submitted - base->done, c.submitted - c.done,
		 base->buffer_lines, c.buffer_lines, base->import_lines, c.import_lines,
		 base->job_lines, c.job_lines);
	return 0;
}

/* --- the tests --------------------------------------------------------------- */

#define IMP_TIMEOUT_PARAM "/sys/module/cohbuf_importer/parameters/timeout_ms"

FIXTURE(fuzz) {
	long long max_buffer, max_total, chunk, imp_timeout;
};

FIXTURE_SETUP(fuzz)
{
	self->max_buffer = cohbuf_param("max_buffer_size");
	self->max_total = cohbuf_param("max_total_bytes");
	self->chunk = cohbuf_param("chunk_size");
	ASSERT_LT(0, self->max_buffer);
	ASSERT_EQ(0, cohbuf_set_param("max_buffer_size", FZ_MAX_BUFFER));
	ASSERT_EQ(0, cohbuf_set_param("max_total_bytes", FZ_MAX_TOTAL));
	ASSERT_EQ(0, cohbuf_set_param("chunk_size", FZ_CHUNK));
	self->imp_timeout = read_number(IMP_TIMEOUT_PARAM, NULL);
	ASSERT_LT(0, self->imp_timeout);
	ASSERT_EQ(0, write_text(IMP_TIMEOUT_PARAM, FZ_STR(FZ_IMP_TIMEOUT_MS)));
}

FIXTURE_TEARDOWN(fuzz)
{
	cohbuf_set_param("max_buffer_size", self->max_buffer);
	cohbuf_set_param("max_total_bytes", self->max_total);
	cohbuf_set_param("chunk_size", self->chunk);
	if (self->imp_timeout > 0) {
		char text[32];

		snprintf(text, sizeof(text), "%lld", self->imp_timeout);
		write_text(IMP_TIMEOUT_PARAM, text);
	}
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

#define OPS_FILE "/tmp/cohbuf_fuzz.ops"

/*
 * One of the FZ_RUNS fuzz runs: by default @share percent of DEFAULT_OPS,
 * DEFAULT_SEED + @index and what the runs before it left of
 * DEFAULT_SECONDS, less FZ_MIN_SECONDS for each run still to come (runs
 * differ in speed, and kernels and loads differ in which one is slow).
 */
#define FZ_RUNS		4
#define FZ_MIN_SECONDS	10.0

/* Seconds the runs before this one took, as OPS_FILE has them. */
static double fz_spent(void)
{
	FILE *f = fopen(OPS_FILE, "r");
	double t, sum = 0;
	unsigned long ops;
	char name[64];

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lu %lf", name, &ops, &t) == 3)
		sum += t;
	fclose(f);
	return sum;
}

static void fuzz_test(struct __test_metadata *_metadata, const char *name, int index,
		      unsigned int share, const unsigned int *weights)
{
	double seconds, t0, dt;
	struct fz_counters base;
	struct sigaction sa;
	char why[512], line[1024];
	const char *env;
	int i, n = 0, fds;
	FILE *f;

	env = getenv("COHBUF_FUZZ_RUN");
	if (env && *env && strcmp(env, name))
		SKIP(return, "COHBUF_FUZZ_RUN=%s", env);
	seconds = DEFAULT_SECONDS - fz_spent() - FZ_MIN_SECONDS * (FZ_RUNS - 1 - index);
	if (seconds < FZ_MIN_SECONDS)
		seconds = FZ_MIN_SECONDS;
	env = getenv("COHBUF_FUZZ_SECONDS");
	if (env && *env)
		seconds = strtod(env, NULL);
	memset(&F, 0, sizeof(F));
	F.seed = env_ul("COHBUF_FUZZ_SEED", DEFAULT_SEED + (__u64)index);
	F.rng = F.seed;
	F.max_ops = env_ul("COHBUF_FUZZ_OPS", DEFAULT_OPS * share / 100);
	F.weights = weights;
	F.trace = env_ul("COHBUF_FUZZ_TRACE", 0);
	F.profile = !!getenv("COHBUF_FUZZ_PROFILE");
	F.closed_fd = -1;
	for (i = 0; i < NFDS; i++)
		F.fds[i].fd = -1;
	for (i = 0; i < NIMPS; i++)
		F.imps[i].ctx = -1;
	for (i = 0; i < NJOBS; i++)
		F.jobs[i].ctx = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	read_counters(&base);
	fds = count_fds();
	ASSERT_LE(0, base.live_buffers);
	ASSERT_LE(0, base.imports) TH_LOG("no importer debugfs");
	F.engines = (int)read_number("/sys/module/cohbuf_importer/parameters/engines", NULL);
	ASSERT_LT(0, F.engines);
	F.dev = cohbuf_dev_open();
	ASSERT_LE(0, F.dev);
	for (i = 0; i < NCTX; i++) {
		F.ctx[i] = cohbuf_importer_open();
		ASSERT_LE(0, F.ctx[i]);
	}
	F.ro_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, F.ro_page);
	F.guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, F.guard);
	ASSERT_EQ(0, mprotect(F.guard + PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &F.nofile));
	if (!argbuf)
		argbuf = mmap(NULL, ARGBUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
	ASSERT_NE(MAP_FAILED, argbuf);
	F.dma_debug = !access("/sys/kernel/debug/dma-api", F_OK);
	make_foreign();
	F.drm = cohbuf_vgem_open();
	n = 0;
	line[0] = 0;
	for (i = 0; i < F.ntmpl; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s", F.tmpl[i].what);
	ksft_print_msg("fuzz %s: seed=%#llx ops=%lu time limit %.0f s, foreign dma-bufs:%s\n",
		       name, (unsigned long long)F.seed, F.max_ops, seconds,
		       F.ntmpl ? line : " none");

	t0 = now();
	F.deadline = t0 + seconds;
	fz_run(F.max_ops);
	dt = now() - t0;
	if (!F.failed)
		fz_cleanup();
	close(F.dev);
	if (F.drm >= 0)
		close(F.drm);

	n = 0;
	for (i = 0; i < K_MAX; i++)
		if (F.count[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu/%lu",
				      fz_kind_names[i], F.ok[i], F.count[i]);
	ksft_print_msg("fuzz %s: %lu ops in %.2f s, %.0f ops/s%s; forks %lu (killed %lu)\n",
		       name, F.op, dt, F.op / (dt > 0 ? dt : 1),
		       F.failed ? ", STOPPED by the failure" :
		       F.op < F.max_ops ? ", STOPPED EARLY by the time limit" : "",
		       F.forks, F.kills);
	ksft_print_msg("fuzz %s: jobs reaped: %lu ok, %lu timed out, %lu cancelled\n", name,
		       F.jobs_ok, F.jobs_timedout, F.jobs_cancelled);
	ksft_print_msg("fuzz %s: succeeded/issued:%s\n", name, line);
	for (i = 0, n = 0; i < K_MAX && F.profile; i++)
		if (F.count[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%.0f",
				      fz_kind_names[i], 1e6 * F.spent[i] / F.count[i]);
	if (F.profile)
		ksft_print_msg("fuzz %s: microseconds per op:%s\n", name, line);
	f = fopen(OPS_FILE, "a");
	if (f) {
		fprintf(f, "%s %lu %.2f\n", name, F.op, dt);
		fclose(f);
	}
	ASSERT_FALSE(F.failed) TH_LOG("%s", F.msg);
	EXPECT_EQ(fds, count_fds()) TH_LOG("seed %#llx: an fd leaked", (unsigned long long)F.seed);
	ASSERT_TRUE(counters_settled(&base, why, sizeof(why)))
		TH_LOG("seed %#llx: not back to the start after closing everything: %s",
		       (unsigned long long)F.seed, why);
}

/* Weights per operation kind, in enum fz_kind order. */
static const unsigned int w_exporter[K_MAX] = {
	[K_ALLOC] = 14, [K_INFO] = 25, [K_CLOSE] = 10, [K_DUP] = 8, [K_OTHERFD] = 2,
	[K_FOREIGN] = 2, [K_SYNC] = 15, [K_SETNAME] = 8, [K_EXPORT_SF] = 6,
	[K_IMPORT_SF] = 6, [K_POLL] = 8, [K_RAW] = 10, [K_RLIMIT] = 1, [K_CHUNK_SIZE] = 1,
};

static const unsigned int w_mmap[K_MAX] = {
	[K_ALLOC] = 8, [K_INFO] = 2, [K_CLOSE] = 5, [K_DUP] = 2, [K_FOREIGN] = 3,
	[K_SYNC] = 3, [K_MMAP] = 25, [K_MUNMAP] = 12, [K_MPROTECT] = 10,
	[K_MREMAP] = 10, [K_MADVISE] = 10, [K_TOUCH] = 20, [K_MMAP_FIXED] = 5,
	[K_CHUNK_SIZE] = 1,
};

static const unsigned int w_importer[K_MAX] = {
	[K_ALLOC] = 12, [K_INFO] = 4, [K_CLOSE] = 8, [K_DUP] = 4, [K_OTHERFD] = 2,
	[K_FOREIGN] = 6, [K_SYNC] = 8, [K_EXPORT_SF] = 8, [K_IMPORT_SF] = 8,
	[K_POLL] = 8, [K_RAW] = 12, [K_IMPORT] = 30, [K_RELEASE] = 20, [K_SUBMIT] = 50,
	[K_WAIT] = 50, [K_REOPEN] = 1, [K_RLIMIT] = 1, [K_VGEM_FENCE] = 2, [K_CHUNK_SIZE] = 1,
};

static const unsigned int w_mixed[K_MAX] = {
	[K_ALLOC] = 16, [K_INFO] = 10, [K_CLOSE] = 10, [K_DUP] = 8, [K_OTHERFD] = 2,
	[K_FOREIGN] = 4, [K_SYNC] = 8, [K_SETNAME] = 4, [K_EXPORT_SF] = 6,
	[K_IMPORT_SF] = 6, [K_POLL] = 6, [K_RAW] = 6, [K_MMAP] = 16, [K_MUNMAP] = 8,
	[K_MPROTECT] = 6, [K_MREMAP] = 6, [K_MADVISE] = 6, [K_TOUCH] = 12,
	[K_IMPORT] = 12, [K_RELEASE] = 8, [K_SUBMIT] = 16, [K_WAIT] = 16, [K_REOPEN] = 1,
	[K_FORK] = 1, [K_MMAP_FIXED] = 4, [K_RLIMIT] = 1, [K_CHUNK_SIZE] = 1,
};

TEST_F_TIMEOUT(fuzz, exporter_uapi, 120)
{
	fuzz_test(_metadata, "exporter_uapi", 0, 37, w_exporter);
}

TEST_F_TIMEOUT(fuzz, mmap, 120)
{
	fuzz_test(_metadata, "mmap", 1, 28, w_mmap);
}

TEST_F_TIMEOUT(fuzz, importer, 120)
{
	fuzz_test(_metadata, "importer", 2, 27, w_importer);
}

TEST_F_TIMEOUT(fuzz, processes, 120)
{
	fuzz_test(_metadata, "processes", 3, 8, w_mixed);
}

/*
 * Found by the fuzzer: RELEASE of handle 0 erased the reservation of index
 * 0 in the context's handle table, and the next IMPORT returned handle 0.
 */
TEST_F(fuzz, release_of_handle_0_keeps_handles_non_zero)
{
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open(), buf, h1, h2;

	ASSERT_LE(0, dev);
	ASSERT_LE(0, ctx);
	buf = test_alloc(dev, 4 * PAGE);
	ASSERT_LE(0, buf);
	h1 = test_imp_import(ctx, buf, NULL);
	ASSERT_LT(0, h1);
	EXPECT_EQ(-ENOENT, cohbuf_importer_release(ctx, 0));
	h2 = test_imp_import(ctx, buf, NULL);
	EXPECT_LT(0, h2);
	EXPECT_NE(h1, h2);
	EXPECT_EQ(-ENOENT, cohbuf_importer_release(ctx, 0));
	EXPECT_EQ(0, cohbuf_importer_release(ctx, h1));
	if (h2 >= 0)
		EXPECT_EQ(0, cohbuf_importer_release(ctx, h2));
	close(buf);
	close(ctx);
	close(dev);
}

/* After all runs: nothing of ours is alive at all, and the op total. */
TEST_F(fuzz, final_accounting)
{
	unsigned long total = 0, ops;
	char name[64];
	double t, secs = 0;
	FILE *f = fopen(OPS_FILE, "r");

	if (f) {
		while (fscanf(f, "%63s %lu %lf", name, &ops, &t) == 3) {
			total += ops;
			secs += t;
		}
		fclose(f);
		unlink(OPS_FILE);
	}
	ksft_print_msg("fuzz total: %lu ops in %.2f s (%.0f ops/s)%s\n", total, secs,
		       total / (secs > 0 ? secs : 1),
		       total < DEFAULT_OPS ? ", fewer than 1000000" : "");
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
	EXPECT_EQ(0, cohbuf_stat("live_bytes"));
	EXPECT_EQ(0, test_count_lines(COHBUF_DEBUGFS "/buffers"));
	EXPECT_EQ(0, test_count_lines(IMPORTER_DEBUGFS "/imports"));
	EXPECT_EQ(0, test_count_lines(IMPORTER_DEBUGFS "/jobs"));
}

/*
 * COHBUF_FUZZ_SECONDS may ask for runs longer than the harness's timeout
 * of each test (120 s): raise it to that time limit plus a minute for the
 * cleanup, else the harness kills a long run half-way.  Every invocation
 * starts with a fresh OPS_FILE.
 */
int main(int argc, char **argv)
{
	const char *env = getenv("COHBUF_FUZZ_SECONDS");
	int need = env && *env ? (int)strtod(env, NULL) + 60 : 0;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			if (t->timeout < need)
				t->timeout = need;
	/* The runs' operation counts and times, for the budget and the total. */
	unlink(OPS_FILE);
	return test_harness_run(argc, argv);
}
