/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keys derived from the 32-byte VM secret (Documentation/interfaces.rst,
 * "Identity and secrets"): HKDF-SHA-256 with a per-purpose salt.
 */
#ifndef AVF_PAYLOAD_SECRET_H
#define AVF_PAYLOAD_SECRET_H

#include <stddef.h>

#define AVF_VM_SECRET_SIZE		32u
#define AVF_PAYLOAD_SECRET_MAX		32u
#define AVF_STORAGE_KEY_SIZE		64u	/* aes-xts with AES-256: two keys */
#define AVF_SALT_PAYLOAD_SECRET		"avf-payload-secret-v1"
#define AVF_SALT_STORAGE_KEY		"avf-storage-key-v1"
#define AVF_STORAGE_KEY_INFO		"encryptedstore"

/*
 * HKDF-SHA-256(ikm = @vm_secret, salt = @salt, info = @info) into @out of
 * @out_len bytes (at most 255 * 32). Returns 0, or -1 (and @out zeroed).
 */
int avf_hkdf_sha256(const unsigned char *vm_secret, size_t secret_len,
		    const char *salt, const void *info, size_t info_len,
		    unsigned char *out, size_t out_len);

/* AVmPayload_getVmInstanceSecret(): @size 1..AVF_PAYLOAD_SECRET_MAX */
int avf_derive_payload_secret(const unsigned char vm_secret[AVF_VM_SECRET_SIZE],
			      const void *id, size_t id_len, unsigned char *out, size_t size);

/* The dm-crypt key of the encrypted storage */
int avf_derive_storage_key(const unsigned char vm_secret[AVF_VM_SECRET_SIZE],
			   unsigned char key[AVF_STORAGE_KEY_SIZE]);

/* Zero @len bytes at @p in a way the compiler keeps. */
void avf_wipe(void *p, size_t len);

#endif
