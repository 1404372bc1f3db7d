// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection over every allocation of each /dev/avf ioctl
 * (RELIABILITY.md item 7): fail the 1st, 2nd, ... fault point of one call
 * with /proc/thread-self/fail-nth until the call no longer reaches an
 * injected fault. Each failing call must return an error and leave no
 * trace; kmemleak (checked by the test host after the run) sees no leak.
 * Needs CONFIG_FAULT_INJECTION + FAILSLAB (the debug kernel); skips
 * otherwise. Steps of the VMM (BIND, LOAD, START) run after the test
 * process became the trusted VMM uid (avf_become_vmm(), root only); the
 * fail-nth file, opened before, stays writable.
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
#include "avf_id_util.h"

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

TEST_F(fault, bind)
{
	int n, vm, vmm, points = 0;
	struct avf_event ev;
	char name[AVF_NAME_MAX];

	snprintf(name, sizeof(name), "fb-%d", getpid());
	vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, avf_become_vmm());
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		vmm = __avf_bind(vm, NULL);
		if (!injected(self->nth)) {
			ASSERT_GE(vmm, 0);
			close(vmm);
			break;
		}
		points++;
		if (vmm >= 0) {
			close(vmm);
			while (avf_read_event(vm, &ev) == 0)
				;
			continue;
		}
		EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm)) TH_LOG("n=%d", n);
		EXPECT_EQ(-EAGAIN, avf_read_event(vm, &ev)) TH_LOG("n=%d: event after failed bind", n);
	}
	TH_LOG("AVF_VM_BIND_VMM: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	close(vm);	/* deleted with the module: the VMM uid may not delete it */
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

static const char payload[] = "payload.so";

static struct avf_images test_images(const char *dir)
{
	return (struct avf_images){
		.kernel_fd = image(dir, "kernel"),
		.initrd_fd = image(dir, "initrd"),
		.package_fd = image(dir, "package"),
		.debug_level = 1,
		.payload_name = (__u64)(uintptr_t)payload,
		.cmdline = (__u64)(uintptr_t)"quiet",
	};
}

/* The lowest free fd number: unchanged when a failed call leaked no fd. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static bool alloc_error(int ret)
{
	return ret == -ENOMEM || ret == -EIO || ret == -ENOSPC || ret == -EMFILE ||
	       ret == -ENFILE;
}

TEST_F(fault, seal)
{
	struct avf_images im = test_images(self->dir);
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)state,
				       .state_size = sizeof(state) };
	int n, ret, points = 0;

	ASSERT_GE(im.package_fd, 0);
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		ret = __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			break;
		}
		points++;
		EXPECT_TRUE(ret == 0 || alloc_error(ret)) TH_LOG("seal n=%d: %d", n, ret);
	}
	TH_LOG("AVF_INSTANCE_SEAL: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
}

/* A VM, a state for it and the VMM identity for the test process. */
static int vmm_setup(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
		     const char *tag, struct avf_images *im, __u8 *state)
{
	struct avf_instance_seal s = { .state = (__u64)(uintptr_t)state,
				       .state_size = AVF_INSTANCE_STATE_SIZE };
	char name[AVF_NAME_MAX];
	int vm;

	*im = test_images(self->dir);
	s.images = *im;
	if (im->package_fd < 0 || __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s))
		return -1;
	snprintf(name, sizeof(name), "%s-%d", tag, getpid());
	vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	if (vm < 0 || avf_become_vmm())
		return -1;
	return vm;
}

TEST_F(fault, load)
{
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_images im;
	struct avf_vmm_load out;
	int n, ret, vm, vmm, low, points = 0;
	struct avf_event ev;

	vm = vmm_setup(_metadata, self, "fl", &im, state);
	ASSERT_GE(vm, 0);
	low = lowest_free_fd();
	/* a fresh run for every fault point: a LOAD that absorbed its fault
	 * succeeded and cannot be repeated in the same run */
	for (n = 1; n < MAX_POINTS; n++) {
		vmm = __avf_bind(vm, NULL);
		ASSERT_GE(vmm, 0);
		arm(self->nth, n);
		ret = __avf_load(vmm, &im, state, &out);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			avf_close_load(&out);
			__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
			close(vmm);
			break;
		}
		points++;
		EXPECT_TRUE(ret == 0 || alloc_error(ret)) TH_LOG("load n=%d: %d", n, ret);
		if (!ret) {
			avf_close_load(&out);
		} else {
			/* a failed LOAD can be retried in the same run */
			EXPECT_EQ(-ENOKEY, __avf_start(vmm, -1, 0)) TH_LOG("n=%d", n);
			EXPECT_EQ(0, __avf_load(vmm, &im, state, NULL)) TH_LOG("retry n=%d", n);
		}
		__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
		close(vmm);
		EXPECT_EQ(low, lowest_free_fd()) TH_LOG("n=%d: an fd leaked", n);
	}
	TH_LOG("AVF_VMM_LOAD: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	while (avf_read_event(vm, &ev) == 0)
		;
	close(vm);
}

TEST_F(fault, start)
{
	__u8 state[AVF_INSTANCE_STATE_SIZE], secret[AVF_SECRET_SIZE], zero[AVF_SECRET_SIZE] = {};
	struct avf_images im;
	int n, ret, vm, vmm, mem, points = 0;

	vm = vmm_setup(_metadata, self, "fs", &im, state);
	ASSERT_GE(vm, 0);
	for (n = 1; n < MAX_POINTS; n++) {
		vmm = __avf_bind(vm, NULL);
		ASSERT_GE(vmm, 0);
		ASSERT_EQ(0, __avf_load(vmm, &im, state, NULL));
		mem = memfd_create("ram", MFD_CLOEXEC);
		ASSERT_EQ(0, ftruncate(mem, 1 << 16));
		arm(self->nth, n);
		ret = __avf_start(vmm, mem, 4096);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(sizeof(secret), pread(mem, secret, sizeof(secret), 4096));
			EXPECT_NE(0, memcmp(secret, zero, sizeof(secret)));
			close(mem);
			__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
			close(vmm);
			break;
		}
		points++;
		EXPECT_TRUE(ret == 0 || alloc_error(ret)) TH_LOG("start n=%d: %d", n, ret);
		if (ret)	/* the secret is still there for a retry */
			EXPECT_EQ(0, __avf_start(vmm, mem, 4096)) TH_LOG("retry n=%d", n);
		close(mem);
		__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
		close(vmm);
	}
	TH_LOG("AVF_VMM_START: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	close(vm);
}

static int export_state(int dev, const __u8 *state)
{
	struct avf_instance_export e = { .state = (__u64)(uintptr_t)state,
					 .state_size = AVF_INSTANCE_STATE_SIZE };

	return __avf_ioctl(dev, AVF_INSTANCE_EXPORT, &e);
}

static int import_state(int dev, int tfd, __u8 *state)
{
	struct avf_instance_import im = { .transfer_fd = tfd,
					  .state_size = AVF_INSTANCE_STATE_SIZE,
					  .state = (__u64)(uintptr_t)state };

	return __avf_ioctl(dev, AVF_INSTANCE_IMPORT, &im);
}

TEST_F(fault, export_import)
{
	struct avf_images im = test_images(self->dir);
	__u8 state[AVF_INSTANCE_STATE_SIZE], out[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)state,
				       .state_size = sizeof(state) };
	int n, ret, tfd, low, points = 0;

	ASSERT_EQ(0, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
	low = lowest_free_fd();
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		tfd = export_state(self->dev, state);
		if (!injected(self->nth)) {
			ASSERT_GE(tfd, 0);
			close(tfd);
			break;
		}
		points++;
		if (tfd >= 0) {
			close(tfd);
			continue;
		}
		EXPECT_TRUE(alloc_error(tfd)) TH_LOG("export n=%d: %d", n, tfd);
		EXPECT_EQ(low, lowest_free_fd()) TH_LOG("n=%d: an fd leaked", n);
	}
	TH_LOG("AVF_INSTANCE_EXPORT: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);

	points = 0;
	tfd = export_state(self->dev, state);
	ASSERT_GE(tfd, 0);
	for (n = 1; n < MAX_POINTS; n++) {
		arm(self->nth, n);
		ret = import_state(self->dev, tfd, out);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			EXPECT_EQ(-ESTALE, import_state(self->dev, tfd, out));
			break;
		}
		points++;
		if (!ret) {	/* absorbed: the object is used up, take a new one */
			EXPECT_EQ(-ESTALE, import_state(self->dev, tfd, out));
			close(tfd);
			tfd = export_state(self->dev, state);
			ASSERT_GE(tfd, 0);
			continue;
		}
		/* a failed import does not consume the object: next round retries */
		EXPECT_TRUE(alloc_error(ret)) TH_LOG("import n=%d: %d", n, ret);
	}
	TH_LOG("AVF_INSTANCE_IMPORT: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	close(tfd);
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
