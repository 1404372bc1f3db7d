// SPDX-License-Identifier: GPL-2.0
/* virtio-blk request parsing and execution (RELIABILITY.md 17). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "virtio_blk.h"

#define DISK_BYTES	(8 * 512 + 100)	/* not a multiple of 512 */

struct req_bufs {
	struct virtio_blk_outhdr hdr;
	uint8_t data[2048];
	uint8_t status;
};

/* Build a chain: header [+ data out] or [data in] + status. */
static void make_chain(struct vq_chain *c, struct req_bufs *b, uint32_t type, uint64_t sector,
		       uint32_t len)
{
	memset(c, 0, sizeof(*c));
	b->hdr.type = type;
	b->hdr.ioprio = 0;
	b->hdr.sector = sector;
	b->status = 0xee;
	c->seg[c->nseg++] = (struct vq_seg){ (uint8_t *)&b->hdr, sizeof(b->hdr), false };
	c->nout = 1;
	if (type == VIRTIO_BLK_T_OUT && len) {
		c->seg[c->nseg++] = (struct vq_seg){ b->data, len, false };
		c->nout = 2;
	} else if (len) {
		c->seg[c->nseg++] = (struct vq_seg){ b->data, len, true };
		c->in_bytes += len;
	}
	c->seg[c->nseg++] = (struct vq_seg){ &b->status, 1, true };
	c->in_bytes += 1;
}

FIXTURE(blk) {
	struct fake_guest g;
	struct blk_dev ro, rw;
	struct req_bufs b;
	struct vq_chain c;
	struct blk_req r;
};

static int make_disk(void)
{
	uint8_t buf[DISK_BYTES];
	int fd = memfd_create("disk", MFD_CLOEXEC);
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 512 + 1);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return -1;
	return fd;
}

FIXTURE_SETUP(blk)
{
	fg_init(&self->g);
	ASSERT_EQ(0, blk_dev_init(&self->ro, &self->g.mem, make_disk(), true, "ro-disk"));
	ASSERT_EQ(0, blk_dev_init(&self->rw, &self->g.mem, make_disk(), false, "rw-disk"));
}

FIXTURE_TEARDOWN(blk)
{
	blk_dev_exit(&self->ro);
	blk_dev_exit(&self->rw);
	fg_free(&self->g);
}

static uint8_t run(struct blk_dev *d, struct vq_chain *c, struct blk_req *r, uint32_t *written)
{
	if (blk_parse(c, r))
		return 0xff;
	return blk_execute(d, c, r, written);
}

TEST_F(blk, capacity_rounds_up)
{
	uint64_t cap;

	memcpy(&cap, self->ro.vd.config, 8);
	EXPECT_EQ(9ULL, cap);
	EXPECT_TRUE(self->ro.vd.device_features & (1ULL << VIRTIO_BLK_F_RO));
	EXPECT_FALSE(self->rw.vd.device_features & (1ULL << VIRTIO_BLK_F_RO));
}

TEST_F(blk, read_ok)
{
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 2, 1024);
	EXPECT_EQ(VIRTIO_BLK_S_OK, run(&self->ro, &self->c, &self->r, &w));
	EXPECT_EQ(1025U, w);
	EXPECT_EQ(3, self->b.data[0]);
	EXPECT_EQ(4, self->b.data[1023]);
}

TEST_F(blk, read_tail_past_eof_is_zero)
{
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 8, 512);
	memset(self->b.data, 0xaa, sizeof(self->b.data));
	EXPECT_EQ(VIRTIO_BLK_S_OK, run(&self->ro, &self->c, &self->r, &w));
	EXPECT_EQ(9, self->b.data[0]);
	EXPECT_EQ(9, self->b.data[99]);
	EXPECT_EQ(0, self->b.data[100]);
	EXPECT_EQ(0, self->b.data[511]);
	EXPECT_EQ(0xaa, self->b.data[512]);
}

TEST_F(blk, read_out_of_range)
{
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 9, 512);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 8, 1024);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, UINT64_MAX, 512);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
	/* sector * 512 overflows 64 bits */
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, (UINT64_MAX >> 9) + 1, 512);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
	/* not a whole number of sectors */
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 0, 100);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
	EXPECT_EQ(1U, w);
}

TEST_F(blk, range_helper)
{
	EXPECT_EQ(0, blk_check_range(0, 0, 0));
	EXPECT_EQ(0, blk_check_range(0, 512, 1));
	EXPECT_EQ(-ERANGE, blk_check_range(1, 512, 1));
	EXPECT_EQ(-ERANGE, blk_check_range(UINT64_MAX >> 9, 512, UINT64_MAX >> 9));
	EXPECT_EQ(-ERANGE, blk_check_range(UINT64_MAX, 0, 10));
	EXPECT_EQ(-EINVAL, blk_check_range(0, 511, 10));
	EXPECT_EQ(-ERANGE, blk_check_range(5, UINT64_MAX - 511, 10));
}

TEST_F(blk, write_readonly_fails)
{
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_OUT, 0, 512);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->ro, &self->c, &self->r, &w));
}

TEST_F(blk, write_rw_persists)
{
	uint8_t back[512];
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_OUT, 1, 512);
	memset(self->b.data, 0x5a, 512);
	EXPECT_EQ(VIRTIO_BLK_S_OK, run(&self->rw, &self->c, &self->r, &w));
	EXPECT_EQ(1U, w);
	ASSERT_EQ(512, pread(self->rw.fd, back, 512, 512));
	EXPECT_EQ(0x5a, back[0]);
	EXPECT_EQ(0x5a, back[511]);
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_OUT, 9, 512);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, run(&self->rw, &self->c, &self->r, &w));
}

TEST_F(blk, flush_and_id)
{
	uint32_t w;

	make_chain(&self->c, &self->b, VIRTIO_BLK_T_FLUSH, 0, 0);
	EXPECT_EQ(VIRTIO_BLK_S_OK, run(&self->rw, &self->c, &self->r, &w));
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_GET_ID, 0, 20);
	EXPECT_EQ(VIRTIO_BLK_S_OK, run(&self->ro, &self->c, &self->r, &w));
	EXPECT_EQ(21U, w);
	EXPECT_EQ(0, memcmp(self->b.data, "ro-disk", 8));
	make_chain(&self->c, &self->b, 0x1234, 0, 0);
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, run(&self->ro, &self->c, &self->r, &w));
}

TEST_F(blk, malformed)
{
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_IN, 0, 512);
	self->c.seg[0].len = 8;	/* short header */
	EXPECT_EQ(-EINVAL, blk_parse(&self->c, &self->r));
	make_chain(&self->c, &self->b, VIRTIO_BLK_T_FLUSH, 0, 0);
	self->c.nseg = 1;	/* no status byte */
	self->c.in_bytes = 0;
	EXPECT_EQ(-EINVAL, blk_parse(&self->c, &self->r));
}

/* Through the queue: a broken chain marks the device NEEDS_RESET, nothing else. */
TEST_F(blk, queue_error_needs_reset)
{
	struct virtio_dev *vd = &self->ro.vd;

	fg_vq(&self->g, &vd->vq[0], 8, 0);
	ASSERT_EQ(0, virtq_activate(&vd->vq[0], &self->g.mem, true));
	vd->status = 0xf;
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 0);
	fg_publish(&self->g, &vd->vq[0], 0);
	virtio_dev_process(vd);
	EXPECT_TRUE(vd->failed);
	EXPECT_TRUE(vd->status & 0x40);
}

TEST_F(blk, queue_read_roundtrip)
{
	struct virtio_dev *vd = &self->ro.vd;
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = 1 };
	uint8_t *mem = self->g.mem.host;

	fg_vq(&self->g, &vd->vq[0], 8, 0);
	ASSERT_EQ(0, virtq_activate(&vd->vq[0], &self->g.mem, true));
	vd->status = 0xf;
	memcpy(mem + FG_DATA, &hdr, sizeof(hdr));
	fg_set_desc(&self->g, FG_DESC, 0, FG_DATA, 16, VRING_DESC_F_NEXT, 1);
	fg_set_desc(&self->g, FG_DESC, 1, FG_DATA + 0x1000, 512,
		    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	fg_set_desc(&self->g, FG_DESC, 2, FG_DATA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	fg_publish(&self->g, &vd->vq[0], 0);
	virtio_dev_process(vd);
	EXPECT_FALSE(vd->failed);
	EXPECT_EQ(VIRTIO_BLK_S_OK, mem[FG_DATA + 0x2000]);
	EXPECT_EQ(2, mem[FG_DATA + 0x1000]);
	EXPECT_EQ(513U, fg_used(&self->g, &vd->vq[0])->ring[0].len);
}

TEST_HARNESS_MAIN
