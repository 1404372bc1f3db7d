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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
