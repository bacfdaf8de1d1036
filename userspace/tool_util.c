// SPDX-License-Identifier: MIT
/* cohbuf tool: checked number parsing, the hex dump, the page size. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohbuf_tool.h"

/* The suffix at @end as a shift (0 for none), or -1 if it is not one. */
static int suffix_shift(const char *end, int suffix)
{
	static const char units[] = "KMG";
	const char *u;

	if (!*end)
		return 0;
	if (!suffix || end[1])
		return -1;
	u = strchr(units, *end);
	return u ? 10 * (int)(u - units + 1) : -1;
}

int tool_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max,
		   int suffix, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift;

	/* strtoull() would skip blanks and negate a leading '-'. */
	if (!isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		goto range;
	shift = suffix_shift(end, suffix);
	if (errno || end == s || shift < 0)
		goto bad;
	if (v > max >> shift || v << shift < min)
		goto range;
	*out = v << shift;
	return 0;

bad:
	fprintf(stderr, "cohbuf: %s: '%s' is not a number%s\n", what, s,
		suffix ? " (with an optional K, M or G suffix)" : "");
	return -1;
range:
	fprintf(stderr, "cohbuf: %s: '%s' is out of range [%llu, %llu]\n", what, s,
		(unsigned long long)min, (unsigned long long)max);
	return -1;
}

int tool_parse_seconds(const char *what, const char *s, uint64_t min_ns, uint64_t max_ns,
		       uint64_t *out)
{
	uint64_t ns = 0, scale = 1000000000u;
	const char *p = s;
	int digits = 0;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		ns = ns * 10 + (uint64_t)(*p - '0');	/* no overflow: checked below */
		if (ns > max_ns / scale)
			goto range;
	}
	ns *= scale;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p) && scale > 1; p++, digits++) {
			scale /= 10;
			ns += scale * (uint64_t)(*p - '0');
		}
	}
	if (*p || !digits)
		goto bad;
	if (ns < min_ns || ns > max_ns)
		goto range;
	*out = ns;
	return 0;

bad:
	fprintf(stderr, "cohbuf: %s: '%s' is not a number of seconds\n", what, s);
	return -1;
range:
	fprintf(stderr, "cohbuf: %s: '%s' is out of range [%.3f, %.3f] s\n", what, s,
		(double)min_ns / 1e9, (double)max_ns / 1e9);
	return -1;
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

uint64_t tool_page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (uint64_t)n : 4096;
}
