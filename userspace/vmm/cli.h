/* SPDX-License-Identifier: GPL-2.0 */
/* Command line of avf-vmm (Documentation/interfaces.rst). */
#ifndef AVF_VMM_CLI_H
#define AVF_VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>

struct vmm_opts {
	int vm_fd;		/* -1 unless --vm-fd */
	const char *name;
	const char *kernel;
	const char *initrd;
	const char *package;
	const char *payload;
	uint32_t mem_mib;
	uint32_t cpus;
	bool debug_full;
	bool protected_vm;
	const char *storage;
	const char *console;
	const char *log;
	uint32_t hangup_s;
	const char *cmdline;
	const char *instance;	/* sealed instance state: identity check + secret */
	bool new_instance;
	const char *vsock_uds;	/* development: host connections via a UNIX socket */
	bool standalone;	/* no /dev/avf: events on stderr (development) */
	bool verbose;
};

/* Returns 0, or EXIT_VMM_USAGE after printing why (1 for --help: exit 0). */
int cli_parse(int argc, char **argv, struct vmm_opts *o);

#endif
