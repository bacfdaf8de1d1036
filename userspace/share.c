// SPDX-License-Identifier: MIT
/*
 * cohbuf share: one buffer, two processes, two drivers, and their fences.
 *
 *   A allocates a cohbuf buffer and sends its fd to B over a unix socket.
 *   B imports it into vgem (PRIME) and attaches a vgem write fence: vgem
 *     now "owns" the buffer, as a GPU would while rendering into it.
 *   A sees the buffer busy, and its importer job (a CRC-32 of the buffer)
 *     waits for vgem's fence.
 *   B writes a message through its mapping and signals the vgem fence;
 *     A's job runs only then and checksums exactly B's bytes.
 *   A has the importer fill the buffer, with an out-fence, and sends the
 *     out-fence to B, who waits on it and then reads A's bytes.
 *
 * Each party prints what it sees.  Needs cohbuf, cohbuf_importer and vgem.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cohbuf_tool.h"
#include "libcohbuf_drm.h"

#define SIZE		(1024 * 1024)
#define MESSAGE		"hello from B, written while vgem held the buffer"
#define NS_PER_S	1000000000ULL

static int say(int sock, char c)
{
	return write(sock, &c, 1) == 1 ? 0 : -1;
}

static int hear(int sock, char want)
{
	char c;

	return read(sock, &c, 1) == 1 && c == want ? 0 : -1;
}

/* B: vgem fences the buffer, B writes it, then waits for A's fill. */
static int party_b(int sock)
{
	int buf = cohbuf_fd_recv(sock), drm = cohbuf_vgem_open(), sync;
	uint32_t handle, fence;
	unsigned char *map;

	if (buf < 0 || drm < 0 || cohbuf_drm_import(drm, buf, &handle)) {
		printf("[B] cannot get the buffer into vgem (is vgem loaded?)\n");
		return 1;
	}
	printf("[B] got dma-buf fd %d from A and imported it into vgem (handle %u)\n",
	       buf, handle);
	if (cohbuf_vgem_fence_attach(drm, handle, 1, &fence))
		return 1;
	printf("[vgem] write fence %u attached: the buffer is vgem's until it signals\n", fence);
	map = cohbuf_dmabuf_map(buf, 0, SIZE, 1);
	if (!map || say(sock, 'f'))
		return 1;
	sleep(1);
	memcpy(map, MESSAGE, sizeof(MESSAGE));
	printf("[B] wrote \"%s\" through its own mapping\n", MESSAGE);
	printf("[vgem] signalling fence %u\n", fence);
	if (cohbuf_vgem_fence_signal(drm, fence) || hear(sock, 's'))
		return 1;
	sync = cohbuf_fd_recv(sock);
	printf("[B] got A's out-fence (sync_file fd %d); waiting on it\n", sync);
	if (sync < 0 || cohbuf_fd_wait(sync, 20000))
		return 1;
	printf("[B] the fence signalled; B reads what A's device wrote:\n");
	tool_dump("[B]", map, 32);
	return 0;
}

/* A: the job waits for vgem, then checksums B's bytes. */
static int checksum_after_vgem(int ctx, uint32_t handle, int buf, const unsigned char *map)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_CHECKSUM, .src_handle = handle, .len = SIZE,
	};
	int status = -1;
	uint32_t csum = 0;

	printf("[A] poll() on the dma-buf says: %s\n",
	       cohbuf_fd_wait(buf, 0) ? "busy (someone is writing)" : "idle");
	if (cohbuf_importer_submit(ctx, &job))
		return -1;
	printf("[A] submitted importer job %llu: CRC-32 of the buffer\n",
	       (unsigned long long)job.job_id);
	printf("[A] job %llu after 0.5 s: %s\n", (unsigned long long)job.job_id,
	       cohbuf_importer_wait(ctx, job.job_id, NS_PER_S / 2, NULL, NULL) == -ETIME ?
	       "still waiting for vgem's fence" : "already done (unexpected)");
	if (cohbuf_importer_wait(ctx, job.job_id, 20 * NS_PER_S, &status, &csum) || status)
		return -1;
	printf("[A] job %llu done: CRC-32 %#010x; the CPU computes %#010x for B's bytes: %s\n",
	       (unsigned long long)job.job_id, csum, cohbuf_importer_crc32(map, SIZE),
	       csum == cohbuf_importer_crc32(map, SIZE) ? "same" : "DIFFERENT");
	return csum == cohbuf_importer_crc32(map, SIZE) ? 0 : -1;
}

/* A: the importer fills the buffer; B gets the out-fence. */
static int fill_with_out_fence(int ctx, uint32_t handle, int sock)
{
	struct cohbuf_imp_submit_data job = {
		.op = COHBUF_IMP_OP_FILL, .dst_handle = handle, .len = SIZE,
		.pattern = 0x41424344, .flags = COHBUF_IMP_SUBMIT_OUT_FENCE |
						COHBUF_IMP_SUBMIT_LATENCY,
		.latency_ms = 1000,
	};

	if (cohbuf_importer_submit(ctx, &job))
		return -1;
	printf("[A] submitted importer job %llu: fill with 0x41424344 (\"DCBA\"), 1 s busy\n",
	       (unsigned long long)job.job_id);
	if (say(sock, 's') || cohbuf_fd_send(sock, job.out_fence_fd))
		return -1;
	printf("[A] sent the job's out-fence to B\n");
	close(job.out_fence_fd);
	return cohbuf_importer_wait(ctx, job.job_id, 20 * NS_PER_S, NULL, NULL);
}

static int party_a(int sock, pid_t b)
{
	struct cohbuf_buffer_desc desc = { .size = SIZE, .name = "shared-frame" };
	int dev = cohbuf_exporter_open(), ctx = cohbuf_importer_open(), buf, ret, status;
	unsigned char *map;
	uint32_t h;

	buf = dev < 0 ? dev : cohbuf_exporter_alloc(dev, &desc, NULL);
	if (buf < 0 || ctx < 0) {
		printf("[A] cannot allocate or open the importer: %s\n",
		       strerror(-(buf < 0 ? buf : ctx)));
		return 1;
	}
	printf("[A] allocated a 1 MiB cohbuf buffer \"shared-frame\" (fd %d) and sends it to B\n",
	       buf);
	ret = cohbuf_importer_import(ctx, buf, &h, NULL);
	map = cohbuf_dmabuf_map(buf, 0, SIZE, 0);
	if (ret || !map || cohbuf_fd_send(sock, buf) || hear(sock, 'f'))
		return 1;
	if (checksum_after_vgem(ctx, h, buf, map) ||
	    fill_with_out_fence(ctx, h, sock))
		return 1;
	if (waitpid(b, &status, 0) != b || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	printf("[A] B is done; everyone saw the same bytes in the same order\n");
	return 0;
}

int tool_share(void)
{
	int sv[2], ret;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(sv[0]);
		_exit(party_b(sv[1]));
	}
	close(sv[1]);
	ret = party_a(sv[0], pid);
	if (ret)
		printf("share FAILED\n");
	return ret;
}
