// SPDX-License-Identifier: MIT
/* libcohbuf: the exporter's ioctls on /dev/cohbuf (see libcohbuf.h). */

#include <stdio.h>
#include <string.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

int cohbuf_exporter_open(void)
{
	return lib_open_rdwr("/dev/cohbuf");
}

int cohbuf_exporter_alloc(int dev, const struct cohbuf_buffer_desc *desc, uint64_t *id)
{
	struct cohbuf_alloc_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = desc->size;
	d.fd_flags = (desc->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	d.flags = desc->flags;
	d.cache_mode = desc->cache_mode;
	if (desc->name) {
		if (strlen(desc->name) >= sizeof(d.name))
			return -ENAMETOOLONG;
		memcpy(d.name, desc->name, strlen(desc->name));
	}
	ret = lib_ioctl(dev, COHBUF_IOCTL_ALLOC, &d);
	if (ret)
		return ret;
	if (id)
		*id = d.id;
	return d.fd;
}

int cohbuf_exporter_info(int dev, int buf, struct cohbuf_info_data *info,
			 struct cohbuf_chunk_info *chunks, uint32_t cap)
{
	memset(info, 0, sizeof(*info));
	info->fd = buf;
	info->chunks_cap = cap;
	info->chunks_ptr = (uintptr_t)chunks;
	return lib_ioctl(dev, COHBUF_IOCTL_INFO, info);
}

int cohbuf_exporter_sync(int dev, int buf, uint64_t offset, uint64_t len,
			 uint32_t flags)
{
	struct cohbuf_sync_data d;

	memset(&d, 0, sizeof(d));
	d.fd = buf;
	d.flags = flags;
	d.offset = offset;
	d.len = len;
	return lib_ioctl(dev, COHBUF_IOCTL_SYNC, &d);
}

int64_t cohbuf_exporter_write_file(int dev, int buf, uint64_t offset, uint64_t len,
				   int file, int64_t file_offset)
{
	struct cohbuf_write_file_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.fd = buf;
	d.file_fd = file;
	d.offset = offset;
	d.len = len;
	d.file_offset = file_offset;
	ret = lib_ioctl(dev, COHBUF_IOCTL_WRITE_FILE, &d);
	return ret ? ret : (int64_t)d.written;
}

/* "DDDD:BB:DD.F", as sysfs names PCI devices; 0 or -EINVAL. */
static int lib_parse_bdf(const char *bdf, struct cohbuf_map_pci_data *d)
{
	unsigned int domain, bus, dev, fn;
	int end = 0;

	if (sscanf(bdf, "%x:%x:%x.%x%n", &domain, &bus, &dev, &fn, &end) != 4 ||
	    bdf[end] || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	d->pci_domain = domain;
	d->pci_bus = bus;
	d->pci_devfn = dev << 3 | fn;
	return 0;
}

int cohbuf_exporter_map_pci(int dev, int buf, const char *bdf, uint64_t dma_mask,
			    struct cohbuf_dma_seg *segs, uint32_t cap, uint32_t *nr)
{
	struct cohbuf_map_pci_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	ret = lib_parse_bdf(bdf, &d);
	if (ret)
		return ret;
	d.fd = buf;
	d.flags = COHBUF_MAP_PCI_CLOEXEC;
	d.dma_mask = dma_mask;
	d.segs_ptr = (uintptr_t)segs;
	d.segs_cap = cap;
	ret = lib_ioctl(dev, COHBUF_IOCTL_MAP_PCI, &d);
	if (nr && (!ret || ret == -ENOSPC))
		*nr = d.nr_segs;
	return ret ? ret : d.map_fd;
}
