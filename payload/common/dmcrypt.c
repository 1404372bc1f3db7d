// SPDX-License-Identifier: GPL-2.0
#include "dmcrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "secret.h"

#define DM_CONTROL	"/dev/mapper/control"

int64_t avf_dm_crypt_sectors(uint64_t dev_bytes)
{
	if (dev_bytes == 0 || dev_bytes % AVF_DM_SECTOR_SIZE || dev_bytes / 512 > INT64_MAX)
		return -1;
	return (int64_t)(dev_bytes / 512);
}

int avf_dm_crypt_params(char *buf, size_t size, const unsigned char *key, size_t key_len,
			unsigned int major, unsigned int minor)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int len;

	if (!buf || !size)
		return -1;
	if (!key || (key_len != 32 && key_len != 64))
		goto bad;
	len = snprintf(buf, size, "%s ", AVF_DM_CIPHER);
	if (len < 0 || (size_t)len >= size)
		goto bad;
	n = (size_t)len;
	if (size - n <= key_len * 2)
		goto bad;
	for (size_t i = 0; i < key_len; i++) {
		buf[n++] = hex[key[i] >> 4];
		buf[n++] = hex[key[i] & 15];
	}
	len = snprintf(buf + n, size - n, " 0 %u:%u 0 1 sector_size:%u", major, minor,
		       AVF_DM_SECTOR_SIZE);
	if (len < 0 || (size_t)len >= size - n)
		goto bad;
	return (int)(n + (size_t)len);
bad:
	avf_wipe(buf, size);
	return -1;
}

static void dm_init(struct dm_ioctl *io, size_t size, const char *name)
{
	memset(io, 0, sizeof(*io));
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", name);
}

static int dm_open(void)
{
	return open(DM_CONTROL, O_RDWR | O_CLOEXEC);
}

int avf_dm_remove(const char *name)
{
	struct dm_ioctl io;
	int fd = dm_open(), rc = 0;

	if (fd < 0)
		return -errno;
	for (int tries = 0; tries < 50; tries++) {
		dm_init(&io, sizeof(io), name);
		if (ioctl(fd, DM_DEV_REMOVE, &io) == 0) {
			rc = 0;
			break;
		}
		rc = -errno;
		if (errno != EBUSY)
			break;
		usleep(20000);	/* the last opener may be going away */
	}
	close(fd);
	return rc;
}

int avf_dm_create_crypt(const char *name, uint64_t sectors, const char *params,
			dev_t *dev, char *err, size_t errlen)
{
	/* dm_ioctl, one target spec, the parameters (key in hex), NUL, padding */
	union {
		struct dm_ioctl io;
		unsigned char raw[sizeof(struct dm_ioctl) + sizeof(struct dm_target_spec) + 512];
	} u;
	struct dm_target_spec spec;
	size_t plen = strlen(params), total;
	int fd, rc;

	if (strlen(name) >= DM_NAME_LEN) {
		snprintf(err, errlen, "device-mapper name too long");
		return -EINVAL;
	}
	total = sizeof(u.io) + sizeof(spec) + ((plen + 1 + 7) & ~(size_t)7);
	if (total > sizeof(u.raw)) {
		snprintf(err, errlen, "dm-crypt parameters too long");
		return -EINVAL;
	}
	fd = dm_open();
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", DM_CONTROL, strerror(errno));
		return rc;
	}

	dm_init(&u.io, sizeof(u.io), name);
	if (ioctl(fd, DM_DEV_CREATE, &u.io)) {
		rc = -errno;
		snprintf(err, errlen, "DM_DEV_CREATE %s: %s", name, strerror(errno));
		close(fd);
		return rc;
	}
	*dev = makedev(major(u.io.dev), minor(u.io.dev));

	memset(&u, 0, sizeof(u));
	dm_init(&u.io, total, name);
	u.io.target_count = 1;
	memset(&spec, 0, sizeof(spec));
	spec.sector_start = 0;
	spec.length = sectors;
	spec.next = (uint32_t)(total - sizeof(u.io));
	snprintf(spec.target_type, sizeof(spec.target_type), "crypt");
	memcpy(u.raw + sizeof(u.io), &spec, sizeof(spec));
	memcpy(u.raw + sizeof(u.io) + sizeof(spec), params, plen + 1);
	rc = ioctl(fd, DM_TABLE_LOAD, &u.io) ? -errno : 0;
	avf_wipe(&u, sizeof(u));	/* the key */
	if (rc) {
		snprintf(err, errlen, "DM_TABLE_LOAD %s: %s", name, strerror(-rc));
		goto fail;
	}

	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the table goes live */
	dm_init(&u.io, sizeof(u.io), name);
	if (ioctl(fd, DM_DEV_SUSPEND, &u.io)) {
		rc = -errno;
		snprintf(err, errlen, "DM_DEV_SUSPEND (resume) %s: %s", name, strerror(errno));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	avf_dm_remove(name);
	return rc;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int avf_ext4_superblock_valid(const unsigned char sb[1024], uint64_t dev_bytes)
{
	uint32_t blocks_lo = le32(sb + 0x04), log_bs = le32(sb + 0x18);
	uint32_t blocks_hi = le32(sb + 0x150), incompat = le32(sb + 0x60);
	uint32_t per_group = le32(sb + 0x20), inodes_per_group = le32(sb + 0x28);
	uint64_t blocks;

	if (sb[0x38] != 0x53 || sb[0x39] != 0xef)	/* s_magic 0xEF53 */
		return 0;
	if (log_bs > 6 || per_group == 0 || inodes_per_group == 0)	/* 1 KiB..64 KiB */
		return 0;
	blocks = blocks_lo;
	if (incompat & 0x80)	/* INCOMPAT_64BIT */
		blocks |= (uint64_t)blocks_hi << 32;
	if (blocks == 0 || blocks > (dev_bytes >> (10 + log_bs)))
		return 0;
	return 1;
}
