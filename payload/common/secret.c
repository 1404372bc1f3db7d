// SPDX-License-Identifier: GPL-2.0
#include "secret.h"

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <string.h>

void avf_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

int avf_hkdf_sha256(const unsigned char *vm_secret, size_t secret_len,
		    const char *salt, const void *info, size_t info_len,
		    unsigned char *out, size_t out_len)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	static const unsigned char empty[1];

	if (!out || !out_len)
		return -1;
	if (!md || !vm_secret || !salt || (!info && info_len) || out_len > 255u * 32u) {
		avf_wipe(out, out_len);
		return -1;
	}
	if (mbedtls_hkdf(md, (const unsigned char *)salt, strlen(salt), vm_secret, secret_len,
			 info ? info : empty, info_len, out, out_len)) {
		avf_wipe(out, out_len);
		return -1;
	}
	return 0;
}

int avf_derive_payload_secret(const unsigned char vm_secret[AVF_VM_SECRET_SIZE],
			      const void *id, size_t id_len, unsigned char *out, size_t size)
{
	if (size == 0 || size > AVF_PAYLOAD_SECRET_MAX) {
		avf_wipe(out, size > AVF_PAYLOAD_SECRET_MAX ? 0 : size);
		return -1;
	}
	return avf_hkdf_sha256(vm_secret, AVF_VM_SECRET_SIZE, AVF_SALT_PAYLOAD_SECRET,
			       id, id_len, out, size);
}

int avf_derive_storage_key(const unsigned char vm_secret[AVF_VM_SECRET_SIZE],
			   unsigned char key[AVF_STORAGE_KEY_SIZE])
{
	return avf_hkdf_sha256(vm_secret, AVF_VM_SECRET_SIZE, AVF_SALT_STORAGE_KEY,
			       AVF_STORAGE_KEY_INFO, strlen(AVF_STORAGE_KEY_INFO),
			       key, AVF_STORAGE_KEY_SIZE);
}
