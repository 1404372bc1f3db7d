// SPDX-License-Identifier: GPL-2.0
/* virtio-vsock packet parsing and replies (vsock_packet.h). */
#include <errno.h>
#include <string.h>

#include "limits.h"
#include "vsock_packet.h"

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
	memset(reply, 0, sizeof(*reply));
	reply->src_cid = h->dst_cid;
	reply->dst_cid = h->src_cid;
	reply->src_port = h->dst_port;
	reply->dst_port = h->src_port;
	reply->type = h->type;
	reply->op = VIRTIO_VSOCK_OP_RST;
	return VSOCK_RST;
}

int vsock_for_each_payload(const struct vq_chain *c, uint32_t len,
			   int (*fn)(void *arg, const uint8_t *p, uint32_t n), void *arg)
{
	uint64_t off = VSOCK_HDR_BYTES;
	unsigned int i;
	int ret;

	for (i = 0; i < c->nout && len; i++) {
		const struct vq_seg *s = &c->seg[i];
		uint32_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - (uint32_t)off < len ? s->len - (uint32_t)off : len;
		ret = fn(arg, s->addr + off, n);
		if (ret)
			return ret;
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

int vsock_rx_fits(const struct vq_chain *c, uint32_t len)
{
	return !c->nout && c->in_bytes >= VSOCK_HDR_BYTES + (uint64_t)len;
}
