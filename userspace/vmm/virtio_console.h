/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-console (single port, no multiport): guest output goes to a sink
 * callback on the device thread. There is no host input.
 */
#ifndef AVF_VMM_VIRTIO_CONSOLE_H
#define AVF_VMM_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

typedef void (*console_sink_fn)(void *opaque, const uint8_t *buf, size_t len);

struct console_dev {
	struct virtio_dev vd;
	console_sink_fn sink;
	void *opaque;
	uint64_t bytes;
	struct vq_chain chain;
};

int console_dev_init(struct console_dev *c, const struct guest_mem *m,
		     console_sink_fn sink, void *opaque);

#endif
