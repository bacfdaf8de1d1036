// SPDX-License-Identifier: MIT
/*
 * libcohbuf: the stream fds of /dev/cohbuf-importer (linux/cohbuf_stream.h),
 * and the reference payload function of "cohbuf stream payload" that every
 * consumer checks its samples with (see libcohbuf.h).
 */

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "libcohbuf.h"
#include "libcohbuf_internal.h"

int cohbuf_stream_create(int ctx, const struct cohbuf_stream_create_data *params)
{
	struct cohbuf_stream_create_data d = *params;
	int ret;

	d.fd = 0;	/* an input that must be 0 */
	ret = lib_ioctl(ctx, COHBUF_IMP_IOCTL_STREAM_CREATE, &d);
	return ret ? ret : d.fd;
}

int cohbuf_stream_queue(int stream, struct cohbuf_stream_queue_data *region)
{
	return lib_ioctl(stream, COHBUF_STREAM_IOCTL_QUEUE, region);
}

int cohbuf_stream_dequeue(int stream, uint64_t deadline_ns, struct cohbuf_stream_record *rec)
{
	struct cohbuf_stream_dequeue_data d = { .deadline_ns = deadline_ns };
	int ret;

	/* The deadline is absolute: a wait a signal broke resumes as it was. */
	do
		ret = lib_ioctl(stream, COHBUF_STREAM_IOCTL_DEQUEUE, &d);
	while (ret == -EINTR);
	if (!ret)
		*rec = d.record;
	return ret;
}

int cohbuf_stream_read(int stream, struct cohbuf_stream_record *recs, unsigned int max)
{
	ssize_t n = read(stream, recs, (size_t)max * sizeof(*recs));

	if (n < 0)
		return -errno;
	return (int)(n / (ssize_t)sizeof(*recs));
}

int cohbuf_stream_start(int stream)
{
	struct cohbuf_stream_start_data d = { 0 };

	return lib_ioctl(stream, COHBUF_STREAM_IOCTL_START, &d);
}

int cohbuf_stream_stop(int stream)
{
	struct cohbuf_stream_start_data d = { 0 };

	return lib_ioctl(stream, COHBUF_STREAM_IOCTL_STOP, &d);
}

int cohbuf_stream_advance(int stream, uint64_t frames)
{
	struct cohbuf_stream_advance_data d = { .frames = frames };

	return lib_ioctl(stream, COHBUF_STREAM_IOCTL_ADVANCE, &d);
}

int cohbuf_stream_stats(int stream, struct cohbuf_stream_stats_data *stats)
{
	memset(stats, 0, sizeof(*stats));
	return lib_ioctl(stream, COHBUF_STREAM_IOCTL_STATS, stats);
}

uint64_t cohbuf_stream_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t cohbuf_stream_sample_bytes(uint32_t format)
{
	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
	case COHBUF_STREAM_FMT_S16:
		return 2;
	case COHBUF_STREAM_FMT_S32:
		return 4;
	}
	return 0;
}

/* The splitmix64 finaliser of @frame * 16 + @channel, as the uapi writes it. */
static uint64_t payload_mix(uint64_t frame, uint32_t channel)
{
	uint64_t z = frame * 16 + channel;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t cohbuf_stream_sample_word(uint64_t frame, uint32_t channel, uint32_t format)
{
	uint64_t z = payload_mix(frame, channel);

	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
		return (uint32_t)(((z >> 48) & 0xfff0) | (z & 0xf));
	case COHBUF_STREAM_FMT_S16:
		return (uint32_t)(z >> 48);
	case COHBUF_STREAM_FMT_S32:
		return (uint32_t)(z >> 32);
	}
	return 0;
}

int32_t cohbuf_stream_decode(const void *block, size_t n, uint32_t format)
{
	const unsigned char *b = (const unsigned char *)block;
	uint16_t w16;
	uint32_t w32;

	/* Little-endian whatever the CPU; the value as a consumer takes it. */
	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
		w16 = (uint16_t)(b[2 * n] | b[2 * n + 1] << 8);
		return (int16_t)w16 >> 4;	/* arithmetic: le:s12/16>>4 */
	case COHBUF_STREAM_FMT_S16:
		w16 = (uint16_t)(b[2 * n] | b[2 * n + 1] << 8);
		return (int16_t)w16;
	case COHBUF_STREAM_FMT_S32:
		w32 = (uint32_t)b[4 * n] | (uint32_t)b[4 * n + 1] << 8 |
		      (uint32_t)b[4 * n + 2] << 16 | (uint32_t)b[4 * n + 3] << 24;
		return (int32_t)w32;
	}
	return 0;
}

int32_t cohbuf_stream_sample_value(uint64_t frame, uint32_t channel, uint32_t format)
{
	uint64_t z = payload_mix(frame, channel);

	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
		return (int32_t)((int64_t)z >> 52);	/* the top 12 bits, signed */
	case COHBUF_STREAM_FMT_S16:
		return (int16_t)(z >> 48);
	case COHBUF_STREAM_FMT_S32:
		return (int32_t)(z >> 32);
	}
	return 0;
}

/* Store the low @size bytes of @w at @p, little-endian. */
static void put_le(unsigned char *p, uint32_t w, uint32_t size)
{
	uint32_t k;

	for (k = 0; k < size; k++)
		p[k] = (unsigned char)(w >> (8 * k));
}

int cohbuf_stream_generate(void *block, uint64_t first_frame, uint32_t frames,
			   uint32_t channels, uint32_t format)
{
	uint32_t size = cohbuf_stream_sample_bytes(format), f, c;
	unsigned char *p = block;

	if (!size || !channels || channels > COHBUF_STREAM_MAX_CHANNELS)
		return -EINVAL;
	for (f = 0; f < frames; f++)
		for (c = 0; c < channels; c++, p += size)
			put_le(p, cohbuf_stream_sample_word(first_frame + f, c, format), size);
	return 0;
}

int cohbuf_stream_fill(int buf, void *region, uint64_t first_frame, uint32_t frames,
		       uint32_t channels, uint32_t format)
{
	int ret, end;

	if (!cohbuf_stream_sample_bytes(format) || !channels ||
	    channels > COHBUF_STREAM_MAX_CHANNELS)
		return -EINVAL;
	/* Waits for every reader and writer: an output stream's device too. */
	ret = cohbuf_dmabuf_cpu_access_begin(buf, DMA_BUF_SYNC_WRITE);
	if (ret)
		return ret;
	ret = cohbuf_stream_generate(region, first_frame, frames, channels, format);
	end = cohbuf_dmabuf_cpu_access_end(buf, DMA_BUF_SYNC_WRITE);
	return ret ? ret : end;
}

int cohbuf_stream_verify(const void *block, uint64_t first_frame, uint32_t frames,
			 uint32_t channels, uint32_t format, size_t *bad)
{
	uint32_t size = cohbuf_stream_sample_bytes(format), f, c, k, w;
	const unsigned char *p = block;
	size_t n = 0;

	if (!size || !channels || channels > COHBUF_STREAM_MAX_CHANNELS)
		return -EINVAL;
	/* The whole stored word: the value and ADC12's noise bits. */
	for (f = 0; f < frames; f++) {
		for (c = 0; c < channels; c++, n++, p += size) {
			for (w = 0, k = 0; k < size; k++)
				w |= (uint32_t)p[k] << (8 * k);
			if (w != cohbuf_stream_sample_word(first_frame + f, c, format)) {
				if (bad)
					*bad = n;
				return -EBADMSG;
			}
		}
	}
	return 0;
}
