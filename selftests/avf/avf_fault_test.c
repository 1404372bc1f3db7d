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

TEST_F(fault, bind)
{
	int n, vm, vmm, points = 0;
	struct avf_event ev;
	char name[AVF_NAME_MAX];

	snprintf(name, sizeof(name), "fb-%d", getpid());
	vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(vm, 0);
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
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	close(vm);
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

TEST_F(fault, seal_and_start)
{
	struct avf_images im = { .debug_level = 1 };
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_seal s = { .state = (__u64)(uintptr_t)state, .state_size = sizeof(state) };
	struct avf_vmm_start st = { .state = (__u64)(uintptr_t)state, .state_size = sizeof(state),
				    .secret_offset = 0 };
	char name[AVF_NAME_MAX];
	int n, ret, vm, vmm, mem, points = 0;

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

	snprintf(name, sizeof(name), "fs-%d", getpid());
	vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(vm, 0);
	mem = memfd_create("ram", MFD_CLOEXEC);
	ASSERT_EQ(0, ftruncate(mem, 4096));
	st.images = im;
	st.mem_fd = mem;
	points = 0;
	/* a fresh run for every fault point: a start that absorbed its fault
	 * succeeded and cannot be repeated in the same run */
	for (n = 1; n < MAX_POINTS; n++) {
		vmm = __avf_bind(vm, NULL);
		ASSERT_GE(vmm, 0);
		arm(self->nth, n);
		ret = __avf_ioctl(vmm, AVF_VMM_START, &st);
		if (!injected(self->nth)) {
			ASSERT_EQ(0, ret);
			__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
			close(vmm);
			break;
		}
		points++;
		EXPECT_TRUE(ret == 0 || ret == -ENOMEM || ret == -EIO) TH_LOG("start n=%d: %d", n, ret);
		__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
		close(vmm);
	}
	TH_LOG("AVF_VMM_START: %d fault points", points);
	EXPECT_LT(n, MAX_POINTS);
	close(mem);
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	close(vm);
}

TEST_HARNESS_MAIN
