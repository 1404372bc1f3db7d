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
	while ((ret = virtq_pop(vq, vd->mem, &c->chain)) > 0) {
		for (i = 0; i < c->chain.nout; i++) {
			c->sink(c->opaque, c->chain.seg[i].addr, c->chain.seg[i].len);
			c->bytes += c->chain.seg[i].len;
		}
		ret = virtq_push(vq, vd->mem, c->chain.head, 0);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(vd, vq);
	return ret;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = CONSOLE_NUM_QUEUES,
	.config_size = sizeof(struct virtio_console_config),
	.process = console_process,
};

int console_dev_init(struct console_dev *c, const struct guest_mem *m,
		     console_sink_fn sink, void *opaque)
{
	c->sink = sink;
	c->opaque = opaque;
	c->bytes = 0;
	return virtio_dev_init(&c->vd, &console_ops, c, m, 0);
}
