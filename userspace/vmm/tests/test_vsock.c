// SPDX-License-Identifier: GPL-2.0
/* virtio-vsock packet parsing and the no-outgoing-connections policy (RELIABILITY.md 11). */
#include <errno.h>
#include <stdint.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "virtio_vsock.h"

#define GUEST_CID	2048

static void hdr_chain(struct vq_chain *c, struct virtio_vsock_hdr *h, uint32_t extra_len,
		      uint8_t *payload)
{
	memset(c, 0, sizeof(*c));
	c->seg[c->nseg++] = (struct vq_seg){ (uint8_t *)h, sizeof(*h), false };
	c->nout = 1;
	if (extra_len) {
		c->seg[c->nseg++] = (struct vq_seg){ payload, extra_len, false };
		c->nout = 2;
	}
}

static struct virtio_vsock_hdr request(void)
{
	struct virtio_vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID, .src_port = 5000,
		.dst_port = 1234, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_REQUEST, .buf_alloc = 4096,
	};
	return h;
}

TEST(parse_ok)
{
	struct virtio_vsock_hdr h = request(), out;
	struct vq_chain c;

	hdr_chain(&c, &h, 0, NULL);
	EXPECT_EQ(0, vsock_parse_tx(&c, GUEST_CID, &out));
	EXPECT_EQ(5000U, out.src_port);
}

TEST(parse_short_header)
{
	struct virtio_vsock_hdr h = request(), out;
	struct vq_chain c;

	hdr_chain(&c, &h, 0, NULL);
	c.seg[0].len = 20;
	EXPECT_EQ(-EINVAL, vsock_parse_tx(&c, GUEST_CID, &out));
	c.nseg = 0;
	c.nout = 0;
	EXPECT_EQ(-EINVAL, vsock_parse_tx(&c, GUEST_CID, &out));
}

TEST(parse_len_beyond_chain)
{
	struct virtio_vsock_hdr h = request(), out;
	uint8_t payload[16];
	struct vq_chain c;

	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 17;
	hdr_chain(&c, &h, sizeof(payload), payload);
	EXPECT_EQ(-EINVAL, vsock_parse_tx(&c, GUEST_CID, &out));
	h.len = 16;
	EXPECT_EQ(0, vsock_parse_tx(&c, GUEST_CID, &out));
	h.len = 0xffffffff;
	EXPECT_EQ(-EINVAL, vsock_parse_tx(&c, GUEST_CID, &out));
}

TEST(parse_spoofed_source)
{
	struct virtio_vsock_hdr h = request(), out;
	struct vq_chain c;

	h.src_cid = VSOCK_HOST_CID;
	hdr_chain(&c, &h, 0, NULL);
	EXPECT_EQ(-EPERM, vsock_parse_tx(&c, GUEST_CID, &out));
	h.src_cid = GUEST_CID + 1;
	EXPECT_EQ(-EPERM, vsock_parse_tx(&c, GUEST_CID, &out));
}

TEST(request_gets_rst)
{
	struct virtio_vsock_hdr h = request(), reply;

	EXPECT_EQ(VSOCK_RST, vsock_route(&h, &reply));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, reply.op);
	EXPECT_EQ((uint64_t)GUEST_CID, reply.dst_cid);
	EXPECT_EQ((uint64_t)VSOCK_HOST_CID, reply.src_cid);
	EXPECT_EQ(5000U, reply.dst_port);
	EXPECT_EQ(1234U, reply.src_port);
	h.dst_cid = 4000;	/* another VM */
	EXPECT_EQ(VSOCK_RST, vsock_route(&h, &reply));
	h.op = VIRTIO_VSOCK_OP_RST;
	EXPECT_EQ(VSOCK_DROP, vsock_route(&h, &reply));
	h.op = VIRTIO_VSOCK_OP_RW;
	EXPECT_EQ(VSOCK_RST, vsock_route(&h, &reply));
}

/* Whole device: REQUEST on tx, RST on rx; spoofed packets vanish. */
TEST(device_rst_roundtrip)
{
	struct virtio_vsock_hdr h = request(), *got;
	struct fake_guest g, grx;
	struct vsock_dev v;
	uint64_t cid;
	uint16_t rx_idx = 0;

	fg_init(&g);
	ASSERT_EQ(0, vsock_dev_init(&v, &g.mem, GUEST_CID));
	memcpy(&cid, v.vd.config, 8);
	EXPECT_EQ((uint64_t)GUEST_CID, cid);
	fg_vq(&g, &v.vd.vq[0], 8, 0);		/* rx */
	fg_vq(&g, &v.vd.vq[1], 8, 0x8000);	/* tx */
	fg_vq(&g, &v.vd.vq[2], 8, 0x10000);	/* event */
	ASSERT_EQ(0, virtq_activate(&v.vd.vq[0], &g.mem, true));
	ASSERT_EQ(0, virtq_activate(&v.vd.vq[1], &g.mem, true));
	ASSERT_EQ(0, virtq_activate(&v.vd.vq[2], &g.mem, true));
	v.vd.status = 0xf;

	/* tx: a REQUEST and a spoofed REQUEST */
	memcpy(g.mem.host + FG_DATA, &h, sizeof(h));
	h.src_cid = 3;
	memcpy(g.mem.host + FG_DATA + 0x100, &h, sizeof(h));
	fg_set_desc(&g, FG_DESC + 0x8000, 0, FG_DATA, sizeof(h), 0, 0);
	fg_set_desc(&g, FG_DESC + 0x8000, 1, FG_DATA + 0x100, sizeof(h), 0, 0);
	grx = g;
	g.avail_idx = 0;
	fg_publish(&g, &v.vd.vq[1], 0);
	fg_publish(&g, &v.vd.vq[1], 1);
	virtio_dev_process(&v.vd);
	EXPECT_FALSE(v.vd.failed);
	EXPECT_EQ(1U, v.spoofed);
	EXPECT_EQ(1U, v.pend_len);	/* no rx buffer yet */

	/* rx: post one buffer, the RST lands there */
	fg_set_desc(&g, FG_DESC, 0, FG_DATA + 0x2000, 4096, VRING_DESC_F_WRITE, 0);
	grx.avail_idx = rx_idx;
	fg_publish(&grx, &v.vd.vq[0], 0);
	virtio_dev_process(&v.vd);
	EXPECT_EQ(0U, v.pend_len);
	got = (struct virtio_vsock_hdr *)(g.mem.host + FG_DATA + 0x2000);
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, got->op);
	EXPECT_EQ((uint64_t)GUEST_CID, got->dst_cid);
	EXPECT_EQ(1, fg_used(&g, &v.vd.vq[0])->idx);
	virtio_dev_exit(&v.vd);
	fg_free(&g);
}

/* The reply queue is bounded: a guest that never posts rx buffers costs nothing. */
TEST(pending_is_bounded)
{
	struct virtio_vsock_hdr h = request();
	struct fake_guest g;
	struct vsock_dev v;
	unsigned int i;

	fg_init(&g);
	ASSERT_EQ(0, vsock_dev_init(&v, &g.mem, GUEST_CID));
	fg_vq(&g, &v.vd.vq[1], 8, 0x8000);
	ASSERT_EQ(0, virtq_activate(&v.vd.vq[1], &g.mem, true));
	v.vd.status = 0xf;
	memcpy(g.mem.host + FG_DATA, &h, sizeof(h));
	fg_set_desc(&g, FG_DESC + 0x8000, 0, FG_DATA, sizeof(h), 0, 0);
	for (i = 0; i < VSOCK_PENDING_MAX * 2; i++) {
		fg_publish(&g, &v.vd.vq[1], 0);
		virtio_dev_process(&v.vd);
	}
	EXPECT_EQ((unsigned int)VSOCK_PENDING_MAX, v.pend_len);
	EXPECT_EQ((uint64_t)VSOCK_PENDING_MAX, v.dropped);
	EXPECT_FALSE(v.vd.failed);
	virtio_dev_exit(&v.vd);
	fg_free(&g);
}

TEST_HARNESS_MAIN
