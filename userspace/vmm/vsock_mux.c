// SPDX-License-Identifier: GPL-2.0
/* The vsock connection table and RST queue (vsock_mux.h). */
#include <string.h>

#include "vsock_mux.h"

void vmux_init(struct vsock_mux *m)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->next_port = VSOCK_LOCAL_PORT_FIRST;
	for (i = 0; i < VSOCK_CONN_MAX; i++)
		m->conn[i].host.fd = -1;
}

struct vsock_conn *vmux_find(struct vsock_mux *m, uint32_t local_port, uint32_t peer_port)
{
	unsigned int i;

	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &m->conn[i];

		if (c->sm.state >= VCONN_CONNECTING && c->sm.local_port == local_port &&
		    c->sm.peer_port == peer_port)
			return c;
	}
	return NULL;
}

struct vsock_conn *vmux_alloc(struct vsock_mux *m)
{
	unsigned int i;

	for (i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &m->conn[i];

		if (c->sm.state != VCONN_FREE || c->host.fd >= 0)
			continue;
		memset(c, 0, sizeof(*c));
		c->host.fd = -1;
		return c;
	}
	return NULL;
}

uint32_t vmux_index(const struct vsock_mux *m, const struct vsock_conn *c)
{
	return (uint32_t)(c - m->conn);
}

uint32_t vmux_next_port(struct vsock_mux *m)
{
	for (;;) {
		uint32_t port = m->next_port++;
		unsigned int i;
		bool used = false;

		if (m->next_port < VSOCK_LOCAL_PORT_FIRST)
			m->next_port = VSOCK_LOCAL_PORT_FIRST;
		for (i = 0; i < VSOCK_CONN_MAX && !used; i++)
			used = m->conn[i].sm.state != VCONN_FREE && m->conn[i].sm.local_port == port;
		if (!used)
			return port;
	}
}

unsigned int vmux_count(const struct vsock_mux *m)
{
	unsigned int i, n = 0;

	for (i = 0; i < VSOCK_CONN_MAX; i++)
		n += m->conn[i].sm.state != VCONN_FREE;
	return n;
}

bool vmux_rst_push(struct vsock_mux *m, const struct virtio_vsock_hdr *h)
{
	if (m->rst_len >= VSOCK_PENDING_MAX)
		return false;
	m->rst[(m->rst_head + m->rst_len) % VSOCK_PENDING_MAX] = *h;
	m->rst_len++;
	return true;
}

const struct virtio_vsock_hdr *vmux_rst_peek(const struct vsock_mux *m)
{
	return m->rst_len ? &m->rst[m->rst_head] : NULL;
}

void vmux_rst_pop(struct vsock_mux *m)
{
	if (!m->rst_len)
		return;
	m->rst_head = (m->rst_head + 1) % VSOCK_PENDING_MAX;
	m->rst_len--;
}

void vmux_rst_clear(struct vsock_mux *m)
{
	m->rst_head = 0;
	m->rst_len = 0;
}
