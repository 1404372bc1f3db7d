/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seccomp allow-lists, built with libseccomp (Documentation/vmm.rst,
 * "seccomp"). A process-wide base filter goes on right after the inherited
 * descriptors are checked, before anything the owner gave is read and
 * before any thread exists; each thread then stacks the filter of its role
 * before it handles guest input. A syscall outside a list kills the
 * process; the module then reports STOPPED(CRASH). Every error is fatal
 * (no unconfined fallback). Sanitizer builds install no filters (the
 * runtimes need more syscalls).
 */
#ifndef AVF_VMM_SECCOMP_H
#define AVF_VMM_SECCOMP_H

enum seccomp_role {
	SECCOMP_ROLE_BASE,	/* whole process, during set-up */
	SECCOMP_ROLE_VCPU,
	SECCOMP_ROLE_DEVICES,
	SECCOMP_ROLE_MAIN,
	SECCOMP_ROLE_SAMPLER,	/* --profile: sleeps and signals the vCPU threads */
	SECCOMP_ROLE_COUNT,
};

/*
 * no_new_privs (also set at start-up): needed to install a filter
 * unprivileged. Also has libseccomp probe the kernel once, before any
 * filter: -ENOSYS without seccomp() and SECCOMP_RET_KILL_PROCESS.
 */
int vmm_seccomp_prepare(void);
/*
 * Stack the filter of @role on the calling thread (and threads it creates
 * later). Returns 0 or -errno; never runs unconfined on an error.
 */
int vmm_seccomp_install(enum seccomp_role role);

#endif
