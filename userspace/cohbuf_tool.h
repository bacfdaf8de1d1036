/* SPDX-License-Identifier: MIT */
/*
 * cohbuf tool: what its source files share.  Calls go one way:
 * cohbuf_cli.c (main, the command table, the buffer commands) -> share.c
 * (the share story) -> tool_util.c (number parsing, hex dump, page size).
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
/* Hex dump of @n bytes, 16 a line, each line prefixed with @who. */
void tool_dump(const char *who, const unsigned char *p, size_t n);
/* The CPU's page size. */
uint64_t tool_page_size(void);

/* cohbuf share (share.c). */
int tool_share(void);

#endif /* COHBUF_TOOL_H */
