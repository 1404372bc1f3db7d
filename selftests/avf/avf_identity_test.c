// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avf identity selftests: AVF_INSTANCE_SEAL, AVF_VMM_START and
 * AVF_UDS_LOAD. The test plays the VMM: it passes a guest-RAM memfd and
 * reads the secret the module wrote there (a real VMM hands it to the
 * guest and is non-dumpable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "kselftest_harness.h"
#include "avf_util.h"

#define SECRET_OFF 0x1000

static int make_file(const char *dir, const char *name, char fill, size_t size)
{
	char path[256], *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	buf = malloc(size);
	memset(buf, fill, size);
	if (write(fd, buf, size) != (ssize_t)size)
		size = 0;
	free(buf);
	close(fd);
	return size ? open(path, O_RDONLY | O_CLOEXEC) : -1;
}

FIXTURE(id) {
	int dev, vm;
	char dir[64];
	int kernel, initrd, package;
	char name[AVF_NAME_MAX];
	__u8 state[AVF_INSTANCE_STATE_SIZE];
};

FIXTURE_SETUP(id)
{
	static int counter;

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-id-%d-%d", getpid(), counter);
	snprintf(self->name, sizeof(self->name), "id-%d-%d", getpid(), counter++);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	self->kernel = make_file(self->dir, "kernel", 'k', 100000);
	self->initrd = make_file(self->dir, "initrd", 'i', 5000);
	self->package = make_file(self->dir, "package", 'p', 70000);
	ASSERT_GE(self->kernel, 0);
	ASSERT_GE(self->initrd, 0);
	ASSERT_GE(self->package, 0);
	self->vm = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(self->vm, 0);
}

FIXTURE_TEARDOWN(id)
{
	char cmd[128];

	if (self->dev < 0)
		return;
	close(self->vm);
	close(self->kernel);
	close(self->initrd);
	close(self->package);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
	close(self->dev);
}

static struct avf_images images(FIXTURE_DATA(id) *self, __u32 debug)
{
	return (struct avf_images){ .kernel_fd = self->kernel, .initrd_fd = self->initrd,
				    .package_fd = self->package, .debug_level = debug };
}

static int seal(FIXTURE_DATA(id) *self, struct avf_images im, __u8 *out)
{
	struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)out,
				       .state_size = AVF_INSTANCE_STATE_SIZE };

	return __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s);
}

/* Bind, start with @state, return the VMM fd (or -errno) and the secret. */
static int start(FIXTURE_DATA(id) *self, struct avf_images im, const __u8 *state,
		 __u8 *secret, int *vmm_out)
{
	int vmm = __avf_bind(self->vm, NULL), mem, ret;
	struct avf_vmm_start s = { .images = im, .state = (__u64)(uintptr_t)state,
				   .state_size = AVF_INSTANCE_STATE_SIZE,
				   .secret_offset = SECRET_OFF };

	*vmm_out = vmm;
	if (vmm < 0)
		return vmm;
	mem = memfd_create("guest-ram", MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, 1 << 20))
		return -EIO;
	s.mem_fd = mem;
	ret = __avf_ioctl(vmm, AVF_VMM_START, &s);
	if (!ret && secret && pread(mem, secret, AVF_SECRET_SIZE, SECRET_OFF) != AVF_SECRET_SIZE)
		ret = -EIO;
	close(mem);
	return ret;
}

static void stop_run(int vmm)
{
	__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
	close(vmm);
}

static void drain(int vm)
{
	struct avf_event ev;

	while (avf_read_event(vm, &ev) == 0)
		;
}

TEST_F(id, seal)
{
	__u8 other[AVF_INSTANCE_STATE_SIZE];

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	EXPECT_EQ(0, memcmp(self->state, "AVFI", 4));
	/* a new salt and nonce every time */
	ASSERT_EQ(0, seal(self, images(self, 1), other));
	EXPECT_NE(0, memcmp(self->state, other, sizeof(other)));
}

TEST_F(id, seal_sealed_memfd)
{
	struct avf_images im = images(self, 0);
	int m = memfd_create("kernel", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ASSERT_GE(m, 0);
	ASSERT_EQ(5, write(m, "hello", 5));
	im.kernel_fd = m;
	/* writable and unsealed: refused */
	EXPECT_EQ(-ETXTBSY, seal(self, im, self->state));
	ASSERT_EQ(0, fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK));
	EXPECT_EQ(0, seal(self, im, self->state));
	close(m);
}

TEST_F(id, seal_file_open_for_writing)
{
	char path[128];
	int w;

	snprintf(path, sizeof(path), "%s/package", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	EXPECT_EQ(-ETXTBSY, seal(self, images(self, 0), self->state));
	close(w);
	EXPECT_EQ(0, seal(self, images(self, 0), self->state));
}

TEST_F(id, seal_bad_fd)
{
	struct avf_images im = images(self, 0);

	im.initrd_fd = 9999;
	EXPECT_EQ(-EBADF, seal(self, im, self->state));
}

TEST_F(id, seal_not_regular)
{
	struct avf_images im = images(self, 0);
	int d = open(self->dir, O_RDONLY | O_DIRECTORY);

	im.package_fd = d;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	close(d);
}

TEST_F(id, seal_write_only_fd)
{
	struct avf_images im = images(self, 0);
	char path[128];
	int w;

	snprintf(path, sizeof(path), "%s/other", self->dir);
	w = open(path, O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(w, 0);
	im.kernel_fd = w;
	EXPECT_EQ(-EBADF, seal(self, im, self->state));
	close(w);
}

TEST_F(id, seal_debug_level)
{
	EXPECT_EQ(-EINVAL, seal(self, images(self, 2), self->state));
}

TEST_F(id, seal_protected)
{
	struct avf_images im = images(self, 0);

	im.protected_vm = 1;
	EXPECT_EQ(-EOPNOTSUPP, seal(self, im, self->state));
	im.protected_vm = 2;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
}

TEST_F(id, seal_images_reserved)
{
	struct avf_images im = images(self, 0);

	im.reserved[2] = 1;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
}

TEST_F(id, seal_reserved)
{
	struct avf_instance_seal s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				       .state_size = AVF_INSTANCE_STATE_SIZE };

	s.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
}

TEST_F(id, seal_flags)
{
	struct avf_instance_seal s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				       .state_size = AVF_INSTANCE_STATE_SIZE, .flags = 1 };

	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
}

TEST_F(id, seal_size)
{
	struct avf_instance_seal s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				       .state_size = AVF_INSTANCE_STATE_SIZE - 1 };

	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
	s.state_size = UINT32_MAX;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
	s.state_size = 0;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
}

TEST_F(id, seal_bad_ptr)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT_EQ(-EFAULT, seal(self, images(self, 0), NULL));
	EXPECT_EQ(-EFAULT, seal(self, images(self, 0), (void *)0xffffffff81000000UL));
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EFAULT, seal(self, images(self, 0), ro));
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, NULL));
}

TEST_F(id, start_secret_stable_across_runs)
{
	__u8 s1[32], s2[32], zero[32] = {};
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	ASSERT_EQ(0, start(self, images(self, 1), self->state, s1, &vmm));
	EXPECT_NE(0, memcmp(s1, zero, 32));
	stop_run(vmm);
	ASSERT_EQ(0, start(self, images(self, 1), self->state, s2, &vmm));
	stop_run(vmm);
	EXPECT_EQ(0, memcmp(s1, s2, 32));
}

TEST_F(id, start_new_instance_new_secret)
{
	__u8 other_state[AVF_INSTANCE_STATE_SIZE], s1[32], s2[32];
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	ASSERT_EQ(0, seal(self, images(self, 1), other_state));
	ASSERT_EQ(0, start(self, images(self, 1), self->state, s1, &vmm));
	stop_run(vmm);
	ASSERT_EQ(0, start(self, images(self, 1), other_state, s2, &vmm));
	stop_run(vmm);
	EXPECT_NE(0, memcmp(s1, s2, 32));
}

TEST_F(id, start_images_write_denied_while_running)
{
	char path[128];
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	ASSERT_EQ(0, start(self, images(self, 0), self->state, NULL, &vmm));
	snprintf(path, sizeof(path), "%s/kernel", self->dir);
	EXPECT_EQ(-1, open(path, O_WRONLY));
	EXPECT_EQ(ETXTBSY, errno);
	stop_run(vmm);
	{
		int w = open(path, O_WRONLY);

		EXPECT_GE(w, 0);
		close(w);
	}
}

TEST_F(id, start_payload_changed)
{
	struct avf_event ev;
	char path[128];
	int vmm, w;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	snprintf(path, sizeof(path), "%s/package", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	ASSERT_EQ(1, pwrite(w, "X", 1, 100));
	close(w);
	drain(self->vm);
	EXPECT_EQ(-EKEYREJECTED, start(self, images(self, 0), self->state, NULL, &vmm));
	ASSERT_EQ(0, avf_read_event(self->vm, &ev));	/* RUNNING */
	ASSERT_EQ(0, avf_read_event(self->vm, &ev));
	EXPECT_EQ(AVF_EVENT_ERROR, ev.type);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, ev.code);
	EXPECT_NE(NULL, strstr(ev.message, "payload package"));
	stop_run(vmm);
}

TEST_F(id, start_debug_level_changed)
{
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	EXPECT_EQ(-EKEYREJECTED, start(self, images(self, 1), self->state, NULL, &vmm));
	stop_run(vmm);
}

TEST_F(id, start_tampered_state)
{
	struct avf_event ev;
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	self->state[100] ^= 1;
	drain(self->vm);
	EXPECT_EQ(-EBADMSG, start(self, images(self, 0), self->state, NULL, &vmm));
	ASSERT_EQ(0, avf_read_event(self->vm, &ev));
	ASSERT_EQ(0, avf_read_event(self->vm, &ev));
	EXPECT_EQ(AVF_EVENT_ERROR, ev.type);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_VERIFICATION_FAILED, ev.code);
	stop_run(vmm);
}

TEST_F(id, start_wrong_version)
{
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	self->state[4] = 2;
	EXPECT_EQ(-EPROTONOSUPPORT, start(self, images(self, 0), self->state, NULL, &vmm));
	stop_run(vmm);
}

TEST_F(id, start_truncated_state)
{
	int vmm = __avf_bind(self->vm, NULL);
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE / 2, .mem_fd = -1 };

	ASSERT_GE(vmm, 0);
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	stop_run(vmm);
}

TEST_F(id, start_twice)
{
	int vmm;
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE };

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	ASSERT_EQ(0, start(self, images(self, 0), self->state, NULL, &vmm));
	s.mem_fd = memfd_create("m", MFD_CLOEXEC);
	ASSERT_EQ(0, ftruncate(s.mem_fd, 1 << 20));
	s.secret_offset = SECRET_OFF;
	EXPECT_EQ(-EALREADY, __avf_ioctl(vmm, AVF_VMM_START, &s));
	stop_run(vmm);
	close(s.mem_fd);
}

TEST_F(id, start_after_stop)
{
	int vmm = __avf_bind(self->vm, NULL), mem = memfd_create("m", MFD_CLOEXEC);
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE, .mem_fd = mem,
				   .secret_offset = SECRET_OFF };

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	ASSERT_EQ(0, ftruncate(mem, 1 << 20));
	ASSERT_EQ(0, __avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	EXPECT_EQ(-ESHUTDOWN, __avf_ioctl(vmm, AVF_VMM_START, &s));
	close(vmm);
	close(mem);
}

TEST_F(id, start_mem_not_memfd)
{
	int vmm = __avf_bind(self->vm, NULL);
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE, .mem_fd = self->package };

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	stop_run(vmm);
}

TEST_F(id, start_offset_outside)
{
	int vmm = __avf_bind(self->vm, NULL), mem = memfd_create("m", MFD_CLOEXEC);
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE, .mem_fd = mem };

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	ASSERT_EQ(0, ftruncate(mem, 4096));
	s.secret_offset = 4096 - 31;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	/* the failed start can be retried in the same run */
	s.secret_offset = UINT64_MAX - 8;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	s.secret_offset = 4096 - 32;
	EXPECT_EQ(0, __avf_ioctl(vmm, AVF_VMM_START, &s));
	stop_run(vmm);
	close(mem);
}

TEST_F(id, start_reserved_and_flags)
{
	int vmm = __avf_bind(self->vm, NULL);
	struct avf_vmm_start s = { .images = images(self, 0), .state = (__u64)(uintptr_t)self->state,
				   .state_size = AVF_INSTANCE_STATE_SIZE, .mem_fd = -1 };

	s.flags = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	s.flags = 0;
	s.reserved0 = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	s.reserved0 = 0;
	s.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	s.reserved[1] = 0;
	s.images.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(vmm, AVF_VMM_START, &s));
	EXPECT_EQ(-EFAULT, __avf_ioctl(vmm, AVF_VMM_START, NULL));
	stop_run(vmm);
}

TEST_F(id, uds_load)
{
	struct avf_uds_load l = {};

	if (geteuid() != 0)
		SKIP(return, "needs root");
	l.reserved[3] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_UDS_LOAD, &l));
	l.reserved[3] = 0;
	l.flags = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_UDS_LOAD, &l));
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_UDS_LOAD, NULL));
}

TEST_HARNESS_MAIN
