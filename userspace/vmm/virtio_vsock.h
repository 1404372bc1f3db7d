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
 * Structure (as Firecracker's vsock): vsock_packet.c parses packets
 * against their descriptor chains, vsock_conn.c is the per-connection
 * state machine (pure), vsock_mux.c the connection table keyed by port
 * pair with the RST queue, vsock_host.c the host-side backend (fds); this
 * file is the device: the queues, and the glue between those.
 *
 * Context: all device work (queues, host fds, timers) runs on the device
 * thread with vd->lock held. A guest-written device reset (on a vCPU
 * thread) only marks the connections for dropping; the device thread
 * drops them (closing fds, reporting brokered requests) on its next pass,
 * before it touches the queues again. Limits: limits.h ("virtio-vsock").
 */
#ifndef AVF_VMM_VIRTIO_VSOCK_H
#define AVF_VMM_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "virtio.h"
#include "vsock_conn.h"
#include "vsock_host.h"
#include "vsock_mux.h"
#include "vsock_packet.h"

/**
 * struct vsock_dev - the virtio-vsock device of one VM
 * @mux: connections and queued RSTs.
 * @epfd: host ends of connections (and the listener).
 * @listen_fd: development socket, -1 if none.
 * @reset_pending: the guest reset the device; the device thread drops
 *	every connection before anything else.
 * @dropped: malformed packets, and RSTs that did not fit the queue.
 * @rsts: RSTs queued for packets no connection takes.
 * @spoofed: packets with a source CID other than the guest's.
 * @refused: connections the guest tried to open (to the host, another
 *	VM, any CID or port): each was answered with RST.
 * @conn_done: outcome of a brokered connection (AVF_VMM_CONN_DONE): 0,
 *	-ECONNREFUSED or -ETIMEDOUT. Returns 0, or -errno (-ENOENT: nobody
 *	waits any more).
 */
struct vsock_dev {
	struct virtio_dev vd;
	uint64_t guest_cid;
	struct vq_chain chain;
	struct vsock_mux mux;
	int epfd;
	int listen_fd;
	bool reset_pending;
	uint64_t dropped, rsts, spoofed, refused;
	int (*conn_done)(void *opaque, uint64_t id, int32_t result);
	void *conn_done_opaque;
	/* A connection stopped making progress (logged): the VM may look at its vCPUs. */
	void (*stalled)(void *opaque);
	uint8_t bounce[VSOCK_PKT_PAYLOAD_MAX];
};

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

/*
 * Connections the guest tried to open since the device was created (each
 * refused with RST): guest REQUESTs to the host CID, to another VM's CID
 * or to any port. Any thread (an atomic read).
 */
uint64_t vsock_refused_count(const struct vsock_dev *v);

#endif
