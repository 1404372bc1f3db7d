// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avf identity selftests: AVF_INSTANCE_SEAL, AVF_VMM_LOAD,
 * AVF_VMM_START, AVF_INSTANCE_EXPORT / IMPORT and AVF_UDS_LOAD.
 *
 * The test runs as root (the test host). It owns the instances; binding is
 * done by a forked child that became the trusted VMM uid (root may play
 * the VMM: it could do so anyway) and passes the VMM fd back, so the test
 * then acts as that VMM: it passes a guest-RAM memfd and reads the secret
 * the module wrote there. Tests of ordinary owners switch to uid 1000 or
 * 1001 in a child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "kselftest_harness.h"
#include "avf_id_util.h"

#define SECRET_OFF 0x1000
#define OWNER_A 1000
#define OWNER_B 1001
#define KERNEL_SIZE 100000
#define INITRD_SIZE 5000
#define PACKAGE_SIZE 70000

static const char payload[] = "payload.so";
static const char cmdline[] = "quiet";

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

/* true when @fd holds exactly @size bytes of @fill */
static bool content_is(int fd, char fill, size_t size)
{
	char buf[4096];
	size_t done = 0;
	struct stat st;

	if (fstat(fd, &st) || (size_t)st.st_size != size)
		return false;
	while (done < size) {
		ssize_t n = pread(fd, buf, sizeof(buf), done);

		if (n <= 0)
			return false;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != fill)
				return false;
		done += n;
	}
	return pread(fd, buf, 1, done) == 0;
}

FIXTURE(id) {
	int dev, vm;
	char dir[64];
	char ext4[96];	/* set while an ext4 file system is mounted there */
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
	if (geteuid() != 0)
		SKIP(return, "needs root (the test host) to play the VMM uid");
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-id-%d-%d", getpid(), counter);
	snprintf(self->name, sizeof(self->name), "id-%d-%d", getpid(), counter++);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	self->kernel = make_file(self->dir, "kernel", 'k', KERNEL_SIZE);
	self->initrd = make_file(self->dir, "initrd", 'i', INITRD_SIZE);
	self->package = make_file(self->dir, "package", 'p', PACKAGE_SIZE);
	ASSERT_GE(self->kernel, 0);
	ASSERT_GE(self->initrd, 0);
	ASSERT_GE(self->package, 0);
	self->vm = __avf_open_vm(self->dev, self->name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(self->vm, 0);
}

FIXTURE_TEARDOWN(id)
{
	char cmd[128];

	if (self->dev < 0 || geteuid() != 0)
		return;
	close(self->vm);
	close(self->kernel);
	close(self->initrd);
	close(self->package);
	if (self->ext4[0] && umount2(self->ext4, MNT_DETACH))
		TH_LOG("umount %s: %s", self->ext4, strerror(errno));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
	close(self->dev);
}

static struct avf_images images(FIXTURE_DATA(id) *self, __u32 debug)
{
	return (struct avf_images){ .kernel_fd = self->kernel, .initrd_fd = self->initrd,
				    .package_fd = self->package, .debug_level = debug,
				    .payload_name = (__u64)(uintptr_t)payload,
				    .cmdline = (__u64)(uintptr_t)cmdline };
}

static int seal_on(int dev, struct avf_images im, __u8 *out)
{
	struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)out,
				       .state_size = AVF_INSTANCE_STATE_SIZE };

	return __avf_ioctl(dev, AVF_INSTANCE_SEAL, &s);
}

static int seal(FIXTURE_DATA(id) *self, struct avf_images im, __u8 *out)
{
	return seal_on(self->dev, im, out);
}

static int guest_ram(size_t size)
{
	int mem = memfd_create("guest-ram", MFD_CLOEXEC);

	if (mem >= 0 && ftruncate(mem, size)) {
		close(mem);
		return -1;
	}
	return mem;
}

/*
 * One run of @vm: bind as the VMM, LOAD @im with @state, START; the secret
 * read back from guest RAM. Returns LOAD's or START's error; *vmm_out is
 * the VMM fd (the run stays on).
 */
static int run_vm(int vm, struct avf_images im, const __u8 *state, __u8 *secret, int *vmm_out)
{
	int vmm = avf_vmm_bind(vm), mem, ret;

	*vmm_out = vmm;
	if (vmm < 0)
		return vmm;
	ret = __avf_load(vmm, &im, state, NULL);
	if (ret)
		return ret;
	mem = guest_ram(1 << 20);
	if (mem < 0)
		return -EIO;
	ret = __avf_start(vmm, mem, SECRET_OFF);
	if (!ret && secret && pread(mem, secret, AVF_SECRET_SIZE, SECRET_OFF) != AVF_SECRET_SIZE)
		ret = -EIO;
	close(mem);
	return ret;
}

static int run(FIXTURE_DATA(id) *self, struct avf_images im, const __u8 *state, __u8 *secret,
	       int *vmm_out)
{
	return run_vm(self->vm, im, state, secret, vmm_out);
}

static void stop_run(int vmm)
{
	if (vmm < 0)
		return;
	__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
	close(vmm);
}

static void drain(int vm)
{
	struct avf_event ev;

	while (avf_read_event(vm, &ev) == 0)
		;
}

/* The first ERROR record queued on @vm, or type 0. */
static struct avf_event next_error(int vm)
{
	struct avf_event ev;

	while (avf_read_event(vm, &ev) == 0)
		if (ev.type == AVF_EVENT_ERROR)
			return ev;
	memset(&ev, 0, sizeof(ev));
	return ev;
}

/* ---- AVF_INSTANCE_SEAL ------------------------------------------------ */

TEST_F(id, seal)
{
	__u8 other[AVF_INSTANCE_STATE_SIZE];

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	EXPECT_EQ(0, memcmp(self->state, "AVFI\2\0\0\0", 8));
	/* a new salt and nonce every time */
	ASSERT_EQ(0, seal(self, images(self, 1), other));
	EXPECT_NE(0, memcmp(self->state, other, sizeof(other)));
}

TEST_F(id, seal_memfds)
{
	struct avf_images im = images(self, 0);
	int m = memfd_create("kernel", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ASSERT_GE(m, 0);
	ASSERT_EQ(5, write(m, "hello", 5));
	im.kernel_fd = m;
	/* an unsealed memfd is measured as it is now */
	EXPECT_EQ(0, seal(self, im, self->state));
	ASSERT_EQ(0, fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK));
	EXPECT_EQ(0, seal(self, im, self->state));
	close(m);
}

TEST_F(id, seal_file_open_for_writing)
{
	char path[128];
	int w;

	/* no write denial: a file someone writes to can still be measured */
	snprintf(path, sizeof(path), "%s/package", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	EXPECT_EQ(0, seal(self, images(self, 0), self->state));
	close(w);
}

TEST_F(id, seal_bad_fd)
{
	struct avf_images im = images(self, 0);

	im.initrd_fd = 9999;
	EXPECT_EQ(-EBADF, seal(self, im, self->state));
	im.initrd_fd = -1;
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

TEST_F(id, seal_too_big)
{
	struct avf_images im = images(self, 0);
	char path[128];
	int w;

	snprintf(path, sizeof(path), "%s/big", self->dir);
	w = open(path, O_CREAT | O_RDWR, 0644);
	ASSERT_GE(w, 0);
	ASSERT_EQ(0, ftruncate(w, (1L << 30) + 1));
	im.package_fd = w;
	EXPECT_EQ(-EFBIG, seal(self, im, self->state));
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

	im.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	im.reserved[1] = 0;
	im.reserved0 = 1;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
}

TEST_F(id, seal_reserved)
{
	struct avf_instance_seal s = { .images = images(self, 0),
				       .state = (__u64)(uintptr_t)self->state,
				       .state_size = AVF_INSTANCE_STATE_SIZE };

	s.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
}

TEST_F(id, seal_flags)
{
	struct avf_instance_seal s = { .images = images(self, 0),
				       .state = (__u64)(uintptr_t)self->state,
				       .state_size = AVF_INSTANCE_STATE_SIZE, .flags = 1 };

	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_INSTANCE_SEAL, &s));
}

TEST_F(id, seal_size)
{
	struct avf_instance_seal s = { .images = images(self, 0),
				       .state = (__u64)(uintptr_t)self->state,
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

/* payload_name: 1..255 bytes of printable ASCII, no '/' */
TEST_F(id, seal_payload_name)
{
	struct avf_images im = images(self, 0);
	char *big = calloc(1, 300);

	im.payload_name = 0;
	EXPECT_EQ(-EFAULT, seal(self, im, self->state));
	im.payload_name = (__u64)(uintptr_t)"";
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	im.payload_name = (__u64)(uintptr_t)"lib/payload.so";
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	im.payload_name = (__u64)(uintptr_t)"pay\nload";
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	im.payload_name = (__u64)(uintptr_t)"caf\xc3\xa9";
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	memset(big, 'n', 256);
	im.payload_name = (__u64)(uintptr_t)big;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	big[255] = 0;
	EXPECT_EQ(0, seal(self, im, self->state));
	free(big);
}

/* cmdline: 0..1023 bytes of printable ASCII; 0 is empty */
TEST_F(id, seal_cmdline)
{
	struct avf_images im = images(self, 0);
	char *big = calloc(1, 1100);

	im.cmdline = 0;
	EXPECT_EQ(0, seal(self, im, self->state));
	im.cmdline = (__u64)(uintptr_t)"";
	EXPECT_EQ(0, seal(self, im, self->state));
	im.cmdline = (__u64)(uintptr_t)"quiet\ninit=/bin/sh";
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	im.cmdline = 0xffffffff81000000ULL;
	EXPECT_EQ(-EFAULT, seal(self, im, self->state));
	memset(big, 'c', 1024);
	im.cmdline = (__u64)(uintptr_t)big;
	EXPECT_EQ(-EINVAL, seal(self, im, self->state));
	big[1023] = 0;
	EXPECT_EQ(0, seal(self, im, self->state));
	free(big);
}

/* ---- AVF_VMM_LOAD + AVF_VMM_START: the positive path ------------------ */

TEST_F(id, secret_stable_across_runs)
{
	__u8 s1[32], s2[32], zero[32] = {};
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	ASSERT_EQ(0, run(self, images(self, 1), self->state, s1, &vmm));
	EXPECT_NE(0, memcmp(s1, zero, 32));
	stop_run(vmm);
	ASSERT_EQ(0, run(self, images(self, 1), self->state, s2, &vmm));
	stop_run(vmm);
	EXPECT_EQ(0, memcmp(s1, s2, 32));
}

TEST_F(id, new_instance_new_secret)
{
	__u8 other_state[AVF_INSTANCE_STATE_SIZE], s1[32], s2[32];
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	ASSERT_EQ(0, seal(self, images(self, 1), other_state));
	ASSERT_EQ(0, run(self, images(self, 1), self->state, s1, &vmm));
	stop_run(vmm);
	ASSERT_EQ(0, run(self, images(self, 1), other_state, s2, &vmm));
	stop_run(vmm);
	EXPECT_NE(0, memcmp(s1, s2, 32));
}

TEST_F(id, empty_cmdline_is_null_cmdline)
{
	struct avf_images a = images(self, 0), b = images(self, 0);
	int vmm;

	a.cmdline = 0;
	b.cmdline = (__u64)(uintptr_t)"";
	ASSERT_EQ(0, seal(self, a, self->state));
	EXPECT_EQ(0, run(self, b, self->state, NULL, &vmm));
	stop_run(vmm);
}

/*
 * Measured = booted: whatever happens to the owner's files after LOAD, the
 * returned fds hold the bytes that were measured (compared byte for byte,
 * which implies the same SHA-256).
 */
TEST_F(id, load_fds_survive_swap_overwrite_truncate)
{
	struct avf_images im = images(self, 0);
	struct avf_vmm_load out;
	char path[128], other[128];
	int vmm, w;

	ASSERT_EQ(0, seal(self, im, self->state));
	vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_load(vmm, &im, self->state, &out));
	EXPECT_GT(out.kernel_fd, 2);
	EXPECT_GT(out.initrd_fd, 2);
	EXPECT_GT(out.package_fd, 2);
	EXPECT_EQ(0, out.reserved0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(out.kernel_fd, F_GETFD));
	EXPECT_EQ(O_RDONLY, fcntl(out.package_fd, F_GETFL) & O_ACCMODE);

	/* overwrite the kernel in place, truncate the runtime, swap the package */
	snprintf(path, sizeof(path), "%s/kernel", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	ASSERT_EQ(4, pwrite(w, "EVIL", 4, 0));
	close(w);
	snprintf(path, sizeof(path), "%s/initrd", self->dir);
	ASSERT_EQ(0, truncate(path, 10));
	w = make_file(self->dir, "package.new", 'X', PACKAGE_SIZE);
	ASSERT_GE(w, 0);
	close(w);
	snprintf(path, sizeof(path), "%s/package", self->dir);
	snprintf(other, sizeof(other), "%s/package.new", self->dir);
	ASSERT_EQ(0, rename(other, path));
	/* the owner's own fds see the change... */
	EXPECT_FALSE(content_is(self->kernel, 'k', KERNEL_SIZE));
	EXPECT_FALSE(content_is(self->initrd, 'i', INITRD_SIZE));
	/* ...the measured copies do not */
	EXPECT_TRUE(content_is(out.kernel_fd, 'k', KERNEL_SIZE));
	EXPECT_TRUE(content_is(out.initrd_fd, 'i', INITRD_SIZE));
	EXPECT_TRUE(content_is(out.package_fd, 'p', PACKAGE_SIZE));
	avf_close_load(&out);
	stop_run(vmm);
}

static void expect_unwritable(struct __test_metadata *_metadata, int fd)
{
	long pg = sysconf(_SC_PAGESIZE);
	char proc[64];
	void *p;
	int r;

	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(-1, pwrite(fd, "x", 1, 0));
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_EQ(-1, ftruncate(fd, 1 << 24));
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, pg);
	/* not even root through a re-open */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = open(proc, O_RDWR);
	EXPECT_EQ(-1, r);
	if (r >= 0)
		close(r);
	r = open(proc, O_WRONLY);
	EXPECT_EQ(-1, r);
	if (r >= 0) {
		EXPECT_EQ(-1, write(r, "x", 1));
		close(r);
	}
	/* reading works, and so does a private mapping */
	p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, pg);
}

TEST_F(id, load_fds_cannot_be_written)
{
	struct avf_images im = images(self, 0);
	struct avf_vmm_load out;
	int vmm, seals;

	ASSERT_EQ(0, seal(self, im, self->state));
	vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_load(vmm, &im, self->state, &out));
	expect_unwritable(_metadata, out.kernel_fd);
	expect_unwritable(_metadata, out.initrd_fd);
	expect_unwritable(_metadata, out.package_fd);
	seals = fcntl(out.kernel_fd, F_GET_SEALS);
	EXPECT_EQ(F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK,
		  seals & (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK));
	EXPECT_TRUE(content_is(out.kernel_fd, 'k', KERNEL_SIZE));
	avf_close_load(&out);
	stop_run(vmm);
}

/* No write denial: a root-owned 0644 image stays writable during the run. */
TEST_F(id, load_no_write_denial)
{
	struct avf_images im = images(self, 0);
	char path[128];
	int vmm, w;

	ASSERT_EQ(0, seal(self, im, self->state));
	ASSERT_EQ(0, run(self, im, self->state, NULL, &vmm));
	snprintf(path, sizeof(path), "%s/kernel", self->dir);
	w = open(path, O_WRONLY);
	EXPECT_GE(w, 0) TH_LOG("open for writing during the run: %s", strerror(errno));
	if (w >= 0) {
		EXPECT_EQ(1, pwrite(w, "k", 1, 0));
		close(w);
	}
	stop_run(vmm);
}

TEST_F(id, load_sealed_memfd_and_unsealed_memfd)
{
	struct avf_images im = images(self, 0);
	int sealed = memfd_create("kernel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int open_mfd = memfd_create("initrd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct avf_vmm_load out;
	char buf[3000];
	int vmm;

	ASSERT_GE(sealed, 0);
	ASSERT_GE(open_mfd, 0);
	memset(buf, 'm', sizeof(buf));
	ASSERT_EQ(sizeof(buf), write(sealed, buf, sizeof(buf)));
	ASSERT_EQ(sizeof(buf), write(open_mfd, buf, sizeof(buf)));
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK));
	im.kernel_fd = sealed;
	im.initrd_fd = open_mfd;
	ASSERT_EQ(0, seal(self, im, self->state));
	vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_load(vmm, &im, self->state, &out));
	/* the unsealed memfd was copied: changing it changes nothing */
	ASSERT_EQ(1, pwrite(open_mfd, "X", 1, 5));
	EXPECT_TRUE(content_is(out.initrd_fd, 'm', sizeof(buf)));
	EXPECT_TRUE(content_is(out.kernel_fd, 'm', sizeof(buf)));
	EXPECT_EQ(O_RDONLY, fcntl(out.kernel_fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-1, write(out.kernel_fd, "x", 1));
	avf_close_load(&out);
	stop_run(vmm);
	close(sealed);
	close(open_mfd);
}

/* ---- AVF_VMM_LOAD: refusals that tell the owner ----------------------- */

static void expect_rejected(struct __test_metadata *_metadata, FIXTURE_DATA(id) *self,
			    struct avf_images sealed_im, struct avf_images run_im,
			    const char *what)
{
	struct avf_event ev;
	int vmm;

	ASSERT_EQ(0, seal(self, sealed_im, self->state));
	drain(self->vm);
	EXPECT_EQ(-EKEYREJECTED, run(self, run_im, self->state, NULL, &vmm));
	ev = next_error(self->vm);
	EXPECT_EQ(AVF_EVENT_ERROR, ev.type);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, ev.code);
	EXPECT_NE(NULL, strstr(ev.message, what)) TH_LOG("message: %s", ev.message);
	stop_run(vmm);
}

TEST_F(id, load_package_changed)
{
	char path[128];
	int w;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	snprintf(path, sizeof(path), "%s/package", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	ASSERT_EQ(1, pwrite(w, "X", 1, 100));
	close(w);
	{
		struct avf_event ev;
		int vmm;

		drain(self->vm);
		EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
		ev = next_error(self->vm);
		EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, ev.code);
		EXPECT_NE(NULL, strstr(ev.message, "payload package"));
		stop_run(vmm);
	}
}

TEST_F(id, load_payload_name_changed)
{
	struct avf_images b = images(self, 0);

	b.payload_name = (__u64)(uintptr_t)"other.so";
	expect_rejected(_metadata, self, images(self, 0), b, "payload name");
}

TEST_F(id, load_cmdline_changed)
{
	struct avf_images b = images(self, 0);

	b.cmdline = (__u64)(uintptr_t)"quiet init=/bin/sh";
	expect_rejected(_metadata, self, images(self, 0), b, "command line");
	b.cmdline = 0;
	expect_rejected(_metadata, self, images(self, 0), b, "command line");
}

TEST_F(id, load_debug_level_changed)
{
	expect_rejected(_metadata, self, images(self, 0), images(self, 1), "debug level");
}

TEST_F(id, load_tampered_state)
{
	struct avf_event ev;
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	self->state[100] ^= 1;
	drain(self->vm);
	EXPECT_EQ(-EBADMSG, run(self, images(self, 0), self->state, NULL, &vmm));
	ev = next_error(self->vm);
	EXPECT_EQ(AVF_EVENT_ERROR, ev.type);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_VERIFICATION_FAILED, ev.code);
	stop_run(vmm);
}

TEST_F(id, load_version_1_state)
{
	int vmm;

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	self->state[4] = 1;
	EXPECT_EQ(-EPROTONOSUPPORT, run(self, images(self, 0), self->state, NULL, &vmm));
	stop_run(vmm);
}

struct seal_arg {
	int dev;
	struct avf_images im;
	__u8 *state;	/* MAP_SHARED: written by the child */
};

static int seal_fn(void *p)
{
	struct seal_arg *a = p;

	return seal_on(a->dev, a->im, a->state);
}

/* An instance.img copied from another uid is refused. */
TEST_F(id, load_state_of_another_uid)
{
	struct seal_arg a = { .dev = self->dev, .im = images(self, 0) };
	struct avf_event ev;
	int vmm;

	a.state = mmap(NULL, AVF_INSTANCE_STATE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.state);
	ASSERT_EQ(0, avf_child(OWNER_A, seal_fn, &a, false));
	drain(self->vm);
	EXPECT_EQ(-EBADMSG, run(self, images(self, 0), a.state, NULL, &vmm));
	ev = next_error(self->vm);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_VERIFICATION_FAILED, ev.code);
	EXPECT_STREQ("instance state belongs to another user", ev.message);
	stop_run(vmm);
	munmap(a.state, AVF_INSTANCE_STATE_SIZE);
}

/* ---- the measured-image cache (avf_imgcache.c) ------------------------ */

#define CACHE_PARAM "/sys/module/avf/parameters/image_cache_"

static long cache_param(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), CACHE_PARAM "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static int set_cache_mib(long mib)
{
	char buf[32];
	int fd = open(CACHE_PARAM "mib", O_WRONLY | O_CLOEXEC), n, ret = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld", mib);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static int reopen(FIXTURE_DATA(id) *self, const char *dir)
{
	close(self->kernel);
	close(self->initrd);
	close(self->package);
	self->kernel = make_file(dir, "kernel", 'k', KERNEL_SIZE);
	self->initrd = make_file(dir, "initrd", 'i', INITRD_SIZE);
	self->package = make_file(dir, "package", 'p', PACKAGE_SIZE);
	return self->kernel < 0 || self->initrd < 0 || self->package < 0 ? -1 : 0;
}

static bool ctime_before(const struct stat *a, const struct stat *b)
{
	return a->st_ctim.tv_sec < b->st_ctim.tv_sec ||
	       (a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec < b->st_ctim.tv_nsec);
}

/*
 * Wait until the file system's clock has moved past the last change of
 * the images (a new file gets a later ctime), so that a run may cache them.
 */
static void clock_past_images(FIXTURE_DATA(id) *self, const char *dir)
{
	struct timespec ms = { 0, 1000000 };
	struct stat img, probe;
	char path[160];
	int i, fd;

	snprintf(path, sizeof(path), "%s/clock-probe", dir);
	if (fstat(self->package, &img))
		return;
	for (i = 0; i < 10000; i++) {
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
		fstat(fd, &probe);
		close(fd);
		if (ctime_before(&img, &probe))
			break;
		nanosleep(&ms, NULL);
	}
	unlink(path);
}

/*
 * Put the images on an ext4 file system of their own (a loop device): the
 * cache does not take tmpfs files, and the test host's /tmp is tmpfs.
 */
static int use_ext4(FIXTURE_DATA(id) *self)
{
	char cmd[512];

	snprintf(self->ext4, sizeof(self->ext4), "%s/ext4", self->dir);
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 16M %s/fs.img && mkfs.ext4 -q -F %s/fs.img >/dev/null 2>&1 && "
		 "mkdir %s && mount -o loop %s/fs.img %s && chmod 0755 %s",
		 self->dir, self->dir, self->ext4, self->dir, self->ext4, self->ext4);
	if (system(cmd)) {
		self->ext4[0] = 0;
		return -1;
	}
	if (reopen(self, self->ext4))
		return -1;
	clock_past_images(self, self->ext4);
	return 0;
}

/* One whole run (LOAD, START, stop); the load error. */
static int run_once(FIXTURE_DATA(id) *self, __u8 *secret)
{
	int vmm, ret = run(self, images(self, 0), self->state, secret, &vmm);

	stop_run(vmm);
	return ret;
}

static void overwrite(const char *dir, const char *name, off_t at)
{
	char path[160];
	int w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = open(path, O_WRONLY | O_CLOEXEC);
	if (w >= 0) {
		if (pwrite(w, "EVIL", 4, at) != 4)
			fprintf(stderr, "# pwrite %s: %s\n", path, strerror(errno));
		close(w);
	}
}

/* Store @byte at @at of @dir/@name through a shared writable mapping. */
static bool store_through_mapping(const char *dir, const char *name, size_t at, char byte)
{
	char path[160], *p;
	int w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = open(path, O_RDWR | O_CLOEXEC);
	if (w < 0)
		return false;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, w, 0);
	close(w);
	if (p == MAP_FAILED)
		return false;
	p[at] = byte;
	munmap(p, 4096);
	return true;
}

#define CACHE_SETUP() do {						\
	if (cache_param("mib") < 0)					\
		SKIP(return, "avf.ko has no image cache parameters");	\
	if (use_ext4(self))						\
		SKIP(return, "no loop-mounted ext4 (mkfs.ext4, loop device)"); \
	ASSERT_EQ(0, seal(self, images(self, 0), self->state));	\
} while (0)

/*
 * A second run of unchanged images is a hit for all three: no hash, the
 * first run's sealed copies, the same secret.
 */
TEST_F(id, cache_second_run_hits)
{
	__u8 s1[AVF_SECRET_SIZE], s2[AVF_SECRET_SIZE];
	struct avf_vmm_load out;
	long hits, misses;
	int vmm;

	CACHE_SETUP();
	misses = cache_param("misses");
	ASSERT_EQ(0, run_once(self, s1));
	EXPECT_EQ(misses + 3, cache_param("misses"));
	hits = cache_param("hits");
	ASSERT_EQ(0, run_once(self, s2));
	EXPECT_EQ(hits + 3, cache_param("hits"));
	EXPECT_EQ(0, memcmp(s1, s2, sizeof(s1)));
	/* a hit hands out sealed copies of the measured bytes */
	vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(vmm, 0);
	ASSERT_EQ(0, __avf_load(vmm, &(struct avf_images){ .kernel_fd = self->kernel,
			.initrd_fd = self->initrd, .package_fd = self->package,
			.payload_name = (__u64)(uintptr_t)payload,
			.cmdline = (__u64)(uintptr_t)cmdline }, self->state, &out));
	EXPECT_EQ(hits + 6, cache_param("hits"));
	EXPECT_TRUE(content_is(out.kernel_fd, 'k', KERNEL_SIZE));
	EXPECT_TRUE(content_is(out.package_fd, 'p', PACKAGE_SIZE));
	expect_unwritable(_metadata, out.kernel_fd);
	avf_close_load(&out);
	stop_run(vmm);
}

/*
 * Attack by the owner: run once (cached), overwrite the kernel in place and
 * put its mtime back. ctime moved, so the next run hashes again and is
 * refused as changed.
 */
TEST_F(id, cache_overwrite_with_mtime_reset_is_seen)
{
	struct timespec times[2];
	struct avf_event ev;
	struct stat st;
	int vmm;

	CACHE_SETUP();
	ASSERT_EQ(0, run_once(self, NULL));
	ASSERT_EQ(0, fstat(self->kernel, &st));
	overwrite(self->ext4, "kernel", 10);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	ASSERT_EQ(0, futimens(self->kernel, times));
	drain(self->vm);
	EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
	ev = next_error(self->vm);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, ev.code);
	EXPECT_NE(NULL, strstr(ev.message, "kernel")) TH_LOG("message: %s", ev.message);
	stop_run(vmm);
}

/* A change right after a run (same clock tick or not) is never missed. */
TEST_F(id, cache_change_right_after_run_is_seen)
{
	int i, vmm;

	CACHE_SETUP();
	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		/* a fresh package each round: seal, run, write, run */
		close(self->package);
		self->package = make_file(self->ext4, name, 'p', PACKAGE_SIZE);
		ASSERT_GE(self->package, 0);
		ASSERT_EQ(0, seal(self, images(self, 0), self->state));
		ASSERT_EQ(0, run_once(self, NULL));
		overwrite(self->ext4, name, 100);
		EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
		stop_run(vmm);
	}
}

/*
 * Attack through a shared writable mapping: stores into a mapped page
 * change no time until the next write fault. A mapped file is not cached;
 * a mapping made after the entry takes a write fault that moves ctime.
 */
TEST_F(id, cache_writes_through_a_mapping_are_seen)
{
	char path[160];
	long hits;
	char *p;
	int w, vmm;

	CACHE_SETUP();
	snprintf(path, sizeof(path), "%s/kernel", self->ext4);
	w = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(w, 0);
	/* mapped while the first run measures it */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, w, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'k';	/* dirty, same byte */
	ASSERT_EQ(0, run_once(self, NULL));
	p[1] = 'X';	/* no fault: the page is writable already */
	munmap(p, 4096);
	hits = cache_param("hits");
	EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
	stop_run(vmm);
	EXPECT_EQ(hits + 2, cache_param("hits"));	/* runtime and package only */

	/* a new kernel, cached unmapped, then written through a new mapping */
	close(self->kernel);
	self->kernel = make_file(self->ext4, "kernel2", 'k', KERNEL_SIZE);
	ASSERT_GE(self->kernel, 0);
	clock_past_images(self, self->ext4);
	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	ASSERT_EQ(0, run_once(self, NULL));
	ASSERT_EQ(0, run_once(self, NULL));	/* cached now */
	close(w);
	ASSERT_TRUE(store_through_mapping(self->ext4, "kernel2", 2, 'Y'));
	EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
	stop_run(vmm);
}

/* tmpfs records no time for stores through a mapping: never cached. */
TEST_F(id, cache_skips_tmpfs)
{
	long hits, misses;
	int vmm;

	if (cache_param("mib") < 0)
		SKIP(return, "avf.ko has no image cache parameters");
	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	hits = cache_param("hits");
	misses = cache_param("misses");
	ASSERT_EQ(0, run_once(self, NULL));
	ASSERT_EQ(0, run_once(self, NULL));
	EXPECT_EQ(hits, cache_param("hits"));
	EXPECT_EQ(misses + 6, cache_param("misses"));
	ASSERT_TRUE(store_through_mapping(self->dir, "kernel", 0, 'X'));
	EXPECT_EQ(-EKEYREJECTED, run(self, images(self, 0), self->state, NULL, &vmm));
	stop_run(vmm);
}

/*
 * Entries are per owner: another uid's SEAL of the very files root ran
 * hashes them itself (no hit), and learns nothing of root's runs.
 */
TEST_F(id, cache_entries_are_per_owner)
{
	struct seal_arg a = { .dev = self->dev, .im = images(self, 0) };
	long hits;

	CACHE_SETUP();
	ASSERT_EQ(0, run_once(self, NULL));
	hits = cache_param("hits");
	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	EXPECT_EQ(hits + 3, cache_param("hits"));	/* root's own SEAL hits */
	a.state = mmap(NULL, AVF_INSTANCE_STATE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.state);
	ASSERT_EQ(0, avf_child(OWNER_A, seal_fn, &a, false));
	EXPECT_EQ(hits + 3, cache_param("hits"));
	munmap(a.state, AVF_INSTANCE_STATE_SIZE);
}

/* image_cache_mib=0 empties the cache and turns it off. */
TEST_F(id, cache_off)
{
	long hits, prev = cache_param("mib");

	CACHE_SETUP();
	ASSERT_EQ(0, run_once(self, NULL));
	ASSERT_EQ(0, set_cache_mib(0));
	ASSERT_EQ(0, set_cache_mib(prev));
	hits = cache_param("hits");
	ASSERT_EQ(0, run_once(self, NULL));	/* emptied: hashed again */
	EXPECT_EQ(hits, cache_param("hits"));
	ASSERT_EQ(0, set_cache_mib(0));
	ASSERT_EQ(0, run_once(self, NULL));
	ASSERT_EQ(0, run_once(self, NULL));
	EXPECT_EQ(hits, cache_param("hits"));
	ASSERT_EQ(0, set_cache_mib(prev));
}

/* ---- AVF_VMM_LOAD: one test per validation failure -------------------- */

FIXTURE(load) {
	int dev, vm, vmm;
	char dir[64];
	struct avf_images im;
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_vmm_load l;
};

FIXTURE_SETUP(load)
{
	static int counter;
	char name[AVF_NAME_MAX];

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	if (geteuid() != 0)
		SKIP(return, "needs root");
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-ld-%d-%d", getpid(), counter);
	snprintf(name, sizeof(name), "ld-%d-%d", getpid(), counter++);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	self->im = (struct avf_images){
		.kernel_fd = make_file(self->dir, "kernel", 'k', 4096),
		.initrd_fd = make_file(self->dir, "initrd", 'i', 4096),
		.package_fd = make_file(self->dir, "package", 'p', 4096),
		.payload_name = (__u64)(uintptr_t)payload,
		.cmdline = (__u64)(uintptr_t)cmdline,
	};
	ASSERT_GE(self->im.package_fd, 0);
	ASSERT_EQ(0, seal_on(self->dev, self->im, self->state));
	self->vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(self->vm, 0);
	self->vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(self->vmm, 0);
	memset(&self->l, 0, sizeof(self->l));
	self->l.images = self->im;
	self->l.state = (__u64)(uintptr_t)self->state;
	self->l.state_size = AVF_INSTANCE_STATE_SIZE;
}

FIXTURE_TEARDOWN(load)
{
	char cmd[128];

	if (self->dev < 0 || geteuid() != 0)
		return;
	/* every refusal leaves the run able to LOAD */
	{
		struct avf_vmm_load ok;

		EXPECT_EQ(0, __avf_load(self->vmm, &self->im, self->state, &ok));
		avf_close_load(&ok);
	}
	stop_run(self->vmm);
	close(self->vm);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup failed");
	close(self->dev);
}

static int do_load(FIXTURE_DATA(load) *self)
{
	return __avf_ioctl(self->vmm, AVF_VMM_LOAD, &self->l);
}

TEST_F(load, flags) { self->l.flags = 1; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, reserved) { self->l.reserved[1] = 1; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, reserved0) { self->l.reserved0 = 1; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, output_fd_set) { self->l.package_fd = 5; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, state_size) { self->l.state_size = 128; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, images_reserved) { self->l.images.reserved[0] = 1; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, images_reserved0) { self->l.images.reserved0 = 1; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, debug_level) { self->l.images.debug_level = 2; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, protected) { self->l.images.protected_vm = 1; EXPECT_EQ(-EOPNOTSUPP, do_load(self)); }
TEST_F(load, protected_2) { self->l.images.protected_vm = 2; EXPECT_EQ(-EINVAL, do_load(self)); }
TEST_F(load, null_arg) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->vmm, AVF_VMM_LOAD, NULL)); }
TEST_F(load, state_ptr) { self->l.state = 0; EXPECT_EQ(-EFAULT, do_load(self)); }
TEST_F(load, kernel_bad_fd) { self->l.images.kernel_fd = 9999; EXPECT_EQ(-EBADF, do_load(self)); }
TEST_F(load, initrd_bad_fd) { self->l.images.initrd_fd = -1; EXPECT_EQ(-EBADF, do_load(self)); }

TEST_F(load, package_not_regular)
{
	int d = open(self->dir, O_RDONLY | O_DIRECTORY);

	self->l.images.package_fd = d;
	EXPECT_EQ(-EINVAL, do_load(self));
	close(d);
}

TEST_F(load, kernel_write_only)
{
	char path[128];
	int w;

	snprintf(path, sizeof(path), "%s/kernel", self->dir);
	w = open(path, O_WRONLY);
	ASSERT_GE(w, 0);
	self->l.images.kernel_fd = w;
	EXPECT_EQ(-EBADF, do_load(self));
	close(w);
}

TEST_F(load, image_too_big)
{
	char path[128];
	int w;

	snprintf(path, sizeof(path), "%s/big", self->dir);
	w = open(path, O_CREAT | O_RDWR, 0644);
	ASSERT_GE(w, 0);
	ASSERT_EQ(0, ftruncate(w, (1L << 30) + 4096));
	self->l.images.initrd_fd = w;
	EXPECT_EQ(-EFBIG, do_load(self));
	close(w);
}

TEST_F(load, payload_name_null)
{
	self->l.images.payload_name = 0;
	EXPECT_EQ(-EFAULT, do_load(self));
}

TEST_F(load, payload_name_slash)
{
	self->l.images.payload_name = (__u64)(uintptr_t)"../payload.so";
	EXPECT_EQ(-EINVAL, do_load(self));
}

TEST_F(load, payload_name_empty)
{
	self->l.images.payload_name = (__u64)(uintptr_t)"";
	EXPECT_EQ(-EINVAL, do_load(self));
}

TEST_F(load, cmdline_control_char)
{
	self->l.images.cmdline = (__u64)(uintptr_t)"quiet\x1b";
	EXPECT_EQ(-EINVAL, do_load(self));
}

TEST_F(load, cmdline_bad_ptr)
{
	self->l.images.cmdline = 0xffffffff81000000ULL;
	EXPECT_EQ(-EFAULT, do_load(self));
}

/* The reply cannot be written: EFAULT, and no fd was installed. */
TEST_F(load, reply_unwritable)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct avf_vmm_load *ro;
	int probe, next;

	ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*ro = self->l;
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));
	probe = dup(0);
	close(probe);
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->vmm, AVF_VMM_LOAD, ro));
	next = dup(0);
	EXPECT_EQ(probe, next);	/* the lowest free fd is still free */
	close(next);
	munmap(ro, pg);
}

TEST_F(load, twice)
{
	struct avf_vmm_load out;
	int vmm2;

	ASSERT_EQ(0, __avf_load(self->vmm, &self->im, self->state, &out));
	avf_close_load(&out);
	EXPECT_EQ(-EALREADY, do_load(self));
	/* a new run for the teardown */
	stop_run(self->vmm);
	vmm2 = avf_vmm_bind(self->vm);
	ASSERT_GE(vmm2, 0);
	self->vmm = vmm2;
}

TEST_F(load, after_stop)
{
	ASSERT_EQ(0, __avf_report(self->vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	EXPECT_EQ(-ESHUTDOWN, do_load(self));
	close(self->vmm);
	self->vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(self->vmm, 0);
}

/* ---- AVF_VMM_START ---------------------------------------------------- */

FIXTURE(start) {
	int dev, vm, vmm, mem;
	char dir[64];
	struct avf_images im;
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	struct avf_vmm_start s;
};

FIXTURE_SETUP(start)
{
	static int counter;
	char name[AVF_NAME_MAX];

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	if (geteuid() != 0)
		SKIP(return, "needs root");
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-st-%d-%d", getpid(), counter);
	snprintf(name, sizeof(name), "st-%d-%d", getpid(), counter++);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	self->im = (struct avf_images){
		.kernel_fd = make_file(self->dir, "kernel", 'k', 4096),
		.initrd_fd = make_file(self->dir, "initrd", 'i', 4096),
		.package_fd = make_file(self->dir, "package", 'p', 4096),
		.payload_name = (__u64)(uintptr_t)payload,
	};
	ASSERT_GE(self->im.package_fd, 0);
	ASSERT_EQ(0, seal_on(self->dev, self->im, self->state));
	self->vm = __avf_open_vm(self->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	ASSERT_GE(self->vm, 0);
	self->vmm = avf_vmm_bind(self->vm);
	ASSERT_GE(self->vmm, 0);
	self->mem = guest_ram(1 << 16);
	ASSERT_GE(self->mem, 0);
	memset(&self->s, 0, sizeof(self->s));
	self->s.mem_fd = self->mem;
	self->s.secret_offset = SECRET_OFF;
}

FIXTURE_TEARDOWN(start)
{
	char cmd[128];

	if (self->dev < 0 || geteuid() != 0)
		return;
	stop_run(self->vmm);
	close(self->mem);
	close(self->vm);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup failed");
	close(self->dev);
}

static int do_start(FIXTURE_DATA(start) *self)
{
	return __avf_ioctl(self->vmm, AVF_VMM_START, &self->s);
}

static void load_ok(struct __test_metadata *_metadata, FIXTURE_DATA(start) *self)
{
	ASSERT_EQ(0, __avf_load(self->vmm, &self->im, self->state, NULL));
}

TEST_F(start, before_load)
{
	EXPECT_EQ(-ENOKEY, do_start(self));
	load_ok(_metadata, self);
	EXPECT_EQ(0, do_start(self));
}

TEST_F(start, after_failed_load)
{
	self->state[50] ^= 1;
	EXPECT_EQ(-EBADMSG, __avf_load(self->vmm, &self->im, self->state, NULL));
	EXPECT_EQ(-ENOKEY, do_start(self));
}

TEST_F(start, misaligned_offset)
{
	load_ok(_metadata, self);
	self->s.secret_offset = SECRET_OFF + 4;
	EXPECT_EQ(-EINVAL, do_start(self));
	self->s.secret_offset = 1;
	EXPECT_EQ(-EINVAL, do_start(self));
	self->s.secret_offset = SECRET_OFF + 8;
	EXPECT_EQ(0, do_start(self));
}

TEST_F(start, offset_outside)
{
	load_ok(_metadata, self);
	ASSERT_EQ(0, ftruncate(self->mem, 4096));
	self->s.secret_offset = 4096 - 24;
	EXPECT_EQ(-EINVAL, do_start(self));
	self->s.secret_offset = 4096;
	EXPECT_EQ(-EINVAL, do_start(self));
	self->s.secret_offset = UINT64_MAX - 7;	/* aligned, would wrap */
	EXPECT_EQ(-EINVAL, do_start(self));
	self->s.secret_offset = 4096 - 32;
	EXPECT_EQ(0, do_start(self));
}

TEST_F(start, mem_too_small)
{
	load_ok(_metadata, self);
	ASSERT_EQ(0, ftruncate(self->mem, 16));
	self->s.secret_offset = 0;
	EXPECT_EQ(-EINVAL, do_start(self));
}

TEST_F(start, twice)
{
	load_ok(_metadata, self);
	EXPECT_EQ(0, do_start(self));
	EXPECT_EQ(-EALREADY, do_start(self));
}

TEST_F(start, writes_the_secret_only)
{
	__u8 buf[SECRET_OFF + 64], zero[32] = {};
	int nonzero = 0;

	load_ok(_metadata, self);
	ASSERT_EQ(0, do_start(self));
	ASSERT_EQ(sizeof(buf), pread(self->mem, buf, sizeof(buf), 0));
	EXPECT_NE(0, memcmp(buf + SECRET_OFF, zero, 32));
	memset(buf + SECRET_OFF, 0, 32);
	for (size_t i = 0; i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	EXPECT_EQ(0, nonzero);	/* nothing but the secret was written */
	EXPECT_EQ(1 << 16, lseek(self->mem, 0, SEEK_END));
}

TEST_F(start, mem_not_shmem)
{
	int n = open("/dev/null", O_RDWR);

	load_ok(_metadata, self);
	self->s.mem_fd = n;
	EXPECT_EQ(-EINVAL, do_start(self));
	close(n);
}

TEST_F(start, mem_read_only)
{
	char proc[64];
	int ro;

	load_ok(_metadata, self);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", self->mem);
	ro = open(proc, O_RDONLY);
	ASSERT_GE(ro, 0);
	self->s.mem_fd = ro;
	EXPECT_EQ(-EBADF, do_start(self));
	close(ro);
}

TEST_F(start, mem_append)
{
	char proc[64];
	int ap;

	load_ok(_metadata, self);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", self->mem);
	ap = open(proc, O_WRONLY | O_APPEND);
	ASSERT_GE(ap, 0);
	self->s.mem_fd = ap;
	EXPECT_EQ(-EINVAL, do_start(self));
	close(ap);
}

TEST_F(start, mem_bad_fd)
{
	load_ok(_metadata, self);
	self->s.mem_fd = 9999;
	EXPECT_EQ(-EBADF, do_start(self));
	self->s.mem_fd = -1;
	EXPECT_EQ(-EBADF, do_start(self));
}

TEST_F(start, flags) { self->s.flags = 1; EXPECT_EQ(-EINVAL, do_start(self)); }
TEST_F(start, reserved) { self->s.reserved[2] = 1; EXPECT_EQ(-EINVAL, do_start(self)); }
TEST_F(start, null_arg) { EXPECT_EQ(-EFAULT, __avf_ioctl(self->vmm, AVF_VMM_START, NULL)); }

TEST_F(start, after_stop)
{
	load_ok(_metadata, self);
	ASSERT_EQ(0, __avf_report(self->vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL));
	EXPECT_EQ(-ESHUTDOWN, do_start(self));
}

/* ---- who may hold a VMM fd -------------------------------------------- */

static bool trusted_vmm_module(int dev)
{
	struct avf_capabilities c;

	return !__avf_ioctl(dev, AVF_GET_CAPABILITIES, &c) && (c.flags & AVF_CAPS_TRUSTED_VMM);
}

struct owner_arg {
	int dev;
	struct avf_images im;
	bool dumpable;
	__u8 *secret;	/* MAP_SHARED */
};

static int owner_bind_fn(void *p)
{
	struct owner_arg *a = p;
	char name[32];
	int vm;

	snprintf(name, sizeof(name), "owner-%d", getpid());
	vm = __avf_open_vm(a->dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
	if (vm < 0)
		return vm;
	if (!a->dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	return __avf_bind(vm, NULL);
}

/* Development mode off: an ordinary owner never obtains a VMM fd. */
TEST_F(id, owner_cannot_bind)
{
	struct owner_arg a = { .dev = self->dev };
	int prev, r;

	if (!trusted_vmm_module(self->dev))
		SKIP(return, "module without a trusted VMM uid (AVF_CAPS_TRUSTED_VMM)");
	prev = avf_set_dev_mode(false);
	a.dumpable = true;
	r = avf_child(OWNER_A, owner_bind_fn, &a, true);
	EXPECT_EQ(-EPERM, r);
	if (r >= 0)
		close(r);
	a.dumpable = false;
	r = avf_child(OWNER_A, owner_bind_fn, &a, true);
	EXPECT_EQ(-EPERM, r);
	if (r >= 0)
		close(r);
	if (prev > 0)
		avf_set_dev_mode(true);
}

static int owner_run_fn(void *p)
{
	struct owner_arg *a = p;
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	int vmm, mem, r;

	r = seal_on(a->dev, a->im, state);
	if (r)
		return r;
	vmm = owner_bind_fn(a);
	if (vmm < 0)
		return vmm;
	r = __avf_start(vmm, -1, 0);
	if (r != -ENOKEY)
		return r ? r : -EPROTO;
	r = __avf_load(vmm, &a->im, state, NULL);
	if (r)
		return r;
	mem = guest_ram(1 << 16);
	r = __avf_start(vmm, mem, 64);
	if (!r && pread(mem, a->secret, AVF_SECRET_SIZE, 64) != AVF_SECRET_SIZE)
		r = -EIO;
	return r;
}

/* Development mode: the owner binds itself, LOAD and START behave. */
TEST_F(id, dev_mode_owner_runs)
{
	struct owner_arg a = { .dev = self->dev, .im = images(self, 1) };
	__u8 zero[32] = {};
	int prev;

	prev = avf_set_dev_mode(true);
	if (prev < 0)
		SKIP(return, "no owner_vmm module parameter: %s", strerror(-prev));
	a.secret = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.secret);
	EXPECT_EQ(0, avf_child(OWNER_A, owner_run_fn, &a, false));
	EXPECT_NE(0, memcmp(a.secret, zero, 32));
	avf_set_dev_mode(prev);
}

/* ---- AVF_INSTANCE_EXPORT / AVF_INSTANCE_IMPORT ------------------------ */

static int export_on(int dev, const __u8 *state)
{
	struct avf_instance_export e = { .state = (__u64)(uintptr_t)state,
					 .state_size = AVF_INSTANCE_STATE_SIZE };

	return __avf_ioctl(dev, AVF_INSTANCE_EXPORT, &e);
}

static int import_on(int dev, int tfd, __u8 *state)
{
	struct avf_instance_import im = { .transfer_fd = tfd,
					  .state_size = AVF_INSTANCE_STATE_SIZE,
					  .state = (__u64)(uintptr_t)state };

	return __avf_ioctl(dev, AVF_INSTANCE_IMPORT, &im);
}

struct xfer_arg {
	int dev, tfd;
	__u8 *state;	/* MAP_SHARED */
	int *second;	/* MAP_SHARED: result of a second import */
};

static int import_fn(void *p)
{
	struct xfer_arg *a = p;
	__u8 again[AVF_INSTANCE_STATE_SIZE];
	int r = import_on(a->dev, a->tfd, a->state);

	if (!r)
		*a->second = import_on(a->dev, a->tfd, again);
	return r;
}

static int open_own_vm_fn(void *p)
{
	char name[32];

	snprintf(name, sizeof(name), "imported-%d", getpid());
	return __avf_open_vm(*(int *)p, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
}

static int export_fn(void *p)
{
	struct xfer_arg *a = p;

	return export_on(a->dev, a->state);
}

TEST_F(id, export_import_moves_identity_once)
{
	struct xfer_arg a = { .dev = self->dev };
	__u8 s_root[32], s_b[32];
	int vmm, tfd, vm_b;

	ASSERT_EQ(0, seal(self, images(self, 1), self->state));
	ASSERT_EQ(0, run(self, images(self, 1), self->state, s_root, &vmm));
	stop_run(vmm);

	tfd = export_on(self->dev, self->state);
	ASSERT_GE(tfd, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(tfd, F_GETFD));
	a.tfd = tfd;
	a.state = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.state);
	a.second = (int *)(a.state + AVF_INSTANCE_STATE_SIZE);
	*a.second = 1;
	/* uid B imports it (the fd could as well come over SCM_RIGHTS) */
	ASSERT_EQ(0, avf_child(OWNER_B, import_fn, &a, false));
	EXPECT_EQ(-ESTALE, *a.second);
	EXPECT_EQ(-ESTALE, import_on(self->dev, tfd, s_b));
	close(tfd);
	/* the new state is B's: refused on root's instance... */
	EXPECT_EQ(-EBADMSG, run(self, images(self, 1), a.state, NULL, &vmm));
	stop_run(vmm);
	/* ...and runs on B's with the same secret */
	vm_b = avf_child(OWNER_B, open_own_vm_fn, &self->dev, true);
	ASSERT_GE(vm_b, 0);
	ASSERT_EQ(0, run_vm(vm_b, images(self, 1), a.state, s_b, &vmm));
	stop_run(vmm);
	EXPECT_EQ(0, memcmp(s_root, s_b, 32));
	/* the old state still opens for root: export copies, it does not revoke */
	EXPECT_EQ(0, run(self, images(self, 1), self->state, NULL, &vmm));
	stop_run(vmm);
	EXPECT_EQ(0, __avf_ioctl(vm_b, AVF_VM_DELETE, NULL));
	close(vm_b);
	munmap(a.state, 4096);
}

TEST_F(id, export_by_non_owner)
{
	struct xfer_arg a = { .dev = self->dev, .state = self->state };

	ASSERT_EQ(0, seal(self, images(self, 0), self->state));
	EXPECT_EQ(-EPERM, avf_child(OWNER_A, export_fn, &a, false));
}

/* One test per validation failure of EXPORT and IMPORT. */
FIXTURE(xfer) {
	int dev, tfd, kernel;
	char dir[64];
	__u8 state[AVF_INSTANCE_STATE_SIZE], out[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_export e;
	struct avf_instance_import im;
};

FIXTURE_SETUP(xfer)
{
	static int counter;
	struct avf_images im = { .payload_name = (__u64)(uintptr_t)payload };

	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	self->tfd = -1;
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	if (geteuid() != 0)
		SKIP(return, "needs root");
	snprintf(self->dir, sizeof(self->dir), "/tmp/avf-xf-%d-%d", getpid(), counter++);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	im.kernel_fd = make_file(self->dir, "kernel", 'k', 4096);
	im.initrd_fd = im.kernel_fd;
	im.package_fd = im.kernel_fd;
	self->kernel = im.kernel_fd;
	ASSERT_GE(im.kernel_fd, 0);
	ASSERT_EQ(0, seal_on(self->dev, im, self->state));
	self->tfd = export_on(self->dev, self->state);
	ASSERT_GE(self->tfd, 0);
	self->e = (struct avf_instance_export){ .state = (__u64)(uintptr_t)self->state,
						.state_size = AVF_INSTANCE_STATE_SIZE };
	self->im = (struct avf_instance_import){ .transfer_fd = self->tfd,
						 .state_size = AVF_INSTANCE_STATE_SIZE,
						 .state = (__u64)(uintptr_t)self->out };
}

FIXTURE_TEARDOWN(xfer)
{
	char cmd[128];

	if (self->dev < 0 || geteuid() != 0)
		return;
	/* a refused import did not consume the object */
	if (self->tfd >= 0) {
		EXPECT_EQ(0, import_on(self->dev, self->tfd, self->out));
		close(self->tfd);
	}
	close(self->kernel);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup failed");
	close(self->dev);
}

static int do_export(FIXTURE_DATA(xfer) *self)
{
	int r = __avf_ioctl(self->dev, AVF_INSTANCE_EXPORT, &self->e);

	if (r >= 0)
		close(r);
	return r < 0 ? r : 0;
}

static int do_import(FIXTURE_DATA(xfer) *self)
{
	return __avf_ioctl(self->dev, AVF_INSTANCE_IMPORT, &self->im);
}

TEST_F(xfer, export_ok) { EXPECT_EQ(0, do_export(self)); }
TEST_F(xfer, export_flags) { self->e.flags = 1; EXPECT_EQ(-EINVAL, do_export(self)); }
TEST_F(xfer, export_reserved) { self->e.reserved[1] = 1; EXPECT_EQ(-EINVAL, do_export(self)); }
TEST_F(xfer, export_size) { self->e.state_size = 255; EXPECT_EQ(-EINVAL, do_export(self)); }
TEST_F(xfer, export_state_ptr) { self->e.state = 0; EXPECT_EQ(-EFAULT, do_export(self)); }
TEST_F(xfer, export_null_arg)
{
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_INSTANCE_EXPORT, NULL));
}

TEST_F(xfer, export_tampered) { self->state[120] ^= 1; EXPECT_EQ(-EBADMSG, do_export(self)); }
TEST_F(xfer, export_version_1) { self->state[4] = 1; EXPECT_EQ(-EPROTONOSUPPORT, do_export(self)); }
TEST_F(xfer, import_bad_fd) { self->im.transfer_fd = 9999; EXPECT_EQ(-EBADF, do_import(self)); }
TEST_F(xfer, import_negative_fd) { self->im.transfer_fd = -1; EXPECT_EQ(-EBADF, do_import(self)); }

TEST_F(xfer, import_not_transfer)
{
	int null = open("/dev/null", O_RDONLY);

	self->im.transfer_fd = null;
	EXPECT_EQ(-EINVAL, do_import(self));
	close(null);
}

TEST_F(xfer, import_other_avf_fd)
{
	self->im.transfer_fd = self->dev;
	EXPECT_EQ(-EINVAL, do_import(self));
}

TEST_F(xfer, import_flags) { self->im.flags = 1; EXPECT_EQ(-EINVAL, do_import(self)); }
TEST_F(xfer, import_reserved0) { self->im.reserved0 = 1; EXPECT_EQ(-EINVAL, do_import(self)); }
TEST_F(xfer, import_reserved) { self->im.reserved[0] = 1; EXPECT_EQ(-EINVAL, do_import(self)); }
TEST_F(xfer, import_size) { self->im.state_size = 0; EXPECT_EQ(-EINVAL, do_import(self)); }
TEST_F(xfer, import_null_arg)
{
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_INSTANCE_IMPORT, NULL));
}

TEST_F(xfer, import_state_null) { self->im.state = 0; EXPECT_EQ(-EFAULT, do_import(self)); }
TEST_F(xfer, import_state_kernel)
{
	self->im.state = 0xffffffff81000000ULL;
	EXPECT_EQ(-EFAULT, do_import(self));
}

TEST_F(xfer, import_state_read_only)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	self->im.state = (__u64)(uintptr_t)ro;
	EXPECT_EQ(-EFAULT, do_import(self));
	munmap(ro, pg);
}

TEST_F(xfer, import_twice)
{
	EXPECT_EQ(0, do_import(self));
	EXPECT_EQ(-ESTALE, do_import(self));
	/* another export of the same state is a new object */
	close(self->tfd);
	self->tfd = export_on(self->dev, self->state);
	ASSERT_GE(self->tfd, 0);
}

TEST_F(xfer, import_state_opens)
{
	struct avf_instance_export again = self->e;
	int t;

	ASSERT_EQ(0, do_import(self));
	EXPECT_EQ(0, memcmp(self->out, "AVFI\2\0\0\0", 8));
	EXPECT_NE(0, memcmp(self->out, self->state, AVF_INSTANCE_STATE_SIZE));
	again.state = (__u64)(uintptr_t)self->out;	/* root imported: root owns it */
	t = __avf_ioctl(self->dev, AVF_INSTANCE_EXPORT, &again);
	EXPECT_GE(t, 0);
	close(self->tfd);
	self->tfd = t;
}

/* ---- AVF_UDS_LOAD ----------------------------------------------------- */

TEST_F(id, uds_load)
{
	struct avf_uds_load l = {};

	l.reserved[3] = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_UDS_LOAD, &l));
	l.reserved[3] = 0;
	l.flags = 1;
	EXPECT_EQ(-EINVAL, __avf_ioctl(self->dev, AVF_UDS_LOAD, &l));
	EXPECT_EQ(-EFAULT, __avf_ioctl(self->dev, AVF_UDS_LOAD, NULL));
}

static int uds_load_fn(void *p)
{
	struct avf_uds_load l = {};

	return __avf_ioctl(*(int *)p, AVF_UDS_LOAD, &l);
}

TEST_F(id, uds_load_not_root)
{
	EXPECT_EQ(-EPERM, avf_child(OWNER_A, uds_load_fn, &self->dev, false));
}

TEST_HARNESS_MAIN
