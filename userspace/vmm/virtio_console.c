// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "virtio_console.h"

enum { CONSOLE_Q_RX, CONSOLE_Q_TX, CONSOLE_NUM_QUEUES };

static int console_process(struct virtio_dev *vd, unsigned int q)
{
	struct console_dev *c = vd->priv;
	struct virtq *vq = &vd->vq[q];
	bool used = false;
	unsigned int i;
	int ret;

	/* No host input: receive buffers stay with the device until reset. */
	if (q != CONSOLE_Q_TX)
		return 0;
	for (;;) {
		if (!c->held) {
			ret = virtq_pop(vq, vd->mem, &c->chain);
			if (ret <= 0)
				break;
			c->held_seg = 0;
			c->held_off = 0;
			__atomic_store_n(&c->held, true, __ATOMIC_RELAXED);
		}
		for (i = c->held_seg; i < c->chain.nout; i++) {
			const struct vq_seg *s = &c->chain.seg[i];
			size_t n = c->sink(c->opaque, s->addr + c->held_off, s->len - c->held_off);

			if (n > s->len - c->held_off)
				n = s->len - c->held_off;
			c->bytes += n;
			c->held_off += (uint32_t)n;
			if (c->held_off < s->len)
				break;
			c->held_off = 0;
		}
		c->held_seg = i;
		if (i < c->chain.nout) {	/* sink full: keep the chain */
			ret = 0;
			break;
		}
		__atomic_store_n(&c->held, false, __ATOMIC_RELAXED);
		ret = virtq_push(vq, vd->mem, c->chain.head, 0);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(vd, vq);
	return ret;
}

/* The driver reset the device: a held chain is forgotten with the queues. */
static void console_reset(struct virtio_dev *vd)
{
	struct console_dev *c = vd->priv;

	__atomic_store_n(&c->held, false, __ATOMIC_RELAXED);
	c->held_seg = 0;
	c->held_off = 0;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = CONSOLE_NUM_QUEUES,
	.config_size = sizeof(struct virtio_console_config),
	/*
	 * The host never writes to a console: Linux fills the receive queue
	 * whole, a page and a notification per entry (3 MiB and 768 exits a
	 * boot at 256), so it gets one entry.
	 */
	.queue_max = { [CONSOLE_Q_RX] = 1 },
	.process = console_process,
	.reset = console_reset,
};

int console_dev_init(struct console_dev *c, const struct guest_mem *m,
		     console_sink_fn sink, void *opaque)
{
	c->sink = sink;
	c->opaque = opaque;
	c->bytes = 0;
	c->held = false;
	c->held_seg = 0;
	c->held_off = 0;
	return virtio_dev_init(&c->vd, &console_ops, c, m, 0);
}
