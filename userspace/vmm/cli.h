/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line of avf-vmm (Documentation/vmm.rst). In bound mode every
 * input is a file descriptor the owner opened; paths are accepted only with
 * --standalone (development, no module). cli_parse() checks the syntax and
 * the mode rules only; startup_check_fds() (startup.h) checks what each
 * given fd is.
 */
#ifndef AVF_VMM_CLI_H
#define AVF_VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define AVF_VMM_VERSION		"0.2"

/* The descriptors of a run, in the order they are checked; -1 when not given. */
enum vmm_fd_slot {
	FD_VM,			/* --vm-fd: the owner's VM fd */
	FD_KERNEL,		/* --kernel-fd */
	FD_INITRD,		/* --initrd-fd */
	FD_PACKAGE,		/* --package-fd */
	FD_INSTANCE,		/* --instance-fd: sealed instance state */
	FD_STORAGE,		/* --storage-fd: read-write disk image */
	FD_CONSOLE,		/* --console-fd */
	FD_LOG,			/* --log-fd */
	FD_PROFILE,		/* --profile-fd: guest RIP samples (--standalone only) */
	FD_COUNT,
};

struct vmm_opts {
	int fd[FD_COUNT];
	/* --standalone only: paths the VMM opens itself (or "-" for stdout). */
	const char *path[FD_COUNT];
	const char *payload;
	const char *cmdline;	/* appended to the fixed command line; measured */
	uint32_t mem_mib;
	uint32_t cpus;
	uint32_t hangup_s;
	bool hangup_given;	/* --hangup-timeout: used as is, not scaled */
	bool debug_full;
	bool protected_vm;
	bool new_instance;
	const char *vsock_uds;	/* --standalone only: host connections via a UNIX socket */
	bool standalone;	/* no /dev/avf: events on stderr (development) */
	bool verbose;
};

/* The option that names @slot, e.g. "--kernel-fd" (for messages). */
const char *cli_fd_option(enum vmm_fd_slot slot);
/* Its path form (--standalone), e.g. "--kernel"; "?" for a slot without one. */
const char *cli_path_option(enum vmm_fd_slot slot);

/*
 * Returns 0, 1 for --help / --version (printed; exit 0), or EXIT_VMM_USAGE
 * after printing a message that names the refused argument.
 */
int cli_parse(int argc, char **argv, struct vmm_opts *o);

#endif
