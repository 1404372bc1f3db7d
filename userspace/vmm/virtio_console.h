/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-console (single port, no multiport): guest output goes to a sink
 * callback on the device thread. There is no host input.
 *
 * The sink returns how many bytes it took. Taking fewer than offered is
 * backpressure: the device keeps the chain (not returned to the used ring,
 * no further chains popped) and offers the rest again on the next
 * virtio_dev_process(), i.e. after the sink drained. The guest's driver
 * waits for the used buffer; no VMM thread blocks.
 */
#ifndef AVF_VMM_VIRTIO_CONSOLE_H
#define AVF_VMM_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

typedef size_t (*console_sink_fn)(void *opaque, const uint8_t *buf, size_t len);

struct console_dev {
	struct virtio_dev vd;
	console_sink_fn sink;
	void *opaque;
	uint64_t bytes;		/* taken by the sink */
	struct vq_chain chain;
	/* A popped TX chain the sink has not taken completely (vd.lock). */
	bool held;
	unsigned int held_seg;
	uint32_t held_off;
};

/* Whether TX is held back by a full sink (any thread; a hint). */
static inline bool console_dev_blocked(const struct console_dev *c)
{
	return __atomic_load_n(&c->held, __ATOMIC_RELAXED);
}

int console_dev_init(struct console_dev *c, const struct guest_mem *m,
		     console_sink_fn sink, void *opaque);

#endif
