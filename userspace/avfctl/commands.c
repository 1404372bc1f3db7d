// SPDX-License-Identifier: GPL-2.0
/*
 * The command table, global options and per-verb option parsing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "avfctl.h"

const struct command avfctl_commands[] = {
	{ "info", "", "show what this host supports", 0, 0, 0, cmd_info },
	{ "create", "NAME --package APK --payload-binary-name SO [options]",
	  "create a VM instance", O_CONFIG_SET, 0, 1, cmd_create },
	{ "list", "", "list the VM instances and their status", 0, 0, 0, cmd_list },
	{ "status", "NAME", "show a VM's status and config", O_NAME, 0, 1, cmd_status },
	{ "run", "NAME [create options] [--console PATH|-] [--log PATH|-] [--timeout S]",
	  "run a VM in the foreground; exit with the payload's exit code",
	  O_CONFIG_SET | O_CONSOLE | O_LOG | O_TIMEOUT, 0, 1, cmd_run },
	{ "start", "NAME [create options] [--console PATH] [--log PATH]",
	  "start a VM in the background", O_CONFIG_SET | O_CONSOLE | O_LOG, 0, 1, cmd_start },
	{ "stop", "NAME", "power a running VM off", O_NAME, 0, 1, cmd_stop },
	{ "delete", "NAME", "delete a stopped VM (irreversible)", O_NAME, 0, 1, cmd_delete },
	{ "config", "NAME [--mem MIB] [--cpu-topology one_cpu|match_host]",
	  "show or change a stopped VM's memory and CPUs", O_NAME | O_MEM | O_CPU, 0, 1,
	  cmd_config },
	{ "console", "NAME [-f]", "print the console of a VM started in the background",
	  O_NAME | O_FOLLOW, 0, 1, cmd_console },
	{ "log", "NAME [-f]", "print the payload log of a VM started in the background",
	  O_NAME | O_FOLLOW, 0, 1, cmd_log },
	{ "export", "NAME --socket PATH [--to-uid UID]",
	  "send a stopped VM's descriptor to an importer",
	  O_NAME | O_SOCKET | O_TIMEOUT | O_TO_UID, 0, 1, cmd_export },
	{ "import", "NAME --socket PATH [--from-uid UID]",
	  "receive a descriptor and create VM NAME from it",
	  O_NAME | O_SOCKET | O_TIMEOUT | O_FROM_UID, 0, 1, cmd_import },
	{ "connect", "NAME PORT", "connect stdin/stdout to a vsock port of a running VM", 0,
	  2, 2, cmd_connect },
	{ "package", "-o OUT.zip LIB.so [LIB.so]...",
	  "build an app package from payload libraries (runs avf-package)", O_OUTPUT, 1, 64,
	  cmd_package },
	{ "help", "[VERB]", "show help", 0, 0, 1, cmd_help },
	{ NULL, NULL, NULL, 0, 0, 0, NULL },
};

enum {
	OPT_PACKAGE = 256, OPT_PAYLOAD, OPT_PROTECTED, OPT_DEBUG, OPT_MEM, OPT_CPU, OPT_STORAGE,
	OPT_STORAGE_SIZE, OPT_CAPTURE, OPT_NO_CAPTURE, OPT_CONSOLE, OPT_LOG, OPT_TIMEOUT,
	OPT_SOCKET, OPT_NAME, OPT_JSON, OPT_DATA_ROOT, OPT_FROM_UID, OPT_TO_UID,
};

static const struct {
	struct option opt;
	unsigned bit;
} options[] = {
	{ { "package", required_argument, NULL, OPT_PACKAGE }, O_PACKAGE },
	{ { "payload-binary-name", required_argument, NULL, OPT_PAYLOAD }, O_PAYLOAD },
	{ { "protected", no_argument, NULL, OPT_PROTECTED }, O_PROTECTED },
	{ { "debug", required_argument, NULL, OPT_DEBUG }, O_DEBUG },
	{ { "mem", required_argument, NULL, OPT_MEM }, O_MEM },
	{ { "cpu-topology", required_argument, NULL, OPT_CPU }, O_CPU },
	{ { "storage", no_argument, NULL, OPT_STORAGE }, O_STORAGE },
	{ { "storage-size", required_argument, NULL, OPT_STORAGE_SIZE }, O_STORAGE },
	{ { "capture-output", no_argument, NULL, OPT_CAPTURE }, O_CAPTURE },
	{ { "no-capture-output", no_argument, NULL, OPT_NO_CAPTURE }, O_CAPTURE },
	{ { "console", required_argument, NULL, OPT_CONSOLE }, O_CONSOLE },
	{ { "log", required_argument, NULL, OPT_LOG }, O_LOG },
	{ { "timeout", required_argument, NULL, OPT_TIMEOUT }, O_TIMEOUT },
	{ { "socket", required_argument, NULL, OPT_SOCKET }, O_SOCKET },
	{ { "output", required_argument, NULL, 'o' }, O_OUTPUT },
	{ { "follow", no_argument, NULL, 'f' }, O_FOLLOW },
	{ { "name", required_argument, NULL, OPT_NAME }, O_NAME },
	{ { "from-uid", required_argument, NULL, OPT_FROM_UID }, O_FROM_UID },
	{ { "to-uid", required_argument, NULL, OPT_TO_UID }, O_TO_UID },
	{ { "json", no_argument, NULL, OPT_JSON }, ~0u },
	{ { "data-root", required_argument, NULL, OPT_DATA_ROOT }, ~0u },
	{ { "help", no_argument, NULL, 'h' }, ~0u },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct command *find(const char *name)
{
	for (const struct command *c = avfctl_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [--json] [--data-root DIR] VERB [ARGS]\n\nverbs:\n", prog);
	for (const struct command *c = avfctl_commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\n'%s help VERB' shows a verb's arguments; see avfctl(1).\n", prog);
}

static void verb_usage(FILE *f, const char *prog, const struct command *c)
{
	fprintf(f, "usage: %s %s %s\n  %s\n", prog, c->name, c->args, c->summary);
}

int cmd_help(struct avfctl *ctl, struct opts *o)
{
	const struct command *c;

	if (o->nargs == 0) {
		usage(stdout, ctl->prog);
		return EX_OK;
	}
	c = find(o->args[0]);
	if (!c) {
		avfctl_err(ctl, "unknown verb '%s'", o->args[0]);
		return EX_USAGE;
	}
	verb_usage(stdout, ctl->prog, c);
	return EX_OK;
}

/* Parses "123", "64K", "10M", "2G" (binary units). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_opts(struct avfctl *ctl, const struct command *c, int argc, char **argv,
		      struct opts *o)
{
	struct option longopts[NOPTIONS + 1];
	uint64_t v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->debug = -1;
	o->cpu = -1;
	o->capture = -1;
	o->timeout_s = -1;
	o->from_uid = -1;
	o->to_uid = -1;
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = options[i].opt;
	memset(&longopts[NOPTIONS], 0, sizeof(longopts[0]));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:fh", longopts, NULL)) != -1) {
		unsigned bit = 0;
		const char *oname = NULL;

		for (size_t i = 0; i < NOPTIONS; i++) {
			if (options[i].opt.val == ch) {
				bit = options[i].bit;
				oname = options[i].opt.name;
			}
		}
		if (ch == '?' || ch == ':') {
			avfctl_err(ctl, "%s: unknown option or missing argument '%s'", c->name,
				   argv[optind - 1]);
			verb_usage(stderr, ctl->prog, c);
			return EX_USAGE;
		}
		if (bit != ~0u && !(c->options & bit)) {
			avfctl_err(ctl, "%s does not take --%s", c->name, oname);
			verb_usage(stderr, ctl->prog, c);
			return EX_USAGE;
		}
		o->seen |= bit;
		switch (ch) {
		case OPT_PACKAGE:
			o->package = optarg;
			break;
		case OPT_PAYLOAD:
			o->payload = optarg;
			break;
		case OPT_PROTECTED:
			o->protected_vm = true;
			break;
		case OPT_DEBUG:
			if (!strcmp(optarg, "full")) {
				o->debug = AVF_DEBUG_LEVEL_FULL;
			} else if (!strcmp(optarg, "none")) {
				o->debug = AVF_DEBUG_LEVEL_NONE;
			} else {
				avfctl_err(ctl, "--debug takes 'full' or 'none', not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case OPT_MEM:
			if (parse_size(optarg, &v) || v == 0 || v > (1u << 20)) {
				avfctl_err(ctl, "--mem takes a size in MiB (1..1048576), not '%s'",
					   optarg);
				return EX_USAGE;
			}
			o->mem_mib = v;
			break;
		case OPT_CPU:
			if (!strcmp(optarg, "one_cpu") || !strcmp(optarg, "one-cpu")) {
				o->cpu = AVF_CPU_TOPOLOGY_ONE_CPU;
			} else if (!strcmp(optarg, "match_host") || !strcmp(optarg, "match-host")) {
				o->cpu = AVF_CPU_TOPOLOGY_MATCH_HOST;
			} else {
				avfctl_err(ctl, "--cpu-topology takes 'one_cpu' or 'match_host', "
						"not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case OPT_STORAGE:
			o->storage = true;
			break;
		case OPT_STORAGE_SIZE:
			if (parse_size(optarg, &v) || v == 0) {
				avfctl_err(ctl, "--storage-size takes a positive size (e.g. 10M), "
						"not '%s'", optarg);
				return EX_USAGE;
			}
			o->storage = true;
			o->storage_size = v;
			break;
		case OPT_CAPTURE:
			o->capture = 1;
			break;
		case OPT_NO_CAPTURE:
			o->capture = 0;
			break;
		case OPT_CONSOLE:
			o->console = optarg;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_size(optarg, &v) || v > 86400) {
				avfctl_err(ctl, "--timeout takes seconds (0..86400), not '%s'", optarg);
				return EX_USAGE;
			}
			o->timeout_s = (int)v;
			break;
		case OPT_SOCKET:
			o->socket = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_FROM_UID:
		case OPT_TO_UID: {
			char *end;
			unsigned long u;

			errno = 0;
			u = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || u >= UINT32_MAX) {
				avfctl_err(ctl, "--%s takes a numeric uid, not '%s'", oname, optarg);
				return EX_USAGE;
			}
			if (ch == OPT_FROM_UID)
				o->from_uid = (long)u;
			else
				o->to_uid = (long)u;
			break;
		}
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_DATA_ROOT:
			ctl->data_root = optarg;
			break;
		case 'h':
			verb_usage(stdout, ctl->prog, c);
			return -1;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->nargs < c->min_args || o->nargs > c->max_args) {
		avfctl_err(ctl, "%s: wrong number of arguments", c->name);
		verb_usage(stderr, ctl->prog, c);
		return EX_USAGE;
	}
	if (c->max_args == 1 && c->options & O_NAME && !avfctl_vm_name(o)) {
		avfctl_err(ctl, "%s: which VM? give NAME", c->name);
		verb_usage(stderr, ctl->prog, c);
		return EX_USAGE;
	}
	return 0;
}

int avfctl_main(int argc, char **argv)
{
	struct avfctl ctl = { .prog = "avfctl" };
	const struct command *c;
	struct opts o;
	int i, ret;

	/* Global options before the verb. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			ctl.json = true;
		} else if (!strcmp(argv[i], "--data-root") && i + 1 < argc) {
			ctl.data_root = argv[++i];
		} else if (!strncmp(argv[i], "--data-root=", 12)) {
			ctl.data_root = argv[i] + 12;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout, ctl.prog);
			return EX_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("avfctl %d.%d\n", AVF_VERSION_MAJOR, AVF_VERSION_MINOR);
			return EX_OK;
		} else {
			avfctl_err(&ctl, "unknown option '%s'", argv[i]);
			usage(stderr, ctl.prog);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr, ctl.prog);
		return EX_USAGE;
	}
	c = find(argv[i]);
	if (!c) {
		avfctl_err(&ctl, "unknown verb '%s'", argv[i]);
		usage(stderr, ctl.prog);
		return EX_USAGE;
	}
	ret = parse_opts(&ctl, c, argc - i, argv + i, &o);
	if (ret)
		return ret < 0 ? EX_OK : ret;
	return c->run(&ctl, &o);
}
