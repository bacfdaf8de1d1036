// SPDX-License-Identifier: MIT
/*
 * libcohbuf: the importer's ioctls on /dev/cohbuf-importer, and the two
 * algorithms its jobs run that user space needs to check them: the CRC-32
 * of CHECKSUM and the splitmix64 stream of a random FILL (see libcohbuf.h
 * and uapi/linux/cohbuf_importer.h).
 */

#include <time.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

int cohbuf_importer_open(void)
{
	return lib_open_rdwr("/dev/cohbuf-importer");
}

int cohbuf_importer_import(int ctx, int buf, uint32_t *handle,
			   struct cohbuf_imp_import_data *info)
{
	struct cohbuf_imp_import_data d = { .fd = buf };
	int ret = lib_ioctl(ctx, COHBUF_IMP_IOCTL_IMPORT, &d);

	if (ret)
		return ret;
	*handle = d.handle;
	if (info)
		*info = d;
	return 0;
}

int cohbuf_importer_release(int ctx, uint32_t handle)
{
	struct cohbuf_imp_release_data d = { .handle = handle };

	return lib_ioctl(ctx, COHBUF_IMP_IOCTL_RELEASE, &d);
}

int cohbuf_importer_submit(int ctx, struct cohbuf_imp_submit_data *job)
{
	return lib_ioctl(ctx, COHBUF_IMP_IOCTL_SUBMIT, job);
}

/* CLOCK_MONOTONIC now plus @timeout_ns, saturating. */
static uint64_t deadline_after(uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

int cohbuf_importer_wait(int ctx, uint64_t job_id, uint64_t timeout_ns,
			 int *status, uint32_t *checksum)
{
	struct cohbuf_imp_wait_data w = {
		.job_id = job_id,
		.deadline_ns = timeout_ns ? deadline_after(timeout_ns) : 0,
	};
	int ret;

	/* The deadline is absolute: a wait a signal broke resumes as it was. */
	do
		ret = lib_ioctl(ctx, COHBUF_IMP_IOCTL_WAIT, &w);
	while (ret == -EINTR);

	if (ret)
		return ret;
	if (status)
		*status = w.status;
	if (checksum)
		*checksum = w.checksum;
	return 0;
}

uint32_t cohbuf_importer_crc32(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= b[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* One step of splitmix64, as the uapi header writes it down. */
static uint64_t splitmix64_next(uint64_t *s)
{
	uint64_t z;

	*s += 0x9e3779b97f4a7c15ULL;
	z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void cohbuf_importer_random_fill(void *p, size_t len, uint64_t seed)
{
	unsigned char *b = p;
	size_t i = 0, k;
	uint64_t z;

	while (i < len) {
		z = splitmix64_next(&seed);
		/* Little-endian, whatever the CPU; a final partial word is cut. */
		for (k = 0; k < 8 && i < len; k++, i++)
			b[i] = (unsigned char)(z >> (8 * k));
	}
}
