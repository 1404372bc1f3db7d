// SPDX-License-Identifier: GPL-2.0
/*
 * The per-role seccomp filters: what each thread role does keeps working,
 * anything else kills the process (RELIABILITY.md 22). Needs a kernel with
 * seccomp; sanitizer builds install no filters and skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
static int seccomp_fails_with(int err)
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
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(100);
		for (r = SECCOMP_ROLE_BASE; r <= SECCOMP_ROLE_MAIN; r++)
			if (vmm_seccomp_install(r) != -err)
				_exit(1 + r);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(sc, install_fails_closed)
{
	EXPECT_EQ(0, seccomp_fails_with(EINVAL));
	EXPECT_EQ(0, seccomp_fails_with(ENOSYS));
	EXPECT_EQ(0, seccomp_fails_with(EACCES));
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
