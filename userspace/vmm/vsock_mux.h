/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vsock connection table: at most VSOCK_CONN_MAX connections per VM,
 * found by their port pair (host port, guest port), and the queue of RSTs
 * for packets no connection takes (at most VSOCK_PENDING_MAX wait for
 * guest receive buffers; more are dropped and counted). Pure bookkeeping:
 * no I/O. Device lock held.
 */
#ifndef AVF_VMM_VSOCK_MUX_H
#define AVF_VMM_VSOCK_MUX_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "limits.h"
#include "vsock_conn.h"
#include "vsock_host.h"

/**
 * struct vsock_conn - one connection: protocol state plus its host end
 * @sm: the state machine (vsock_conn.h).
 * @host: the host end (vsock_host.h).
 * @hybrid: came from the development socket: answer "OK <port>\n".
 * @brokered: a module request whose outcome is not reported yet (@req_id).
 * @moved_ms, @seen_*, @stall_logged: stall diagnostics (virtio_vsock.c).
 */
struct vsock_conn {
	struct vconn sm;
	struct vsock_host_end host;
	bool hybrid;
	bool brokered;
	uint64_t req_id;
	uint64_t moved_ms;
	uint32_t seen_tx_cnt, seen_fwd_cnt, seen_peer_fwd_cnt;
	bool stall_logged;
};

struct vsock_mux {
	struct vsock_conn conn[VSOCK_CONN_MAX];
	unsigned int rr;		/* round-robin start for rx */
	uint32_t next_port;		/* next host port (VSOCK_LOCAL_PORT_FIRST upward) */
	struct virtio_vsock_hdr rst[VSOCK_PENDING_MAX];
	unsigned int rst_head, rst_len;
};

void vmux_init(struct vsock_mux *m);
/* The connection of this port pair, past the development handshake; NULL if none. */
struct vsock_conn *vmux_find(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port);
/* A free slot (zeroed, no host end), or NULL when VSOCK_CONN_MAX are in use. */
struct vsock_conn *vmux_alloc(struct vsock_mux *m);
/* The slot number of @c (the epoll tag of its host end). */
uint32_t vmux_index(const struct vsock_mux *m, const struct vsock_conn *c);
/* A host port no live connection uses. */
uint32_t vmux_next_port(struct vsock_mux *m);
unsigned int vmux_count(const struct vsock_mux *m);

/* Queue an RST; false when the queue is full (the caller counts the drop). */
bool vmux_rst_push(struct vsock_mux *m, const struct virtio_vsock_hdr *h);
/* The oldest queued RST, or NULL; vmux_rst_pop() once it went out. */
const struct virtio_vsock_hdr *vmux_rst_peek(const struct vsock_mux *m);
void vmux_rst_pop(struct vsock_mux *m);
void vmux_rst_clear(struct vsock_mux *m);

#endif
