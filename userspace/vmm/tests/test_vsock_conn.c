// SPDX-License-Identifier: GPL-2.0
/*
 * The vsock per-connection state machine (vsock_conn.c) on its own: no
 * virtqueue, no fd, no clock. Each test plays the guest's packets and the
 * host end's progress and checks what the machine asks for.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "limits.h"
#include "vsock_conn.h"

#define GUEST_BUF	(256 * 1024)
#define SHUT_TIMEOUT	10000

static struct virtio_vsock_hdr pkt(uint16_t op, uint32_t len, uint32_t flags, uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h = {
		.src_cid = 2048, .dst_cid = VSOCK_HOST_CID, .src_port = 5000,
		.dst_port = VSOCK_LOCAL_PORT_FIRST, .len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = GUEST_BUF, .fwd_cnt = fwd_cnt,
	};
	return h;
}

/* Send the next control packet; returns its op (0: none). */
static uint16_t ctrl(struct vconn *c, uint32_t *flags, unsigned int *act)
{
	uint16_t op = vconn_next_ctrl(c, flags);

	*act = op ? vconn_ctrl_sent(c, op, *flags, 1000, SHUT_TIMEOUT) : 0;
	return op;
}

static void established(struct __test_metadata *_metadata, struct vconn *c)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0);
	unsigned int act;
	uint32_t f;

	vconn_connect(c, VSOCK_LOCAL_PORT_FIRST, 5000, 5000);
	ASSERT_EQ(VIRTIO_VSOCK_OP_REQUEST, ctrl(c, &f, &act));
	ASSERT_EQ(0U, act);
	ASSERT_EQ(0, ctrl(c, &f, &act));	/* nothing more before RESPONSE */
	ASSERT_EQ(0U, vconn_send_room(c));
	ASSERT_EQ(VCONN_DO_ACCEPTED, vconn_on_guest(c, &h));
	ASSERT_EQ(VCONN_ESTABLISHED, c->state);
}

TEST(connect_accept_and_header)
{
	struct virtio_vsock_hdr h;
	struct vconn c;

	established(_metadata, &c);
	EXPECT_EQ((uint32_t)GUEST_BUF, vconn_send_room(&c));
	vconn_hdr(&c, 2048, VIRTIO_VSOCK_OP_RW, &h);
	EXPECT_EQ((uint64_t)VSOCK_HOST_CID, h.src_cid);
	EXPECT_EQ(2048U, h.dst_cid);
	EXPECT_EQ(5000U, h.dst_port);
	EXPECT_EQ(VSOCK_LOCAL_PORT_FIRST, h.src_port);
	EXPECT_EQ((uint32_t)VSOCK_CONN_BUF, h.buf_alloc);
}

TEST(rst_while_connecting_frees)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RST, 0, 0, 0);
	struct vconn c;

	vconn_connect(&c, VSOCK_LOCAL_PORT_FIRST, 5000, 5000);
	EXPECT_EQ(VCONN_DO_FREE, vconn_on_guest(&c, &h));
}

TEST(response_before_request_sent_resets)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0);
	unsigned int act;
	struct vconn c;
	uint32_t f;

	vconn_connect(&c, VSOCK_LOCAL_PORT_FIRST, 5000, 5000);
	EXPECT_EQ(VCONN_DO_RESET, vconn_on_guest(&c, &h));
	EXPECT_TRUE(c.host_gone);
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, ctrl(&c, &f, &act));
	EXPECT_EQ(VCONN_DO_FREE, act);
}

/* Host -> guest: never more than the guest's window; its fwd_cnt reopens it. */
TEST(send_respects_peer_credit)
{
	struct virtio_vsock_hdr h;
	struct vconn c;

	established(_metadata, &c);
	vconn_data_sent(&c, GUEST_BUF - 100);
	EXPECT_EQ(100U, vconn_send_room(&c));
	vconn_data_sent(&c, 100);
	EXPECT_EQ(0U, vconn_send_room(&c));
	EXPECT_FALSE(vconn_wants_host_data(&c));	/* no EPOLLIN: no spinning */
	/* The guest read 4096 bytes and says so (any packet carries it). */
	h = pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 4096);
	EXPECT_EQ(0U, vconn_on_guest(&c, &h));
	EXPECT_EQ(4096U, vconn_send_room(&c));
	EXPECT_TRUE(vconn_wants_host_data(&c));
	/* A smaller window than what is in flight is no credit, not a wrap. */
	h = pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0);
	h.buf_alloc = 1024;
	vconn_on_guest(&c, &h);
	EXPECT_EQ(0U, vconn_credit(&c));
}

TEST(counters_wrap)
{
	struct virtio_vsock_hdr h;
	struct vconn c;

	established(_metadata, &c);
	c.tx_cnt = UINT32_MAX - 10;
	h = pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, UINT32_MAX - 10);
	vconn_on_guest(&c, &h);
	vconn_data_sent(&c, 100);	/* tx_cnt wrapped */
	EXPECT_EQ((uint32_t)GUEST_BUF - 100, vconn_credit(&c));
}

/* Guest -> host: credit updates when the window opens, not per byte. */
TEST(credit_update_when_window_opens)
{
	struct virtio_vsock_hdr h;
	unsigned int act;
	struct vconn c;
	uint32_t f;

	established(_metadata, &c);
	h = pkt(VIRTIO_VSOCK_OP_RW, 4096, 0, 0);
	EXPECT_EQ(VCONN_DO_DELIVER, vconn_on_guest(&c, &h));
	/* The fd took 1000, 3096 wait: below the threshold, no update yet. */
	EXPECT_EQ(0U, vconn_host_progress(&c, 1000, 3096));
	EXPECT_EQ(0, vconn_next_ctrl(&c, &f));
	/* It took the rest: the buffer is empty, the guest may wait for that. */
	vconn_host_progress(&c, 3096, 0);
	EXPECT_EQ(VIRTIO_VSOCK_OP_CREDIT_UPDATE, ctrl(&c, &f, &act));
	EXPECT_EQ(4096U, c.fwd_cnt_sent);
	EXPECT_EQ(0, ctrl(&c, &f, &act));
	/* A full threshold consumed while bytes still wait: update too. */
	for (uint32_t i = 0; i < VSOCK_CREDIT_THRESHOLD / 4096 + 1; i++) {
		h = pkt(VIRTIO_VSOCK_OP_RW, 4096, 0, 0);
		ASSERT_EQ(VCONN_DO_DELIVER, vconn_on_guest(&c, &h));
	}
	vconn_host_progress(&c, VSOCK_CREDIT_THRESHOLD, 4096);
	EXPECT_EQ(VIRTIO_VSOCK_OP_CREDIT_UPDATE, vconn_next_ctrl(&c, &f));
	/* Data to the guest carries fwd_cnt as well. */
	vconn_data_sent(&c, 10);
	EXPECT_EQ(c.fwd_cnt, c.fwd_cnt_sent);
}

TEST(credit_request_is_answered)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0, 0);
	unsigned int act;
	struct vconn c;
	uint32_t f;

	established(_metadata, &c);
	EXPECT_EQ(0U, vconn_on_guest(&c, &h));
	EXPECT_EQ(VIRTIO_VSOCK_OP_CREDIT_UPDATE, ctrl(&c, &f, &act));
	/* Control before data. */
	EXPECT_NE(0U, vconn_send_room(&c));
}

TEST(guest_overrun_resets)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RW, 65536, 0, 0);
	struct vconn c;
	unsigned int i;

	established(_metadata, &c);
	for (i = 0; i < VSOCK_CONN_BUF / 65536; i++) {
		ASSERT_EQ(VCONN_DO_DELIVER, vconn_on_guest(&c, &h));
		vconn_host_progress(&c, 0, (i + 1) * 65536);	/* the fd takes nothing */
	}
	h.len = 1;
	EXPECT_EQ(VCONN_DO_RESET, vconn_on_guest(&c, &h));
	EXPECT_EQ(VCONN_TX_RST, c.tx);
}

/* Host EOF: SHUTDOWN(SEND) only; the guest's bytes keep flowing. */
TEST(host_half_close)
{
	struct virtio_vsock_hdr h;
	unsigned int act;
	struct vconn c;
	uint32_t f;

	established(_metadata, &c);
	vconn_host_eof(&c);
	EXPECT_EQ(0U, vconn_send_room(&c));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, ctrl(&c, &f, &act));
	EXPECT_EQ((uint32_t)VIRTIO_VSOCK_SHUTDOWN_SEND, f);
	EXPECT_EQ(VCONN_ESTABLISHED, c.state);
	h = pkt(VIRTIO_VSOCK_OP_RW, 100, 0, 0);
	EXPECT_EQ(VCONN_DO_DELIVER, vconn_on_guest(&c, &h));
	vconn_host_progress(&c, 100, 0);
	EXPECT_EQ(VIRTIO_VSOCK_OP_CREDIT_UPDATE, ctrl(&c, &f, &act));
	/* The guest finishes too: both ways done, SHUTDOWN(both), CLOSING. */
	h = pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 0, VIRTIO_VSOCK_SHUTDOWN_SEND, 0);
	EXPECT_EQ(VCONN_DO_HOST_SHUT_WR, vconn_on_guest(&c, &h));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, ctrl(&c, &f, &act));
	EXPECT_EQ((uint32_t)VCONN_SHUTDOWN_BOTH, f);
	EXPECT_EQ(VCONN_CLOSING, c.state);
	/* The guest's RST ends it. */
	h = pkt(VIRTIO_VSOCK_OP_RST, 0, 0, 0);
	EXPECT_EQ(VCONN_DO_FREE, vconn_on_guest(&c, &h));
}

/* Guest SHUTDOWN(SEND): the host fd gets it only after every byte before it. */
TEST(guest_half_close_after_buffered_bytes)
{
	struct virtio_vsock_hdr h;
	struct vconn c;
	uint32_t f;

	established(_metadata, &c);
	h = pkt(VIRTIO_VSOCK_OP_RW, 1000, 0, 0);
	vconn_on_guest(&c, &h);
	vconn_host_progress(&c, 0, 1000);
	h = pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 0, VIRTIO_VSOCK_SHUTDOWN_SEND, 0);
	EXPECT_EQ(0U, vconn_on_guest(&c, &h));	/* 1000 bytes still wait */
	/* Data after SHUTDOWN(SEND) is ignored. */
	h = pkt(VIRTIO_VSOCK_OP_RW, 10, 0, 0);
	EXPECT_EQ(0U, vconn_on_guest(&c, &h));
	EXPECT_EQ(VCONN_DO_HOST_SHUT_WR, vconn_host_progress(&c, 1000, 0));
	EXPECT_EQ(0U, vconn_host_progress(&c, 0, 0));	/* once */
	/* The host direction stays open. */
	EXPECT_EQ(VCONN_ESTABLISHED, c.state);
	EXPECT_NE(0U, vconn_send_room(&c) + (vconn_next_ctrl(&c, &f) ? 1 : 0));
	EXPECT_TRUE(vconn_wants_host_data(&c));
}

/* A guest close() (SHUTDOWN both) wants our RST once its bytes are out. */
TEST(guest_close_gets_rst)
{
	struct virtio_vsock_hdr h;
	unsigned int act;
	struct vconn c;
	uint32_t f;

	established(_metadata, &c);
	h = pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 0, VCONN_SHUTDOWN_BOTH, 0);
	EXPECT_EQ(VCONN_DO_HOST_SHUT_RD | VCONN_DO_HOST_SHUT_WR, vconn_on_guest(&c, &h));
	EXPECT_FALSE(vconn_wants_host_data(&c));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RST, ctrl(&c, &f, &act));
	EXPECT_EQ(VCONN_DO_FREE, act);
}

TEST(host_hangup)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_RW, 10, 0, 0);
	struct vconn c;
	uint32_t f;

	/* Nothing waits for the fd: read what it left, then EOF; reset if never drained. */
	established(_metadata, &c);
	EXPECT_EQ(0U, vconn_host_hup(&c, 1000, SHUT_TIMEOUT));
	EXPECT_EQ(VCONN_EXP_NONE, vconn_expire(&c, 1000 + SHUT_TIMEOUT - 1));
	EXPECT_EQ(VCONN_EXP_RESET, vconn_expire(&c, 1000 + SHUT_TIMEOUT));
	/* ... and EOF then: SHUTDOWN(both), the host end cannot read any more. */
	vconn_host_eof(&c);
	EXPECT_EQ(VCONN_EXP_NONE, vconn_expire(&c, 1000 + SHUT_TIMEOUT));
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, vconn_next_ctrl(&c, &f));
	EXPECT_EQ((uint32_t)VCONN_SHUTDOWN_BOTH, f);
	/* Guest bytes the fd will never take: reset at once. */
	established(_metadata, &c);
	vconn_on_guest(&c, &h);
	vconn_host_progress(&c, 0, 10);
	EXPECT_EQ(VCONN_DO_RESET, vconn_host_hup(&c, 1000, SHUT_TIMEOUT));
}

TEST(timers)
{
	struct virtio_vsock_hdr h = pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 0, 3, 0);
	unsigned int act;
	struct vconn c;
	uint32_t f;

	vconn_connect(&c, VSOCK_LOCAL_PORT_FIRST, 5000, 5000);
	EXPECT_EQ(VCONN_EXP_NONE, vconn_expire(&c, 4999));
	EXPECT_EQ(VCONN_EXP_TIMEOUT_FREE, vconn_expire(&c, 5000));	/* REQUEST never sent */
	ctrl(&c, &f, &act);
	EXPECT_EQ(VCONN_EXP_TIMEOUT, vconn_expire(&c, 5000));
	/* CLOSING waits SHUT_TIMEOUT for the guest's RST. */
	established(_metadata, &c);
	vconn_host_eof(&c);
	c.guest_shut_send = true;
	c.tx |= VCONN_TX_CLOSE;
	EXPECT_EQ(VIRTIO_VSOCK_OP_SHUTDOWN, ctrl(&c, &f, &act));
	EXPECT_EQ(VCONN_CLOSING, c.state);
	EXPECT_EQ(VCONN_EXP_NONE, vconn_expire(&c, 1000 + SHUT_TIMEOUT - 1));
	EXPECT_EQ(VCONN_EXP_RESET, vconn_expire(&c, 1000 + SHUT_TIMEOUT));
	/* A SHUTDOWN from the guest while closing: it wants our RST now. */
	EXPECT_EQ(VCONN_DO_RESET, vconn_on_guest(&c, &h));
	EXPECT_EQ(VCONN_EXP_NONE, vconn_expire(&c, 1000 + SHUT_TIMEOUT));
}

TEST(unknown_op_resets)
{
	struct virtio_vsock_hdr h = pkt(99, 0, 0, 0);
	struct vconn c;

	established(_metadata, &c);
	EXPECT_EQ(VCONN_DO_RESET, vconn_on_guest(&c, &h));
	h = pkt(VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	established(_metadata, &c);
	EXPECT_EQ(VCONN_DO_RESET, vconn_on_guest(&c, &h));
}

TEST_HARNESS_MAIN
