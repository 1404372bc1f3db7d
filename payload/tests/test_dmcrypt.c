// SPDX-License-Identifier: GPL-2.0
/* The dm-crypt table and the ext4 superblock check of the encrypted storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmcrypt.h"
#include "kselftest_harness.h"

TEST(sectors)
{
	ASSERT_EQ(-1, avf_dm_crypt_sectors(0));
	ASSERT_EQ(-1, avf_dm_crypt_sectors(512));
	ASSERT_EQ(-1, avf_dm_crypt_sectors(4096 + 512));
	ASSERT_EQ(8, avf_dm_crypt_sectors(4096));
	ASSERT_EQ(32768, avf_dm_crypt_sectors(16u << 20));
	ASSERT_EQ((int64_t)(UINT64_MAX / 512 & ~7ull),
		  avf_dm_crypt_sectors(UINT64_MAX & ~4095ull));
}

TEST(params_64_byte_key)
{
	unsigned char key[64];
	char buf[512];
	char want[512];
	int n;

	for (int i = 0; i < 64; i++)
		key[i] = (unsigned char)(i * 17);
	strcpy(want, "aes-xts-plain64 ");
	for (int i = 0; i < 64; i++)
		sprintf(want + strlen(want), "%02x", (unsigned int)(unsigned char)(i * 17));
	strcat(want, " 0 254:16 0 1 sector_size:4096");
	n = avf_dm_crypt_params(buf, sizeof(buf), key, sizeof(key), 254, 16);
	ASSERT_EQ((int)strlen(want), n);
	ASSERT_STREQ(want, buf);
	/* exactly the size needed, with the NUL */
	n = avf_dm_crypt_params(buf, strlen(want) + 1, key, sizeof(key), 254, 16);
	ASSERT_EQ((int)strlen(want), n);
}

TEST(params_fixed_example)
{
	unsigned char key[32];
	char buf[256];

	memset(key, 0xab, sizeof(key));
	ASSERT_LT(0, avf_dm_crypt_params(buf, sizeof(buf), key, sizeof(key), 8, 0));
	ASSERT_STREQ("aes-xts-plain64 "
		     "abababababababababababababababababababababababababababababababab"
		     " 0 8:0 0 1 sector_size:4096", buf);
}

TEST(params_refused_and_wiped)
{
	unsigned char key[64];
	char buf[512];

	memset(key, 0xcd, sizeof(key));
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(-1, avf_dm_crypt_params(buf, sizeof(buf), key, 48, 8, 0));
	for (size_t i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]);
	ASSERT_EQ(-1, avf_dm_crypt_params(buf, sizeof(buf), NULL, 64, 8, 0));
	/* too small at every length up to the needed one: never overflows, wiped */
	/* "aes-xts-plain64 " + 128 hex + " 0 8:0 0 1 sector_size:4096" = 171 */
	for (size_t size = 1; size <= 171; size++) {
		memset(buf, 'x', sizeof(buf));
		ASSERT_EQ(-1, avf_dm_crypt_params(buf, size, key, 64, 8, 0));
		for (size_t i = 0; i < size; i++)
			ASSERT_EQ(0, buf[i]);
		ASSERT_EQ('x', buf[size]);
	}
	ASSERT_EQ(171, avf_dm_crypt_params(buf, 172, key, 64, 8, 0));
	ASSERT_EQ(-1, avf_dm_crypt_params(NULL, 0, key, 64, 8, 0));
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void make_sb(unsigned char sb[1024], uint32_t blocks, uint32_t log_bs)
{
	memset(sb, 0, 1024);
	put32(sb + 0x04, blocks);
	put32(sb + 0x18, log_bs);
	put32(sb + 0x20, 32768);
	put32(sb + 0x28, 8192);
	sb[0x38] = 0x53;
	sb[0x39] = 0xef;
}

TEST(superblock)
{
	unsigned char sb[1024];

	make_sb(sb, 4096, 2);	/* 4096 blocks of 4 KiB = 16 MiB */
	ASSERT_EQ(1, avf_ext4_superblock_valid(sb, 16u << 20));
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 8u << 20));	/* larger than the device */
	sb[0x38] = 0;
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
	make_sb(sb, 4096, 40);
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
	make_sb(sb, 0, 2);
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
	make_sb(sb, 4096, 2);
	put32(sb + 0x20, 0);
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
	/* 64-bit block count */
	make_sb(sb, 0, 2);
	put32(sb + 0x60, 0x80);
	put32(sb + 0x150, 1);
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
	ASSERT_EQ(1, avf_ext4_superblock_valid(sb, 1ull << 44));
	memset(sb, 0xa5, sizeof(sb));	/* decrypted with the wrong key */
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));
}

/* a file system made by the mke2fs the guest image carries */
TEST(superblock_of_real_mke2fs)
{
	char path[] = "/tmp/avf-sb-XXXXXX", cmd[256];
	unsigned char sb[1024];
	int fd;

	if (access("/sbin/mke2fs", X_OK))
		SKIP(return, "no /sbin/mke2fs");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 << 20));
	ASSERT_EQ(1024, pread(fd, sb, sizeof(sb), 1024));
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 16u << 20));	/* zeros */
	snprintf(cmd, sizeof(cmd),
		 "/sbin/mke2fs -q -F -t ext4 -b 4096 -m 0 -E nodiscard,root_owner=1000:1000 %s",
		 path);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(1024, pread(fd, sb, sizeof(sb), 1024));
	close(fd);
	unlink(path);
	ASSERT_EQ(1, avf_ext4_superblock_valid(sb, 16u << 20));
	ASSERT_EQ(0, avf_ext4_superblock_valid(sb, 8u << 20));
}

TEST_HARNESS_MAIN
