/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueue (virtio 1.x) walker, hardened against a hostile driver:
 * chains are cut after the queue size, every buffer is bounds-checked
 * against guest RAM, indirect tables are validated, and an avail index that
 * runs ahead by more than the queue size is a device error.
 */
#ifndef AVF_VMM_VIRTQ_H
#define AVF_VMM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "limits.h"

struct virtq {
	/* Driver-programmed state (transport registers). */
	uint16_t size;
	bool ready;
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	/* Device state after activation. */
	bool active;
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t last_avail;
	uint16_t used_idx;
};

/* One segment of a descriptor chain, already translated to host memory. */
struct vq_seg {
	uint8_t *addr;
	uint32_t len;
	bool write;		/* device-writable */
};

struct vq_chain {
	uint16_t head;
	unsigned int nseg;
	unsigned int nout;	/* leading device-readable segments */
	uint64_t in_bytes;	/* total device-writable bytes */
	struct vq_seg seg[VQ_CHAIN_MAX];
};

/* Size 1..max and a power of two. */
bool virtq_size_valid(uint32_t size, uint32_t max);

/* Validate ring placement and alignment; on success the queue is active. */
int virtq_activate(struct virtq *vq, const struct guest_mem *m, bool indirect);
void virtq_reset(struct virtq *vq);

/*
 * Take the next available chain.
 * Returns 1 with @c filled, 0 when the ring is empty, or a negative errno
 * when the driver broke the ring (the device must go to NEEDS_RESET).
 */
int virtq_pop(struct virtq *vq, const struct guest_mem *m, struct vq_chain *c);

/* Whether the driver made buffers available that were not taken yet. */
bool virtq_has_avail(const struct virtq *vq, const struct guest_mem *m);

/* Return a chain to the driver with @len bytes written. */
int virtq_push(struct virtq *vq, const struct guest_mem *m, uint16_t head, uint32_t len);

/* Whether the driver asked not to be interrupted (VRING_AVAIL_F_NO_INTERRUPT). */
bool virtq_suppressed(const struct virtq *vq, const struct guest_mem *m);

/* Copy helpers over the readable / writable parts of a chain. */
uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len);
uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len);
uint64_t vq_chain_out_bytes(const struct vq_chain *c);

#endif
