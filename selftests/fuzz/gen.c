// SPDX-License-Identifier: GPL-2.0
/*
 * Generators of arguments: fds, ioctl sizes and argument pointers, buffer
 * sizes and ranges; each one that makes a call invalid says why with bad().
 */

#include "fuzz.h"

/* Some fd number: mostly a live one of @kind, else odd ones. */
int some_fd(int kind, int *slot)
{
	int s;

	*slot = -1;
	switch (below(16)) {
	case 0:
		return -1;
	case 1:
		return F.closed_fd;
	case 2:
		return (int)below(1200);
	case 3:
		return F.dev;
	case 4:
		return F.ctx[below(NCTX)];
	case 5:
		return F.ntmpl ? F.tmpl[below(F.ntmpl)].fd : -1;
	default:
		s = fd_slot_pick(kind);
		*slot = s;
		return s < 0 ? -1 : F.fds[s].fd;
	}
}

/* Fill the argument buffer's tail [from, to) with zeros or random bytes. */
static int fill_tail(size_t from, size_t to)
{
	int nonzero = 0;
	size_t i;

	memset(argbuf + from, 0, to > from ? to - from : 0);
	if (to > from && chance(30)) {
		i = from + below(to - from);
		argbuf[i] = (unsigned char)(1 + below(255));
		nonzero = 1;
	}
	return nonzero;
}

/*
 * The ioctl number for @cmd with a random size (mostly the real one);
 * sets F.why for sizes the kernel must refuse and fills the tail.
 */
unsigned long fz_cmd(unsigned long cmd, size_t ver0)
{
	size_t usize = _IOC_SIZE(cmd);

	if (chance(85))
		return cmd;
	switch (below(4)) {
	case 0:
		usize = below(ver0);
		break;
	case 1:
		usize = ver0 + 1 + below(64);
		break;
	case 2:
		usize = ver0 + below(16384 - ver0);
		break;
	default:
		usize = ver0 + 8;
		break;
	}
	if (usize < ver0)
		bad("ioctl size below the first version");
	else if (fill_tail(ver0, usize))
		bad("non-zero byte beyond the known structure");
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), usize);
}

/* The argument pointer: mostly argbuf, sometimes NULL or unmapped. */
void *fz_argp(void)
{
	switch (below(200)) {
	case 0:
		bad("NULL argument");
		return NULL;
	case 1:
		bad("argument in kernel space");
		return (void *)0xffff888000000000UL;
	default:
		return argbuf;
	}
}

/*
 * Now and then, instead of @argp (when it is argbuf), a read-only copy of
 * the first @len bytes: the kernel reads it, does the work and then fails
 * to write the result back. *@cmd becomes @real (the structure's real
 * size), so that the copy holds all of it.
 */
void *fz_ro_arg(void *argp, size_t len, unsigned long *cmd, unsigned long real)
{
	if (argp != argbuf || !chance(1) ||
	    mprotect(F.ro_page, PAGE, PROT_READ | PROT_WRITE))
		return argp;
	memcpy(F.ro_page, argbuf, len);
	mprotect(F.ro_page, PAGE, PROT_READ);
	*cmd = real;
	F.why = NULL;		/* the size may have been the only fault */
	bad("argument not writable");
	return F.ro_page;
}

__u64 pick_size(void)
{
	switch (below(20)) {
	case 0:
		return 0;
	case 1:
		return FZ_MAX_BUFFER;
	case 2:
		return FZ_MAX_BUFFER - PAGE + 1 + below(PAGE);
	case 3:
		return FZ_MAX_BUFFER + 1 + below(PAGE);
	case 4:
		return ~0ULL - below(2 * PAGE);
	case 5:
		return 1ULL << (32 + below(32));
	case 6:
		return 1 + below(FZ_MAX_BUFFER);
	default:
		return 1 + below(16 * PAGE);
	}
}

__u64 round_page_u64(__u64 size, int *overflow)
{
	*overflow = size > ~0ULL - (PAGE - 1);
	return (size + PAGE - 1) & ~(__u64)(PAGE - 1);
}

/* A random page-aligned sub-range of region @i: *off, *len. */
void map_subrange(int i, size_t *off, size_t *len)
{
	size_t pages = F.maps[i].len / PAGE, first, n;

	if (chance(50)) {
		*off = 0;
		*len = F.maps[i].len;
		return;
	}
	first = below(pages);
	n = 1 + below(pages - first);
	*off = first * PAGE;
	*len = n * PAGE;
}

/* A range of a buffer of @size: mostly inside, sometimes not. */
void pick_range(__u64 size, __u64 *off, __u64 *len, int *out)
{
	/* Mostly short jobs: the engine is the CPU, emulated. */
	__u64 cap = chance(80) ? 4 * KIB : 64 * KIB;
	__u64 max = size < cap ? size : cap;

	*out = 0;
	switch (below(24)) {
	case 0:
		*off = size;
		*len = 1 + below(PAGE);
		*out = 1;
		return;
	case 1:
		*off = ~0ULL - below(PAGE);
		*len = 1 + below(PAGE);
		*out = 1;
		return;
	case 2:
		*off = below(size);
		*len = ~0ULL - below(PAGE);
		*out = 1;
		return;
	case 3:
		*off = below(size);
		*len = size - *off + 1 + below(PAGE);
		*out = 1;
		return;
	case 4:
		*off = 0;
		*len = size;
		return;
	default:
		*len = max ? 1 + r64() % max : 1;
		*off = size > *len ? r64() % (size - *len + 1) : 0;
		*out = *len > size;
		return;
	}
}

/*
 * ALLOC's arguments: mostly valid, now and then one field or the ioctl
 * number wrong (the ones only the number makes invalid say so with bad()).
 */
void gen_alloc_args(struct cohbuf_alloc_data *d, unsigned long *cmd)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->size = pick_size();
	d->fd_flags = chance(80) ? O_RDWR | O_CLOEXEC : O_RDONLY | (chance(50) ? O_CLOEXEC : 0);
	d->flags = chance(20) ? COHBUF_ALLOC_CONTIGUOUS : 0;
	d->cache_mode = below(2);
	if (chance(60)) {
		for (i = 0; i < (int)below(COHBUF_NAME_LEN); i++)
			d->name[i] = (char)(chance(80) ? 'a' + below(26) : 1 + below(255));
	}
	switch (below(40)) {
	case 0:
		d->fd_flags = (__u32)r64();
		break;
	case 1:
		d->fd_flags = O_WRONLY;
		break;
	case 2:
		d->flags = (__u32)r64() | (1U << (1 + below(31)));
		break;
	case 3:
		d->cache_mode = 2 + below(100);
		break;
	case 4:
		d->fd = 1 + below(100);
		break;
	case 5:
		d->id = 1 + r64() % 1000;
		break;
	case 6:
		memset(d->name, 'x', sizeof(d->name));
		break;
	case 7:
		/* Past the exporter's last number, COHBUF_IOCTL_MAP_PCI (4). */
		*cmd = _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOC_MAGIC,
			    _IOC_NR(COHBUF_IOCTL_MAP_PCI) + 1 +
			    below(255 - _IOC_NR(COHBUF_IOCTL_MAP_PCI)),
			    sizeof(*d));
		bad("unknown ioctl number");
		break;
	case 8: {
		static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE };

		*cmd = _IOC(dirs[below(3)], COHBUF_IOC_MAGIC, 0, sizeof(*d));
		bad("wrong ioctl direction");
		break;
	}
	}
}

/* The lowest bit of SUBMIT's flags no flag uses. */
#define FIRST_UNKNOWN	__builtin_ctz(COHBUF_IMP_SUBMIT_FLAGS_MASK + 1)

/* Now and then one field of SUBMIT's @d that must be 0 for its op or flags is not. */
void gen_submit_bad_field(struct cohbuf_imp_submit_data *d)
{
	switch (below(60)) {
	case 0:
		/* A bit above the mask's, whatever the uapi's latest flag. */
		d->flags |= 1U << (FIRST_UNKNOWN + below(32 - FIRST_UNKNOWN));
		bad("unknown flags");
		break;
	case 1:
		d->pad = 1 + below(100);
		bad("pad not 0");
		break;
	case 2:
		if (d->op == COHBUF_IMP_OP_FILL) {
			d->src_offset = 1 + below(100);
			bad("src_offset for FILL");
		}
		break;
	case 3:
		if (!(d->flags & COHBUF_IMP_SUBMIT_RANDOM)) {
			d->seed = 1 + below(100);
			bad("seed without RANDOM");
		}
		break;
	case 4:
		if (!(d->flags & COHBUF_IMP_SUBMIT_IN_FENCE)) {
			d->in_fence_fd = 1 + below(100);
			bad("in_fence_fd without IN_FENCE");
		}
		break;
	case 5:
		if (d->op == COHBUF_IMP_OP_CHECKSUM) {
			d->pattern = 1 + below(100);
			bad("pattern for CHECKSUM");
		}
		break;
	case 6:
		if (!(d->flags & COHBUF_IMP_SUBMIT_LATENCY)) {
			d->latency_ms = 1 + below(100);
			bad("latency_ms without LATENCY");
		}
		break;
	}
}

/*
 * STREAM_CREATE arguments: an input queue-mode stream on the manual clock,
 * O_NONBLOCK (so that no DEQUEUE or read() waits), small blocks; now and
 * then one field out of its range, said with bad().
 */
void gen_stream_params(struct cohbuf_stream_create_data *d)
{
	static const __u32 formats[] = {
		COHBUF_STREAM_FMT_ADC12, COHBUF_STREAM_FMT_S16, COHBUF_STREAM_FMT_S32,
	};

	memset(d, 0, sizeof(*d));
	d->fd_flags = O_NONBLOCK | (chance(50) ? O_CLOEXEC : 0);
	d->direction = COHBUF_STREAM_DIR_INPUT;
	d->mode = COHBUF_STREAM_MODE_QUEUE;
	d->format = formats[below(ARRAY_SIZE(formats))];
	d->channels = 1 + below(COHBUF_STREAM_MAX_CHANNELS);
	d->rate_hz = 1 + below(1000000);
	d->block_frames = 1 + below(256);	/* ADVANCE generates every frame */
	d->clock = COHBUF_STREAM_CLOCK_MANUAL;
	d->overrun = chance(70) ? COHBUF_STREAM_OVERRUN_DROP : COHBUF_STREAM_OVERRUN_STOP;
	d->watermark = 1 + below(4);
	d->first_sequence = chance(20) ? 0xffffffffULL - below(4) : r64();
	if (!chance(6))
		return;
	switch (below(10)) {
	case 0:
		d->flags = 1U << below(32);
		bad("flags not 0");
		break;
	case 1:
		d->channels = chance(50) ? 0 : COHBUF_STREAM_MAX_CHANNELS + 1 + below(100);
		bad("channels out of range");
		break;
	case 2:
		d->rate_hz = chance(50) ? 0 : COHBUF_STREAM_MAX_RATE_HZ + 1 + below(100);
		bad("rate out of range");
		break;
	case 3:
		d->block_frames = chance(50) ? 0 : COHBUF_STREAM_MAX_BLOCK_BYTES;
		bad("block out of range");
		break;
	case 4:
		d->format = 4 + below(1000);
		bad("unknown format");
		break;
	case 5:
		d->clock = 3 + below(1000);
		bad("unknown clock");
		break;
	case 6:
		d->pad = 1 + below(1000);
		bad("pad not 0");
		break;
	case 7:
		d->fd = 1 + (__s32)below(1000);
		bad("fd not 0");
		break;
	case 8:
		d->watermark = chance(50) ? 0 : COHBUF_STREAM_MAX_WATERMARK + 1;
		bad("watermark out of range");
		break;
	default:
		d->fd_flags |= O_APPEND;
		bad("fd_flags has an unknown bit");
		break;
	}
}

/*
 * Ring-mode STREAM_CREATE arguments over gen_stream_params()' (called
 * first): a data area of 2 to 8 block records (with room for a gap record
 * without OVERWRITE, a whole number of records with it) at an aligned
 * offset, and the size of the dma-buf to hold it at *@buf_size; the
 * caller sets @ring_fd. Now and then one ring rule broken, said with
 * bad(), or an output stream asked for, which has no ring mode.
 */
void gen_ring_params(struct cohbuf_stream_create_data *d, __u64 *buf_size)
{
	__u32 fb, rec, records = 2 + below(7);
	int overflow;

	d->mode = COHBUF_STREAM_MODE_RING;
	if (d->block_frames && d->block_frames <= 256)	/* not made bad on purpose */
		d->block_frames = 1 + below(64);
	fb = cohbuf_stream_sample_bytes(d->format) * d->channels;
	if (!fb)	/* a bad format or channel count: any size will do */
		fb = 2;
	rec = (__u32)((sizeof(struct cohbuf_ring_block) + (__u64)d->block_frames * fb + 7) & ~7ULL);
	d->ring_flags = chance(30) ? COHBUF_STREAM_RING_OVERWRITE : 0;
	d->ring_offset = 8 * below(64);
	d->ring_length = (__u64)records * rec;
	if (!(d->ring_flags & COHBUF_STREAM_RING_OVERWRITE))
		d->ring_length += sizeof(struct cohbuf_ring_gap) + 8 * below(4);
	if (d->watermark <= 4 && d->watermark > records)	/* not made bad on purpose */
		d->watermark = records;
	*buf_size = round_page_u64(d->ring_offset + d->ring_length, &overflow);
	if (!chance(10))
		return;
	switch (below(9)) {
	case 0:
		d->ring_flags |= 2U << below(31);
		bad("unknown ring flag");
		break;
	case 1:
		d->ring_offset += 1 + below(7);
		bad("ring offset not aligned");
		break;
	case 2:
		d->ring_length -= 1 + below(7);
		bad("ring length not aligned");
		break;
	case 3:
		d->ring_length = rec;
		bad("ring of one record");
		break;
	case 4:
		d->ring_offset = *buf_size - d->ring_length + 8 * (1 + below(64));
		bad("data area beyond the dma-buf");
		break;
	case 5:
		d->direction = COHBUF_STREAM_DIR_OUTPUT;
		bad("output stream in ring mode");
		break;
	case 6:
		d->watermark = records + 1 + below(10);
		if (d->watermark > COHBUF_STREAM_MAX_WATERMARK)
			d->watermark = COHBUF_STREAM_MAX_WATERMARK;
		if ((__u64)d->watermark * rec > d->ring_length)
			bad("watermark beyond the ring");
		break;
	case 7:
		if (d->ring_flags & COHBUF_STREAM_RING_OVERWRITE) {
			d->ring_length += 8;
			bad("OVERWRITE ring not a whole number of records");
		}
		break;
	default:
		d->mode = COHBUF_STREAM_MODE_QUEUE;
		bad("ring fields in queue mode");
		break;
	}
}

/*
 * A QUEUE region for @st: mostly a block or two at a frame-aligned offset
 * of a modelled cohbuf buffer; now and then one rule of the uapi broken,
 * said with bad(). *@slot is the buffer's fd slot, or -1.
 */
void gen_stream_region(const struct fz_stream *st, struct cohbuf_stream_queue_data *d,
		       int *slot)
{
	__u64 block = (__u64)st->block_frames * st->frame_bytes, size, frames;
	int own = st->buf >= 0 && chance(90), kind;

	memset(d, 0, sizeof(*d));
	if (own) {
		/* The stream's own buffer: no other operation waits for it. */
		*slot = -1;
		d->dmabuf_fd = st->buf;
		kind = FK_COHBUF;
		size = st->buf_size;
	} else {
		d->dmabuf_fd = some_fd(FK_COHBUF, slot);
		kind = *slot >= 0 ? F.fds[*slot].kind : FK_FREE;
		size = *slot >= 0 ? F.fds[*slot].size : 0;
	}
	d->cookie = ++F.last_cookie;
	d->length = block * (1 + (chance(20) ? below(2) : 0));
	frames = size / st->frame_bytes;
	d->offset = frames > st->block_frames ?
		    (__u64)below((__u32)(frames - st->block_frames) + 1) * st->frame_bytes : 0;
	if (*slot >= 0 && !is_dmabuf_kind(kind))
		bad("not a dma-buf");
	else if ((*slot >= 0 || own) && d->offset + d->length > size)
		bad("region beyond the dma-buf");
	else if (*slot >= 0 && F.fds[*slot].rdonly && !st->output)
		bad("read-only dma-buf for an input stream");
	if (chance(90))
		return;
	switch (below(5)) {
	case 0:
		d->flags = 4U << below(30);
		bad("unknown QUEUE flag");
		break;
	case 1:
		d->length = block - 1 - below((__u32)block);
		bad("region smaller than a block");
		break;
	case 2:
		if (st->frame_bytes > 2) {
			d->offset += 1 + below(st->frame_bytes - 1);
			bad("offset not a multiple of the frame size");
		}
		break;
	case 3:
		d->offset = ~0ULL - below(4096);
		bad("region end overflows");
		break;
	default:
		d->in_fence_fd = 1 + (__s32)below(100);
		bad("in_fence_fd without the IN_FENCE flag");
		break;
	}
}

/* The size of a stream's own buffer: four blocks, whole pages. */
__u64 gen_stream_buf_size(const struct fz_stream *st)
{
	__u64 bytes = 4ULL * st->block_frames * st->frame_bytes;

	return (bytes + PAGE - 1) & ~(__u64)(PAGE - 1);
}
