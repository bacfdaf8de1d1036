// SPDX-License-Identifier: GPL-2.0
/*
 * Accounting: the debugfs counters of both modules, and whether they are
 * back where a run started once it has closed everything.
 */

#include "fuzz.h"

void read_counters(struct fz_counters *c)
{
	const char *st = IMPORTER_DEBUGFS "/stats";

	c->live_buffers = cohbuf_stat("live_buffers");
	c->live_bytes = cohbuf_stat("live_bytes");
	c->imports = read_number(st, "imports");
	c->releases = read_number(st, "releases");
	c->submitted = read_number(st, "submitted");
	c->done = read_number(st, "succeeded") + read_number(st, "timed_out") +
		  read_number(st, "cancelled");
	c->streams = read_number(st, "streams");
	c->stream_regions = read_number(st, "stream_regions");
	c->buffer_lines = test_count_lines(COHBUF_DEBUGFS "/buffers", NULL);
	c->import_lines = test_count_lines(IMPORTER_DEBUGFS "/imports", NULL);
	c->job_lines = test_count_lines(IMPORTER_DEBUGFS "/jobs", NULL);
}

/* Every live count back at @base (fences and frees may lag a little). */
int counters_settled(const struct fz_counters *base, char *why, size_t len)
{
	struct fz_counters c;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		read_counters(&c);
		if (c.live_buffers == base->live_buffers && c.live_bytes == base->live_bytes &&
		    c.imports - c.releases == base->imports - base->releases &&
		    c.submitted - c.done == base->submitted - base->done &&
		    c.streams == base->streams && c.stream_regions == base->stream_regions &&
		    c.buffer_lines == base->buffer_lines &&
		    c.import_lines == base->import_lines && c.job_lines == base->job_lines)
			return 1;
		usleep(20000);
	}
	snprintf(why, len,
		 "live_buffers %lld->%lld live_bytes %lld->%lld live imports %lld->%lld unfinished jobs %lld->%lld streams %lld->%lld regions %lld->%lld debugfs lines buffers %d->%d imports %d->%d jobs %d->%d",
		 base->live_buffers, c.live_buffers, base->live_bytes, c.live_bytes,
		 base->imports - base->releases, c.imports - c.releases,
		 base->submitted - base->done, c.submitted - c.done,
		 base->streams, c.streams, base->stream_regions, c.stream_regions,
		 base->buffer_lines, c.buffer_lines, base->import_lines, c.import_lines,
		 base->job_lines, c.job_lines);
	return 0;
}
