// SPDX-License-Identifier: GPL-2.0
/*
 * The cohbuf command-line tool, run as a user would run it: each command
 * must succeed and print what it claims.  The tool sits next to the test
 * programs ($COHBUF_TOOL overrides).
 */

#include <fcntl.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "stream_test.h"

static char out[1 << 16];

TEST(alloc_shows_chunks)
{
	ASSERT_EQ(0, test_run_tool("alloc 9M --name tool --fill 0x5a --dump 16", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "9437184 bytes, cached, 3 chunks")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "5a 5a 5a 5a")) TH_LOG("%s", out);
}

/*
 * ENOMEM from the byte quota: a 9 MiB contiguous buffer, the obvious
 * impossible request, is allocated from a CMA area where the kernel has
 * one (the debug kernel's 64 MiB).
 */
TEST(alloc_reports_errors)
{
	long long live = cohbuf_stat("live_bytes");

	ASSERT_LE(0, live);
	/* Put back below, else by the next push or at exit if an ASSERT ends the test. */
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"), live + 1 * MIB));
	/* 1: the kernel refused */
	EXPECT_EQ(1, test_exit_code(test_run_tool("alloc 9M", out, sizeof(out)))) TH_LOG("%s", out);
	EXPECT_EQ(0, settings_pop_all());
	EXPECT_NE(NULL, strstr(out, "Cannot allocate memory")) TH_LOG("%s", out);
	/* 2: a bad number */
	EXPECT_EQ(2, test_exit_code(test_run_tool("alloc 4Q", out, sizeof(out)))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Usage:")) TH_LOG("%s", out);
}

TEST(fill_by_the_importer)
{
	ASSERT_EQ(0, test_run_tool("fill 5M 0xcafef00d --dump 8", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "0d f0 fe ca 0d f0 fe ca")) TH_LOG("%s", out);
}

TEST(checksum_agrees)
{
	ASSERT_EQ(0, test_run_tool("checksum 9M --seed 7", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, ": equal")) TH_LOG("%s", out);
}

/*
 * The CPU's bytes in "checksum" are the uapi's splitmix64 stream of the
 * seed: the tool's CRC-32 is the oracle's CRC-32 of the oracle's stream.
 * The library's generator matches the oracle at every length, partial
 * final words included.
 */
TEST(checksum_writes_the_splitmix64_stream)
{
	static unsigned char want[64 * KIB], got[64 * KIB];
	char line[64];
	size_t len;

	for (len = 0; len <= 17; len++) {
		memset(got, 0xa5, len + 1);
		cohbuf_importer_random_fill(got, len, 0x123456789abcdefULL + len);
		random_bytes(want, len, 0x123456789abcdefULL + len);
		EXPECT_EQ(0, memcmp(got, want, len)) TH_LOG("length %zu", len);
		EXPECT_EQ(0xa5, got[len]) TH_LOG("length %zu: wrote past the end", len);
	}
	random_bytes(want, sizeof(want), 7);
	snprintf(line, sizeof(line), "by the CPU: %#010x: equal", test_crc32(want, sizeof(want)));
	ASSERT_EQ(0, test_run_tool("checksum 64K --seed 7", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, line)) TH_LOG("want %s in %s", line, out);
}

TEST(info_and_dump)
{
	ASSERT_EQ(0, test_run_tool("info 5M --wc", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "size 5242880 flags 0 cache_mode 1 nr_chunks 2"))
		TH_LOG("%s", out);
	/* A window across the chunk boundary, at an unaligned offset. */
	ASSERT_EQ(0, test_run_tool("dump 5M 4194300 8 --seed 3", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "bytes 4194300..4194307 through a 8192-byte window at 4190208"))
		TH_LOG("%s", out);
	{
		static unsigned char stream[4194308];
		char want[64];
		int i, n = 0;

		random_bytes(stream, sizeof(stream), 3);
		for (i = 0; i < 8; i++)
			n += snprintf(want + n, sizeof(want) - n, "%02x ", stream[4194300 + i]);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("want %s in %s", want, out);
	}
	/* 2: an offset past the end */
	EXPECT_EQ(2, test_exit_code(test_run_tool("dump 5M 5242880 1", out, sizeof(out))))
		TH_LOG("%s", out);
}

/* --help: the whole usage on stdout, and exit 0. */
TEST(help_lists_every_command)
{
	static const char * const lines[] = {
		"Usage: cohbuf alloc SIZE [--wc] [--contiguous] [--name NAME] [--fill BYTE]",
		"cohbuf fill SIZE PATTERN [--wc] [--dump N]",
		"cohbuf checksum SIZE [--wc] [--seed N]",
		"cohbuf info SIZE [--wc] [--contiguous] [--name NAME]",
		"cohbuf dump SIZE OFFSET LEN [--seed N]",
		"cohbuf share",
		"cohbuf stream [STREAM OPTIONS]",
		"cohbuf capture FILE [STREAM OPTIONS] [--direct]",
	};
	unsigned int i;

	ASSERT_EQ(0, test_exit_code(test_run_tool_to("--help", "/dev/null", out, sizeof(out))))
		TH_LOG("%s", out);
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		EXPECT_NE(NULL, strstr(out, lines[i])) TH_LOG("line %u missing: %s", i, out);
	ASSERT_EQ(0, test_exit_code(test_run_tool_to("help", "/dev/null", out, sizeof(out))));
	EXPECT_NE(NULL, strstr(out, lines[0])) TH_LOG("%s", out);
}

/* CMD --help: that command's usage on stdout, exit 0, and nothing done. */
TEST(command_help)
{
	static const char * const cmds[] = {
		"alloc", "fill", "checksum", "info", "dump", "share", "stream", "capture",
	};
	char args[64], want[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		snprintf(want, sizeof(want), "Usage: cohbuf %s", cmds[i]);
		EXPECT_EQ(0, test_exit_code(test_run_tool_to(args, "/dev/null", out, sizeof(out))))
			TH_LOG("%s: %s", args, out);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s: %s", args, out);
		EXPECT_EQ(NULL, strstr(out, "allocated")) TH_LOG("%s: %s", args, out);
	}
	/* --help wins over a bad argument next to it. */
	EXPECT_EQ(0, test_exit_code(test_run_tool_to("alloc 4Q --help", "/dev/null", out,
						     sizeof(out))));
}

/* A bad number or option: exit 2, a message naming it, the usage, nothing done. */
TEST(bad_command_lines)
{
	static const struct {
		const char *args, *message;
	} cases[] = {
		{ "alloc 4Q", "SIZE: '4Q' is not a number" },
		{ "alloc 0", "SIZE: '0' is out of range" },
		{ "alloc -1", "unknown option '-1'" },
		{ "alloc ' 1M'", "SIZE: ' 1M' is not a number" },
		{ "alloc 1M2", "SIZE: '1M2' is not a number" },
		{ "alloc 17179869184G", "SIZE: '17179869184G' is out of range" },
		{ "alloc 99999999999999999999", "is out of range" },
		{ "alloc 1M --fill 256", "--fill: '256' is out of range [0, 255]" },
		{ "alloc 1M --fill 1K", "--fill: '1K' is not a number" },
		{ "alloc 1M --dump x", "--dump: 'x' is not a number" },
		{ "alloc 1M --name 0123456789abcdef0123456789abcdef", "--name: at most 31" },
		{ "alloc 1M --name", "missing argument for '--name'" },
		{ "alloc 1M --seed 3", "no option --seed" },
		{ "alloc 1M --bogus", "unknown option '--bogus'" },
		{ "alloc", "1 argument expected, 0 given" },
		{ "fill 1M 0x100000000", "PATTERN: '0x100000000' is out of range" },
		{ "checksum 1M --seed 1x", "--seed: '1x' is not a number" },
		{ "dump 1M 1048576 1", "OFFSET: '1048576' is out of range [0, 1048575]" },
		{ "dump 1M 0 0", "LEN: '0' is out of range [1, 1048576]" },
		{ "dump 1M 4096 1044481", "LEN: '1044481' is out of range [1, 1044480]" },
		{ "share now", "0 arguments expected, 1 given" },
		{ "stream --rate 0", "--rate: '0' is out of range [1, 100000000]" },
		{ "stream --channels 17", "--channels: '17' is out of range [1, 16]" },
		{ "stream --format u8", "--format: 'u8' is none of adc12 s16 s32" },
		{ "stream --clock tsc", "--clock: 'tsc' is none of hrtimer manual" },
		{ "stream --policy wait", "--policy: 'wait' is none of drop stop" },
		{ "stream --depth 257", "--depth: '257' is out of range [1, 256]" },
		{ "stream --duration 1.5x", "--duration: '1.5x' is not a number of seconds" },
		{ "stream --duration 0.0001", "--duration: '0.0001' is out of range" },
		{ "stream --provider heap:", "--provider: 'heap:' is none of" },
		{ "stream --provider heap:../x", "--provider: 'heap:../x' is none of" },
		{ "stream --channels 16 --block-frames 1000000", "exceed 16777216 bytes" },
		{ "stream --block-frames 4 --corrupt-bit 128", "is past the block's 128 bits" },
		{ "stream --direct", "no option --direct" },
		{ "stream extra", "0 arguments expected, 1 given" },
		{ "capture", "1 argument expected, 0 given" },
		{ "frob", "unknown command 'frob'" },
		{ "", "Usage: cohbuf alloc" },
	};
	long long allocations = cohbuf_stat("allocations"), failures = cohbuf_stat("failures");
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(2, test_exit_code(test_run_tool(cases[i].args, out, sizeof(out))))
			TH_LOG("%s: %s", cases[i].args, out);
		EXPECT_NE(NULL, strstr(out, cases[i].message))
			TH_LOG("%s: want \"%s\" in %s", cases[i].args, cases[i].message, out);
		EXPECT_NE(NULL, strstr(out, "Usage: cohbuf ")) TH_LOG("%s: %s", cases[i].args, out);
	}
	EXPECT_EQ(allocations, cohbuf_stat("allocations"));
	EXPECT_EQ(failures, cohbuf_stat("failures"));
}

/* The figures of a stream summary; 0 if every line was there. */
struct summary {
	unsigned long long produced, delivered, lost, in_flight;
	unsigned long long records, filled, given_back, failed, overruns, out_of_order;
	unsigned long long samples, checked_records, captured;
};

static int parse_summary(const char *text, struct summary *s)
{
	const char *p = strstr(text, "\nproduced ") ?: text;
	const char *r = strstr(text, "\nrecords ");
	const char *v = strstr(text, "\nverified ");
	const char *c = strstr(text, "\ncapture: ");

	memset(s, 0, sizeof(*s));
	if (strncmp(p, "\nproduced ", 10) && strncmp(p, "produced ", 9))
		return -1;
	if (sscanf(strstr(p, "produced "),
		   "produced %llu = delivered %llu + lost %llu + in flight %llu frames",
		   &s->produced, &s->delivered, &s->lost, &s->in_flight) != 4 || !r || !v)
		return -1;
	if (sscanf(r, "\nrecords %llu: %llu filled, %llu given back, %llu failed; %llu overrun",
		   &s->records, &s->filled, &s->given_back, &s->failed, &s->overruns) != 5)
		return -1;
	r = strstr(r, "records out of order ");
	if (!r || sscanf(r, "records out of order %llu", &s->out_of_order) != 1)
		return -1;
	if (sscanf(v, "\nverified %llu samples in %llu records", &s->samples,
		   &s->checked_records) != 2)
		return -1;
	if (c && sscanf(c, "\ncapture: %llu bytes", &s->captured) != 1)
		return -1;
	return 0;
}

/* Print the line of @text with @needle in it, for the log (the run's figures). */
static void print_line(const char *text, const char *needle)
{
	const char *l = strstr(text, needle);

	if (!l)
		return;
	while (l > text && l[-1] != '\n')
		l--;
	ksft_print_msg("%.*s\n", (int)strcspn(l, "\n"), l);
}

/* Run "cohbuf stream|capture @args": its exit code, the summary in @s. */
static int run_stream(const char *args, struct summary *s)
{
	int code = test_exit_code(test_run_tool(args, out, sizeof(out)));

	if (parse_summary(out, s))
		return -100 - code;	/* no summary: the caller's EXPECT shows it */
	return code;
}

/*
 * The manual clock, exactly: rate * duration frames, all delivered and
 * checked, the last block partly filled by STOP, the other queued
 * regions given back unfilled; in every format.
 */
TEST(stream_manual_clock_is_exact)
{
	static const struct {
		const char *format;
		unsigned int channels;
	} cases[] = { { "adc12", 4 }, { "s16", 1 }, { "s32", 16 } };
	struct summary s;
	char args[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		/* 24480 frames: 24 blocks of 1000 and 480 more */
		snprintf(args, sizeof(args),
			 "stream --clock manual --rate 48000 --duration 0.51 --format %s --channels %u --block-frames 1000 --depth 4",
			 cases[i].format, cases[i].channels);
		ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
		EXPECT_EQ(24480, s.produced) TH_LOG("%s", out);
		EXPECT_EQ(24480, s.delivered) TH_LOG("%s", out);
		EXPECT_EQ(0, s.lost);
		EXPECT_EQ(0, s.in_flight);
		EXPECT_EQ(s.produced, s.delivered + s.lost + s.in_flight);
		EXPECT_EQ(25, s.filled) TH_LOG("%s", out);
		EXPECT_EQ(3, s.given_back) TH_LOG("%s", out);
		EXPECT_EQ(28, s.records);
		EXPECT_EQ(0, s.failed);
		EXPECT_EQ(0, s.out_of_order);
		EXPECT_EQ(24480ULL * cases[i].channels, s.samples) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "samples in 25 records: all correct"))
			TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "\nresult: ok\n")) TH_LOG("%s", out);
	}
}

/*
 * ADVANCE of 6000 frames into 4 regions of 1000: 4000 delivered, 2000 lost,
 * twice.  Unexpected loss fails the run, unless --allow-loss; under the stop
 * policy the stream stops at the first overrun and nothing is lost.
 */
TEST(stream_manual_clock_starved)
{
	struct summary s;
	char base[128], args[256];

	snprintf(base, sizeof(base), "stream --clock manual --rate 48000 --duration 0.25 %s",
		 "--block-frames 1000 --depth 4 --advance 6000");
	EXPECT_EQ(1, run_stream(base, &s)) TH_LOG("%s", out);
	EXPECT_EQ(12000, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(8000, s.delivered);
	EXPECT_EQ(4000, s.lost);
	EXPECT_EQ(0, s.in_flight);
	EXPECT_EQ(2, s.overruns);
	EXPECT_EQ(0, s.out_of_order) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "result: FAILED (lost frames)")) TH_LOG("%s", out);

	snprintf(args, sizeof(args), "%s --allow-loss", base);
	EXPECT_EQ(0, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_EQ(4000, s.lost) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "all correct\n")) TH_LOG("%s", out);

	snprintf(args, sizeof(args), "%s --policy stop", base);
	EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_EQ(4000, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(4000, s.delivered);
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(1, s.overruns);
	EXPECT_EQ(4, s.given_back) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "result: FAILED (stopped by an overrun)")) TH_LOG("%s", out);
}

/*
 * The hrtimer clock in real time for half a second: how much is produced
 * depends on the guest, but the counts balance, the records account for
 * every delivered frame and every sample is right.  Loss is allowed so
 * that a stalled guest cannot fail it; the depth leaves 800 ms of slack.
 */
TEST(stream_hrtimer_clock_balances)
{
	struct summary s;
	char args[256];

	snprintf(args, sizeof(args), "stream --clock hrtimer --rate 20000 --channels 2 %s",
		 "--block-frames 500 --depth 32 --duration 0.5 --allow-loss");
	ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_LT(0, s.delivered) TH_LOG("%s", out);
	EXPECT_EQ(s.produced, s.delivered + s.lost + s.in_flight) TH_LOG("%s", out);
	EXPECT_EQ(0, s.in_flight);
	EXPECT_EQ(2 * s.delivered, s.samples) TH_LOG("%s", out);
	EXPECT_EQ(0, s.failed);
	EXPECT_EQ(0, s.out_of_order) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "all correct\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "balanced\n")) TH_LOG("%s", out);
	print_line(out, "produced ");
	print_line(out, " samples/s, ");
}

/*
 * Ring mode (--ring), with the manual clock: every frame delivered and
 * checked, one block record each (the last partly filled by STOP); an
 * ADVANCE larger than the ring loses exactly the blocks that had no room;
 * a flipped bit is found in the ring as in a region.
 */
TEST(stream_ring_manual_clock_is_exact)
{
	const char *base =
		"stream --ring 64K --clock manual --rate 48000 --channels 4 --block-frames 1000";
	struct summary s;
	char args[256];

	/* 24480 frames: 24 blocks of 1000 and 480 more */
	snprintf(args, sizeof(args), "%s --duration 0.51", base);
	ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
	EXPECT_EQ(24480, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(24480, s.delivered);
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(25, s.filled) TH_LOG("%s", out);
	EXPECT_EQ(25, s.records);
	EXPECT_EQ(0, s.out_of_order) TH_LOG("%s", out);
	EXPECT_EQ(24480ULL * 4, s.samples) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "a 65536-byte cohbuf ring of 8056-byte records"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\nresult: ok\n")) TH_LOG("%s", out);

	/* 8 records fit in 64 KiB: of 12 blocks in one ADVANCE, 4 are lost. */
	snprintf(args, sizeof(args), "%s --duration 0.25 --advance 12000", base);
	EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_EQ(12000, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(8000, s.delivered);
	EXPECT_EQ(4000, s.lost);
	EXPECT_EQ(1, s.overruns);
	EXPECT_EQ(0, s.out_of_order) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "result: FAILED (lost frames)")) TH_LOG("%s", out);

	snprintf(args, sizeof(args), "%s --duration 0.1 --corrupt-bit 77", base);
	EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "1 record CORRUPT, the first at frame 1 channel 0"))
		TH_LOG("%s", out);
}

/* Ring mode in real time: the consumer sleeps in poll(); the counts balance. */
TEST(stream_ring_hrtimer_clock_balances)
{
	struct summary s;
	char args[256];

	snprintf(args, sizeof(args), "stream --ring 256K --clock hrtimer --rate 20000 %s",
		 "--channels 2 --block-frames 500 --duration 0.3 --allow-loss");
	ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s", out);
	EXPECT_LT(0, s.delivered) TH_LOG("%s", out);
	EXPECT_EQ(s.produced, s.delivered + s.lost + s.in_flight) TH_LOG("%s", out);
	EXPECT_EQ(0, s.in_flight);
	EXPECT_EQ(2 * s.delivered, s.samples) TH_LOG("%s", out);
	EXPECT_EQ(0, s.out_of_order) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "all correct\n")) TH_LOG("%s", out);
}

/* One flipped bit anywhere in the first block fails the run and is found. */
TEST(stream_corrupt_sample_fails)
{
	static const struct {
		unsigned int bit;
		const char *where;
	} cases[] = {
		{ 5, "the first at frame 0 channel 0" },	/* a value bit */
		{ 1, "the first at frame 0 channel 0" },	/* a noise bit */
		{ 8 * 6 + 7, "the first at frame 1 channel 1" },	/* sample 3 */
		{ 8 * 2 * 2 * 1000 - 1, "the first at frame 999 channel 1" },	/* the last */
	};
	struct summary s;
	char args[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(args, sizeof(args),
			 "stream --clock manual --duration 0.1 --channels 2 --block-frames 1000 --corrupt-bit %u",
			 cases[i].bit);
		EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
		EXPECT_NE(NULL, strstr(out, cases[i].where)) TH_LOG("%s: %s", args, out);
		EXPECT_NE(NULL, strstr(out, "1 record CORRUPT")) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "result: FAILED (corrupt samples)")) TH_LOG("%s", out);
		EXPECT_EQ(0, s.lost);
	}
}

/*
 * --output: the tool writes every region for the frames it will be
 * played at and the device checks it. Exact with the manual clock; a
 * starved queue loses frames and plays the regions written before the
 * tool knew it late (their mismatch is expected, and the later ones are
 * written for the shifted frames); a flipped bit the device catches.
 */
TEST(stream_output_is_checked_by_the_device)
{
	struct summary s;
	char base[128], args[256];

	snprintf(base, sizeof(base), "stream --output --clock manual --rate 48000 %s",
		 "--duration 0.25 --block-frames 1000 --depth 4");

	ASSERT_EQ(0, run_stream(base, &s)) TH_LOG("%s: %s", base, out);
	EXPECT_EQ(12000, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(12000, s.delivered);
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(24000, s.samples);
	EXPECT_NE(NULL, strstr(out, "output stream: ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "(by the device: 0 mismatched, 0 records played late)"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "all correct\n")) TH_LOG("%s", out);

	snprintf(args, sizeof(args), "%s --advance 6000 --allow-loss", base);
	ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
	EXPECT_EQ(12000, s.produced) TH_LOG("%s", out);
	EXPECT_EQ(8000, s.delivered);
	EXPECT_EQ(4000, s.lost);
	EXPECT_EQ(2, s.overruns);
	EXPECT_NE(NULL, strstr(out, " 4 records played late): all correct\n")) TH_LOG("%s", out);
	snprintf(args, sizeof(args), "%s --advance 6000", base);
	EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
	EXPECT_NE(NULL, strstr(out, "result: FAILED (lost frames)")) TH_LOG("%s", out);

	snprintf(args, sizeof(args), "%s --corrupt-bit %u", base, 8 * 6 + 7);
	EXPECT_EQ(1, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
	EXPECT_NE(NULL, strstr(out, "(by the device: 1 mismatched, 0 records played late)"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "1 record CORRUPT, the first at frame 1 channel 1"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "result: FAILED (corrupt samples)")) TH_LOG("%s", out);
	EXPECT_EQ(0, s.lost);
}

/*
 * The library's reference payload against itself: what generate writes
 * verifies and decodes to sample_value, ADC12's word is its value << 4
 * plus noise, and verify finds every single flipped bit of a block, at
 * the sample it is in.
 */
TEST(stream_library_verifier)
{
	static const __u32 formats[] = {
		COHBUF_STREAM_FMT_ADC12, COHBUF_STREAM_FMT_S16, COHBUF_STREAM_FMT_S32,
	};
	const __u64 first = (1ULL << 32) - 2;	/* across 2^32 */
	const __u32 frames = 5, ch = 3;
	unsigned char block[5 * 3 * 4];
	unsigned int f, bit, size;
	__u32 word, c;
	size_t bad, n;
	__s32 value;

	for (f = 0; f < ARRAY_SIZE(formats); f++) {
		size = cohbuf_stream_sample_bytes(formats[f]);
		ASSERT_EQ(0, cohbuf_stream_generate(block, first, frames, ch, formats[f]));
		ASSERT_EQ(0, cohbuf_stream_verify(block, first, frames, ch, formats[f], &bad));
		for (n = 0; n < frames * ch; n++) {
			c = (__u32)(n % ch);
			word = cohbuf_stream_sample_word(first + n / ch, c, formats[f]);
			value = cohbuf_stream_sample_value(first + n / ch, c, formats[f]);
			EXPECT_EQ(value, cohbuf_stream_decode(block, n, formats[f]));
			if (formats[f] == COHBUF_STREAM_FMT_ADC12)
				EXPECT_EQ((__s16)word >> 4, value);
		}
		/* The next frames are not these. */
		EXPECT_EQ(-EBADMSG, cohbuf_stream_verify(block, first + 1, frames, ch,
							 formats[f], &bad));
		for (bit = 0; bit < 8 * size * frames * ch; bit++) {
			block[bit / 8] ^= 1u << (bit % 8);
			bad = SIZE_MAX;
			EXPECT_EQ(-EBADMSG, cohbuf_stream_verify(block, first, frames, ch,
								 formats[f], &bad))
				TH_LOG("format %u bit %u", formats[f], bit);
			EXPECT_EQ(bit / (8 * size), bad)
				TH_LOG("format %u bit %u", formats[f], bit);
			block[bit / 8] ^= 1u << (bit % 8);
		}
	}
	EXPECT_EQ(-EINVAL, cohbuf_stream_verify(block, 0, 1, 0, COHBUF_STREAM_FMT_S16, NULL));
	EXPECT_EQ(-EINVAL, cohbuf_stream_verify(block, 0, 1, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, cohbuf_stream_generate(block, 0, 1, 17, COHBUF_STREAM_FMT_S16));
	EXPECT_EQ(0, cohbuf_stream_sample_bytes(4));
}

/*
 * libcohbuf's stream calls against the kernel: a manual-clock stream into
 * 4 regions of one buffer, 2.5 blocks produced. read() takes the two
 * filled records at once; DEQUEUE only polls with a deadline passed, waits
 * until one ahead, and says -ENODATA once the stream is stopped; STOP
 * completes the half block and gives back the last region.
 */
TEST(stream_library_calls)
{
	struct cohbuf_stream_create_data p = stream_params(256);	/* 4 ADC12 channels */
	const __u64 block = stream_block_bytes(&p), wait_ns = 20 * 1000 * 1000;
	int dev = cohbuf_dev_open(), ctx = cohbuf_importer_open(), s, buf, i;
	struct cohbuf_stream_stats_data st;
	struct cohbuf_stream_record rec[4];
	unsigned char *map;
	__u64 t;

	ASSERT_LE(0, dev);
	ASSERT_LE(0, ctx);
	buf = test_alloc(dev, 4 * block);
	ASSERT_LE(0, buf);
	map = cohbuf_dmabuf_map(buf, 0, 4 * block, 0);
	ASSERT_NE(NULL, map);
	s = cohbuf_stream_create(ctx, &p);
	ASSERT_LE(0, s) TH_LOG("%s", strerror(-s));
	EXPECT_EQ(FD_CLOEXEC, fcntl(s, F_GETFD) & FD_CLOEXEC);
	for (i = 0; i < 4; i++) {
		struct cohbuf_stream_queue_data q = {
			.dmabuf_fd = buf, .offset = i * block, .length = block, .cookie = 100 + i,
		};

		ASSERT_EQ(0, cohbuf_stream_queue(s, &q));
		EXPECT_EQ(-1, q.out_fence_fd);
	}
	EXPECT_EQ(-EPIPE, cohbuf_stream_advance(s, 1));	/* not started */
	ASSERT_EQ(0, cohbuf_stream_start(s));
	EXPECT_EQ(-EBUSY, cohbuf_stream_start(s));
	ASSERT_EQ(0, cohbuf_stream_advance(s, 2 * 256 + 128));

	ASSERT_EQ(2, cohbuf_stream_read(s, rec, 4));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(100 + i, rec[i].cookie);
		EXPECT_EQ(i, rec[i].sequence);
		EXPECT_EQ(256 * i, rec[i].first_frame);
		EXPECT_EQ(256, rec[i].frames);
		EXPECT_EQ(0, cohbuf_stream_verify(map + i * block, rec[i].first_frame,
						  rec[i].frames, 4, p.format, NULL));
	}
	EXPECT_EQ(-ETIME, cohbuf_stream_dequeue(s, 0, &rec[2]));
	t = cohbuf_stream_now_ns();
	EXPECT_EQ(-ETIME, cohbuf_stream_dequeue(s, t + wait_ns, &rec[2]));
	EXPECT_LE(t + wait_ns, cohbuf_stream_now_ns());
	ASSERT_EQ(0, cohbuf_stream_stats(s, &st));
	EXPECT_EQ(COHBUF_STREAM_STATE_RUNNING, st.state);
	EXPECT_EQ(640, st.produced);
	EXPECT_EQ(512, st.delivered);
	EXPECT_EQ(128, st.in_flight);
	EXPECT_EQ(2, st.queued);

	ASSERT_EQ(0, cohbuf_stream_stop(s));
	ASSERT_EQ(0, cohbuf_stream_dequeue(s, 0, &rec[2]));
	EXPECT_EQ(102, rec[2].cookie);
	EXPECT_EQ(512, rec[2].first_frame);
	EXPECT_EQ(128, rec[2].frames);
	EXPECT_EQ(0, cohbuf_stream_verify(map + 2 * block, 512, 128, 4, p.format, NULL));
	ASSERT_EQ(0, cohbuf_stream_dequeue(s, 0, &rec[3]));
	EXPECT_EQ(103, rec[3].cookie);
	EXPECT_EQ(COHBUF_STREAM_REC_ERROR, rec[3].flags & COHBUF_STREAM_REC_ERROR);
	EXPECT_EQ(-ECANCELED, rec[3].status);
	EXPECT_EQ(-ENODATA, cohbuf_stream_dequeue(s, 0, &rec[3]));
	EXPECT_EQ(0, cohbuf_stream_read(s, rec, 4));	/* the end of the stream */
	ASSERT_EQ(0, cohbuf_stream_stats(s, &st));
	EXPECT_EQ(COHBUF_STREAM_STATE_STOPPED, st.state);
	EXPECT_EQ(640, st.delivered);
	EXPECT_EQ(0, st.in_flight);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(4, st.records);
	cohbuf_dmabuf_unmap(map, 4 * block);
	close(s);
	close(buf);
	close(ctx);
	close(dev);
}

/* Read @path whole into a new buffer: its length, or -1. */
static ssize_t slurp(const char *path, unsigned char **data)
{
	struct stat st;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	if (fd < 0 || fstat(fd, &st))
		goto out;
	*data = malloc(st.st_size ?: 1);
	if (*data)
		n = read(fd, *data, st.st_size);
out:
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * capture writes the delivered frames in order, exactly: 12000 frames of
 * 2 S16 channels are 48000 bytes, frame k at byte 4 k; with --direct too,
 * which writes from the buffers in the kernel (COHBUF_IOCTL_WRITE_FILE),
 * O_DIRECT where the file system takes it.
 */
TEST(capture_writes_exactly_the_stream)
{
	static const char * const modes[] = { "", " --direct" };
	const char *path = "/tmp/cohbuf-capture-test.bin";
	unsigned char *data;
	struct summary s;
	char args[256];
	unsigned int i;
	size_t bad = 0;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		unlink(path);
		snprintf(args, sizeof(args),
			 "capture %s --clock manual --rate 48000 --duration 0.25 --format s16 --block-frames 1024%s",
			 path, modes[i]);
		ASSERT_EQ(0, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
		EXPECT_EQ(12000, s.delivered) TH_LOG("%s", out);
		EXPECT_EQ(48000, s.captured) TH_LOG("%s", out);
		n = slurp(path, &data);
		ASSERT_EQ(48000, n) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(0, cohbuf_stream_verify(data, 0, 12000, 2, COHBUF_STREAM_FMT_S16, &bad))
			TH_LOG("sample %zu is wrong", bad);
		free(data);
		if (!*modes[i]) {
			EXPECT_NE(NULL, strstr(out, "capture: buffered write() from the mapping"))
				TH_LOG("%s", out);
			print_line(out, " MB/s in the writes");
			continue;
		}
		/* The in-kernel write, and what O_DIRECT did, as the tool reports it. */
		EXPECT_NE(NULL, strstr(out, "COHBUF_IOCTL_WRITE_FILE from the buffer"))
			TH_LOG("%s", out);
		print_line(out, "COHBUF_IOCTL_WRITE_FILE from the buffer");
	}
	unlink(path);
}

/* udmabuf and the system dma-heap as the stream's buffers. */
TEST(stream_other_providers)
{
	static const struct {
		const char *provider, *dev;
	} cases[] = {
		{ "udmabuf", "/dev/udmabuf" },
		{ "heap:system", "/dev/dma_heap/system" },
	};
	struct summary s;
	char args[256];
	unsigned int i, ran = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (access(cases[i].dev, F_OK)) {
			ksft_print_msg("no %s: kernel built without it\n", cases[i].dev);
			continue;
		}
		snprintf(args, sizeof(args),
			 "stream --clock manual --duration 0.1 --channels 3 --provider %s",
			 cases[i].provider);
		EXPECT_EQ(0, run_stream(args, &s)) TH_LOG("%s: %s", args, out);
		EXPECT_EQ(4800, s.delivered) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "all correct\n")) TH_LOG("%s", out);
		ran++;
	}
	if (!ran)
		SKIP(return, "no /dev/udmabuf, no /dev/dma_heap/system: kernel built without both");
}

/*
 * On a terminal the progress line is redrawn in place (a carriage return
 * each time, a newline only at the end) before the summary.
 */
TEST(stream_progress_line_on_a_terminal)
{
	const char *tool = getenv("COHBUF_TOOL") ?: "./cohbuf";
	char buf[1 << 14], *summary, *p;
	int master, status, draws = 0, lines = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		SKIP(return, "no pseudo-terminal (forkpty: %s): is devpts mounted?",
		     strerror(errno));
	if (!pid) {
		execl(tool, tool, "stream", "--clock", "hrtimer", "--rate", "20000",
		      "--block-frames", "500", "--depth", "32", "--duration", "0.8",
		      "--allow-loss", (char *)NULL);
		_exit(127);
	}
	while (len < sizeof(buf) - 1 && (n = read(master, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;	/* EIO once the tool has exited */
	buf[len] = '\0';
	close(master);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, test_exit_code(status)) TH_LOG("%s", buf);
	summary = strstr(buf, "stream: ");
	ASSERT_NE(NULL, summary) TH_LOG("%s", buf);
	*summary = '\0';
	for (p = buf; (p = strstr(p, " samples/s ")); p++)
		draws++;
	for (p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	EXPECT_LE(2, draws) TH_LOG("%s", buf);
	EXPECT_EQ(1, lines) TH_LOG("redrawn in place, then one newline: %s", buf);
	EXPECT_NE(NULL, strstr(buf, " MB/s  delivered ")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "  queue ")) TH_LOG("%s", buf);
}

TEST(share_story)
{
	ASSERT_EQ(0, test_run_tool("share", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "still waiting for vgem's fence")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "for B's bytes: same")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "[B]  44 43 42 41")) TH_LOG("%s", out);
	/* The importer drops a closed context's imports just after the close. */
	EXPECT_EQ(0, test_importer_reaped(20));
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_HARNESS_MAIN
