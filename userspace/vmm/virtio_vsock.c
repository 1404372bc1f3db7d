// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-vsock device: queues, and the glue between the packet parser
 * (vsock_packet.c), the per-connection state machine (vsock_conn.c), the
 * connection table (vsock_mux.c) and the host ends (vsock_host.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/virtio_ids.h>

#include "log.h"
#include "virtio_vsock.h"

enum { VSOCK_Q_RX, VSOCK_Q_TX, VSOCK_Q_EVENT, VSOCK_NUM_QUEUES };

#define VSOCK_EPOLL_LISTEN	UINT32_MAX

uint64_t vsock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t vsock_refused_count(const struct vsock_dev *v)
{
	return __atomic_load_n(&v->refused, __ATOMIC_RELAXED);
}

/* ---- connections ------------------------------------------------------- */

static uint32_t conn_tag(const struct vsock_dev *v, const struct vsock_conn *c)
{
	return vmux_index(&v->mux, c);
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
	vhost_close(&c->host, v->epfd);
	memset(c, 0, sizeof(*c));
	c->host.fd = -1;
	c->sm.state = VCONN_FREE;
}

/* Close the host end now; the RST goes to the guest when it has a buffer. */
static void conn_drop_host(struct vsock_dev *v, struct vsock_conn *c)
{
	conn_resolve(v, c, -ECONNREFUSED);
	vhost_close(&c->host, v->epfd);
}

static void conn_reset(struct vsock_dev *v, struct vsock_conn *c)
{
	vconn_reset(&c->sm);
	conn_drop_host(v, c);
}

/*
 * Do what the state machine asked (VCONN_DO_*). Returns false when the
 * connection is gone or reset (nothing more to do with it now).
 */
static bool conn_act(struct vsock_dev *v, struct vsock_conn *c, unsigned int act)
{
	if (act & VCONN_DO_FREE) {
		conn_free(v, c);
		return false;
	}
	if (act & VCONN_DO_RESET) {
		conn_drop_host(v, c);
		return false;
	}
	if (act & VCONN_DO_HOST_SHUT_RD)
		vhost_shutdown(&c->host, SHUT_RD);
	if (act & VCONN_DO_HOST_SHUT_WR)
		vhost_shutdown(&c->host, SHUT_WR);
	return true;
}

/* The host end took bytes (or not): tell the state machine. */
static void conn_host_progress(struct vsock_dev *v, struct vsock_conn *c, uint32_t taken)
{
	conn_act(v, c, vconn_host_progress(&c->sm, taken, c->host.buf_len));
}

struct deliver {
	struct vsock_conn *c;
	uint32_t taken;
};

static int deliver_piece(void *arg, const uint8_t *p, uint32_t n)
{
	struct deliver *d = arg;
	uint32_t taken;
	int ret = vhost_put(&d->c->host, p, n, &taken);

	d->taken += taken;
	return ret;
}

/* A guest packet for a known connection. */
static void conn_from_guest(struct vsock_dev *v, struct vsock_conn *c,
			    const struct virtio_vsock_hdr *h, const struct vq_chain *ch)
{
	unsigned int act = vconn_on_guest(&c->sm, h);
	struct deliver d = { .c = c };

	if (act & VCONN_DO_ACCEPTED) {
		if (c->brokered && conn_resolve(v, c, 0)) {
			conn_reset(v, c);	/* the requester gave up (-ENOENT) */
			return;
		}
		if (c->hybrid && vhost_handshake_ok(&c->host, c->sm.local_port))
			conn_reset(v, c);
		return;
	}
	if (!conn_act(v, c, act) || !(act & VCONN_DO_DELIVER))
		return;
	if (vsock_for_each_payload(ch, h->len, deliver_piece, &d)) {
		conn_reset(v, c);
		return;
	}
	conn_host_progress(v, c, d.taken);
}

static void drop_after_reset(struct vsock_dev *v);

static struct vsock_conn *conn_start(struct vsock_dev *v, int fd, uint32_t guest_port,
				     bool hybrid)
{
	struct vsock_conn *c;

	drop_after_reset(v);	/* a connection made now belongs to the new driver */
	c = vmux_alloc(&v->mux);
	if (!c || vhost_open(&c->host, v->epfd, fd, conn_tag(v, c)))
		return NULL;
	vconn_connect(&c->sm, vmux_next_port(&v->mux), guest_port,
		      vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS);
	c->hybrid = hybrid;
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
	c->sm.deadline_ms = vsock_now_ms() + VSOCK_BROKERED_TIMEOUT_MS;
}

/* A guest reset (vCPU thread) asked for it: drop every connection here. */
static void drop_after_reset(struct vsock_dev *v)
{
	unsigned int i;

	if (!v->reset_pending)
		return;
	v->reset_pending = false;
	vmux_rst_clear(&v->mux);
	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &v->mux.conn[i];

		if (c->sm.state != VCONN_FREE && c->sm.state != VCONN_HANDSHAKE)
			conn_free(v, c);
	}
}

/* ---- rx: device to guest ----------------------------------------------- */

/* Put one packet (header + @len bytes of v->bounce) in the next rx buffer. */
static int rx_put(struct vsock_dev *v, const struct virtio_vsock_hdr *h, uint32_t len)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	int ret = virtq_pop(vq, v->vd.mem, &v->chain);

	if (ret <= 0)
		return ret ? ret : -EAGAIN;
	if (!vsock_rx_fits(&v->chain, len))
		return -EINVAL;
	vq_chain_write(&v->chain, 0, h, VSOCK_HDR_BYTES);
	if (len)
		vq_chain_write(&v->chain, VSOCK_HDR_BYTES, v->bounce, len);
	return virtq_push(vq, v->vd.mem, v->chain.head, (uint32_t)VSOCK_HDR_BYTES + len);
}

/* Next packet of @c, if any. Returns 1 sent, 0 nothing to send, <0 error. */
static int conn_rx_one(struct vsock_dev *v, struct vsock_conn *c)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	struct virtio_vsock_hdr h;
	uint32_t flags, want;
	uint16_t op = vconn_next_ctrl(&c->sm, &flags);
	ssize_t n;
	int ret;

	if (op) {
		vconn_hdr(&c->sm, v->guest_cid, op, &h);
		h.flags = flags;
		ret = rx_put(v, &h, 0);
		if (ret)
			return ret;
		if (vconn_ctrl_sent(&c->sm, op, flags, vsock_now_ms(), VSOCK_SHUTDOWN_TIMEOUT_MS) &
		    VCONN_DO_FREE)
			conn_free(v, c);
		return 1;
	}
	want = vconn_send_room(&c->sm);
	if (!want || c->host.fd < 0)
		return 0;
	ret = virtq_pop(vq, v->vd.mem, &v->chain);
	if (ret <= 0)
		return ret;
	if (!vsock_rx_fits(&v->chain, 1))
		return -EINVAL;
	if (want > sizeof(v->bounce))
		want = sizeof(v->bounce);
	if (want > v->chain.in_bytes - VSOCK_HDR_BYTES)
		want = (uint32_t)(v->chain.in_bytes - VSOCK_HDR_BYTES);
	n = vhost_get(&c->host, v->bounce, want);
	if (n <= 0) {
		vq->last_avail--;	/* nothing to send: give the buffer back */
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			conn_reset(v, c);
		else
			vconn_host_eof(&c->sm);
		return 1;
	}
	vconn_hdr(&c->sm, v->guest_cid, VIRTIO_VSOCK_OP_RW, &h);
	h.len = (uint32_t)n;
	vq_chain_write(&v->chain, 0, &h, VSOCK_HDR_BYTES);
	vq_chain_write(&v->chain, VSOCK_HDR_BYTES, v->bounce, (uint64_t)n);
	ret = virtq_push(vq, v->vd.mem, v->chain.head, (uint32_t)VSOCK_HDR_BYTES + (uint32_t)n);
	if (ret)
		return ret;
	vconn_data_sent(&c->sm, (uint32_t)n);
	return 1;
}

static void conn_update_interest(struct vsock_dev *v, struct vsock_conn *c, bool rx_ready)
{
	bool want_in = c->sm.state == VCONN_HANDSHAKE ||
		       (vconn_wants_host_data(&c->sm) && rx_ready);

	if (c->sm.state == VCONN_FREE)
		return;
	vhost_interest(&c->host, v->epfd, conn_tag(v, c), want_in);
}

static int vsock_fill_rx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	const struct virtio_vsock_hdr *rst;
	bool used = false, progress = true;
	unsigned int i, budget = VQ_SIZE_MAX;
	int ret = 0;

	drop_after_reset(v);
	if (!vq->active)
		return 0;
	/* Queued RSTs first, then connections round-robin. */
	while ((rst = vmux_rst_peek(&v->mux)) && budget) {
		ret = rx_put(v, rst, 0);
		if (ret)
			break;
		vmux_rst_pop(&v->mux);
		used = true;
		budget--;
	}
	while (ret == 0 && progress && budget) {
		progress = false;
		for (i = 0; i < VSOCK_CONN_MAX && budget; i++) {
			struct vsock_conn *c = &v->mux.conn[(v->mux.rr + i) % VSOCK_CONN_MAX];
			int r;

			if (c->sm.state < VCONN_CONNECTING)
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
		v->mux.rr = (v->mux.rr + 1) % VSOCK_CONN_MAX;
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
		conn_update_interest(v, &v->mux.conn[i], virtq_has_avail(vq, v->vd.mem));
	return ret == -EAGAIN ? 0 : ret;
}

/* ---- tx: guest to device ----------------------------------------------- */

/* A packet no connection takes: RST it (a REQUEST is a refused connection). */
static void tx_unroutable(struct vsock_dev *v, const struct virtio_vsock_hdr *h)
{
	struct virtio_vsock_hdr reply;

	if (h->op == VIRTIO_VSOCK_OP_REQUEST)
		__atomic_fetch_add(&v->refused, 1, __ATOMIC_RELAXED);
	if (vsock_route(h, &reply) != VSOCK_RST)
		return;
	if (vmux_rst_push(&v->mux, &reply))
		v->rsts++;
	else
		v->dropped++;
}

static int vsock_tx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_TX];
	struct virtio_vsock_hdr h;
	struct vsock_conn *c;
	bool used = false;
	int ret;

	drop_after_reset(v);
	while ((ret = virtq_pop(vq, v->vd.mem, &v->chain)) > 0) {
		ret = vsock_parse_tx(&v->chain, v->guest_cid, &h);
		if (ret == -EPERM)
			v->spoofed++;
		else if (ret)
			v->dropped++;
		else if (h.type == VIRTIO_VSOCK_TYPE_STREAM && h.dst_cid == VSOCK_HOST_CID &&
			 (c = vmux_find(&v->mux, h.dst_port, h.src_port)) != NULL)
			conn_from_guest(v, c, &h, &v->chain);
		else
			tx_unroutable(v, &h);
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
	uint32_t port;
	int ret = vhost_handshake(&c->host, &port);

	if (ret < 0) {
		conn_free(v, c);
	} else if (ret > 0) {
		vconn_connect(&c->sm, vmux_next_port(&v->mux), port,
			      vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS);
		c->hybrid = true;
	}
}

static void accept_dev_conn(struct vsock_dev *v)
{
	struct vsock_conn *c;
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = vmux_alloc(&v->mux);
	if (!c || vhost_open(&c->host, v->epfd, fd, conn_tag(v, c))) {
		close(fd);
		return;
	}
	c->sm.state = VCONN_HANDSHAKE;
	c->sm.deadline_ms = vsock_now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	conn_update_interest(v, c, false);
}

void vsock_dev_poll(struct vsock_dev *v)
{
	struct epoll_event ev[16];
	int n, i;

	pthread_mutex_lock(&v->vd.lock);
	drop_after_reset(v);
	n = epoll_wait(v->epfd, ev, 16, 0);
	for (i = 0; i < n; i++) {
		struct vsock_conn *c;
		uint32_t taken;

		if (ev[i].data.u32 == VSOCK_EPOLL_LISTEN) {
			accept_dev_conn(v);
			continue;
		}
		if (ev[i].data.u32 >= VSOCK_CONN_MAX)
			continue;
		c = &v->mux.conn[ev[i].data.u32];
		if (c->host.fd < 0)
			continue;
		if (c->sm.state == VCONN_HANDSHAKE) {
			handshake(v, c);
			continue;
		}
		if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
			/*
			 * Hung up: level-triggered HUP cannot be masked, so the
			 * fd leaves epoll; what is still buffered in it is read
			 * by the rx path as the guest grants credit, then EOF.
			 */
			if (conn_act(v, c, vconn_host_hup(&c->sm, vsock_now_ms(),
							  VSOCK_SHUTDOWN_TIMEOUT_MS)))
				vhost_unwatch(&c->host, v->epfd);
			continue;
		}
		if (ev[i].events & EPOLLOUT) {
			if (vhost_flush(&c->host, &taken))
				conn_reset(v, c);
			else
				conn_host_progress(v, c, taken);
		}
	}
	if (virtio_dev_live(&v->vd) && vsock_fill_rx(v))
		virtio_dev_fail(&v->vd, "rx", -EINVAL);
	pthread_mutex_unlock(&v->vd.lock);
}

/*
 * A connection with work pending (guest bytes waiting for the host fd, a
 * guest window that is full, a control packet not sent, bytes the guest
 * was given and has not taken) whose counters did not move for
 * VSOCK_STALL_LOG_MS: log its state once, for the VMM log, and ask where
 * the guest's vCPUs are (v->stalled).
 */
static void conn_watch(struct vsock_dev *v, struct vsock_conn *c, uint64_t now_ms)
{
	struct virtq *rx = &v->vd.vq[VSOCK_Q_RX], *tx = &v->vd.vq[VSOCK_Q_TX];
	const struct vconn *s = &c->sm;

	if (s->state != VCONN_ESTABLISHED)
		return;
	if (s->tx_cnt != c->seen_tx_cnt || s->fwd_cnt != c->seen_fwd_cnt ||
	    s->peer_fwd_cnt != c->seen_peer_fwd_cnt || !c->moved_ms) {
		c->seen_tx_cnt = s->tx_cnt;
		c->seen_fwd_cnt = s->fwd_cnt;
		c->seen_peer_fwd_cnt = s->peer_fwd_cnt;
		c->moved_ms = now_ms;
		c->stall_logged = false;
		return;
	}
	/* work pending: ours to send, or bytes we gave the guest that it has not taken */
	if (c->stall_logged || now_ms - c->moved_ms < VSOCK_STALL_LOG_MS ||
	    (!c->host.buf_len && vconn_credit(s) && !s->tx && s->tx_cnt == s->peer_fwd_cnt))
		return;
	c->stall_logged = true;
	vlog("vsock: port %u->%u no progress for %llu ms: tx_cnt %u peer_fwd_cnt %u "
	     "peer_buf_alloc %u credit %u rx_cnt %u fwd_cnt %u fwd_cnt_sent %u buf_len %u "
	     "tx 0x%x events 0x%x eof %d hup %d shut_send %d shut_rcv %d; rx avail %d "
	     "(last_avail %u used %u), tx avail %d\n",
	     s->local_port, s->peer_port, (unsigned long long)(now_ms - c->moved_ms), s->tx_cnt,
	     s->peer_fwd_cnt, s->peer_buf_alloc, vconn_credit(s), s->rx_cnt, s->fwd_cnt,
	     s->fwd_cnt_sent, c->host.buf_len, s->tx, c->host.events, s->host_eof, s->host_hup,
	     s->guest_shut_send, s->guest_shut_rcv, virtq_has_avail(rx, v->vd.mem),
	     rx->last_avail, rx->used_idx, virtq_has_avail(tx, v->vd.mem));
	if (v->stalled)
		v->stalled(v->conn_done_opaque);
}

void vsock_dev_expire(struct vsock_dev *v, uint64_t now_ms)
{
	bool expired = false;
	unsigned int i;

	pthread_mutex_lock(&v->vd.lock);
	drop_after_reset(v);
	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &v->mux.conn[i];

		conn_watch(v, c, now_ms);
		switch (vconn_expire(&c->sm, now_ms)) {
		case VCONN_EXP_NONE:
			break;
		case VCONN_EXP_RESET:
			conn_reset(v, c);
			expired = true;
			break;
		case VCONN_EXP_FREE:
			conn_free(v, c);
			break;
		case VCONN_EXP_TIMEOUT_FREE:
			conn_resolve(v, c, -ETIMEDOUT);
			conn_free(v, c);	/* the guest never saw it */
			break;
		case VCONN_EXP_TIMEOUT:
			conn_resolve(v, c, -ETIMEDOUT);
			conn_reset(v, c);
			expired = true;
			break;
		}
	}
	if (expired && virtio_dev_live(&v->vd) && vsock_fill_rx(v))
		virtio_dev_fail(&v->vd, "rx", -EINVAL);
	pthread_mutex_unlock(&v->vd.lock);
}

int vsock_listen_socket(const char *path)
{
	return vhost_listen_socket(path);
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

/*
 * vCPU thread (the guest wrote 0 to Status), lock held: no I/O here. The
 * guest forgot every connection; the device thread drops the host ends
 * (drop_after_reset()) before it touches the queues again.
 */
static void vsock_reset(struct virtio_dev *vd)
{
	struct vsock_dev *v = vd->priv;

	v->reset_pending = true;
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
	int ret = virtio_dev_init(&v->vd, &vsock_ops, v, m, 0);

	if (ret)
		return ret;
	v->guest_cid = guest_cid;
	vmux_init(&v->mux);
	v->reset_pending = false;
	v->dropped = 0;
	v->rsts = 0;
	v->spoofed = 0;
	v->refused = 0;
	v->listen_fd = -1;
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
		if (v->mux.conn[i].sm.state != VCONN_FREE || v->mux.conn[i].host.fd >= 0)
			conn_free(v, &v->mux.conn[i]);
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->epfd >= 0)
		close(v->epfd);
	v->listen_fd = -1;
	v->epfd = -1;
	virtio_dev_exit(&v->vd);
}
