/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-thread-role seccomp allow-lists, installed by each thread before it
 * handles guest input. A syscall outside the list kills the process; the
 * module then reports STOPPED(CRASH). Not installed in sanitizer builds
 * (the runtimes need more syscalls).
 */
#ifndef AVF_VMM_SECCOMP_H
#define AVF_VMM_SECCOMP_H

enum seccomp_role {
	SECCOMP_ROLE_VCPU,
	SECCOMP_ROLE_DEVICES,
	SECCOMP_ROLE_MAIN,
};

/* Process-wide, before any thread installs a filter. */
int vmm_seccomp_prepare(void);
/* Calling thread (and threads it creates later). */
int vmm_seccomp_install(enum seccomp_role role);

#endif
