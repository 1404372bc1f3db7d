// SPDX-License-Identifier: GPL-2.0
/*
 * The per-role seccomp filters: what each thread role does keeps working,
 * anything else kills the process (RELIABILITY.md 22). Needs a kernel with
 * seccomp; sanitizer builds install no filters and skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

#include "kselftest_harness.h"

#include "seccomp.h"

/* Run @fn in a child under @role; returns the wait status. */
static int in_child(enum seccomp_role role, void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (vmm_seccomp_prepare() || vmm_seccomp_install(role))
			_exit(2);
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void *thread_fn(void *arg)
{
	((void (*)(void))arg)();
	return NULL;
}

/*
 * Run @fn in a second thread of a child under @role while the first waits
 * for it and then exits 0: a forbidden call must take the whole process
 * (SECCOMP_RET_KILL_PROCESS), not just the thread that made it.
 */
static int in_child_thread(enum seccomp_role role, void (*fn)(void))
{
	int status;
	pid_t pid = fork();
	pthread_t t;

	if (pid == 0) {
		if (vmm_seccomp_prepare() || vmm_seccomp_install(role))
			_exit(2);
		if (pthread_create(&t, NULL, thread_fn, (void *)fn))
			_exit(3);
		pthread_join(t, NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void common_work(void)
{
	struct pollfd p;
	void *m;

	m = malloc(1 << 20);
	free(m);
	m = malloc(100);
	free(m);
	p.fd = STDERR_FILENO;
	p.events = POLLOUT;
	poll(&p, 1, 0);
	if (write(STDERR_FILENO, "", 0) < 0)
		_exit(3);
}

static int efd_shared = -1, memfd_shared = -1;

static void vcpu_work(void)
{
	uint64_t v = 1;

	common_work();
	if (write(efd_shared, &v, sizeof(v)) != sizeof(v))
		_exit(4);
	ioctl(-1, KVM_RUN, 0);	/* allowed (fails with EBADF) */
}

static void devices_work(void)
{
	struct epoll_event ev;
	char buf[512];
	int ep;

	common_work();
	if (pread(memfd_shared, buf, sizeof(buf), 0) < 0 ||
	    pwrite(memfd_shared, buf, sizeof(buf), 512) < 0 || fdatasync(memfd_shared) < 0)
		_exit(5);
	ep = -1;
	epoll_wait(ep, &ev, 1, 0);	/* allowed (fails with EBADF) */
}

static void forbidden_open(void)
{
	open("/etc/passwd", O_RDONLY);
}

static void forbidden_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void forbidden_ioctl(void)
{
	ioctl(-1, KVM_CREATE_VCPU, 0);
}

static void forbidden_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
}

static void forbidden_tgkill_other(void)
{
	syscall(__NR_tgkill, getppid(), getppid(), 0);	/* signal 0 to another process */
}

static void tgkill_self(void)
{
	if (syscall(__NR_tgkill, getpid(), gettid(), 0))
		_exit(6);
}

/* Set-up: thread naming, KVM and avf ioctls (by type), memfd, eventfds. */
static void base_work(void)
{
	common_work();
	tgkill_self();
	if (prctl(PR_SET_NAME, "base", 0, 0, 0))
		_exit(7);
	ioctl(-1, KVM_CREATE_VCPU, 0);	/* allowed (EBADF); the role filters narrow it */
	ioctl(-1, AVF_VMM_LOAD, 0);
	if (eventfd(0, EFD_CLOEXEC) < 0 || memfd_create("x", MFD_CLOEXEC) < 0)
		_exit(8);
}

static void forbidden_prctl(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void forbidden_tty_ioctl(void)
{
	ioctl(0, TCGETS, &(struct termios){ 0 });
}

/* The process's own syscall with the x32 bit: not the native ABI. */
static void forbidden_x32(void)
{
	syscall(0x40000000 | __NR_getpid);
}

/* i386 getpid (20) through int 0x80: audit arch I386, not ours. */
static long i386_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void forbidden_i386(void)
{
	i386_getpid();
}

static void forbidden_prctl_name(void)
{
	prctl(PR_SET_NAME, "role", 0, 0, 0);
}

/* A request number with bits above 31: the kernel runs its low 32 bits (KVM_RUN). */
static void ioctl_high_bits(void)
{
	syscall(__NR_ioctl, -1, (1UL << 32) | KVM_RUN, 0);	/* allowed (EBADF) */
}

FIXTURE(sc) {
	int dummy;
};

FIXTURE_SETUP(sc)
{
#if defined(__SANITIZE_ADDRESS__)
	SKIP(return, "sanitizer build: no filters installed");
#endif
	if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned int){ 0 }) < 0 &&
	    errno == ENOSYS)
		SKIP(return, "kernel without seccomp");
	efd_shared = eventfd(0, EFD_NONBLOCK);
	memfd_shared = memfd_create("sc", 0);
	ASSERT_LE(0, efd_shared);
	ASSERT_EQ(0, ftruncate(memfd_shared, 4096));
}

FIXTURE_TEARDOWN(sc)
{
}

TEST_F(sc, vcpu_role_allows_its_work)
{
	int st = in_child(SECCOMP_ROLE_VCPU, vcpu_work);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(sc, devices_role_allows_its_work)
{
	int st = in_child(SECCOMP_ROLE_DEVICES, devices_work);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(sc, main_role_allows_common_work)
{
	int st = in_child(SECCOMP_ROLE_MAIN, common_work);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(sc, base_role_allows_setup)
{
	int st = in_child(SECCOMP_ROLE_BASE, base_work);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(sc, base_role_forbids_open_socket_exec_prctl_other_ioctls)
{
	void (*const bad[])(void) = {
		forbidden_open, forbidden_socket, forbidden_exec, forbidden_prctl,
		forbidden_tty_ioctl, forbidden_tgkill_other,
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = in_child(SECCOMP_ROLE_BASE, bad[i]);

		if (!WIFSIGNALED(st))
			TH_LOG("case %u survived", i);
		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

/* --profile's sampler: sleeps and signals this process's threads, nothing more. */
static void sampler_work(void)
{
	struct timespec ts = { 0, 1000 };

	if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL))
		_exit(9);
	tgkill_self();
}

TEST_F(sc, sampler_role_sleeps_and_signals_only)
{
	void (*const bad[])(void) = { forbidden_ioctl, forbidden_open, forbidden_tgkill_other,
				      forbidden_prctl_name };
	int st = in_child(SECCOMP_ROLE_SAMPLER, sampler_work);
	unsigned int i;

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = in_child(SECCOMP_ROLE_SAMPLER, bad[i]);
		if (!WIFSIGNALED(st))
			TH_LOG("case %u survived", i);
		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

TEST_F(sc, tgkill_only_for_this_process)
{
	int st = in_child(SECCOMP_ROLE_DEVICES, tgkill_self);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	st = in_child(SECCOMP_ROLE_VCPU, forbidden_tgkill_other);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

/*
 * Fail closed: when seccomp() itself fails (here a filter makes it return
 * EINVAL, as a kernel without filters would, or ENOSYS), installing a role
 * reports the error instead of running unconfined.
 */
static int seccomp_fails_with(int err, int want)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned int)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	int status, r;
	pid_t pid = fork();

	if (pid == 0) {
		/* as avf-vmm: prepare (libseccomp probes the kernel) first */
		if (vmm_seccomp_prepare() ||
		    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(100);
		for (r = SECCOMP_ROLE_BASE; r < SECCOMP_ROLE_COUNT; r++)
			if (vmm_seccomp_install(r) != -want)
				_exit(1 + r);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(sc, install_fails_closed)
{
	EXPECT_EQ(0, seccomp_fails_with(EINVAL, EINVAL));
	/* libseccomp reports an errno it does not document as EFAULT */
	EXPECT_EQ(0, seccomp_fails_with(ENOSYS, EFAULT));
	EXPECT_EQ(0, seccomp_fails_with(EACCES, EACCES));
}

/*
 * A kernel without seccomp() (ENOSYS before libseccomp's first probe):
 * prepare fails, and installing fails too instead of falling back to
 * something weaker (libseccomp's prctl(PR_SET_SECCOMP) path).
 */
TEST_F(sc, prepare_fails_without_seccomp)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	int status, r;
	pid_t pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(100);
		if (vmm_seccomp_prepare() != -ENOSYS)
			_exit(1);
		for (r = SECCOMP_ROLE_BASE; r < SECCOMP_ROLE_COUNT; r++)
			if (vmm_seccomp_install(r) >= 0)
				_exit(2 + r);
		/* nothing was installed: open still works */
		r = open("/dev/null", O_RDONLY);
		_exit(r < 0 ? 10 : 0);
	}
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * avf-vmm's sequence: the base filter process-wide, then threads that
 * name themselves and stack their role under it (libseccomp must call
 * nothing at load time that the base filter kills), then main's role.
 */
static void vcpu_thread_work(void)
{
	if (prctl(PR_SET_NAME, "vcpu0", 0, 0, 0) || vmm_seccomp_install(SECCOMP_ROLE_VCPU))
		_exit(20);
	vcpu_work();
}

static void devices_thread_work(void)
{
	if (prctl(PR_SET_NAME, "devices", 0, 0, 0) || vmm_seccomp_install(SECCOMP_ROLE_DEVICES))
		_exit(21);
	devices_work();
}

static void base_then_roles(void)
{
	pthread_t t[3];

	base_work();
	if (pthread_create(&t[0], NULL, thread_fn, (void *)vcpu_thread_work) ||
	    pthread_create(&t[1], NULL, thread_fn, (void *)vcpu_thread_work) ||
	    pthread_create(&t[2], NULL, thread_fn, (void *)devices_thread_work))
		_exit(22);
	if (vmm_seccomp_install(SECCOMP_ROLE_MAIN))
		_exit(23);
	common_work();
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_join(t[2], NULL);
}

TEST_F(sc, roles_stack_under_base)
{
	int st = in_child(SECCOMP_ROLE_BASE, base_then_roles);

	if (WIFSIGNALED(st))
		TH_LOG("killed by signal %d", WTERMSIG(st));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/* Only the native x86-64 ABI, in every role. */
TEST_F(sc, x32_syscall_kills)
{
	int r;

	for (r = SECCOMP_ROLE_BASE; r < SECCOMP_ROLE_COUNT; r++) {
		int st = in_child(r, forbidden_x32);

		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

TEST_F(sc, i386_syscall_kills)
{
	int st, r;
	pid_t pid = fork();

	if (pid == 0)
		_exit(i386_getpid() == getpid() ? 0 : 1);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		SKIP(return, "kernel without i386 emulation (int 0x80)");
	for (r = SECCOMP_ROLE_BASE; r < SECCOMP_ROLE_COUNT; r++) {
		st = in_child(r, forbidden_i386);
		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

/* KILL_PROCESS, not KILL_THREAD: for the default and the bad-arch action. */
TEST_F(sc, forbidden_call_in_a_thread_kills_the_process)
{
	void (*const bad[])(void) = { forbidden_open, forbidden_x32, forbidden_tty_ioctl };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = in_child_thread(SECCOMP_ROLE_BASE, bad[i]);

		if (!WIFSIGNALED(st))
			TH_LOG("case %u: the process survived", i);
		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

/* prctl(PR_SET_NAME) is for set-up: the role filters kill it. */
TEST_F(sc, role_filters_forbid_prctl)
{
	int r;

	for (r = SECCOMP_ROLE_VCPU; r < SECCOMP_ROLE_COUNT; r++) {
		int st = in_child(r, forbidden_prctl_name);

		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSYS, WTERMSIG(st));
	}
}

/* ioctl requests compare as the kernel reads them: the low 32 bits. */
TEST_F(sc, ioctl_request_is_its_low_32_bits)
{
	int st = in_child(SECCOMP_ROLE_VCPU, ioctl_high_bits);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/* Without no_new_privs an unprivileged thread cannot install a filter: an error. */
static void child_no_nnp(void)
{
	if (setresuid(1000, 1000, 1000))
		_exit(100);
	_exit(vmm_seccomp_install(SECCOMP_ROLE_BASE) == -EACCES ? 0 : 1);
}

TEST_F(sc, install_without_no_new_privs_is_an_error)
{
	int status;
	pid_t pid;

	if (getuid() != 0)
		SKIP(return, "needs root to become another uid");
	pid = fork();
	if (pid == 0)
		child_no_nnp();
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(sc, open_kills)
{
	int st = in_child(SECCOMP_ROLE_DEVICES, forbidden_open);

	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

TEST_F(sc, socket_kills)
{
	int st = in_child(SECCOMP_ROLE_MAIN, forbidden_socket);

	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

TEST_F(sc, other_ioctl_kills)
{
	int st = in_child(SECCOMP_ROLE_VCPU, forbidden_ioctl);

	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

TEST_F(sc, exec_kills)
{
	int st = in_child(SECCOMP_ROLE_VCPU, forbidden_exec);

	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

TEST_HARNESS_MAIN
