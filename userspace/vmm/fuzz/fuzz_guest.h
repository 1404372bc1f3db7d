/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared layout for the libFuzzer targets: the input becomes guest RAM.
 * Queue q lives at FZ_QBASE(q): descriptors, then avail, then used ring,
 * each FZ_QSIZE entries. Guest RAM is malloc'ed at its exact size so that
 * ASan catches any access outside it.
 */
#ifndef AVF_VMM_FUZZ_GUEST_H
#define AVF_VMM_FUZZ_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio.h"

#define FZ_RAM		(64 * 1024)
#define FZ_QSIZE	16
#define FZ_QBASE(q)	(0x400ULL * (q))

static inline void fz_mem(struct guest_mem *m, const uint8_t *data, size_t size)
{
	m->host = malloc(FZ_RAM);
	m->size = FZ_RAM;
	m->memfd = -1;
	memset(m->host, 0, FZ_RAM);
	memcpy(m->host, data, size < FZ_RAM ? size : FZ_RAM);
}

/* Make queues 0..n-1 of @vd live at the fixed layout, as after DRIVER_OK. */
static inline void fz_activate(struct virtio_dev *vd, unsigned int n, int indirect)
{
	unsigned int q;

	for (q = 0; q < n; q++) {
		struct virtq *vq = &vd->vq[q];

		virtq_reset(vq);
		vq->size = FZ_QSIZE;
		vq->desc_gpa = FZ_QBASE(q);
		vq->avail_gpa = FZ_QBASE(q) + 0x100;
		vq->used_gpa = FZ_QBASE(q) + 0x200;
		vq->ready = true;
		virtq_activate(vq, vd->mem, indirect);
	}
	vd->status = 0xf;
}

#endif
