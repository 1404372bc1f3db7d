// SPDX-License-Identifier: GPL-2.0
/* The newc writer used by avf-mkconfig. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "newc.h"

static unsigned long field(const unsigned char *h, int i)
{
	char f[9];

	memcpy(f, h + 6 + 8 * i, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

TEST(layout)
{
	struct avf_newc c = { 0 };
	const unsigned char *p;
	size_t off = 0;
	const char *names[] = { "avf", "avf/config.dtb", "TRAILER!!!" };

	ASSERT_EQ(0, avf_newc_add(&c, "avf", S_IFDIR | 0755, NULL, 0));
	ASSERT_EQ(0, avf_newc_add(&c, "avf/config.dtb", S_IFREG | 0444, "hello", 5));
	ASSERT_EQ(0, avf_newc_finish(&c));
	ASSERT_EQ(0u, c.len % 4);
	for (int i = 0; i < 3; i++) {
		unsigned long nsize, fsize;

		ASSERT_LE(off + 110, c.len);
		p = c.buf + off;
		ASSERT_EQ(0, memcmp(p, "070701", 6));
		nsize = field(p, 11);
		fsize = field(p, 6);
		ASSERT_EQ(strlen(names[i]) + 1, nsize);
		ASSERT_STREQ(names[i], (const char *)p + 110);
		ASSERT_EQ(0u, field(p, 2));	/* uid */
		ASSERT_EQ(0u, field(p, 3));	/* gid */
		ASSERT_EQ(0u, field(p, 5));	/* mtime */
		off += (110 + nsize + 3) & ~3ul;
		if (i == 1) {
			ASSERT_EQ(5u, fsize);
			ASSERT_EQ(0, memcmp(c.buf + off, "hello", 5));
			ASSERT_EQ((unsigned long)(S_IFREG | 0444), field(p, 1));
		}
		off += (fsize + 3) & ~3ul;
	}
	ASSERT_EQ(c.len, off);
	avf_newc_free(&c);
}

TEST(cpio_tool_reads_it)
{
	struct avf_newc c = { 0 };
	char cmd[256], line[256], path[] = "/tmp/avf-newc-XXXXXX";
	int fd, found = 0;
	FILE *f;

	if (system("command -v cpio >/dev/null 2>&1"))
		SKIP(return, "cpio not installed");
	ASSERT_EQ(0, avf_newc_add(&c, "avf", S_IFDIR | 0755, NULL, 0));
	ASSERT_EQ(0, avf_newc_add(&c, "avf/config.dtb", S_IFREG | 0444, "abc", 3));
	ASSERT_EQ(0, avf_newc_finish(&c));
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)c.len, write(fd, c.buf, c.len));
	close(fd);
	snprintf(cmd, sizeof(cmd), "cpio -it --quiet < %s", path);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "avf/config.dtb\n"))
			found = 1;
	ASSERT_EQ(0, pclose(f));
	ASSERT_EQ(1, found);
	unlink(path);
	avf_newc_free(&c);
}

TEST_HARNESS_MAIN
