// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on cohbuf's and the dma-buf core's uapi: ALLOC, INFO, close
 * and dup games, DMA_BUF_IOCTL_SYNC, COHBUF_IOCTL_SYNC, SET_NAME, EXPORT/IMPORT_SYNC_FILE,
 * poll, raw ioctls, the chunk_size parameter and vgem fences.
 */

#include "fuzz.h"

void op_alloc(void)
{
	struct cohbuf_alloc_data *d = (void *)argbuf;
	unsigned long cmd = COHBUF_IOCTL_ALLOC;
	__u64 rounded;
	int ovf, ret;
	void *argp;

	gen_alloc_args(d, &cmd);
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

void op_info(void)
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

void op_close(void)
{
	int s = fd_slot_pick(FK_FREE);

	if (s < 0)
		return;
	if (fz_result(close(F.fds[s].fd), "close", ERRS(0)))
		fd_forget(s);
	else
		fz_fail("close of a live fd failed: %s", strerror(errno));
}

void op_dup(void)
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

void op_otherfd(void)
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
void op_foreign(void)
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

void vgem_signal_all(void)
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

void op_sync(void)
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

/* COHBUF_IOCTL_SYNC: a range of any fd, mostly valid flags. */
void op_range_sync(void)
{
	struct cohbuf_sync_data *d = (void *)argbuf;
	int slot, fd = some_fd(FK_COHBUF, &slot), out, ret;
	__u64 size = slot >= 0 ? F.fds[slot].size : PAGE;

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->flags = chance(85) ? (below(2) ? COHBUF_SYNC_END : 0) | (1 + below(3)) :
		(__u32)(r64() >> below(64));
	pick_range(size, &d->offset, &d->len, &out);
	if (chance(5))
		d->len = 0;
	if ((d->flags & ~COHBUF_SYNC_FLAGS_MASK) || !(d->flags & COHBUF_SYNC_RW))
		bad("invalid range sync flags");
	if (!d->len)
		bad("empty range");
	/* Sizes are known only for pool fds (not for the templates). */
	if (slot >= 0 && out)
		bad("range outside the buffer");
	if (slot >= 0 && F.fds[slot].kind != FK_COHBUF)
		bad("not a cohbuf dma-buf");
	ret = ioctl(F.dev, fz_cmd(COHBUF_IOCTL_SYNC, COHBUF_SYNC_DATA_SIZE_VER0), fz_argp());
	fz_result(ret, "COHBUF_IOCTL_SYNC", ERRS(EBADF, EINVAL, EFAULT, ENOTTY));
}

/*
 * COHBUF_IOCTL_WRITE_FILE: a range of a pool buffer into the run's memfd
 * (mostly), at an offset below 1 MiB, so that the file stays small; or
 * into some other fd, which the kernel must refuse or take as a file.
 */
void op_write_file(void)
{
	struct cohbuf_write_file_data *d = (void *)argbuf;
	int slot, fd = some_fd(FK_COHBUF, &slot), fslot, out, ret;
	__u64 size = slot >= 0 ? F.fds[slot].size : PAGE;

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->file_fd = chance(85) ? F.wfile : some_fd(FK_OTHER, &fslot);
	pick_range(size, &d->offset, &d->len, &out);
	d->file_offset = below(1 << 20);
	switch (below(40)) {
	case 0:
		d->flags = 1U << below(32);
		bad("flags not 0");
		break;
	case 1:
		d->pad = 1 + below(100);
		bad("pad not 0");
		break;
	case 2:
		d->written = 1 + below(100);
		bad("written not 0");
		break;
	case 3:
		d->file_offset = -1 - (__s64)below(1000);
		bad("negative file offset");
		break;
	case 4:
		d->len = 0;
		bad("empty range");
		break;
	}
	if (slot >= 0 && out)
		bad("range outside the buffer");
	if (slot >= 0 && F.fds[slot].kind != FK_COHBUF)
		bad("not a cohbuf dma-buf");
	ret = ioctl(F.dev, fz_cmd(COHBUF_IOCTL_WRITE_FILE, COHBUF_WRITE_FILE_DATA_SIZE_VER0),
		    fz_argp());
	if (!fz_result(ret, "COHBUF_IOCTL_WRITE_FILE",
		       ERRS(EBADF, EINVAL, ESPIPE, EFBIG, EOPNOTSUPP, EINTR, ENOMEM, ENOSPC,
			    EFAULT, ENOTTY, EAGAIN, EPERM, EIO)))
		return;
	if (!d->written || d->written > d->len)
		fz_fail("WRITE_FILE wrote %llu of %llu bytes", (unsigned long long)d->written,
			(unsigned long long)d->len);
}

void op_setname(void)
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

void op_export_sf(void)
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

void op_import_sf(void)
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

void op_poll(void)
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
void op_raw(void)
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
void op_chunk_size(void)
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

/*
 * A sync_file whose fence stays unsignalled until it is signalled here
 * (or vgem's own 10 s timer): jobs that wait for it time out after the
 * importer's timeout_ms, their dependants are cancelled. CPU access
 * (DMA_BUF_IOCTL_SYNC) would wait for it, so that signals them all first;
 * the run with child processes does without them.
 */
void op_vgem_fence(void)
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
