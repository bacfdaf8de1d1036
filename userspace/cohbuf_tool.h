/* SPDX-License-Identifier: MIT */
/*
 * cohbuf tool: what its source files share.  Calls go one way:
 * cohbuf_cli.c (main, the command table, the buffer commands) -> share.c
 * (the share story), v4l2.c (V4L2 capture into cohbuf buffers) and
 * stream.c (stream and capture) -> provider.c (the
 * dma-bufs of a stream) -> tool_util.c (number parsing, hex dump, page
 * size).
 */
#ifndef COHBUF_TOOL_H
#define COHBUF_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "libcohbuf.h"

/* Exit statuses: success, the operation failed, the command line was wrong. */
#define TOOL_OK		0
#define TOOL_FAILED	1
#define TOOL_USAGE	2

/*
 * Parse @s as an unsigned number (decimal, 0x hex, 0 octal) in [@min, @max];
 * with @suffix, a K, M or G suffix multiplies it by 2^10, 2^20, 2^30.
 * 0, or -1 after saying on stderr what is wrong with @what.
 */
int tool_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
		   int suffix, uint64_t *out);
/*
 * Parse @s as seconds, a decimal number with up to 9 digits after the point,
 * into ns in [@min_ns, @max_ns]: 0, or -1 after a message naming @what.
 */
int tool_parse_seconds(const char *what, const char *s, uint64_t min_ns, uint64_t max_ns,
		       uint64_t *out);
/* Hex dump of @n bytes, 16 a line, each line prefixed with @who. */
void tool_dump(const char *who, const unsigned char *p, size_t n);
/* The CPU's page size. */
uint64_t tool_page_size(void);

/* cohbuf share (share.c). */
int tool_share(void);

/* cohbuf v4l2 (v4l2.c): capture @frames frames from @path into buffers like @desc. */
int tool_v4l2(const char *path, uint64_t frames, const struct cohbuf_buffer_desc *desc);

/* Where a stream's dma-bufs come from (provider.c). */
enum tool_provider_kind {
	TOOL_PROVIDER_COHBUF,
	TOOL_PROVIDER_UDMABUF,
	TOOL_PROVIDER_HEAP,
};

struct tool_provider {
	const char *spec;		/* "cohbuf", "udmabuf" or "heap:NAME" */
	enum tool_provider_kind kind;
	int dev;			/* the device it allocates from */
};

/* Check a --provider argument: 0, or -1 after a message. */
int tool_provider_parse(const char *spec);
/* Open the device of @spec (checked): 0, or -1 after a message. */
int tool_provider_open(struct tool_provider *p, const char *spec);
/* A dma-buf of @size bytes (a multiple of the page size), read-write: its fd or -errno. */
int tool_provider_alloc(struct tool_provider *p, uint64_t size);
void tool_provider_close(struct tool_provider *p);

/* The options of cohbuf stream and capture (stream.c), after the short ones. */
enum {
	TOOL_OPT_RATE = 256,
	TOOL_OPT_CHANNELS,
	TOOL_OPT_FORMAT,
	TOOL_OPT_BLOCK_FRAMES,
	TOOL_OPT_DEPTH,
	TOOL_OPT_DURATION,
	TOOL_OPT_CLOCK,
	TOOL_OPT_POLICY,
	TOOL_OPT_PROVIDER,
	TOOL_OPT_ADVANCE,
	TOOL_OPT_ALLOW_LOSS,
	TOOL_OPT_CORRUPT_BIT,
	TOOL_OPT_RING,
	TOOL_OPT_DIRECT,
	TOOL_OPT_OUTPUT,
};

/* What cohbuf stream and capture were asked. */
struct tool_stream_opts {
	struct cohbuf_stream_create_data params; /* format, channels, rate, ... */
	uint32_t depth;			/* regions (dma-bufs) queued */
	uint64_t ring_bytes;		/* > 0: ring mode, a data area this big */
	uint64_t duration_ns;		/* MANUAL clock: rate_hz * duration frames */
	uint64_t advance;		/* frames per ADVANCE (MANUAL); 0: a block */
	const char *provider;		/* see tool_provider_parse() */
	int allow_loss;			/* lost frames, an overrun stop: no failure */
	int64_t corrupt_bit;		/* >= 0: flip this bit of the first block */
	int direct;			/* capture: try O_DIRECT from the mapping */
};

/* The defaults, before the command line. */
void tool_stream_defaults(struct tool_stream_opts *o);
/* Option @c (TOOL_OPT_*) with argument @arg into @o: 0, or -1 after a message. */
int tool_stream_set_option(struct tool_stream_opts *o, int c, const char *arg);
/* Run a stream and check it; with @capture_path, record it there too: TOOL_*. */
int tool_stream_run(const struct tool_stream_opts *o, const char *capture_path);

#endif /* COHBUF_TOOL_H */
