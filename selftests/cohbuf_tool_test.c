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

/* Run the tool with @args; its output in @out, its exit status returned. */
static int run_tool(const char *args, char *out, size_t len)
{
	const char *tool = getenv("COHBUF_TOOL") ?: "./cohbuf";
	char cmd[512];
	size_t n = 0, r;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", tool, args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n < len - 1 && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	return pclose(p);
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
	EXPECT_NE(0, run_tool("alloc 9M", out, sizeof(out)));
	settings_pop_all();
	EXPECT_NE(NULL, strstr(out, "Cannot allocate memory")) TH_LOG("%s", out);
	EXPECT_NE(0, run_tool("alloc 4Q", out, sizeof(out)));
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
	EXPECT_NE(0, run_tool("dump 5M 5242880 1", out, sizeof(out)));
}

TEST(share_story)
{
	ASSERT_EQ(0, run_tool("share", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "still waiting for vgem's fence")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "for B's bytes: same")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "[B]  44 43 42 41")) TH_LOG("%s", out);
	EXPECT_EQ(0, cohbuf_stat("live_buffers"));
}

TEST_HARNESS_MAIN
