// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/kvm.h>

#include <seccomp.h>	/* libseccomp, not ./seccomp.h */

#include "seccomp.h"

#ifndef SCMP_VER_MAJOR
#error "<seccomp.h> is not libseccomp's (an -I. before the system headers?)"
#endif

#if !defined(__x86_64__) || defined(__ILP32__)
#error "the allow-lists are x86-64 syscall numbers"
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Every role: memory allocation, stdio on stderr, eventfd/signalfd/timerfd
 * reads, signal return, exit. tgkill is allowed separately, for this
 * process only (build()).
 */
static const int common_syscalls[] = {
	__NR_read,		/* eventfd/signalfd/timerfd */
	__NR_write,		/* eventfd, outputs, stderr */
	__NR_close,
	__NR_futex,		/* mutexes, condvars, join */
	__NR_poll,		/* output sinks, main loop */
	__NR_ppoll,
	__NR_mmap,		/* malloc */
	__NR_munmap,
	__NR_mprotect,
	__NR_madvise,
	__NR_brk,
	__NR_rt_sigreturn,
	__NR_rt_sigprocmask,
	__NR_restart_syscall,
	__NR_exit,
	__NR_exit_group,
	__NR_clock_gettime,	/* vDSO fallback */
	__NR_clock_nanosleep,
	__NR_nanosleep,
	__NR_getpid,		/* pthread_kill */
	__NR_gettid,
	__NR_sched_yield,
	__NR_fstat,
	__NR_newfstatat,
};

/*
 * Set-up after the descriptors were checked: bind, read the instance state,
 * AVF_VMM_LOAD/START, build the VM (memfd, KVM objects, eventfds), start the
 * threads, and everything the role filters allow. No open, no socket, no
 * exec: the VMM has every descriptor it will use by then. ioctl only for
 * KVM and avf request types (the role filters narrow it to numbers);
 * prctl only for PR_SET_NAME.
 */
static const int base_syscalls[] = {
	__NR_ioctl, __NR_pread64, __NR_pwrite64, __NR_fdatasync, __NR_fsync,
	__NR_epoll_create1, __NR_epoll_ctl, __NR_epoll_wait, __NR_epoll_pwait,
	__NR_eventfd2, __NR_signalfd4, __NR_timerfd_create, __NR_timerfd_settime,
	__NR_memfd_create, __NR_ftruncate, __NR_mremap,
	__NR_clone, __NR_clone3, __NR_set_robust_list, __NR_rseq,	/* pthread_create */
	__NR_rt_sigaction, __NR_sigaltstack, __NR_getrandom,
	__NR_seccomp,		/* each thread stacks its role filter */
	__NR_accept4, __NR_shutdown,	/* vsock host connections */
};
static const unsigned int base_ioctl_types[] = { KVMIO, AVF_IOCTL_TYPE };

static const int vcpu_syscalls[] = {
	/* KVM_RUN and serial interrupts. No device work runs here: a queue
	 * notify without an ioeventfd only writes the device's notify
	 * eventfd (write, common), and a guest-written device reset only
	 * marks state; the device thread does the rest (closing vsock host
	 * ends, AVF_VMM_CONN_DONE for a pending brokered request). */
	__NR_ioctl,
};
/* KVM_GET_*: the vCPU's own state for the reset, hang-up and stall lines in vmm.log. */
static const unsigned int vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_VCPU_EVENTS,
	KVM_GET_MP_STATE,
};

static const int devices_syscalls[] = {
	__NR_ioctl, __NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_pread64,
	__NR_pwrite64, __NR_fdatasync, __NR_fsync,
	__NR_accept4, __NR_shutdown,	/* vsock host connections */
};
static const unsigned int devices_ioctls[] = {
	AVF_VMM_REPORT, AVF_VMM_CONN_TAKE, AVF_VMM_CONN_DONE, KVM_IRQ_LINE,
};

static const int main_syscalls[] = {
	__NR_ioctl, __NR_timerfd_create, __NR_timerfd_settime,
};
static const unsigned int main_ioctls[] = { AVF_VMM_REPORT, AVF_VMM_SET_STATS };

/* The low 32 bits of argument @n equal @v: the kernel truncates these int arguments too. */
#define ARG_LO32_EQ(n, v)	SCMP_CMP64((n), SCMP_CMP_MASKED_EQ, 0xffffffffULL, (uint32_t)(v))
/* The ioctl type byte (bits 8-15 of the request) is @type. */
#define IOCTL_TYPE_EQ(type)	SCMP_CMP64(1, SCMP_CMP_MASKED_EQ, 0xff00ULL, (uint64_t)(type) << 8)

/* Every libseccomp call below returns 0 or -errno. */

/* "allow @nr" for each syscall of @list except ioctl. */
static int allow_list(scmp_filter_ctx ctx, const int *list, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		if (list[i] != __NR_ioctl)
			ret = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, list[i], 0);
	return ret;
}

static int build(scmp_filter_ctx ctx, const int *extra, size_t nextra,
		 const unsigned int *ioctls, size_t nioctls, bool ioctl_by_type)
{
	size_t i;
	int ret;

	/*
	 * Only the native x86-64 ABI: libseccomp sends other audit arches
	 * (i386 int 0x80) and x32 numbers (>= 0x40000000) to the bad-arch
	 * action, which kills the process like the default action (nr -1,
	 * a syscall a tracer skipped, meets the default action: killed too).
	 */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/*
	 * vmm_seccomp_prepare() set no_new_privs: no prctl at load time, which
	 * the base filter would kill in the threads that stack their role.
	 */
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* The kernel's errno when seccomp() fails, not a blanket ECANCELED. */
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	ret = ret ?: allow_list(ctx, common_syscalls, ARRAY_SIZE(common_syscalls));
	ret = ret ?: allow_list(ctx, extra, nextra);
	/* Kicking vCPU threads (pthread_kill): signals to this process only. */
	ret = ret ?: seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, __NR_tgkill, 1,
					    ARG_LO32_EQ(0, getpid()));
	/* Set-up only: new threads name themselves before they stack their role. */
	if (ioctl_by_type)
		ret = ret ?: seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, __NR_prctl, 1,
						    ARG_LO32_EQ(0, PR_SET_NAME));
	/*
	 * ioctl: the base filter by request type, the role filters only the
	 * listed request numbers (low 32 bits of arg 1, as the kernel reads it).
	 */
	for (i = 0; i < nioctls && !ret; i++)
		ret = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, __NR_ioctl, 1,
					     ioctl_by_type ? IOCTL_TYPE_EQ(ioctls[i]) :
							     ARG_LO32_EQ(1, ioctls[i]));
	return ret;
}

/*
 * libseccomp probes the kernel with seccomp() calls the first time it is
 * used and keeps the answers for the process: do it here, before any
 * filter, so that no probe runs later under one (the role filters do not
 * allow seccomp()) and the answers are the kernel's.
 */
int vmm_seccomp_prepare(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	/* Level 3: seccomp(), TSYNC, SECCOMP_RET_KILL_PROCESS (Linux 4.14). */
	return seccomp_api_get() >= 3 ? 0 : -ENOSYS;
}

int vmm_seccomp_install(enum seccomp_role role)
{
	scmp_filter_ctx ctx;
	int ret;

	if ((unsigned int)role >= SECCOMP_ROLE_COUNT)
		return -EINVAL;
	/* NULL: no SECCOMP_RET_KILL_PROCESS in this kernel, or no memory. */
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return seccomp_api_get() >= 3 ? -ENOMEM : -ENOSYS;
	switch (role) {
	case SECCOMP_ROLE_BASE:
		ret = build(ctx, base_syscalls, ARRAY_SIZE(base_syscalls), base_ioctl_types,
			    ARRAY_SIZE(base_ioctl_types), true);
		break;
	case SECCOMP_ROLE_VCPU:
		ret = build(ctx, vcpu_syscalls, ARRAY_SIZE(vcpu_syscalls), vcpu_ioctls,
			    ARRAY_SIZE(vcpu_ioctls), false);
		break;
	case SECCOMP_ROLE_DEVICES:
		ret = build(ctx, devices_syscalls, ARRAY_SIZE(devices_syscalls), devices_ioctls,
			    ARRAY_SIZE(devices_ioctls), false);
		break;
	case SECCOMP_ROLE_SAMPLER:
		ret = build(ctx, NULL, 0, NULL, 0, false);
		break;
	case SECCOMP_ROLE_MAIN:
	default:
		ret = build(ctx, main_syscalls, ARRAY_SIZE(main_syscalls), main_ioctls,
			    ARRAY_SIZE(main_ioctls), false);
		break;
	}
#if !defined(__SANITIZE_ADDRESS__)	/* the sanitizer runtimes need syscalls beyond these lists */
	/*
	 * Fail closed: ENOSYS/EINVAL (no seccomp filters) is an error like any
	 * other (libseccomp passes EINVAL, EACCES, ESRCH, ENOMEM on and turns
	 * what it does not document into EFAULT).
	 */
	ret = ret ?: seccomp_load(ctx);
#endif
	seccomp_release(ctx);
	/* Nothing here returns > 0 on success: treat it as the error it would be. */
	return ret > 0 ? -EPROTO : ret;
}
