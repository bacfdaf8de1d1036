// SPDX-License-Identifier: MIT
/*
 * cohbuf: command-line tool on top of libcohbuf.  "cohbuf --help" lists the
 * commands (the table below), "cohbuf COMMAND --help" shows one.  Buffers
 * live as long as the tool.  Exit status: 0 done, 1 the operation failed,
 * 2 the command line was wrong (with a message on stderr).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "cohbuf_tool.h"

#define NS_PER_S	1000000000ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The options a command accepts (struct tool_cmd.opts). */
enum {
	OPT_WC		= 1 << 0,
	OPT_CONTIGUOUS	= 1 << 1,
	OPT_NAME	= 1 << 2,
	OPT_FILL	= 1 << 3,
	OPT_DUMP	= 1 << 4,
	OPT_SEED	= 1 << 5,
	OPT_STREAM	= 1 << 6,	/* every TOOL_OPT_* but --direct, --output */
	OPT_DIRECT	= 1 << 7,
	OPT_OUTPUT	= 1 << 8,
};

/* What the command line said. */
struct options {
	struct cohbuf_buffer_desc desc;	/* .size is SIZE */
	int fill;			/* --fill BYTE; -1: do not fill */
	size_t dump;			/* --dump N */
	uint64_t seed;			/* --seed N */
	struct tool_stream_opts stream;	/* stream and capture */
	char **pos;			/* positional arguments after SIZE */
};

struct tool_cmd {
	const char *name;
	int (*run)(const struct options *o);
	int nr_pos;		/* positional arguments, SIZE included */
	unsigned int opts;	/* OPT_* */
	const char *args;	/* synopsis after the name */
	const char *help;	/* what it does, one line */
	int no_size;		/* the first positional argument is not SIZE */
	const char *details;	/* NULL, or more lines for COMMAND --help */
};

/* The long options, each with the OPT_* bit that allows it. */
static const struct option long_opts[] = {
	{ "wc", no_argument, NULL, 'w' },
	{ "contiguous", no_argument, NULL, 'c' },
	{ "name", required_argument, NULL, 'n' },
	{ "fill", required_argument, NULL, 'f' },
	{ "dump", required_argument, NULL, 'd' },
	{ "seed", required_argument, NULL, 's' },
	{ "rate", required_argument, NULL, TOOL_OPT_RATE },
	{ "channels", required_argument, NULL, TOOL_OPT_CHANNELS },
	{ "format", required_argument, NULL, TOOL_OPT_FORMAT },
	{ "block-frames", required_argument, NULL, TOOL_OPT_BLOCK_FRAMES },
	{ "depth", required_argument, NULL, TOOL_OPT_DEPTH },
	{ "duration", required_argument, NULL, TOOL_OPT_DURATION },
	{ "clock", required_argument, NULL, TOOL_OPT_CLOCK },
	{ "policy", required_argument, NULL, TOOL_OPT_POLICY },
	{ "provider", required_argument, NULL, TOOL_OPT_PROVIDER },
	{ "advance", required_argument, NULL, TOOL_OPT_ADVANCE },
	{ "allow-loss", no_argument, NULL, TOOL_OPT_ALLOW_LOSS },
	{ "corrupt-bit", required_argument, NULL, TOOL_OPT_CORRUPT_BIT },
	{ "ring", required_argument, NULL, TOOL_OPT_RING },
	{ "direct", no_argument, NULL, TOOL_OPT_DIRECT },
	{ "output", no_argument, NULL, TOOL_OPT_OUTPUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static unsigned int opt_bit(int c)
{
	switch (c) {
	case 'w': return OPT_WC;
	case 'c': return OPT_CONTIGUOUS;
	case 'n': return OPT_NAME;
	case 'f': return OPT_FILL;
	case 'd': return OPT_DUMP;
	case 's': return OPT_SEED;
	case TOOL_OPT_DIRECT: return OPT_DIRECT;
	case TOOL_OPT_OUTPUT: return OPT_OUTPUT;
	}
	return c >= TOOL_OPT_RATE && c < TOOL_OPT_DIRECT ? OPT_STREAM : 0;
}

static const char *opt_name(int c)
{
	const struct option *l;

	for (l = long_opts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "?";
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
	int fd;

	*dev = cohbuf_exporter_open();
	if (*dev < 0) {
		fprintf(stderr, "/dev/cohbuf: %s\n", strerror(-*dev));
		return -1;
	}
	fd = cohbuf_exporter_alloc(*dev, &o->desc, NULL);
	if (fd < 0) {
		fprintf(stderr, "COHBUF_IOCTL_ALLOC of %llu bytes: %s\n",
			(unsigned long long)o->desc.size, strerror(-fd));
		close(*dev);
		return -1;
	}
	printf("allocated dma-buf fd %d\n", fd);
	print_info(*dev, fd);
	return fd;
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

static size_t dump_len(const struct options *o)
{
	return o->dump < o->desc.size ? o->dump : o->desc.size;
}

static int cmd_alloc(const struct options *o)
{
	size_t size = o->desc.size;
	unsigned char *w, *r;
	int dev, fd = alloc_buffer(&dev, o);

	if (fd < 0)
		return TOOL_FAILED;
	w = cohbuf_dmabuf_map(fd, 0, size, 1);
	r = cohbuf_dmabuf_map(fd, 0, size, 0);
	if (!w || !r) {
		perror("mmap");
		return TOOL_FAILED;
	}
	if (o->fill >= 0) {
		memset(w, o->fill, size);
		printf("filled %zu bytes with %#04x through one mapping\n", size, o->fill);
	}
	if (o->dump)
		printf("first bytes, read through another mapping:\n");
	tool_dump("", r, dump_len(o));
	cohbuf_dmabuf_unmap(w, size);
	cohbuf_dmabuf_unmap(r, size);
	close(fd);
	close(dev);
	return TOOL_OK;
}

static int cmd_fill(const struct options *o)
{
	struct cohbuf_imp_submit_data job = { .op = COHBUF_IMP_OP_FILL };
	int dev, ctx, fd, ret;
	unsigned char *r;
	uint64_t pattern;

	if (tool_parse_u64("PATTERN", o->pos[0], 0, UINT32_MAX, 0, &pattern))
		return TOOL_USAGE;
	fd = alloc_buffer(&dev, o);
	if (fd < 0 || importer_for(fd, &ctx, &job.dst_handle))
		return TOOL_FAILED;
	job.len = o->desc.size;
	job.pattern = (uint32_t)pattern;
	ret = cohbuf_importer_submit(ctx, &job);
	if (ret) {
		fprintf(stderr, "submit: %s\n", strerror(-ret));
		return TOOL_FAILED;
	}
	printf("the importer is filling it with %#010x (job %llu)\n", job.pattern,
	       (unsigned long long)job.job_id);
	/* Implicit sync: the job's fence is in the buffer's reservation object. */
	ret = cohbuf_dmabuf_cpu_access_begin(fd, DMA_BUF_SYNC_READ);
	printf("DMA_BUF_IOCTL_SYNC waited for the device: %s\n", ret ? strerror(-ret) : "done");
	r = cohbuf_dmabuf_map(fd, 0, o->desc.size, 0);
	if (r)
		tool_dump("", r, dump_len(o));
	cohbuf_dmabuf_cpu_access_end(fd, DMA_BUF_SYNC_READ);
	if (cohbuf_importer_wait(ctx, job.job_id, 0, &ret, NULL) || ret || !r)
		return TOOL_FAILED;
	return TOOL_OK;
}

static int cmd_checksum(const struct options *o)
{
	struct cohbuf_imp_submit_data job = { .op = COHBUF_IMP_OP_CHECKSUM };
	int dev, ctx, fd = alloc_buffer(&dev, o), status = -1;
	uint32_t csum = 0, mine;
	unsigned char *w;

	if (fd < 0 || importer_for(fd, &ctx, &job.src_handle))
		return TOOL_FAILED;
	w = cohbuf_dmabuf_map(fd, 0, o->desc.size, 1);
	if (!w)
		return TOOL_FAILED;
	cohbuf_dmabuf_cpu_access_begin(fd, DMA_BUF_SYNC_WRITE);
	cohbuf_importer_random_fill(w, o->desc.size, o->seed);
	cohbuf_dmabuf_cpu_access_end(fd, DMA_BUF_SYNC_WRITE);
	mine = cohbuf_importer_crc32(w, o->desc.size);
	job.len = o->desc.size;
	if (cohbuf_importer_submit(ctx, &job) ||
	    cohbuf_importer_wait(ctx, job.job_id, 10 * NS_PER_S, &status, &csum) || status) {
		fprintf(stderr, "checksum job failed\n");
		return TOOL_FAILED;
	}
	printf("CRC-32 by the importer: %#010x, by the CPU: %#010x: %s\n", csum, mine,
	       csum == mine ? "equal" : "DIFFERENT");
	return csum == mine ? TOOL_OK : TOOL_FAILED;
}

static int cmd_info(const struct options *o)
{
	struct cohbuf_info_data info;
	int dev, fd = alloc_buffer(&dev, o);

	if (fd < 0 || cohbuf_exporter_info(dev, fd, &info, NULL, 0))
		return TOOL_FAILED;
	printf("id %llu size %llu flags %#x cache_mode %u nr_chunks %u info_flags %#x\n",
	       (unsigned long long)info.id, (unsigned long long)info.size, info.flags,
	       info.cache_mode, info.nr_chunks, info.info_flags);
	return TOOL_OK;
}

/* The importer writes the buffer; a window mapping shows part of it. */
static int cmd_dump(const struct options *o)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_FILL, .flags = COHBUF_IMP_SUBMIT_RANDOM,
	};
	uint64_t page = tool_page_size(), size = o->desc.size, off, len, first, span;
	int dev, ctx, fd, status = -1;
	unsigned char *w;

	if (tool_parse_u64("OFFSET", o->pos[0], 0, size - 1, 0, &off) ||
	    tool_parse_u64("LEN", o->pos[1], 1, size - off, 0, &len))
		return TOOL_USAGE;
	fd = alloc_buffer(&dev, o);
	if (fd < 0 || importer_for(fd, &ctx, &job.dst_handle))
		return TOOL_FAILED;
	job.len = size;
	job.seed = o->seed;
	if (cohbuf_importer_submit(ctx, &job) ||
	    cohbuf_importer_wait(ctx, job.job_id, 10 * NS_PER_S, &status, NULL) || status)
		return TOOL_FAILED;
	first = off & ~(page - 1);
	span = (off + len - first + page - 1) & ~(page - 1);
	w = cohbuf_dmabuf_map(fd, first, span, 0);
	if (!w) {
		perror("mmap");
		return TOOL_FAILED;
	}
	printf("the importer filled it with seed %llu; bytes %llu..%llu",
	       (unsigned long long)o->seed, (unsigned long long)off,
	       (unsigned long long)(off + len - 1));
	printf(" through a %llu-byte window at %llu:\n", (unsigned long long)span,
	       (unsigned long long)first);
	tool_dump("", w + (off - first), len);
	return TOOL_OK;
}

static int cmd_share(const struct options *o)
{
	(void)o;
	return tool_share() ? TOOL_FAILED : TOOL_OK;
}

static int cmd_stream(const struct options *o)
{
	return tool_stream_run(&o->stream, NULL);
}

static int cmd_capture(const struct options *o)
{
	return tool_stream_run(&o->stream, o->pos[0]);
}

static int cmd_v4l2(const struct options *o)
{
	uint64_t frames;

	if (tool_parse_u64("FRAMES", o->pos[1], 1, UINT32_MAX, 0, &frames))
		return TOOL_USAGE;
	return tool_v4l2(o->pos[0], frames, &o->desc);
}

static int cmd_help(const struct options *o);

#define STREAM_HELP \
	"Stream options (defaults in brackets):\n" \
	"  --rate HZ          frames per second [48000]\n" \
	"  --channels N       samples per frame, 1-16 [2]\n" \
	"  --format F         adc12, s16 or s32 [adc12]\n" \
	"  --block-frames N   frames per block, one block per buffer [1024]\n" \
	"  --depth N          buffers queued, 1-256 [8]\n" \
	"  --ring SIZE        ring mode: one SIZE-byte circular buffer (K, M, G) instead\n" \
	"  --duration S       seconds, decimals allowed [1]; manual clock: RATE*S frames\n" \
	"  --clock C          hrtimer (real time) or manual (ADVANCE, exact) [hrtimer]\n" \
	"  --policy P         on an overrun: drop (count) or stop [drop]\n" \
	"  --provider P       cohbuf, udmabuf or heap:NAME (/dev/dma_heap/NAME) [cohbuf]\n" \
	"  --advance N        manual clock: frames per ADVANCE [one block]\n" \
	"  --allow-loss       lost frames or an overrun stop do not fail the run\n" \
	"  --corrupt-bit N    flip bit N of the first filled block before checking it\n"

static const struct tool_cmd cmds[] = {
	{ "alloc", cmd_alloc, 1, OPT_WC | OPT_CONTIGUOUS | OPT_NAME | OPT_FILL | OPT_DUMP,
	  "SIZE [--wc] [--contiguous] [--name NAME] [--fill BYTE] [--dump N]",
	  "allocate, show the chunks; fill through one mapping, dump through another", 0, NULL },
	{ "fill", cmd_fill, 2, OPT_WC | OPT_DUMP, "SIZE PATTERN [--wc] [--dump N]",
	  "the importer fills with a 32-bit pattern; the CPU waits for its fence", 0, NULL },
	{ "checksum", cmd_checksum, 1, OPT_WC | OPT_SEED, "SIZE [--wc] [--seed N]",
	  "the CPU writes splitmix64 bytes; the importer's CRC-32 must agree", 0, NULL },
	{ "info", cmd_info, 1, OPT_WC | OPT_CONTIGUOUS | OPT_NAME,
	  "SIZE [--wc] [--contiguous] [--name NAME]",
	  "allocate a buffer and print all of COHBUF_IOCTL_INFO", 0, NULL },
	{ "dump", cmd_dump, 3, OPT_SEED, "SIZE OFFSET LEN [--seed N]",
	  "the importer fills from seed N; dump [OFFSET, OFFSET + LEN) via a window", 0, NULL },
	{ "share", cmd_share, 0, 0, "",
	  "two processes and vgem share a buffer and their fences", 0, NULL },
	{ "stream", cmd_stream, 0, OPT_STREAM | OPT_OUTPUT, "[STREAM OPTIONS] [--output]",
	  "the importer's ADC streams into queued buffers; every sample is checked", 0,
	  STREAM_HELP "  --output           the other way: the tool fills the buffers, the\n"
	  "                     device (a DAC) reads and checks them\n" },
	{ "capture", cmd_capture, 1, OPT_STREAM | OPT_DIRECT, "FILE [STREAM OPTIONS] [--direct]",
	  "stream as above and write() every filled block to FILE; the write rate", 1,
	  STREAM_HELP "  --direct           write from the buffer in the kernel, O_DIRECT\n"
	  "                     (the summary says why not if the kernel refuses)\n" },
	{ "v4l2", cmd_v4l2, 2, OPT_WC | OPT_CONTIGUOUS, "DEVICE FRAMES [--wc] [--contiguous]",
	  "a V4L2 capture device streams into cohbuf buffers; the importer checks each", 1,
	  "DEVICE is a single-planar capture node (/dev/videoN). Four cohbuf buffers of\n"
	  "the device's current frame size are queued with V4L2_MEMORY_DMABUF; each frame\n"
	  "is checksummed by the importer and by the CPU, which must agree, and sequence\n"
	  "gaps (frames the driver dropped) are counted. A driver whose videobuf2\n"
	  "allocator is dma-contig needs --contiguous.\n" },
	{ "help", cmd_help, 0, 0, "", "this text", 0, NULL },
};

#define NR_CMDS	ARRAY_SIZE(cmds)

static void cmd_usage(FILE *f, const struct tool_cmd *c, int first)
{
	fprintf(f, "%s cohbuf %s%s%s\n", first ? "Usage:" : "      ", c->name,
		*c->args ? " " : "", c->args);
}

static void usage(FILE *f)
{
	unsigned int i;

	for (i = 0; i < NR_CMDS; i++)
		cmd_usage(f, &cmds[i], i == 0);
	fputs("       cohbuf [COMMAND] --help\n\nCommands:\n", f);
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fputs("\nSIZE takes a K, M or G suffix; numbers are decimal, 0x hex or 0 octal.\n"
	      "Exit status: 0 done, 1 the operation failed, 2 a bad command line.\n", f);
}

static int cmd_help(const struct options *o)
{
	(void)o;
	usage(stdout);
	return TOOL_OK;
}

static const struct tool_cmd *find_cmd(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(name, cmds[i].name))
			return &cmds[i];
	return NULL;
}

/* One option @c with argument @arg into @o; 0, or -1 after a message. */
static int set_option(struct options *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'w':
		o->desc.cache_mode = COHBUF_CACHE_WC;
		return 0;
	case 'c':
		o->desc.flags |= COHBUF_ALLOC_CONTIGUOUS;
		return 0;
	case 'n':
		if (strlen(arg) >= COHBUF_NAME_LEN) {
			fprintf(stderr, "cohbuf: --name: at most %d characters\n",
				COHBUF_NAME_LEN - 1);
			return -1;
		}
		o->desc.name = arg;
		return 0;
	case 'f':
		if (tool_parse_u64("--fill", arg, 0, 0xff, 0, &v))
			return -1;
		o->fill = (int)v;
		return 0;
	case 'd':
		if (tool_parse_u64("--dump", arg, 0, SIZE_MAX, 0, &v))
			return -1;
		o->dump = (size_t)v;
		return 0;
	case 's':
		return tool_parse_u64("--seed", arg, 0, UINT64_MAX, 0, &o->seed);
	}
	return tool_stream_set_option(&o->stream, c, arg);
}

/*
 * The options and arguments of command @c (argv[0] is its name) into @o:
 * 0, 1 for --help, or -1 after a message.
 */
static int parse_cmdline(const struct tool_cmd *c, int argc, char **argv, struct options *o)
{
	int opt;

	opterr = 0;
	optind = 0;	/* glibc: start afresh */
	while ((opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "cohbuf %s: %s '%s'\n", c->name,
				opt == '?' ? "unknown option" : "missing argument for",
				argv[optind - 1]);
			return -1;
		}
		if (!(c->opts & opt_bit(opt))) {
			fprintf(stderr, "cohbuf %s: no option --%s here\n", c->name,
				opt_name(opt));
			return -1;
		}
		if (set_option(o, opt, optarg))
			return -1;
	}
	if (argc - optind != c->nr_pos) {
		fprintf(stderr, "cohbuf %s: %d argument%s expected, %d given\n", c->name,
			c->nr_pos, c->nr_pos == 1 ? "" : "s", argc - optind);
		return -1;
	}
	o->pos = argv + optind;
	if (c->no_size || !c->nr_pos)
		return 0;
	o->pos++;
	return tool_parse_u64("SIZE", argv[optind], 1, SIZE_MAX, 1, &o->desc.size);
}

int main(int argc, char **argv)
{
	struct options o = { .fill = -1 };
	const struct tool_cmd *c;
	int ret;

	tool_stream_defaults(&o.stream);
	if (argc < 2) {
		usage(stderr);
		return TOOL_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(&o);
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "cohbuf: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return TOOL_USAGE;
	}
	ret = parse_cmdline(c, argc - 1, argv + 1, &o);
	if (ret > 0) {
		cmd_usage(stdout, c, 1);
		printf("%s\n%s", c->help, c->details ?: "");
		return TOOL_OK;
	}
	if (!ret)
		ret = c->run(&o);
	if (ret < 0 || ret == TOOL_USAGE) {
		cmd_usage(stderr, c, 1);
		return TOOL_USAGE;
	}
	return ret;
}
