// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_iio: the importer's simulated ADC (its stream engine's payload)
 * as an IIO device, "cohbuf-adc", so that IIO's own tools and libraries
 * read it: channels in_voltage0..N-1 (the module parameter channels),
 * scan type le:s12/16>>4, sampling_frequency, and one buffer whose frames
 * come from the payload function at frame index 0, 1, ... from each
 * enable. Two attributes of the device choose the clock for tests:
 * cohbuf_clock ("timer" or "manual") and cohbuf_advance (manual clock:
 * write N to produce N frames). The parent is a platform device,
 * "cohbuf-iio", that this module registers.
 */

#include <linux/delay.h>
#include <linux/iio/iio.h>
#include <linux/iio/sysfs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include <linux/cohbuf_stream.h>

#include "cohbuf_compat.h"
#include "cohbuf_dmadev.h"
#include "cohbuf_iio.h"
#include "cohbuf_payload.h"

#define COHBUF_IIO_DEFAULT_RATE_HZ	1000

/**
 * DOC: cohbuf_iio errors
 *
 * Writes to the device's attributes, and read() on its buffer, fail with:
 *
 * ``EINVAL``
 *	``sampling_frequency`` is not an integer from 1 to 1000000;
 *	``cohbuf_clock`` is neither ``timer`` nor ``manual``;
 *	``cohbuf_advance`` is not a number from 0 to 4294967295, or the clock
 *	is ``timer``; a read() asks for less than one scan.
 *
 * ``EBUSY``
 *	``sampling_frequency`` or ``cohbuf_clock`` is written while the
 *	buffer is enabled (the IIO core refuses ``length`` then too);
 *	``cohbuf_advance`` is written while it is not.
 *
 * ``EAGAIN``
 *	a non-blocking read() finds no complete scan.
 *
 * ``EFAULT``
 *	read() into memory the caller cannot write; no scan is consumed.
 */

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "number of in_voltageN channels, 1 to 16 (default 4)");

/* The device this module registers, one per load. */
static struct platform_device *cohbuf_iio_pdev;
static struct iio_dev *cohbuf_iio_dev;

/* Channel specifications, filled once at load for @channels channels. */
static struct iio_chan_spec cohbuf_iio_chans[COHBUF_IIO_MAX_CHANNELS];

static int cohbuf_iio_read_raw(struct iio_dev *indio_dev,
			       struct iio_chan_spec const *chan,
			       int *val, int *val2, long mask)
{
	struct cohbuf_iio *ci = iio_priv(indio_dev);
	__le16 frame[COHBUF_IIO_MAX_CHANNELS];

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		/* The sample of the next frame, as a direct read of the ADC. */
		cohbuf_imp_stream_generate(frame, READ_ONCE(ci->next_frame), 1,
					   ci->channels, COHBUF_STREAM_FMT_ADC12);
		*val = (s16)le16_to_cpu(frame[chan->channel]) >> 4;
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SAMP_FREQ:
		mutex_lock(&ci->lock);
		*val = ci->rate_hz;
		mutex_unlock(&ci->lock);
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int cohbuf_iio_write_raw(struct iio_dev *indio_dev,
				struct iio_chan_spec const *chan,
				int val, int val2, long mask)
{
	struct cohbuf_iio *ci = iio_priv(indio_dev);
	int ret = 0;

	if (mask != IIO_CHAN_INFO_SAMP_FREQ)
		return -EINVAL;
	if (val2 || val < COHBUF_IIO_MIN_RATE_HZ || val > COHBUF_IIO_MAX_RATE_HZ)
		return -EINVAL;
	mutex_lock(&ci->lock);
	if (ci->running)
		ret = -EBUSY;
	else
		ci->rate_hz = val;
	mutex_unlock(&ci->lock);
	return ret;
}

static int cohbuf_iio_write_raw_get_fmt(struct iio_dev *indio_dev,
					struct iio_chan_spec const *chan,
					long mask)
{
	return IIO_VAL_INT;
}

static ssize_t cohbuf_clock_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct cohbuf_iio *ci = iio_priv(dev_to_iio_dev(dev));
	bool manual;

	mutex_lock(&ci->lock);
	manual = ci->manual;
	mutex_unlock(&ci->lock);
	return sysfs_emit(buf, "%s\n", manual ? "manual" : "timer");
}

static ssize_t cohbuf_clock_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t len)
{
	struct cohbuf_iio *ci = iio_priv(dev_to_iio_dev(dev));
	ssize_t ret = len;
	bool manual;

	if (sysfs_streq(buf, "manual"))
		manual = true;
	else if (sysfs_streq(buf, "timer"))
		manual = false;
	else
		return -EINVAL;
	mutex_lock(&ci->lock);
	if (ci->running)
		ret = -EBUSY;
	else
		ci->manual = manual;
	mutex_unlock(&ci->lock);
	return ret;
}

static ssize_t cohbuf_advance_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t len)
{
	struct cohbuf_iio *ci = iio_priv(dev_to_iio_dev(dev));
	u32 frames;
	int ret;

	ret = kstrtou32(buf, 0, &frames);
	if (ret)
		return ret;
	ret = cohbuf_iio_clock_advance(ci, frames);
	return ret ? ret : len;
}

static IIO_DEVICE_ATTR_RW(cohbuf_clock, 0);
static IIO_DEVICE_ATTR_WO(cohbuf_advance, 0);

static struct attribute *cohbuf_iio_attrs[] = {
	&iio_dev_attr_cohbuf_clock.dev_attr.attr,
	&iio_dev_attr_cohbuf_advance.dev_attr.attr,
	NULL
};

static const struct attribute_group cohbuf_iio_attr_group = {
	.attrs = cohbuf_iio_attrs,
};

static const struct iio_info cohbuf_iio_info = {
	.read_raw = cohbuf_iio_read_raw,
	.write_raw = cohbuf_iio_write_raw,
	.write_raw_get_fmt = cohbuf_iio_write_raw_get_fmt,
	.attrs = &cohbuf_iio_attr_group,
};

static int cohbuf_iio_postenable(struct iio_dev *indio_dev)
{
	return cohbuf_iio_clock_start(iio_priv(indio_dev));
}

static int cohbuf_iio_predisable(struct iio_dev *indio_dev)
{
	cohbuf_iio_clock_stop(iio_priv(indio_dev));
	return 0;
}

static const struct iio_buffer_setup_ops cohbuf_iio_setup_ops = {
	.postenable = cohbuf_iio_postenable,
	.predisable = cohbuf_iio_predisable,
};

static void cohbuf_iio_fill_channels(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct iio_chan_spec *c = &cohbuf_iio_chans[i];

		c->type = IIO_VOLTAGE;
		c->indexed = 1;
		c->channel = i;
		c->scan_index = i;
		c->info_mask_separate = BIT(IIO_CHAN_INFO_RAW);
		c->info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ);
		c->scan_type.sign = 's';
		c->scan_type.realbits = 12;
		c->scan_type.storagebits = 16;
		c->scan_type.shift = 4;
		c->scan_type.endianness = IIO_LE;
	}
}

static int __init cohbuf_iio_init(void)
{
	struct iio_dev *indio_dev;
	struct cohbuf_iio *ci;
	int ret;

	if (channels < 1 || channels > COHBUF_IIO_MAX_CHANNELS)
		return -EINVAL;
	cohbuf_iio_fill_channels(channels);

	/* The parent is the device DMABUFs are attached and mapped for. */
	cohbuf_iio_pdev = cohbuf_dma_pdev_create("cohbuf-iio");
	if (IS_ERR(cohbuf_iio_pdev))
		return PTR_ERR(cohbuf_iio_pdev);

	indio_dev = iio_device_alloc(&cohbuf_iio_pdev->dev, sizeof(*ci));
	if (!indio_dev) {
		ret = -ENOMEM;
		goto unregister_pdev;
	}
	ci = iio_priv(indio_dev);
	ci->indio_dev = indio_dev;
	ci->channels = channels;
	ci->rate_hz = COHBUF_IIO_DEFAULT_RATE_HZ;
	mutex_init(&ci->lock);
	cohbuf_iio_clock_init(ci);

	indio_dev->name = "cohbuf-adc";
	indio_dev->info = &cohbuf_iio_info;
	indio_dev->modes = INDIO_DIRECT_MODE | INDIO_BUFFER_HARDWARE;
	indio_dev->channels = cohbuf_iio_chans;
	indio_dev->num_channels = channels;
	indio_dev->setup_ops = &cohbuf_iio_setup_ops;

	ci->buf = cohbuf_iio_buffer_alloc();
	if (!ci->buf) {
		ret = -ENOMEM;
		goto free_iio;
	}
	ret = iio_device_attach_buffer(indio_dev, &ci->buf->buffer);
	if (ret)
		goto put_buffer;
	ret = iio_device_register(indio_dev);
	if (ret)
		goto put_buffer;
	cohbuf_iio_dev = indio_dev;
	return 0;

put_buffer:
	cohbuf_iio_buffer_put(ci->buf);
free_iio:
	iio_device_free(indio_dev);
unregister_pdev:
	platform_device_unregister(cohbuf_iio_pdev);
	return ret;
}

/*
 * A buffer fd keeps the IIO device and its buffer alive after
 * /dev/iio:deviceN is closed, without a reference on this module, and the
 * buffer's release function is this module's: so the exit waits until
 * this module's reference on the buffer is the last one, then drops it.
 */
static void __exit cohbuf_iio_exit(void)
{
	struct cohbuf_iio *ci = iio_priv(cohbuf_iio_dev);
	struct cohbuf_iio_buffer *b = ci->buf;
	bool told = false;

	iio_device_unregister(cohbuf_iio_dev);
	iio_device_free(cohbuf_iio_dev);
	while (kref_read(&b->buffer.ref) > 1) {
		if (!told)
			pr_info("cohbuf_iio: waiting for the IIO buffer's fds to be closed\n");
		told = true;
		msleep(20);
	}
	cohbuf_iio_buffer_put(b);
	platform_device_unregister(cohbuf_iio_pdev);
}

module_init(cohbuf_iio_init);
module_exit(cohbuf_iio_exit);

MODULE_DESCRIPTION("cohbuf: the importer's simulated ADC as an IIO device");
MODULE_LICENSE("GPL");
