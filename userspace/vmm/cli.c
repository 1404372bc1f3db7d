// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/avf.h>

#include "cli.h"
#include "limits.h"

enum {
	OPT_VM_FD = 256, OPT_NAME, OPT_KERNEL, OPT_INITRD, OPT_PACKAGE, OPT_PAYLOAD,
	OPT_MEM, OPT_CPUS, OPT_DEBUG, OPT_PROTECTED, OPT_STORAGE, OPT_CONSOLE, OPT_LOG,
	OPT_HANGUP, OPT_CMDLINE, OPT_INSTANCE, OPT_NEW_INSTANCE, OPT_VSOCK_UDS, OPT_STANDALONE, OPT_VERBOSE, OPT_HELP,
};

static const struct option options[] = {
	{ "vm-fd", required_argument, NULL, OPT_VM_FD },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "package", required_argument, NULL, OPT_PACKAGE },
	{ "payload", required_argument, NULL, OPT_PAYLOAD },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "debug", required_argument, NULL, OPT_DEBUG },
	{ "protected", no_argument, NULL, OPT_PROTECTED },
	{ "storage", required_argument, NULL, OPT_STORAGE },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "hangup-timeout", required_argument, NULL, OPT_HANGUP },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "instance", required_argument, NULL, OPT_INSTANCE },
	{ "new-instance", no_argument, NULL, OPT_NEW_INSTANCE },
	{ "vsock-uds", required_argument, NULL, OPT_VSOCK_UDS },
	{ "standalone", no_argument, NULL, OPT_STANDALONE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char usage[] =
	"usage: avf-vmm (--vm-fd N | --name NAME) --kernel VMLINUX --initrd CPIO\n"
	"               --package ZIP --payload NAME [--mem MIB] [--cpus N]\n"
	"               [--debug full|none] [--protected] [--storage IMG]\n"
	"               [--console PATH|-] [--log PATH|-] [--hangup-timeout S]\n"
	"               [--cmdline STR] [--instance PATH] [--new-instance]\n"
	"  development: [--standalone] [--verbose] [--vsock-uds PATH]\n";

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int bad(const char *what, const char *val)
{
	fprintf(stderr, "avf-vmm: invalid %s '%s'\n%s", what, val, usage);
	return EXIT_VMM_USAGE;
}

int cli_parse(int argc, char **argv, struct vmm_opts *o)
{
	uint32_t fd;
	int c;

	memset(o, 0, sizeof(*o));
	o->vm_fd = -1;
	o->mem_mib = VMM_MEM_DEFAULT_MIB;
	o->cpus = 1;
	o->hangup_s = HANGUP_TIMEOUT_DEFAULT_S;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_VM_FD:
			if (parse_u32(optarg, 0, INT_MAX, &fd))
				return bad("--vm-fd", optarg);
			o->vm_fd = (int)fd;
			break;
		case OPT_NAME:
			if (!*optarg || strlen(optarg) >= AVF_NAME_MAX || strchr(optarg, '/'))
				return bad("--name", optarg);
			o->name = optarg;
			break;
		case OPT_KERNEL: o->kernel = optarg; break;
		case OPT_INITRD: o->initrd = optarg; break;
		case OPT_PACKAGE: o->package = optarg; break;
		case OPT_PAYLOAD:
			if (!*optarg || strchr(optarg, '/'))
				return bad("--payload", optarg);
			o->payload = optarg;
			break;
		case OPT_MEM:
			if (parse_u32(optarg, VMM_MEM_MIN_MIB, VMM_MEM_MAX_MIB, &o->mem_mib))
				return bad("--mem", optarg);
			break;
		case OPT_CPUS:
			/* MATCH_HOST may ask for more than the guest supports: clamp. */
			if (parse_u32(optarg, 1, 4096, &o->cpus))
				return bad("--cpus", optarg);
			if (o->cpus > VMM_CPUS_MAX) {
				fprintf(stderr, "avf-vmm: --cpus %u: using %u\n", o->cpus,
					VMM_CPUS_MAX);
				o->cpus = VMM_CPUS_MAX;
			}
			break;
		case OPT_DEBUG:
			if (!strcmp(optarg, "full"))
				o->debug_full = true;
			else if (!strcmp(optarg, "none"))
				o->debug_full = false;
			else
				return bad("--debug", optarg);
			break;
		case OPT_PROTECTED: o->protected_vm = true; break;
		case OPT_STORAGE: o->storage = optarg; break;
		case OPT_CONSOLE: o->console = optarg; break;
		case OPT_LOG: o->log = optarg; break;
		case OPT_HANGUP:
			if (parse_u32(optarg, 0, 24 * 3600, &o->hangup_s))
				return bad("--hangup-timeout", optarg);
			break;
		case OPT_CMDLINE:
			if (strlen(optarg) > CMDLINE_MAX / 2)
				return bad("--cmdline", "(too long)");
			o->cmdline = optarg;
			break;
		case OPT_INSTANCE: o->instance = optarg; break;
		case OPT_NEW_INSTANCE: o->new_instance = true; break;
		case OPT_VSOCK_UDS: o->vsock_uds = optarg; break;
		case OPT_STANDALONE: o->standalone = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return EXIT_VMM_USAGE;
		}
	}
	if (optind != argc)
		return bad("argument", argv[optind]);
	if (!o->standalone && (o->vm_fd < 0) == !o->name) {
		fprintf(stderr, "avf-vmm: exactly one of --vm-fd and --name is required\n%s",
			usage);
		return EXIT_VMM_USAGE;
	}
	if (!o->kernel || !o->initrd || !o->package || !o->payload) {
		fprintf(stderr, "avf-vmm: --kernel, --initrd, --package and --payload are required\n%s",
			usage);
		return EXIT_VMM_USAGE;
	}
	return 0;
}
