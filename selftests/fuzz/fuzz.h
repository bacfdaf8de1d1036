/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's shared declarations: its limits, the model's types and
 * state, and the functions its files call in one another.  Calls go
 * downward: main (the tests) -> foreign, accounting, driver; driver ->
 * the operations (exporter, mmap, importer, stream -> ring, process) -> gen (the
 * generators) -> model -> rng, and every one of them -> oracle.  The one
 * call back up is a fork()ed child's: process.c runs the driver's
 * fz_run() in it.
 */
#ifndef COHBUF_FUZZ_H
#define COHBUF_FUZZ_H

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <xf86drm.h>

#include "kselftest.h"		/* __printf, ARRAY_SIZE */

#include "../cohbuf_test.h"
#include "../importer_test.h"
#include "../vgem_test.h"
#include "../stream_test.h"

#define PAGE		4096UL
#define NFDS		24	/* pool of fds the operations pick from */
#define NMAPS		32	/* mapped regions */
#define NIMPS		24	/* importer handles */
#define NJOBS		64	/* unreaped jobs */
#define NCTX		2	/* importer contexts */
#define NTMPL		8	/* foreign dma-bufs, duplicated into the pool */
#define NKIDS		2	/* children running at once */
#define NVGEM		2	/* unsignalled vgem fences */
#define NSTREAMS	4	/* streams (manual clock) */
#define NFILLS		8	/* output regions filled, per stream */
#define FZ_STREAM_TIMEOUT_MS 100 /* stream_timeout_ms: a held region's fence
				  * signals this soon, so a SYNC or a job
				  * waiting for it does not stall the run
				  */
#define FZ_IMP_TIMEOUT_MS 20	/* importer timeout_ms for the run */
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

/* An output stream's region, filled with the payload of frames from @frame on. */
struct fz_fill {
	__u64 cookie, offset, frame;
};

/*
 * A stream: its fd, and what its records must say. A queue-mode input
 * stream, an output stream (@output) or a ring-mode input stream (@ring),
 * whose data area is @buf and whose records the model reads in place.
 */
struct fz_stream {
	int fd;			/* -1: free slot */
	int ring, output;
	__u32 block_frames, frame_bytes, channels, format;
	__u64 next_sequence;	/* of the next record */
	__u64 next_frame;	/* no record starts before it */
	__u64 cookie_base;	/* every cookie QUEUE gave it is above */
	int buf;		/* its own cohbuf buffer of @buf_size bytes,
				 * not in the pool, or -1: most QUEUEs go
				 * there, as a region's fence makes every
				 * SYNC and job on its buffer wait
				 */
	__u64 buf_size;
	unsigned char *map;	/* @buf mapped (ring: read-only), or NULL */
	/* output: the regions filled and queued, in queue order */
	struct fz_fill fills[NFILLS];
	int nfills;
	__u64 fill_next;	/* the frame the next region is filled for */
	/* ring mode */
	__u32 ring_flags, record_bytes, watermark;
	__u64 ring_offset, ring_length;
	struct cohbuf_ring_consumer *cons;	/* the control pages, mapped */
	const struct cohbuf_ring_producer *prod;
	__u64 pos;		/* where the next record starts */
	__u64 tail;		/* the tail written last, maybe an invalid one */
	__u64 pending_gap;	/* frames the last gap record announced */
	int lapped;		/* OVERWRITE: resynchronise at the next block */
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
	K_MMAP_FIXED, K_RLIMIT, K_VGEM_FENCE, K_CHUNK_SIZE, K_RANGE_SYNC,
	K_STREAM_CREATE, K_STREAM_QUEUE, K_STREAM_DEQUEUE, K_STREAM_STARTSTOP,
	K_STREAM_ADVANCE, K_STREAM_STATS, K_STREAM_READ, K_RING_CONSUME,
	K_RING_POLL, K_STREAM_CLOSE,
	K_WRITE_FILE,
	K_MAX
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

struct fz {
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
	struct fz_stream streams[NSTREAMS];
	__u64 last_cookie;
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
	int wfile;		/* a memfd, for COHBUF_IOCTL_WRITE_FILE */
};

/* What the debugfs counters of both modules say is alive. */
struct fz_counters {
	long long live_buffers, live_bytes, imports, releases, submitted, done;
	long long streams, stream_regions;
	int buffer_lines, import_lines, job_lines;
};

extern struct fz F;
extern const char *const fz_kind_names[K_MAX];
extern unsigned char *argbuf;	/* ARGBUF bytes, page aligned */
extern struct cohbuf_chunk_info chunkbuf[1024];

/* A list of errnos, ended by 0. */
#define ERRS(...) ((const int[]){ __VA_ARGS__, 0 })

/* rng.c */
__u32 below(__u32 n);
__u64 r64(void);
int chance(unsigned int pct);

/* oracle.c */
int fz_result(long ret, const char *call, const int *allowed);
void bad(const char *why);
void fz_fail(const char *fmt, ...) __printf(1, 2);
void fz_fault(int sig, siginfo_t *si, void *uc);

/* model.c */
int ctx_shared(int c);
int fd_slot_pick(int kind);
int imp_find(int c, __u32 h);
int imp_free_slot(void);
int imp_pick(int ctx);
int is_dmabuf_kind(int kind);
int job_pick(int ctx);
int map_slot_free(void);
int map_slot_pick(void);
int stream_pick(void);
int ring_pick(void);
int stream_slot_free(void);
int is_stream_kind(int kind);
void stream_forget(int s);
void ctx_drop_model(int c);
void fd_add(int fd, int kind, __u64 size, int rdonly, __u32 flags, __u32 cache);
void fd_forget(int s);

/* gen.c */
void gen_alloc_args(struct cohbuf_alloc_data *d, unsigned long *cmd);
void gen_submit_bad_field(struct cohbuf_imp_submit_data *d);
void gen_stream_params(struct cohbuf_stream_create_data *d);
void gen_ring_params(struct cohbuf_stream_create_data *d, __u64 *buf_size);
void gen_stream_region(const struct fz_stream *st, struct cohbuf_stream_queue_data *d,
		       int *slot);
__u64 gen_stream_buf_size(const struct fz_stream *st);
__u64 pick_size(void);
__u64 round_page_u64(__u64 size, int *overflow);
int some_fd(int kind, int *slot);
unsigned long fz_cmd(unsigned long cmd, size_t ver0);
void *fz_argp(void);
void *fz_ro_arg(void *argp, size_t len, unsigned long *cmd, unsigned long real);
void map_subrange(int i, size_t *off, size_t *len);
void pick_range(__u64 size, __u64 *off, __u64 *len, int *out);

/* exporter.c */
void op_alloc(void);
void op_chunk_size(void);
void op_close(void);
void op_dup(void);
void op_export_sf(void);
void op_foreign(void);
void op_import_sf(void);
void op_info(void);
void op_otherfd(void);
void op_poll(void);
void op_range_sync(void);
void op_raw(void);
void op_setname(void);
void op_sync(void);
void op_vgem_fence(void);
void op_write_file(void);
void vgem_signal_all(void);

/* mmap.c */
void op_madvise(void);
void op_mmap(void);
void op_mmap_fixed(void);
void op_mprotect(void);
void op_mremap(void);
void op_munmap(void);
void op_touch(void);
void touch(struct fz_map *m, size_t off);

/* importer.c */
int do_wait(int c, int js, __u64 id, __u64 timeout_ns);
void op_import(void);
void op_release(void);
void op_reopen(void);
void op_submit(void);
void op_wait(void);

/* stream.c */
void op_stream_advance(void);
void op_stream_close(void);
void op_stream_create(void);
void op_stream_dequeue(void);
void op_stream_queue(void);
void op_stream_read(void);
void op_stream_startstop(void);
void op_stream_stats(void);
void streams_close_all(void);

/* ring.c */
int ring_setup(int s);
void ring_teardown(int s);
int ring_tail_unusable(int s);
void op_ring_consume(void);
void op_ring_poll(void);

/* process.c */
int kid_reap(int k, int kill_it, int block);
void op_fork(void);
void op_rlimit(void);

/* driver.c */
void fz_cleanup(void);
void fz_run(unsigned long ops);

/* foreign.c */
void make_foreign(void);

/* accounting.c */
int counters_settled(const struct fz_counters *base, char *why, size_t len);
void read_counters(struct fz_counters *c);

#endif /* COHBUF_FUZZ_H */
