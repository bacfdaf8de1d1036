// SPDX-License-Identifier: MIT
/*
 * cohbuf: command-line tool on top of libcohbuf.
 *
 *   cohbuf alloc SIZE [--wc] [--contiguous] [--name NAME] [--fill BYTE] [--dump N]
 *	allocate a buffer and show what COHBUF_IOCTL_INFO says; optionally
 *	fill it through one mapping and dump it through another
 *   cohbuf fill SIZE PATTERN [--wc] [--dump N]
 *	the importer (a DMA device) fills the buffer with a 32-bit pattern;
 *	the CPU waits for its fence with DMA_BUF_IOCTL_SYNC and reads it
 *   cohbuf checksum SIZE [--wc] [--seed N]
 *	the CPU writes pseudo-random bytes; the importer computes their CRC-32
 *	and the tool compares it with its own
 *   cohbuf info SIZE [--wc] [--contiguous] [--name NAME]
 *	allocate a buffer and print all of COHBUF_IOCTL_INFO
 *   cohbuf dump SIZE OFFSET LEN [--seed N]
 *	the importer fills the buffer with its seeded random stream; the tool
 *	maps only the pages around [OFFSET, OFFSET + LEN) and dumps them
 *   cohbuf share
 *	two processes and vgem share one buffer and their fences (see share.c)
 *
 * Buffers live as long as the tool.  SIZE takes a K, M or G suffix.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohbuf_tool.h"

struct options {
	struct cohbuf_buffer_desc desc;
	unsigned long long size;
	int fill;		/* -1: do not fill */
	size_t dump;
	unsigned long long seed;
};

static int usage(void)
{
	fputs("Usage: cohbuf alloc SIZE [--wc] [--contiguous] [--name NAME] [--fill BYTE]\n"
	      "                         [--dump N]\n"
	      "       cohbuf fill SIZE PATTERN [--wc] [--dump N]\n"
	      "       cohbuf checksum SIZE [--wc] [--seed N]\n"
	      "       cohbuf info SIZE [--wc] [--contiguous] [--name NAME]\n"
	      "       cohbuf dump SIZE OFFSET LEN [--seed N]\n"
	      "       cohbuf share\n", stderr);
	return 2;
}

static int parse_size(const char *s, unsigned long long *out)
{
	const char *units = "KMG", *u;
	char *end;
	int shift;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (!*end)
		return 0;
	u = strchr(units, *end);
	if (!u || !*u || end[1])
		return -1;
	shift = 10 * (int)(u - units + 1);
	if (*out > ~0ULL >> shift)
		return -1;
	*out <<= shift;
	return 0;
}

static int parse_options(int argc, char **argv, int first, struct options *o)
{
	int i;

	for (i = first; i < argc; i++) {
		if (!strcmp(argv[i], "--wc"))
			o->desc.cache_mode = COHBUF_CACHE_WC;
		else if (!strcmp(argv[i], "--contiguous"))
			o->desc.flags |= COHBUF_ALLOC_CONTIGUOUS;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			o->desc.name = argv[++i];
		else if (!strcmp(argv[i], "--fill") && i + 1 < argc)
			o->fill = (int)strtol(argv[++i], NULL, 0) & 0xff;
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			o->dump = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			o->seed = strtoull(argv[++i], NULL, 0);
		else
			return -1;
	}
	return 0;
}

void tool_dump(const char *who, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			printf("%s%s  ", i ? "\n" : "", who);
		printf("%02x ", p[i]);
	}
	if (n)
		printf("\n");
}

static void print_info(int dev, int fd)
{
	struct cohbuf_chunk_info chunks[8];
	struct cohbuf_info_data info;
	unsigned int i;

	if (cohbuf_exporter_info(dev, fd, &info, chunks, 8)) {
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

/* Open /dev/cohbuf and allocate; prints the error and returns -1 on failure. */
static int alloc_buffer(int *dev, const struct options *o)
{
	struct cohbuf_buffer_desc desc = o->desc;
	int fd;

	*dev = cohbuf_exporter_open();
	if (*dev < 0) {
		fprintf(stderr, "/dev/cohbuf: %s\n", strerror(-*dev));
		return -1;
	}
	desc.size = o->size;
	fd = cohbuf_exporter_alloc(*dev, &desc, NULL);
	if (fd < 0) {
		fprintf(stderr, "COHBUF_IOCTL_ALLOC of %llu bytes: %s\n", o->size, strerror(-fd));
		close(*dev);
		return -1;
	}
	printf("allocated dma-buf fd %d\n", fd);
	print_info(*dev, fd);
	return fd;
}

static int cmd_alloc(const struct options *o)
{
	unsigned char *w, *r;
	int dev, fd = alloc_buffer(&dev, o);

	if (fd < 0)
		return 1;
	w = cohbuf_dmabuf_map(fd, 0, o->size, 1);
	r = cohbuf_dmabuf_map(fd, 0, o->size, 0);
	if (!w || !r) {
		perror("mmap");
		return 1;
	}
	if (o->fill >= 0) {
		memset(w, o->fill, o->size);
		printf("filled %llu bytes with %#04x through one mapping\n", o->size, o->fill);
	}
	if (o->dump)
		printf("first bytes, read through another mapping:\n");
	tool_dump("", r, o->dump < o->size ? o->dump : o->size);
	cohbuf_dmabuf_unmap(w, o->size);
	cohbuf_dmabuf_unmap(r, o->size);
	close(fd);
	close(dev);
	return 0;
}

/* Import @fd into a new importer context; prints errors. */
static int importer_for(int fd, int *ctx, uint32_t *handle)
{
	int ret;

	*ctx = cohbuf_importer_open();
	if (*ctx < 0) {
		fprintf(stderr, "/dev/cohbuf-importer: %s\n", strerror(-*ctx));
		return -1;
	}
	ret = cohbuf_importer_import(*ctx, fd, handle, NULL);
	if (ret) {
		fprintf(stderr, "import: %s\n", strerror(-ret));
		return -1;
	}
	return 0;
}

static int cmd_fill(const struct options *o, uint32_t pattern)
{
	struct cohbuf_imp_submit_data job = { .op = COHBUF_IMP_OP_FILL };
	int dev, ctx, fd = alloc_buffer(&dev, o), ret;
	unsigned char *r;

	if (fd < 0 || importer_for(fd, &ctx, &job.dst_handle))
		return 1;
	job.len = o->size;
	job.pattern = pattern;
	ret = cohbuf_importer_submit(ctx, &job);
	if (ret) {
		fprintf(stderr, "submit: %s\n", strerror(-ret));
		return 1;
	}
	printf("the importer is filling it with %#010x (job %llu)\n", pattern,
	       (unsigned long long)job.job_id);
	/* Implicit sync: the job's fence is in the buffer's reservation object. */
	ret = cohbuf_dmabuf_cpu_access_begin(fd, DMA_BUF_SYNC_READ);
	printf("DMA_BUF_IOCTL_SYNC waited for the device: %s\n", ret ? strerror(-ret) : "done");
	r = cohbuf_dmabuf_map(fd, 0, o->size, 0);
	if (r)
		tool_dump("", r, o->dump < o->size ? o->dump : o->size);
	cohbuf_dmabuf_cpu_access_end(fd, DMA_BUF_SYNC_READ);
	return cohbuf_importer_wait(ctx, job.job_id, 0, &ret, NULL) || ret || !r;
}

static int cmd_checksum(const struct options *o)
{
	struct cohbuf_imp_submit_data job = { .op = COHBUF_IMP_OP_CHECKSUM };
	int dev, ctx, fd = alloc_buffer(&dev, o), status = -1;
	uint32_t csum = 0, mine;
	unsigned char *w;

	if (fd < 0 || importer_for(fd, &ctx, &job.src_handle))
		return 1;
	w = cohbuf_dmabuf_map(fd, 0, o->size, 1);
	if (!w)
		return 1;
	cohbuf_dmabuf_cpu_access_begin(fd, DMA_BUF_SYNC_WRITE);
	tool_random_fill(w, o->size, o->seed);
	cohbuf_dmabuf_cpu_access_end(fd, DMA_BUF_SYNC_WRITE);
	mine = cohbuf_importer_crc32(w, o->size);
	job.len = o->size;
	if (cohbuf_importer_submit(ctx, &job) ||
	    cohbuf_importer_wait(ctx, job.job_id, 10000000000ULL, &status, &csum) || status) {
		fprintf(stderr, "checksum job failed\n");
		return 1;
	}
	printf("CRC-32 by the importer: %#010x, by the CPU: %#010x: %s\n", csum, mine,
	       csum == mine ? "equal" : "DIFFERENT");
	return csum != mine;
}

static int cmd_info(const struct options *o)
{
	struct cohbuf_info_data info;
	int dev, fd = alloc_buffer(&dev, o);

	if (fd < 0 || cohbuf_exporter_info(dev, fd, &info, NULL, 0))
		return 1;
	printf("id %llu size %llu flags %#x cache_mode %u nr_chunks %u info_flags %#x\n",
	       (unsigned long long)info.id, (unsigned long long)info.size, info.flags,
	       info.cache_mode, info.nr_chunks, info.info_flags);
	return 0;
}

/* The importer writes the buffer; a window mapping shows part of it. */
static int cmd_dump(const struct options *o, unsigned long long off, size_t len)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_FILL, .flags = COHBUF_IMP_SUBMIT_RANDOM,
	};
	unsigned long long first = off & ~4095ULL, span;
	int dev, ctx, fd, status = -1;
	unsigned char *w;

	if (off >= o->size || len > o->size - off)
		return usage();
	fd = alloc_buffer(&dev, o);
	if (fd < 0 || importer_for(fd, &ctx, &job.dst_handle))
		return 1;
	job.len = o->size;
	job.seed = o->seed;
	if (cohbuf_importer_submit(ctx, &job) ||
	    cohbuf_importer_wait(ctx, job.job_id, 10000000000ULL, &status, NULL) || status)
		return 1;
	span = (off + len - first + 4095) & ~4095ULL;
	w = cohbuf_dmabuf_map(fd, first, span, 0);
	if (!w) {
		perror("mmap");
		return 1;
	}
	printf("the importer filled it with seed %llu; bytes %llu..%llu", o->seed, off,
	       off + len - 1);
	printf(" through a %llu-byte window at %llu:\n", span, first);
	tool_dump("", w + (off - first), len);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .fill = -1 };

	if (argc == 2 && !strcmp(argv[1], "share"))
		return tool_share();
	if (argc < 3 || parse_size(argv[2], &o.size))
		return usage();
	if (!strcmp(argv[1], "alloc") && !parse_options(argc, argv, 3, &o))
		return cmd_alloc(&o);
	if (!strcmp(argv[1], "fill") && argc >= 4 && !parse_options(argc, argv, 4, &o))
		return cmd_fill(&o, (uint32_t)strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "checksum") && !parse_options(argc, argv, 3, &o))
		return cmd_checksum(&o);
	if (!strcmp(argv[1], "info") && !parse_options(argc, argv, 3, &o))
		return cmd_info(&o);
	if (!strcmp(argv[1], "dump") && argc >= 5 && !parse_options(argc, argv, 5, &o))
		return cmd_dump(&o, strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	return usage();
}
