// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <linux/virtio_ids.h>

#include "virtio_vsock.h"

enum { VSOCK_Q_RX, VSOCK_Q_TX, VSOCK_Q_EVENT, VSOCK_NUM_QUEUES };

#define VSOCK_HDR_BYTES	sizeof(struct virtio_vsock_hdr)

int vsock_parse_tx(const struct vq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h)
{
	uint64_t out = vq_chain_out_bytes(c);

	if (out < VSOCK_HDR_BYTES)
		return -EINVAL;
	if (vq_chain_read(c, 0, h, VSOCK_HDR_BYTES) != VSOCK_HDR_BYTES)
		return -EINVAL;
	if (h->len > VSOCK_PKT_PAYLOAD_MAX || h->len > out - VSOCK_HDR_BYTES)
		return -EINVAL;
	if (h->src_cid != guest_cid)
		return -EPERM;
	return 0;
}

enum vsock_verdict vsock_route(const struct virtio_vsock_hdr *h, struct virtio_vsock_hdr *reply)
{
	if (h->op == VIRTIO_VSOCK_OP_RST || h->op == VIRTIO_VSOCK_OP_INVALID)
		return VSOCK_DROP;
	/*
	 * No connection exists on this device yet: a REQUEST is an outgoing
	 * connection the guest may not make, anything else is for an
	 * unknown connection. Both get RST.
	 */
	memset(reply, 0, sizeof(*reply));
	reply->src_cid = h->dst_cid;
	reply->dst_cid = h->src_cid;
	reply->src_port = h->dst_port;
	reply->dst_port = h->src_port;
	reply->type = h->type;
	reply->op = VIRTIO_VSOCK_OP_RST;
	return VSOCK_RST;
}

static void pending_add(struct vsock_dev *v, const struct virtio_vsock_hdr *h)
{
	if (v->pend_len >= VSOCK_PENDING_MAX) {
		v->dropped++;
		return;
	}
	v->pending[(v->pend_head + v->pend_len) % VSOCK_PENDING_MAX] = *h;
	v->pend_len++;
}

static int vsock_fill_rx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_RX];
	bool used = false;
	int ret = 0;

	while (v->pend_len && vq->active) {
		ret = virtq_pop(vq, v->vd.mem, &v->chain);
		if (ret <= 0)
			break;
		if (v->chain.in_bytes < VSOCK_HDR_BYTES || v->chain.nout) {
			ret = -EINVAL;
			break;
		}
		vq_chain_write(&v->chain, 0, &v->pending[v->pend_head], VSOCK_HDR_BYTES);
		v->pend_head = (v->pend_head + 1) % VSOCK_PENDING_MAX;
		v->pend_len--;
		ret = virtq_push(vq, v->vd.mem, v->chain.head, VSOCK_HDR_BYTES);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(&v->vd, vq);
	return ret < 0 ? ret : 0;
}

static int vsock_tx(struct vsock_dev *v)
{
	struct virtq *vq = &v->vd.vq[VSOCK_Q_TX];
	struct virtio_vsock_hdr h, reply;
	bool used = false;
	int ret;

	while ((ret = virtq_pop(vq, v->vd.mem, &v->chain)) > 0) {
		ret = vsock_parse_tx(&v->chain, v->guest_cid, &h);
		if (ret == -EPERM)
			v->spoofed++;
		else if (ret)
			v->dropped++;
		else if (vsock_route(&h, &reply) == VSOCK_RST) {
			v->rsts++;
			pending_add(v, &reply);
		}
		ret = virtq_push(vq, v->vd.mem, v->chain.head, 0);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(&v->vd, vq);
	if (ret < 0)
		return ret;
	return vsock_fill_rx(v);
}

static int vsock_process(struct virtio_dev *vd, unsigned int q)
{
	struct vsock_dev *v = vd->priv;

	switch (q) {
	case VSOCK_Q_TX:
		return vsock_tx(v);
	case VSOCK_Q_RX:
		return vsock_fill_rx(v);
	default:
		return 0;	/* event queue: the device sends no events */
	}
}

static void vsock_reset(struct virtio_dev *vd)
{
	struct vsock_dev *v = vd->priv;

	v->pend_head = 0;
	v->pend_len = 0;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = VSOCK_NUM_QUEUES,
	.config_size = sizeof(uint64_t),
	.process = vsock_process,
	.reset = vsock_reset,
};

int vsock_dev_init(struct vsock_dev *v, const struct guest_mem *m, uint64_t guest_cid)
{
	int ret = virtio_dev_init(&v->vd, &vsock_ops, v, m, 0);

	if (ret)
		return ret;
	v->guest_cid = guest_cid;
	v->pend_head = 0;
	v->pend_len = 0;
	v->dropped = 0;
	v->rsts = 0;
	v->spoofed = 0;
	memcpy(v->vd.config, &guest_cid, sizeof(guest_cid));
	return 0;
}
