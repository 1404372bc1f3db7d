/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of vsock connections: each connection's host end is a
 * non-blocking stream fd (the connectVsock socket the module brokered, or
 * a development-socket client) watched in the device's epoll set, with a
 * buffer of at most VSOCK_CONN_BUF guest bytes the fd has not taken yet.
 * No protocol here: the state machine (vsock_conn.h) decides, this file
 * does the I/O. Device thread only, with the device lock held.
 */
#ifndef AVF_VMM_VSOCK_HOST_H
#define AVF_VMM_VSOCK_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

/**
 * struct vsock_host_end - the host end of one connection
 * @fd: owned, non-blocking; -1 when none.
 * @watched: in the epoll set (a hung-up fd leaves it).
 * @events: current epoll interest.
 * @buf, @buf_len: guest bytes @fd has not taken yet (<= VSOCK_CONN_BUF).
 * @line, @line_len: development socket, the "CONNECT <port>\n" line so far.
 */
struct vsock_host_end {
	int fd;
	bool watched;
	uint32_t events;
	uint8_t *buf;
	uint32_t buf_len;
	char line[VSOCK_HANDSHAKE_MAX];
	uint32_t line_len;
};

/* Take over @fd and watch it in @epfd (no events yet) under @tag. Returns 0 or -errno. */
int vhost_open(struct vsock_host_end *e, int epfd, int fd, uint32_t tag);
/* Close the fd (if any), free the buffer; @e is empty afterwards. */
void vhost_close(struct vsock_host_end *e, int epfd);
/* The fd hung up: stop watching it (a level-triggered HUP cannot be masked). */
void vhost_unwatch(struct vsock_host_end *e, int epfd);

/*
 * Hand @len guest bytes to the fd; what it does not take waits in the
 * buffer (after what already waits there). @taken: bytes the fd took.
 * Returns 0, -ENOBUFS (more than the buffer holds), -ENOMEM or the
 * write error (-EPIPE: the host end is gone).
 */
int vhost_put(struct vsock_host_end *e, const uint8_t *p, uint32_t len, uint32_t *taken);
/* Write what waits in the buffer. @taken as above. Returns 0 or -errno. */
int vhost_flush(struct vsock_host_end *e, uint32_t *taken);
/* Read up to @len host bytes: >0 bytes, 0 EOF, -EAGAIN nothing now, or -errno. */
ssize_t vhost_get(struct vsock_host_end *e, uint8_t *buf, uint32_t len);
void vhost_shutdown(struct vsock_host_end *e, int how);

/* Watch for EPOLLIN when @want_in, for EPOLLOUT while bytes wait. */
void vhost_interest(struct vsock_host_end *e, int epfd, uint32_t tag, bool want_in);

/*
 * Development socket: read the "CONNECT <port>\n" line a byte at a time
 * (never past it). Returns 1 with @port, 0 for more to come, -1 for a
 * bad line or a closed socket.
 */
int vhost_handshake(struct vsock_host_end *e, uint32_t *port);
/* Reply "OK <local_port>\n" once the guest accepted. Returns 0 or -1. */
int vhost_handshake_ok(struct vsock_host_end *e, uint32_t local_port);

/* A listening UNIX socket at @path: the fd, or -errno. */
int vhost_listen_socket(const char *path);

#endif
