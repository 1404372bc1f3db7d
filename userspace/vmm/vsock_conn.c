// SPDX-License-Identifier: GPL-2.0
/* The per-connection vsock state machine (vsock_conn.h): pure, no I/O. */
#include <string.h>

#include "limits.h"
#include "vsock_conn.h"

void vconn_connect(struct vconn *c, uint32_t local_port, uint32_t peer_port,
		   uint64_t deadline_ms)
{
	memset(c, 0, sizeof(*c));
	c->state = VCONN_CONNECTING;
	c->local_port = local_port;
	c->peer_port = peer_port;
	c->tx = VCONN_TX_REQUEST;
	c->deadline_ms = deadline_ms;
}

uint32_t vconn_credit(const struct vconn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

unsigned int vconn_reset(struct vconn *c)
{
	c->host_gone = true;
	c->host_hup = true;
	c->host_eof = true;
	c->host_pending = 0;
	c->tx = VCONN_TX_RST;
	return VCONN_DO_RESET;
}

/*
 * Both directions are done once every guest byte reached the host fd
 * (after the guest's SHUTDOWN(SEND)) and the host's EOF reached the guest
 * (or the guest reads no more). A guest that shut down both ways waits for
 * our RST (as Linux's close() does); otherwise we send SHUTDOWN(both) and
 * the guest answers RST. Never before: a half-close keeps the other way open.
 */
static void check_done(struct vconn *c)
{
	bool guest_done = c->guest_shut_send && !c->host_pending;
	bool host_done = (c->host_eof && c->shut_sent) || c->guest_shut_rcv;

	if (c->state != VCONN_ESTABLISHED || !guest_done || !host_done ||
	    (c->tx & (VCONN_TX_RST | VCONN_TX_CLOSE)))
		return;
	c->tx |= c->guest_shut_rcv ? VCONN_TX_RST : VCONN_TX_CLOSE;
}

unsigned int vconn_host_progress(struct vconn *c, uint32_t taken, uint32_t pending)
{
	unsigned int act = 0;

	c->fwd_cnt += taken;
	c->host_pending = pending;
	/* The window opened: tell the guest, it may be blocked on it. */
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_CREDIT_THRESHOLD ||
	    (!pending && c->fwd_cnt != c->fwd_cnt_sent))
		c->tx |= VCONN_TX_CREDIT;
	if (c->guest_shut_send && !pending && !c->host_gone && !c->host_wr_shut) {
		c->host_wr_shut = true;	/* the host reads EOF after every byte */
		act |= VCONN_DO_HOST_SHUT_WR;
	}
	check_done(c);
	return act;
}

unsigned int vconn_on_guest(struct vconn *c, const struct virtio_vsock_hdr *h)
{
	unsigned int act = 0;

	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;

	if (h->op == VIRTIO_VSOCK_OP_RST)
		return VCONN_DO_FREE;
	switch (c->state) {
	case VCONN_CONNECTING:
		if (h->op != VIRTIO_VSOCK_OP_RESPONSE || (c->tx & VCONN_TX_REQUEST))
			return vconn_reset(c);
		c->state = VCONN_ESTABLISHED;
		return VCONN_DO_ACCEPTED;
	case VCONN_ESTABLISHED:
		break;
	case VCONN_CLOSING:
		/* Both ways are done: a guest closing now wants our RST. */
		if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN)
			return vconn_reset(c);
		return 0;
	default:
		return 0;
	}

	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		if (!h->len || c->guest_shut_send)
			return 0;
		/* More than our credit: the guest ignored VSOCK_CONN_BUF. */
		if (h->len > VSOCK_CONN_BUF - c->host_pending)
			return vconn_reset(c);
		c->rx_cnt += h->len;
		return VCONN_DO_DELIVER;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return 0;	/* the credit fields above are the update */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->tx |= VCONN_TX_CREDIT;
		return 0;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		/*
		 * Flags accumulate. SEND: the guest's bytes so far are all
		 * there will be; they still reach the host fd, then the host
		 * reads EOF. RCV: the guest reads no more; the host's writes
		 * fail (EPIPE) instead of filling a buffer nobody drains.
		 */
		if ((h->flags & VIRTIO_VSOCK_SHUTDOWN_RCV) && !c->guest_shut_rcv) {
			c->guest_shut_rcv = true;
			if (!c->host_gone)
				act |= VCONN_DO_HOST_SHUT_RD;
		}
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_shut_send = true;
		return act | vconn_host_progress(c, 0, c->host_pending);
	default:
		return vconn_reset(c);
	}
}

void vconn_host_eof(struct vconn *c)
{
	c->host_eof = true;
	c->tx |= VCONN_TX_SHUTDOWN;
}

unsigned int vconn_host_hup(struct vconn *c, uint64_t now_ms, uint64_t timeout_ms)
{
	/* Guest bytes the host end can no longer take: nothing to wait for. */
	if (c->state != VCONN_ESTABLISHED || c->host_pending)
		return vconn_reset(c);
	c->host_hup = true;
	/* What it left unread goes to a guest that reads, or it is reset. */
	c->deadline_ms = now_ms + timeout_ms;
	return 0;
}

bool vconn_wants_host_data(const struct vconn *c)
{
	return c->state == VCONN_ESTABLISHED && !c->host_eof && !c->guest_shut_rcv &&
	       !c->host_gone && vconn_credit(c);
}

uint16_t vconn_next_ctrl(const struct vconn *c, uint32_t *flags)
{
	*flags = 0;
	if (c->tx & VCONN_TX_RST)
		return VIRTIO_VSOCK_OP_RST;
	if (c->tx & VCONN_TX_REQUEST)
		return VIRTIO_VSOCK_OP_REQUEST;
	if (c->state != VCONN_ESTABLISHED)
		return 0;
	if (c->tx & (VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE)) {
		/*
		 * EOF from a host end that can still read is a half-close:
		 * SHUTDOWN(SEND) only, the guest's data keeps flowing. A host
		 * end that hung up altogether (or both ways done): both.
		 */
		bool both = (c->tx & VCONN_TX_CLOSE) || (c->host_hup && !c->host_wr_shut);

		*flags = both ? VCONN_SHUTDOWN_BOTH : VIRTIO_VSOCK_SHUTDOWN_SEND;
		return VIRTIO_VSOCK_OP_SHUTDOWN;
	}
	if (c->tx & VCONN_TX_CREDIT)
		return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	return 0;
}

unsigned int vconn_ctrl_sent(struct vconn *c, uint16_t op, uint32_t flags, uint64_t now_ms,
			     uint64_t shutdown_timeout_ms)
{
	switch (op) {
	case VIRTIO_VSOCK_OP_RST:
		return VCONN_DO_FREE;
	case VIRTIO_VSOCK_OP_REQUEST:
		c->tx &= ~VCONN_TX_REQUEST;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->tx &= ~(VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE);
		c->shut_sent = true;
		if (flags == VCONN_SHUTDOWN_BOTH) {
			c->state = VCONN_CLOSING;
			c->deadline_ms = now_ms + shutdown_timeout_ms;
		} else {
			check_done(c);
		}
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		c->tx &= ~VCONN_TX_CREDIT;
		c->fwd_cnt_sent = c->fwd_cnt;
		break;
	default:
		break;
	}
	return 0;
}

uint32_t vconn_send_room(const struct vconn *c)
{
	uint32_t f;

	if (vconn_next_ctrl(c, &f) || !vconn_wants_host_data(c))
		return 0;
	return vconn_credit(c);
}

void vconn_data_sent(struct vconn *c, uint32_t n)
{
	c->tx_cnt += n;
	c->fwd_cnt_sent = c->fwd_cnt;
}

enum vconn_expiry vconn_expire(const struct vconn *c, uint64_t now_ms)
{
	/*
	 * A host end that hung up while the guest had no room for what it
	 * left unread: once the guest had its chance, RST (as a Linux
	 * close() does after its timeout).
	 */
	if (c->state == VCONN_ESTABLISHED && c->host_hup && !c->host_gone &&
	    !(c->tx & (VCONN_TX_RST | VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE)) && !c->shut_sent &&
	    now_ms >= c->deadline_ms)
		return VCONN_EXP_RESET;
	if ((c->state != VCONN_HANDSHAKE && c->state != VCONN_CONNECTING &&
	     c->state != VCONN_CLOSING) || now_ms < c->deadline_ms)
		return VCONN_EXP_NONE;
	switch (c->state) {
	case VCONN_CLOSING:
		/* The guest never answered our SHUTDOWN(both). */
		return (c->tx & VCONN_TX_RST) ? VCONN_EXP_NONE : VCONN_EXP_RESET;
	case VCONN_HANDSHAKE:
		return VCONN_EXP_FREE;
	default:
		if (c->tx & VCONN_TX_RST)
			return VCONN_EXP_NONE;
		return (c->tx & VCONN_TX_REQUEST) ? VCONN_EXP_TIMEOUT_FREE : VCONN_EXP_TIMEOUT;
	}
}

void vconn_hdr(const struct vconn *c, uint64_t guest_cid, uint16_t op,
	       struct virtio_vsock_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = guest_cid;
	h->src_port = c->local_port;
	h->dst_port = c->peer_port;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_CONN_BUF;
	h->fwd_cnt = c->fwd_cnt;
}
