/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-vsock packets against their descriptor chains (pure: no device
 * state). A tx chain from the guest is parsed into a header that is known
 * to fit it; the payload is walked where the chain holds it; replies for
 * what no connection takes are built here.
 */
#ifndef AVF_VMM_VSOCK_PACKET_H
#define AVF_VMM_VSOCK_PACKET_H

#include <stdint.h>

#include <linux/virtio_vsock.h>

#include "virtq.h"

#define VSOCK_HDR_BYTES		sizeof(struct virtio_vsock_hdr)

enum vsock_verdict {
	VSOCK_DROP,		/* malformed, spoofed or RST: consume silently */
	VSOCK_RST,		/* answer with RST */
};

/*
 * Parse a tx chain: the header must lie complete in the device-readable
 * part, come from @guest_cid, and carry no more payload than that part
 * holds after it (nor more than VSOCK_PKT_PAYLOAD_MAX). Returns 0 with @h
 * filled, or -EINVAL / -EPERM (spoofed source).
 */
int vsock_parse_tx(const struct vq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h);

/*
 * What to do with a packet no connection takes (a guest REQUEST, which it
 * may not make, or a packet for an unknown connection); fills @reply, the
 * RST, for VSOCK_RST.
 */
enum vsock_verdict vsock_route(const struct virtio_vsock_hdr *h, struct virtio_vsock_hdr *reply);

/*
 * Call @fn on each piece of the @len payload bytes following the header in
 * the readable segments of @c (vsock_parse_tx() checked they are there).
 * Stops at the first nonzero return and returns it.
 */
int vsock_for_each_payload(const struct vq_chain *c, uint32_t len,
			   int (*fn)(void *arg, const uint8_t *p, uint32_t n), void *arg);

/* Whether an rx chain can hold a packet with @len payload bytes (device-writable only). */
int vsock_rx_fits(const struct vq_chain *c, uint32_t len);

#endif
