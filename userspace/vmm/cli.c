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
	OPT_FD = 256,		/* OPT_FD + slot: --<x>-fd */
	OPT_PATH = OPT_FD + FD_COUNT, /* OPT_PATH + slot: --<x> PATH (standalone) */
	OPT_PAYLOAD = OPT_PATH + FD_COUNT,
	OPT_MEM, OPT_CPUS, OPT_DEBUG, OPT_PROTECTED, OPT_HANGUP, OPT_CMDLINE,
	OPT_NEW_INSTANCE, OPT_VSOCK_UDS, OPT_STANDALONE, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
	OPT_END,
};

static const struct option options[] = {
	{ "vm-fd", required_argument, NULL, OPT_FD + FD_VM },
	{ "kernel-fd", required_argument, NULL, OPT_FD + FD_KERNEL },
	{ "initrd-fd", required_argument, NULL, OPT_FD + FD_INITRD },
	{ "package-fd", required_argument, NULL, OPT_FD + FD_PACKAGE },
	{ "instance-fd", required_argument, NULL, OPT_FD + FD_INSTANCE },
	{ "storage-fd", required_argument, NULL, OPT_FD + FD_STORAGE },
	{ "console-fd", required_argument, NULL, OPT_FD + FD_CONSOLE },
	{ "log-fd", required_argument, NULL, OPT_FD + FD_LOG },
	{ "profile-fd", required_argument, NULL, OPT_FD + FD_PROFILE },
	{ "kernel", required_argument, NULL, OPT_PATH + FD_KERNEL },
	{ "initrd", required_argument, NULL, OPT_PATH + FD_INITRD },
	{ "package", required_argument, NULL, OPT_PATH + FD_PACKAGE },
	{ "instance", required_argument, NULL, OPT_PATH + FD_INSTANCE },
	{ "storage", required_argument, NULL, OPT_PATH + FD_STORAGE },
	{ "console", required_argument, NULL, OPT_PATH + FD_CONSOLE },
	{ "log", required_argument, NULL, OPT_PATH + FD_LOG },
	{ "profile", required_argument, NULL, OPT_PATH + FD_PROFILE },
	{ "payload", required_argument, NULL, OPT_PAYLOAD },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "debug", required_argument, NULL, OPT_DEBUG },
	{ "protected", no_argument, NULL, OPT_PROTECTED },
	{ "hangup-timeout", required_argument, NULL, OPT_HANGUP },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "new-instance", no_argument, NULL, OPT_NEW_INSTANCE },
	{ "vsock-uds", required_argument, NULL, OPT_VSOCK_UDS },
	{ "standalone", no_argument, NULL, OPT_STANDALONE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char usage[] =
	"usage: avf-vmm --vm-fd N --kernel-fd N --initrd-fd N --package-fd N\n"
	"               --instance-fd N --payload NAME [--storage-fd N]\n"
	"               [--console-fd N] [--log-fd N] [--mem MIB] [--cpus N]\n"
	"               [--debug full|none] [--cmdline STR] [--new-instance]\n"
	"               [--hangup-timeout S] [--verbose]\n"
	"       avf-vmm --standalone (--kernel PATH | --kernel-fd N)\n"
	"               (--initrd PATH | --initrd-fd N) (--package PATH | --package-fd N)\n"
	"               --payload NAME [--instance PATH] [--storage PATH]\n"
	"               [--console PATH|-] [--log PATH|-] [--vsock-uds PATH]\n"
	"               [--profile PATH|- | --profile-fd N] [...]\n"
	"       avf-vmm --help | --version\n"
	"Bound mode takes file descriptors only: the VMM opens no path of the caller.\n";

static const char *const fd_names[FD_COUNT] = {
	[FD_VM] = "--vm-fd",
	[FD_KERNEL] = "--kernel-fd",
	[FD_INITRD] = "--initrd-fd",
	[FD_PACKAGE] = "--package-fd",
	[FD_INSTANCE] = "--instance-fd",
	[FD_STORAGE] = "--storage-fd",
	[FD_CONSOLE] = "--console-fd",
	[FD_LOG] = "--log-fd",
	[FD_PROFILE] = "--profile-fd",
};

static const char *const path_names[FD_COUNT] = {
	[FD_KERNEL] = "--kernel",
	[FD_INITRD] = "--initrd",
	[FD_PACKAGE] = "--package",
	[FD_INSTANCE] = "--instance",
	[FD_STORAGE] = "--storage",
	[FD_CONSOLE] = "--console",
	[FD_LOG] = "--log",
	[FD_PROFILE] = "--profile",
};

const char *cli_fd_option(enum vmm_fd_slot slot)
{
	return slot < FD_COUNT ? fd_names[slot] : "?";
}

const char *cli_path_option(enum vmm_fd_slot slot)
{
	return slot < FD_COUNT && path_names[slot] ? path_names[slot] : "?";
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Printable ASCII only (0x20..0x7e), as the module requires. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int refuse(const char *what, const char *val, const char *why)
{
	fprintf(stderr, "avf-vmm: %s '%s': %s\n", what, val, why);
	fputs("Try 'avf-vmm --help'.\n", stderr);
	return EXIT_VMM_USAGE;
}

static int refuse_opt(const char *what, const char *why)
{
	fprintf(stderr, "avf-vmm: %s: %s\n", what, why);
	fputs("Try 'avf-vmm --help'.\n", stderr);
	return EXIT_VMM_USAGE;
}

static int set_fd(struct vmm_opts *o, enum vmm_fd_slot slot, const char *arg)
{
	uint32_t v;
	int i;

	if (parse_u32(arg, 0, INT_MAX, &v))
		return refuse(fd_names[slot], arg, "not a file descriptor number");
	if (v <= 2)
		return refuse(fd_names[slot], arg, "stdin, stdout and stderr are not inputs");
	for (i = 0; i < FD_COUNT; i++)
		if (o->fd[i] == (int)v)
			return refuse(fd_names[slot], arg, i == (int)slot ? "given twice" :
				      "the same descriptor is given for another option");
	o->fd[slot] = (int)v;
	return 0;
}

/* Options that may appear once only. */
static bool seen_before(bool *seen, int c)
{
	if (c < OPT_FD || c >= OPT_END)
		return false;
	if (seen[c - OPT_FD])
		return true;
	seen[c - OPT_FD] = true;
	return false;
}

static const char *long_name(int c)
{
	const struct option *op;

	for (op = options; op->name; op++)
		if (op->val == c)
			return op->name;
	return "?";
}

static int check_mode(struct vmm_opts *o)
{
	static const enum vmm_fd_slot images[] = { FD_KERNEL, FD_INITRD, FD_PACKAGE };
	char msg[128];
	unsigned int i;

	if (!o->standalone) {
		for (i = 0; i < FD_COUNT; i++) {
			if (!o->path[i])
				continue;
			snprintf(msg, sizeof(msg),
				 "paths are accepted only with --standalone; pass %s",
				 fd_names[i]);
			return refuse(path_names[i], o->path[i], msg);
		}
		if (o->vsock_uds)
			return refuse("--vsock-uds", o->vsock_uds,
				      "only with --standalone (host connections come through the module)");
		if (o->fd[FD_PROFILE] >= 0)
			return refuse_opt("--profile-fd", "only with --standalone (the guest's "
					  "registers are not shown to the owner of a VM with a secret)");
		for (i = 0; i <= FD_INSTANCE; i++) {
			if (o->fd[i] >= 0)
				continue;
			snprintf(msg, sizeof(msg), "required (or --standalone for development)");
			return refuse_opt(fd_names[i], msg);
		}
	} else {
		if (o->fd[FD_VM] >= 0)
			return refuse_opt("--vm-fd", "not with --standalone (no module)");
		for (i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
			enum vmm_fd_slot s = images[i];

			if ((o->fd[s] >= 0) == !!o->path[s]) {
				snprintf(msg, sizeof(msg), "exactly one of %s and %s is required",
					 path_names[s], fd_names[s]);
				return refuse_opt(path_names[s], msg);
			}
		}
		for (i = FD_INSTANCE; i < FD_COUNT; i++) {
			if (o->fd[i] >= 0 && o->path[i]) {
				snprintf(msg, sizeof(msg), "not together with %s", fd_names[i]);
				return refuse(path_names[i], o->path[i], msg);
			}
		}
		for (i = 0; i < FD_COUNT; i++) {
			if (o->path[i] && !*o->path[i])
				return refuse(path_names[i], o->path[i], "empty path");
			/* avf-vmm runs from "/" (startup): a relative path would name another file */
			if (o->path[i] && o->path[i][0] != '/' && strcmp(o->path[i], "-"))
				return refuse(path_names[i], o->path[i],
					      "must be an absolute path (avf-vmm runs in /)");
		}
	}
	if (!o->payload)
		return refuse_opt("--payload", "required");
	return 0;
}

int cli_parse(int argc, char **argv, struct vmm_opts *o)
{
	bool seen[OPT_END - OPT_FD] = { false };
	int c, i, ret;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < FD_COUNT; i++)
		o->fd[i] = -1;
	o->mem_mib = VMM_MEM_DEFAULT_MIB;
	o->cpus = 1;
	o->hangup_s = HANGUP_TIMEOUT_DEFAULT_S;

	opterr = 0;		/* our own messages name the argument */
	optind = 0;		/* full re-initialisation (glibc) */
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (seen_before(seen, c)) {
			char name[32];

			snprintf(name, sizeof(name), "--%s", long_name(c));
			return refuse_opt(name, "given twice");
		}
		if (c >= OPT_FD && c < OPT_FD + FD_COUNT) {
			ret = set_fd(o, (enum vmm_fd_slot)(c - OPT_FD), optarg);
			if (ret)
				return ret;
			continue;
		}
		if (c >= OPT_PATH && c < OPT_PATH + FD_COUNT) {
			o->path[c - OPT_PATH] = optarg;
			continue;
		}
		switch (c) {
		case OPT_PAYLOAD:
			if (!*optarg || strlen(optarg) >= AVF_PAYLOAD_NAME_MAX)
				return refuse("--payload", optarg, "must be 1..255 bytes");
			if (strchr(optarg, '/') || !printable(optarg))
				return refuse("--payload", optarg,
					      "printable ASCII without '/' only");
			o->payload = optarg;
			break;
		case OPT_MEM:
			if (parse_u32(optarg, VMM_MEM_MIN_MIB, VMM_MEM_MAX_MIB, &o->mem_mib))
				return refuse("--mem", optarg, "MiB between "
					      AVF_STR(VMM_MEM_MIN_MIB) " and "
					      AVF_STR(VMM_MEM_MAX_MIB));
			break;
		case OPT_CPUS:
			/* MATCH_HOST may ask for more than the guest supports: clamp. */
			if (parse_u32(optarg, 1, 4096, &o->cpus))
				return refuse("--cpus", optarg, "between 1 and 4096");
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
				return refuse("--debug", optarg, "full or none");
			break;
		case OPT_PROTECTED: o->protected_vm = true; break;
		case OPT_HANGUP:
			if (parse_u32(optarg, 0, 24 * 3600, &o->hangup_s))
				return refuse("--hangup-timeout", optarg, "seconds, 0..86400");
			o->hangup_given = true;
			break;
		case OPT_CMDLINE:
			if (strlen(optarg) >= AVF_CMDLINE_MAX)
				return refuse("--cmdline", "...", "longer than 1023 bytes");
			if (!printable(optarg))
				return refuse("--cmdline", "...", "printable ASCII only");
			o->cmdline = optarg;
			break;
		case OPT_NEW_INSTANCE: o->new_instance = true; break;
		case OPT_VSOCK_UDS: o->vsock_uds = optarg; break;
		case OPT_STANDALONE: o->standalone = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 1;
		case OPT_VERSION:
			printf("avf-vmm %s (avf ABI %d)\n", AVF_VMM_VERSION, AVF_ABI_VERSION);
			return 1;
		case ':':
			return refuse_opt(argv[optind - 1], "needs an argument");
		default:
			return refuse_opt(argv[optind - 1], "unknown option");
		}
	}
	if (optind != argc)
		return refuse("argument", argv[optind], "unexpected");
	return check_mode(o);
}
