// SPDX-License-Identifier: GPL-2.0
/* virtio-mmio transport: register protocol, status machine, hostile accesses (RELIABILITY.md 15-16). */
#include <errno.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "virtio.h"

struct counter {
	unsigned int process, signals, kicks, resets;
	int fail_with;
};

static int dummy_process(struct virtio_dev *vd, unsigned int q)
{
	struct counter *c = vd->priv;

	(void)q;
	c->process++;
	return c->fail_with;
}

static void dummy_reset(struct virtio_dev *vd)
{
	struct counter *c = vd->priv;

	c->resets++;
}

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy",
	.device_id = 42,
	.num_queues = 2,
	.config_size = 8,
	.process = dummy_process,
	.reset = dummy_reset,
};

static void count_signal(struct virtio_dev *vd)
{
	((struct counter *)vd->priv)->signals++;
}

static void count_kick(struct virtio_dev *vd)
{
	((struct counter *)vd->priv)->kicks++;
}

static uint32_t rd(struct virtio_dev *vd, uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(vd, off, &v, 4);
	return v;
}

static void wr(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	virtio_mmio_write(vd, off, &v, 4);
}

static void setup_queue(struct virtio_dev *vd, uint32_t q, uint32_t size, uint64_t off)
{
	wr(vd, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(vd, VIRTIO_MMIO_QUEUE_NUM, size);
	wr(vd, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(FG_DESC + off));
	wr(vd, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(vd, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(FG_AVAIL + off));
	wr(vd, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(vd, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(FG_USED + off));
	wr(vd, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(vd, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Bring the device up to FEATURES_OK with VERSION_1. */
static void negotiate(struct virtio_dev *vd)
{
	wr(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES, 1U << (VIRTIO_F_VERSION_1 - 32));
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
}

#define S_ALL (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
	       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

FIXTURE(mmio) {
	struct fake_guest g;
	struct virtio_dev vd;
	struct counter c;
};

FIXTURE_SETUP(mmio)
{
	fg_init(&self->g);
	memset(&self->c, 0, sizeof(self->c));
	ASSERT_EQ(0, virtio_dev_init(&self->vd, &dummy_ops, &self->c, &self->g.mem, 0));
	self->vd.signal = count_signal;
	self->vd.kick = count_kick;
	self->vd.config[0] = 0xab;
}

FIXTURE_TEARDOWN(mmio)
{
	virtio_dev_exit(&self->vd);
	fg_free(&self->g);
}

TEST_F(mmio, identity)
{
	EXPECT_EQ(0x74726976U, rd(&self->vd, VIRTIO_MMIO_MAGIC_VALUE));
	EXPECT_EQ(2U, rd(&self->vd, VIRTIO_MMIO_VERSION));
	EXPECT_EQ(42U, rd(&self->vd, VIRTIO_MMIO_DEVICE_ID));
	wr(&self->vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_TRUE(rd(&self->vd, VIRTIO_MMIO_DEVICE_FEATURES) & 1U);	/* VERSION_1 */
	wr(&self->vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_DEVICE_FEATURES));
}

TEST_F(mmio, full_bring_up)
{
	negotiate(&self->vd);
	EXPECT_TRUE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	setup_queue(&self->vd, 0, 8, 0);
	setup_queue(&self->vd, 1, 8, 0x8000);
	EXPECT_EQ(1U, rd(&self->vd, VIRTIO_MMIO_QUEUE_READY));
	wr(&self->vd, VIRTIO_MMIO_STATUS, S_ALL);
	EXPECT_EQ((uint32_t)S_ALL, rd(&self->vd, VIRTIO_MMIO_STATUS));
	EXPECT_TRUE(self->vd.vq[0].active);
	EXPECT_TRUE(self->vd.vq[1].active);
	virtio_dev_process(&self->vd);
	EXPECT_EQ(2U, self->c.process);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	EXPECT_EQ(1U, self->c.kicks);
}

TEST_F(mmio, queue_writes_after_driver_ok_ignored)
{
	negotiate(&self->vd);
	setup_queue(&self->vd, 0, 8, 0);
	wr(&self->vd, VIRTIO_MMIO_STATUS, S_ALL);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x12340);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_USED_HIGH, 0xffffffff);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_READY, 0);
	EXPECT_EQ(8, self->vd.vq[0].size);
	EXPECT_EQ(FG_DESC, self->vd.vq[0].desc_gpa);
	EXPECT_EQ(FG_USED, self->vd.vq[0].used_gpa);
	EXPECT_TRUE(self->vd.vq[0].ready);
	/* Features cannot change after FEATURES_OK either. */
	wr(&self->vd, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	EXPECT_EQ(1ULL << VIRTIO_F_VERSION_1, self->vd.driver_features);
}

TEST_F(mmio, bad_queue_sizes_refused)
{
	uint32_t sizes[] = { 0, 3, 100, VQ_SIZE_MAX * 2, 0x10000, 0xffffffff };
	unsigned int i;

	negotiate(&self->vd);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		setup_queue(&self->vd, 0, sizes[i], 0);
		EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_QUEUE_READY));
	}
	EXPECT_EQ((uint32_t)VQ_SIZE_MAX, rd(&self->vd, VIRTIO_MMIO_QUEUE_NUM_MAX));
	wr(&self->vd, VIRTIO_MMIO_QUEUE_SEL, 5);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_QUEUE_NUM_MAX));
}

/* A device may offer a queue smaller than VQ_SIZE_MAX (a console's receive queue). */
static const struct virtio_dev_ops small_ops = {
	.name = "small",
	.device_id = 43,
	.num_queues = 2,
	.queue_max = { [1] = 4 },
	.process = dummy_process,
};

TEST_F(mmio, per_queue_size_limit)
{
	struct virtio_dev vd;
	struct counter c = { 0 };

	ASSERT_EQ(0, virtio_dev_init(&vd, &small_ops, &c, &self->g.mem, 0));
	negotiate(&vd);
	wr(&vd, VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ((uint32_t)VQ_SIZE_MAX, rd(&vd, VIRTIO_MMIO_QUEUE_NUM_MAX));
	wr(&vd, VIRTIO_MMIO_QUEUE_SEL, 1);
	EXPECT_EQ(4U, rd(&vd, VIRTIO_MMIO_QUEUE_NUM_MAX));
	setup_queue(&vd, 1, 8, 0x8000);		/* over the queue's own max */
	EXPECT_EQ(0U, rd(&vd, VIRTIO_MMIO_QUEUE_READY));
	setup_queue(&vd, 1, 4, 0x8000);
	EXPECT_EQ(1U, rd(&vd, VIRTIO_MMIO_QUEUE_READY));
	setup_queue(&vd, 0, 256, 0);
	EXPECT_EQ(1U, rd(&vd, VIRTIO_MMIO_QUEUE_READY));
	virtio_dev_exit(&vd);
}

/* A device model whose queue limit is no power of two, or too big, is refused. */
TEST_F(mmio, bad_queue_limit_refused)
{
	struct virtio_dev_ops ops = small_ops;
	struct virtio_dev vd;

	ops.queue_max[1] = 3;
	EXPECT_EQ(-EINVAL, virtio_dev_init(&vd, &ops, NULL, &self->g.mem, 0));
	ops.queue_max[1] = VQ_SIZE_MAX * 2;
	EXPECT_EQ(-EINVAL, virtio_dev_init(&vd, &ops, NULL, &self->g.mem, 0));
}

TEST_F(mmio, rings_outside_ram_fail_activation)
{
	negotiate(&self->vd);
	setup_queue(&self->vd, 0, 8, 0);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(&self->vd, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10);	/* 64 GiB */
	wr(&self->vd, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(&self->vd, VIRTIO_MMIO_STATUS, S_ALL);
	EXPECT_FALSE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT_TRUE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_FALSE(self->vd.vq[0].active);
	/* Reset recovers. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(1U, self->c.resets);
}

TEST_F(mmio, illegal_status_transitions)
{
	/* DRIVER_OK straight away. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_STATUS));
	/* DRIVER without ACKNOWLEDGE. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_STATUS));
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* Without VERSION_1, FEATURES_OK does not stick. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT_FALSE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* Features the device does not offer. */
	wr(&self->vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(&self->vd, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT_FALSE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* Clearing bits without reset. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER);
	EXPECT_EQ((uint32_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER),
		  rd(&self->vd, VIRTIO_MMIO_STATUS));
	/* The driver cannot set NEEDS_RESET or unknown bits. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, 0x3f);
	EXPECT_EQ((uint32_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER),
		  rd(&self->vd, VIRTIO_MMIO_STATUS));
}

TEST_F(mmio, device_error_needs_reset)
{
	negotiate(&self->vd);
	setup_queue(&self->vd, 0, 8, 0);
	wr(&self->vd, VIRTIO_MMIO_STATUS, S_ALL);
	self->c.fail_with = -ELOOP;
	virtio_dev_process(&self->vd);
	EXPECT_TRUE(rd(&self->vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_TRUE(rd(&self->vd, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	EXPECT_EQ(1U, self->c.signals);
	/* A failed device does no more work until reset. */
	virtio_dev_process(&self->vd);
	EXPECT_EQ(1U, self->c.process);
	wr(&self->vd, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_INTERRUPT_STATUS));
	wr(&self->vd, VIRTIO_MMIO_STATUS, 0);
	self->c.fail_with = 0;
	negotiate(&self->vd);
	setup_queue(&self->vd, 0, 8, 0);
	wr(&self->vd, VIRTIO_MMIO_STATUS, S_ALL);
	EXPECT_EQ((uint32_t)S_ALL, rd(&self->vd, VIRTIO_MMIO_STATUS));
	virtio_dev_process(&self->vd);
	EXPECT_EQ(2U, self->c.process);
}

TEST_F(mmio, config_space_bounds)
{
	uint64_t v8 = 0;
	uint8_t b = 0;
	uint32_t v;

	virtio_mmio_read(&self->vd, VIRTIO_MMIO_CONFIG, &b, 1);
	EXPECT_EQ(0xab, b);
	virtio_mmio_read(&self->vd, VIRTIO_MMIO_CONFIG, &v8, 8);
	EXPECT_EQ(0xabULL, v8);
	v8 = 0x5555;
	virtio_mmio_read(&self->vd, VIRTIO_MMIO_CONFIG + 4, &v8, 8);	/* crosses the end */
	EXPECT_EQ(0ULL, v8);
	v = 0x5555;
	virtio_mmio_read(&self->vd, VIRTIO_MMIO_CONFIG + 8, &v, 4);	/* past the end */
	EXPECT_EQ(0U, v);
	virtio_mmio_read(&self->vd, 0xffc, &v, 4);
	EXPECT_EQ(0U, v);
}

TEST_F(mmio, register_widths_and_alignment)
{
	uint16_t h = 0x5555;
	uint8_t b = 0x55;
	uint32_t v = 0x55555555;

	virtio_mmio_read(&self->vd, VIRTIO_MMIO_MAGIC_VALUE, &h, 2);
	EXPECT_EQ(0, h);
	virtio_mmio_read(&self->vd, VIRTIO_MMIO_MAGIC_VALUE + 1, &b, 1);
	EXPECT_EQ(0, b);
	virtio_mmio_read(&self->vd, VIRTIO_MMIO_MAGIC_VALUE + 2, &v, 4);	/* unaligned */
	EXPECT_EQ(0U, v);
	b = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_write(&self->vd, VIRTIO_MMIO_STATUS, &b, 1);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_STATUS));
}

/* Sweep every offset at every width with reads and hostile writes. */
TEST_F(mmio, sweep)
{
	static const unsigned int widths[] = { 1, 2, 3, 4, 8, 16 };
	uint8_t buf[16];
	unsigned int w, pass;
	uint64_t off;

	for (pass = 0; pass < 3; pass++) {
		if (pass == 1)
			negotiate(&self->vd);
		for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
			unsigned int len = widths[w] > 8 ? 8 : widths[w];

			for (off = 0; off < 0x1000; off++) {
				virtio_mmio_read(&self->vd, off, buf, len);
				memset(buf, pass == 2 ? 0xff : (int)(off & 0xff), sizeof(buf));
				if (off == VIRTIO_MMIO_STATUS && pass == 2)
					continue;
				virtio_mmio_write(&self->vd, off, buf, widths[w] == 3 ? 3 : len);
			}
		}
		virtio_dev_process(&self->vd);
	}
	/* Whatever happened, the device still answers and resets. */
	wr(&self->vd, VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(0U, rd(&self->vd, VIRTIO_MMIO_STATUS));
	EXPECT_EQ(0x74726976U, rd(&self->vd, VIRTIO_MMIO_MAGIC_VALUE));
}

TEST_HARNESS_MAIN
