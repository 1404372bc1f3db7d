/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtio-vsock stream connection as a pure state machine: no fds, no
 * virtqueues, no clock (the caller passes the time). The device
 * (virtio_vsock.c) feeds it events - a guest packet, bytes the host end
 * took, host EOF or hang-up, a packet that went out, a timer - and does
 * what the returned VCONN_DO_* bits say with the host end
 * (vsock_host.c). Unit-tested on its own (tests/test_vsock_conn.c).
 *
 * Flow control (virtio-vsock credit, both directions):
 *  - host -> guest: at most vconn_send_room() bytes, the guest's
 *    peer_buf_alloc minus what is in flight (tx_cnt - peer_fwd_cnt, both
 *    from the guest's latest header);
 *  - guest -> host: we advertise VSOCK_CONN_BUF and count in fwd_cnt what
 *    reached the host fd; what the fd has not taken yet (host_pending)
 *    never exceeds VSOCK_CONN_BUF, a guest that sends more is reset; a
 *    CREDIT_UPDATE is queued once VSOCK_CREDIT_THRESHOLD bytes were
 *    consumed since the guest last heard our fwd_cnt, or the host end took
 *    everything it held (the guest may be waiting for exactly that).
 */
#ifndef AVF_VMM_VSOCK_CONN_H
#define AVF_VMM_VSOCK_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

enum vconn_state {
	VCONN_FREE,
	VCONN_HANDSHAKE,	/* development socket: waiting for "CONNECT <port>" */
	VCONN_CONNECTING,	/* REQUEST queued or sent, waiting for RESPONSE */
	VCONN_ESTABLISHED,
	VCONN_CLOSING,		/* both directions done, SHUTDOWN(both) sent: waiting
				 * for the guest's RST (VSOCK_SHUTDOWN_TIMEOUT_MS) */
};

/* Control packets a connection still has to send (struct vconn.tx). */
#define VCONN_TX_REQUEST	(1U << 0)
#define VCONN_TX_CREDIT		(1U << 1)
#define VCONN_TX_SHUTDOWN	(1U << 2)	/* host end hit EOF: SHUTDOWN(SEND) */
#define VCONN_TX_RST		(1U << 3)
#define VCONN_TX_CLOSE		(1U << 4)	/* both directions done: SHUTDOWN(both) */

/* What the caller must do after an event (bit mask). */
#define VCONN_DO_FREE		(1U << 0)	/* forget the connection now */
#define VCONN_DO_RESET		(1U << 1)	/* drop the host end; the RST is queued */
#define VCONN_DO_ACCEPTED	(1U << 2)	/* the guest answered RESPONSE */
#define VCONN_DO_DELIVER	(1U << 3)	/* hand h->len payload bytes to the host end */
#define VCONN_DO_HOST_SHUT_RD	(1U << 4)	/* shutdown(SHUT_RD) on the host end */
#define VCONN_DO_HOST_SHUT_WR	(1U << 5)	/* shutdown(SHUT_WR) on the host end */

#define VCONN_SHUTDOWN_BOTH	(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

/**
 * struct vconn - protocol state of one host-initiated stream connection
 * @local_port: host-side port; @peer_port: guest port.
 * @peer_buf_alloc, @peer_fwd_cnt: the guest's receive credit, from its headers.
 * @tx_cnt: payload bytes sent to the guest.
 * @rx_cnt: payload bytes received from the guest.
 * @fwd_cnt: guest payload bytes the host end's fd took.
 * @fwd_cnt_sent: @fwd_cnt as last told to the guest.
 * @host_pending: guest bytes the host end holds that its fd did not take
 *	(rx_cnt - fwd_cnt), at most VSOCK_CONN_BUF.
 * @tx: VCONN_TX_* still to send.
 * @host_gone: the host end was closed by the device (reset): nothing more
 *	to read or write there.
 * @deadline_ms: CONNECTING/HANDSHAKE/CLOSING, or a hung-up host end the
 *	guest does not drain: when to give up (caller's monotonic clock).
 */
struct vconn {
	enum vconn_state state;
	uint32_t local_port;
	uint32_t peer_port;
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_cnt;
	uint32_t tx_cnt;
	uint32_t rx_cnt;
	uint32_t fwd_cnt;
	uint32_t fwd_cnt_sent;
	uint32_t host_pending;
	uint32_t tx;
	bool guest_shut_send;	/* guest sent SHUTDOWN(SEND): no more guest data */
	bool guest_shut_rcv;	/* guest sent SHUTDOWN(RCV): it reads no more */
	bool host_eof;		/* the host end read EOF (or is gone) */
	bool host_hup;		/* the host end hung up: read what is left, then EOF */
	bool host_wr_shut;	/* shutdown(SHUT_WR) done on the host end */
	bool host_gone;
	bool shut_sent;		/* our SHUTDOWN reached the guest */
	uint64_t deadline_ms;
};

/* What a timer says (vconn_expire()). */
enum vconn_expiry {
	VCONN_EXP_NONE,
	VCONN_EXP_RESET,	/* reset (drop the host end, RST the guest) */
	VCONN_EXP_FREE,		/* forget it: the guest never heard of it */
	VCONN_EXP_TIMEOUT,	/* CONNECTING too long: report -ETIMEDOUT, then reset */
	VCONN_EXP_TIMEOUT_FREE,	/* the same, REQUEST never sent: then free */
};

/* A new connection to guest @peer_port: REQUEST queued, CONNECTING until @deadline_ms. */
void vconn_connect(struct vconn *c, uint32_t local_port, uint32_t peer_port,
		   uint64_t deadline_ms);

/* The guest's free receive space for this connection. */
uint32_t vconn_credit(const struct vconn *c);

/*
 * A guest packet for this connection (already routed to it by port pair).
 * Returns VCONN_DO_*: with VCONN_DO_DELIVER the caller hands the h->len
 * payload bytes to the host end and reports with vconn_host_progress().
 */
unsigned int vconn_on_guest(struct vconn *c, const struct virtio_vsock_hdr *h);

/*
 * The host end's fd took @taken more guest bytes and @pending still wait
 * in the host end's buffer. Returns VCONN_DO_HOST_SHUT_WR once the guest's
 * SHUTDOWN(SEND) can reach the fd (every byte before it did).
 */
unsigned int vconn_host_progress(struct vconn *c, uint32_t taken, uint32_t pending);

/* The host end read EOF: SHUTDOWN(SEND) goes to the guest after the data. */
void vconn_host_eof(struct vconn *c);

/* The host end hung up at @now_ms. Returns VCONN_DO_RESET or 0. */
unsigned int vconn_host_hup(struct vconn *c, uint64_t now_ms, uint64_t timeout_ms);

/* Reset: the host end is dropped, RST goes to the guest. Returns VCONN_DO_RESET. */
unsigned int vconn_reset(struct vconn *c);

/* Whether host bytes could go to the guest now (given receive buffers). */
bool vconn_wants_host_data(const struct vconn *c);

/*
 * The next control packet, if any: returns its op (0: none) and fills
 * @flags (SHUTDOWN). Control packets go before data.
 */
uint16_t vconn_next_ctrl(const struct vconn *c, uint32_t *flags);

/* That packet reached the guest at @now_ms. Returns VCONN_DO_FREE after RST. */
unsigned int vconn_ctrl_sent(struct vconn *c, uint16_t op, uint32_t flags, uint64_t now_ms,
			     uint64_t shutdown_timeout_ms);

/* Payload bytes that may go to the guest now (0 when none may). */
uint32_t vconn_send_room(const struct vconn *c);

/* @n payload bytes reached the guest (its header carried our fwd_cnt). */
void vconn_data_sent(struct vconn *c, uint32_t n);

/* The timers at @now_ms. */
enum vconn_expiry vconn_expire(const struct vconn *c, uint64_t now_ms);

/* A header of this connection: host -> guest @guest_cid, with our credit. */
void vconn_hdr(const struct vconn *c, uint64_t guest_cid, uint16_t op,
	       struct virtio_vsock_hdr *h);

#endif
