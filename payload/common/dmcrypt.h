/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Encrypted storage: a dm-crypt device set up with the device-mapper ioctls
 * (no cryptsetup), and the ext4 superblock check that decides whether the
 * decrypted device must be formatted.
 */
#ifndef AVF_PAYLOAD_DMCRYPT_H
#define AVF_PAYLOAD_DMCRYPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AVF_DM_CIPHER		"aes-xts-plain64"
#define AVF_DM_SECTOR_SIZE	4096u

/*
 * Length of the crypt target in 512-byte sectors for a backing device of
 * @dev_bytes, or -1 when the device is empty or not whole 4096-byte sectors.
 */
int64_t avf_dm_crypt_sectors(uint64_t dev_bytes);

/*
 * The crypt target's parameters:
 *   "aes-xts-plain64 <hex key> 0 <major>:<minor> 0 1 sector_size:4096"
 * into @buf of @size bytes. @key_len must be 32 or 64 (AES-128/256-XTS).
 * Returns the string length, or -1 (buffer too small, bad key length: @buf
 * is wiped then). The caller wipes @buf after use: it holds the key.
 */
int avf_dm_crypt_params(char *buf, size_t size, const unsigned char *key, size_t key_len,
			unsigned int major, unsigned int minor);

/*
 * Create device-mapper device @name with one crypt target of @sectors and
 * @params, and resume it. The device number is stored in @dev. On failure
 * the half-made device is removed and a reason written to @err.
 * Returns 0 or -errno.
 */
int avf_dm_create_crypt(const char *name, uint64_t sectors, const char *params,
			dev_t *dev, char *err, size_t errlen);

/* Remove device-mapper device @name. Returns 0 or -errno. */
int avf_dm_remove(const char *name);

/*
 * 1 when @sb (the 1024 bytes at offset 1024 of a device of @dev_bytes)
 * looks like an ext2/3/4 superblock that fits the device, else 0.
 */
int avf_ext4_superblock_valid(const unsigned char sb[1024], uint64_t dev_bytes);

#endif
