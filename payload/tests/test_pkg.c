// SPDX-License-Identifier: GPL-2.0
/* Package extraction against hostile archives. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <minizip/zip.h>

#include "kselftest_harness.h"
#include "pkg.h"

struct zent {
	const char *name;
	const void *data;
	size_t size;
	uint32_t mode;		/* st_mode in the Unix external attributes, 0: none */
	const char *password;
	int method;		/* Z_DEFLATED or 0 (stored) */
};

static int write_zip(const char *path, const struct zent *e, int n)
{
	zipFile zf = zipOpen64(path, APPEND_STATUS_CREATE);

	if (!zf)
		return -1;
	for (int i = 0; i < n; i++) {
		zip_fileinfo zi;
		unsigned long crc = crc32(0, e[i].data, (uInt)e[i].size);

		memset(&zi, 0, sizeof(zi));
		zi.tmz_date.tm_year = 1980;
		zi.tmz_date.tm_mday = 1;
		zi.external_fa = (uLong)e[i].mode << 16;
		if (zipOpenNewFileInZip4_64(zf, e[i].name, &zi, NULL, 0, NULL, 0, NULL,
					    e[i].method, 6, 0, -MAX_WBITS, DEF_MEM_LEVEL,
					    Z_DEFAULT_STRATEGY, e[i].password, crc,
					    (3 << 8) | 20, 0, 0) != ZIP_OK)
			return -1;
		if (e[i].size && zipWriteInFileInZip(zf, e[i].data, (unsigned)e[i].size) != ZIP_OK)
			return -1;
		if (zipCloseFileInZip(zf) != ZIP_OK)
			return -1;
	}
	return zipClose(zf, NULL) == ZIP_OK ? 0 : -1;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

FIXTURE(pkg) {
	char base[64];
	char dest[96];
	char zip[96];
	struct avf_pkg_limits lim;
	char err[256];
};

FIXTURE_SETUP(pkg)
{
	const struct avf_pkg_limits lim = AVF_PKG_DEFAULT_LIMITS;

	strcpy(self->base, "/tmp/avf-pkg-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->base));
	snprintf(self->dest, sizeof(self->dest), "%s/out/in", self->base);
	snprintf(self->zip, sizeof(self->zip), "%s/p.zip", self->base);
	{
		char out[96];

		snprintf(out, sizeof(out), "%s/out", self->base);
		ASSERT_EQ(0, mkdir(out, 0755));
		ASSERT_EQ(0, mkdir(self->dest, 0755));
	}
	self->lim = lim;
}

FIXTURE_TEARDOWN(pkg)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->base);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->base);
}

static int extract(struct __test_metadata *m, FIXTURE_DATA(pkg) *self,
		   const struct zent *e, int n)
{
	(void)m;
	if (write_zip(self->zip, e, n))
		return -2;
	return avf_pkg_extract(self->zip, self->dest, &self->lim, self->err, sizeof(self->err));
}
#define EXTRACT(e) extract(_metadata, self, e, (int)(sizeof(e) / sizeof((e)[0])))

static int clear_dest(FIXTURE_DATA(pkg) *self)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", self->dest);
	return system(cmd);
}

/* nothing may appear outside dest */
static void assert_outside_clean(struct __test_metadata *_metadata, FIXTURE_DATA(pkg) *self)
{
	char out[96];

	snprintf(out, sizeof(out), "%s/out", self->base);
	ASSERT_EQ(1, count_entries(out));	/* only "in" */
	ASSERT_EQ(2, count_entries(self->base));	/* "out" and p.zip */
}

TEST_F(pkg, good_package)
{
	const struct zent e[] = {
		{ "lib/x86_64/hello.so", "ELF!", 4, S_IFREG | 0755, NULL, Z_DEFLATED },
		{ "assets/", "", 0, S_IFDIR | 0755, NULL, 0 },
		{ "assets/a/b.txt", "bee", 3, S_IFREG | 0644, NULL, 0 },
		{ "empty", "", 0, 0, NULL, Z_DEFLATED },
	};
	char path[160], buf[16];
	struct stat st;
	int fd;

	ASSERT_EQ(3, EXTRACT(e)) TH_LOG("%s", self->err);
	snprintf(path, sizeof(path), "%s/lib/x86_64/hello.so", self->dest);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "ELF!", 4));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0644u, st.st_mode & 07777);
	close(fd);
	snprintf(path, sizeof(path), "%s/assets/a/b.txt", self->dest);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(3, st.st_size);
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, trailing_zeros_like_a_block_device)
{
	const struct zent e[] = { { "lib/x86_64/a.so", "x", 1, 0, NULL, Z_DEFLATED } };
	static const char zero[1000];
	int fd;

	ASSERT_EQ(0, write_zip(self->zip, e, 1));
	fd = open(self->zip, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(zero), write(fd, zero, sizeof(zero)));
	close(fd);
	ASSERT_EQ(1, avf_pkg_extract(self->zip, self->dest, &self->lim, self->err,
				     sizeof(self->err))) TH_LOG("%s", self->err);
}

TEST_F(pkg, dotdot_rejected)
{
	const struct zent e[] = { { "../evil", "x", 1, 0, NULL, Z_DEFLATED } };

	ASSERT_EQ(-1, EXTRACT(e));
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, nested_dotdot_rejected)
{
	const struct zent e[] = {
		{ "lib/ok", "x", 1, 0, NULL, Z_DEFLATED },
		{ "lib/../../evil", "x", 1, 0, NULL, Z_DEFLATED },
	};

	ASSERT_EQ(-1, EXTRACT(e));
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, absolute_rejected)
{
	char name[128];
	struct zent e[] = { { name, "x", 1, 0, NULL, Z_DEFLATED } };

	snprintf(name, sizeof(name), "%s/abs", self->base);
	ASSERT_EQ(-1, EXTRACT(e));
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, symlink_rejected)
{
	/* a Unix symlink entry pointing outside, then a write through it */
	const struct zent e[] = {
		{ "link", "/tmp", 4, S_IFLNK | 0777, NULL, 0 },
		{ "link/evil", "x", 1, 0, NULL, Z_DEFLATED },
	};

	ASSERT_EQ(-1, EXTRACT(e));
	ASSERT_EQ(0, count_entries(self->dest));
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, special_files_rejected)
{
	const struct zent dev[] = { { "dev", "", 0, S_IFCHR | 0666, NULL, 0 } };
	const struct zent fifo[] = { { "fifo", "", 0, S_IFIFO | 0666, NULL, 0 } };
	const struct zent dirdata[] = { { "d/", "x", 1, S_IFDIR | 0755, NULL, 0 } };
	const struct zent mismatch[] = { { "notadir", "", 0, S_IFDIR | 0755, NULL, 0 } };

	ASSERT_EQ(-1, EXTRACT(dev));
	ASSERT_EQ(-1, EXTRACT(fifo));
	ASSERT_EQ(-1, EXTRACT(dirdata));
	ASSERT_EQ(-1, EXTRACT(mismatch));
	ASSERT_EQ(0, count_entries(self->dest));
}

TEST_F(pkg, unsafe_names_rejected)
{
	const char *bad[] = { "a//b", "./a", "a/./b", "a\\b", "..\\evil", "a\nb", "a/..", "/",
			      "//x", "a\x01" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zent e[] = { { bad[i], "x", 1, 0, NULL, Z_DEFLATED } };

		ASSERT_EQ(-1, EXTRACT(e)) TH_LOG("accepted '%s'", bad[i]);
	}
	assert_outside_clean(_metadata, self);
}

TEST_F(pkg, duplicate_rejected)
{
	const struct zent e[] = {
		{ "lib/x86_64/a.so", "one", 3, 0, NULL, Z_DEFLATED },
		{ "lib/x86_64/a.so", "two", 3, 0, NULL, Z_DEFLATED },
	};

	ASSERT_EQ(-1, EXTRACT(e));
	ASSERT_NE(NULL, strstr(self->err, "duplicate"));
}

TEST_F(pkg, encrypted_rejected)
{
	const struct zent e[] = { { "secret", "x", 1, 0, "password", Z_DEFLATED } };

	ASSERT_EQ(-1, EXTRACT(e));
	ASSERT_EQ(0, count_entries(self->dest));
}

TEST_F(pkg, huge_entry_rejected)
{
	size_t big = 8u << 20;
	void *zeros = calloc(1, big);
	struct zent e[] = { { "bomb", zeros, big, 0, NULL, Z_DEFLATED } };

	ASSERT_NE(NULL, zeros);
	self->lim.max_file_size = 1u << 20;
	ASSERT_EQ(-1, EXTRACT(e));
	ASSERT_NE(NULL, strstr(self->err, "too large")) TH_LOG("%s", self->err);
	ASSERT_EQ(0, count_entries(self->dest));
	free(zeros);
}

TEST_F(pkg, total_size_limit)
{
	static char data[4096];
	const struct zent e[] = {
		{ "a", data, sizeof(data), 0, NULL, Z_DEFLATED },
		{ "b", data, sizeof(data), 0, NULL, Z_DEFLATED },
		{ "c", data, sizeof(data), 0, NULL, Z_DEFLATED },
	};

	self->lim.max_total_size = 10000;
	ASSERT_EQ(-1, EXTRACT(e));
	ASSERT_EQ(0, clear_dest(self));
	self->lim.max_total_size = 3 * sizeof(data);
	ASSERT_EQ(3, EXTRACT(e)) TH_LOG("%s", self->err);
}

TEST_F(pkg, too_many_entries)
{
	const struct zent e[] = {
		{ "a", "x", 1, 0, NULL, 0 }, { "b", "x", 1, 0, NULL, 0 },
		{ "c", "x", 1, 0, NULL, 0 }, { "d", "x", 1, 0, NULL, 0 },
	};

	self->lim.max_entries = 3;
	ASSERT_EQ(-1, EXTRACT(e));
}

/* patch the 32-bit field at @off after every occurrence of signature @sig */
static int patch_u32(const char *path, const char *sig, size_t off, uint32_t val)
{
	static unsigned char buf[1 << 20];
	int fd = open(path, O_RDWR), hits = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	for (ssize_t i = 0; i + (ssize_t)off + 4 <= n; i++)
		if (!memcmp(buf + i, sig, 4)) {
			memcpy(buf + i + off, &val, 4);	/* little-endian host */
			hits++;
		}
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		hits = -1;
	close(fd);
	return hits;
}

TEST_F(pkg, lying_sizes_rejected)
{
	static char data[64 * 1024];
	const struct zent e[] = { { "liar", data, sizeof(data), 0, NULL, Z_DEFLATED } };

	memset(data, 'A', sizeof(data));
	ASSERT_EQ(0, write_zip(self->zip, e, 1));
	/* uncompressed size: local header +22, central directory +24 */
	ASSERT_EQ(1, patch_u32(self->zip, "PK\3\4", 22, 16));
	ASSERT_EQ(1, patch_u32(self->zip, "PK\1\2", 24, 16));
	ASSERT_EQ(-1, avf_pkg_extract(self->zip, self->dest, &self->lim, self->err,
				      sizeof(self->err)));
	TH_LOG("rejected: %s", self->err);
}

TEST_F(pkg, corrupt_data_rejected)
{
	static char data[8192];
	const struct zent e[] = { { "x", data, sizeof(data), 0, NULL, 0 } };
	int fd;

	memset(data, 'B', sizeof(data));
	ASSERT_EQ(0, write_zip(self->zip, e, 1));
	fd = open(self->zip, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "C", 1, 100));	/* inside the stored data */
	close(fd);
	ASSERT_EQ(-1, avf_pkg_extract(self->zip, self->dest, &self->lim, self->err,
				      sizeof(self->err)));
	ASSERT_NE(NULL, strstr(self->err, "CRC")) TH_LOG("%s", self->err);
}

TEST_F(pkg, not_a_zip)
{
	int fd = open(self->zip, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ASSERT_LE(0, fd);
	ASSERT_EQ(11, write(fd, "hello world", 11));
	close(fd);
	ASSERT_EQ(-1, avf_pkg_extract(self->zip, self->dest, &self->lim, self->err,
				      sizeof(self->err)));
	ASSERT_EQ(-1, avf_pkg_extract("/nonexistent.zip", self->dest, &self->lim, self->err,
				      sizeof(self->err)));
}

TEST_F(pkg, every_truncation_is_safe)
{
	static char data[3000];
	const struct zent e[] = {
		{ "lib/x86_64/a.so", data, sizeof(data), 0, NULL, Z_DEFLATED },
		{ "assets/b", "bbb", 3, 0, NULL, 0 },
	};
	static unsigned char whole[16384];
	ssize_t n;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	ASSERT_EQ(0, write_zip(self->zip, e, 2));
	fd = open(self->zip, O_RDONLY);
	n = read(fd, whole, sizeof(whole));
	close(fd);
	ASSERT_LT(0, n);
	for (ssize_t len = 0; len < n; len += 7) {
		fd = open(self->zip, O_WRONLY | O_TRUNC);
		ASSERT_EQ(len, write(fd, whole, (size_t)len));
		close(fd);
		ASSERT_EQ(-1, avf_pkg_extract(self->zip, self->dest, &self->lim, self->err,
					      sizeof(self->err))) TH_LOG("accepted %zd", len);
		ASSERT_EQ(0, clear_dest(self));
	}
}

TEST(name_rules)
{
	static const struct { const char *n; int ok; int dir; } cases[] = {
		{ "a", 1, 0 }, { "lib/x86_64/hello.so", 1, 0 }, { "assets/", 1, 1 },
		{ "a/b/", 1, 1 }, { "...", 1, 0 }, { "..a", 1, 0 }, { "a..", 1, 0 },
		{ "", 0, 0 }, { "/", 0, 0 }, { "/a", 0, 0 }, { "..", 0, 0 }, { "../a", 0, 0 },
		{ "a/../b", 0, 0 }, { "a/..", 0, 0 }, { ".", 0, 0 }, { "./a", 0, 0 },
		{ "a//b", 0, 0 }, { "a\\b", 0, 0 }, { "a\tb", 0, 0 }, { "a//", 0, 0 },
	};
	char longc[300];
	bool dir;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(cases[i].ok, avf_pkg_name_safe(cases[i].n, strlen(cases[i].n), &dir))
			TH_LOG("'%s'", cases[i].n);
		if (cases[i].ok)
			ASSERT_EQ(cases[i].dir, dir);
	}
	ASSERT_FALSE(avf_pkg_name_safe("a/", 2, NULL));	/* no directories allowed */
	memset(longc, 'x', sizeof(longc));
	ASSERT_FALSE(avf_pkg_name_safe(longc, 256, &dir));
	ASSERT_TRUE(avf_pkg_name_safe(longc, 255, &dir));
}

TEST_HARNESS_MAIN
