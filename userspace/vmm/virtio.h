/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transport-neutral virtio device and the virtio-mmio (version 2) transport.
 *
 * Threads: register accesses come from vCPU threads (virtio_mmio_read/write),
 * queue processing runs on the device thread (virtio_dev_process). Both hold
 * vd->lock; only InterruptStatus/InterruptACK are lock-free (atomic) so that
 * the guest's interrupt handler never waits on device I/O.
 */
#ifndef AVF_VMM_VIRTIO_H
#define AVF_VMM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "limits.h"
#include "virtq.h"

#define VIRTIO_CONFIG_SPACE_MAX	64

struct virtio_dev;

/**
 * struct virtio_dev_ops - what a device model provides (const, shared)
 * @name: for log messages.
 * @device_id: VIRTIO_ID_*.
 * @num_queues: queues the device exposes (<= VQ_MAX_QUEUES).
 * @config_size: bytes of device config space (<= VIRTIO_CONFIG_SPACE_MAX).
 * @queue_max: QueueNumMax of each queue, a power of two up to VQ_SIZE_MAX;
 *	0 (the default) offers VQ_SIZE_MAX. A driver that fills a receive
 *	queue the device never uses pays a page and a notification per entry.
 * @process: device thread: handle available buffers on queue @q.
 *	Returns 0, or a negative errno for a driver error: the device then
 *	goes to NEEDS_RESET.
 * @activate: optional; DRIVER_OK accepted, queues are live.
 * @reset: optional; the driver wrote 0 to Status.
 */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned int num_queues;
	uint32_t config_size;
	uint16_t queue_max[VQ_MAX_QUEUES];
	int (*process)(struct virtio_dev *vd, unsigned int q);
	int (*activate)(struct virtio_dev *vd);
	void (*reset)(struct virtio_dev *vd);
};

/**
 * struct virtio_dev - one device instance behind a transport
 * @lock: protects everything below except @int_status.
 * @int_status: VIRTIO_MMIO_INT_* bits, atomic.
 * @signal: raise the device's interrupt line (irqfd write or test hook).
 * @kick: wake the device thread for a QueueNotify that reached userspace.
 */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct guest_mem *mem;
	pthread_mutex_t lock;

	uint64_t device_features;
	uint64_t driver_features;
	uint32_t dev_feat_sel;
	uint32_t drv_feat_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t config_generation;
	bool failed;
	struct virtq vq[VQ_MAX_QUEUES];
	uint8_t config[VIRTIO_CONFIG_SPACE_MAX];

	uint32_t int_status;

	void (*signal)(struct virtio_dev *vd);
	void (*kick)(struct virtio_dev *vd);
	void *wire;		/* owner of signal/kick */
	unsigned int slot;
	uint64_t errors;	/* driver errors seen (NEEDS_RESET count) */
};

/* QueueNumMax of queue @q of @ops (0 for a queue it does not have). */
uint32_t virtio_queue_max(const struct virtio_dev_ops *ops, unsigned int q);

/* Set up @vd; @features are device-specific bits (VERSION_1 is added). */
int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops,
		    void *priv, const struct guest_mem *mem, uint64_t features);
void virtio_dev_exit(struct virtio_dev *vd);

/* vCPU side: one access at @off (0..0xfff) of width @len (1/2/4/8). */
void virtio_mmio_read(struct virtio_dev *vd, uint64_t off, void *data, unsigned int len);
void virtio_mmio_write(struct virtio_dev *vd, uint64_t off, const void *data, unsigned int len);

/* Device thread: process every live queue. */
void virtio_dev_process(struct virtio_dev *vd);

/* For device models (lock held): used buffers are ready on @vq. */
void virtio_dev_used(struct virtio_dev *vd, struct virtq *vq);
/* For device models (lock held): the driver broke the protocol. */
void virtio_dev_fail(struct virtio_dev *vd, const char *why, int err);

static inline bool virtio_dev_live(const struct virtio_dev *vd)
{
	return !vd->failed && (vd->status & 4 /* DRIVER_OK */);
}

#endif
