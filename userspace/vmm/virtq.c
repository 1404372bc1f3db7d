// SPDX-License-Identifier: GPL-2.0
/* Split virtqueue walker. Layouts from <linux/virtio_ring.h>. */
#include <errno.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtq.h"

#define VQ_DESC_SIZE	16ULL

bool virtq_size_valid(uint32_t size, uint32_t max)
{
	return size != 0 && size <= max && (size & (size - 1)) == 0;
}

static uint64_t avail_bytes(uint16_t n)
{
	return 4 + 2ULL * n + 2;	/* flags, idx, ring[n], used_event */
}

static uint64_t used_bytes(uint16_t n)
{
	return 4 + 8ULL * n + 2;	/* flags, idx, ring[n], avail_event */
}

int virtq_activate(struct virtq *vq, const struct guest_mem *m, bool indirect)
{
	if (!virtq_size_valid(vq->size, VQ_SIZE_MAX))
		return -EINVAL;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	if (!gmem_range_ok(m, vq->desc_gpa, VQ_DESC_SIZE * vq->size) ||
	    !gmem_range_ok(m, vq->avail_gpa, avail_bytes(vq->size)) ||
	    !gmem_range_ok(m, vq->used_gpa, used_bytes(vq->size)))
		return -EFAULT;
	vq->indirect = indirect;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->active = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static uint16_t load16(const void *p)
{
	uint16_t v;

	__atomic_load((const uint16_t *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

/* Read one descriptor by value so the guest cannot change it under us. */
static void desc_read(const uint8_t *table, uint32_t i, struct vring_desc *d)
{
	memcpy(d, table + VQ_DESC_SIZE * i, sizeof(*d));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static int chain_add(struct vq_chain *c, const struct guest_mem *m,
		     const struct vring_desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	uint8_t *p;

	if (c->nseg >= VQ_CHAIN_MAX)
		return -E2BIG;
	if (d->len == 0)
		return -EINVAL;
	p = gmem_ptr(m, d->addr, d->len);
	if (!p)
		return -EFAULT;
	/* Device-readable segments must all precede device-writable ones. */
	if (!write && c->nseg > c->nout)
		return -EINVAL;
	c->seg[c->nseg].addr = p;
	c->seg[c->nseg].len = d->len;
	c->seg[c->nseg].write = write;
	c->nseg++;
	if (write)
		c->in_bytes += d->len;
	else
		c->nout++;
	return 0;
}

static int walk_indirect(struct vq_chain *c, const struct guest_mem *m,
			 const struct vring_desc *outer)
{
	struct vring_desc d;
	const uint8_t *table;
	uint32_t n, i, steps;
	int ret;

	if (outer->flags & VRING_DESC_F_NEXT)
		return -EINVAL;
	if (outer->len == 0 || outer->len % VQ_DESC_SIZE)
		return -EINVAL;
	n = outer->len / VQ_DESC_SIZE;
	if (n > VQ_CHAIN_MAX)
		return -E2BIG;
	if (outer->addr & 15)
		return -EINVAL;
	table = gmem_ptr(m, outer->addr, outer->len);
	if (!table)
		return -EFAULT;

	for (i = 0, steps = 0;; steps++) {
		if (steps >= n)
			return -ELOOP;
		desc_read(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;	/* nested indirect is forbidden */
		ret = chain_add(c, m, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EINVAL;
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_mem *m, struct vq_chain *c)
{
	const struct vring_avail *avail;
	const uint8_t *table;
	struct vring_desc d;
	uint16_t avail_idx, pending, head, i;
	unsigned int steps;
	int ret;

	if (!vq->active)
		return 0;
	avail = gmem_ptr(m, vq->avail_gpa, avail_bytes(vq->size));
	table = gmem_ptr(m, vq->desc_gpa, VQ_DESC_SIZE * vq->size);
	if (!avail || !table)
		return -EFAULT;

	avail_idx = load16(&avail->idx);
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -EOVERFLOW;

	head = load16(&avail->ring[vq->last_avail % vq->size]);
	if (head >= vq->size)
		return -EINVAL;
	vq->last_avail++;

	c->head = head;
	c->nseg = 0;
	c->nout = 0;
	c->in_bytes = 0;

	for (i = head, steps = 0;; steps++) {
		if (steps >= vq->size)
			return -ELOOP;
		desc_read(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return -EINVAL;
			ret = walk_indirect(c, m, &d);
			if (ret)
				return ret;
			return 1;
		}
		ret = chain_add(c, m, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
}

bool virtq_has_avail(const struct virtq *vq, const struct guest_mem *m)
{
	const struct vring_avail *avail;

	if (!vq->active)
		return false;
	avail = gmem_ptr(m, vq->avail_gpa, 4);
	return avail && load16(&avail->idx) != vq->last_avail;
}

int virtq_push(struct virtq *vq, const struct guest_mem *m, uint16_t head, uint32_t len)
{
	struct vring_used *used;
	struct vring_used_elem *e;

	if (!vq->active)
		return -EINVAL;
	used = gmem_ptr(m, vq->used_gpa, used_bytes(vq->size));
	if (!used)
		return -EFAULT;
	e = &used->ring[vq->used_idx % vq->size];
	e->id = head;
	e->len = len;
	vq->used_idx++;
	__atomic_store_n(&used->idx, vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_suppressed(const struct virtq *vq, const struct guest_mem *m)
{
	const struct vring_avail *avail = gmem_ptr(m, vq->avail_gpa, 4);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail && (load16(&avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

uint64_t vq_chain_out_bytes(const struct vq_chain *c)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < c->nout; i++)
		n += c->seg[i].len;
	return n;
}

uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	uint8_t *out = dst;
	uint64_t done = 0;
	unsigned int i;

	for (i = 0; i < c->nout && done < len; i++) {
		uint64_t seg_len = c->seg[i].len, n;

		if (off >= seg_len) {
			off -= seg_len;
			continue;
		}
		n = seg_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, c->seg[i].addr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len)
{
	const uint8_t *in = src;
	uint64_t done = 0;
	unsigned int i;

	for (i = c->nout; i < c->nseg && done < len; i++) {
		uint64_t seg_len = c->seg[i].len, n;

		if (off >= seg_len) {
			off -= seg_len;
			continue;
		}
		n = seg_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(c->seg[i].addr + off, in + done, n);
		done += n;
		off = 0;
	}
	return done;
}
