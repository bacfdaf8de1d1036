// SPDX-License-Identifier: GPL-2.0
/*
 * The cohbuf module loads, creates /dev/cohbuf under its own platform device,
 * refuses to unload while the device is open, and unloads and reloads cleanly.
 *
 * The unload/reload cases need the module file: $COHBUF_KO, or
 * /lib/modules/$(uname -r)/extra/cohbuf.ko as the test guests install it.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

#define DEV_PATH "/dev/cohbuf"
#define MISC_MAJOR_NR 10

TEST(device_node_is_misc_char_device)
{
	struct stat st;

	ASSERT_TRUE(test_module_loaded("cohbuf")) TH_LOG("cohbuf is not loaded");
	ASSERT_EQ(0, stat(DEV_PATH, &st)) TH_LOG("%s: %s", DEV_PATH, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR_NR, major(st.st_rdev));
	/* Root only until a udev rule says otherwise. */
	EXPECT_EQ(0600, st.st_mode & 07777);
}

TEST(device_parent_is_platform_device)
{
	char link[PATH_MAX];
	ssize_t n;

	n = readlink("/sys/class/misc/cohbuf", link, sizeof(link) - 1);
	ASSERT_GT(n, 0) TH_LOG("/sys/class/misc/cohbuf: %s", strerror(errno));
	link[n] = '\0';
	EXPECT_NE(NULL, strstr(link, "/platform/cohbuf/misc/cohbuf")) TH_LOG("link: %s", link);
}

TEST(unknown_ioctl_is_enotty)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO('x', 0xff)));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST(unload_refused_while_open)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, test_unload_module("cohbuf"));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(test_module_loaded("cohbuf"));
	close(fd);
}

TEST(unload_and_reload)
{
	char buf[PATH_MAX];
	const char *ko = test_module_file(buf, sizeof(buf));

	if (!ko || access(ko, R_OK))
		SKIP(return, "module file not found (set COHBUF_KO)");
	ASSERT_EQ(0, test_unload_module("cohbuf")) TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_FALSE(test_module_loaded("cohbuf"));
	EXPECT_NE(0, access(DEV_PATH, F_OK));

	ASSERT_EQ(0, test_load_module(ko)) TH_LOG("finit_module %s: %s", ko, strerror(errno));
	EXPECT_TRUE(test_module_loaded("cohbuf"));
	EXPECT_EQ(0, access(DEV_PATH, F_OK));
}

TEST_HARNESS_MAIN
