// SPDX-License-Identifier: GPL-2.0
/*
 * Foreign dma-bufs (vgem, udmabuf, dma-heaps) where the kernel has them,
 * as templates the operations duplicate into the fd pool.
 */

#include "fuzz.h"

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
	} else if (!strcmp(t->what, "/dev/dma_heap/system") && test_heap_sync_faults()) {
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

void make_foreign(void)
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
