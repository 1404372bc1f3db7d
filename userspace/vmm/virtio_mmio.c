// SPDX-License-Identifier: GPL-2.0
/* virtio-mmio version 2 transport (register map from <linux/virtio_mmio.h>). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "log.h"
#include "virtio.h"

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR	0x20465641	/* "AVF " */
#define VIRTIO_STATUS_KNOWN	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
				 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
				 VIRTIO_CONFIG_S_FAILED)

uint32_t virtio_queue_max(const struct virtio_dev_ops *ops, unsigned int q)
{
	if (q >= ops->num_queues)
		return 0;
	return ops->queue_max[q] ? ops->queue_max[q] : VQ_SIZE_MAX;
}

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		    void *priv, const struct guest_mem *mem, uint64_t features)
{
	unsigned int q;

	if (ops->num_queues > VQ_MAX_QUEUES || ops->config_size > VIRTIO_CONFIG_SPACE_MAX)
		return -EINVAL;
	for (q = 0; q < ops->num_queues; q++)
		if (!virtq_size_valid(virtio_queue_max(ops, q), VQ_SIZE_MAX))
			return -EINVAL;
	memset(vd, 0, sizeof(*vd));
	vd->ops = ops;
	vd->priv = priv;
	vd->mem = mem;
	vd->device_features = features | (1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (pthread_mutex_init(&vd->lock, NULL))
		return -ENOMEM;
	return 0;
}

void virtio_dev_exit(struct virtio_dev *vd)
{
	pthread_mutex_destroy(&vd->lock);
}

static void raise_int(struct virtio_dev *vd, uint32_t bit)
{
	__atomic_fetch_or(&vd->int_status, bit, __ATOMIC_SEQ_CST);
	if (vd->signal)
		vd->signal(vd);
}

void virtio_dev_used(struct virtio_dev *vd, struct virtq *vq)
{
	if (!virtq_suppressed(vq, vd->mem))
		raise_int(vd, VIRTIO_MMIO_INT_VRING);
}

void virtio_dev_fail(struct virtio_dev *vd, const char *why, int err)
{
	if (vd->failed)
		return;
	vd->failed = true;
	vd->errors++;
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vlog_ratelimited("%s: device error (%s: %s), needs reset\n", vd->ops->name, why,
			 strerror(-err));
	raise_int(vd, VIRTIO_MMIO_INT_CONFIG);
}

static void dev_reset(struct virtio_dev *vd)
{
	unsigned int i;

	if (vd->ops->reset)
		vd->ops->reset(vd);
	for (i = 0; i < VQ_MAX_QUEUES; i++)
		virtq_reset(&vd->vq[i]);
	vd->driver_features = 0;
	vd->dev_feat_sel = 0;
	vd->drv_feat_sel = 0;
	vd->queue_sel = 0;
	vd->status = 0;
	vd->failed = false;
	__atomic_store_n(&vd->int_status, 0, __ATOMIC_SEQ_CST);
}

static struct virtq *sel_queue(struct virtio_dev *vd)
{
	if (vd->queue_sel >= vd->ops->num_queues)
		return NULL;
	return &vd->vq[vd->queue_sel];
}

/* Queue registers are writable only between FEATURES_OK and DRIVER_OK. */
static struct virtq *writable_queue(struct virtio_dev *vd)
{
	struct virtq *vq = sel_queue(vd);

	if (!vq || vd->failed)
		return NULL;
	if (!(vd->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (vd->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return NULL;
	return vq;
}

static int activate(struct virtio_dev *vd)
{
	bool indirect = vd->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	unsigned int i;
	int ret;

	for (i = 0; i < vd->ops->num_queues; i++) {
		struct virtq *vq = &vd->vq[i];

		if (!vq->ready)
			continue;
		ret = virtq_activate(vq, vd->mem, indirect);
		if (ret)
			goto err;
	}
	if (vd->ops->activate) {
		ret = vd->ops->activate(vd);
		if (ret)
			goto err;
	}
	return 0;
err:
	for (i = 0; i < vd->ops->num_queues; i++)
		vd->vq[i].active = false;
	return ret;
}

static void write_status(struct virtio_dev *vd, uint32_t val)
{
	uint32_t old = vd->status, added;
	int ret;

	if (val == 0) {
		dev_reset(vd);
		return;
	}
	/* Bits are only ever added (reset clears), in the order of the spec. */
	if ((val & old & ~VIRTIO_CONFIG_S_NEEDS_RESET) != (old & ~VIRTIO_CONFIG_S_NEEDS_RESET) ||
	    (val & ~(VIRTIO_STATUS_KNOWN | VIRTIO_CONFIG_S_NEEDS_RESET)))
		goto refuse;
	added = val & ~old & VIRTIO_STATUS_KNOWN;
	if (added & VIRTIO_CONFIG_S_FAILED) {
		vd->status |= VIRTIO_CONFIG_S_FAILED;
		added &= ~VIRTIO_CONFIG_S_FAILED;
	}
	if (vd->failed && added)
		goto refuse;
	if ((added & VIRTIO_CONFIG_S_DRIVER) && !(val & VIRTIO_CONFIG_S_ACKNOWLEDGE))
		goto refuse;
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !(val & VIRTIO_CONFIG_S_DRIVER))
		goto refuse;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK))
		goto refuse;

	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		if ((vd->driver_features & ~vd->device_features) ||
		    !(vd->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			/* The driver reads back Status and sees no FEATURES_OK. */
			added &= ~(VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
		}
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		ret = activate(vd);
		if (ret) {
			vlog_ratelimited("%s: activation refused: %s\n", vd->ops->name,
					 strerror(-ret));
			vd->status |= added & ~VIRTIO_CONFIG_S_DRIVER_OK;
			virtio_dev_fail(vd, "activate", ret);
			return;
		}
	}
	vd->status |= added;
	return;
refuse:
	vlog_ratelimited("%s: illegal status transition %#x -> %#x ignored\n",
			 vd->ops->name, old, val);
}

static uint32_t read_reg(struct virtio_dev *vd, uint64_t off)
{
	struct virtq *vq = sel_queue(vd);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vd->dev_feat_sel == 0)
			return (uint32_t)vd->device_features;
		if (vd->dev_feat_sel == 1)
			return (uint32_t)(vd->device_features >> 32);
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? virtio_queue_max(vd->ops, vd->queue_sel) : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vd->int_status, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return vd->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return vq ? (uint32_t)vq->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq ? (uint32_t)(vq->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return vq ? (uint32_t)vq->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return vq ? (uint32_t)(vq->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return vq ? (uint32_t)vq->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return vq ? (uint32_t)(vq->used_gpa >> 32) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->config_generation;
	default:
		return 0;
	}
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

static void write_reg(struct virtio_dev *vd, uint64_t off, uint32_t val)
{
	struct virtq *vq;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vd->dev_feat_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(vd->status & VIRTIO_CONFIG_S_DRIVER) ||
		    (vd->status & VIRTIO_CONFIG_S_FEATURES_OK))
			return;
		if (vd->drv_feat_sel == 0)
			set_lo(&vd->driver_features, val);
		else if (vd->drv_feat_sel == 1)
			set_hi(&vd->driver_features, val);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vd->drv_feat_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		if (!(vd->status & VIRTIO_CONFIG_S_DRIVER_OK))
			vd->queue_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
		vq = writable_queue(vd);
		if (vq && !vq->ready)
			vq->size = (uint16_t)(val > 0xffff ? 0 : val);
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		vq = writable_queue(vd);
		if (!vq)
			return;
		if (val == 0)
			vq->ready = false;
		else if (val == 1 &&
			 virtq_size_valid(vq->size, virtio_queue_max(vd->ops, vd->queue_sel)))
			vq->ready = true;
		else
			vlog_ratelimited("%s: queue %u: bad size %u, not ready\n",
					 vd->ops->name, vd->queue_sel, vq->size);
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vq = writable_queue(vd);
		if (!vq || vq->ready)
			return;
		if (off == VIRTIO_MMIO_QUEUE_DESC_LOW)
			set_lo(&vq->desc_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_DESC_HIGH)
			set_hi(&vq->desc_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_AVAIL_LOW)
			set_lo(&vq->avail_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH)
			set_hi(&vq->avail_gpa, val);
		else if (off == VIRTIO_MMIO_QUEUE_USED_LOW)
			set_lo(&vq->used_gpa, val);
		else
			set_hi(&vq->used_gpa, val);
		return;
	case VIRTIO_MMIO_STATUS:
		write_status(vd, val);
		return;
	default:
		return;
	}
}

void virtio_mmio_read(struct virtio_dev *vd, uint64_t off, void *data, unsigned int len)
{
	uint32_t v;

	memset(data, 0, len);
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t coff = off - VIRTIO_MMIO_CONFIG;

		pthread_mutex_lock(&vd->lock);
		if (coff < vd->ops->config_size && len <= vd->ops->config_size - coff)
			memcpy(data, vd->config + coff, len);
		pthread_mutex_unlock(&vd->lock);
		return;
	}
	if (len != 4 || (off & 3))
		return;		/* registers are 32-bit, aligned */
	if (off == VIRTIO_MMIO_INTERRUPT_STATUS) {
		v = __atomic_load_n(&vd->int_status, __ATOMIC_SEQ_CST);
	} else {
		pthread_mutex_lock(&vd->lock);
		v = read_reg(vd, off);
		pthread_mutex_unlock(&vd->lock);
	}
	memcpy(data, &v, 4);
}

void virtio_mmio_write(struct virtio_dev *vd, uint64_t off, const void *data, unsigned int len)
{
	uint32_t v;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	if (off >= VIRTIO_MMIO_CONFIG)
		return;		/* no device has writable config fields */
	if (len != 4 || (off & 3))
		return;
	memcpy(&v, data, 4);
	if (off == VIRTIO_MMIO_INTERRUPT_ACK) {
		__atomic_fetch_and(&vd->int_status, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
		if (vd->kick)
			vd->kick(vd);
		return;
	}
	pthread_mutex_lock(&vd->lock);
	write_reg(vd, off, v);
	pthread_mutex_unlock(&vd->lock);
}

void virtio_dev_process(struct virtio_dev *vd)
{
	unsigned int q;
	int ret;

	pthread_mutex_lock(&vd->lock);
	for (q = 0; q < vd->ops->num_queues && virtio_dev_live(vd); q++) {
		if (!vd->vq[q].active)
			continue;
		ret = vd->ops->process(vd, q);
		if (ret < 0)
			virtio_dev_fail(vd, "queue", ret);
	}
	pthread_mutex_unlock(&vd->lock);
}
