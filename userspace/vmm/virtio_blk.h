/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk over a host file: read-only (app package) or read-write
 * (encrypted storage image). Requests are parsed and bounds-checked by
 * blk_parse() (pure) and executed with pread/pwrite/fdatasync on the device
 * thread.
 */
#ifndef AVF_VMM_VIRTIO_BLK_H
#define AVF_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

struct blk_dev {
	struct virtio_dev vd;
	int fd;
	bool ro;
	uint64_t size;		/* bytes in the backing file */
	uint64_t capacity;	/* sectors shown to the guest (size rounded up) */
	char id[BLK_ID_BYTES];
	struct vq_chain chain;
	uint64_t ioerrs;
};

/* A parsed request; data lies after the 16-byte header / before the status byte. */
struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint64_t out_data;	/* device-readable data bytes (after header) */
	uint64_t in_data;	/* device-writable data bytes (before status) */
	uint8_t *status;
};

/* Returns 0, or -EINVAL when the chain cannot carry a request at all. */
int blk_parse(const struct vq_chain *c, struct blk_req *r);

/* Bounds check: 0 when [sector, sector + bytes/512) is inside @capacity. */
int blk_check_range(uint64_t sector, uint64_t bytes, uint64_t capacity);

/* Execute @r on @b; returns the VIRTIO_BLK_S_* status, *written = bytes put in the chain. */
uint8_t blk_execute(struct blk_dev *b, const struct vq_chain *c, const struct blk_req *r,
		    uint32_t *written);

/* @fd is owned by the device afterwards. */
int blk_dev_init(struct blk_dev *b, const struct guest_mem *m, int fd, bool ro,
		 const char *id);
void blk_dev_exit(struct blk_dev *b);

#endif
