// SPDX-License-Identifier: GPL-2.0
/* virtio-vsock packet parsing and the no-outgoing-connections policy (RELIABILITY.md 11). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

#include "kselftest_harness.h"

#include "fake_guest.h"
#include "limits.h"
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

/* Header and payload split across segments: walked where the chain holds them. */
static int collect(void *arg, const uint8_t *p, uint32_t n)
{
	uint8_t **out = arg;

	memcpy(*out, p, n);
	*out += n;
	return 0;
}

TEST(parse_split_chain_and_payload_walk)
{
	struct virtio_vsock_hdr h = request(), out;
	uint8_t raw[sizeof(h) + 10], got[10], *w = got;
	struct vq_chain c;

	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 10;
	memcpy(raw, &h, sizeof(h));
	memcpy(raw + sizeof(h), "0123456789", 10);
	memset(&c, 0, sizeof(c));
	/* 20 bytes of header, the rest of it plus 3 payload bytes, 7 payload bytes */
	c.seg[0] = (struct vq_seg){ raw, 20, false };
	c.seg[1] = (struct vq_seg){ raw + 20, sizeof(h) - 20 + 3, false };
	c.seg[2] = (struct vq_seg){ raw + sizeof(h) + 3, 7, false };
	c.nseg = c.nout = 3;
	ASSERT_EQ(0, vsock_parse_tx(&c, GUEST_CID, &out));
	EXPECT_EQ(10U, out.len);
	EXPECT_EQ(0, vsock_for_each_payload(&c, out.len, collect, &w));
	EXPECT_EQ(0, memcmp(got, "0123456789", 10));
	/* A device-writable segment is not payload: the header claims too much. */
	c.seg[2].write = true;
	c.nout = 2;
	c.in_bytes = 7;
	EXPECT_EQ(-EINVAL, vsock_parse_tx(&c, GUEST_CID, &out));
	/* An rx chain must be device-writable only and hold the header. */
	EXPECT_FALSE(vsock_rx_fits(&c, 0));
	c.nout = 0;
	c.in_bytes = sizeof(h);
	EXPECT_TRUE(vsock_rx_fits(&c, 0));
	EXPECT_FALSE(vsock_rx_fits(&c, 1));
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
	EXPECT_EQ(1U, v.mux.rst_len);	/* no rx buffer yet */
	EXPECT_EQ(1U, vsock_refused_count(&v));	/* the spoofed one never got that far */

	/* rx: post one buffer, the RST lands there */
	fg_set_desc(&g, FG_DESC, 0, FG_DATA + 0x2000, 4096, VRING_DESC_F_WRITE, 0);
	grx.avail_idx = rx_idx;
	fg_publish(&grx, &v.vd.vq[0], 0);
	virtio_dev_process(&v.vd);
	EXPECT_EQ(0U, v.mux.rst_len);
	got = (struct virtio_vsock_hdr *)(g.mem.host + FG_DATA + 0x2000);
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, got->op);
	EXPECT_EQ((uint64_t)GUEST_CID, got->dst_cid);
	EXPECT_EQ(1, fg_used(&g, &v.vd.vq[0])->idx);
	vsock_dev_exit(&v);
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
	EXPECT_EQ((unsigned int)VSOCK_PENDING_MAX, v.mux.rst_len);
	EXPECT_EQ((uint64_t)VSOCK_PENDING_MAX, v.dropped);
	EXPECT_FALSE(v.vd.failed);
	vsock_dev_exit(&v);
	fg_free(&g);
}

/* ---- data path: the test plays the guest driver ---------------------- */

#define RXQ_OFF		0
#define TXQ_OFF		0x8000
#define EVQ_OFF		0x10000
#define RX_BUFS		8
#define RX_BUF_BYTES	0x4000
#define RX_DATA		0x20000
#define TX_DATA		0x80000

struct vguest {
	struct fake_guest rx, tx;	/* separate avail counters per queue */
	struct vsock_dev *v;
	uint16_t rx_used_seen;
};

static void vg_post_rx(struct vguest *g, uint16_t i)
{
	fg_set_desc(&g->rx, FG_DESC + RXQ_OFF, i, RX_DATA + i * RX_BUF_BYTES, RX_BUF_BYTES,
		    VRING_DESC_F_WRITE, 0);
	fg_publish(&g->rx, &g->v->vd.vq[0], i);
}

static void vg_init(struct __test_metadata *_metadata, struct vguest *g, struct vsock_dev *v,
		    unsigned int rx_bufs)
{
	uint16_t i;

	memset(g, 0, sizeof(*g));
	fg_init(&g->rx);
	g->tx = g->rx;
	g->v = v;
	ASSERT_EQ(0, vsock_dev_init(v, &g->rx.mem, GUEST_CID));
	fg_vq(&g->rx, &v->vd.vq[0], RX_BUFS, RXQ_OFF);
	fg_vq(&g->rx, &v->vd.vq[1], 8, TXQ_OFF);
	fg_vq(&g->rx, &v->vd.vq[2], 8, EVQ_OFF);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, virtq_activate(&v->vd.vq[i], &g->rx.mem, true));
	v->vd.status = 0xf;
	for (i = 0; i < rx_bufs; i++)
		vg_post_rx(g, i);
}

static void vg_free(struct vguest *g)
{
	vsock_dev_exit(g->v);
	fg_free(&g->rx);
}

/* Guest transmits one packet. */
static void vg_send(struct vguest *g, uint16_t op, uint32_t src_port, uint32_t dst_port,
		    const void *data, uint32_t len, uint32_t flags, uint32_t buf_alloc,
		    uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port,
		.dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op,
		.flags = flags, .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
	};
	uint8_t *mem = g->rx.mem.host;

	memcpy(mem + TX_DATA, &h, sizeof(h));
	if (len)
		memcpy(mem + TX_DATA + sizeof(h), data, len);
	fg_set_desc(&g->rx, FG_DESC + TXQ_OFF, 0, TX_DATA, (uint32_t)sizeof(h) + len, 0, 0);
	fg_publish(&g->tx, &g->v->vd.vq[1], 0);
	virtio_dev_process(&g->v->vd);
}

/* Next packet the device put in an rx buffer; the buffer is re-posted. */
static int vg_recv(struct vguest *g, struct virtio_vsock_hdr *h, uint8_t *data)
{
	struct vring_used *u = fg_used(&g->rx, &g->v->vd.vq[0]);
	uint32_t id;

	if (u->idx == g->rx_used_seen)
		return -EAGAIN;
	id = u->ring[g->rx_used_seen % RX_BUFS].id;
	g->rx_used_seen++;
	memcpy(h, g->rx.mem.host + RX_DATA + id * RX_BUF_BYTES, sizeof(*h));
	if (data && h->len)
		memcpy(data, g->rx.mem.host + RX_DATA + id * RX_BUF_BYTES + sizeof(*h), h->len);
	vg_post_rx(g, (uint16_t)id);
	return 0;
}

/* Like vg_recv(), without re-posting the buffer: its id goes to @id. */
static int vg_take(struct vguest *g, struct virtio_vsock_hdr *h, uint8_t *data, uint16_t *id)
{
	struct vring_used *u = fg_used(&g->rx, &g->v->vd.vq[0]);

	if (u->idx == g->rx_used_seen)
		return -EAGAIN;
	*id = (uint16_t)u->ring[g->rx_used_seen % RX_BUFS].id;
	g->rx_used_seen++;
	memcpy(h, g->rx.mem.host + RX_DATA + *id * RX_BUF_BYTES, sizeof(*h));
	if (data && h->len)
		memcpy(data, g->rx.mem.host + RX_DATA + *id * RX_BUF_BYTES + sizeof(*h), h->len);
	return 0;
}

/* Host connects to guest port 5000; the guest accepts. Returns the host port. */
static uint32_t vg_establish(struct __test_metadata *_metadata, struct vguest *g, int fd,
			     uint32_t guest_buf)
{
	struct virtio_vsock_hdr h;

	EXPECT_EQ(0, vsock_dev_connect(g->v, fd, 5000, false));
	vsock_dev_poll(g->v);
	EXPECT_EQ(0, vg_recv(g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_REQUEST, h.op);
	EXPECT_EQ(5000U, h.dst_port);
	EXPECT_EQ((uint64_t)GUEST_CID, h.dst_cid);
	vg_send(g, VIRTIO_VSOCK_OP_RESPONSE, 5000, h.src_port, NULL, 0, 0, guest_buf, 0);
	return h.src_port;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

TEST(conn_data_both_ways_and_close)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint8_t data[64];
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 4096);

	/* host -> guest */
	ASSERT_EQ(4, write(sp[0], "ping", 4));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, data));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	ASSERT_EQ(4U, h.len);
	EXPECT_EQ(0, memcmp(data, "ping", 4));
	EXPECT_EQ(port, h.src_port);
	EXPECT_EQ((uint32_t)VSOCK_CONN_BUF, h.buf_alloc);

	/* guest -> host */
	vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, "pong!", 5, 0, 4096, 4);
	ASSERT_EQ(5, read(sp[0], data, sizeof(data)));
	EXPECT_EQ(0, memcmp(data, "pong!", 5));
	/* The consumed bytes are acknowledged with a credit update. */
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_CREDIT_UPDATE, h.op);
	EXPECT_EQ(5U, h.fwd_cnt);

	/* host closes: the guest gets SHUTDOWN, answers RST, the slot is free */
	close(sp[0]);
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, h.op);
	EXPECT_EQ(3U, h.flags);
	vg_send(&g, VIRTIO_VSOCK_OP_RST, 5000, port, NULL, 0, 0, 4096, 4);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	EXPECT_FALSE(v.vd.failed);
	vg_free(&g);
}

TEST(conn_respects_guest_credit)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint8_t data[64];
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 8);	/* the guest takes 8 bytes */
	ASSERT_EQ(20, write(sp[0], "0123456789abcdefghij", 20));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, data));
	EXPECT_EQ(8U, h.len);
	EXPECT_EQ(-EAGAIN, vg_recv(&g, &h, data));
	/* No credit: the fd is out of the epoll set, nothing spins. */
	EXPECT_EQ(0, epoll_wait(v.epfd, &(struct epoll_event){ 0 }, 1, 0));
	/* The guest consumed 8: 8 more may come. */
	vg_send(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5000, port, NULL, 0, 0, 8, 8);
	ASSERT_EQ(0, vg_recv(&g, &h, data));
	EXPECT_EQ(8U, h.len);
	EXPECT_EQ(0, memcmp(data, "89abcdef", 8));
	close(sp[0]);
	vg_free(&g);
}

TEST(conn_no_rx_buffers_no_spin)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	int sp[2];

	vg_init(_metadata, &g, &v, 1);	/* one buffer: consumed by the REQUEST */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	ASSERT_EQ(0, vsock_dev_connect(&v, sp[1], 5000, false));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));	/* re-posts the buffer */
	vg_send(&g, VIRTIO_VSOCK_OP_RESPONSE, 5000, h.src_port, NULL, 0, 0, 4096, 0);
	ASSERT_EQ(4, write(sp[0], "data", 4));
	vsock_dev_poll(&v);			/* uses the only buffer */
	ASSERT_EQ(4, write(sp[0], "more", 4));
	vsock_dev_poll(&v);
	EXPECT_EQ(0, epoll_wait(v.epfd, &(struct epoll_event){ 0 }, 1, 0));
	close(sp[0]);
	vg_free(&g);
}

TEST(conn_guest_overrun_is_reset)
{
	static struct vsock_dev v;
	static uint8_t chunk[60000];
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint32_t port, sent;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 4096);
	/* Nobody reads sp[0]: the device buffers up to its buf_alloc, then resets. */
	for (sent = 0; sent < VSOCK_CONN_BUF * 2 && v.mux.conn[0].sm.state == VCONN_ESTABLISHED;
	     sent += sizeof(chunk))
		vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, chunk, sizeof(chunk), 0, 4096, 0);
	EXPECT_LE(v.mux.conn[0].host.buf_len, (uint32_t)VSOCK_CONN_BUF);
	while (vg_recv(&g, &h, NULL) == 0 && h.op != VIRTIO_VSOCK_OP_RST)
		;
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	close(sp[0]);
	vg_free(&g);
}

/* Every connection the guest tries to open is refused with RST and counted. */
TEST(guest_connections_refused_and_counted)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint32_t cids[] = { VSOCK_HOST_CID, 4000, 1, 0xffffffff };

	vg_init(_metadata, &g, &v, RX_BUFS);
	for (unsigned int i = 0; i < 4; i++) {
		struct virtio_vsock_hdr req = request();

		req.dst_cid = cids[i];
		req.dst_port = 1000 + i;
		memcpy(g.rx.mem.host + TX_DATA, &req, sizeof(req));
		fg_set_desc(&g.rx, FG_DESC + TXQ_OFF, 0, TX_DATA, sizeof(req), 0, 0);
		fg_publish(&g.tx, &v.vd.vq[1], 0);
		virtio_dev_process(&v.vd);
		ASSERT_EQ(0, vg_recv(&g, &h, NULL));
		EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
		EXPECT_EQ(1000U + i, h.src_port);
		EXPECT_EQ(5000U, h.dst_port);
	}
	EXPECT_EQ(4U, vsock_refused_count(&v));
	/* A packet for no connection gets RST too, but is no refused connection. */
	vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, 77, "x", 1, 0, 4096, 0);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(4U, vsock_refused_count(&v));
	EXPECT_EQ(5U, v.rsts);
	vg_free(&g);
}

/*
 * A guest-written reset (vCPU thread) does no I/O: the host ends close
 * when the device thread runs next, before it touches the queues.
 */
TEST(reset_drops_connections_on_the_device_thread)
{
	static struct vsock_dev v;
	struct vguest g;
	uint8_t b;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	nonblock(sp[0]);
	vg_establish(_metadata, &g, sp[1], 4096);
	virtio_mmio_write(&v.vd, VIRTIO_MMIO_STATUS, &(uint32_t){ 0 }, 4);
	EXPECT_TRUE(v.reset_pending);
	EXPECT_EQ(-1, read(sp[0], &b, 1));	/* still open: EAGAIN, not EOF */
	EXPECT_EQ(EAGAIN, errno);
	vsock_dev_expire(&v, vsock_now_ms());	/* the device thread's tick */
	EXPECT_FALSE(v.reset_pending);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	EXPECT_EQ(0, read(sp[0], &b, 1));	/* the host end saw the close */
	close(sp[0]);
	vg_free(&g);
}

/* Next packet that is not a CREDIT_UPDATE. */
static int vg_recv_skip_credit(struct vguest *g, struct virtio_vsock_hdr *h, uint8_t *data)
{
	int ret;

	while ((ret = vg_recv(g, h, data)) == 0 && h->op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
		;
	return ret;
}

/* The bug: a host SHUT_WR closed the guest's direction too. */
TEST(conn_host_half_close_keeps_guest_direction)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint8_t data[64];
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 4096);
	ASSERT_EQ(4, write(sp[0], "last", 4));
	ASSERT_EQ(0, shutdown(sp[0], SHUT_WR));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, data));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	EXPECT_EQ(0, memcmp(data, "last", 4));
	/* EOF after the data: SHUTDOWN(SEND) only. */
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, h.op);
	EXPECT_EQ((uint32_t)VIRTIO_VSOCK_SHUTDOWN_SEND, h.flags);
	EXPECT_EQ(VCONN_ESTABLISHED, v.mux.conn[0].sm.state);
	/* The guest's answer still reaches the host. */
	vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, "echo", 4, 0, 4096, 4);
	ASSERT_EQ(4, read(sp[0], data, sizeof(data)));
	EXPECT_EQ(0, memcmp(data, "echo", 4));
	/* The guest half-closes as well: the host reads EOF, the device closes both ways. */
	vg_send(&g, VIRTIO_VSOCK_OP_SHUTDOWN, 5000, port, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_SEND,
		4096, 4);
	EXPECT_EQ(0, read(sp[0], data, sizeof(data)));
	ASSERT_EQ(0, vg_recv_skip_credit(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, h.op);
	EXPECT_EQ(3U, h.flags);
	EXPECT_EQ(VCONN_CLOSING, v.mux.conn[0].sm.state);
	vg_send(&g, VIRTIO_VSOCK_OP_RST, 5000, port, NULL, 0, 0, 4096, 4);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	EXPECT_EQ(0U, v.rsts);
	EXPECT_FALSE(v.vd.failed);
	close(sp[0]);
	vg_free(&g);
}

TEST(conn_guest_half_close_keeps_host_direction)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint8_t data[64];
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 4096);
	vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, "bye", 3, 0, 4096, 0);
	vg_send(&g, VIRTIO_VSOCK_OP_SHUTDOWN, 5000, port, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_SEND,
		4096, 0);
	ASSERT_EQ(3, read(sp[0], data, sizeof(data)));
	EXPECT_EQ(0, read(sp[0], data, sizeof(data)));		/* EOF after the bytes */
	/* The host still sends. */
	ASSERT_EQ(5, write(sp[0], "reply", 5));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv_skip_credit(&g, &h, data));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	ASSERT_EQ(5U, h.len);
	EXPECT_EQ(0, memcmp(data, "reply", 5));
	/* The host closes: SHUTDOWN(SEND) for its EOF, then both ways, RST from the guest. */
	close(sp[0]);
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv_skip_credit(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, h.op);
	if (h.flags != 3U) {
		EXPECT_EQ((uint32_t)VIRTIO_VSOCK_SHUTDOWN_SEND, h.flags);
		ASSERT_EQ(0, vg_recv_skip_credit(&g, &h, NULL));
		EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, h.op);
		EXPECT_EQ(3U, h.flags);
	}
	EXPECT_EQ(VCONN_CLOSING, v.mux.conn[0].sm.state);
	vg_send(&g, VIRTIO_VSOCK_OP_RST, 5000, port, NULL, 0, 0, 4096, 5);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	vg_free(&g);
}

/* A guest close() (SHUTDOWN both) while the host is slow: every byte still arrives, then RST. */
TEST(conn_guest_close_flushes_buffered_bytes_first)
{
	static struct vsock_dev v;
	static uint8_t chunk[16384], got[3 * 16384];
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint32_t port, i;
	size_t have = 0;
	int sp[2], small = 4096;

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	ASSERT_EQ(0, setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
	port = vg_establish(_metadata, &g, sp[1], 4096);
	for (i = 0; i < 3; i++) {
		memset(chunk, 'a' + (int)i, sizeof(chunk));
		vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, chunk, sizeof(chunk), 0, 4096, 0);
	}
	ASSERT_LT(0U, v.mux.conn[0].host.buf_len);	/* the socket did not take it all */
	vg_send(&g, VIRTIO_VSOCK_OP_SHUTDOWN, 5000, port, NULL, 0, 3, 4096, 0);
	EXPECT_EQ(VCONN_ESTABLISHED, v.mux.conn[0].sm.state);
	EXPECT_EQ(-EAGAIN, vg_recv_skip_credit(&g, &h, NULL));	/* no RST yet */
	nonblock(sp[0]);
	for (;;) {
		ssize_t n = read(sp[0], got + have, sizeof(got) - have);

		if (n == 0)
			break;
		if (n < 0) {
			ASSERT_EQ(EAGAIN, errno);
			vsock_dev_poll(&v);
			continue;
		}
		have += (size_t)n;
	}
	ASSERT_EQ(sizeof(got), have);
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + (int)i, got[i * sizeof(chunk) + sizeof(chunk) - 1]);
	ASSERT_EQ(0, vg_recv_skip_credit(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	close(sp[0]);
	vg_free(&g);
}

/* A guest that reads no more (SHUTDOWN RCV): host writes fail instead of piling up. */
TEST(conn_guest_shut_rcv_fails_host_writes)
{
	static struct vsock_dev v;
	struct vguest g;
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], 4096);
	vg_send(&g, VIRTIO_VSOCK_OP_SHUTDOWN, 5000, port, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_RCV,
		4096, 0);
	EXPECT_EQ(-1, send(sp[0], "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(VCONN_ESTABLISHED, v.mux.conn[0].sm.state);
	close(sp[0]);
	vg_free(&g);
}

/* Nobody answers our SHUTDOWN(both): the slot comes back after the shutdown timeout. */
TEST(conn_closing_times_out)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	vg_establish(_metadata, &g, sp[1], 4096);
	close(sp[0]);
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(3U, h.flags);
	ASSERT_EQ(VCONN_CLOSING, v.mux.conn[0].sm.state);
	vsock_dev_expire(&v, vsock_now_ms() + VSOCK_SHUTDOWN_TIMEOUT_MS + 1);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	vg_free(&g);
}

/* The host hangs up on a guest that stops reading: RST once the guest had its chance. */
TEST(conn_host_hangup_on_stalled_guest_resets)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	vg_establish(_metadata, &g, sp[1], 4);	/* room for 4 bytes */
	ASSERT_EQ(8, write(sp[0], "12345678", 8));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(4U, h.len);
	close(sp[0]);
	vsock_dev_poll(&v);
	EXPECT_EQ(-EAGAIN, vg_recv(&g, &h, NULL));	/* 4 bytes wait for credit */
	EXPECT_EQ(VCONN_ESTABLISHED, v.mux.conn[0].sm.state);
	vsock_dev_expire(&v, vsock_now_ms() + VSOCK_SHUTDOWN_TIMEOUT_MS + 1);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	vg_free(&g);
}

TEST(connect_times_out)
{
	static struct vsock_dev v;
	struct virtio_vsock_hdr h;
	struct vguest g;
	char b;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	ASSERT_EQ(0, vsock_dev_connect(&v, sp[1], 5000, false));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));	/* REQUEST, never answered */
	vsock_dev_expire(&v, vsock_now_ms());
	EXPECT_EQ(VCONN_CONNECTING, v.mux.conn[0].sm.state);
	vsock_dev_expire(&v, vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS + 1);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(VCONN_FREE, v.mux.conn[0].sm.state);
	EXPECT_EQ(0, read(sp[0], &b, 1));	/* host side sees the refusal */
	close(sp[0]);
	vg_free(&g);
}

TEST(dev_socket_handshake)
{
	static struct vsock_dev v;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct virtio_vsock_hdr h;
	struct vguest g;
	char line[64];
	ssize_t n;
	int c;

	vg_init(_metadata, &g, &v, RX_BUFS);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vsock-test-%d.sock", getpid());
	ASSERT_EQ(0, vsock_dev_listen(&v, sa.sun_path));
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(13, write(c, "CONNECT 5000\n", 13));
	vsock_dev_poll(&v);	/* accept */
	vsock_dev_poll(&v);	/* handshake, REQUEST */
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_REQUEST, h.op);
	EXPECT_EQ(5000U, h.dst_port);
	vg_send(&g, VIRTIO_VSOCK_OP_RESPONSE, 5000, h.src_port, NULL, 0, 0, 4096, 0);
	n = read(c, line, sizeof(line) - 1);
	ASSERT_LT(0, n);
	line[n] = 0;
	EXPECT_STREQ("OK 1073741824\n", line);
	/* A guest that refuses: RST closes the client. */
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(13, write(c, "CONNECT 6000\n", 13));
	vsock_dev_poll(&v);
	vsock_dev_poll(&v);
	while (vg_recv(&g, &h, NULL) == 0 && h.op != VIRTIO_VSOCK_OP_REQUEST)
		;
	vg_send(&g, VIRTIO_VSOCK_OP_RST, 6000, h.src_port, NULL, 0, 0, 0, 0);
	EXPECT_EQ(0, read(c, line, sizeof(line)));
	close(c);
	unlink(sa.sun_path);
	vg_free(&g);
}

/* ---- connections brokered by the module (AVF_VMM_CONN_TAKE / _DONE) ---- */

struct done_log {
	unsigned int n;
	uint64_t id[8];
	int32_t result[8];
	int answer;		/* what AVF_VMM_CONN_DONE "returns" */
};

static int record_done(void *opaque, uint64_t id, int32_t result)
{
	struct done_log *d = opaque;

	if (d->n < 8) {
		d->id[d->n] = id;
		d->result[d->n] = result;
	}
	d->n++;
	return d->answer;
}

static uint32_t brokered_request(struct __test_metadata *_metadata, struct vguest *g, int fd,
				 uint64_t id, struct done_log *d)
{
	struct virtio_vsock_hdr h;

	g->v->conn_done = record_done;
	g->v->conn_done_opaque = d;
	vsock_dev_connect_brokered(g->v, fd, 5000, id);
	vsock_dev_poll(g->v);
	EXPECT_EQ(0, vg_recv(g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_REQUEST, h.op);
	EXPECT_EQ(5000U, h.dst_port);
	EXPECT_EQ(0U, d->n);	/* no outcome before the guest answers */
	return h.src_port;
}

TEST(brokered_accept_reports_done_0_and_relays)
{
	static struct vsock_dev v;
	struct done_log d = { 0 };
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint8_t data[16];
	uint32_t port;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = brokered_request(_metadata, &g, sp[1], 77, &d);
	vg_send(&g, VIRTIO_VSOCK_OP_RESPONSE, 5000, port, NULL, 0, 0, 4096, 0);
	ASSERT_EQ(1U, d.n);
	EXPECT_EQ(77U, d.id[0]);
	EXPECT_EQ(0, d.result[0]);
	/* No text handshake: bytes flow at once. */
	ASSERT_EQ(2, write(sp[0], "hi", 2));
	vsock_dev_poll(&v);
	ASSERT_EQ(0, vg_recv(&g, &h, data));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	EXPECT_EQ(0, memcmp(data, "hi", 2));
	/* Reported once: closing later says nothing more. */
	close(sp[0]);
	vsock_dev_poll(&v);
	EXPECT_EQ(1U, d.n);
	vg_free(&g);
}

TEST(brokered_rst_is_refused)
{
	static struct vsock_dev v;
	struct done_log d = { 0 };
	struct vguest g;
	uint32_t port;
	char b;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = brokered_request(_metadata, &g, sp[1], 5, &d);
	vg_send(&g, VIRTIO_VSOCK_OP_RST, 5000, port, NULL, 0, 0, 4096, 0);
	ASSERT_EQ(1U, d.n);
	EXPECT_EQ(5U, d.id[0]);
	EXPECT_EQ(-ECONNREFUSED, d.result[0]);
	EXPECT_EQ(0, read(sp[0], &b, 1));	/* host end closed */
	close(sp[0]);
	vg_free(&g);
}

TEST(brokered_requester_gone_resets_guest)
{
	static struct vsock_dev v;
	struct done_log d = { .answer = -ENOENT };
	struct virtio_vsock_hdr h;
	struct vguest g;
	uint32_t port;
	char b;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	port = brokered_request(_metadata, &g, sp[1], 9, &d);
	vg_send(&g, VIRTIO_VSOCK_OP_RESPONSE, 5000, port, NULL, 0, 0, 4096, 0);
	ASSERT_EQ(1U, d.n);
	EXPECT_EQ(0, d.result[0]);
	/* DONE said -ENOENT: the guest connection is reset, the fd closed. */
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);
	EXPECT_EQ(port, h.src_port);
	EXPECT_EQ(0, read(sp[0], &b, 1));
	EXPECT_EQ(1U, d.n);
	close(sp[0]);
	vg_free(&g);
}

TEST(brokered_timeout_and_bad_port)
{
	static struct vsock_dev v;
	struct done_log d = { 0 };
	struct virtio_vsock_hdr h;
	struct vguest g;
	int sp[2], sp2[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[1]);
	brokered_request(_metadata, &g, sp[1], 3, &d);
	/* The guest's own timeout is short; the brokered one waits for the requester's. */
	vsock_dev_expire(&v, vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS + 1000);
	EXPECT_EQ(0U, d.n);
	vsock_dev_expire(&v, vsock_now_ms() + VSOCK_BROKERED_TIMEOUT_MS + 1000);
	ASSERT_EQ(1U, d.n);
	EXPECT_EQ(-ETIMEDOUT, d.result[0]);
	ASSERT_EQ(0, vg_recv(&g, &h, NULL));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, h.op);

	/* A port below AVF_VSOCK_PORT_MIN never reaches the guest. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2));
	vsock_dev_connect_brokered(&v, sp2[1], 80, 4);
	ASSERT_EQ(2U, d.n);
	EXPECT_EQ(4U, d.id[1]);
	EXPECT_EQ(-ECONNREFUSED, d.result[1]);
	EXPECT_EQ(-EAGAIN, vg_recv(&g, &h, NULL));
	close(sp[0]);
	close(sp2[0]);
	vg_free(&g);
}


/*
 * Full duplex through the whole device with a guest that behaves as
 * Linux's driver does (credit both ways, CREDIT_UPDATE only when its
 * window runs low or its queue ran empty), where the device runs only
 * when something real would wake it: a guest kick (a packet sent, receive
 * buffers posted), its epoll fd readable, or its own self-kick. No timer
 * ticks: a device that needs one to make progress, or that loses a
 * wake-up between the guest, itself and the host socket, stalls here and
 * the test fails at the first step in which nothing moved.
 */
static bool self_kicked;

static void test_kick(struct virtio_dev *vd)
{
	(void)vd;
	self_kicked = true;
}

#define DUPLEX_TOTAL	(4U << 20)
#define G_BUF_ALLOC	(256 * 1024)
#define G_LOW_WATER	(64 * 1024)	/* VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

TEST(full_duplex_no_lost_wakeups)
{
	static struct vsock_dev v;
	static uint8_t q[G_BUF_ALLOC], data[RX_BUF_BYTES], buf[8192];
	uint64_t host_sent = 0, host_got = 0, g_in = 0, g_out = 0;
	uint32_t q_len = 0, g_fwd = 0, g_fwd_told = 0, g_tx = 0, peer_fwd = 0;
	uint32_t peer_alloc = 0, port, steps = 0;
	uint16_t taken[RX_BUFS], ntaken = 0;
	struct virtio_vsock_hdr h;
	struct epoll_event ev;
	struct vguest g;
	int sp[2];

	vg_init(_metadata, &g, &v, RX_BUFS);
	v.vd.kick = test_kick;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	nonblock(sp[0]);
	nonblock(sp[1]);
	port = vg_establish(_metadata, &g, sp[1], G_BUF_ALLOC);
	while (host_got < DUPLEX_TOTAL) {
		bool moved = false;
		ssize_t n;

		ASSERT_LT(steps++, 10000000U);
		/* Host: write the pattern while the socket takes it, read the echo. */
		while (host_sent < DUPLEX_TOTAL) {
			uint32_t k = DUPLEX_TOTAL - host_sent < sizeof(buf) ?
				     (uint32_t)(DUPLEX_TOTAL - host_sent) : sizeof(buf);

			for (uint32_t i = 0; i < k; i++)
				buf[i] = pat(host_sent + i);
			n = write(sp[0], buf, k);
			if (n <= 0)
				break;
			host_sent += (uint64_t)n;
			moved = true;
		}
		while ((n = read(sp[0], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				ASSERT_EQ(pat(host_got + (uint64_t)i), buf[i]);
			host_got += (uint64_t)n;
			moved = true;
		}
		/* Device: only what would wake it. */
		if (epoll_wait(v.epfd, &ev, 1, 0) > 0) {
			vsock_dev_poll(&v);
		}
		if (self_kicked) {
			self_kicked = false;
			virtio_dev_process(&v.vd);
		}
		/*
		 * Guest rx: take every used buffer, never beyond its window;
		 * refill (and kick) only once fewer than half are posted, as
		 * virtio_transport_rx_work() does.
		 */
		while (vg_take(&g, &h, data, &taken[ntaken]) == 0) {
			ntaken++;
			moved = true;
			peer_alloc = h.buf_alloc;
			peer_fwd = h.fwd_cnt;
			ASSERT_EQ(port, h.src_port);
			if (h.op != VIRTIO_VSOCK_OP_RW)
				continue;
			ASSERT_LE(q_len + h.len, (uint32_t)G_BUF_ALLOC) TH_LOG("device overran credit");
			for (uint32_t i = 0; i < h.len; i++)
				q[(g_in + q_len + i) % G_BUF_ALLOC] = data[i];
			q_len += h.len;
		}
		if (ntaken > RX_BUFS / 2) {
			for (uint16_t i = 0; i < ntaken; i++)
				vg_post_rx(&g, taken[i]);
			ntaken = 0;
			virtio_dev_process(&v.vd);	/* the refill's kick */
		}
		/* Guest app (echo): send what it read as far as our credit goes. */
		while (q_len) {
			uint32_t credit = peer_alloc - (g_tx - peer_fwd), k = q_len;
			uint8_t out[4096];

			if (g_tx - peer_fwd >= peer_alloc)
				break;
			if (k > credit)
				k = credit;
			if (k > sizeof(out))
				k = sizeof(out);
			if (k > G_BUF_ALLOC - (uint32_t)(g_in % G_BUF_ALLOC))
				k = G_BUF_ALLOC - (uint32_t)(g_in % G_BUF_ALLOC);
			memcpy(out, q + g_in % G_BUF_ALLOC, k);
			g_in += k;
			q_len -= k;
			g_fwd += k;
			g_tx += k;
			g_out += k;
			vg_send(&g, VIRTIO_VSOCK_OP_RW, 5000, port, out, k, 0, G_BUF_ALLOC, g_fwd);
			g_fwd_told = g_fwd;
			moved = true;
		}
		/* Linux's rule: update credit when the window runs low or the queue ran empty. */
		if (g_fwd != g_fwd_told &&
		    (G_BUF_ALLOC - (g_fwd - g_fwd_told) < G_LOW_WATER || !q_len)) {
			vg_send(&g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5000, port, NULL, 0, 0,
				G_BUF_ALLOC, g_fwd);
			g_fwd_told = g_fwd;
			moved = true;
		}
		ASSERT_TRUE(moved) TH_LOG("stall: host sent %llu got %llu, guest queue %u, "
					  "guest tx %u peer fwd %u alloc %u; device tx_cnt %u "
					  "peer_fwd %u fwd_cnt %u buf %u tx 0x%x",
					  (unsigned long long)host_sent,
					  (unsigned long long)host_got, q_len, g_tx, peer_fwd,
					  peer_alloc, v.mux.conn[0].sm.tx_cnt,
					  v.mux.conn[0].sm.peer_fwd_cnt, v.mux.conn[0].sm.fwd_cnt,
					  v.mux.conn[0].host.buf_len, v.mux.conn[0].sm.tx);
	}
	EXPECT_EQ((uint64_t)DUPLEX_TOTAL, g_out);
	EXPECT_FALSE(v.vd.failed);
	close(sp[0]);
	vg_free(&g);
}

TEST_HARNESS_MAIN
