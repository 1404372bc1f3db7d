// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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

#include "log.h"
#include "seccomp.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FILTER_MAX	128

/* Every role: threads, memory allocation, stdio on stderr, signals, exit. */
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
	__NR_tgkill,		/* kick vCPUs out of KVM_RUN */
	__NR_sched_yield,
	__NR_fstat,
	__NR_newfstatat,
};

static const int vcpu_syscalls[] = {
	__NR_ioctl,
	/* a queue notify runs the vsock TX path, which updates a host
	 * connection's epoll interest and may half-close it */
	__NR_epoll_ctl, __NR_shutdown,
};
static const unsigned int vcpu_ioctls[] = { KVM_RUN, KVM_IRQ_LINE };

static const int devices_syscalls[] = {
	__NR_ioctl, __NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_pread64,
	__NR_pwrite64, __NR_fdatasync, __NR_fsync,
	__NR_accept4, __NR_shutdown,	/* vsock host connections */
};
static const unsigned int devices_ioctls[] = { AVF_VMM_REPORT };

static const int main_syscalls[] = {
	__NR_ioctl, __NR_timerfd_create, __NR_timerfd_settime, __NR_rt_sigaction,
};
static const unsigned int main_ioctls[] = { AVF_VMM_REPORT };

#define STMT(code, k)		((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, t, f)	((struct sock_filter)BPF_JUMP((code), (k), (t), (f)))

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

static int build(struct prog *p, const int *extra, size_t nextra, const unsigned int *ioctls,
		 size_t nioctls)
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
	if (ret)
		return ret;
	if (nioctls) {
		/* ioctl: only the listed request numbers (low 32 bits of arg 1). */
		ret = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0,
				   (unsigned char)(2 * nioctls + 2)));
		ret = ret ?: emit(p, STMT(BPF_LD | BPF_W | BPF_ABS,
					  offsetof(struct seccomp_data, args[1])));
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
	return 0;
}

int vmm_seccomp_install(enum seccomp_role role)
{
	static int unavailable;
	struct prog prog, *p = &prog;
	struct sock_fprog fprog;
	int ret;

	switch (role) {
	case SECCOMP_ROLE_VCPU:
		ret = build(p, vcpu_syscalls, ARRAY_SIZE(vcpu_syscalls), vcpu_ioctls,
			    ARRAY_SIZE(vcpu_ioctls));
		break;
	case SECCOMP_ROLE_DEVICES:
		ret = build(p, devices_syscalls, ARRAY_SIZE(devices_syscalls), devices_ioctls,
			    ARRAY_SIZE(devices_ioctls));
		break;
	case SECCOMP_ROLE_MAIN:
		ret = build(p, main_syscalls, ARRAY_SIZE(main_syscalls), main_ioctls,
			    ARRAY_SIZE(main_ioctls));
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
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
		ret = -errno;
		/* A kernel without CONFIG_SECCOMP_FILTER: run unconfined, say so once. */
		if ((ret == -ENOSYS || ret == -EINVAL) &&
		    !__atomic_exchange_n(&unavailable, 1, __ATOMIC_SEQ_CST))
			vlog("seccomp unavailable (%s): running without syscall filters\n",
			     strerror(-ret));
		return (ret == -ENOSYS || ret == -EINVAL) ? 0 : ret;
	}
	return 0;
}
