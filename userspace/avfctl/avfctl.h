/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avfctl: the command-line tool over libavf (the role of Android's "vm").
 * One cmd-<verb>.c per verb, registered in commands.c.
 */
#ifndef AVFCTL_H
#define AVFCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include <avf/avf.h>

/* sysexits.h values (kept here so the meaning sits next to the use). */
#define EX_OK 0
#define EX_USAGE 64	   /* bad command line */
#define EX_DATAERR 65	   /* invalid config, corrupt instance files */
#define EX_NOINPUT 66	   /* no such VM, VM deleted, missing boot image */
#define EX_UNAVAILABLE 69  /* AVF unsupported, capability missing, avf-vmm failed */
#define EX_SOFTWARE 70	   /* the VM stopped without its payload finishing */
#define EX_OSERR 71	   /* system error, out of memory */
#define EX_CANTCREAT 73	   /* a VM of that name exists */
#define EX_IOERR 74	   /* I/O error */
#define EX_TEMPFAIL 75	   /* wrong VM status, instance busy, timeout */
#define EX_PROTOCOL 76	   /* protocol error */
#define EX_NOPERM 77	   /* permission denied */

/* Option bits (which options a verb accepts). */
enum {
	O_PACKAGE = 1u << 0,	/* --package APK */
	O_PAYLOAD = 1u << 1,	/* --payload-binary-name NAME */
	O_PROTECTED = 1u << 2,	/* --protected */
	O_DEBUG = 1u << 3,	/* --debug full|none */
	O_MEM = 1u << 4,	/* --mem MIB */
	O_CPU = 1u << 5,	/* --cpu-topology one_cpu|match_host */
	O_STORAGE = 1u << 6,	/* --storage, --storage-size SIZE */
	O_CAPTURE = 1u << 7,	/* --capture-output / --no-capture-output */
	O_CONSOLE = 1u << 8,	/* --console PATH|- */
	O_LOG = 1u << 9,	/* --log PATH|- */
	O_TIMEOUT = 1u << 10,	/* --timeout S */
	O_SOCKET = 1u << 11,	/* --socket PATH */
	O_OUTPUT = 1u << 12,	/* -o/--output FILE */
	O_FOLLOW = 1u << 13,	/* -f/--follow */
	O_NAME = 1u << 14,	/* --name NAME (instead of a positional) */
	O_FROM_UID = 1u << 15,	/* --from-uid UID (import) */
	O_TO_UID = 1u << 16,	/* --to-uid UID (export) */
	O_CONFIG_SET = O_PACKAGE | O_PAYLOAD | O_PROTECTED | O_DEBUG | O_MEM | O_CPU |
		       O_STORAGE | O_CAPTURE | O_NAME,
};

struct opts {
	unsigned seen;		/* O_* given */
	const char *package;
	const char *payload;
	bool protected_vm;
	int debug;		/* -1 unset, else enum avf_debug_level */
	uint64_t mem_mib;
	int cpu;		/* -1 unset, else enum avf_cpu_topology */
	bool storage;
	uint64_t storage_size;
	int capture;		/* -1 unset, 0, 1 */
	const char *console;
	const char *log;
	int timeout_s;		/* -1: none */
	const char *socket;
	const char *output;
	bool follow;
	const char *name;
	long from_uid;		/* -1: any */
	long to_uid;		/* -1: any */
	/* positional arguments */
	int nargs;
	char **args;
};

/* Global state shared by every verb. */
struct avfctl {
	const char *prog;
	const char *data_root;	/* --data-root, or NULL */
	bool json;		/* --json */
};

struct command {
	const char *name;
	const char *args;	/* synopsis after the verb */
	const char *summary;
	unsigned options;	/* O_* accepted */
	int min_args, max_args;
	int (*run)(struct avfctl *ctl, struct opts *o);
};

extern const struct command avfctl_commands[];

int avfctl_main(int argc, char **argv);

/* common.c */
__attribute__((format(printf, 2, 3))) void avfctl_err(struct avfctl *ctl, const char *fmt, ...);
/* Prints "avfctl: <what>: <message> (<AVF_E_...>)" and returns the exit code. */
int avfctl_fail(struct avfctl *ctl, int err, const char *what, const char *detail);
int avfctl_exit_code(int err);
int avfctl_open_manager(struct avfctl *ctl, struct avf_manager **m);
/* The VM name: positional 0 or --name. */
const char *avfctl_vm_name(struct opts *o);
/* Builds a config from create options (needs --package and --payload-binary-name). */
int avfctl_build_config(struct avfctl *ctl, struct avf_manager *m, struct opts *o,
			struct avf_config **out);
/* Gets the VM, creating it when config options are given and it is absent. */
int avfctl_get_vm(struct avfctl *ctl, struct avf_manager *m, struct opts *o, struct avf_vm **vm);
struct json_object *avfctl_config_json(const struct avf_config *cfg);
void avfctl_print_config(const struct avf_config *cfg, const char *indent);
void avfctl_json_print(struct json_object *o); /* prints and puts */
/* The uid of the process at the other end of a UNIX stream socket, or -1. */
long avfctl_peer_uid(int sock, long *pid);
/* "<root>/logs/<name>.<kind>" (malloc'ed). */
char *avfctl_output_path(struct avf_manager *m, const char *name, const char *kind);
int avfctl_mkdir_logs(struct avf_manager *m);

/* The subcommands (cmd-*.c), dispatched by commands.c. */
int cmd_info(struct avfctl *ctl, struct opts *o);
int cmd_create(struct avfctl *ctl, struct opts *o);
int cmd_list(struct avfctl *ctl, struct opts *o);
int cmd_status(struct avfctl *ctl, struct opts *o);
int cmd_run(struct avfctl *ctl, struct opts *o);
int cmd_start(struct avfctl *ctl, struct opts *o);
int cmd_stop(struct avfctl *ctl, struct opts *o);
int cmd_delete(struct avfctl *ctl, struct opts *o);
int cmd_config(struct avfctl *ctl, struct opts *o);
int cmd_console(struct avfctl *ctl, struct opts *o);
int cmd_log(struct avfctl *ctl, struct opts *o);
int cmd_export(struct avfctl *ctl, struct opts *o);
int cmd_import(struct avfctl *ctl, struct opts *o);
int cmd_package(struct avfctl *ctl, struct opts *o);
int cmd_connect(struct avfctl *ctl, struct opts *o);
int cmd_help(struct avfctl *ctl, struct opts *o);

#endif /* AVFCTL_H */
