// SPDX-License-Identifier: GPL-2.0
/*
 * The cohbuf command-line tool, run as a user would run it: each command
 * must succeed and print what it claims.  The tool sits next to the test
 * programs ($COHBUF_TOOL overrides).
 */

#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"

/*
 * Run the tool with @args, its stderr sent to @stderr_to (a shell
 * redirection target: "&1" keeps it with stdout); its output in @out, its
 * wait status returned.
 */
static int run_tool_to(const char *args, const char *stderr_to, char *out, size_t len)
{
	const char *tool = getenv("COHBUF_TOOL") ?: "./cohbuf";
	char cmd[512];
	size_t n = 0, r;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s 2>%s", tool, args, stderr_to);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n < len - 1 && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	return pclose(p);
}

/* Run the tool with @args: stdout and stderr in @out, its wait status returned. */
static int run_tool(const char *args, char *out, size_t len)
{
	return run_tool_to(args, "&1", out, len);
}

/* The exit code of a wait status, or -1 if the tool did not exit normally. */
static int exit_code(int status)
{
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char out[1 << 16];

TEST(alloc_shows_chunks)
{
	ASSERT_EQ(0, run_tool("alloc 9M --name tool --fill 0x5a --dump 16", out, sizeof(out)))
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
	EXPECT_EQ(1, exit_code(run_tool("alloc 9M", out, sizeof(out)))) TH_LOG("%s", out);
	EXPECT_EQ(0, settings_pop_all());
	EXPECT_NE(NULL, strstr(out, "Cannot allocate memory")) TH_LOG("%s", out);
	/* 2: a bad number */
	EXPECT_EQ(2, exit_code(run_tool("alloc 4Q", out, sizeof(out)))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Usage:")) TH_LOG("%s", out);
}

TEST(fill_by_the_importer)
{
	ASSERT_EQ(0, run_tool("fill 5M 0xcafef00d --dump 8", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "0d f0 fe ca 0d f0 fe ca")) TH_LOG("%s", out);
}

TEST(checksum_agrees)
{
	ASSERT_EQ(0, run_tool("checksum 9M --seed 7", out, sizeof(out))) TH_LOG("%s", out);
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
	ASSERT_EQ(0, run_tool("checksum 64K --seed 7", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, line)) TH_LOG("want %s in %s", line, out);
}

TEST(info_and_dump)
{
	ASSERT_EQ(0, run_tool("info 5M --wc", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "size 5242880 flags 0 cache_mode 1 nr_chunks 2"))
		TH_LOG("%s", out);
	/* A window across the chunk boundary, at an unaligned offset. */
	ASSERT_EQ(0, run_tool("dump 5M 4194300 8 --seed 3", out, sizeof(out))) TH_LOG("%s", out);
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
	EXPECT_EQ(2, exit_code(run_tool("dump 5M 5242880 1", out, sizeof(out)))) TH_LOG("%s", out);
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
	};
	unsigned int i;

	ASSERT_EQ(0, exit_code(run_tool_to("--help", "/dev/null", out, sizeof(out))))
		TH_LOG("%s", out);
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		EXPECT_NE(NULL, strstr(out, lines[i])) TH_LOG("line %u missing: %s", i, out);
	ASSERT_EQ(0, exit_code(run_tool_to("help", "/dev/null", out, sizeof(out))));
	EXPECT_NE(NULL, strstr(out, lines[0])) TH_LOG("%s", out);
}

/* CMD --help: that command's usage on stdout, exit 0, and nothing done. */
TEST(command_help)
{
	static const char * const cmds[] = { "alloc", "fill", "checksum", "info", "dump", "share" };
	char args[64], want[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		snprintf(want, sizeof(want), "Usage: cohbuf %s", cmds[i]);
		EXPECT_EQ(0, exit_code(run_tool_to(args, "/dev/null", out, sizeof(out))))
			TH_LOG("%s: %s", args, out);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s: %s", args, out);
		EXPECT_EQ(NULL, strstr(out, "allocated")) TH_LOG("%s: %s", args, out);
	}
	/* --help wins over a bad argument next to it. */
	EXPECT_EQ(0, exit_code(run_tool_to("alloc 4Q --help", "/dev/null", out, sizeof(out))));
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
		{ "frob", "unknown command 'frob'" },
		{ "", "Usage: cohbuf alloc" },
	};
	long long allocations = cohbuf_stat("allocations"), failures = cohbuf_stat("failures");
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(2, exit_code(run_tool(cases[i].args, out, sizeof(out))))
			TH_LOG("%s: %s", cases[i].args, out);
		EXPECT_NE(NULL, strstr(out, cases[i].message))
			TH_LOG("%s: want \"%s\" in %s", cases[i].args, cases[i].message, out);
		EXPECT_NE(NULL, strstr(out, "Usage: cohbuf ")) TH_LOG("%s: %s", cases[i].args, out);
	}
	EXPECT_EQ(allocations, cohbuf_stat("allocations"));
	EXPECT_EQ(failures, cohbuf_stat("failures"));
}

TEST(share_story)
{
	ASSERT_EQ(0, run_tool("share", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "still waiting for vgem's fence")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "for B's bytes: same")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "[B]  44 43 42 41")) TH_LOG("%s", out);
	/* The importer drops a closed context's imports just after the close. */
	EXPECT_EQ(0, test_importer_reaped(20));
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_HARNESS_MAIN
