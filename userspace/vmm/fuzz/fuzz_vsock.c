// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: virtio-vsock packet handling - tx parsing and RST replies,
 * the per-connection state machine fed the input as guest headers, and
 * the whole device over guest memory made of the input.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_guest.h"
#include "virtio_vsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vsock_dev v;
	static struct vq_chain c;
	struct virtio_vsock_hdr h, reply;
	struct guest_mem m;

	if (size < 1)
		return 0;
	/* The parser alone over a chain made of the raw input. */
	if (size - 1 <= UINT32_MAX) {
		memset(&c, 0, sizeof(c));
		c.nseg = c.nout = 1;
		c.seg[0] = (struct vq_seg){ (uint8_t *)data + 1, (uint32_t)(size - 1), false };
		if (size > 1 && vsock_parse_tx(&c, 2048, &h) == 0)
			vsock_route(&h, &reply);
	}
	/* The state machine alone: the input is a sequence of guest headers. */
	{
		struct vconn sm;
		uint32_t flags;
		size_t off;

		vconn_connect(&sm, VSOCK_LOCAL_PORT_FIRST, 5000, 1000);
		for (off = 1; off + sizeof(h) <= size; off += sizeof(h)) {
			unsigned int act;
			uint16_t op;

			memcpy(&h, data + off, sizeof(h));
			op = vconn_next_ctrl(&sm, &flags);
			if (op && vconn_ctrl_sent(&sm, op, flags, off, 10) & VCONN_DO_FREE)
				break;
			act = vconn_on_guest(&sm, &h);
			if (act & VCONN_DO_FREE)
				break;
			if (act & VCONN_DO_DELIVER)
				vconn_host_progress(&sm, h.len / 2, sm.host_pending + h.len - h.len / 2);
			if (data[0] & 4)
				vconn_host_eof(&sm);
			vconn_expire(&sm, off);
			if (sm.host_pending > VSOCK_CONN_BUF || vconn_credit(&sm) > sm.peer_buf_alloc)
				abort();
			if (vconn_send_room(&sm))
				vconn_data_sent(&sm, vconn_send_room(&sm) / 2 + 1);
		}
	}
	/* The whole device over guest memory made of the input. */
	fz_mem(&m, data + 1, size - 1);
	if (vsock_dev_init(&v, &m, 2048 + data[0]))
		abort();
	fz_activate(&v.vd, 3, data[0] & 1);
	if (data[0] & 2) {
		/* A host connection to guest port 5000 with data waiting. */
		int sp[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
			abort();
		if (write(sp[0], "host data", 9) != 9 || vsock_dev_connect(&v, sp[1], 5000, false))
			abort();
		vsock_dev_poll(&v);
		virtio_dev_process(&v.vd);
		vsock_dev_poll(&v);
		close(sp[0]);
		vsock_dev_poll(&v);
	}
	virtio_dev_process(&v.vd);
	virtio_dev_process(&v.vd);
	vsock_dev_exit(&v);
	free(m.host);
	return 0;
}
