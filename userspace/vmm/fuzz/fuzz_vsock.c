// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: virtio-vsock packet handling (tx parsing, RST replies on rx). */
#include <fcntl.h>
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
