// SPDX-License-Identifier: MIT
/*
 * cohbuf: command-line tool for /dev/cohbuf.
 *
 *   cohbuf alloc SIZE [--wc] [--contiguous] [--name NAME] [--fill BYTE]
 *                     [--dump BYTES]
 *
 * Allocates a buffer, prints what COHBUF_IOCTL_INFO says about it, and
 * optionally fills it through one mapping and dumps its first bytes through
 * a second, independent mapping.  The buffer is freed when the tool exits.
 * SIZE takes a K, M or G suffix.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/cohbuf.h>

struct options {
	unsigned long long size;
	__u32 flags;
	__u32 cache_mode;
	const char *name;
	int fill;		/* -1: do not fill */
	size_t dump;
};

static int usage(void)
{
	fputs("Usage: cohbuf alloc SIZE [--wc] [--contiguous] [--name NAME]\n"
	      "                         [--fill BYTE] [--dump BYTES]\n", stderr);
	return 2;
}

static int parse_size(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end) {
		const char *units = "KMG", *u = strchr(units, *end);

		int shift;

		if (!u || !*u || end[1])
			return -1;
		shift = 10 * (int)(u - units + 1);
		if (*out > ~0ULL >> shift)
			return -1;
		*out <<= shift;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->fill = -1;
	if (argc < 3 || strcmp(argv[1], "alloc") || parse_size(argv[2], &o->size))
		return -1;
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--wc"))
			o->cache_mode = COHBUF_CACHE_WC;
		else if (!strcmp(argv[i], "--contiguous"))
			o->flags |= COHBUF_ALLOC_CONTIGUOUS;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			o->name = argv[++i];
		else if (!strcmp(argv[i], "--fill") && i + 1 < argc)
			o->fill = (int)strtol(argv[++i], NULL, 0) & 0xff;
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			o->dump = strtoul(argv[++i], NULL, 0);
		else
			return -1;
	}
	return 0;
}

static void print_info(int dev, int fd)
{
	struct cohbuf_chunk_info chunks[8];
	struct cohbuf_info_data info = { .fd = (__u32)fd, .chunks_cap = 8 };
	unsigned int i;

	info.chunks_ptr = (__u64)(unsigned long)chunks;
	if (ioctl(dev, COHBUF_IOCTL_INFO, &info)) {
		perror("COHBUF_IOCTL_INFO");
		return;
	}
	printf("buffer %llu: %llu bytes, %s, %u chunk%s\n",
	       (unsigned long long)info.id, (unsigned long long)info.size,
	       info.cache_mode == COHBUF_CACHE_WC ? "write-combine" : "cached",
	       info.nr_chunks, info.nr_chunks == 1 ? "" : "s");
	for (i = 0; i < info.nr_chunks && i < 8; i++) {
		printf("  chunk %u: %8llu KiB", i, (unsigned long long)chunks[i].len >> 10);
		if (info.info_flags & COHBUF_INFO_DMA_ADDR_VALID)
			printf(" at bus address %#llx", (unsigned long long)chunks[i].dma_addr);
		printf("\n");
	}
	if (info.nr_chunks > 8)
		printf("  ... %u more\n", info.nr_chunks - 8);
}

static int fill_and_dump(int fd, const struct options *o)
{
	unsigned char *w, *r;
	size_t i, n = o->dump < o->size ? o->dump : o->size;

	w = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = mmap(NULL, o->size, PROT_READ, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED || r == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (o->fill >= 0) {
		memset(w, o->fill, o->size);
		printf("filled %llu bytes with %#04x through one mapping\n", o->size, o->fill);
	}
	if (n)
		printf("first %zu bytes read through another mapping:", n);
	for (i = 0; i < n; i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", r[i]);
	if (n)
		printf("\n");
	munmap(w, o->size);
	munmap(r, o->size);
	return 0;
}

int main(int argc, char **argv)
{
	struct cohbuf_alloc_data d = { 0 };
	struct options o;
	int dev, ret;

	if (parse_args(argc, argv, &o))
		return usage();
	dev = open("/dev/cohbuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("/dev/cohbuf");
		return 1;
	}
	d.size = o.size;
	d.fd_flags = O_RDWR | O_CLOEXEC;
	d.flags = o.flags;
	d.cache_mode = o.cache_mode;
	if (o.name)
		snprintf(d.name, sizeof(d.name), "%s", o.name);
	if (ioctl(dev, COHBUF_IOCTL_ALLOC, &d)) {
		fprintf(stderr, "COHBUF_IOCTL_ALLOC of %llu bytes: %s\n", o.size, strerror(errno));
		return 1;
	}
	printf("allocated dma-buf fd %u\n", d.fd);
	print_info(dev, (int)d.fd);
	ret = fill_and_dump((int)d.fd, &o);
	close((int)d.fd);
	close(dev);
	return ret;
}
