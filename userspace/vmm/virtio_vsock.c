// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/virtio_ids.h>

#include "log.h"
#include "virtio_vsock.h"

enum { VSOCK_Q_RX, VSOCK_Q_TX, VSOCK_Q_EVENT, VSOCK_NUM_QUEUES };

#define VSOCK_HDR_BYTES		sizeof(struct virtio_vsock_hdr)
#define VSOCK_SHUTDOWN_BOTH	(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)
#define VSOCK_EPOLL_LISTEN	UINT32_MAX

/* ---- pure parsing ------------------------------------------------------ */

int vsock_parse_tx(const struct vq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h)
{
	uint64_t out = vq_chain_out_bytes(c);

	if (out < VSOCK_HDR_BYTES)
		return -EINVAL;
	if (vq_chain_read(c, 0, h, VSOCK_HDR_BYTES) != VSOCK_HDR_BYTES)
		return -EINVAL;
	if (h->len > VSOCK_PKT_PAYLOAD_MAX || h->len > out - VSOCK_HDR_BYTES)
		return -EINVAL;
	if (h->src_cid != guest_cid)
		return -EPERM;
	return 0;
}

enum vsock_verdict vsock_route(const struct virtio_vsock_hdr *h, struct virtio_vsock_hdr *reply)
{
	if (h->op == VIRTIO_VSOCK_OP_RST || h->op == VIRTIO_VSOCK_OP_INVALID)
		return VSOCK_DROP;
	/*
	 * A REQUEST is an outgoing connection the guest may not make;
	 * anything else is for a connection that does not exist. Both get RST.
	 */
	memset(reply, 0, sizeof(*reply));
	reply->src_cid = h->dst_cid;
	reply->dst_cid = h->src_cid;
	reply->src_port = h->dst_port;
	reply->dst_port = h->src_port;
	reply->type = h->type;
	reply->op = VIRTIO_VSOCK_OP_RST;
	return VSOCK_RST;
}

/* ---- connections ------------------------------------------------------- */

static void pending_add(struct vsock_dev *v, const struct virtio_vsock_hdr *h)
{
	if (v->pend_len >= VSOCK_PENDING_MAX) {
		v->dropped++;
		return;
	}
	v->pending[(v->pend_head + v->pend_len) % VSOCK_PENDING_MAX] = *h;
	v->pend_len++;
}

/* Report a brokered request's outcome once; returns the hook's verdict. */
static int conn_resolve(struct vsock_dev *v, struct vsock_conn *c, int32_t result)
{
	if (!c->brokered)
		return 0;
	c->brokered = false;
	if (!v->conn_done)
		return 0;
	return v->conn_done(v->conn_done_opaque, c->req_id, result);
}

static void conn_free(struct vsock_dev *v, struct vsock_conn *c)
{
	conn_resolve(v, c, -ECONNREFUSED);
	if (c->fd >= 0) {
		if (!c->host_hup)
			epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = VCONN_FREE;
}

/* The guest's free receive space for this connection. */
static uint32_t conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static void conn_hdr(const struct vsock_dev *v, const struct vsock_conn *c, uint16_t op,
		     struct virtio_vsock_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = v->guest_cid;
	h->src_port = c->local_port;
	h->dst_port = c->peer_port;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_CONN_BUF;
	h->fwd_cnt = c->fwd_cnt;
}

static struct vsock_conn *conn_find(struct vsock_dev *v, uint32_t local, uint32_t peer)
{
	unsigned int i;

	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &v->conn[i];

		if (c->state >= VCONN_CONNECTING && c->local_port == local && c->peer_port == peer)
			return c;
	}
	return NULL;
}

static struct vsock_conn *conn_alloc(struct vsock_dev *v, int fd)
{
	struct epoll_event ev = { .events = 0 };
	unsigned int i;

	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &v->conn[i];

		if (c->state != VCONN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		ev.data.u32 = i;
		if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			c->fd = -1;
			return NULL;
		}
		return c;
	}
	return NULL;
}

/* Hand guest bytes to the host fd; what it does not take waits in c->buf. */
static int conn_to_host(struct vsock_conn *c, const uint8_t *p, uint32_t len)
{
	ssize_t w = 0;

	if (c->fd < 0)
		return -EPIPE;
	if (!c->buf_len && len) {
		w = write(c->fd, p, len);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (w < 0)
			w = 0;
		c->fwd_cnt += (uint32_t)w;
	}
	len -= (uint32_t)w;
	if (!len)
		return 0;
	if (len > VSOCK_CONN_BUF - c->buf_len)
		return -ENOBUFS;	/* the guest ignored our credit */
	if (!c->buf) {
		c->buf = malloc(VSOCK_CONN_BUF);
		if (!c->buf)
			return -ENOMEM;
	}
	memcpy(c->buf + c->buf_len, p + w, len);
	c->buf_len += len;
	return 0;
}

static int conn_flush(struct vsock_conn *c)
{
	ssize_t w;

	if (!c->buf_len)
		return 0;
	w = write(c->fd, c->buf, c->buf_len);
	if (w < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	memmove(c->buf, c->buf + w, c->buf_len - (uint32_t)w);
	c->buf_len -= (uint32_t)w;
	c->fwd_cnt += (uint32_t)w;
	return 0;
}

/*
 * Both directions are done once every guest byte reached @fd (after the
 * guest's SHUTDOWN(SEND)) and the host's EOF reached the guest (or the
 * guest reads no more). A guest that shut down both ways waits for our
 * RST (as Linux's close() does); otherwise we send SHUTDOWN(both) and the
 * guest answers RST. Never before: a half-close keeps the other way open.
 */
static void conn_check_done(struct vsock_conn *c)
{
	bool guest_done = c->guest_shut_send && !c->buf_len;
	bool host_done = (c->host_eof && c->shut_sent) || c->guest_shut_rcv;

	if (c->state != VCONN_ESTABLISHED || !guest_done || !host_done ||
	    (c->tx & (VCONN_TX_RST | VCONN_TX_CLOSE)))
		return;
	if (c->guest_shut_rcv)
		c->tx |= VCONN_TX_RST;
	else
		c->tx |= VCONN_TX_CLOSE;
}

static void conn_after_consume(struct vsock_conn *c)
{
	if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_CREDIT_THRESHOLD ||
	    (!c->buf_len && c->fwd_cnt != c->fwd_cnt_sent))
		c->tx |= VCONN_TX_CREDIT;
	if (c->guest_shut_send && !c->buf_len && c->fd >= 0 && !c->host_wr_shut) {
		shutdown(c->fd, SHUT_WR);	/* the host reads EOF after every byte */
		c->host_wr_shut = true;
	}
	conn_check_done(c);
}

/* Close the host end now; the RST goes to the guest when it has a buffer. */
static void conn_drop_fd(struct vsock_dev *v, struct vsock_conn *c)
{
	conn_resolve(v, c, -ECONNREFUSED);
	if (c->fd >= 0) {
		if (!c->host_hup)
			epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->host_hup = true;
	c->host_eof = true;
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
}

static void conn_reset(struct vsock_dev *v, struct vsock_conn *c)
{
	conn_drop_fd(v, c);
	c->tx = VCONN_TX_RST;
}

/* A guest packet for a known connection. */
static void conn_rx_from_guest(struct vsock_dev *v, struct vsock_conn *c,
			       const struct virtio_vsock_hdr *h, const struct vq_chain *ch)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;

	if (h->op == VIRTIO_VSOCK_OP_RST) {
		conn_free(v, c);
		return;
	}
	switch (c->state) {
	case VCONN_CONNECTING:
		if (h->op != VIRTIO_VSOCK_OP_RESPONSE || (c->tx & VCONN_TX_REQUEST)) {
			conn_reset(v, c);
			return;
		}
		c->state = VCONN_ESTABLISHED;
		if (c->brokered && conn_resolve(v, c, 0)) {
			conn_reset(v, c);	/* the requester gave up (-ENOENT) */
			return;
		}
		if (c->hybrid) {
			char ok[32];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);

			if (write(c->fd, ok, (size_t)n) != n)
				conn_reset(v, c);
		}
		return;
	case VCONN_ESTABLISHED:
		break;
	case VCONN_CLOSING:
		/* Both ways are done: a guest closing now wants our RST. */
		if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN)
			conn_reset(v, c);
		return;
	default:
		return;
	}

	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		if (h->len && !c->guest_shut_send) {
			uint32_t off = VSOCK_HDR_BYTES, left = h->len;
			unsigned int i;

			/* Payload follows the header in the readable segments. */
			for (i = 0; i < ch->nout && left; i++) {
				const struct vq_seg *s = &ch->seg[i];
				uint32_t n;

				if (off >= s->len) {
					off -= s->len;
					continue;
				}
				n = s->len - off < left ? s->len - off : left;
				if (conn_to_host(c, s->addr + off, n)) {
					conn_reset(v, c);
					return;
				}
				left -= n;
				off = 0;
			}
			conn_after_consume(c);
		}
		return;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->tx |= VCONN_TX_CREDIT;
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		/*
		 * Flags accumulate. SEND: the guest's bytes so far are all
		 * there will be; they still reach @fd, then the host reads
		 * EOF. RCV: the guest reads no more; the host's writes fail
		 * (EPIPE) instead of filling a buffer nobody drains.
		 */
		if ((h->flags & VIRTIO_VSOCK_SHUTDOWN_RCV) && !c->guest_shut_rcv) {
			c->guest_shut_rcv = true;
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RD);
		}
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_shut_send = true;
		conn_after_consume(c);
		return;
	default:
		conn_reset(v, c);
		return;
	}
}

uint64_t vsock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct vsock_conn *conn_start(struct vsock_dev *v, int fd, uint32_t guest_port,
				     bool hybrid)
{
	struct vsock_conn *c = conn_alloc(v, fd);

	if (!c)
		return NULL;
	c->deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	c->state = VCONN_CONNECTING;
	c->hybrid = hybrid;
	c->peer_port = guest_port;
	c->local_port = v->next_port++;
	if (v->next_port < VSOCK_LOCAL_PORT_FIRST)
		v->next_port = VSOCK_LOCAL_PORT_FIRST;
	c->tx = VCONN_TX_REQUEST;
	return c;
}

int vsock_dev_connect(struct vsock_dev *v, int fd, uint32_t guest_port, bool hybrid)
{
	return conn_start(v, fd, guest_port, hybrid) ? 0 : -EAGAIN;
}

void vsock_dev_connect_brokered(struct vsock_dev *v, int fd, uint32_t guest_port, uint64_t id)
{
	struct vsock_conn *c = NULL;

	if (guest_port >= AVF_VSOCK_PORT_MIN && guest_port != UINT32_MAX)
		c = conn_start(v, fd, guest_port, false);
	if (!c) {
		close(fd);
		if (v->conn_done)
			v->conn_done(v->conn_done_opaque, id, -ECONNREFUSED);
		return;
	}
	c->brokered = true;
	c->req_id = id;
	c->deadline_ms = vsock_now_ms() + VSOCK_BROKERED_TIMEOUT_MS;
}

/* ---- rx: device to guest ----------------------------------------------- */

/* Put one packet (header + @len bytes of v->bounce) in the next rx buffer. */
static int rx_put(struct vsock_dev *v, const struct virtio_vsock_hdr *h, uint32_t len)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	int ret = virtq_pop(vq, v->vd.mem, &v->chain);

	if (ret <= 0)
		return ret ? ret : -EAGAIN;
	if (v->chain.nout || v->chain.in_bytes < VSOCK_HDR_BYTES + len)
		return -EINVAL;
	vq_chain_write(&v->chain, 0, h, VSOCK_HDR_BYTES);
	if (len)
		vq_chain_write(&v->chain, VSOCK_HDR_BYTES, v->bounce, len);
	return virtq_push(vq, v->vd.mem, v->chain.head, (uint32_t)VSOCK_HDR_BYTES + len);
}

/* Next packet of @c, if any. Returns 1 sent, 0 nothing to send, <0 error. */
static int conn_rx_one(struct vsock_dev *v, struct vsock_conn *c)
{
	struct virtio_vsock_hdr h;
	uint32_t want;
	ssize_t n;
	int ret;

	if (c->tx & VCONN_TX_RST) {
		conn_hdr(v, c, VIRTIO_VSOCK_OP_RST, &h);
		ret = rx_put(v, &h, 0);
		if (!ret)
			conn_free(v, c);
		return ret ? ret : 1;
	}
	if (c->tx & VCONN_TX_REQUEST) {
		conn_hdr(v, c, VIRTIO_VSOCK_OP_REQUEST, &h);
		ret = rx_put(v, &h, 0);
		if (!ret)
			c->tx &= ~VCONN_TX_REQUEST;
		return ret ? ret : 1;
	}
	if (c->state != VCONN_ESTABLISHED)
		return 0;
	if (c->tx & (VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE)) {
		/*
		 * EOF from a host end that can still read is a half-close:
		 * SHUTDOWN(SEND) only, the guest's data keeps flowing. A host
		 * end that hung up altogether (and both ways done) close both.
		 */
		bool both = (c->tx & VCONN_TX_CLOSE) || (c->host_hup && !c->host_wr_shut);

		conn_hdr(v, c, VIRTIO_VSOCK_OP_SHUTDOWN, &h);
		h.flags = both ? VSOCK_SHUTDOWN_BOTH : VIRTIO_VSOCK_SHUTDOWN_SEND;
		ret = rx_put(v, &h, 0);
		if (ret)
			return ret;
		c->tx &= ~(VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE);
		c->shut_sent = true;
		if (both) {
			c->state = VCONN_CLOSING;
			c->deadline_ms = vsock_now_ms() + VSOCK_SHUTDOWN_TIMEOUT_MS;
		} else {
			conn_check_done(c);
		}
		return 1;
	}
	if (c->tx & VCONN_TX_CREDIT) {
		conn_hdr(v, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, &h);
		ret = rx_put(v, &h, 0);
		if (!ret) {
			c->tx &= ~VCONN_TX_CREDIT;
			c->fwd_cnt_sent = c->fwd_cnt;
		}
		return ret ? ret : 1;
	}
	if (c->host_eof || c->guest_shut_rcv || c->fd < 0 || !conn_credit(c))
		return 0;
	ret = virtq_pop(&v->vd.vq[VSOCK_Q_RX], v->vd.mem, &v->chain);
	if (ret <= 0)
		return ret;
	if (v->chain.nout || v->chain.in_bytes <= VSOCK_HDR_BYTES)
		return -EINVAL;
	want = conn_credit(c);
	if (want > sizeof(v->bounce))
		want = sizeof(v->bounce);
	if (want > v->chain.in_bytes - VSOCK_HDR_BYTES)
		want = (uint32_t)(v->chain.in_bytes - VSOCK_HDR_BYTES);
	n = read(c->fd, v->bounce, want);
	if (n <= 0) {
		v->vd.vq[VSOCK_Q_RX].last_avail--;	/* nothing to send: give the buffer back */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			conn_reset(v, c);
		} else {
			c->host_eof = true;
			c->tx |= VCONN_TX_SHUTDOWN;
		}
		return 1;
	}
	conn_hdr(v, c, VIRTIO_VSOCK_OP_RW, &h);
	h.len = (uint32_t)n;
	vq_chain_write(&v->chain, 0, &h, VSOCK_HDR_BYTES);
	vq_chain_write(&v->chain, VSOCK_HDR_BYTES, v->bounce, (uint64_t)n);
	ret = virtq_push(&v->vd.vq[VSOCK_Q_RX], v->vd.mem, v->chain.head,
			 (uint32_t)VSOCK_HDR_BYTES + (uint32_t)n);
	if (ret)
		return ret;
	c->tx_cnt += (uint32_t)n;
	c->fwd_cnt_sent = c->fwd_cnt;
	return 1;
}

static void conn_update_interest(struct vsock_dev *v, struct vsock_conn *c, bool rx_ready)
{
	struct epoll_event ev = { .events = 0 };

	if (c->state == VCONN_FREE || c->fd < 0 || c->host_hup)
		return;
	if (c->state == VCONN_HANDSHAKE ||
	    (c->state == VCONN_ESTABLISHED && !c->host_eof && !c->guest_shut_rcv &&
	     conn_credit(c) && rx_ready))
		ev.events |= EPOLLIN;
	if (c->buf_len)
		ev.events |= EPOLLOUT;
	if (ev.events == c->events)
		return;
	ev.data.u32 = (uint32_t)(c - v->conn);
	if (epoll_ctl(v->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = ev.events;
}

static int vsock_fill_rx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	bool used = false, progress = true;
	unsigned int i, budget = VQ_SIZE_MAX;
	int ret = 0;

	if (!vq->active)
		return 0;
	/* Control replies first, then connections round-robin. */
	while (v->pend_len && budget) {
		ret = rx_put(v, &v->pending[v->pend_head], 0);
		if (ret)
			break;
		v->pend_head = (v->pend_head + 1) % VSOCK_PENDING_MAX;
		v->pend_len--;
		used = true;
		budget--;
	}
	while (ret == 0 && progress && budget) {
		progress = false;
		for (i = 0; i < VSOCK_CONN_MAX && budget; i++) {
			struct vsock_conn *c = &v->conn[(v->rr + i) % VSOCK_CONN_MAX];
			int r;

			if (c->state < VCONN_CONNECTING)
				continue;
			r = conn_rx_one(v, c);
			if (r < 0) {
				ret = r;
				break;
			}
			if (r > 0) {
				progress = true;
				used = true;
				budget--;
			}
		}
		v->rr = (v->rr + 1) % VSOCK_CONN_MAX;
	}
	if (used)
		virtio_dev_used(&v->vd, vq);
	/*
	 * Out of budget with work left (a credit update, data with credit):
	 * nothing else may come to wake us (a guest blocked on our credit
	 * sends nothing), so queue another pass through the notify eventfd
	 * rather than hold the lock longer.
	 */
	if (!budget && ret == 0 && v->vd.kick)
		v->vd.kick(&v->vd);
	for (i = 0; i < VSOCK_CONN_MAX; i++)
		conn_update_interest(v, &v->conn[i], virtq_has_avail(vq, v->vd.mem));
	return ret == -EAGAIN ? 0 : ret;
}

/* ---- tx: guest to device ----------------------------------------------- */

static int vsock_tx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_TX];
	struct virtio_vsock_hdr h, reply;
	struct vsock_conn *c;
	bool used = false;
	int ret;

	while ((ret = virtq_pop(vq, v->vd.mem, &v->chain)) > 0) {
		ret = vsock_parse_tx(&v->chain, v->guest_cid, &h);
		if (ret == -EPERM) {
			v->spoofed++;
		} else if (ret) {
			v->dropped++;
		} else if (h.type == VIRTIO_VSOCK_TYPE_STREAM && h.dst_cid == VSOCK_HOST_CID &&
			   (c = conn_find(v, h.dst_port, h.src_port)) != NULL) {
			conn_rx_from_guest(v, c, &h, &v->chain);
		} else if (vsock_route(&h, &reply) == VSOCK_RST) {
			v->rsts++;
			if (h.op == VIRTIO_VSOCK_OP_REQUEST)
				__atomic_add_fetch(&v->refused, 1, __ATOMIC_RELAXED);
			pending_add(v, &reply);
		}
		ret = virtq_push(vq, v->vd.mem, v->chain.head, 0);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(&v->vd, vq);
	if (ret < 0)
		return ret;
	return vsock_fill_rx(v);
}

static int vsock_process(struct virtio_dev *vd, unsigned int q)
{
	struct vsock_dev *v = vd->priv;

	switch (q) {
	case VSOCK_Q_TX:
		return vsock_tx(v);
	case VSOCK_Q_RX:
		return vsock_fill_rx(v);
	default:
		return 0;	/* event queue: the device sends no events */
	}
}

/* ---- host side: development socket and fd events ----------------------- */

static void handshake(struct vsock_dev *v, struct vsock_conn *c)
{
	unsigned long port;
	char *end;
	ssize_t n;

	/* One byte at a time: never read past the line into payload. */
	while (c->line_len < sizeof(c->line) - 1) {
		n = read(c->fd, &c->line[c->line_len], 1);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto fail;
		if (c->line[c->line_len] == '\n') {
			c->line[c->line_len] = '\0';
			if (strncmp(c->line, "CONNECT ", 8))
				goto fail;
			errno = 0;
			port = strtoul(c->line + 8, &end, 10);
			if (errno || *end || end == c->line + 8 || port > UINT32_MAX)
				goto fail;
			c->state = VCONN_CONNECTING;
			c->deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
			c->hybrid = true;
			c->peer_port = (uint32_t)port;
			c->local_port = v->next_port++;
			c->tx = VCONN_TX_REQUEST;
			return;
		}
		c->line_len++;
	}
fail:
	conn_free(v, c);
}

static void accept_dev_conn(struct vsock_dev *v)
{
	struct vsock_conn *c;
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = conn_alloc(v, fd);
	if (!c) {
		close(fd);
		return;
	}
	c->state = VCONN_HANDSHAKE;
	c->deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	conn_update_interest(v, c, false);
}

void vsock_dev_poll(struct vsock_dev *v)
{
	struct epoll_event ev[16];
	int n, i;

	pthread_mutex_lock(&v->vd.lock);
	n = epoll_wait(v->epfd, ev, 16, 0);
	for (i = 0; i < n; i++) {
		struct vsock_conn *c;

		if (ev[i].data.u32 == VSOCK_EPOLL_LISTEN) {
			accept_dev_conn(v);
			continue;
		}
		if (ev[i].data.u32 >= VSOCK_CONN_MAX)
			continue;
		c = &v->conn[ev[i].data.u32];
		if (c->state == VCONN_HANDSHAKE) {
			handshake(v, c);
			continue;
		}
		if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
			/*
			 * Hung up: level-triggered HUP cannot be masked, so the
			 * fd leaves epoll; what is still buffered in it is read
			 * by the rx path as the guest grants credit, then EOF.
			 */
			if (c->state != VCONN_ESTABLISHED || c->buf_len) {
				conn_reset(v, c);
			} else {
				epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
				c->host_hup = true;
				/* Drained by a guest that reads, or reset (below). */
				c->deadline_ms = vsock_now_ms() + VSOCK_SHUTDOWN_TIMEOUT_MS;
			}
			continue;
		}
		if (ev[i].events & EPOLLOUT) {
			if (conn_flush(c))
				conn_reset(v, c);
			else
				conn_after_consume(c);
		}
	}
	if (virtio_dev_live(&v->vd) && vsock_fill_rx(v))
		virtio_dev_fail(&v->vd, "rx", -EINVAL);
	pthread_mutex_unlock(&v->vd.lock);
}

void vsock_dev_expire(struct vsock_dev *v, uint64_t now_ms)
{
	bool expired = false;
	unsigned int i;

	pthread_mutex_lock(&v->vd.lock);
	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &v->conn[i];

		/*
		 * A host end that hung up while the guest had no room for
		 * what it left unread: once the guest had its chance, RST
		 * (as a Linux close() does after its timeout).
		 */
		if (c->state == VCONN_ESTABLISHED && c->host_hup && c->fd >= 0 &&
		    !(c->tx & (VCONN_TX_RST | VCONN_TX_SHUTDOWN | VCONN_TX_CLOSE)) && !c->shut_sent &&
		    now_ms >= c->deadline_ms) {
			conn_reset(v, c);
			expired = true;
			continue;
		}
		if ((c->state != VCONN_HANDSHAKE && c->state != VCONN_CONNECTING &&
		     c->state != VCONN_CLOSING) || now_ms < c->deadline_ms)
			continue;
		if (c->state == VCONN_CLOSING) {
			if (!(c->tx & VCONN_TX_RST)) {
				conn_reset(v, c);	/* the guest never answered */
				expired = true;
			}
			continue;
		}
		if (c->state == VCONN_HANDSHAKE) {
			conn_free(v, c);
			continue;
		}
		if (c->tx & VCONN_TX_RST)
			continue;
		conn_resolve(v, c, -ETIMEDOUT);
		if (c->tx & VCONN_TX_REQUEST) {
			conn_free(v, c);	/* the guest never saw it */
			continue;
		}
		conn_reset(v, c);
		expired = true;
	}
	if (expired && virtio_dev_live(&v->vd) && vsock_fill_rx(v))
		virtio_dev_fail(&v->vd, "rx", -EINVAL);
	pthread_mutex_unlock(&v->vd.lock);
}

int vsock_listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int vsock_dev_listen_fd(struct vsock_dev *v, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = VSOCK_EPOLL_LISTEN };

	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	v->listen_fd = fd;
	return 0;
}

int vsock_dev_listen(struct vsock_dev *v, const char *path)
{
	int fd = vsock_listen_socket(path), ret;

	if (fd < 0)
		return fd;
	ret = vsock_dev_listen_fd(v, fd);
	if (ret)
		close(fd);
	return ret;
}

/* ---- device ------------------------------------------------------------ */

static void vsock_reset(struct virtio_dev *vd)
{
	struct vsock_dev *v = vd->priv;
	unsigned int i;

	v->pend_head = 0;
	v->pend_len = 0;
	/* The guest forgot every connection: drop the host ends too. */
	for (i = 0; i < VSOCK_CONN_MAX; i++)
		if (v->conn[i].state != VCONN_FREE && v->conn[i].state != VCONN_HANDSHAKE)
			conn_free(v, &v->conn[i]);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = VSOCK_NUM_QUEUES,
	.config_size = sizeof(uint64_t),
	.process = vsock_process,
	.reset = vsock_reset,
};

int vsock_dev_init(struct vsock_dev *v, const struct guest_mem *m, uint64_t guest_cid)
{
	unsigned int i;
	int ret = virtio_dev_init(&v->vd, &vsock_ops, v, m, 0);

	if (ret)
		return ret;
	v->guest_cid = guest_cid;
	v->pend_head = 0;
	v->pend_len = 0;
	v->dropped = 0;
	__atomic_store_n(&v->refused, 0, __ATOMIC_RELAXED);
	v->rsts = 0;
	v->spoofed = 0;
	v->rr = 0;
	v->next_port = VSOCK_LOCAL_PORT_FIRST;
	v->listen_fd = -1;
	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		memset(&v->conn[i], 0, sizeof(v->conn[i]));
		v->conn[i].fd = -1;
	}
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epfd < 0) {
		ret = -errno;
		virtio_dev_exit(&v->vd);
		return ret;
	}
	memcpy(v->vd.config, &guest_cid, sizeof(guest_cid));
	return 0;
}

void vsock_dev_exit(struct vsock_dev *v)
{
	unsigned int i;

	v->conn_done = NULL;	/* the run is ending: the module aborts what is left */
	for (i = 0; i < VSOCK_CONN_MAX; i++)
		if (v->conn[i].state != VCONN_FREE)
			conn_free(v, &v->conn[i]);
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->epfd >= 0)
		close(v->epfd);
	v->listen_fd = -1;
	v->epfd = -1;
	virtio_dev_exit(&v->vd);
}
