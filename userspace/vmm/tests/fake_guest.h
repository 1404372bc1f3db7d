/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake guest for unit tests: a RAM buffer plus helpers that play the
 * driver side of one split virtqueue. No KVM involved.
 */
#ifndef AVF_VMM_TEST_FAKE_GUEST_H
#define AVF_VMM_TEST_FAKE_GUEST_H

#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "guest_mem.h"
#include "virtq.h"

#define FG_RAM		(1U << 20)
#define FG_DESC		0x1000ULL
#define FG_AVAIL	0x3000ULL
#define FG_USED		0x4000ULL
#define FG_INDIRECT	0x6000ULL
#define FG_DATA		0x10000ULL

struct fake_guest {
	struct guest_mem mem;
	uint16_t avail_idx;
};

static inline void fg_init(struct fake_guest *g)
{
	g->mem.host = calloc(1, FG_RAM);
	g->mem.size = FG_RAM;
	g->mem.memfd = -1;
	g->avail_idx = 0;
}

static inline void fg_free(struct fake_guest *g)
{
	free(g->mem.host);
}

static inline void fg_vq(struct fake_guest *g, struct virtq *vq, uint16_t size, uint64_t off)
{
	virtq_reset(vq);
	vq->size = size;
	vq->desc_gpa = FG_DESC + off;
	vq->avail_gpa = FG_AVAIL + off;
	vq->used_gpa = FG_USED + off;
	vq->ready = true;
	(void)g;
}

static inline struct vring_desc *fg_desc(struct fake_guest *g, uint64_t table, uint16_t i)
{
	return (struct vring_desc *)(g->mem.host + table) + i;
}

static inline void fg_set_desc(struct fake_guest *g, uint64_t table, uint16_t i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = fg_desc(g, table, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Publish @head on the avail ring of the queue at @off. */
static inline void fg_publish(struct fake_guest *g, const struct virtq *vq, uint16_t head)
{
	struct vring_avail *a = (struct vring_avail *)(g->mem.host + vq->avail_gpa);

	a->ring[g->avail_idx % vq->size] = head;
	g->avail_idx++;
	a->idx = g->avail_idx;
}

static inline struct vring_used *fg_used(struct fake_guest *g, const struct virtq *vq)
{
	return (struct vring_used *)(g->mem.host + vq->used_gpa);
}

#endif
