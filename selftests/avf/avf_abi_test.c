// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avf ABI selftests: every ioctl's happy path and one test per
 * validation failure (otherwise-valid input, one bad field, the exact errno),
 * ownership, event delivery, delete semantics and a close race.
 *
 * Fixture "avf" runs in development mode (owner_vmm=1) as a non-dumpable
 * root process, so the owner (root) binds as its own VMM. Fixture "trust"
 * turns development mode off: only the trusted VMM uid binds, played by
 * children of root that become it (avf_become_vmm()); they pass the VMM fd
 * back over a socket so the test drives it.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include "kselftest_harness.h"
#include "avf_util.h"

#define KERNEL_ADDR ((void *)0xffffffff81000000UL)

FIXTURE(avf) {
	int dev;
	char name[AVF_NAME_MAX];
};

/* Development mode as found at start, restored when the run ends. */
static int initial_dev_mode = -1;
static pid_t main_pid;

/* vmm_uid as found at start (a test changes it), restored likewise. */
static char initial_vmm_uid[16];

static void __attribute__((constructor)) save_dev_mode(void)
{
	int fd = open("/sys/module/avf/parameters/vmm_uid", O_RDONLY | O_CLOEXEC);

	main_pid = getpid();
	initial_dev_mode = avf_set_dev_mode(false);
	if (initial_dev_mode >= 0)
		avf_set_dev_mode(initial_dev_mode);
	if (fd >= 0) {
		if (read(fd, initial_vmm_uid, sizeof(initial_vmm_uid) - 1) <= 0)
			initial_vmm_uid[0] = 0;
		close(fd);
	}
}

static void __attribute__((destructor)) restore_dev_mode(void)
{
	int fd;

	if (getpid() != main_pid)
		return;
	if (initial_dev_mode >= 0)
		avf_set_dev_mode(initial_dev_mode);
	fd = open("/sys/module/avf/parameters/vmm_uid", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && initial_vmm_uid[0]) {
		if (write(fd, initial_vmm_uid, strlen(initial_vmm_uid)) < 0)
			perror("restore vmm_uid");
	}
	if (fd >= 0)
		close(fd);
}

FIXTURE_SETUP(avf)
{
	static int counter;
	int ret;

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s (is avf.ko loaded?)", strerror(errno));
	snprintf(self->name, sizeof(self->name), "t-%d-%d", getpid(), counter++);
	/* the owner binds itself in these tests: development mode */
	ret = avf_set_dev_mode(true);
	if (ret < 0)
		SKIP(return, "cannot enable development mode: %s", strerror(-ret));
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
}

FIXTURE_TEARDOWN(avf)
{
	if (self->dev >= 0)
		close(self->dev);
}

static int create_vm(struct __test_metadata *_metadata, FIXTURE_DATA(avf) *self)
{
	int fd = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);

	ASSERT_GE(fd, 0) TH_LOG("AVF_VM_OPEN(%s): %s", self->name, strerror(-fd));
	return fd;
}

static void expect_event(struct __test_metadata *_metadata, int vm, __u32 type, __s32 code)
{
	struct avf_event ev;
	int ret = avf_read_event(vm, &ev);

	ASSERT_EQ(0, ret) TH_LOG("no event (want type %u): %s", type, strerror(-ret));
	EXPECT_EQ(type, ev.type);
	EXPECT_EQ(code, ev.code);
}

static void *guard_page_after(size_t *off, size_t objsize)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p + pg, pg, PROT_NONE);
	*off = pg - objsize / 2;	/* straddles into the PROT_NONE page */
	return p;
}

/* ---- AVF_GET_CAPABILITIES ------------------------------------------- */

TEST_F(avf, caps)
{
	struct avf_capabilities c;
	size_t i;

	memset(&c, 0xaa, sizeof(c));
	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &c);
	EXPECT_EQ(AVF_ABI_VERSION, c.abi_version);
	EXPECT_EQ(0, c.caps & AVF_CAP_PROTECTED_VM);
	EXPECT_EQ(0, c.caps & ~(AVF_CAP_PROTECTED_VM | AVF_CAP_NON_PROTECTED_VM));
	EXPECT_EQ(0, c.flags & ~(AVF_CAPS_UDS_PERSISTENT | AVF_CAPS_TRUSTED_VMM |
				 AVF_CAPS_OWNER_IS_VMM));
	/* the fixture turned development mode on */
	EXPECT_TRUE(c.flags & AVF_CAPS_OWNER_IS_VMM);
	EXPECT_GT(c.max_vms_per_owner, 0);
	EXPECT_GT(c.event_queue_len, 0);
	EXPECT_GT(c.max_running_per_owner, 0);
	EXPECT_GT(c.max_pending_connects, 0);
	if (c.flags & AVF_CAPS_TRUSTED_VMM) {
		EXPECT_NE(AVF_VMM_UID_NONE, c.vmm_uid);
	} else {
		EXPECT_EQ(AVF_VMM_UID_NONE, c.vmm_uid);
	}
	for (i = 0; i < sizeof(c.reserved) / sizeof(c.reserved[0]); i++)
		EXPECT_EQ(0, c.reserved[i]);
	if (access("/dev/kvm", F_OK) == 0)
		EXPECT_TRUE(c.caps & AVF_CAP_NON_PROTECTED_VM);
}

TEST_F(avf, caps_null) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_GET_CAPABILITIES, NULL)); }
TEST_F(avf, caps_kernel_ptr) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_GET_CAPABILITIES, KERNEL_ADDR)); }

TEST_F(avf, caps_straddle)
{
	size_t off;
	char *p = guard_page_after(&off, sizeof(struct avf_capabilities));

	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_GET_CAPABILITIES, p + off));
}

TEST_F(avf, dev_unknown_ioctl)
{
	char buf[256] = {};

	EXPECT_EQ(-ENOTTY, __avf_ioctl(self->dev, _IO(AVF_IOCTL_TYPE, 0x7f), buf));
	/* right number, wrong size */
	EXPECT_EQ(-ENOTTY, __avf_ioctl(self->dev, _IOR(AVF_IOCTL_TYPE, 0x40, __u32), buf));
	/* a VM fd ioctl on the device */
	EXPECT_EQ(-ENOTTY, __avf_ioctl(self->dev, AVF_VM_GET_INFO, buf));
}

/* ---- AVF_VM_OPEN ---------------------------------------------------- */

TEST_F(avf, open_create)
{
	struct avf_vm_info info;
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(FD_CLOEXEC, fcntl(vm, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
	EXPECT_EQ(0, info.cid);
	EXPECT_EQ(0, info.vmm_pid);
	EXPECT_EQ(AVF_STOP_NONE, info.last_stop_reason);
	EXPECT_EQ(0, info.run_count);
	EXPECT_STREQ(self->name, info.name);
	close(vm);
}

TEST_F(avf, open_existing_is_same_instance)
{
	int a = create_vm(_metadata, self), b, c, vmm;

	b = __avf_open_vm(self->dev, self->name, 0);
	ASSERT_GE(b, 0);
	c = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE);
	ASSERT_GE(c, 0);
	vmm = __avf_bind(a, NULL);
	ASSERT_GE(vmm, 0);
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(b));
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(c));
	close(vmm);
	close(a); close(b); close(c);
}

TEST_F(avf, open_survives_close)
{
	int vm = create_vm(_metadata, self);

	close(vm);
	vm = __avf_open_vm(self->dev, self->name, 0);
	EXPECT_GE(vm, 0);
	close(vm);
}

TEST_F(avf, open_excl_exists)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EEXIST, __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL));
	close(vm);
}

TEST_F(avf, open_absent) { EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, self->name, 0)); }
TEST_F(avf, open_unknown_flag) { EXPECT_EQ(-EINVAL, __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | 4)); }
TEST_F(avf, open_excl_without_create) { EXPECT_EQ(-EINVAL, __avf_open_vm(self->dev, self->name, AVF_OPEN_EXCL)); }

TEST_F(avf, open_reserved0)
{
	struct avf_vm_open o = { .flags = AVF_OPEN_CREATE, .reserved0 = 1 };

	strcpy(o.name, self->name);
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_VM_OPEN, &o));
	EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, self->name, 0));
}

TEST_F(avf, open_reserved)
{
	for (int i = 0; i < 4; i++) {
		struct avf_vm_open o = { .flags = AVF_OPEN_CREATE };

		strcpy(o.name, self->name);
		o.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_VM_OPEN, &o)) TH_LOG("reserved[%d]", i);
	}
	EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, self->name, 0));
}

static int open_raw_name(int dev, const char *bytes, size_t n)
{
	struct avf_vm_open o = { .flags = AVF_OPEN_CREATE };

	memcpy(o.name, bytes, n);
	return __avf_ioctl(dev, AVF_VM_OPEN, &o);
}

TEST_F(avf, name_empty) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, "", 1)); }
TEST_F(avf, name_dot) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, ".", 2)); }
TEST_F(avf, name_dotdot) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, "..", 3)); }
TEST_F(avf, name_slash) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, "a/b", 4)); }
TEST_F(avf, name_control) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, "a\nb", 4)); }
TEST_F(avf, name_garbage_after_nul) { EXPECT_EQ(-EINVAL, open_raw_name(self->dev, "ab\0c", 4)); }

TEST_F(avf, name_unterminated)
{
	char n[AVF_NAME_MAX];

	memset(n, 'a', sizeof(n));
	EXPECT_EQ(-EINVAL, open_raw_name(self->dev, n, sizeof(n)));
}

TEST_F(avf, name_max_length)
{
	char n[AVF_NAME_MAX] = {};
	int vm, vm2;

	memset(n, 'm', sizeof(n) - 1);
	snprintf(n, 12, "%d", getpid());
	n[strlen(n)] = 'm';
	vm = open_raw_name(self->dev, n, sizeof(n));
	ASSERT_GE(vm, 0);
	vm2 = __avf_open_vm(self->dev, n, 0);
	EXPECT_GE(vm2, 0);
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	close(vm2);
	close(vm);
}

TEST_F(avf, open_null) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_VM_OPEN, NULL)); }
TEST_F(avf, open_kernel_ptr) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_VM_OPEN, KERNEL_ADDR)); }

TEST_F(avf, open_unmapped)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_VM_OPEN, p));
	munmap(p, pg);
}

TEST_F(avf, open_straddle)
{
	size_t off;
	char *p = guard_page_after(&off, sizeof(struct avf_vm_open));
	struct avf_vm_open *o;

	ASSERT_NE(NULL, p);
	o = (void *)(p + off);
	o->flags = AVF_OPEN_CREATE;
	o->reserved0 = 0;
	/* the name fits in the mapped page */
	memcpy(o->name, self->name, strnlen(self->name, 15) + 1);
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_VM_OPEN, o));
	EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, self->name, 0));
}

TEST_F(avf, owner_limit)
{
	struct avf_capabilities c;
	int *fds, i, n;
	char name[AVF_NAME_MAX];

	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &c);
	n = c.max_vms_per_owner;
	fds = calloc(n + 1, sizeof(int));
	ASSERT_NE(NULL, fds);
	/* This test's uid may already own instances from other tests: count them. */
	for (i = 0; i <= n; i++) {
		snprintf(name, sizeof(name), "lim-%d-%d", getpid(), i);
		fds[i] = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
		if (fds[i] < 0)
			break;
	}
	EXPECT_LE(i, n);
	EXPECT_EQ(-ENOSPC, fds[i]);
	while (i-- > 0) {
		EXPECT_EQ(0, __avf_ioctl(fds[i], AVF_VM_DELETE, NULL));
		close(fds[i]);
	}
	free(fds);
}

/* ---- AVF_VM_GET_INFO ------------------------------------------------ */

TEST_F(avf, info_no_leak)
{
	struct avf_vm_info info;
	int vm = create_vm(_metadata, self);
	size_t i, len = strlen(self->name);

	memset(&info, 0xaa, sizeof(info));
	avf_ioctl(_metadata, vm, AVF_VM_GET_INFO, &info);
	for (i = len; i < sizeof(info.name); i++)
		ASSERT_EQ(0, info.name[i]);
	for (i = 0; i < sizeof(info.reserved) / sizeof(info.reserved[0]); i++)
		EXPECT_EQ(0, info.reserved[i]);
	close(vm);
}

TEST_F(avf, info_null)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_GET_INFO, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_GET_INFO, KERNEL_ADDR));
	close(vm);
}

TEST_F(avf, vm_unknown_ioctl)
{
	int vm = create_vm(_metadata, self);
	char buf[256] = {};

	EXPECT_EQ(-ENOTTY, __avf_ioctl(vm, _IO(AVF_IOCTL_TYPE, 0x5f), buf));
	EXPECT_EQ(-ENOTTY, __avf_ioctl(vm, AVF_VM_OPEN, buf));
	EXPECT_EQ(-ENOTTY, __avf_ioctl(vm, AVF_VMM_REPORT, buf));
	close(vm);
}

/* ---- AVF_VM_DELETE -------------------------------------------------- */

TEST_F(avf, delete)
{
	int vm = create_vm(_metadata, self), other, again;
	struct avf_vm_info info;
	struct pollfd pfd;

	other = __avf_open_vm(self->dev, self->name, 0);
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	EXPECT_EQ(AVF_STATUS_DELETED, avf_status(vm));
	EXPECT_EQ(AVF_STATUS_DELETED, avf_status(other));
	EXPECT_EQ(-EIDRM, __avf_ioctl(other, AVF_VM_DELETE, NULL));
	EXPECT_EQ(-EIDRM, __avf_bind(other, NULL));
	EXPECT_EQ(-EIDRM, __avf_ioctl(other, AVF_VM_STOP, NULL));
	pfd = (struct pollfd){ .fd = other, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	EXPECT_EQ(-ENOENT, __avf_open_vm(self->dev, self->name, 0));
	/* the name is free: a new, different instance */
	again = create_vm(_metadata, self);
	ASSERT_EQ(0, __avf_info(again, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
	EXPECT_EQ(AVF_STATUS_DELETED, avf_status(other));
	close(again); close(other); close(vm);
}

TEST_F(avf, delete_running)
{
	int vm = create_vm(_metadata, self), vmm = __avf_bind(vm, NULL);

	ASSERT_GE(vmm, 0);
	EXPECT_EQ(-EBUSY, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(vm));
	close(vmm);
	close(vm);
}

TEST_F(avf, delete_nonzero_arg)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EINVAL, ioctl(vm, AVF_VM_DELETE, 1UL) ? -errno : 0);
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	close(vm);
}

TEST_F(avf, deleted_read_eof)
{
	int vm = create_vm(_metadata, self);
	struct avf_event ev;

	ASSERT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	EXPECT_EQ(0, read(vm, &ev, sizeof(ev)));
	close(vm);
}

/* ---- AVF_VM_BIND_VMM ------------------------------------------------ */

TEST_F(avf, bind)
{
	int vm = create_vm(_metadata, self), vmm;
	struct avf_vm_info info;
	__u32 cid = 0;

	vmm = __avf_bind(vm, &cid);
	ASSERT_GE(vmm, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(vmm, F_GETFD) & FD_CLOEXEC);
	EXPECT_GE(cid, AVF_CID_FIRST);
	EXPECT_LE(cid, AVF_CID_LAST);
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(AVF_STATUS_RUNNING, info.status);
	EXPECT_EQ(cid, info.cid);
	EXPECT_EQ(getpid(), (pid_t)info.vmm_pid);
	EXPECT_EQ(1, info.run_count);
	expect_event(_metadata, vm, AVF_EVENT_RUNNING, cid);
	close(vmm);
	close(vm);
}

TEST_F(avf, bind_twice)
{
	int vm = create_vm(_metadata, self), vmm = __avf_bind(vm, NULL);

	ASSERT_GE(vmm, 0);
	EXPECT_EQ(-EBUSY, __avf_bind(vm, NULL));
	close(vmm);
	close(vm);
}

static int bind_raw(int vm, __u32 flags, __u32 cid, int reserved_idx)
{
	struct avf_vm_bind b = { .flags = flags, .cid = cid };

	if (reserved_idx >= 0)
		b.reserved[reserved_idx] = 1;
	return __avf_ioctl(vm, AVF_VM_BIND_VMM, &b);
}

TEST_F(avf, bind_flags)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EINVAL, bind_raw(vm, 1, 0, -1));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	close(vm);
}

TEST_F(avf, bind_cid_in)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EINVAL, bind_raw(vm, 0, 3000, -1));
	close(vm);
}

TEST_F(avf, bind_reserved)
{
	int vm = create_vm(_metadata, self);

	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(-EINVAL, bind_raw(vm, 0, 0, i)) TH_LOG("reserved[%d]", i);
	}
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	close(vm);
}

TEST_F(avf, bind_bad_ptr)
{
	int vm = create_vm(_metadata, self);
	size_t off;
	char *p = guard_page_after(&off, sizeof(struct avf_vm_bind));

	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_BIND_VMM, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_BIND_VMM, KERNEL_ADDR));
	ASSERT_NE(NULL, p);
	memset(p + off, 0, sizeof(struct avf_vm_bind) / 2);
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_BIND_VMM, p + off));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	close(vm);
}

TEST_F(avf, bind_readonly_output)
{
	int vm = create_vm(_metadata, self);
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	/* valid input that cannot be written back: nothing may change */
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_BIND_VMM, p));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &(struct avf_event){}));
	munmap(p, pg);
	close(vm);
}

/* ---- AVF_VMM_REPORT and events -------------------------------------- */

TEST_F(avf, report_full_run)
{
	int vm = create_vm(_metadata, self), vmm;
	struct avf_vm_info info;
	struct avf_event ev[5];
	__u32 cid;

	vmm = __avf_bind(vm, &cid);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_READY, 0, NULL));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_FINISHED, 7, NULL));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	/* several records in one read, in order, with consecutive seqs */
	ASSERT_EQ((ssize_t)sizeof(ev), read(vm, ev, sizeof(ev)));
	EXPECT_EQ(AVF_EVENT_RUNNING, ev[0].type);
	EXPECT_EQ((__s32)cid, ev[0].code);
	EXPECT_EQ(AVF_EVENT_PAYLOAD_STARTED, ev[1].type);
	EXPECT_EQ(AVF_EVENT_PAYLOAD_READY, ev[2].type);
	EXPECT_EQ(AVF_EVENT_PAYLOAD_FINISHED, ev[3].type);
	EXPECT_EQ(7, ev[3].code);
	EXPECT_EQ(AVF_EVENT_STOPPED, ev[4].type);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, ev[4].code);
	for (int i = 1; i < 5; i++) {
		EXPECT_EQ(ev[i - 1].seq + 1, ev[i].seq);
		EXPECT_LE(ev[i - 1].timestamp_ns, ev[i].timestamp_ns);
		EXPECT_EQ(0, ev[i].reserved0);
		EXPECT_EQ(0, ev[i].reserved[0] | ev[i].reserved[1]);
		EXPECT_EQ(0, ev[i].message[0]);
	}
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, info.last_stop_reason);
	EXPECT_EQ(0, info.cid);
	EXPECT_EQ(0, info.vmm_pid);
	/* the VMM fd is dead after STOPPED */
	EXPECT_EQ(-ESHUTDOWN, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	close(vmm);
	/* closing a dead VMM fd adds nothing */
	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &ev[0]));
	close(vm);
}

static int bind_drain(struct __test_metadata *_metadata, int vm)
{
	struct avf_event ev;
	int vmm = __avf_bind(vm, NULL);

	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, avf_read_event(vm, &ev));
	ASSERT_EQ(AVF_EVENT_RUNNING, ev.type);
	return vmm;
}

TEST_F(avf, report_error_message)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);
	struct avf_event ev;

	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_ERROR, AVF_ERROR_PAYLOAD_CHANGED, "payload changed"));
	ASSERT_EQ(0, avf_read_event(vm, &ev));
	EXPECT_EQ(AVF_EVENT_ERROR, ev.type);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, ev.code);
	EXPECT_STREQ("payload changed", ev.message);
	for (size_t i = strlen(ev.message); i < sizeof(ev.message); i++)
		ASSERT_EQ(0, ev.message[i]);
	close(vmm);
	close(vm);
}

TEST_F(avf, report_out_of_order)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EPROTO, __avf_report(vmm, AVF_EVENT_PAYLOAD_READY, 0, NULL));
	EXPECT_EQ(-EPROTO, __avf_report(vmm, AVF_EVENT_PAYLOAD_FINISHED, 0, NULL));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	EXPECT_EQ(-EPROTO, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	close(vmm);
	close(vm);
}

static int report_raw(int vmm, __u32 type, __s32 code, __u64 res0, int res_idx, const char *msg, size_t msglen)
{
	struct avf_vmm_report r = { .type = type, .code = code, .reserved0 = res0 };

	if (res_idx >= 0)
		r.reserved[res_idx] = 1;
	if (msg)
		memcpy(r.message, msg, msglen);
	return __avf_ioctl(vmm, AVF_VMM_REPORT, &r);
}

TEST_F(avf, report_unknown_type)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, report_raw(vmm, 0, 0, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, 99, 0, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_RUNNING, 0, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_OVERFLOW, 0, 0, -1, NULL, 0));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_reserved0)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, 1, -1, NULL, 0));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_reserved)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, 0, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, 0, 1, NULL, 0));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_message_on_non_error)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, 0, -1, "x", 2));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_message_unterminated)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);
	char m[AVF_MESSAGE_MAX];

	memset(m, 'e', sizeof(m));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_ERROR, 0, 0, -1, m, sizeof(m)));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_ERROR, 0, 0, -1, "ab\0cd", 5));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_bad_codes)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_ERROR, 4, 0, -1, "x", 2));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_STOPPED, 17, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_STOPPED, -2, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, report_raw(vmm, AVF_EVENT_PAYLOAD_STARTED, 1, 0, -1, NULL, 0));
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(vm));
	close(vmm);
	close(vm);
}

TEST_F(avf, report_bad_ptr)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EFAULT, __avf_ioctl(vmm, AVF_VMM_REPORT, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vmm, AVF_VMM_REPORT, KERNEL_ADDR));
	EXPECT_EQ(-ENOTTY, __avf_ioctl(vmm, AVF_VM_GET_INFO, NULL));
	close(vmm);
	close(vm);
}

/* ---- AVF_VMM_SET_STATS ---------------------------------------------- */

static int set_stats(int vmm, __u64 refused, __u64 dropped, int res_idx)
{
	struct avf_vmm_stats st = { .vsock_refused = refused, .console_dropped = dropped };

	if (res_idx >= 0)
		st.reserved[res_idx] = 1;
	return __avf_ioctl(vmm, AVF_VMM_SET_STATS, &st);
}

static void expect_stats(struct __test_metadata *_metadata, int vm, __u64 refused, __u64 dropped)
{
	struct avf_vm_info info;

	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(refused, info.vsock_refused);
	EXPECT_EQ(dropped, info.console_dropped);
	EXPECT_EQ(0, info.reserved[0] | info.reserved[1]);
}

TEST_F(avf, stats_shown_to_owner)
{
	int vm = create_vm(_metadata, self), vmm;

	expect_stats(_metadata, vm, 0, 0);
	vmm = bind_drain(_metadata, vm);
	expect_stats(_metadata, vm, 0, 0);
	ASSERT_EQ(0, set_stats(vmm, 3, 100, -1));
	expect_stats(_metadata, vm, 3, 100);
	ASSERT_EQ(0, set_stats(vmm, 3, 100, -1));	/* unchanged is fine */
	ASSERT_EQ(0, set_stats(vmm, 5, 4096, -1));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	/* the last run's counters stay readable once it stopped ... */
	expect_stats(_metadata, vm, 5, 4096);
	/* ... and are final: the run is over */
	EXPECT_EQ(-ESHUTDOWN, set_stats(vmm, 6, 4096, -1));
	expect_stats(_metadata, vm, 5, 4096);
	close(vmm);
	expect_event(_metadata, vm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN);
	/* the next run starts at zero */
	vmm = bind_drain(_metadata, vm);
	expect_stats(_metadata, vm, 0, 0);
	ASSERT_EQ(0, set_stats(vmm, 1, 0, -1));
	expect_stats(_metadata, vm, 1, 0);
	close(vmm);
	close(vm);
}

TEST_F(avf, stats_never_go_down)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	ASSERT_EQ(0, set_stats(vmm, 2, 10, -1));
	EXPECT_EQ(-EINVAL, set_stats(vmm, 1, 10, -1));
	EXPECT_EQ(-EINVAL, set_stats(vmm, 2, 9, -1));
	EXPECT_EQ(-EINVAL, set_stats(vmm, 0, 0, -1));
	expect_stats(_metadata, vm, 2, 10);
	close(vmm);
	close(vm);
}

TEST_F(avf, stats_reserved)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm), i;

	for (i = 0; i < 6; i++) {
		EXPECT_EQ(-EINVAL, set_stats(vmm, 1, 1, i)) TH_LOG("reserved[%d]", i);
	}
	expect_stats(_metadata, vm, 0, 0);
	close(vmm);
	close(vm);
}

TEST_F(avf, stats_bad_ptr)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EFAULT, __avf_ioctl(vmm, AVF_VMM_SET_STATS, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vmm, AVF_VMM_SET_STATS, KERNEL_ADDR));
	close(vmm);
	close(vm);
}

TEST_F(avf, stats_not_on_vm_fd)
{
	int vm = create_vm(_metadata, self);
	struct avf_vmm_stats st = { .vsock_refused = 1 };

	/* the owner cannot set its own counters: only the bound VMM's fd takes them */
	EXPECT_EQ(-ENOTTY, __avf_ioctl(vm, AVF_VMM_SET_STATS, &st));
	EXPECT_EQ(-ENOTTY, __avf_ioctl(self->dev, AVF_VMM_SET_STATS, &st));
	expect_stats(_metadata, vm, 0, 0);
	close(vm);
}

TEST_F(avf, vmm_close_is_crash)
{
	int vm = create_vm(_metadata, self), vmm;
	struct avf_vm_info info;
	__u32 cid1, cid2;

	vmm = __avf_bind(vm, &cid1);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	close(vmm);
	expect_event(_metadata, vm, AVF_EVENT_RUNNING, cid1);
	expect_event(_metadata, vm, AVF_EVENT_PAYLOAD_STARTED, 0);
	expect_event(_metadata, vm, AVF_EVENT_STOPPED, AVF_STOP_CRASH);
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
	EXPECT_EQ(AVF_STOP_CRASH, info.last_stop_reason);
	/* runnable again, with a new CID and a fresh run state */
	vmm = __avf_bind(vm, &cid2);
	ASSERT_GE(vmm, 0);
	EXPECT_NE(cid1, cid2);
	EXPECT_EQ(0, __avf_report(vmm, AVF_EVENT_PAYLOAD_STARTED, 0, NULL));
	EXPECT_EQ(2, (__avf_info(vm, &info), info.run_count));
	close(vmm);
	close(vm);
}

/* ---- AVF_VM_STOP ---------------------------------------------------- */

TEST_F(avf, stop_kills_vmm)
{
	int vm = create_vm(_metadata, self), pfd[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int vmm = __avf_bind(vm, NULL);

		c = vmm >= 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(1);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ('y', c);
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(vm));
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	{
		struct avf_event ev;

		ASSERT_EQ(0, avf_read_event(vm, &ev));
		EXPECT_EQ(AVF_EVENT_RUNNING, ev.type);
	}
	expect_event(_metadata, vm, AVF_EVENT_STOPPED, AVF_STOP_KILLED);
	/* the killed VMM's fd release adds no CRASH record */
	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &(struct avf_event){}));
	{
		struct avf_vm_info info;

		ASSERT_EQ(0, __avf_info(vm, &info));
		EXPECT_EQ(AVF_STOP_KILLED, info.last_stop_reason);
	}
	close(pfd[0]);
	close(pfd[1]);
	close(vm);
}

TEST_F(avf, stop_when_stopped)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-ESRCH, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	close(vm);
}

TEST_F(avf, stop_nonzero_arg)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);

	EXPECT_EQ(-EINVAL, ioctl(vm, AVF_VM_STOP, 1UL) ? -errno : 0);
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(vm));
	close(vmm);
	close(vm);
}

TEST_F(avf, stop_then_vmm_dead)
{
	int vm = create_vm(_metadata, self), vmm, pfd[2];
	char c;
	pid_t pid;

	/* a VMM in another process that we can stop, whose fd we also hold */
	ASSERT_EQ(0, pipe(pfd));
	vmm = bind_drain(_metadata, vm);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(vmm);
		c = 'x';
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	/* the bound VMM is this process: make sure stop does not kill us by
	 * checking through a child instead */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(vmm);
	expect_event(_metadata, vm, AVF_EVENT_STOPPED, AVF_STOP_CRASH);
	close(vm);
}

/* ---- read / poll ---------------------------------------------------- */

TEST_F(avf, read_short_buffer)
{
	int vm = create_vm(_metadata, self), vmm = __avf_bind(vm, NULL);
	char buf[sizeof(struct avf_event) - 1];

	ASSERT_GE(vmm, 0);
	EXPECT_EQ(-1, read(vm, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	/* the record is still there */
	{
		struct avf_vm_info info;

		ASSERT_EQ(0, __avf_info(vm, &info));
		expect_event(_metadata, vm, AVF_EVENT_RUNNING, info.cid);
	}
	close(vmm);
	close(vm);
}

TEST_F(avf, read_nonblock_empty)
{
	int vm = create_vm(_metadata, self);

	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &(struct avf_event){}));
	close(vm);
}

TEST_F(avf, read_bad_ptr_keeps_record)
{
	int vm = create_vm(_metadata, self), vmm = __avf_bind(vm, NULL);
	void *volatile null = NULL;

	ASSERT_GE(vmm, 0);
	EXPECT_EQ(-1, read(vm, null, sizeof(struct avf_event)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(vm, KERNEL_ADDR, sizeof(struct avf_event)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, avf_read_event(vm, &(struct avf_event){}));
	close(vmm);
	close(vm);
}

TEST_F(avf, poll_and_fanout)
{
	int a = create_vm(_metadata, self), b, vmm;
	struct pollfd p[2];

	b = __avf_open_vm(self->dev, self->name, 0);
	ASSERT_GE(b, 0);
	p[0] = (struct pollfd){ .fd = a, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = b, .events = POLLIN };
	EXPECT_EQ(0, poll(p, 2, 0));
	vmm = __avf_bind(a, NULL);
	ASSERT_GE(vmm, 0);
	EXPECT_EQ(2, poll(p, 2, 1000));
	EXPECT_TRUE(p[0].revents & POLLIN);
	EXPECT_TRUE(p[1].revents & POLLIN);
	EXPECT_EQ(0, avf_read_event(a, &(struct avf_event){}));
	EXPECT_EQ(0, avf_read_event(b, &(struct avf_event){}));
	close(vmm);
	close(a);
	close(b);
}

static void *report_later(void *arg)
{
	usleep(100 * 1000);
	__avf_report(*(int *)arg, AVF_EVENT_PAYLOAD_STARTED, 0, NULL);
	return NULL;
}

TEST_F(avf, read_blocks_until_event)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm);
	struct avf_event ev;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, report_later, &vmm));
	ASSERT_EQ((ssize_t)sizeof(ev), read(vm, &ev, sizeof(ev)));
	EXPECT_EQ(AVF_EVENT_PAYLOAD_STARTED, ev.type);
	pthread_join(t, NULL);
	close(vmm);
	close(vm);
}

TEST_F(avf, overflow_is_reported)
{
	int vm = create_vm(_metadata, self), reader, i, runs;
	struct avf_capabilities c;
	struct avf_event ev;
	__u32 last_seq;

	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &c);
	reader = __avf_open_vm(self->dev, self->name, 0);
	ASSERT_GE(reader, 0);
	runs = c.event_queue_len;	/* 2 records a run: twice the queue */
	for (i = 0; i < runs; i++) {
		int vmm = __avf_bind(vm, NULL);

		ASSERT_GE(vmm, 0);
		close(vmm);
		/* keep the other fd drained */
		while (avf_read_event(vm, &ev) == 0)
			;
	}
	ASSERT_EQ(0, avf_read_event(reader, &ev));
	EXPECT_EQ(AVF_EVENT_OVERFLOW, ev.type);
	EXPECT_EQ(2 * runs - (int)c.event_queue_len, ev.code);
	ASSERT_EQ(0, avf_read_event(reader, &ev));
	EXPECT_EQ(2 * runs - c.event_queue_len + 1, ev.seq);
	last_seq = ev.seq;
	while (avf_read_event(reader, &ev) == 0) {
		EXPECT_EQ(last_seq + 1, ev.seq);
		last_seq = ev.seq;
	}
	EXPECT_EQ((__u32)(2 * runs), last_seq);
	close(reader);
	close(vm);
}

/* ---- ownership ------------------------------------------------------ */

TEST_F(avf, other_uid_cannot_see)
{
	int vm = create_vm(_metadata, self), vmm = bind_drain(_metadata, vm), status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(goto out, "needs root to switch uid");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int mine;

		close(vm);
		if (setresgid(4242, 4242, 4242) || setresuid(4242, 4242, 4242))
			_exit(10);
		if (__avf_open_vm(self->dev, self->name, 0) != -ENOENT)
			_exit(11);
		/* the same name is a different instance for this uid */
		mine = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
		if (mine < 0)
			_exit(12);
		if (avf_status(mine) != AVF_STATUS_STOPPED)
			_exit(13);
		if (__avf_ioctl(mine, AVF_VM_DELETE, NULL))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(AVF_STATUS_RUNNING, avf_status(vm));
out:
	close(vmm);
	close(vm);
}

TEST_F(avf, cids_unique)
{
	int vm = create_vm(_metadata, self);
	__u32 seen[200];

	for (int i = 0; i < 200; i++) {
		int vmm = __avf_bind(vm, &seen[i]);

		ASSERT_GE(vmm, 0);
		for (int j = 0; j < i; j++)
			ASSERT_NE(seen[j], seen[i]);
		close(vmm);
	}
	close(vm);
}

/* ---- close race ----------------------------------------------------- */

struct race {
	int fd;
	volatile int stop;
	unsigned long calls;
};

static void *race_ioctls(void *arg)
{
	struct race *r = arg;
	struct avf_vm_info info;

	struct avf_event ev;
	struct pollfd p;

	/*
	 * No AVF_VM_STOP here: the VMM being stopped is this very process.
	 * Every file dup2()ed to r->fd is O_NONBLOCK already: the fd can
	 * change between poll() and read(), and avf_read_event()'s own
	 * F_GETFL/F_SETFL would leave a window in which read() blocks on a
	 * file with no event, for ever.
	 */
	while (!r->stop) {
		ioctl(r->fd, AVF_VM_GET_INFO, &info);
		p = (struct pollfd){ .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
			(void)!read(r->fd, &ev, sizeof(ev));
		r->calls++;
	}
	return NULL;
}

/*
 * Up to AVF_RACE_ITERS (100,000) replacements of the fd under the racing
 * thread, or as many as RACE_BUDGET_S of wall time allows once
 * RACE_MIN_ITERS are done: the race's reach scales with the machine's
 * speed (a starved emulated test host managed 100,000 in neither 300 nor
 * 900 s), its verdict (no crash, no KASAN or lockdep report, the instance
 * intact) does not.
 */
#define RACE_BUDGET_S	240
#define RACE_MIN_ITERS	2000

TEST_F_TIMEOUT(avf, close_race, 900)
{
	const char *env = getenv("AVF_RACE_ITERS");
	long iters = env ? atol(env) : 100000, i;
	struct race r = {};
	struct timespec t0, now;
	pthread_t t;
	int devnull = open("/dev/null", O_RDONLY);

	ASSERT_GE(devnull, 0);
	r.fd = create_vm(_metadata, self);
	ASSERT_EQ(0, fcntl(r.fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, pthread_create(&t, NULL, race_ioctls, &r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++) {
		int fd = __avf_open_vm(self->dev, self->name, 0);

		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
		if (i & 1) {
			dup2(fd, r.fd);		/* replace under the other thread */
			close(fd);
		} else {
			int vmm = __avf_bind(fd, NULL);

			if (vmm >= 0)
				close(vmm);
			dup2(devnull, r.fd);
			dup2(fd, r.fd);
			close(fd);
		}
		if (i >= RACE_MIN_ITERS && !(i & 255)) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= RACE_BUDGET_S) {
				i++;
				break;
			}
		}
	}
	r.stop = 1;
	pthread_join(t, NULL);
	TH_LOG("%ld of %ld iterations, %lu racing ioctl pairs", i, iters, r.calls);
	EXPECT_EQ(0, __avf_ioctl(r.fd, AVF_VM_DELETE, NULL));
	close(r.fd);
	close(devnull);
}

/* ==== the trust boundary: development mode off ======================== */

#define OWNER_UID	1000
#define OTHER_UID	1001

FIXTURE(trust) {
	int dev;
	char name[AVF_NAME_MAX];
	uid_t vmm_uid;
	struct avf_capabilities caps;
};

FIXTURE_SETUP(trust)
{
	static int counter;
	int ret;

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s (is avf.ko loaded?)", strerror(errno));
	if (geteuid() != 0)
		SKIP(return, "needs root to play the VMM and other uids");
	snprintf(self->name, sizeof(self->name), "tr-%d-%d", getpid(), counter++);
	ret = avf_set_dev_mode(false);
	if (ret < 0)
		SKIP(return, "cannot set development mode: %s", strerror(-ret));
	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &self->caps);
	if (!(self->caps.flags & AVF_CAPS_TRUSTED_VMM))
		SKIP(return, "avf.ko has no vmm_uid");
	self->vmm_uid = self->caps.vmm_uid;
	ASSERT_EQ(avf_vmm_uid(), self->vmm_uid);
}

FIXTURE_TEARDOWN(trust)
{
	if (self->dev >= 0)
		close(self->dev);
}

/* An instance named @name owned by @uid (root creates it with that euid). */
static int create_vm_as(int dev, const char *name, uid_t uid)
{
	int fd, err;

	if (seteuid(uid))
		return -errno;
	fd = __avf_open_vm(dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	err = errno;
	if (seteuid(0))
		abort();
	errno = err;
	return fd;
}

static void delete_vm(struct __test_metadata *_metadata, int vm)
{
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	close(vm);
}

/*
 * AVF_VM_BIND_VMM from a child with these ids (gids all the VMM uid's),
 * fsuid @fs (-1: as setresuid leaves it) and PR_SET_DUMPABLE @dumpable.
 * Returns the bind result (0 for a successful bind, whose VMM fd the
 * child's exit closes) or -errno.
 */
static int bind_creds(int vm, uid_t r, uid_t e, uid_t s, int fs, int dumpable)
{
	uid_t g = avf_vmm_uid();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int ret;

		if (setresgid(g, g, g))
			_exit(250);
		/* a differing fsuid needs CAP_SETUID kept across setresuid */
		if (fs >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
			_exit(253);
		if (setresuid(r, e, s))
			_exit(251);
		if (fs >= 0) {
			struct __user_cap_header_struct h = {
				.version = _LINUX_CAPABILITY_VERSION_3 };
			struct __user_cap_data_struct d[2] = {};

			d[0].effective = d[0].permitted = 1U << CAP_SETUID;
			if (syscall(SYS_capset, &h, d))
				_exit(254);
			setfsuid(fs);
			if ((int)setfsuid(-1) != fs)
				_exit(255);
		}
		if (prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0))
			_exit(252);
		ret = __avf_bind(vm, NULL);
		_exit(ret < 0 ? -ret : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/* ---- passing fds between the test and its VMM children ---- */

struct bind_reply {
	int ret;
	__u32 cid;
};

static int send_fd(int sock, int fd, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, 0) == (ssize_t)len ? 0 : -1;
}

/* Receives @len bytes and the fd sent with them (-1 when none). */
static int recv_fd(int sock, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != (ssize_t)len)
		return -2;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A child playing the trusted VMM; the test holds its VMM fd. */
struct vmm_child {
	pid_t pid;
	int sock;
	int vmm;
	__u32 cid;
};

/*
 * Fork a child that becomes the trusted VMM, binds @vm and passes the VMM
 * fd back; it stays alive (the bound VMM pid) until vmm_child_end().
 * Returns 0 or the bind's -errno.
 */
static int vmm_child_start(int vm, struct vmm_child *c)
{
	struct bind_reply r = { .ret = -EIO };
	int sv[2];

	memset(c, 0, sizeof(*c));
	c->vmm = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char x;

		close(sv[0]);
		r.ret = avf_become_vmm();
		if (!r.ret)
			r.ret = __avf_bind(vm, &r.cid);
		send_fd(sv[1], r.ret, &r, sizeof(r));
		if (r.ret >= 0)
			close(r.ret);
		/* until the test closes its end */
		while (read(sv[1], &x, 1) > 0)
			;
		_exit(0);
	}
	close(sv[1]);
	c->sock = sv[0];
	c->vmm = recv_fd(c->sock, &r, sizeof(r));
	c->cid = r.cid;
	if (r.ret < 0) {
		if (c->vmm >= 0)
			close(c->vmm);
		c->vmm = -1;
		return r.ret;
	}
	return c->vmm >= 0 ? 0 : -EIO;
}

/* Let the child go and reap it; returns its wait status. */
static int vmm_child_end(struct vmm_child *c)
{
	int status = -1;

	if (c->vmm >= 0)
		close(c->vmm);
	c->vmm = -1;
	if (c->pid > 0) {
		close(c->sock);
		waitpid(c->pid, &status, 0);
		c->pid = 0;
	}
	return status;
}

/* ---- capabilities and parameters ---- */

TEST_F(trust, caps_trusted)
{
	EXPECT_TRUE(self->caps.flags & AVF_CAPS_TRUSTED_VMM);
	EXPECT_FALSE(self->caps.flags & AVF_CAPS_OWNER_IS_VMM);
	EXPECT_EQ(avf_vmm_uid(), self->caps.vmm_uid);
	EXPECT_EQ(64, self->caps.max_running_per_owner);
	EXPECT_EQ(16, self->caps.max_pending_connects);
}

static int write_param(const char *name, const char *val)
{
	char p[128];
	int fd, ret = 0;

	snprintf(p, sizeof(p), "/sys/module/avf/parameters/%s", name);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

TEST_F(trust, vmm_uid_changes_at_runtime)
{
	struct avf_capabilities c;
	char old[16];
	int vm = create_vm_as(self->dev, self->name, 0), u = self->vmm_uid;

	snprintf(old, sizeof(old), "%u", self->vmm_uid);
	ASSERT_EQ(0, write_param("vmm_uid", "4294967295"));
	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &c);
	EXPECT_FALSE(c.flags & AVF_CAPS_TRUSTED_VMM);
	EXPECT_EQ(AVF_VMM_UID_NONE, c.vmm_uid);
	EXPECT_EQ(-EPERM, bind_creds(vm, u, u, u, -1, 0));
	ASSERT_EQ(0, write_param("vmm_uid", old));
	EXPECT_EQ(0, bind_creds(vm, u, u, u, -1, 0));
	EXPECT_EQ(0, write_param("owner_vmm", "1"));
	avf_ioctl(_metadata, self->dev, AVF_GET_CAPABILITIES, &c);
	EXPECT_TRUE(c.flags & AVF_CAPS_OWNER_IS_VMM);
	EXPECT_EQ(0, write_param("owner_vmm", "0"));
	while (avf_read_event(vm, &(struct avf_event){}) == 0)
		;
	delete_vm(_metadata, vm);
}

TEST_F(trust, params_root_only)
{
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (setresgid(OWNER_UID, OWNER_UID, OWNER_UID) ||
		    setresuid(OWNER_UID, OWNER_UID, OWNER_UID))
			_exit(10);
		if (write_param("owner_vmm", "1") != -EACCES)
			_exit(11);
		if (write_param("vmm_uid", "1000") != -EACCES)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("status %d", status);
}

/* ---- AVF_VM_BIND_VMM: who may bind ---- */

TEST_F(trust, bind_vmm_ok)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);
	struct avf_vm_info info;
	struct vmm_child c;

	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, vmm_child_start(vm, &c));
	EXPECT_GE(c.cid, AVF_CID_FIRST);
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(AVF_STATUS_RUNNING, info.status);
	EXPECT_EQ(c.cid, info.cid);
	EXPECT_EQ(c.pid, (pid_t)info.vmm_pid);
	vmm_child_end(&c);
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_owner_root_no_dev_mode)
{
	int vm = create_vm_as(self->dev, self->name, 0);

	/* root, non-dumpable, the owner: still not the VMM */
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	EXPECT_EQ(-EPERM, __avf_bind(vm, NULL));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &(struct avf_event){}));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_owner_no_dev_mode)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, OWNER_UID, OWNER_UID, OWNER_UID, -1, 0));
	EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vm));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_vmm_uid_dumpable)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), u = self->vmm_uid;

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, u, u, u, -1, 1));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_euid_only)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, OWNER_UID, self->vmm_uid, OWNER_UID, -1, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_ruid_other)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), u = self->vmm_uid;

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, OWNER_UID, u, u, -1, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_suid_other)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), u = self->vmm_uid;

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, u, u, OWNER_UID, -1, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_fsuid_other)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), u = self->vmm_uid;

	ASSERT_GE(vm, 0);
	/* uid = euid = suid = VMM, fsuid the owner's (set before dropping root) */
	EXPECT_EQ(-EPERM, bind_creds(vm, u, u, u, OWNER_UID, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_second_uid)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, OTHER_UID, OTHER_UID, OTHER_UID, -1, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_dev_mode_owner)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);

	ASSERT_GE(vm, 0);
	ASSERT_GE(avf_set_dev_mode(true), 0);
	EXPECT_EQ(0, bind_creds(vm, OWNER_UID, OWNER_UID, OWNER_UID, -1, 0));
	/* still not while dumpable, nor for another uid, nor euid alone */
	EXPECT_EQ(-EPERM, bind_creds(vm, OWNER_UID, OWNER_UID, OWNER_UID, -1, 1));
	EXPECT_EQ(-EPERM, bind_creds(vm, OTHER_UID, OTHER_UID, OTHER_UID, -1, 0));
	EXPECT_EQ(-EPERM, bind_creds(vm, OTHER_UID, OWNER_UID, OTHER_UID, -1, 0));
	ASSERT_GE(avf_set_dev_mode(false), 0);
	EXPECT_EQ(-EPERM, bind_creds(vm, OWNER_UID, OWNER_UID, OWNER_UID, -1, 0));
	delete_vm(_metadata, vm);
}

TEST_F(trust, bind_invalid_before_perm)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID);
	struct avf_vm_bind b = { .flags = 1 };

	ASSERT_GE(vm, 0);
	/* validation first: bad input is -EINVAL whoever asks */
	EXPECT_EQ(-EINVAL, __avf_ioctl(vm, AVF_VM_BIND_VMM, &b));
	delete_vm(_metadata, vm);
}

/* ---- limits ---- */

/*
 * One uid's instances cannot take every run: past max_running_per_owner
 * its binds fail with -EUSERS while a second uid still binds and gets a
 * CID. Every unbind path gives its place back.
 */
TEST_F_TIMEOUT(trust, running_cap_per_owner, 600)
{
	unsigned int cap = self->caps.max_running_per_owner, i;
	int *vms = calloc(cap + 1, sizeof(int)), other, status;
	char name[AVF_NAME_MAX];
	pid_t pid;

	ASSERT_NE(NULL, vms);
	for (i = 0; i <= cap; i++) {
		snprintf(name, sizeof(name), "%.40s-%u", self->name, i);
		vms[i] = create_vm_as(self->dev, name, OWNER_UID);
		ASSERT_GE(vms[i], 0) TH_LOG("vm %u: %s", i, strerror(errno));
	}
	other = create_vm_as(self->dev, self->name, OTHER_UID);
	ASSERT_GE(other, 0);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int *vmm = calloc(cap + 1, sizeof(int)), ret;
		__u32 cid = 0;

		if (avf_become_vmm())
			_exit(100);
		for (i = 0; i < cap; i++) {
			vmm[i] = __avf_bind(vms[i], NULL);
			if (vmm[i] < 0)
				_exit(101);
		}
		if (__avf_bind(vms[cap], NULL) != -EUSERS)
			_exit(102);
		/* another owner is not affected */
		ret = __avf_bind(other, &cid);
		if (ret < 0 || cid < AVF_CID_FIRST)
			_exit(103);
		/* a STOPPED report frees a place ... */
		if (__avf_report(vmm[0], AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL))
			_exit(104);
		vmm[cap] = __avf_bind(vms[cap], NULL);
		if (vmm[cap] < 0)
			_exit(105);
		if (__avf_bind(vms[0], NULL) != -EUSERS)
			_exit(106);
		/* ... and so does closing a VMM fd */
		close(vmm[1]);
		vmm[0] = __avf_bind(vms[0], NULL);
		if (vmm[0] < 0)
			_exit(107);
		if (__avf_bind(vms[1], NULL) != -EUSERS)
			_exit(108);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("VMM child: status 0x%x", status);
	/* the child's exit unbound everything: the count is back to 0 */
	for (i = 0; i <= cap; i++)
		EXPECT_EQ(AVF_STATUS_STOPPED, avf_status(vms[i])) TH_LOG("vm %u", i);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int vmm[2];

		if (avf_become_vmm())
			_exit(100);
		for (i = 0; i < cap; i++) {
			vmm[0] = __avf_bind(vms[i], NULL);
			if (vmm[0] < 0)
				_exit(110);
			vmm[1] = vmm[0];	/* keep it open: counted */
		}
		_exit(vmm[1] >= 0 ? 0 : 111);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("second VMM child: status 0x%x", status);
	for (i = 0; i <= cap; i++)
		delete_vm(_metadata, vms[i]);
	delete_vm(_metadata, other);
	free(vms);
}

/*
 * A stopped run's CID is free at once, though its VMM fd stays open: a
 * VMM binding over and over comes round to it again (the allocator reuses
 * a CID only after the cursor wrapped the whole range).
 */
TEST_F_TIMEOUT(trust, stop_frees_cid_while_vmm_fd_open, 900)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), status;
	long limit = (long)(AVF_CID_LAST - AVF_CID_FIRST) + 16;
	struct avf_vm_info info;
	struct vmm_child c;
	pid_t pid;

	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, vmm_child_start(vm, &c));
	ASSERT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	ASSERT_EQ(0, __avf_info(vm, &info));
	EXPECT_EQ(0, info.cid);
	/* c.vmm stays open until the end */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		__u32 cid = 0;
		long i;
		int vmm;

		if (avf_become_vmm())
			_exit(100);
		for (i = 0; i < limit; i++) {
			vmm = __avf_bind(vm, &cid);
			if (vmm < 0)
				_exit(101);
			close(vmm);
			if (cid == c.cid)
				_exit(0);
		}
		_exit(1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("CID %u of the stopped run never came back (exit %d)",
		       c.cid, WEXITSTATUS(status));
	vmm_child_end(&c);
	while (avf_read_event(vm, &(struct avf_event){}) == 0)
		;
	delete_vm(_metadata, vm);
}

/* ---- AVF_VM_STOP reaches only the task that bound ---- */

static const char *make_suid_sleep(void)
{
	static const char path[] = "/tmp/avf-suid-sleep";
	char buf[65536];
	int in, out;
	ssize_t n;

	unlink(path);
	in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (in < 0 || out < 0)
		return NULL;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return NULL;
	close(in);
	close(out);
	if (chown(path, 0, 0) || chmod(path, 04755))
		return NULL;
	return path;
}

/*
 * A bound VMM child that execs @prog (after clearing FD_CLOEXEC on its
 * VMM fd, so the run stays bound); returns its pid.
 */
static pid_t bind_then_exec(int vm, const char *prog, int *ready)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		int vmm;

		close(pfd[0]);
		if (avf_become_vmm())
			_exit(100);
		vmm = __avf_bind(vm, NULL);
		if (vmm < 0 || fcntl(vmm, F_SETFD, 0))
			_exit(101);
		execl(prog, prog, "600", (char *)NULL);
		_exit(102);
	}
	close(pfd[1]);
	*ready = pfd[0];
	return pid;
}

static void stop_after_exec(struct __test_metadata *_metadata, int dev,
			    const char *name, const char *prog, bool setuid)
{
	int vm = create_vm_as(dev, name, OWNER_UID), ready, status;
	struct avf_event ev;
	char c;
	pid_t pid;

	ASSERT_GE(vm, 0);
	pid = bind_then_exec(vm, prog, &ready);
	ASSERT_GT(pid, 0);
	/* the pipe's write end closes at the exec (CLOEXEC) or the exit */
	EXPECT_EQ(0, read(ready, &c, 1));
	close(ready);
	ASSERT_EQ(AVF_STATUS_RUNNING, avf_status(vm)) TH_LOG("the child did not bind");
	if (setuid) {
		char p[64], line[256];
		FILE *f;
		unsigned int r = 1, e = 1;

		snprintf(p, sizeof(p), "/proc/%d/status", pid);
		for (int i = 0; i < 200 && e != 0; i++) {
			f = fopen(p, "re");
			ASSERT_NE(NULL, f);
			while (fgets(line, sizeof(line), f))
				sscanf(line, "Uid: %u %u", &r, &e);
			fclose(f);
			if (e != 0)
				usleep(10000);
		}
		ASSERT_EQ(0, e) TH_LOG("the set-uid exec did not happen");
	} else {
		usleep(200000);
	}
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	ASSERT_EQ(0, avf_read_event(vm, &ev));
	EXPECT_EQ(AVF_EVENT_RUNNING, ev.type);
	expect_event(_metadata, vm, AVF_EVENT_STOPPED, AVF_STOP_KILLED);
	EXPECT_EQ(0, ({ struct avf_vm_info in; __avf_info(vm, &in); in.cid; }));
	usleep(100000);
	/* the exec'd program was not signalled */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	EXPECT_EQ(0, kill(pid, 0));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* its release of the VMM fd adds no second STOPPED */
	EXPECT_EQ(-EAGAIN, avf_read_event(vm, &ev));
	delete_vm(_metadata, vm);
}

TEST_F(trust, stop_spares_setuid_exec)
{
	const char *prog = make_suid_sleep();

	ASSERT_NE(NULL, prog) TH_LOG("cannot make a set-uid copy of /bin/sleep in /tmp");
	stop_after_exec(_metadata, self->dev, self->name, prog, true);
	unlink(prog);
}

TEST_F(trust, stop_spares_any_exec)
{
	stop_after_exec(_metadata, self->dev, self->name, "/bin/sleep", false);
}

TEST_F(trust, stop_kills_bound_vmm)
{
	int vm = create_vm_as(self->dev, self->name, OWNER_UID), status;
	struct vmm_child c;

	ASSERT_GE(vm, 0);
	ASSERT_EQ(0, vmm_child_start(vm, &c));
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	status = vmm_child_end(&c);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) TH_LOG("status 0x%x", status);
	delete_vm(_metadata, vm);
}

/* ---- connectVsock ---- */

struct connect_req {
	int vm;
	struct avf_vsock_connect c;
	int ret;	/* fd or -errno */
	pthread_t t;
};

static void *connect_thread(void *arg)
{
	struct connect_req *r = arg;

	r->ret = __avf_ioctl(r->vm, AVF_VM_CONNECT_VSOCK, &r->c);
	return NULL;
}

static void connect_async(struct connect_req *r, int vm, __u32 port, __u32 flags,
			  __u32 timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->vm = vm;
	r->c.port = port;
	r->c.flags = flags;
	r->c.timeout_ms = timeout_ms;
	r->ret = -EINPROGRESS;
	if (pthread_create(&r->t, NULL, connect_thread, r))
		r->ret = -errno;
}

static int connect_wait(struct connect_req *r)
{
	pthread_join(r->t, NULL);
	return r->ret;
}

static int conn_take(int vmm, struct avf_vmm_conn *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	return __avf_ioctl(vmm, AVF_VMM_CONN_TAKE, t);
}

/* Take the next request, waiting for the VMM fd to poll readable. */
static int conn_take_wait(int vmm, struct avf_vmm_conn *t)
{
	struct pollfd p = { .fd = vmm, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return -ETIME;
	if (!(p.revents & POLLIN))
		return -EPIPE;
	return conn_take(vmm, t);
}

static int conn_done(int vmm, __u64 id, __s32 result)
{
	struct avf_vmm_conn_done d = { .id = id, .result = result };

	return __avf_ioctl(vmm, AVF_VMM_CONN_DONE, &d);
}

static int vsock_connect(int vm, __u32 port, __u32 flags, __u32 timeout_ms)
{
	struct avf_vsock_connect c = { .port = port, .flags = flags, .timeout_ms = timeout_ms };

	return __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, &c);
}

/* A running instance of root (the test) with a trusted VMM child. */
static int running_vm(struct __test_metadata *_metadata, int dev, const char *name,
		      struct vmm_child *c)
{
	int vm = __avf_open_vm(dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);

	if (vm < 0)
		return vm;
	if (vmm_child_start(vm, c)) {
		close(vm);
		return -1;
	}
	return vm;
}

static void end_vm(struct __test_metadata *_metadata, int vm, struct vmm_child *c)
{
	vmm_child_end(c);
	while (avf_read_event(vm, &(struct avf_event){}) == 0)
		;
	delete_vm(_metadata, vm);
}

TEST_F(trust, connect_relays_bytes)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;
	struct pollfd p;
	char buf[16] = {};
	int fl;

	ASSERT_GE(vm, 0);
	/* nothing pending: not readable */
	p = (struct pollfd){ .fd = c.vmm, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	EXPECT_EQ(5000, t.port);
	EXPECT_NE(0, t.id);
	ASSERT_GE(t.fd, 0);
	EXPECT_EQ(0, t.reserved[0]);
	EXPECT_EQ(0, t.reserved[1]);
	EXPECT_EQ(FD_CLOEXEC, fcntl(t.fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fcntl(t.fd, F_GETFL) & O_NONBLOCK);
	/* taken: not readable any more */
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	EXPECT_EQ(0, conn_done(c.vmm, t.id, 0));
	ASSERT_GE(connect_wait(&r), 0) TH_LOG("connect: %s", strerror(-r.ret));
	EXPECT_EQ(FD_CLOEXEC, fcntl(r.ret, F_GETFD) & FD_CLOEXEC);
	fl = fcntl(r.ret, F_GETFL);
	EXPECT_FALSE(fl & O_NONBLOCK);
	/* a stream socket, both ways */
	EXPECT_EQ(5, write(r.ret, "hello", 5));
	p = (struct pollfd){ .fd = t.fd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 5000));
	EXPECT_EQ(5, read(t.fd, buf, sizeof(buf)));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(3, write(t.fd, "ack", 3));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, read(r.ret, buf, sizeof(buf)));
	EXPECT_STREQ("ack", buf);
	/* done twice: unknown now */
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, t.id, 0));
	close(r.ret);
	EXPECT_EQ(0, read(t.fd, buf, sizeof(buf)));	/* EOF for the VMM */
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_nonblock_flag)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, AVF_VSOCK_PORT_MIN, AVF_CONNECT_NONBLOCK, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	EXPECT_EQ(AVF_VSOCK_PORT_MIN, t.port);
	EXPECT_EQ(0, conn_done(c.vmm, t.id, 0));
	ASSERT_GE(connect_wait(&r), 0);
	EXPECT_TRUE(fcntl(r.ret, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(-1, read(r.ret, &(char){0}, 1));
	EXPECT_EQ(EAGAIN, errno);
	close(r.ret);
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_refused)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, 0xfffffffe, 0, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	EXPECT_EQ(0xfffffffe, t.port);
	EXPECT_EQ(0, conn_done(c.vmm, t.id, -ECONNREFUSED));
	EXPECT_EQ(-ECONNREFUSED, connect_wait(&r));
	/* the owner's end is gone: the VMM's end reads EOF */
	EXPECT_EQ(0, read(t.fd, &(char){0}, 1));
	close(t.fd);
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	EXPECT_EQ(0, conn_done(c.vmm, t.id, -ETIMEDOUT));
	EXPECT_EQ(-ETIMEDOUT, connect_wait(&r));
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_timeout_taken)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct timespec a, b;
	struct avf_vmm_conn t;
	struct connect_req r;
	long ms;

	ASSERT_GE(vm, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	connect_async(&r, vm, 5000, 0, 300);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	EXPECT_EQ(-ETIMEDOUT, connect_wait(&r));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	EXPECT_GE(ms, 290);
	/* the requester gave up: the VMM learns it at DONE */
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, t.id, 0));
	EXPECT_EQ(0, read(t.fd, &(char){0}, 1));
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_timeout_queued)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct pollfd p;

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-ETIMEDOUT, vsock_connect(vm, 5000, 0, 50));
	/* never taken, and gone */
	p = (struct pollfd){ .fd = c.vmm, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_vmm_exits)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;
	int vmm;

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	/* the VMM process exits: its last VMM fd goes with it */
	vmm = c.vmm;
	c.vmm = -1;
	close(vmm);
	vmm_child_end(&c);
	EXPECT_EQ(-ECONNABORTED, connect_wait(&r));
	EXPECT_EQ(0, read(t.fd, &(char){0}, 1));
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_stop_aborts)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct connect_req r;
	struct pollfd p;

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, 5000, 0, 0);
	p = (struct pollfd){ .fd = c.vmm, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	EXPECT_EQ(-ECONNABORTED, connect_wait(&r));
	/* unbound: the VMM fd hangs up and takes nothing */
	p = (struct pollfd){ .fd = c.vmm, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLHUP);
	EXPECT_FALSE(p.revents & POLLIN);
	EXPECT_EQ(-ESHUTDOWN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, 1, 0));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_signal_interrupts)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c), status;
	pid_t pid;

	ASSERT_GE(vm, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(-vsock_connect(vm, 5000, 0, 0) == EINTR ? 0 : 1);
	usleep(200000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* the killed requester's request is gone */
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_other_uid)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c), status;
	pid_t pid;

	ASSERT_GE(vm, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* holds a dup of root's VM fd, but is another uid */
		int dup = fcntl(vm, F_DUPFD_CLOEXEC, 0);

		if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID))
			_exit(10);
		_exit(-vsock_connect(dup, 5000, 0, 100) == EPERM ? 0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_not_running)
{
	int vm = create_vm_as(self->dev, self->name, 0);

	EXPECT_EQ(-ESRCH, vsock_connect(vm, 5000, 0, 100));
	delete_vm(_metadata, vm);
}

TEST_F(trust, connect_deleted)
{
	int vm = create_vm_as(self->dev, self->name, 0);

	ASSERT_EQ(0, __avf_ioctl(vm, AVF_VM_DELETE, NULL));
	EXPECT_EQ(-EIDRM, vsock_connect(vm, 5000, 0, 100));
	close(vm);
}

static int connect_raw(int vm, struct avf_vsock_connect c)
{
	return __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, &c);
}

TEST_F(trust, connect_bad_port)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 0, 0, 100));
	EXPECT_EQ(-EINVAL, vsock_connect(vm, AVF_VSOCK_PORT_MIN - 1, 0, 100));
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 0xffffffff, 0, 100));
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_bad_flags)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 5000, 2, 100));
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 5000, 1U << 31, 100));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_bad_timeout)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 5000, 0, AVF_CONNECT_TIMEOUT_MAX_MS + 1));
	EXPECT_EQ(-EINVAL, vsock_connect(vm, 5000, 0, 0xffffffff));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_reserved)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-EINVAL, connect_raw(vm, (struct avf_vsock_connect){
		.port = 5000, .timeout_ms = 100, .reserved0 = 1 }));
	for (int i = 0; i < 2; i++) {
		struct avf_vsock_connect r = { .port = 5000, .timeout_ms = 100 };

		r.reserved[i] = 1ULL << 40;
		EXPECT_EQ(-EINVAL, connect_raw(vm, r)) TH_LOG("reserved[%d]", i);
	}
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_bad_ptr)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	size_t off;
	char *p = guard_page_after(&off, sizeof(struct avf_vsock_connect));

	ASSERT_GE(vm, 0);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, KERNEL_ADDR));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vm, AVF_VM_CONNECT_VSOCK, p + off));
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, connect_pending_cap)
{
	unsigned int cap = self->caps.max_pending_connects, i;
	struct connect_req *r = calloc(cap, sizeof(*r));
	struct avf_vmm_conn *t = calloc(cap, sizeof(*t));
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);

	ASSERT_GE(vm, 0);
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, t);
	/* fill the cap one by one; taken requests still count */
	for (i = 0; i < cap; i++) {
		connect_async(&r[i], vm, 5000 + i, 0, AVF_CONNECT_TIMEOUT_MAX_MS);
		ASSERT_EQ(0, conn_take_wait(c.vmm, &t[i])) TH_LOG("request %u", i);
		EXPECT_EQ(5000 + i, t[i].port);
	}
	EXPECT_EQ(-EAGAIN, vsock_connect(vm, 6000, 0, 1));
	EXPECT_EQ(-EAGAIN, vsock_connect(vm, 6000, 0, 1));
	/* one ends: a place is free again (this one times out instead) */
	EXPECT_EQ(0, conn_done(c.vmm, t[0].id, -ECONNREFUSED));
	EXPECT_EQ(-ECONNREFUSED, connect_wait(&r[0]));
	EXPECT_EQ(-ETIMEDOUT, vsock_connect(vm, 6000, 0, 1));
	EXPECT_EQ(-EAGAIN, conn_take(c.vmm, &(struct avf_vmm_conn){}));
	/* the run ends: every other request is aborted */
	EXPECT_EQ(0, __avf_ioctl(vm, AVF_VM_STOP, NULL));
	for (i = 1; i < cap; i++) {
		EXPECT_EQ(-ECONNABORTED, connect_wait(&r[i])) TH_LOG("request %u", i);
	}
	for (i = 0; i < cap; i++)
		close(t[i].fd);
	free(r);
	free(t);
	end_vm(_metadata, vm, &c);
}

/* ---- AVF_VMM_CONN_TAKE / AVF_VMM_CONN_DONE ---- */

TEST_F(trust, take_none_pending)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;

	ASSERT_GE(vm, 0);
	memset(&t, 0xff, sizeof(t));
	t.reserved[0] = t.reserved[1] = 0;
	EXPECT_EQ(-EAGAIN, __avf_ioctl(c.vmm, AVF_VMM_CONN_TAKE, &t));
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, take_reserved)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(1, poll(&(struct pollfd){ .fd = c.vmm, .events = POLLIN }, 1, 10000));
	for (int i = 0; i < 2; i++) {
		memset(&t, 0, sizeof(t));
		t.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __avf_ioctl(c.vmm, AVF_VMM_CONN_TAKE, &t)) TH_LOG("reserved[%d]", i);
	}
	/* still queued */
	ASSERT_EQ(0, conn_take(c.vmm, &t));
	EXPECT_EQ(0, conn_done(c.vmm, t.id, -ECONNREFUSED));
	EXPECT_EQ(-ECONNREFUSED, connect_wait(&r));
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, take_bad_ptr_keeps_request)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	long pg = sysconf(_SC_PAGESIZE);
	void *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct avf_vmm_conn t;
	struct connect_req r;

	ASSERT_GE(vm, 0);
	ASSERT_NE(MAP_FAILED, ro);
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(1, poll(&(struct pollfd){ .fd = c.vmm, .events = POLLIN }, 1, 10000));
	EXPECT_EQ(-EFAULT, __avf_ioctl(c.vmm, AVF_VMM_CONN_TAKE, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(c.vmm, AVF_VMM_CONN_TAKE, KERNEL_ADDR));
	/* readable but not writable: the take is undone */
	EXPECT_EQ(-EFAULT, __avf_ioctl(c.vmm, AVF_VMM_CONN_TAKE, ro));
	ASSERT_EQ(0, conn_take(c.vmm, &t));
	EXPECT_EQ(5000, t.port);
	EXPECT_EQ(0, conn_done(c.vmm, t.id, 0));
	ASSERT_GE(connect_wait(&r), 0);
	EXPECT_EQ(1, write(r.ret, "x", 1));
	EXPECT_EQ(1, read(t.fd, &(char){0}, 1));
	close(r.ret);
	close(t.fd);
	munmap(ro, pg);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, done_unknown_id)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn t;
	struct connect_req r;

	ASSERT_GE(vm, 0);
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, 0, 0));
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, 12345, 0));
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(1, poll(&(struct pollfd){ .fd = c.vmm, .events = POLLIN }, 1, 10000));
	/* queued but not taken: not this VMM's yet */
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, 1, 0));
	ASSERT_EQ(0, conn_take(c.vmm, &t));
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, t.id + 1, 0));
	EXPECT_EQ(0, conn_done(c.vmm, t.id, -ECONNREFUSED));
	EXPECT_EQ(-ENOENT, conn_done(c.vmm, t.id, -ECONNREFUSED));
	EXPECT_EQ(-ECONNREFUSED, connect_wait(&r));
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, done_bad_fields)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct avf_vmm_conn_done d;
	struct avf_vmm_conn t;
	struct connect_req r;
	const int bad[] = { 1, -1, -EIO, -ECONNRESET, -EAGAIN, 0x7fffffff };

	ASSERT_GE(vm, 0);
	connect_async(&r, vm, 5000, 0, 0);
	ASSERT_EQ(0, conn_take_wait(c.vmm, &t));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, conn_done(c.vmm, t.id, bad[i])) TH_LOG("result %d", bad[i]);
	}
	d = (struct avf_vmm_conn_done){ .id = t.id, .reserved0 = 1 };
	EXPECT_EQ(-EINVAL, __avf_ioctl(c.vmm, AVF_VMM_CONN_DONE, &d));
	for (int i = 0; i < 2; i++) {
		d = (struct avf_vmm_conn_done){ .id = t.id };
		d.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __avf_ioctl(c.vmm, AVF_VMM_CONN_DONE, &d)) TH_LOG("reserved[%d]", i);
	}
	EXPECT_EQ(-EFAULT, __avf_ioctl(c.vmm, AVF_VMM_CONN_DONE, NULL));
	EXPECT_EQ(-EFAULT, __avf_ioctl(c.vmm, AVF_VMM_CONN_DONE, KERNEL_ADDR));
	/* none of these ended the request */
	EXPECT_EQ(0, conn_done(c.vmm, t.id, 0));
	ASSERT_GE(connect_wait(&r), 0);
	close(r.ret);
	close(t.fd);
	end_vm(_metadata, vm, &c);
}

TEST_F(trust, vmm_fd_hup_after_unbind)
{
	struct vmm_child c;
	int vm = running_vm(_metadata, self->dev, self->name, &c);
	struct pollfd p;

	ASSERT_GE(vm, 0);
	p = (struct pollfd){ .fd = c.vmm, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));
	ASSERT_EQ(0, __avf_report(c.vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLHUP, p.revents);
	EXPECT_EQ(-ESRCH, vsock_connect(vm, 5000, 0, 100));
	end_vm(_metadata, vm, &c);
}

TEST_HARNESS_MAIN
