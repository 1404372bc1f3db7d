/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trusted start-up of avf-vmm (Documentation/vmm.rst, "Start-up"). The
 * binary is installed set-uid and set-gid to the VMM system user; whoever
 * runs it controls argv, the environment, the signal state and every
 * inherited descriptor, so all of them are treated as hostile.
 */
#ifndef AVF_VMM_STARTUP_H
#define AVF_VMM_STARTUP_H

#include <stdbool.h>

#include "cli.h"

/*
 * First thing in main(), before anything the caller owns is parsed: take
 * the set-uid/set-gid identity for real, uid and gid (real, effective,
 * saved), drop dumpability, set no_new_privs, clear the environment, reset
 * signal dispositions and the mask, umask 077, chdir("/"), and make sure
 * fds 0-2 are open. Returns 0, or EXIT_VMM_UNAVAILABLE after a message.
 * *@setid tells whether the process was started set-uid or set-gid.
 */
int startup_secure(bool *setid);

/*
 * Check that every descriptor given on the command line is what its
 * option says (Documentation/vmm.rst). Returns 0, or EXIT_VMM_USAGE after
 * a message naming the option.
 */
int startup_check_fds(const struct vmm_opts *o);

/*
 * Close every descriptor >= 3 that is not in @keep (@n entries, -1 ignored):
 * close_range() around the kept ones, /proc/self/fd as a fallback.
 * Returns 0 or -errno.
 */
int startup_close_fds(const int *keep, unsigned int n);

#endif
