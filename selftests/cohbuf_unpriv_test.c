// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user can do with cohbuf when the device nodes are
 * set up as udev/60-cohbuf.rules says, and what it cannot.
 *
 * The rule is read from /etc/udev/rules.d/60-cohbuf.rules ($COHBUF_UDEV_RULE
 * overrides), where "make install-udev" puts it and where the test guests'
 * initramfs carries it. The guests run no udevd, so the fixture applies the
 * rule's effect itself, as udev would on the node's "add" event: owner
 * root, the rule's GROUP and MODE. The group is looked up in /etc/group;
 * where there is none (the guests have no group database), gid TEST_GID
 * stands for it. The original owner and mode are restored afterwards.
 *
 * Each test runs its unprivileged part in a child that drops privileges for
 * good: setgroups(), setgid() and setuid() to TEST_UID (or, for the
 * importer's per-user limits, OTHER_UID as a second user), with or without
 * the group, which also clears every capability. The test itself stays
 * root, so that the fixture's teardown can restore the nodes.
 */

#include <ctype.h>
#include <ftw.h>
#include <glob.h>
#include <setjmp.h>
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <grp.h>
#include <limits.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"
#include "importer_test.h"
#include "stream_test.h"

#define RULE_FILE	"/etc/udev/rules.d/60-cohbuf.rules"
#define TEST_UID	4243	/* an unprivileged user */
#define TEST_GID	4242	/* the "cohbuf" group where /etc/group has none */
#define OTHER_GID	4244	/* the user's own group */
#define OTHER_UID	4245	/* another unprivileged user */

static const char *const nodes[] = { COHBUF_DEV, IMPORTER_DEV };

/* Does @line hold @key="@value"? Then copy the value of @want into @out. */
static int rule_value(const char *line, const char *want, char *out, size_t len)
{
	char key[32];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "%s=\"", want);
	p = strstr(line, key);
	if (!p)
		return -1;
	p += strlen(key);
	n = strcspn(p, "\"");
	if (n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* GROUP and MODE of the rule for KERNEL=="@kernel"; 0 or -1. */
static int parse_rule(const char *path, const char *kernel, char *group, size_t len,
		      mode_t *mode)
{
	char match[64], line[512], text[4096], m[16];
	char *p, *end;

	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	snprintf(match, sizeof(match), "KERNEL==\"%s\"", kernel);
	for (p = text; p && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
		if (line[0] == '#' || !strstr(line, match))
			continue;
		if (rule_value(line, "GROUP", group, len) || rule_value(line, "MODE", m, sizeof(m)))
			return -1;
		*mode = (mode_t)strtoul(m, NULL, 8);
		return 0;
	}
	return -1;
}

/* The gid of @name in /etc/group, read without NSS; -1 if none. */
static long group_id(const char *name)
{
	char text[1 << 14], *p, *end;
	size_t n = strlen(name);

	if (read_text("/etc/group", text, sizeof(text)) < 0)
		return -1;
	for (p = text; p && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		if (!strncmp(p, name, n) && p[n] == ':') {
			p = strchr(p + n + 1, ':');
			return p ? strtol(p + 1, NULL, 10) : -1;
		}
	}
	return -1;
}

/* Become @uid, in the group @gid if it is not -1; 0 or -1. */
static int drop_privileges(uid_t uid, long gid)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2];
	gid_t groups[1] = { (gid_t)gid };

	if (setgroups(gid >= 0 ? 1 : 0, groups) || setgid(OTHER_GID) || setuid(uid))
		return -1;
	if (getuid() != uid || geteuid() != uid || getegid() != OTHER_GID)
		return -1;
	if (syscall(SYS_capget, &hdr, caps))
		return -1;
	if (caps[0].effective || caps[1].effective || caps[0].permitted || caps[1].permitted)
		return -1;
	return 0;
}

FIXTURE(unpriv) {
	long gid;
	mode_t mode;
	struct stat orig[2];
	int changed[2];
};

/*
 * Run @fn in a child as @uid, in the group @gid unless it is -1; its
 * ASSERTs end the child (they jump to the setjmp() here, in the child's
 * copy of the shared metadata, which is put back afterwards). 0 if @fn
 * returned.
 */
static int run_as_user(struct __test_metadata *_metadata, uid_t uid, long gid,
		       void (*fn)(struct __test_metadata *))
{
	jmp_buf saved;
	int status;
	pid_t pid;

	memcpy(saved, _metadata->env, sizeof(saved));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setjmp(_metadata->env))
			_exit(1);
		if (drop_privileges(uid, gid)) {
			ksft_print_msg("cannot become uid %d: %s\n", (int)uid, strerror(errno));
			_exit(2);
		}
		fn(_metadata);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	memcpy(_metadata->env, saved, sizeof(saved));
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* Run @fn as TEST_UID: see run_as_user(). */
static int run_as(struct __test_metadata *_metadata, long gid,
		  void (*fn)(struct __test_metadata *))
{
	return run_as_user(_metadata, TEST_UID, gid, fn);
}

/* The nodes' owner and mode as they were: how many could not be put back. */
static int restore_nodes(struct _test_data_unpriv *self)
{
	int failed = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (!self->changed[i])
			continue;
		if (chown(nodes[i], self->orig[i].st_uid, self->orig[i].st_gid) ||
		    chmod(nodes[i], self->orig[i].st_mode & 07777)) {
			ksft_print_msg("cannot restore %s: %s\n", nodes[i], strerror(errno));
			failed++;
		}
	}
	return failed;
}

FIXTURE_SETUP(unpriv)
{
	const char *rule = getenv("COHBUF_UDEV_RULE") ?: RULE_FILE;
	char group[64], group2[64];
	mode_t mode2;
	size_t i;
	int err;

	if (access(IMPORTER_DEV, F_OK))
		SKIP(return, "cohbuf_importer is not loaded");
	if (access(rule, R_OK))
		SKIP(return, "no udev rule at %s (make install-udev installs it)", RULE_FILE);
	ASSERT_EQ(0, parse_rule(rule, "cohbuf", group, sizeof(group), &self->mode))
		TH_LOG("%s has no GROUP and MODE for cohbuf", rule);
	ASSERT_EQ(0, parse_rule(rule, "cohbuf-importer", group2, sizeof(group2), &mode2))
		TH_LOG("%s has no GROUP and MODE for cohbuf-importer", rule);
	/* One group and mode for both nodes: the tests rely on it. */
	ASSERT_STREQ(group, group2);
	ASSERT_EQ(self->mode, mode2);
	/* Group access, nothing for others: what the tests below expect. */
	ASSERT_EQ(0660, self->mode);
	self->gid = group_id(group);
	if (self->gid < 0)
		self->gid = TEST_GID;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, stat(nodes[i], &self->orig[i])) TH_LOG("%s", nodes[i]);
	/* Last, and undone here if it fails: no teardown follows a failed setup. */
	for (i = 0; i < 2; i++) {
		self->changed[i] = 1;
		if (chown(nodes[i], 0, (gid_t)self->gid) || chmod(nodes[i], self->mode)) {
			err = errno;
			restore_nodes(self);
			ASSERT_EQ(0, err) TH_LOG("%s: %s", nodes[i], strerror(err));
		}
	}
}

FIXTURE_TEARDOWN_PARENT(unpriv)
{
	EXPECT_EQ(0, restore_nodes(self));
	EXPECT_EQ(0, settings_pop_all());
}

/* Root, for comparison: INFO tells it the bus addresses. */
TEST_F(unpriv, root_sees_bus_addresses)
{
	struct cohbuf_chunk_info chunk = { 0 };
	struct cohbuf_info_data info;
	int dev = cohbuf_dev_open(), buf;

	ASSERT_LE(0, dev);
	buf = test_alloc(dev, 64 * KIB);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, cohbuf_exporter_info(dev, buf, &info, &chunk, 1));
	EXPECT_TRUE(info.info_flags & COHBUF_INFO_DMA_ADDR_VALID);
	EXPECT_NE(0, chunk.dma_addr);
	close(buf);
	close(dev);
}

static void member_uses(struct __test_metadata *_metadata)
{
	struct cohbuf_chunk_info chunk = { .dma_addr = 0xdeadbeef };
	struct cohbuf_imp_submit_data fill, sum;
	unsigned char *map, expect[4096];
	struct cohbuf_info_data info;
	int dev, ctx, buf, ret, status = -1;
	__u32 crc = 0, h;

	dev = cohbuf_dev_open();
	ASSERT_LE(0, dev) TH_LOG("%s: %s", COHBUF_DEV, strerror(errno));
	buf = test_alloc(dev, 64 * KIB);
	ASSERT_LE(0, buf) TH_LOG("alloc: %s", strerror(-buf));

	/* Bus addresses stay hidden without CAP_SYS_RAWIO. */
	ASSERT_EQ(0, cohbuf_exporter_info(dev, buf, &info, &chunk, 1));
	EXPECT_EQ(64 * KIB, info.size);
	EXPECT_EQ(1, info.nr_chunks);
	EXPECT_FALSE(info.info_flags & COHBUF_INFO_DMA_ADDR_VALID);
	EXPECT_EQ(0, chunk.dma_addr);
	EXPECT_EQ(64 * KIB, chunk.len);

	map = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 0x11, 64 * KIB);

	ctx = cohbuf_importer_open();
	ASSERT_LE(0, ctx) TH_LOG("%s: %s", IMPORTER_DEV, strerror(-ctx));
	ret = cohbuf_importer_import(ctx, buf, &h, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	ASSERT_NE(0u, h);
	fill = imp_fill(h, 0, 4096, 0xa5c3e1f0);
	sum = imp_checksum(h, 0, 4096);
	ASSERT_EQ(0, cohbuf_importer_submit(ctx, &fill));
	ASSERT_EQ(0, cohbuf_importer_submit(ctx, &sum));
	ASSERT_EQ(0, cohbuf_importer_wait(ctx, sum.job_id, 20000 * MS, &status, &crc));
	EXPECT_EQ(0, status);
	pattern_bytes(expect, sizeof(expect), 0xa5c3e1f0);
	EXPECT_EQ(test_crc32(expect, sizeof(expect)), crc);
	EXPECT_EQ(0, memcmp(map, expect, sizeof(expect)));
	EXPECT_TRUE(all_bytes(map + 4096, 60 * KIB, 0x11));
	munmap(map, 64 * KIB);
	close(ctx);
	close(buf);
	close(dev);
}

TEST_F(unpriv, member_allocates_maps_imports_and_runs_jobs)
{
	EXPECT_EQ(0, run_as(_metadata, self->gid, member_uses));
}

static void quota_user(struct __test_metadata *_metadata)
{
	int dev, a, b;

	dev = cohbuf_dev_open();
	ASSERT_LE(0, dev);
	a = test_alloc(dev, MIB);
	ASSERT_LE(0, a) TH_LOG("alloc within the quota: %s", strerror(-a));
	EXPECT_EQ(-ENOMEM, test_alloc(dev, 4 * KIB));
	close(a);
	b = test_alloc(dev, MIB);
	EXPECT_LE(0, b) TH_LOG("alloc after a free: %s", strerror(-b));
	if (b >= 0)
		close(b);
	close(dev);
}

TEST_F(unpriv, member_is_bound_by_the_quota)
{
	long long live;

	/* Buffers an earlier test's closed contexts still hold go first. */
	ASSERT_EQ(0, test_importer_reaped(20));
	live = cohbuf_stat("live_bytes");
	/* As root: room for 1 MiB more; the teardown puts the quota back. */
	ASSERT_LE(0, live);
	ASSERT_EQ(0, setting_push_number(COHBUF_PARAM("max_total_bytes"), live + MIB));
	EXPECT_EQ(0, run_as(_metadata, self->gid, quota_user));
}

static void non_member(struct __test_metadata *_metadata)
{
	int fd;

	EXPECT_EQ(-1, open(COHBUF_DEV, O_RDWR | O_CLOEXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, open(COHBUF_DEV, O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, open(IMPORTER_DEV, O_RDWR | O_CLOEXEC));
	EXPECT_EQ(EACCES, errno);
	/* ... because of the nodes' mode, not of the way to them. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

TEST_F(unpriv, non_member_cannot_open)
{
	EXPECT_EQ(0, run_as(_metadata, -1, non_member));
}

static void member_limits(struct __test_metadata *_metadata)
{
	static const char *const debugfs[] = {
		COHBUF_DEBUGFS "/stats", COHBUF_DEBUGFS "/buffers",
		IMPORTER_DEBUGFS "/stats", IMPORTER_DEBUGFS "/imports",
		IMPORTER_DEBUGFS "/jobs",
	};
	glob_t g;
	size_t i;

	ASSERT_EQ(0, glob("/sys/module/cohbuf*/parameters/*", 0, NULL, &g));
	/* max_buffer_size, max_total_bytes, chunk_size, latency_ms, ... */
	EXPECT_LE(6, g.gl_pathc);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *param = g.gl_pathv[i];

		EXPECT_EQ(-1, open(param, O_WRONLY | O_CLOEXEC)) TH_LOG("%s", param);
		EXPECT_EQ(EACCES, errno) TH_LOG("%s", param);
	}
	globfree(&g);
	for (i = 0; i < ARRAY_SIZE(debugfs); i++) {
		EXPECT_EQ(-1, open(debugfs[i], O_RDONLY | O_CLOEXEC)) TH_LOG("%s", debugfs[i]);
		EXPECT_EQ(EACCES, errno) TH_LOG("%s", debugfs[i]);
	}
}

TEST_F(unpriv, member_cannot_set_parameters_or_read_debugfs)
{
	EXPECT_EQ(0, run_as(_metadata, self->gid, member_limits));
}

/* Does @text hold a 16-hex-digit number starting with ffff? */
static const char *kernel_pointer(const char *text, size_t len)
{
	size_t i = 0, start;

	while (i < len) {
		if (!isxdigit((unsigned char)text[i])) {
			i++;
			continue;
		}
		for (start = i; i < len && isxdigit((unsigned char)text[i]); i++)
			;
		if (i - start == 16 && !strncasecmp(text + start, "ffff", 4))
			return text + start;
	}
	return NULL;
}

static struct {
	int files;		/* files read */
	int hits;		/* files with a kernel pointer */
	char first[512];	/* the first of them */
} scan;

static void scan_file(const char *path)
{
	static char text[1 << 16];
	const char *hit;
	ssize_t n;

	n = read_text(path, text, sizeof(text));
	if (n < 0)
		return;		/* not readable by the user: fine */
	scan.files++;
	hit = kernel_pointer(text, n);
	if (hit && !scan.hits++)
		snprintf(scan.first, sizeof(scan.first), "%s: %.16s", path, hit);
}

/*
 * Only the dma-buf's own lines of /proc/self/maps: the rest is the
 * process's map, where kernels with vsyscall emulation show the fixed
 * vsyscall page (ffffffffff600000), part of the ABI rather than a leak.
 * Return: the number of dma-buf lines scanned.
 */
static int scan_maps(void)
{
	static char text[1 << 16];
	char *line, *save = NULL;
	const char *hit;
	int lines = 0;
	ssize_t n;

	n = read_text("/proc/self/maps", text, sizeof(text));
	if (n < 0)
		return 0;
	scan.files++;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "dmabuf"))
			continue;
		lines++;
		hit = kernel_pointer(line, strlen(line));
		if (hit && !scan.hits++)
			snprintf(scan.first, sizeof(scan.first), "/proc/self/maps: %.16s", hit);
	}
	return lines;
}

static int scan_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_F && S_ISREG(st->st_mode) && (st->st_mode & 0444))
		scan_file(path);
	return 0;
}

/* Every regular file below each match of @pattern, not following links. */
static void scan_tree(const char *pattern)
{
	char real[PATH_MAX];
	glob_t g;
	size_t i;

	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++)
		if (realpath(g.gl_pathv[i], real))
			nftw(real, scan_entry, 16, FTW_PHYS);
	globfree(&g);
}

static void pointer_scan(struct __test_metadata *_metadata)
{
	static const char sample[] = "size:\t4096\nino:\t0xffffffffc0a01000\n";
	int dev, ctx, buf;
	char path[64];
	__u32 h;
	void *map;

	/* The scanner finds what it looks for. */
	ASSERT_NE(NULL, kernel_pointer(sample, sizeof(sample) - 1));
	ASSERT_EQ(NULL, kernel_pointer("0x0000000000000000 ffffffff", 27));

	/* Live objects of both modules while scanning: a buffer, mapped and imported. */
	dev = cohbuf_dev_open();
	ASSERT_LE(0, dev);
	buf = test_alloc(dev, 64 * KIB);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, cohbuf_dmabuf_set_name(buf, "unpriv"));
	map = mmap(NULL, 64 * KIB, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, map);
	ctx = cohbuf_importer_open();
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, cohbuf_importer_import(ctx, buf, &h, NULL));
	ASSERT_NE(0u, h);

	/* debugfs is root's alone. */
	EXPECT_NE(0, access("/sys/kernel/debug/cohbuf", F_OK));
	EXPECT_EQ(EACCES, errno);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	scan_file(path);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ctx);
	scan_file(path);
	EXPECT_LE(1, scan_maps()) TH_LOG("the buffer's mapping is not in /proc/self/maps");
	scan_file("/proc/modules");
	scan_tree("/sys/module/cohbuf*");
	scan_tree("/sys/devices/platform/cohbuf*");
	scan_tree("/sys/class/misc/cohbuf*");
	scan_tree("/sys/kernel/dmabuf/buffers");
	ksft_print_msg("scanned %d files readable by uid %d: %d with a kernel pointer\n",
		       scan.files, TEST_UID, scan.hits);
	EXPECT_EQ(0, scan.hits) TH_LOG("%s", scan.first);
	/* fdinfo, maps, modules, uevent, modalias, dev, refcnt, parameters, ... */
	EXPECT_LE(20, scan.files);

	munmap(map, 64 * KIB);
	close(ctx);
	close(buf);
	close(dev);
}

TEST_F(unpriv, no_kernel_pointer_in_what_the_user_reads)
{
	EXPECT_EQ(0, run_as(_metadata, self->gid, pointer_scan));
}

/*
 * The importer's limits on what one user holds (importer_limits.c). A
 * child as TEST_UID reaches a limit and passes its contexts to the test
 * over lim.sock, so the budget stays used once the child is gone: a
 * limit counts against the user who opened a context, not whoever holds
 * its fd. OTHER_UID has a budget of its own, root (CAP_SYS_RESOURCE) is
 * not bound by the per-user limits, and closing gives the budget back.
 */
#define LIMIT		3	/* the per-file limits; per user: LIMIT + 1 */

static struct {
	int sock;		/* the child's end of the socket pair */
	int dev;		/* the child's /dev/cohbuf, or 0 */
	int buf;		/* the child's buffer to import, or 0 */
} lim;

/* A context; with @h, with a buffer of the caller's imported as *@h. */
static int limits_ctx(struct __test_metadata *_metadata, __u32 *h)
{
	int ctx = cohbuf_importer_open(), ret;

	ASSERT_LE(0, ctx) TH_LOG("open: %s", strerror(-ctx));
	if (!h)
		return ctx;
	if (!lim.buf) {
		lim.dev = cohbuf_dev_open();
		ASSERT_LE(0, lim.dev);
		lim.buf = test_alloc(lim.dev, 4096);
		ASSERT_LE(0, lim.buf) TH_LOG("alloc: %s", strerror(-lim.buf));
	}
	ret = cohbuf_importer_import(ctx, lim.buf, h, NULL);
	ASSERT_EQ(0, ret) TH_LOG("import: %s", strerror(-ret));
	return ctx;
}

/* Set the limits of one kind and open the socket pair. */
static void limits_begin(struct __test_metadata *_metadata, const char *per_file,
			 const char *per_user, int sv[2])
{
	char path[128];

	if (per_file) {
		snprintf(path, sizeof(path), IMPORTER_PARAM("%s"), per_file);
		ASSERT_EQ(0, setting_push_number(path, LIMIT));
	}
	snprintf(path, sizeof(path), IMPORTER_PARAM("%s"), per_user);
	ASSERT_EQ(0, setting_push_number(path, per_file ? LIMIT + 1 : LIMIT));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	lim.sock = sv[1];
}

/* Receive the @n contexts the child sent. */
static void limits_receive(struct __test_metadata *_metadata, int sv[2], int *fds, int n)
{
	int i;

	close(sv[1]);
	for (i = 0; i < n; i++) {
		fds[i] = cohbuf_fd_recv(sv[0]);
		ASSERT_LE(0, fds[i]) TH_LOG("context %d: %s", i, strerror(-fds[i]));
	}
	close(sv[0]);
}

static int submit_fill(int ctx, __u32 h, __u64 *id)
{
	struct cohbuf_imp_submit_data d = imp_fill(h, 0, 4096, 0x1e1e1e1e);
	int ret = cohbuf_importer_submit(ctx, &d);

	if (id)
		*id = d.job_id;
	return ret;
}

static void send_ctx(struct __test_metadata *_metadata, int ctx)
{
	ASSERT_EQ(0, cohbuf_fd_send(lim.sock, ctx));
	close(ctx);
}

/* LIMIT contexts, then EMFILE; the contexts go to the test. */
static void contexts_to_the_limit(struct __test_metadata *_metadata)
{
	int i, ctx;

	for (i = 0; i < LIMIT; i++)
		send_ctx(_metadata, limits_ctx(_metadata, NULL));
	ctx = cohbuf_importer_open();
	EXPECT_EQ(-EMFILE, ctx);
	if (ctx >= 0)
		close(ctx);
}

static void context_refused(struct __test_metadata *_metadata)
{
	EXPECT_EQ(-EMFILE, cohbuf_importer_open());
}

static void context_opens(struct __test_metadata *_metadata)
{
	close(limits_ctx(_metadata, NULL));
}

/* @n contexts at once, each with @per_ctx jobs or imports (@what). */
static void hold_many(struct __test_metadata *_metadata, int n, int per_ctx, int what)
{
	int ctx[2 * LIMIT], i, j, ret;
	__u32 h;

	for (i = 0; i < n; i++) {
		ctx[i] = limits_ctx(_metadata, what ? &h : NULL);
		for (j = 0; what && j < per_ctx; j++) {
			if (what == 'j')
				ret = submit_fill(ctx[i], h, NULL);
			else
				ret = cohbuf_importer_import(ctx[i], lim.buf, &h, NULL);
			EXPECT_EQ(0, ret) TH_LOG("context %d, unit %d: %s", i, j, strerror(-ret));
		}
	}
	for (i = 0; i < n; i++)
		close(ctx[i]);
	if (lim.buf)
		close(lim.buf);
	if (lim.dev)
		close(lim.dev);
	lim.buf = 0;
	lim.dev = 0;
}

static void other_user_contexts(struct __test_metadata *_metadata)
{
	hold_many(_metadata, LIMIT, 0, 0);
}

TEST_F(unpriv, contexts_per_user_are_bounded)
{
	int sv[2], fds[LIMIT], i;

	limits_begin(_metadata, NULL, "max_user_contexts", sv);
	EXPECT_EQ(0, run_as(_metadata, self->gid, contexts_to_the_limit));
	limits_receive(_metadata, sv, fds, LIMIT);
	/* Held by root now, still charged to the user who opened them. */
	EXPECT_EQ(0, run_as(_metadata, self->gid, context_refused));
	EXPECT_EQ(0, run_as_user(_metadata, OTHER_UID, self->gid, other_user_contexts));
	hold_many(_metadata, LIMIT + 1, 0, 0);	/* root */
	/* Closing one gives its place back. */
	close(fds[0]);
	EXPECT_EQ(0, run_as(_metadata, self->gid, context_opens));
	for (i = 1; i < LIMIT; i++)
		close(fds[i]);
}

/*
 * max_jobs LIMIT, max_user_jobs LIMIT + 1: a context gets LIMIT jobs,
 * then EBUSY; a second one the user's last, then EBUSY; a WAIT in the
 * first gives one back. The contexts, with their jobs unreaped, go to
 * the test.
 */
static void jobs_to_the_limit(struct __test_metadata *_metadata)
{
	int a, b, i, status = 1;
	__u32 ha, hb;
	__u64 first;

	a = limits_ctx(_metadata, &ha);
	b = limits_ctx(_metadata, &hb);
	ASSERT_EQ(0, submit_fill(a, ha, &first));
	for (i = 1; i < LIMIT; i++)
		ASSERT_EQ(0, submit_fill(a, ha, NULL));
	EXPECT_EQ(-EBUSY, submit_fill(a, ha, NULL));	/* the file's limit */
	ASSERT_EQ(0, submit_fill(b, hb, NULL));
	EXPECT_EQ(-EBUSY, submit_fill(b, hb, NULL));	/* the user's limit */
	ASSERT_EQ(0, cohbuf_importer_wait(a, first, 20000 * MS, &status, NULL));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, submit_fill(b, hb, NULL));
	EXPECT_EQ(-EBUSY, submit_fill(b, hb, NULL));
	send_ctx(_metadata, a);
	send_ctx(_metadata, b);
}

static void job_refused(struct __test_metadata *_metadata)
{
	__u32 h;
	int ctx = limits_ctx(_metadata, &h);

	EXPECT_EQ(-EBUSY, submit_fill(ctx, h, NULL));
	close(ctx);
}

static void other_user_jobs(struct __test_metadata *_metadata)
{
	hold_many(_metadata, 1, LIMIT, 'j');
}

static void one_job(struct __test_metadata *_metadata)
{
	hold_many(_metadata, 1, 1, 'j');
}

TEST_F(unpriv, jobs_per_file_and_per_user_are_bounded)
{
	int sv[2], fds[2];

	limits_begin(_metadata, "max_jobs", "max_user_jobs", sv);
	EXPECT_EQ(0, run_as(_metadata, self->gid, jobs_to_the_limit));
	limits_receive(_metadata, sv, fds, 2);
	EXPECT_EQ(0, run_as(_metadata, self->gid, job_refused));
	EXPECT_EQ(0, run_as_user(_metadata, OTHER_UID, self->gid, other_user_jobs));
	hold_many(_metadata, 2, LIMIT, 'j');	/* root: 2 * LIMIT > LIMIT + 1 */
	close(fds[0]);
	EXPECT_EQ(0, run_as(_metadata, self->gid, one_job));
	close(fds[1]);
}

/* The same for imports: max_imports LIMIT, max_user_imports LIMIT + 1. */
static void imports_to_the_limit(struct __test_metadata *_metadata)
{
	__u32 h[LIMIT], hb;
	int a, b, i;

	a = limits_ctx(_metadata, &h[0]);
	b = limits_ctx(_metadata, NULL);
	for (i = 1; i < LIMIT; i++)
		ASSERT_EQ(0, cohbuf_importer_import(a, lim.buf, &h[i], NULL));
	EXPECT_EQ(-EBUSY, cohbuf_importer_import(a, lim.buf, &hb, NULL));	/* the file's */
	ASSERT_EQ(0, cohbuf_importer_import(b, lim.buf, &hb, NULL));
	EXPECT_EQ(-EBUSY, cohbuf_importer_import(b, lim.buf, &hb, NULL));	/* the user's */
	ASSERT_EQ(0, cohbuf_importer_release(a, h[0]));
	EXPECT_EQ(0, cohbuf_importer_import(b, lim.buf, &hb, NULL));
	EXPECT_EQ(-EBUSY, cohbuf_importer_import(b, lim.buf, &hb, NULL));
	send_ctx(_metadata, a);
	send_ctx(_metadata, b);
}

static void import_refused(struct __test_metadata *_metadata)
{
	int dev = cohbuf_dev_open(), buf = test_alloc(dev, 4096), ctx = cohbuf_importer_open();
	__u32 h;

	ASSERT_LE(0, buf);
	ASSERT_LE(0, ctx);
	EXPECT_EQ(-EBUSY, cohbuf_importer_import(ctx, buf, &h, NULL));
	close(ctx);
	close(buf);
	close(dev);
}

static void other_user_imports(struct __test_metadata *_metadata)
{
	hold_many(_metadata, 1, LIMIT - 1, 'i');	/* and limits_ctx()'s own */
}

static void one_import(struct __test_metadata *_metadata)
{
	hold_many(_metadata, 1, 0, 'i');
}

TEST_F(unpriv, imports_per_file_and_per_user_are_bounded)
{
	int sv[2], fds[2];

	limits_begin(_metadata, "max_imports", "max_user_imports", sv);
	EXPECT_EQ(0, run_as(_metadata, self->gid, imports_to_the_limit));
	limits_receive(_metadata, sv, fds, 2);
	EXPECT_EQ(0, run_as(_metadata, self->gid, import_refused));
	EXPECT_EQ(0, run_as_user(_metadata, OTHER_UID, self->gid, other_user_imports));
	hold_many(_metadata, 2, LIMIT - 1, 'i');	/* root: 2 * LIMIT > LIMIT + 1 */
	close(fds[0]);
	EXPECT_EQ(0, run_as(_metadata, self->gid, one_import));
	close(fds[1]);
}

/*
 * Streams: max_user_streams LIMIT. A stream is charged to the user of the
 * context it was made from until the stream itself is released, however
 * long after that context: the child makes LIMIT streams, is refused one
 * more, closes the context and is still refused from a new one; the
 * streams go to the test. Closing one of them gives exactly one back.
 */
static int one_stream(int ctx)
{
	struct cohbuf_stream_create_data p = stream_params(64);

	return stream_create(ctx, &p);
}

static void streams_to_the_limit(struct __test_metadata *_metadata)
{
	int ctx = limits_ctx(_metadata, NULL), s[LIMIT], i;

	for (i = 0; i < LIMIT; i++) {
		s[i] = one_stream(ctx);
		ASSERT_LE(0, s[i]) TH_LOG("stream %d: %s", i, strerror(-s[i]));
	}
	EXPECT_EQ(-EMFILE, one_stream(ctx));
	close(ctx);
	ctx = limits_ctx(_metadata, NULL);
	EXPECT_EQ(-EMFILE, one_stream(ctx));	/* the first context is gone */
	close(ctx);
	for (i = 0; i < LIMIT; i++)
		send_ctx(_metadata, s[i]);
}

static void stream_refused(struct __test_metadata *_metadata)
{
	int ctx = limits_ctx(_metadata, NULL);

	EXPECT_EQ(-EMFILE, one_stream(ctx));
	close(ctx);
}

/* One stream, and then the limit again (LIMIT - 1 are held elsewhere). */
static void stream_given_back(struct __test_metadata *_metadata)
{
	int ctx = limits_ctx(_metadata, NULL), s = one_stream(ctx);

	EXPECT_LE(0, s) TH_LOG("%s", strerror(-s));
	EXPECT_EQ(-EMFILE, one_stream(ctx));
	close(ctx);
	if (s >= 0)
		close(s);
}

/* @n streams at once from one context, all closed again. */
static void hold_streams(struct __test_metadata *_metadata, int n)
{
	int ctx = limits_ctx(_metadata, NULL), s[LIMIT + 1], i;

	for (i = 0; i < n; i++) {
		s[i] = one_stream(ctx);
		EXPECT_LE(0, s[i]) TH_LOG("stream %d: %s", i, strerror(-s[i]));
	}
	close(ctx);
	for (i = 0; i < n; i++)
		if (s[i] >= 0)
			close(s[i]);
}

static void other_user_streams(struct __test_metadata *_metadata)
{
	hold_streams(_metadata, LIMIT);
}

TEST_F(unpriv, streams_per_user_are_bounded_until_released)
{
	long long live = stream_debugfs("streams");
	int sv[2], fds[LIMIT], i;

	ASSERT_LE(0, live);
	limits_begin(_metadata, NULL, "max_user_streams", sv);
	EXPECT_EQ(0, run_as(_metadata, self->gid, streams_to_the_limit));
	limits_receive(_metadata, sv, fds, LIMIT);
	EXPECT_EQ(live + LIMIT, stream_debugfs("streams"));
	/* Held by root now, their contexts closed: still charged to the user. */
	EXPECT_EQ(0, run_as(_metadata, self->gid, stream_refused));
	EXPECT_EQ(0, run_as_user(_metadata, OTHER_UID, self->gid, other_user_streams));
	hold_streams(_metadata, LIMIT + 1);	/* root */
	close(fds[0]);
	EXPECT_EQ(0, run_as(_metadata, self->gid, stream_given_back));
	for (i = 1; i < LIMIT; i++)
		close(fds[i]);
	EXPECT_EQ(live, stream_debugfs("streams"));
}

TEST_HARNESS_MAIN
