/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf: the stream payload function, for the modules that produce
 * samples. cohbuf_importer.ko defines it (importer_stream_gen.c) and
 * exports it to cohbuf_iio.ko, so the stream engine and the IIO device
 * write the same samples, "cohbuf stream payload" in
 * linux/cohbuf_stream.h.
 */
#ifndef COHBUF_PAYLOAD_H
#define COHBUF_PAYLOAD_H

#include <linux/types.h>

void cohbuf_imp_stream_generate(void *dst, u64 first_frame, u32 frames,
				u32 channels, u32 format);

#endif /* COHBUF_PAYLOAD_H */
