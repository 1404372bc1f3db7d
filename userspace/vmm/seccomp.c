// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/avf.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

#include "seccomp.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FILTER_MAX	256

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
	__NR_ioctl,
	/* queue work never runs here: a notify without an ioeventfd only
	 * writes the device's notify eventfd. A guest-written device reset
	 * (STATUS 0) does run here and drops vsock connections without
	 * blocking: epoll_ctl, close, AVF_VMM_CONN_DONE for a pending
	 * brokered request. shutdown is kept for the reset path's callers
	 * and is never a blocking call. */
	__NR_epoll_ctl, __NR_shutdown,
};
/* KVM_GET_*: the vCPU's own state for the reset line in vmm.log. */
static const unsigned int vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, AVF_VMM_CONN_DONE, KVM_GET_REGS, KVM_GET_SREGS,
	KVM_GET_VCPU_EVENTS,
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
static const unsigned int main_ioctls[] = { AVF_VMM_REPORT };

#define STMT(code, k)		((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, t, f)	((struct sock_filter)BPF_JUMP((code), (k), (t), (f)))
#define ARG_LO(n)		(offsetof(struct seccomp_data, args[n]))

struct prog {
	struct sock_filter f[FILTER_MAX];
	unsigned int n;
};

static int emit(struct prog *p, struct sock_filter ins)
{
	if (p->n >= FILTER_MAX)
		return -E2BIG;
	p->f[p->n++] = ins;
	return 0;
}

/* "if nr == @nr: allow" for each syscall of @list except ioctl. */
static int allow_list(struct prog *p, const int *list, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		if (list[i] == __NR_ioctl)
			continue;
		ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)list[i], 0, 1));
		ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
	return ret;
}

/*
 * "if nr == @nr: allow when the low 32 bits of argument @arg equal @val,
 * else kill". The kernel truncates these int arguments to 32 bits too.
 * Other syscalls skip over it with the accumulator still holding nr.
 */
static int allow_if_arg(struct prog *p, int nr, unsigned int arg, uint32_t val)
{
	int ret;

	ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 4));
	ret = ret ?: emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)ARG_LO(arg)));
	ret = ret ?: emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 0, 1));
	ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	return ret;
}

static int build(struct prog *p, const int *extra, size_t nextra, const unsigned int *ioctls,
		 size_t nioctls, bool ioctl_by_type)
{
	size_t i;
	int ret;

	p->n = 0;
	ret = emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	ret = ret ?: emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	ret = ret ?: emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	/* x32 syscall numbers are not ours. */
	ret = ret ?: emit(p, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	ret = ret ?: allow_list(p, common_syscalls, ARRAY_SIZE(common_syscalls));
	ret = ret ?: allow_list(p, extra, nextra);
	/* Kicking vCPU threads (pthread_kill): signals to this process only. */
	ret = ret ?: allow_if_arg(p, __NR_tgkill, 0, (uint32_t)getpid());
	/* Set-up only: new threads name themselves before they stack their role. */
	if (ioctl_by_type)
		ret = ret ?: allow_if_arg(p, __NR_prctl, 0, PR_SET_NAME);
	if (ret)
		return ret;
	if (ioctl_by_type && nioctls) {
		/* The ioctl type byte (bits 8-15 of the request). */
		ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0,
				   (unsigned char)(2 * nioctls + 3)));
		ret = ret ?: emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)ARG_LO(1)));
		ret = ret ?: emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00));
		for (i = 0; i < nioctls && !ret; i++) {
			ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, ioctls[i] << 8, 0, 1));
			ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
		}
		ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	} else if (nioctls) {
		/* ioctl: only the listed request numbers (low 32 bits of arg 1). */
		ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0,
				   (unsigned char)(2 * nioctls + 2)));
		ret = ret ?: emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)ARG_LO(1)));
		for (i = 0; i < nioctls && !ret; i++) {
			ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, ioctls[i], 0, 1));
			ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
		}
		ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	}
	ret = ret ?: emit(p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	return ret;
}

int vmm_seccomp_prepare(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : -EPERM;
}

int vmm_seccomp_install(enum seccomp_role role)
{
	struct prog prog, *p = &prog;
	struct sock_fprog fprog;
	int ret;

	switch (role) {
	case SECCOMP_ROLE_BASE:
		ret = build(p, base_syscalls, ARRAY_SIZE(base_syscalls), base_ioctl_types,
			    ARRAY_SIZE(base_ioctl_types), true);
		break;
	case SECCOMP_ROLE_VCPU:
		ret = build(p, vcpu_syscalls, ARRAY_SIZE(vcpu_syscalls), vcpu_ioctls,
			    ARRAY_SIZE(vcpu_ioctls), false);
		break;
	case SECCOMP_ROLE_DEVICES:
		ret = build(p, devices_syscalls, ARRAY_SIZE(devices_syscalls), devices_ioctls,
			    ARRAY_SIZE(devices_ioctls), false);
		break;
	case SECCOMP_ROLE_MAIN:
		ret = build(p, main_syscalls, ARRAY_SIZE(main_syscalls), main_ioctls,
			    ARRAY_SIZE(main_ioctls), false);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
#if defined(__SANITIZE_ADDRESS__)
	return 0;	/* the sanitizer runtimes need syscalls beyond these lists */
#endif
	fprog.len = (unsigned short)p->n;
	fprog.filter = p->f;
	/* Fail closed: ENOSYS/EINVAL (no seccomp filters) is an error like any other. */
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	return 0;
}
