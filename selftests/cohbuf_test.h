/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the cohbuf selftests, on top of libcohbuf: the
 * ALLOC ioctl with every field explicit (for the error cases), debugfs and
 * module parameter access, the settings stack (test_settings.c) and the
 * fd counter.  The tests run as root in the guests.
 */
#ifndef COHBUF_TEST_H
#define COHBUF_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/cohbuf.h>

#include <libcohbuf.h>

#define COHBUF_DEV		"/dev/cohbuf"
#define COHBUF_DEBUGFS		"/sys/kernel/debug/cohbuf"
#define COHBUF_PARAM(name)	"/sys/module/cohbuf/parameters/" name
#define IMPORTER_PARAM(name)	"/sys/module/cohbuf_importer/parameters/" name

#define KIB			1024ULL
#define MIB			(1024ULL * 1024)

/* CLOCK_MONOTONIC in nanoseconds: the clock of the importer's WAIT deadlines. */
static inline __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in seconds, for time budgets and reports. */
static inline double monotonic_s(void)
{
	return monotonic_ns() / 1e9;
}

/* The SIGALRMs test_count_alarm() has seen; atomic: the handler writes it. */
static inline int *test_alarms(void)
{
	static int alarms;

	return &alarms;
}

/* A signal handler for sigaction(): counts the signal in test_alarms(). */
static inline void test_count_alarm(int sig)
{
	(void)sig;
	__atomic_add_fetch(test_alarms(), 1, __ATOMIC_RELAXED);
}

static inline int cohbuf_dev_open(void)
{
	return open(COHBUF_DEV, O_RDWR | O_CLOEXEC);
}

/* ALLOC with everything explicit; returns the ioctl's result (errno set). */
static inline int cohbuf_alloc_full(int dev, __u64 size, __u32 fd_flags,
				    __u32 flags, __u32 cache_mode,
				    const char *name, struct cohbuf_alloc_data *out)
{
	struct cohbuf_alloc_data d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = size;
	d.fd_flags = fd_flags;
	d.flags = flags;
	d.cache_mode = cache_mode;
	if (name)
		snprintf(d.name, sizeof(d.name), "%s", name);
	ret = ioctl(dev, COHBUF_IOCTL_ALLOC, &d);
	if (out)
		*out = d;
	return ret;
}

/* A read-write, close-on-exec, cached buffer: its fd, or -errno. */
static inline int test_alloc(int dev, __u64 size)
{
	struct cohbuf_buffer_desc desc = { .size = size };

	return cohbuf_exporter_alloc(dev, &desc, NULL);
}

/* Read a whole small file into @buf (NUL-terminated); bytes or -1. */
static inline ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < len - 1 &&
	       (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/*
 * Lines of a text file (debugfs, /proc) that contain @needle, all its
 * lines if @needle is NULL; or -1 if it cannot be read.
 */
static inline long test_count_lines(const char *path, const char *needle)
{
	static char text[1 << 20];	/* all of the importer's jobs file */
	char *line, *end;
	long n = 0;

	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	for (line = text; *line; line = end ? end + 1 : line + strlen(line)) {
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (*line && (!needle || strstr(line, needle)))
			n++;
	}
	return n;
}

/* Open fds of this process, or -1. */
static inline int test_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}

/* finit_module(2) of a module file; 0, or -1 with errno set. */
static inline int test_load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

/* delete_module(2) without waiting; 0, or -1 with errno set. */
static inline int test_unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/*
 * Run the cohbuf tool (./cohbuf beside the test programs, or $COHBUF_TOOL)
 * with @args, its stderr sent to @stderr_to (a shell redirection target:
 * "&1" keeps it with stdout); its output in @out, its wait status
 * returned.
 */
static inline int test_run_tool_to(const char *args, const char *stderr_to, char *out,
				   size_t len)
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
static inline int test_run_tool(const char *args, char *out, size_t len)
{
	return test_run_tool_to(args, "&1", out, len);
}

/* The exit code of a wait status, or -1 if the program did not exit normally. */
static inline int test_exit_code(int status)
{
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Does DMA_BUF_IOCTL_SYNC of a system-heap dma-buf that a device has
 * mapped fault in this kernel? An upstream fault of 6.x kernels with
 * DMA-API debugging (the rig's debug kernel): CONFIG_DMABUF_DEBUG
 * scrambles the importer's sg_table in place, the heap's
 * begin_cpu_access syncs exactly that table, and dma-debug dereferences
 * its page links. 7.x hands importers a copy instead.
 */
#define HEAP_SYNC_FAULTS "SYNC of a mapped system-heap dma-buf faults in 6.x's DMA-API debugging"
static inline int test_heap_sync_faults(void)
{
	struct utsname u;

	return !access("/sys/kernel/debug/dma-api", F_OK) && !uname(&u) && atoi(u.release) < 7;
}

static inline int test_module_loaded(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/* Write @text to @path: 0, or -1 with the open's or the write's errno (EIO if short). */
static inline int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	err = n < 0 ? errno : EIO;	/* a short write: EIO */
	close(fd);
	if (n == (ssize_t)strlen(text))
		return 0;
	errno = err;
	return -1;
}

/* A module parameter or a "key: value" line of debugfs stats, or -1. */
static inline long long read_number(const char *path, const char *key)
{
	char buf[4096], *p;

	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	if (!key)
		return strtoll(buf, NULL, 0);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t k = strlen(key);

		if (!strncmp(p, key, k) && p[k] == ':')
			return strtoll(p + k + 1, NULL, 0);
	}
	return -1;
}

/*
 * Wait up to @seconds for module @name to have no users: the importer
 * frees a closed context in a work item, a moment after close() returns.
 * 0 once /sys/module/@name/refcnt reads 0, or -1.
 */
static inline int test_module_unused(const char *name, double seconds)
{
	char path[256];
	double start = monotonic_s();
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	while (read_number(path, NULL) != 0) {
		if (monotonic_s() - start > seconds)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static inline long long cohbuf_stat(const char *key)
{
	return read_number(COHBUF_DEBUGFS "/stats", key);
}

/* Word @key=... of buffer @id's line in the exporter's debugfs into @out; 0 or -1. */
static inline int cohbuf_buffer_word(__u64 id, const char *key, char *out, size_t len)
{
	static char text[1 << 16];
	char needle[64], *line, *p;
	size_t n;

	if (read_text(COHBUF_DEBUGFS "/buffers", text, sizeof(text)) < 0)
		return -1;
	snprintf(needle, sizeof(needle), "id=%llu ", (unsigned long long)id);
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, needle, strlen(needle)))
			continue;
		snprintf(needle, sizeof(needle), " %s=", key);
		p = strstr(line, needle);
		if (!p || !len)
			return -1;
		p += strlen(needle);
		n = strcspn(p, "\n ");
		if (n >= len)
			n = len - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* Field @key of buffer @id's line in the exporter's debugfs, or -1. */
static inline long long cohbuf_buffer_field(__u64 id, const char *key)
{
	char word[64];

	if (cohbuf_buffer_word(id, key, word, sizeof(word)))
		return -1;
	return strtoll(word, NULL, 10);
}

static inline long long cohbuf_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), COHBUF_PARAM("%s"), name);
	return read_number(path, NULL);
}

/* The line of the text file @path that contains @needle, into @line; or -1. */
static inline int find_line(const char *path, const char *needle, char *line, size_t len)
{
	static char text[1 << 16];
	char *p, *end;

	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	p = strstr(text, needle);
	if (!p)
		return -1;
	while (p > text && p[-1] != '\n')
		p--;
	end = strchr(p, '\n');
	snprintf(line, len, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
	return 0;
}

/* A line of /proc/meminfo in bytes, or -1 (CmaTotal: no CMA in the kernel). */
static inline long long meminfo_bytes(const char *key)
{
	char line[256];
	long long kib;

	if (find_line("/proc/meminfo", key, line, sizeof(line)))
		return -1;
	if (sscanf(line + strlen(key), ": %lld kB", &kib) != 1)
		return -1;
	return kib * KIB;
}

/* cohbuf.ko: $COHBUF_KO, or where the test guests install it. */
static inline const char *test_module_file(char *buf, size_t len)
{
	const char *env = getenv("COHBUF_KO");
	struct utsname u;

	if (env)
		return env;
	if (uname(&u))
		return NULL;
	snprintf(buf, len, "/lib/modules/%s/extra/cohbuf.ko", u.release);
	return buf;
}

/* cohbuf_importer.ko, which lies next to cohbuf.ko: 0, or -1 if it cannot be read. */
static inline int test_importer_module_file(char *buf, size_t len)
{
	char ko[4096];
	const char *path = test_module_file(ko, sizeof(ko)), *slash;

	if (!path)
		return -1;
	slash = strrchr(path, '/');
	snprintf(buf, len, "%.*scohbuf_importer.ko", slash ? (int)(slash + 1 - path) : 0, path);
	return access(buf, R_OK);
}

/*
 * Zeroed memory shared with every process forked from now on (anonymous,
 * MAP_SHARED); for state the harness's processes and the tests' share.
 * The program ends if there is none.
 */
static inline void *test_shared_memory(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "# shared memory: mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

/*
 * fork() for a child that must not outlive the test: the child is killed
 * (SIGKILL) when the process that forked it ends, so a test that fails
 * between fork and waitpid never leaves it blocked and holding buffers.
 * A child whose parent ended before it could ask for that exits at once.
 */
static inline pid_t test_fork_child(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
	}
	return pid;
}

/* Drop CAP_SYS_RAWIO from the effective and permitted sets: 0 or -1. */
static inline int drop_cap_sys_rawio(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_SYS_RAWIO / 32].effective &= ~(1U << (CAP_SYS_RAWIO % 32));
	data[CAP_SYS_RAWIO / 32].permitted &= ~(1U << (CAP_SYS_RAWIO % 32));
	return syscall(SYS_capset, &hdr, data);
}

/* cohbuf's size limits, as a test found them. */
struct cohbuf_limits {
	long long max_buffer, max_total;	/* max_buffer_size, max_total_bytes */
};

/* Read them: 0, or -1 if cohbuf is not loaded. */
static inline int cohbuf_read_limits(struct cohbuf_limits *l)
{
	l->max_buffer = cohbuf_param("max_buffer_size");
	l->max_total = cohbuf_param("max_total_bytes");
	return l->max_buffer > 0 && l->max_total > 0 ? 0 : -1;
}

/*
 * The settings stack (test_settings.c): module parameters and debugfs
 * knobs a test changes, put back whatever becomes of the test.
 *
 * setting_push() reads the file's value, remembers it and writes @value:
 * 0, or -1 with errno ENOSPC (the stack is full), EIO (see below), the
 * read's errno, or the write's (the value was refused; the old one stays
 * remembered);
 * settings_pop_all() writes every remembered value back, the last pushed
 * first, and returns how many it could not put back (each is printed):
 * teardowns EXPECT it to be 0.  The stack lives in memory shared by every
 * process of the program, so a fixture's FIXTURE_TEARDOWN_PARENT, which
 * runs in the test's own fork parent after the test's process has ended,
 * puts back what the test pushed even when an ASSERT ended the test or it
 * crashed.  The harness runs no teardown after a setup that failed (an
 * ASSERT or a SKIP in it): a FIXTURE_SETUP pushes last, with
 * settings_push_all(), which puts back what it pushed if a push fails.
 * What a test killed by the harness's timeout left is put back by the
 * next push of a later test (which fails if that cannot be done), and by
 * the program's exit (whose status is then KSFT_FAIL).
 */
int setting_push(const char *path, const char *value);
int setting_push_number(const char *path, unsigned long long value);
int settings_pop_all(void);

/* One value for settings_push_all(): @text, or where it is NULL, @number. */
struct setting_value {
	const char *path;
	const char *text;
	unsigned long long number;
};

/*
 * Push the @n values of @v: 0, or -1 with the failed push's errno after
 * saying which one failed and putting back everything the test pushed.
 */
int settings_push_all(const struct setting_value *v, size_t n);

#endif /* COHBUF_TEST_H */
