// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on mappings of dma-bufs: mmap, munmap, mprotect, mremap,
 * madvise, MAP_FIXED over them and touching their pages.
 */

#include "fuzz.h"

#define READ_ONCE_CHAR(p)	__atomic_load_n((char *)(p), __ATOMIC_RELAXED)
#define WRITE_ONCE_CHAR(p, v)	__atomic_store_n((char *)(p), (v), __ATOMIC_RELAXED)

void touch(struct fz_map *m, size_t off)
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

/* A random part of a random region, split off by map_isolate(): its index and *@len, or -1. */
static int map_pick_part(size_t *len)
{
	int i = map_slot_pick();
	size_t off;

	if (i < 0)
		return -1;
	map_subrange(i, &off, len);
	return map_isolate(i, off, *len);
}

void op_mmap(void)
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

void op_munmap(void)
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

void op_mprotect(void)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int j, prot;
	size_t len;

	j = map_pick_part(&len);
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

void op_mremap(void)
{
	int j, variant, flags = 0, grows;
	size_t len, new_len;
	char *p, *target = NULL;

	j = map_pick_part(&len);
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

void op_madvise(void)
{
	static const int advice[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_FREE,
		MADV_COLD, MADV_PAGEOUT, MADV_REMOVE, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
		MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_WIPEONFORK, MADV_KEEPONFORK,
		22 /* MADV_POPULATE_READ */, 23 /* MADV_POPULATE_WRITE */,
	};
	int j, adv;
	size_t len;

	j = map_pick_part(&len);
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

void op_touch(void)
{
	int i = map_slot_pick(), k;

	if (i < 0)
		return;
	for (k = 0; k < 4; k++)
		touch(&F.maps[i], below(F.maps[i].len));
	F.ok[F.kind]++;
}

/*
 * mmap(MAP_FIXED) of a dma-buf over part of an existing mapping, which
 * splits it; or MAP_FIXED_NOREPLACE there, which must fail.
 */
void op_mmap_fixed(void)
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
