/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-vsock device. The guest CID comes from the module. Policy: the
 * guest may not initiate connections (to the host or anywhere else), so
 * every guest REQUEST is answered with RST, as is any packet for a
 * connection the device does not know. Spoofed source CIDs are dropped.
 * Host-initiated connections (connectVsock) need a module interface that
 * does not exist yet; see Documentation/vmm.rst.
 */
#ifndef AVF_VMM_VIRTIO_VSOCK_H
#define AVF_VMM_VIRTIO_VSOCK_H

#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "virtio.h"

enum vsock_verdict {
	VSOCK_DROP,		/* malformed, spoofed or RST: consume silently */
	VSOCK_RST,		/* answer with RST */
};

struct vsock_dev {
	struct virtio_dev vd;
	uint64_t guest_cid;
	struct vq_chain chain;
	/* Bounded queue of replies waiting for guest rx buffers. */
	struct virtio_vsock_hdr pending[VSOCK_PENDING_MAX];
	unsigned int pend_head, pend_len;
	uint64_t dropped, rsts, spoofed;
};

/*
 * Parse a tx chain: the header must be complete, come from @guest_cid,
 * and carry no more payload than the chain holds. Returns 0 with @h filled,
 * or -EINVAL / -EPERM (spoofed source).
 */
int vsock_parse_tx(const struct vq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h);

/* What to do with a valid guest packet; fills @reply for VSOCK_RST. */
enum vsock_verdict vsock_route(const struct virtio_vsock_hdr *h, struct virtio_vsock_hdr *reply);

int vsock_dev_init(struct vsock_dev *v, const struct guest_mem *m, uint64_t guest_cid);

#endif
