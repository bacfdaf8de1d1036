// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf importer: the stream's payload, a pure function of the frame
 * index and the channel, as "cohbuf stream payload" in
 * linux/cohbuf_stream.h defines it. A leaf: importer_stream_queue.c calls
 * it to fill a region of an input stream, importer_stream_out.c to check
 * a region of an output stream, and cohbuf_iio.ko (iio/) to fill its IIO
 * buffer, hence the export; it takes no lock and allocates nothing.
 */

#include <linux/export.h>
#include <linux/types.h>
#include <asm/byteorder.h>

#include "importer_stream.h"

/* The splitmix64 finaliser of frame * 16 + channel. */
static u64 cohbuf_imp_stream_mix(u64 frame, u32 channel)
{
	u64 z = frame * 16 + channel;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/**
 * cohbuf_imp_stream_word() - one sample as it is stored
 * @frame: index of its frame
 * @channel: its channel
 * @format: COHBUF_STREAM_FMT_*
 *
 * Return: the sample's 16- or 32-bit word in CPU byte order, the noise
 * bits of ADC12 included.
 */
u32 cohbuf_imp_stream_word(u64 frame, u32 channel, u32 format)
{
	u64 z = cohbuf_imp_stream_mix(frame, channel);

	switch (format) {
	case COHBUF_STREAM_FMT_ADC12:
		return ((z >> 48) & 0xfff0) | (z & 0xf);
	case COHBUF_STREAM_FMT_S16:
		return (u16)(z >> 48);
	default:	/* COHBUF_STREAM_FMT_S32 */
		return (u32)(z >> 32);
	}
}

/**
 * cohbuf_imp_stream_generate() - write frames of the payload
 * @dst: where the first frame goes, aligned to the sample size
 * @first_frame: index of the first frame
 * @frames: number of frames
 * @channels: samples per frame
 * @format: COHBUF_STREAM_FMT_*
 */
void cohbuf_imp_stream_generate(void *dst, u64 first_frame, u32 frames,
				u32 channels, u32 format)
{
	__le16 *p16 = dst;
	__le32 *p32 = dst;
	u32 f, c, w;

	for (f = 0; f < frames; f++) {
		for (c = 0; c < channels; c++) {
			w = cohbuf_imp_stream_word(first_frame + f, c, format);
			if (format == COHBUF_STREAM_FMT_S32)
				*p32++ = cpu_to_le32(w);
			else
				*p16++ = cpu_to_le16(w);
		}
	}
}
EXPORT_SYMBOL_GPL(cohbuf_imp_stream_generate);
