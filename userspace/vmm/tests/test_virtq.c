// SPDX-License-Identifier: GPL-2.0
/* Virtqueue walker against hostile descriptor tables (RELIABILITY.md 13-14). */
#include <errno.h>
#include <stdint.h>

#include "kselftest_harness.h"

#include "fake_guest.h"

FIXTURE(vq) {
	struct fake_guest g;
	struct virtq vq;
	struct vq_chain c;
};

FIXTURE_SETUP(vq)
{
	fg_init(&self->g);
	fg_vq(&self->g, &self->vq, 8, 0);
	ASSERT_EQ(0, virtq_activate(&self->vq, &self->g.mem, true));
}

FIXTURE_TEARDOWN(vq)
{
	fg_free(&self->g);
}

TEST_F(vq, empty_ring)
{
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, simple_chain_and_push)
{
	struct vring_used *u;

	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&self->g, FG_DESC, 1, FG_DATA + 0x100, 64, VRING_DESC_F_WRITE, 0);
	fg_publish(&self->g, &self->vq, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->g.mem, &self->c));
	EXPECT_EQ(2U, self->c.nseg);
	EXPECT_EQ(1U, self->c.nout);
	EXPECT_EQ(64U, self->c.in_bytes);
	EXPECT_EQ(self->g.mem.host + FG_DATA, self->c.seg[0].addr);
	ASSERT_EQ(0, virtq_push(&self->vq, &self->g.mem, self->c.head, 64));
	u = fg_used(&self->g, &self->vq);
	EXPECT_EQ(1, u->idx);
	EXPECT_EQ(0U, u->ring[0].id);
	EXPECT_EQ(64U, u->ring[0].len);
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, loop_is_cut)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&self->g, FG_DESC, 1, FG_DATA, 16, VRING_DESC_F_NEXT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-ELOOP, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, self_loop_is_cut)
{
	fg_set_desc(&self->g, FG_DESC, 3, FG_DATA, 16, VRING_DESC_F_NEXT, 3);
	fg_publish(&self->g, &self->vq, 3);
	EXPECT_EQ(-ELOOP, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, next_out_of_range)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 8);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, head_out_of_range)
{
	fg_publish(&self->g, &self->vq, 9);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, addr_len_overflow)
{
	fg_set_desc(&self->g, FG_DESC, 0, UINT64_MAX - 10, 100, 0, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, outside_ram)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_RAM - 8, 16, 0, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, len_zero)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 0, 0, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, len_4g)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 0xffffffffU, 0, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, avail_idx_jump)
{
	struct vring_avail *a = (struct vring_avail *)(self->g.mem.host + FG_AVAIL);

	a->idx = 9;	/* 9 pending on a queue of 8 */
	EXPECT_EQ(-EOVERFLOW, virtq_pop(&self->vq, &self->g.mem, &self->c));
	a->idx = 0x8000;
	EXPECT_EQ(-EOVERFLOW, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, avail_idx_wraps)
{
	struct vring_avail *a = (struct vring_avail *)(self->g.mem.host + FG_AVAIL);

	self->vq.last_avail = 0xffff;
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, 0, 0);
	a->ring[0xffff % 8] = 0;
	a->ring[0] = 0;
	a->idx = 1;	/* two entries pending across the wrap */
	EXPECT_EQ(1, virtq_pop(&self->vq, &self->g.mem, &self->c));
	EXPECT_EQ(1, virtq_pop(&self->vq, &self->g.mem, &self->c));
	EXPECT_EQ(0, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, readable_after_writable)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	fg_set_desc(&self->g, FG_DESC, 1, FG_DATA, 16, 0, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_ok)
{
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&self->g, FG_INDIRECT, 1, FG_DATA + 64, 32, VRING_DESC_F_WRITE, 0);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->g.mem, &self->c));
	EXPECT_EQ(2U, self->c.nseg);
	EXPECT_EQ(32U, self->c.in_bytes);
}

TEST_F(vq, indirect_not_negotiated)
{
	self->vq.indirect = false;
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_DATA, 16, 0, 0);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_bad_len)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 24, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
	fg_set_desc(&self->g, FG_DESC, 1, FG_INDIRECT, 0, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 1);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_too_big)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 16 * (VQ_CHAIN_MAX + 1),
		    VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-E2BIG, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_nested)
{
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_with_next)
{
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_DATA, 16, 0, 0);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 16,
		    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_loop)
{
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&self->g, FG_INDIRECT, 1, FG_DATA, 16, VRING_DESC_F_NEXT, 0);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-ELOOP, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_next_out_of_table)
{
	fg_set_desc(&self->g, FG_INDIRECT, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 2);
	fg_set_desc(&self->g, FG_DESC, 0, FG_INDIRECT, 32, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EINVAL, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, indirect_table_outside_ram)
{
	fg_set_desc(&self->g, FG_DESC, 0, FG_RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	fg_publish(&self->g, &self->vq, 0);
	EXPECT_EQ(-EFAULT, virtq_pop(&self->vq, &self->g.mem, &self->c));
}

TEST_F(vq, long_chain_is_fine)
{
	uint16_t i;

	for (i = 0; i < 8; i++)
		fg_set_desc(&self->g, FG_DESC, i, FG_DATA + i * 16, 16,
			    i < 7 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	fg_publish(&self->g, &self->vq, 0);
	ASSERT_EQ(1, virtq_pop(&self->vq, &self->g.mem, &self->c));
	EXPECT_EQ(8U, self->c.nseg);
}

TEST(sizes)
{
	EXPECT_FALSE(virtq_size_valid(0, 256));
	EXPECT_FALSE(virtq_size_valid(3, 256));
	EXPECT_FALSE(virtq_size_valid(512, 256));
	EXPECT_FALSE(virtq_size_valid(0xffffffff, 256));
	EXPECT_TRUE(virtq_size_valid(1, 256));
	EXPECT_TRUE(virtq_size_valid(256, 256));
}

TEST(activate_rejects_bad_rings)
{
	struct fake_guest g;
	struct virtq vq;

	fg_init(&g);
	fg_vq(&g, &vq, 8, 0);
	vq.used_gpa = FG_RAM - 8;
	EXPECT_EQ(-EFAULT, virtq_activate(&vq, &g.mem, false));
	fg_vq(&g, &vq, 8, 0);
	vq.desc_gpa = FG_DESC + 4;	/* misaligned */
	EXPECT_EQ(-EINVAL, virtq_activate(&vq, &g.mem, false));
	fg_vq(&g, &vq, 6, 0);
	EXPECT_EQ(-EINVAL, virtq_activate(&vq, &g.mem, false));
	fg_vq(&g, &vq, 8, 0);
	vq.avail_gpa = UINT64_MAX - 1;
	EXPECT_EQ(-EFAULT, virtq_activate(&vq, &g.mem, false));
	fg_free(&g);
}

TEST(chain_copy_helpers)
{
	uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 }, w[8] = { 0 }, out[8];
	struct vq_chain c = { .nseg = 3, .nout = 2 };

	c.seg[0] = (struct vq_seg){ a, 4, false };
	c.seg[1] = (struct vq_seg){ b, 4, false };
	c.seg[2] = (struct vq_seg){ w, 8, true };
	EXPECT_EQ(6U, vq_chain_read(&c, 2, out, 8));
	EXPECT_EQ(3, out[0]);
	EXPECT_EQ(8, out[5]);
	EXPECT_EQ(8U, vq_chain_out_bytes(&c));
	EXPECT_EQ(4U, vq_chain_write(&c, 4, a, 8));
	EXPECT_EQ(1, w[4]);
}

TEST_HARNESS_MAIN
