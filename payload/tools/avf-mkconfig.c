// SPDX-License-Identifier: GPL-2.0
/*
 * avf-mkconfig: build the VM configuration tree (dts/avf-config.rst) with
 * libfdt, as avf-vmm does, and wrap it as /avf/config.dtb in a newc cpio
 * archive to append to the guest initramfs. For running the guest without
 * avf-vmm (payload/tools/qemu-run.sh) and for tests. With --secret FILE the
 * archive also carries avf/secret, the 32-byte VM secret that the module
 * writes there on a real run: a stand-in identity for tests.
 */
#include <errno.h>
#include <getopt.h>
#include <libfdt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "newc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: avf-mkconfig --payload NAME [-o CPIO] [--dtb DTB]\n"
		"                    [--debug full|none] [--protected] [--cid N]\n"
		"                    [--mem MIB] [--cpus N] [--storage]\n"
		"                    [--new-instance 0|1] [--secret FILE]\n"
		"  -o CPIO         newc archive holding avf/config.dtb\n"
		"  --dtb DTB       the bare device tree blob\n"
		"  --new-instance  write new-instance = 0|1 (absent by default)\n"
		"  --secret FILE   add FILE (exactly 32 bytes) as avf/secret to the archive\n");
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || x > UINT32_MAX || s[0] == '-')
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int read_secret(const char *path, unsigned char out[32])
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int extra;

	if (!f) {
		perror(path);
		return -1;
	}
	n = fread(out, 1, 32, f);
	extra = fgetc(f);
	fclose(f);
	if (n != 32 || extra != EOF) {
		fprintf(stderr, "avf-mkconfig: %s must hold exactly 32 bytes\n", path);
		return -1;
	}
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		perror(path);
		return -1;
	}
	if (fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload", required_argument, NULL, 'p' },
		{ "dtb", required_argument, NULL, 'd' },
		{ "debug", required_argument, NULL, 'g' },
		{ "protected", no_argument, NULL, 'P' },
		{ "cid", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "storage", no_argument, NULL, 's' },
		{ "new-instance", required_argument, NULL, 'N' },
		{ "secret", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct avf_vmcfg cfg = { .cid = 2048, .memory_mib = 256, .cpus = 1 };
	const char *out = NULL, *dtb_out = NULL, *payload = NULL, *secret_path = NULL;
	unsigned char secret[32];
	int new_instance = -1;
	struct avf_vmcfg check;
	char buf[AVF_VMCFG_BUILD_MAX], err[256];
	struct avf_newc c = { 0 };
	int opt, size;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'p': payload = optarg; break;
		case 'd': dtb_out = optarg; break;
		case 'P': cfg.protected_vm = 1; break;
		case 's': cfg.storage = 1; break;
		case 'S': secret_path = optarg; break;
		case 'N':
			if (!strcmp(optarg, "0") || !strcmp(optarg, "1"))
				new_instance = optarg[0] - '0';
			else
				goto bad;
			break;
		case 'g':
			if (!strcmp(optarg, "full"))
				cfg.debug_level = 1;
			else if (!strcmp(optarg, "none"))
				cfg.debug_level = 0;
			else
				goto bad;
			break;
		case 'c': if (parse_u32(optarg, &cfg.cid)) goto bad; break;
		case 'm': if (parse_u32(optarg, &cfg.memory_mib)) goto bad; break;
		case 'n': if (parse_u32(optarg, &cfg.cpus)) goto bad; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc || !payload || (!out && !dtb_out) || (secret_path && !out))
		goto bad;
	if (secret_path && read_secret(secret_path, secret))
		return 1;

	/* written as given: a bad name is the runtime's to reject */
	if (strlen(payload) >= sizeof(cfg.payload_name)) {
		fprintf(stderr, "avf-mkconfig: --payload longer than %zu bytes\n",
			sizeof(cfg.payload_name) - 1);
		return 1;
	}
	memcpy(cfg.payload_name, payload, strlen(payload) + 1);
	if (new_instance >= 0) {
		cfg.new_instance_set = true;
		cfg.new_instance = (uint32_t)new_instance;
	}
	size = avf_vmcfg_build(&cfg, buf, sizeof(buf));
	if (size < 0) {
		fprintf(stderr, "avf-mkconfig: cannot build the tree: %s\n", strerror(-size));
		return 1;
	}
	if (avf_vmcfg_parse(buf, (size_t)size, &check, err, sizeof(err)))
		fprintf(stderr, "avf-mkconfig: warning: the guest will reject this: %s\n", err);
	if (dtb_out && write_file(dtb_out, buf, (size_t)size))
		return 1;
	if (out) {
		if (avf_newc_add(&c, "avf", S_IFDIR | 0755, NULL, 0) ||
		    avf_newc_add(&c, AVF_VMCFG_PATH, S_IFREG | 0444, buf, (size_t)size) ||
		    (secret_path &&
		     avf_newc_add(&c, AVF_VMCFG_SECRET_PATH, S_IFREG | 0400, secret, sizeof(secret))) ||
		    avf_newc_finish(&c) || write_file(out, c.buf, c.len)) {
			avf_newc_free(&c);
			return 1;
		}
		avf_newc_free(&c);
	}
	return 0;
bad:
	usage(stderr);
	return 64;
}
