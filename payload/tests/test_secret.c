// SPDX-License-Identifier: GPL-2.0
/*
 * Key derivation from the VM secret: known answers computed independently
 * (Python hmac/hashlib, RFC 5869 HKDF-SHA-256) when this test was written.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "secret.h"

static void unhex(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
}

static void ikm_counting(unsigned char s[AVF_VM_SECRET_SIZE])
{
	for (unsigned int i = 0; i < AVF_VM_SECRET_SIZE; i++)
		s[i] = (unsigned char)i;
}

TEST(payload_secret_known_answer)
{
	unsigned char vm[32], want[32], got[32];

	ikm_counting(vm);
	unhex("c4f0d66b0a17d13e042190a91b90d421991a433926e309f1026364de9642616e", want, 32);
	ASSERT_EQ(0, avf_derive_payload_secret(vm, "avf-test", 8, got, 32));
	ASSERT_EQ(0, memcmp(want, got, 32));
	/* deterministic, and a shorter size is a prefix */
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, avf_derive_payload_secret(vm, "avf-test", 8, got, 16));
	ASSERT_EQ(0, memcmp(want, got, 16));
	for (int i = 16; i < 32; i++)
		ASSERT_EQ(0, got[i]);
}

TEST(payload_secret_other_vm_secret)
{
	unsigned char vm[32], want[32], got[32];

	memset(vm, 0xff, sizeof(vm));
	unhex("acdd38f26a4318413046088e7b09a4a745cfde10d4b71224dcfca020ba0a24b1", want, 32);
	ASSERT_EQ(0, avf_derive_payload_secret(vm, "avf-test", 8, got, 32));
	ASSERT_EQ(0, memcmp(want, got, 32));
}

TEST(payload_secret_empty_and_long_identifier)
{
	unsigned char vm[32], want[32], got[32], id[4000];

	ikm_counting(vm);
	unhex("561b3c55088e1ecaeda737d24fa240cdc98ac69ce6c32169f6b51d02bd7e31f6", want, 32);
	ASSERT_EQ(0, avf_derive_payload_secret(vm, NULL, 0, got, 32));
	ASSERT_EQ(0, memcmp(want, got, 32));
	ASSERT_EQ(0, avf_derive_payload_secret(vm, "", 0, got, 32));
	ASSERT_EQ(0, memcmp(want, got, 32));
	memset(id, 0, sizeof(id));
	ASSERT_EQ(0, avf_derive_payload_secret(vm, id, sizeof(id), got, 1));
	ASSERT_EQ(0x06, got[0]);
}

TEST(payload_secret_bad_sizes)
{
	unsigned char vm[32], got[64];

	ikm_counting(vm);
	memset(got, 0x5a, sizeof(got));
	ASSERT_EQ(-1, avf_derive_payload_secret(vm, "x", 1, got, 0));
	ASSERT_EQ(-1, avf_derive_payload_secret(vm, "x", 1, got, 33));
	ASSERT_EQ(-1, avf_derive_payload_secret(vm, "x", 1, got, (size_t)-1));
	ASSERT_EQ(-1, avf_derive_payload_secret(vm, NULL, 5, got, 32));
	for (int i = 0; i < 32; i++)	/* wiped on failure */
		ASSERT_EQ(0, got[i]);
}

TEST(storage_key_known_answer)
{
	unsigned char vm[32], want[64], got[64];

	ikm_counting(vm);
	unhex("26dddb9cb4b6e78eaf51bd68e1dfdf3c3c22f7ea41162b361879571224926bbd"
	      "e5008cff03547a157d991bdf3a45728795401827d514a9ab6c36309ba1769276", want, 64);
	ASSERT_EQ(0, avf_derive_storage_key(vm, got));
	ASSERT_EQ(0, memcmp(want, got, 64));
	/* separated from the payload secrets by the salt */
	ASSERT_EQ(0, avf_derive_payload_secret(vm, AVF_STORAGE_KEY_INFO,
					       strlen(AVF_STORAGE_KEY_INFO), got, 32));
	ASSERT_NE(0, memcmp(want, got, 32));
}

TEST(wipe)
{
	unsigned char b[8];

	memset(b, 1, sizeof(b));
	avf_wipe(b, sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		ASSERT_EQ(0, b[i]);
	avf_wipe(NULL, 4);
}

TEST_HARNESS_MAIN
