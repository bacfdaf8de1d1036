// SPDX-License-Identifier: GPL-2.0
/*
 * The model of the live objects: the fd pool, the mapped regions, the
 * importer's handles and jobs, and the run's state.
 */

#include "fuzz.h"

const char *const fz_kind_names[K_MAX] = {
	"alloc", "info", "close", "dup", "otherfd", "foreign", "sync",
	"setname", "export_sf", "import_sf", "poll", "raw_ioctl",
	"mmap", "munmap", "mprotect", "mremap", "madvise", "touch",
	"import", "release", "submit", "wait", "reopen_ctx", "fork",
	"mmap_fixed", "rlimit", "vgem_fence", "chunk_size", "range_sync",
	"stream_create", "stream_queue", "stream_dequeue", "stream_startstop",
	"stream_advance", "stream_stats", "stream_read", "ring_consume",
	"ring_poll", "stream_close",
	"write_file",
};

struct fz F;

/* May this context hold handles or jobs the model does not know? */
int ctx_shared(int c)
{
	return F.shared[c] || F.ghost_jobs[c];
}

unsigned char *argbuf;	/* ARGBUF bytes, page aligned */
struct cohbuf_chunk_info chunkbuf[1024];

static int fd_slot_free(void)
{
	int i, s = below(NFDS);

	for (i = 0; i < NFDS; i++)
		if (F.fds[(s + i) % NFDS].kind == FK_FREE)
			return (s + i) % NFDS;
	return -1;
}

/* A random live slot, preferring @kind (FK_FREE: any kind); -1 if none. */
int fd_slot_pick(int kind)
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

void fd_add(int fd, int kind, __u64 size, int rdonly, __u32 flags, __u32 cache)
{
	int s = fd_slot_free();

	if (s < 0) {
		close(fd);
		return;
	}
	F.fds[s] = (struct fz_fd){ .fd = fd, .kind = kind, .size = size,
				   .rdonly = rdonly, .flags = flags, .cache_mode = cache };
}

void fd_forget(int s)
{
	F.closed_fd = F.fds[s].fd;
	F.fds[s].kind = FK_FREE;
	F.fds[s].fd = -1;
}

int is_dmabuf_kind(int kind)
{
	return kind == FK_COHBUF || kind == FK_FOREIGN;
}

int map_slot_free(void)
{
	int i;

	for (i = 0; i < NMAPS; i++)
		if (!F.maps[i].addr)
			return i;
	return -1;
}

int map_slot_pick(void)
{
	int i, s = below(NMAPS);

	for (i = 0; i < NMAPS; i++)
		if (F.maps[(s + i) % NMAPS].addr)
			return (s + i) % NMAPS;
	return -1;
}

int imp_pick(int ctx)
{
	int i, s = below(NIMPS);

	for (i = 0; i < NIMPS; i++)
		if (F.imps[(s + i) % NIMPS].ctx == ctx)
			return (s + i) % NIMPS;
	return -1;
}

/* The model's import for handle @h of context @c, or -1. */
int imp_find(int c, __u32 h)
{
	int i;

	for (i = 0; i < NIMPS; i++)
		if (F.imps[i].ctx == c && F.imps[i].handle == h)
			return i;
	return -1;
}

int imp_free_slot(void)
{
	return imp_pick(-1);
}

int job_pick(int ctx)
{
	int i, s = below(NJOBS);

	for (i = 0; i < NJOBS; i++)
		if (F.jobs[(s + i) % NJOBS].ctx == ctx)
			return (s + i) % NJOBS;
	return -1;
}

void ctx_drop_model(int c)
{
	int i;

	for (i = 0; i < NIMPS; i++)
		if (F.imps[i].ctx == c)
			F.imps[i].ctx = -1;
	for (i = 0; i < NJOBS; i++)
		if (F.jobs[i].ctx == c)
			F.jobs[i].ctx = -1;
}

int is_stream_kind(int kind)
{
	return kind >= K_STREAM_CREATE && kind <= K_STREAM_CLOSE;
}

/* A live stream's slot, or -1. */
int stream_pick(void)
{
	int i, s = below(NSTREAMS);

	for (i = 0; i < NSTREAMS; i++)
		if (F.streams[(s + i) % NSTREAMS].fd >= 0)
			return (s + i) % NSTREAMS;
	return -1;
}

/* A live ring stream's slot, or -1. */
int ring_pick(void)
{
	int i, s = below(NSTREAMS);

	for (i = 0; i < NSTREAMS; i++)
		if (F.streams[(s + i) % NSTREAMS].fd >= 0 && F.streams[(s + i) % NSTREAMS].ring)
			return (s + i) % NSTREAMS;
	return -1;
}

int stream_slot_free(void)
{
	int i;

	for (i = 0; i < NSTREAMS; i++)
		if (F.streams[i].fd < 0)
			return i;
	return -1;
}

void stream_forget(int s)
{
	F.closed_fd = F.streams[s].fd;
	F.streams[s].fd = -1;
}
