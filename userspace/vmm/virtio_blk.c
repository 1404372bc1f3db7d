// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "virtio_blk.h"

#define BLK_HDR_BYTES	16	/* struct virtio_blk_outhdr */

int blk_parse(const struct vq_chain *c, struct blk_req *r)
{
	struct virtio_blk_outhdr hdr;
	const struct vq_seg *last;
	uint64_t out = vq_chain_out_bytes(c);

	memset(r, 0, sizeof(*r));
	if (out < BLK_HDR_BYTES || c->nseg == c->nout || c->in_bytes < 1)
		return -EINVAL;
	if (vq_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return -EINVAL;
	last = &c->seg[c->nseg - 1];
	r->type = hdr.type;
	r->sector = hdr.sector;
	r->out_data = out - BLK_HDR_BYTES;
	r->in_data = c->in_bytes - 1;
	r->status = last->addr + last->len - 1;
	return 0;
}

int blk_check_range(uint64_t sector, uint64_t bytes, uint64_t capacity)
{
	uint64_t nsect;

	if (bytes % BLK_SECTOR_SIZE)
		return -EINVAL;
	if (sector > (UINT64_MAX >> BLK_SECTOR_SHIFT))
		return -ERANGE;
	nsect = bytes >> BLK_SECTOR_SHIFT;
	if (sector > capacity || nsect > capacity - sector)
		return -ERANGE;
	return 0;
}

static int blk_read(struct blk_dev *b, const struct vq_chain *c, uint64_t off, uint64_t len)
{
	uint64_t done = 0;
	unsigned int i;

	for (i = c->nout; i < c->nseg && done < len; i++) {
		uint8_t *p = c->seg[i].addr;
		uint64_t n = c->seg[i].len;

		if (n > len - done)
			n = len - done;
		while (n) {
			ssize_t got = 0;
			uint64_t want = n;

			if (off < b->size) {
				if (want > b->size - off)
					want = b->size - off;
				got = pread(b->fd, p, want, (off_t)off);
				if (got < 0 && errno == EINTR)
					continue;
				if (got < 0)
					return -errno;
			}
			if (got == 0) {
				/* Past EOF (tail of the last sector): zeroes. */
				got = (ssize_t)n;
				memset(p, 0, n);
			}
			p += got;
			off += (uint64_t)got;
			done += (uint64_t)got;
			n -= (uint64_t)got;
		}
	}
	return 0;
}

static int blk_write(struct blk_dev *b, const struct vq_chain *c, uint64_t off, uint64_t len)
{
	uint64_t skip = BLK_HDR_BYTES, done = 0;
	unsigned int i;

	for (i = 0; i < c->nout && done < len; i++) {
		uint8_t *p = c->seg[i].addr;
		uint64_t n = c->seg[i].len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		p += skip;
		n -= skip;
		skip = 0;
		if (n > len - done)
			n = len - done;
		while (n) {
			ssize_t w = pwrite(b->fd, p, n, (off_t)off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			p += w;
			off += (uint64_t)w;
			done += (uint64_t)w;
			n -= (uint64_t)w;
		}
	}
	return 0;
}

uint8_t blk_execute(struct blk_dev *b, const struct vq_chain *c, const struct blk_req *r,
		    uint32_t *written)
{
	*written = 1;	/* the status byte */
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (blk_check_range(r->sector, r->in_data, b->capacity))
			return VIRTIO_BLK_S_IOERR;
		if (blk_read(b, c, r->sector << BLK_SECTOR_SHIFT, r->in_data))
			return VIRTIO_BLK_S_IOERR;
		*written += (uint32_t)r->in_data;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (b->ro)
			return VIRTIO_BLK_S_IOERR;
		if (blk_check_range(r->sector, r->out_data, b->capacity))
			return VIRTIO_BLK_S_IOERR;
		if (blk_write(b, c, r->sector << BLK_SECTOR_SHIFT, r->out_data))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->ro && fdatasync(b->fd) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t n = r->in_data < BLK_ID_BYTES ? r->in_data : BLK_ID_BYTES;

		vq_chain_write(c, 0, b->id, n);
		*written += (uint32_t)n;
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static int blk_process(struct virtio_dev *vd, unsigned int q)
{
	struct blk_dev *b = vd->priv;
	struct virtq *vq = &vd->vq[q];
	struct blk_req r;
	bool used = false;
	uint32_t written;
	int ret;

	while ((ret = virtq_pop(vq, vd->mem, &b->chain)) > 0) {
		ret = blk_parse(&b->chain, &r);
		if (ret)
			break;
		*r.status = blk_execute(b, &b->chain, &r, &written);
		if (*r.status == VIRTIO_BLK_S_IOERR)
			b->ioerrs++;
		ret = virtq_push(vq, vd->mem, b->chain.head, written);
		if (ret)
			break;
		used = true;
	}
	if (used)
		virtio_dev_used(vd, vq);
	return ret;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.config_size = 24,	/* capacity, size_max, seg_max, geometry */
	.process = blk_process,
};

int blk_dev_init(struct blk_dev *b, const struct guest_mem *m, int fd, bool ro,
		 const char *id)
{
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH);
	uint32_t seg_max = VQ_CHAIN_MAX - 2;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (ro)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	ret = virtio_dev_init(&b->vd, &blk_ops, b, m, features);
	if (ret)
		return ret;
	b->fd = fd;
	b->ro = ro;
	b->size = (uint64_t)st.st_size;
	b->capacity = (b->size + BLK_SECTOR_SIZE - 1) >> BLK_SECTOR_SHIFT;
	b->ioerrs = 0;
	memset(b->id, 0, sizeof(b->id));
	memcpy(b->id, id, strnlen(id, sizeof(b->id)));
	memcpy(b->vd.config, &b->capacity, 8);
	memcpy(b->vd.config + 12, &seg_max, 4);
	return 0;
}

void blk_dev_exit(struct blk_dev *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	virtio_dev_exit(&b->vd);
}
