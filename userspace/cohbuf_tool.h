/* SPDX-License-Identifier: MIT */
/* cohbuf tool: what its source files share. */
#ifndef COHBUF_TOOL_H
#define COHBUF_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/dma-buf.h>

#include "libcohbuf_drm.h"

/* Hex dump of @n bytes, 16 a line, each line prefixed with @who. */
void tool_dump(const char *who, const unsigned char *p, size_t n);
/* The share story (share.c). */
int tool_share(void);

/* A simple reproducible byte stream (xorshift64*) for test data. */
static inline void tool_random_fill(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (unsigned char)((x * 0x2545f4914f6cdd1dULL) >> 56);
	}
}

#endif /* COHBUF_TOOL_H */
