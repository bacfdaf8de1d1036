// SPDX-License-Identifier: GPL-2.0
/*
 * A test that must fail: used only by "make check-selftest-negative" to prove
 * that a failing assertion fails the run.  Never part of "make check".
 */

#include "kselftest_harness.h"

TEST(passes)
{
	EXPECT_EQ(4, 2 + 2);
}

TEST(fails_on_purpose)
{
	ASSERT_EQ(5, 2 + 2) TH_LOG("this failure is expected by check-selftest-negative");
}

TEST_HARNESS_MAIN
