// SPDX-License-Identifier: GPL-2.0
/* VM configuration tree parsing, including hostile and truncated blobs. */
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "config.h"

/* one property of /avf; raw overrides the value when rawlen >= 0 */
struct prop {
	const char *name;
	const char *str;	/* string property when non-NULL */
	uint32_t val;
	const void *raw;
	int rawlen;
};

#define NPROPS 8
static void defaults(struct prop p[NPROPS])
{
	const struct prop d[NPROPS] = {
		{ "compatible", "avf,vm-config-v1", 0, NULL, -1 },
		{ "payload-binary-name", "hello.so", 0, NULL, -1 },
		{ "debug-level", NULL, 1, NULL, -1 },
		{ "protected", NULL, 0, NULL, -1 },
		{ "cid", NULL, 2048, NULL, -1 },
		{ "memory-mib", NULL, 256, NULL, -1 },
		{ "cpus", NULL, 2, NULL, -1 },
		{ "storage", NULL, 1, NULL, -1 },
	};
	memcpy(p, d, sizeof(d));
}

/* Build a tree into buf; skip property @omit (-1: none). Returns its size. */
static size_t build(void *buf, size_t size, const struct prop *p, int omit, const char *node)
{
	int rc = 0;

	rc |= fdt_create(buf, (int)size);
	rc |= fdt_finish_reservemap(buf);
	rc |= fdt_begin_node(buf, "");
	rc |= fdt_begin_node(buf, node);
	for (int i = 0; i < NPROPS; i++) {
		if (i == omit)
			continue;
		if (p[i].rawlen >= 0)
			rc |= fdt_property(buf, p[i].name, p[i].raw, p[i].rawlen);
		else if (p[i].str)
			rc |= fdt_property_string(buf, p[i].name, p[i].str);
		else
			rc |= fdt_property_u32(buf, p[i].name, p[i].val);
	}
	rc |= fdt_end_node(buf);
	rc |= fdt_end_node(buf);
	rc |= fdt_finish(buf);
	if (rc)
		abort();
	return fdt_totalsize(buf);
}

static int parse_with(struct prop *p, char *err, size_t errlen)
{
	static char buf[8192];
	struct avf_vmcfg cfg;
	size_t n = build(buf, sizeof(buf), p, -1, "avf");

	return avf_vmcfg_parse(buf, n, &cfg, err, errlen);
}

TEST(valid_tree)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	ASSERT_EQ(0, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	ASSERT_STREQ("hello.so", cfg.payload_name);
	ASSERT_EQ(1u, cfg.debug_level);
	ASSERT_EQ(0u, cfg.protected_vm);
	ASSERT_EQ(2048u, cfg.cid);
	ASSERT_EQ(256u, cfg.memory_mib);
	ASSERT_EQ(2u, cfg.cpus);
	ASSERT_EQ(1u, cfg.storage);
	/* a buffer larger than the tree is fine */
	ASSERT_EQ(0, avf_vmcfg_parse(buf, n + 100, &cfg, err, sizeof(err)));
}

/* new-instance is optional (older VMMs do not write it); when there, 0/1 */
TEST(new_instance_optional)
{
	static char buf[8192];
	char err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	int node;
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	ASSERT_EQ(0, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	ASSERT_FALSE(cfg.new_instance_set);
	ASSERT_EQ(0, fdt_open_into(buf, buf, sizeof(buf)));
	node = fdt_path_offset(buf, "/avf");
	ASSERT_LE(0, node);
	ASSERT_EQ(0, fdt_setprop_u32(buf, node, "new-instance", 1));
	ASSERT_EQ(0, fdt_pack(buf));
	ASSERT_EQ(0, avf_vmcfg_parse(buf, fdt_totalsize(buf), &cfg, err, sizeof(err)));
	ASSERT_TRUE(cfg.new_instance_set);
	ASSERT_EQ(1u, cfg.new_instance);
	ASSERT_EQ(0, fdt_open_into(buf, buf, sizeof(buf)));
	ASSERT_EQ(0, fdt_setprop_u32(buf, node, "new-instance", 2));
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, fdt_totalsize(buf), &cfg, err, sizeof(err)));
	ASSERT_STREQ("config: new-instance 2 out of range", err);
	ASSERT_EQ(0, fdt_setprop(buf, node, "new-instance", "ab", 2));
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, fdt_totalsize(buf), &cfg, err, sizeof(err)));
	ASSERT_FALSE(cfg.new_instance_set);
}

TEST(example_dts)
{
	const char *path = getenv("AVF_EXAMPLE_DTB");
	struct avf_vmcfg cfg;
	char err[256];

	if (!path)
		SKIP(return, "AVF_EXAMPLE_DTB not set");
	ASSERT_EQ(0, avf_config_load(path, &cfg, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_STREQ("hello.so", cfg.payload_name);
}

TEST(every_property_required)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];

	defaults(p);
	for (int i = 0; i < NPROPS; i++) {
		size_t n = build(buf, sizeof(buf), p, i, "avf");

		ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
		ASSERT_NE(NULL, strstr(err, p[i].name)) TH_LOG("%s: %s", p[i].name, err);
	}
}

TEST(no_avf_node)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "other");
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	ASSERT_NE(NULL, strstr(err, "/avf"));
}

TEST(wrong_compatible)
{
	struct prop p[NPROPS];
	char err[256];

	defaults(p);
	p[0].str = "avf,vm-config-v2";
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	p[0].str = "avf,vm-config-v1x";
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	p[0].str = "";
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	/* a string list is not the single compatible string */
	p[0].raw = "avf,vm-config-v1\0x";
	p[0].rawlen = 19;
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
}

TEST(bad_payload_names)
{
	const char *bad[] = { "", ".", "..", "a/b", "/abs.so", "../x.so", "x\n.so", "sp ace.so",
			      "back\\slash.so", "\x7f.so", "\xc3\xa9.so" };
	char longname[300], err[256];
	struct prop p[NPROPS];

	defaults(p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[1].str = bad[i];
		ASSERT_EQ(-1, parse_with(p, err, sizeof(err))) TH_LOG("accepted '%s'", bad[i]);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	p[1].str = longname;
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	longname[255] = '\0';
	ASSERT_EQ(0, parse_with(p, err, sizeof(err))) TH_LOG("%s", err);
	/* not NUL-terminated, embedded NUL, empty property */
	p[1].str = NULL;
	p[1].raw = "hello.so";
	p[1].rawlen = 8;
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	p[1].raw = "he\0llo.so";
	p[1].rawlen = 10;
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
	p[1].rawlen = 0;
	ASSERT_EQ(-1, parse_with(p, err, sizeof(err)));
}

TEST(u32_sizes)
{
	static const unsigned char eight[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	struct prop p[NPROPS];
	char err[256];

	for (int i = 2; i < NPROPS; i++) {
		defaults(p);
		p[i].raw = eight;
		p[i].rawlen = 8;
		ASSERT_EQ(-1, parse_with(p, err, sizeof(err))) TH_LOG("%s", p[i].name);
		p[i].rawlen = 2;
		ASSERT_EQ(-1, parse_with(p, err, sizeof(err))) TH_LOG("%s", p[i].name);
		p[i].rawlen = 0;
		ASSERT_EQ(-1, parse_with(p, err, sizeof(err))) TH_LOG("%s", p[i].name);
	}
}

TEST(ranges)
{
	static const struct { int idx; uint32_t val; int ok; } cases[] = {
		{ 2, 0, 1 }, { 2, 1, 1 }, { 2, 2, 0 },
		{ 3, 1, 1 }, { 3, 2, 0 },
		{ 4, 0, 0 }, { 4, 2, 0 }, { 4, 3, 1 }, { 4, 0xffffffff, 0 }, { 4, 65535, 1 },
		{ 5, 0, 0 }, { 5, 1, 1 },
		{ 6, 0, 0 }, { 6, 256, 1 }, { 6, 257, 0 },
		{ 7, 0, 1 }, { 7, 2, 0 },
	};
	struct prop p[NPROPS];
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		defaults(p);
		p[cases[i].idx].val = cases[i].val;
		ASSERT_EQ(cases[i].ok ? 0 : -1, parse_with(p, err, sizeof(err)))
			TH_LOG("%s = %u", p[cases[i].idx].name, cases[i].val);
	}
}

TEST(every_truncation_rejected)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	for (size_t len = 0; len < n; len++) {
		/* a fresh exact-size copy so ASan sees any overread */
		char *copy = malloc(len ? len : 1);

		memcpy(copy, buf, len);
		ASSERT_EQ(-1, avf_vmcfg_parse(len ? copy : NULL, len, &cfg, err, sizeof(err)))
			TH_LOG("accepted %zu of %zu bytes", len, n);
		free(copy);
	}
}

TEST(corrupted_bytes_never_crash)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	unsigned int seed = 1;
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	for (size_t pos = 0; pos < n; pos++) {
		for (int k = 0; k < 8; k++) {
			char *copy = malloc(n);

			memcpy(copy, buf, n);
			seed = seed * 1103515245u + 12345u;
			copy[pos] = (char)(k == 0 ? 0xff : k == 1 ? 0 : (char)(seed >> 16));
			if (avf_vmcfg_parse(copy, n, &cfg, err, sizeof(err)) == 0) {
				/* whatever got through must still be valid */
				ASSERT_TRUE(avf_vmcfg_payload_name_valid(cfg.payload_name,
								   strlen(cfg.payload_name)));
				ASSERT_LE(cfg.debug_level, 1u);
				ASSERT_GE(cfg.cid, 3u);
			}
			free(copy);
		}
	}
}

TEST(header_lies)
{
	char buf[8192], err[256];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	size_t n;

	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	fdt_set_totalsize(buf, (uint32_t)n + 4096);
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	fdt_set_totalsize(buf, (uint32_t)n);
	fdt_set_off_dt_strings(buf, 0xfffffff0u);
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	n = build(buf, sizeof(buf), p, -1, "avf");
	fdt_set_size_dt_struct(buf, 0x7fffffffu);
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	n = build(buf, sizeof(buf), p, -1, "avf");
	fdt_set_magic(buf, 0x12345678u);
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, n, &cfg, err, sizeof(err)));
	ASSERT_EQ(-1, avf_vmcfg_parse(buf, AVF_VMCFG_MAX_SIZE + 1, &cfg, err, sizeof(err)));
}

TEST(load_from_files)
{
	char path[] = "/tmp/avf-cfg-XXXXXX", err[256], buf[8192];
	struct avf_vmcfg cfg;
	struct prop p[NPROPS];
	size_t n;
	int fd;

	ASSERT_EQ(-1, avf_config_load("/nonexistent/config.dtb", &cfg, err, sizeof(err)));
	ASSERT_EQ(-1, avf_config_load("/tmp", &cfg, err, sizeof(err)));
	defaults(p);
	n = build(buf, sizeof(buf), p, -1, "avf");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)n, write(fd, buf, n));
	ASSERT_EQ(0, avf_config_load(path, &cfg, err, sizeof(err))) TH_LOG("%s", err);
	/* grow past the limit */
	ASSERT_EQ(0, ftruncate(fd, AVF_VMCFG_MAX_SIZE + 1));
	ASSERT_EQ(-1, avf_config_load(path, &cfg, err, sizeof(err)));
	close(fd);
	unlink(path);
}

TEST_HARNESS_MAIN
