// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection over every allocation of each /dev/avf ioctl
 * (RELIABILITY.md item 7): fail the 1st, 2nd, ... fault point of one call
 * with /proc/thread-self/fail-nth until the call no longer reaches an
 * injected fault. Each failing call must return an error and leave no
 * trace; kmemleak (checked by the test host after the run) sees no leak.
 * Needs CONFIG_FAULT_INJECTION + FAILSLAB (the debug kernel); skips
 * otherwise.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "kselftest_harness.h"
#include "avf_util.h"

#define MAX_POINTS 2000

static int fail_nth_open(void)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	return open(p, O_RDWR | O_CLOEXEC);
}

static void arm(int fd, int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%d", n);

	if (pwrite(fd, b, len, 0) != len)
		abort();
}

/* true when the armed fault was injected (the file reads back 0) */
static int injected(int fd)
{
	char b[16] = {};

	if (pread(fd, b, sizeof(b) - 1, 0) <= 0)
		return 0;
	arm(fd, 0);
	return atoi(b) == 0;
}

static void knobs(void)
{
	/* GFP_KERNEL allocations may fail too; keep the console quiet. */
	const char *w[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		int fd = open(w[i][0], O_WRONLY);

		if (fd >= 0) {
			if (write(fd, w[i][1], strlen(w[i][1])) < 0)
				perror(w[i][0]);
			close(fd);
		}
	}
}

FIXTURE(fault) {
	int dev, nth;
	char dir[64];
};

FIXTURE_SETUP(fault)
{
	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	self->nth = fail_nth_open();
	if (self->nth < 0) {
		close(self->dev);
		self->dev = -1;
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	}
	if (access("/sys/kernel/debug/failslab", F_OK))
		SKIP(return, "no failslab in this kernel");
	knobs();
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-fault-%d", getpid());
	mkdir(self->dir, 0755);
}

FIXTURE_TEARDOWN(fault)
{
	if (self->dev < 0)
		return;
	close(self->nth);
	close(self->dev);
}

TEST_F(fault, vm_open_create)
{
	int n, fd, points = 0;
	char name[AVF_NAME_MAX];

	for (n = 1; n < MAX_POINTS; n++) {
		snprintf(name, sizeof(name), "f-%d-%d", getpid(), n);
		arm(self->nth, n);
		fd = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
		if (!injected(self->nth)) {
			ASSERT_GE(fd, 0);
			EXPECT_EQ(0, __avf_ioctl(fd, AVF_VM_DELETE, NULL));
			close(fd);
			break;
		}
		points++;
		if (fd >= 0) {	/* the fault hit something that may fail silently */
			EXPECT_EQ(0, __avf_ioctl(fd, AVF_VM_DELETE, NULL));
			close(fd);
			continue;
		}
		EXPECT_TRUE(fd == -ENOMEM || fd == -EMFILE || fd == -ENFILE) TH_LOG("n=%d: %d", n, fd);
		/* nothing was created */
		EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, name, 0)) TH_LOG("n=%d", n);
	}
	TH_LOG("AVF_VM_OPEN: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
}

static int image(const char *dir, const char *name)
{
	char p[128], buf[8192];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	memset(buf, name[0], sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		return -1;
	close(fd);
	return open(p, O_RDONLY);
}

/*
 * ABI 2 INTERIM (wt-kobj): only the seal half is left here; AVF_VMM_LOAD
 * and AVF_VMM_START fault points come with the identity work.
 */
TEST_F(fault, seal)
{
	struct avf_images im = { .debug_level = 1 };
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_seal s = { .state = (__u64)(uintptr_t)state, .state_size = sizeof(state) };
	int n, ret, points = 0;

	im.kernel_fd = image(self->dir, "kernel");
	im.initrd_fd = image(self->dir, "initrd");
	im.package_fd = image(self->dir, "package");
	ASSERT_GE(im.kernel_fd, 0);
	s.images = im;
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		ret = __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			break;
		}
		points++;
		EXPECT_TRUE(ret == 0 || ret == -ENOMEM || ret == -EIO || ret == -EFAULT)
			TH_LOG("seal n=%d: %d", n, ret);
	}
	TH_LOG("AVF_INSTANCE_SEAL: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
}

/*
 * ---- binding and host connections (development mode: this root process
 * is the owner and binds as its own VMM) ----
 */

FIXTURE(fault_vmm) {
	int dev, nth, vm;
	char name[AVF_NAME_MAX];
};

FIXTURE_SETUP(fault_vmm)
{
	self->vm = -1;
	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	self->nth = fail_nth_open();
	if (self->nth < 0) {
		close(self->dev);
		self->dev = -1;
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	}
	if (access("/sys/kernel/debug/failslab", F_OK))
		SKIP(return, "no failslab in this kernel");
	if (avf_set_dev_mode(true) < 0)
		SKIP(return, "cannot enable development mode");
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	knobs();
	snprintf(self->name, sizeof(self->name), "fv-%d", getpid());
	self->vm = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(self->vm, 0);
}

FIXTURE_TEARDOWN(fault_vmm)
{
	struct avf_event ev;

	if (self->dev < 0)
		return;
	if (self->vm >= 0) {
		while (avf_read_event(self->vm, &ev) == 0)
			;
		__avf_ioctl(self->vm, AVF_VM_DELETE, NULL);
		close(self->vm);
	}
	avf_set_dev_mode(false);
	close(self->nth);
	close(self->dev);
}

TEST_F(fault_vmm, bind)
{
	int n, vmm, points = 0;
	struct avf_event ev;

	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		vmm = __avf_bind(self->vm, NULL);
		if (!injected(self->nth)) {
			ASSERT_GE(vmm, 0);
			close(vmm);
			break;
		}
		points++;
		if (vmm >= 0) {
			close(vmm);
			while (avf_read_event(self->vm, &ev) == 0)
				;
			continue;
		}
		EXPECT_TRUE(vmm == -ENOMEM || vmm == -EMFILE || vmm == -ENFILE) TH_LOG("n=%d: %d", n, vmm);
		EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(self->vm)) TH_LOG("n=%d", n);
		EXPECT_EQ(-EAGAIN, avf_read_event(self->vm, &ev)) TH_LOG("n=%d: event after failed bind", n);
	}
	TH_LOG("AVF_VM_BIND_VMM: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
}

static int vsock_connect(int vm, __u32 port, __u32 timeout_ms)
{
	struct avf_vsock_connect c = { .port = port, .timeout_ms = timeout_ms };

	return __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, &c);
}

TEST_F(fault_vmm, connect_vsock)
{
	int n, ret, vmm, points = 0;
	struct avf_vmm_conn t;
	struct pollfd p;

	vmm = __avf_bind(self->vm, NULL);
	ASSERT_GE(vmm, 0);
	/* nobody answers: a call that reaches the wait times out after 1 ms */
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		ret = vsock_connect(self->vm, 5000, 1);
		if (!injected(self->nth)) {
			ASSERT_EQ(-ETIMEDOUT, ret);
			break;
		}
		points++;
		EXPECT_TRUE(ret == -ENOMEM || ret == -EMFILE || ret == -ENFILE || ret == -ETIMEDOUT)
			TH_LOG("n=%d: %d", n, ret);
		/* no request left behind */
		p = (struct pollfd){ .fd = vmm, .events = POLLIN };
		EXPECT_EQ(0, poll(&p, 1, 0)) TH_LOG("n=%d", n);
		memset(&t, 0, sizeof(t));
		EXPECT_EQ(-EAGAIN, __avf_ioctl(vmm, AVF_VMM_CONN_TAKE, &t)) TH_LOG("n=%d", n);
	}
	TH_LOG("AVF_VM_CONNECT_VSOCK: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	EXPECT_GT(points, 0);
	close(vmm);
}

struct connect_req {
	int vm, ret;
};

static void *connect_thread(void *arg)
{
	struct connect_req *r = arg;

	r->ret = vsock_connect(r->vm, 5000, AVF_CONNECT_TIMEOUT_MAX_MS);
	return NULL;
}

TEST_F(fault_vmm, conn_take)
{
	struct connect_req r = { .vm = self->vm };
	struct avf_vmm_conn_done d = {};
	int n, ret, vmm, points = 0;
	struct avf_vmm_conn t;
	struct pollfd p;
	pthread_t th;

	vmm = __avf_bind(self->vm, NULL);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, connect_thread, &r));
	p = (struct pollfd){ .fd = vmm, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 10000));
	for (n = 1; n < MAX_POINTS; n++) {
		memset(&t, 0, sizeof(t));
		arm(self->nth, n);
		ret = __avf_ioctl(vmm, AVF_VMM_CONN_TAKE, &t);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			break;
		}
		points++;
		if (!ret)
			break;
		EXPECT_TRUE(ret == -ENOMEM || ret == -EMFILE) TH_LOG("n=%d: %d", n, ret);
		/* still queued */
		EXPECT_EQ(1, poll(&p, 1, 0)) TH_LOG("n=%d", n);
	}
	TH_LOG("AVF_VMM_CONN_TAKE: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	d.id = t.id;
	EXPECT_EQ(0, __avf_ioctl(vmm, AVF_VMM_CONN_DONE, &d));
	pthread_join(th, NULL);
	ASSERT_GE(r.ret, 0);
	close(r.ret);
	close(t.fd);
	close(vmm);
}

TEST_HARNESS_MAIN
