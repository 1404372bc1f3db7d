// SPDX-License-Identifier: GPL-2.0
/*
 * Example payload: derives the instance secret for "avf-test" and logs its
 * SHA-256 (never the secret itself), then whether this is a new instance.
 */
#include <errno.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	unsigned char secret[32], hash[32];
	bool is_new;

	if (!AVmPayload_getVmInstanceSecret("avf-test", 8, secret, sizeof(secret))) {
		printf("secret-error: %s\n", strerror(errno));
		return 1;
	}
	if (mbedtls_sha256_ret(secret, sizeof(secret), hash, 0)) {
		printf("secret-error: sha256 failed\n");
		return 1;
	}
	explicit_bzero(secret, sizeof(secret));
	printf("secret-hash: ");
	for (size_t i = 0; i < sizeof(hash); i++)
		printf("%02x", hash[i]);
	printf("\n");
	errno = 0;
	is_new = AVmPayload_isNewInstance();
	if (!is_new && errno)
		printf("new-instance: unknown (%s)\n", strerror(errno));
	else
		printf("new-instance: %d\n", is_new ? 1 : 0);
	fflush(stdout);
	AVmPayload_notifyPayloadReady();
	return 0;
}
