// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avf ABI selftests: every ioctl's happy path and one test per
 * validation failure (otherwise-valid input, one bad field, the exact errno),
 * ownership, event delivery, delete semantics and a close race.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "avf_util.h"

#define KERNEL_ADDR ((void *)0xffffffff81000000UL)

FIXTURE(avf) {
	int dev;
	char name[AVF_NAME_MAX];
};

FIXTURE_SETUP(avf)
{
	static int counter;

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s (is avf.ko loaded?)", strerror(errno));
	snprintf(self->name, sizeof(self->name), "t-%d-%d", getpid(), counter++);
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
	EXPECT_EQ(0, c.flags & ~AVF_CAPS_UDS_PERSISTENT);
	EXPECT_GT(c.max_vms_per_owner, 0);
	EXPECT_GT(c.event_queue_len, 0);
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
	for (i = 0; i < 4; i++)
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

	/* no AVF_VM_STOP here: the VMM being stopped is this very process */
	while (!r->stop) {
		ioctl(r->fd, AVF_VM_GET_INFO, &info);
		p = (struct pollfd){ .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
			avf_read_event(r->fd, &ev);
		r->calls++;
	}
	return NULL;
}

TEST_F_TIMEOUT(avf, close_race, 900)
{
	const char *env = getenv("AVF_RACE_ITERS");
	long iters = env ? atol(env) : 100000;
	struct race r = {};
	pthread_t t;
	int devnull = open("/dev/null", O_RDONLY);

	ASSERT_GE(devnull, 0);
	r.fd = create_vm(_metadata, self);
	ASSERT_EQ(0, pthread_create(&t, NULL, race_ioctls, &r));
	for (long i = 0; i < iters; i++) {
		int fd = __avf_open_vm(self->dev, self->name, 0);

		ASSERT_GE(fd, 0);
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
	}
	r.stop = 1;
	pthread_join(t, NULL);
	TH_LOG("%ld iterations, %lu racing ioctl pairs", iters, r.calls);
	EXPECT_EQ(0, __avf_ioctl(r.fd, AVF_VM_DELETE, NULL));
	close(r.fd);
	close(devnull);
}

TEST_HARNESS_MAIN
