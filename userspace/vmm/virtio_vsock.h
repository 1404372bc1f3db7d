/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-vsock device. The guest CID comes from the module.
 *
 * Policy: the guest may not initiate connections (to the host or anywhere
 * else), so every guest REQUEST is answered with RST, as is any packet for
 * a connection the device does not know. Spoofed source CIDs are dropped.
 *
 * Data path: host-initiated stream connections. A connected host stream
 * fd is handed to vsock_dev_connect() with the guest port; the device
 * sends REQUEST, and once the guest answers RESPONSE bytes flow both ways
 * with virtio-vsock credit flow control. Guest-to-host bytes that the fd
 * cannot take yet wait in a per-connection buffer of at most
 * VSOCK_CONN_BUF bytes (the buf_alloc the guest sees); host-to-guest
 * bytes are read only while the guest has credit and receive buffers, so
 * a guest that stops reading never makes the VMM spin or buffer.
 *
 * Where host connections come from: the module brokers the owner's
 * connectVsock (AVF_VM_CONNECT_VSOCK) to the VMM, which takes each request
 * with AVF_VMM_CONN_TAKE and hands its fd to vsock_dev_connect_brokered();
 * the outcome goes back through the conn_done hook (AVF_VMM_CONN_DONE):
 * 0 on the guest's RESPONSE, -ECONNREFUSED on RST (or when the connection
 * cannot be made), -ETIMEDOUT when the guest does not answer. When the hook
 * says the requester is gone (-ENOENT) the guest connection is reset. For
 * development (--standalone only), --vsock-uds PATH listens on a UNIX
 * socket speaking "CONNECT <port>\n" -> "OK <host port>\n" (like
 * Firecracker's hybrid vsock).
 *
 * Stream semantics (half-close, closing, RST only for errors, wake-ups):
 * Documentation/vmm.rst, "virtio-vsock".
 *
 * Context: queue work and host fd events run on the device thread with
 * vd->lock held; only a guest-written device reset runs on a vCPU thread
 * (it drops connections without blocking).
 */
#ifndef AVF_VMM_VIRTIO_VSOCK_H
#define AVF_VMM_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "virtio.h"

enum vsock_verdict {
	VSOCK_DROP,		/* malformed, spoofed or RST: consume silently */
	VSOCK_RST,		/* answer with RST */
};

enum vconn_state {
	VCONN_FREE,
	VCONN_HANDSHAKE,	/* development socket: waiting for "CONNECT <port>" */
	VCONN_CONNECTING,	/* REQUEST queued or sent, waiting for RESPONSE */
	VCONN_ESTABLISHED,
	VCONN_CLOSING,		/* both directions done, SHUTDOWN(both) sent: waiting
				 * for the guest's RST (VSOCK_SHUTDOWN_TIMEOUT_MS) */
};

/* Control packets a connection still has to send (struct vsock_conn.tx). */
#define VCONN_TX_REQUEST	(1U << 0)
#define VCONN_TX_CREDIT		(1U << 1)
#define VCONN_TX_SHUTDOWN	(1U << 2)	/* host end hit EOF: SHUTDOWN(SEND) */
#define VCONN_TX_RST		(1U << 3)
#define VCONN_TX_CLOSE		(1U << 4)	/* both directions done: SHUTDOWN(both) */

/**
 * struct vsock_conn - one host-initiated stream connection
 * @fd: host end (non-blocking), owned.
 * @local_port: host-side port (VSOCK_LOCAL_PORT_FIRST upward).
 * @peer_port: guest port.
 * @peer_buf_alloc, @peer_fwd_cnt: the guest's receive credit, from its headers.
 * @tx_cnt: payload bytes sent to the guest.
 * @fwd_cnt: guest payload bytes delivered to @fd.
 * @fwd_cnt_sent: @fwd_cnt as last told to the guest.
 * @buf, @buf_len: guest bytes @fd has not taken yet (<= VSOCK_CONN_BUF).
 * @hybrid: came from the development socket: answer "OK <port>\n".
 * @brokered: a module request whose outcome is not reported yet (@req_id).
 */
struct vsock_conn {
	enum vconn_state state;
	int fd;
	uint32_t local_port;
	uint32_t peer_port;
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_cnt;
	uint32_t tx_cnt;
	uint32_t fwd_cnt;
	uint32_t fwd_cnt_sent;
	uint32_t tx;
	bool guest_shut_send;	/* guest sent SHUTDOWN(SEND): no more guest data */
	bool guest_shut_rcv;	/* guest sent SHUTDOWN(RCV): it reads no more */
	bool host_eof;		/* read() on @fd returned 0 */
	bool host_hup;		/* fd hung up: no longer in epoll, read until EOF */
	bool host_wr_shut;	/* shutdown(@fd, SHUT_WR) done after the guest's SEND */
	bool shut_sent;		/* our SHUTDOWN(SEND) reached the guest */
	bool hybrid;
	bool brokered;
	uint64_t req_id;
	uint32_t events;	/* current epoll interest */
	uint64_t deadline_ms;	/* CONNECTING/HANDSHAKE: give up after (monotonic) */
	uint8_t *buf;
	uint32_t buf_len;
	char line[VSOCK_HANDSHAKE_MAX];
	uint32_t line_len;
};

struct vsock_dev {
	struct virtio_dev vd;
	uint64_t guest_cid;
	struct vq_chain chain;
	/* Bounded queue of replies waiting for guest rx buffers. */
	struct virtio_vsock_hdr pending[VSOCK_PENDING_MAX];
	unsigned int pend_head, pend_len;
	struct vsock_conn conn[VSOCK_CONN_MAX];
	unsigned int rr;	/* round-robin start for rx */
	uint32_t next_port;
	int epfd;		/* connection fds (and the listener) */
	int listen_fd;		/* development socket, -1 if none */
	uint64_t dropped, rsts, spoofed;
	uint64_t refused;	/* guest REQUESTs answered with RST (atomic) */
	/*
	 * Outcome of a brokered connection (AVF_VMM_CONN_DONE): 0, -ECONNREFUSED
	 * or -ETIMEDOUT. Returns 0, or -errno (-ENOENT: nobody waits any more).
	 */
	int (*conn_done)(void *opaque, uint64_t id, int32_t result);
	void *conn_done_opaque;
	uint8_t bounce[VSOCK_PKT_PAYLOAD_MAX];
};

/*
 * Parse a tx chain: the header must be complete, come from @guest_cid,
 * and carry no more payload than the chain holds. Returns 0 with @h filled,
 * or -EINVAL / -EPERM (spoofed source).
 */
int vsock_parse_tx(const struct vq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h);

/* What to do with a packet for no known connection; fills @reply for VSOCK_RST. */
enum vsock_verdict vsock_route(const struct virtio_vsock_hdr *h, struct virtio_vsock_hdr *reply);

int vsock_dev_init(struct vsock_dev *v, const struct guest_mem *m, uint64_t guest_cid);
void vsock_dev_exit(struct vsock_dev *v);

/* Listen on a UNIX socket at @path for development connections. Before the VM runs. */
int vsock_dev_listen(struct vsock_dev *v, const char *path);
/* The same in two steps: the socket (returns the fd or -errno), then the device takes it. */
int vsock_listen_socket(const char *path);
int vsock_dev_listen_fd(struct vsock_dev *v, int fd);

/*
 * Connect the host stream @fd (non-blocking, taken over on success) to
 * @guest_port. Returns 0, or -EAGAIN when VSOCK_CONN_MAX connections
 * exist. Lock held.
 */
int vsock_dev_connect(struct vsock_dev *v, int fd, uint32_t guest_port, bool hybrid);

/*
 * A connection request the module brokered (AVF_VMM_CONN_TAKE): like
 * vsock_dev_connect(), and its outcome is reported through v->conn_done
 * exactly once (also when it cannot be made: then -ECONNREFUSED and @fd is
 * closed). The guest gets VSOCK_BROKERED_TIMEOUT_MS to answer. Lock held.
 */
void vsock_dev_connect_brokered(struct vsock_dev *v, int fd, uint32_t guest_port, uint64_t id);

/* Device thread: connection fds are ready (v->epfd readable). Takes the lock. */
void vsock_dev_poll(struct vsock_dev *v);

/*
 * Device thread, periodically: connections the guest did not accept within
 * their deadline are reset (brokered ones reported -ETIMEDOUT). @now_ms is CLOCK_MONOTONIC. Takes the lock.
 */
void vsock_dev_expire(struct vsock_dev *v, uint64_t now_ms);
uint64_t vsock_now_ms(void);

/* Guest-initiated connections refused so far (any thread). */
static inline uint64_t vsock_refused_count(const struct vsock_dev *v)
{
	return __atomic_load_n(&v->refused, __ATOMIC_RELAXED);
}

#endif
