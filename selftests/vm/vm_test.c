// SPDX-License-Identifier: GPL-2.0
/*
 * End-to-end tests of avf-vmm: create an instance through /dev/avf, run
 * avf-vmm on it with --vm-fd, and check the life-cycle records the module
 * fans out on the VM fd. Runs inside the test host (selftests/vm/run.sh).
 *
 * Paths: $AVF_VMM (avf-vmm), $AVF_GUEST_KERNEL (vmlinux), $AVF_GUEST_INITRD,
 * $AVF_TEST_PACKAGES (hello.zip, exit-code.zip, crash.zip, never-ready.zip);
 * defaults under the tree's build/user/.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/avf.h>

#include "kselftest_harness.h"

/* Guests boot under nested TCG (and a debug host kernel): allow minutes, not 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	900

#define VM_TIMEOUT_MS	180000	/* one guest run under nested TCG */
#define MAX_EVENTS	32
#define MAX_ARGS	40

static char vmm_path[512], kernel_path[512], initrd_path[512], pkg_dir[512];

static void pick(char *dst, size_t cap, const char *env, const char *fallback)
{
	const char *v = getenv(env);

	snprintf(dst, cap, "%s", v && *v ? v : fallback);
}

static void init_paths(void)
{
	pick(vmm_path, sizeof(vmm_path), "AVF_VMM", AVF_TREE_TOP "/build/user/bin/avf-vmm");
	pick(kernel_path, sizeof(kernel_path), "AVF_GUEST_KERNEL",
	     AVF_TREE_TOP "/build/user/vmm/guest-vmlinux");
	pick(initrd_path, sizeof(initrd_path), "AVF_GUEST_INITRD",
	     AVF_TREE_TOP "/build/user/guest/initramfs.cpio.gz");
	pick(pkg_dir, sizeof(pkg_dir), "AVF_TEST_PACKAGES",
	     AVF_TREE_TOP "/build/user/guest/packages");
}

struct run {
	pid_t pid;
	int vm_fd;
	unsigned int nev;
	struct avf_event ev[MAX_EVENTS];
	int status;		/* waitpid status */
};

static int open_instance(int dev, const char *name)
{
	struct avf_vm_open o;

	memset(&o, 0, sizeof(o));
	o.flags = AVF_OPEN_CREATE;
	memcpy(o.name, name, strnlen(name, sizeof(o.name) - 1));
	return ioctl(dev, AVF_VM_OPEN, &o);
}

/* Start avf-vmm for @package; extra args (NULL-terminated) are appended. */
static pid_t spawn_vmm(int vm_fd, const char *name, const char *package, const char *const *extra)
{
	char pkg[600], payload[128], fdbuf[16];
	const char *argv[MAX_ARGS];
	unsigned int n = 0;
	pid_t pid;

	snprintf(pkg, sizeof(pkg), "%s/%s.zip", pkg_dir, package);
	snprintf(payload, sizeof(payload), "%s.so", package);
	argv[n++] = vmm_path;
	if (name) {
		argv[n++] = "--name";
		argv[n++] = name;
	} else {
		snprintf(fdbuf, sizeof(fdbuf), "%d", vm_fd);
		argv[n++] = "--vm-fd";
		argv[n++] = fdbuf;
	}
	argv[n++] = "--kernel";
	argv[n++] = kernel_path;
	argv[n++] = "--initrd";
	argv[n++] = initrd_path;
	argv[n++] = "--package";
	argv[n++] = pkg;
	argv[n++] = "--payload";
	argv[n++] = payload;
	/* A loaded test host can take more than the default 30 s to boot. */
	argv[n++] = "--hangup-timeout";
	argv[n++] = "300";
	while (extra && *extra && n < MAX_ARGS - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;

	pid = fork();
	if (pid == 0) {
		if (!name)
			fcntl(vm_fd, F_SETFD, 0);	/* inherited by avf-vmm */
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Collect records until STOPPED (or timeout); returns 0 when STOPPED was seen. */
static int collect(struct run *r, int timeout_ms, int stop_after_type)
{
	long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		struct pollfd p = { .fd = r->vm_fd, .events = POLLIN };
		struct avf_event ev;
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(r->vm_fd, &ev, sizeof(ev));
		if (n != (ssize_t)sizeof(ev))
			return -EIO;
		if (r->nev < MAX_EVENTS)
			r->ev[r->nev++] = ev;
		if ((int)ev.type == stop_after_type || ev.type == AVF_EVENT_STOPPED)
			return ev.type == AVF_EVENT_STOPPED ? 0 : 1;
	}
	return -ETIMEDOUT;
}

static int reap(struct run *r, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	pid_t w;

	do {
		w = waitpid(r->pid, &r->status, WNOHANG);
		if (w == r->pid)
			return 0;
		usleep(20000);
	} while (now_ms() < deadline);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, &r->status, 0);
	return -ETIMEDOUT;
}

static void dump(struct __test_metadata *_metadata, const struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->nev; i++)
		TH_LOG("event %u: type %u code %d seq %u %s", i, r->ev[i].type, r->ev[i].code,
		       r->ev[i].seq, r->ev[i].message);
}

static int find(const struct run *r, unsigned int type)
{
	unsigned int i;

	for (i = 0; i < r->nev; i++)
		if (r->ev[i].type == type)
			return (int)i;
	return -1;
}

static const struct avf_event *last(const struct run *r)
{
	return r->nev ? &r->ev[r->nev - 1] : NULL;
}

FIXTURE(vm) {
	int dev;
	char name[AVF_NAME_MAX];
	struct run r;
};

FIXTURE_SETUP(vm)
{
	static unsigned int counter;

	init_paths();
	memset(&self->r, 0, sizeof(self->r));
	self->r.vm_fd = -1;
	self->dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (self->dev < 0)
		SKIP(return, "/dev/avf: %s (avf.ko not loaded?)", strerror(errno));
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	if (access(vmm_path, X_OK))
		SKIP(return, "missing avf-vmm: %s", vmm_path);
	if (access(kernel_path, R_OK))
		SKIP(return, "missing guest kernel: %s", kernel_path);
	if (access(initrd_path, R_OK))
		SKIP(return, "missing guest initramfs: %s", initrd_path);
	snprintf(self->name, sizeof(self->name), "vmtest-%d-%u", getpid(), counter++);
	self->r.vm_fd = open_instance(self->dev, self->name);
	ASSERT_LE(0, self->r.vm_fd);
}

FIXTURE_TEARDOWN(vm)
{
	if (self->r.vm_fd >= 0) {
		ioctl(self->r.vm_fd, AVF_VM_STOP, 0);
		ioctl(self->r.vm_fd, AVF_VM_DELETE, 0);
		close(self->r.vm_fd);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/* Run @package to its end and check the exit status of avf-vmm. */
static void run_to_stop(struct __test_metadata *_metadata, struct run *r, const char *package,
			const char *const *extra)
{
	int ret;

	r->pid = spawn_vmm(r->vm_fd, NULL, package, extra);
	ASSERT_LT(0, r->pid);
	ret = collect(r, VM_TIMEOUT_MS, -1);
	ASSERT_EQ(0, reap(r, 10000));
	if (ret)
		dump(_metadata, r);
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(WIFEXITED(r->status));
	EXPECT_EQ(0, WEXITSTATUS(r->status));
}

/* The module sees one ordered sequence per run: RUNNING first, STOPPED last. */
static void check_frame(struct __test_metadata *_metadata, const struct run *r)
{
	unsigned int i;

	ASSERT_LE(2U, r->nev);
	EXPECT_EQ(AVF_EVENT_RUNNING, r->ev[0].type);
	EXPECT_LE(AVF_CID_FIRST, r->ev[0].code);
	EXPECT_EQ(AVF_EVENT_STOPPED, last(r)->type);
	for (i = 1; i < r->nev; i++)
		EXPECT_EQ(r->ev[i - 1].seq + 1, r->ev[i].seq);
}

TEST_F(vm, hello_runs_to_shutdown)
{
	static const unsigned int want[] = {
		AVF_EVENT_RUNNING, AVF_EVENT_PAYLOAD_STARTED, AVF_EVENT_PAYLOAD_READY,
		AVF_EVENT_PAYLOAD_FINISHED, AVF_EVENT_STOPPED,
	};
	struct avf_vm_info info;
	unsigned int i;

	run_to_stop(_metadata, &self->r, "hello", NULL);
	check_frame(_metadata, &self->r);
	ASSERT_EQ(5U, self->r.nev);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(want[i], self->r.ev[i].type);
	EXPECT_EQ(0, self->r.ev[3].code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, self->r.ev[4].code);
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_GET_INFO, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, info.last_stop_reason);
}

TEST_F(vm, exit_code_reaches_finished)
{
	int i;

	run_to_stop(_metadata, &self->r, "exit-code", NULL);
	check_frame(_metadata, &self->r);
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(7, self->r.ev[i].code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

TEST_F(vm, crash_reports_error_and_runtime_error)
{
	int i;

	run_to_stop(_metadata, &self->r, "crash", NULL);
	check_frame(_metadata, &self->r);
	i = find(&self->r, AVF_EVENT_ERROR);
	ASSERT_LE(0, i);
	EXPECT_NE(NULL, strstr(self->r.ev[i].message, "signal"));
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
	EXPECT_EQ(AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR, last(&self->r)->code);
}

TEST_F(vm, never_ready_hangs_up)
{
	static const char *const extra[] = { "--hangup-timeout", "5", NULL };

	run_to_stop(_metadata, &self->r, "never-ready", extra);
	check_frame(_metadata, &self->r);
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_READY));
	EXPECT_EQ(AVF_STOP_HANGUP, last(&self->r)->code);
}

TEST_F(vm, kernel_panic_reboots)
{
	/* No init anywhere: the guest kernel panics and, with panic=-1, resets. */
	static const char *const extra[] = {
		"--cmdline", "rdinit=/nonexistent init=/nonexistent", NULL,
	};
	int32_t code;

	run_to_stop(_metadata, &self->r, "hello", extra);
	check_frame(_metadata, &self->r);
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
	code = last(&self->r)->code;
	EXPECT_TRUE(code == AVF_STOP_REBOOT || code == AVF_STOP_CRASH);
}

TEST_F(vm, sigkill_of_vmm_is_a_crash_and_instance_runs_again)
{
	struct avf_vm_info info;

	self->r.pid = spawn_vmm(self->r.vm_fd, NULL, "never-ready", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	kill(self->r.pid, SIGKILL);
	ASSERT_EQ(0, reap(&self->r, 10000));
	ASSERT_EQ(0, collect(&self->r, 10000, -1));
	EXPECT_EQ(AVF_STOP_CRASH, last(&self->r)->code);
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_GET_INFO, &info));
	EXPECT_EQ(AVF_STATUS_STOPPED, info.status);

	memset(self->r.ev, 0, sizeof(self->r.ev));
	self->r.nev = 0;
	run_to_stop(_metadata, &self->r, "hello", NULL);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

TEST_F(vm, sigterm_is_killed)
{
	self->r.pid = spawn_vmm(self->r.vm_fd, NULL, "never-ready", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	kill(self->r.pid, SIGTERM);
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(AVF_STOP_KILLED, last(&self->r)->code);
	EXPECT_TRUE(WIFEXITED(self->r.status));
	EXPECT_EQ(0, WEXITSTATUS(self->r.status));
}

TEST_F(vm, vm_stop_ioctl_kills)
{
	self->r.pid = spawn_vmm(self->r.vm_fd, NULL, "never-ready", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_STOP, 0));
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(AVF_STOP_KILLED, last(&self->r)->code);
}

/*
 * Host-initiated vsock through the development socket: the Linux guest
 * has no listener on the port, so its vsock driver answers our REQUEST
 * with RST and the host side sees the connection closed.
 */
TEST_F(vm, vsock_connect_to_closed_port_is_refused)
{
	char sock[64];
	const char *extra[] = { "--vsock-uds", sock, NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64];
	struct pollfd p;
	int c;

	snprintf(sock, sizeof(sock), "/tmp/vmtest-vsock-%d.sock", getpid());
	self->r.pid = spawn_vmm(self->r.vm_fd, NULL, "never-ready", extra);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(13, write(c, "CONNECT 5000\n", 13));
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 60000));
	EXPECT_EQ(0, read(c, buf, sizeof(buf)));	/* closed: refused */
	close(c);
	collect(&self->r, 100, -1);
	if (find(&self->r, AVF_EVENT_STOPPED) >= 0)
		dump(_metadata, &self->r);
	ASSERT_EQ(-1, find(&self->r, AVF_EVENT_STOPPED));	/* still running */
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_STOP, 0));
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
	unlink(sock);
}

/* Seal an instance state for (kernel, initrd, @package, debug none) into a temp file. */
static int seal_instance_dbg(int dev, const char *package, char *path, int debug)
{
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	struct avf_instance_seal seal;
	char pkg[600];
	int fd, ret;

	snprintf(pkg, sizeof(pkg), "%s/%s.zip", pkg_dir, package);
	memset(&seal, 0, sizeof(seal));
	seal.images.kernel_fd = open(kernel_path, O_RDONLY | O_CLOEXEC);
	seal.images.initrd_fd = open(initrd_path, O_RDONLY | O_CLOEXEC);
	seal.images.package_fd = open(pkg, O_RDONLY | O_CLOEXEC);
	seal.images.debug_level = (uint32_t)debug;
	seal.state = (uintptr_t)state;
	seal.state_size = sizeof(state);
	ret = ioctl(dev, AVF_INSTANCE_SEAL, &seal) ? -errno : 0;
	close(seal.images.kernel_fd);
	close(seal.images.initrd_fd);
	close(seal.images.package_fd);
	if (ret)
		return ret;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	ret = write(fd, state, sizeof(state)) == (ssize_t)sizeof(state) ? 0 : -EIO;
	close(fd);
	return ret;
}

static int seal_instance(int dev, const char *package, char *path)
{
	return seal_instance_dbg(dev, package, path, AVF_DEBUG_NONE);
}

/* Read all of @path into @buf (NUL-terminated); returns the length. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/*
 * Encrypted storage through the read-write virtio-blk: the first run
 * creates the file system and writes a marker, the second run of the same
 * instance reads it back; the host image never holds the plaintext.
 */
TEST_F(vm, storage_persists_encrypted)
{
	char state[] = "/tmp/vmtest-instance-XXXXXX", img[] = "/tmp/vmtest-storage-XXXXXX";
	char logf[] = "/tmp/vmtest-storage-log-XXXXXX", buf[8192];
	const char *first[] = { "--instance", state, "--new-instance", "--storage", img,
				"--debug", "full", "--log", logf, NULL };
	const char *second[] = { "--instance", state, "--storage", img, "--debug", "full",
				 "--log", logf, NULL };
	static const char marker[] = "AVF-PLAINTEXT-MARKER-7f3a9c";
	char pkg[600];
	off_t off;
	int fd, ret, i;

	snprintf(pkg, sizeof(pkg), "%s/storage.zip", pkg_dir);
	if (access(pkg, R_OK))
		SKIP(return, "no storage.zip payload");
	ret = seal_instance_dbg(self->dev, "storage", state, AVF_DEBUG_FULL);
	if (ret == -ENOTTY)
		SKIP(return, "module without AVF_INSTANCE_SEAL");
	ASSERT_EQ(0, ret);
	fd = mkstemp(img);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 32 << 20));
	close(fd);
	fd = mkstemp(logf);
	ASSERT_LE(0, fd);
	close(fd);

	run_to_stop(_metadata, &self->r, "storage", first);
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, self->r.ev[i].code);
	slurp(logf, buf, sizeof(buf));
	if (!strstr(buf, "storage-content: EMPTY"))
		TH_LOG("first run log:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, "storage-content: EMPTY"));

	memset(self->r.ev, 0, sizeof(self->r.ev));
	self->r.nev = 0;
	ASSERT_EQ(0, truncate(logf, 0));
	run_to_stop(_metadata, &self->r, "storage", second);
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, self->r.ev[i].code);
	slurp(logf, buf, sizeof(buf));
	if (!strstr(buf, marker))
		TH_LOG("second run log:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, marker));

	/* The plaintext never reaches the host file. */
	fd = open(img, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (off = 0;; off += (off_t)sizeof(buf) - 64) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);

		if (n <= 0)
			break;
		buf[n] = 0;
		ASSERT_EQ(NULL, memmem(buf, (size_t)n, marker, sizeof(marker) - 1));
	}
	close(fd);
	unlink(state);
	unlink(img);
	unlink(logf);
}

TEST_F(vm, instance_identity_checked)
{
	char state[] = "/tmp/vmtest-instance-XXXXXX";
	const char *extra[] = { "--instance", state, "--new-instance", NULL };
	int ret;

	ret = seal_instance(self->dev, "hello", state);
	if (ret == -ENOTTY)
		SKIP(return, "module without AVF_INSTANCE_SEAL");
	ASSERT_EQ(0, ret);
	run_to_stop(_metadata, &self->r, "hello", extra);
	check_frame(_metadata, &self->r);
	EXPECT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
	unlink(state);
}

TEST_F(vm, instance_other_package_is_payload_changed)
{
	char state[] = "/tmp/vmtest-instance-XXXXXX";
	const char *extra[] = { "--instance", state, NULL };
	int i, ret;

	ret = seal_instance(self->dev, "hello", state);
	if (ret == -ENOTTY)
		SKIP(return, "module without AVF_INSTANCE_SEAL");
	ASSERT_EQ(0, ret);
	run_to_stop(_metadata, &self->r, "exit-code", extra);
	check_frame(_metadata, &self->r);
	i = find(&self->r, AVF_EVENT_ERROR);
	ASSERT_LE(0, i);
	EXPECT_EQ(AVF_ERROR_PAYLOAD_CHANGED, self->r.ev[i].code);
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
	EXPECT_EQ(AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED, last(&self->r)->code);
	unlink(state);
}

TEST_F(vm, instance_tampered_or_truncated_state_rejected)
{
	char state[] = "/tmp/vmtest-instance-XXXXXX";
	const char *extra[] = { "--instance", state, NULL };
	uint8_t b;
	int fd, ret, round;

	ret = seal_instance(self->dev, "hello", state);
	if (ret == -ENOTTY)
		SKIP(return, "module without AVF_INSTANCE_SEAL");
	ASSERT_EQ(0, ret);
	for (round = 0; round < 2; round++) {
		fd = open(state, O_RDWR);
		ASSERT_LE(0, fd);
		if (round == 0) {	/* flip one bit in the middle */
			ASSERT_EQ(1, pread(fd, &b, 1, 100));
			b ^= 1;
			ASSERT_EQ(1, pwrite(fd, &b, 1, 100));
		} else {
			ASSERT_EQ(0, ftruncate(fd, 100));
		}
		close(fd);
		memset(self->r.ev, 0, sizeof(self->r.ev));
		self->r.nev = 0;
		run_to_stop(_metadata, &self->r, "hello", extra);
		check_frame(_metadata, &self->r);
		EXPECT_LE(0, find(&self->r, AVF_EVENT_ERROR));
		EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
		EXPECT_EQ(AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED, last(&self->r)->code);
	}
	unlink(state);
}

TEST_F(vm, open_by_name)
{
	int ret;

	self->r.pid = spawn_vmm(-1, self->name, "hello", NULL);
	ASSERT_LT(0, self->r.pid);
	ret = collect(&self->r, VM_TIMEOUT_MS, -1);
	ASSERT_EQ(0, reap(&self->r, 10000));
	ASSERT_EQ(0, ret);
	check_frame(_metadata, &self->r);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

TEST_F(vm, two_vms_at_once)
{
	char name2[AVF_NAME_MAX + 8];
	struct run *b;
	int r1, r2;

	b = calloc(1, sizeof(*b));
	ASSERT_NE(NULL, b);
	snprintf(name2, sizeof(name2), "%.40s-b", self->name);
	b->vm_fd = open_instance(self->dev, name2);
	ASSERT_LE(0, b->vm_fd);
	self->r.pid = spawn_vmm(self->r.vm_fd, NULL, "hello", NULL);
	b->pid = spawn_vmm(b->vm_fd, NULL, "exit-code", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_LT(0, b->pid);
	r1 = collect(&self->r, VM_TIMEOUT_MS, -1);
	r2 = collect(b, VM_TIMEOUT_MS, -1);
	EXPECT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(0, reap(b, 10000));
	ASSERT_EQ(0, r1);
	ASSERT_EQ(0, r2);
	check_frame(_metadata, &self->r);
	check_frame(_metadata, b);
	EXPECT_NE(self->r.ev[0].code, b->ev[0].code);	/* distinct CIDs */
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(b)->code);
	EXPECT_EQ(7, b->ev[find(b, AVF_EVENT_PAYLOAD_FINISHED)].code);
	ioctl(b->vm_fd, AVF_VM_DELETE, 0);
	close(b->vm_fd);
	free(b);
}

TEST_F(vm, two_vcpus)
{
	static const char *const extra[] = { "--cpus", "2", NULL };

	run_to_stop(_metadata, &self->r, "hello", extra);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

TEST_F(vm, console_capture_only_with_debug_full)
{
	char path_full[] = "/tmp/vmtest-console-XXXXXX";
	char path_none[] = "/tmp/vmtest-console-none-XXXXXX";
	char path_log[] = "/tmp/vmtest-log-XXXXXX";
	const char *extra_full[] = { "--debug", "full", "--console", path_full, "--log", path_log,
				     NULL };
	const char *extra_none[] = { "--console", path_none, NULL };
	char buf[8192];
	ssize_t n;
	int fd;

	int log_fd;

	fd = mkstemp(path_full);
	ASSERT_LE(0, fd);
	log_fd = mkstemp(path_log);
	ASSERT_LE(0, log_fd);
	run_to_stop(_metadata, &self->r, "hello", extra_full);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path_full);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "avf-runtime"));
	/* The payload's stdout arrives on hvc1, in the log file. */
	n = read(log_fd, buf, sizeof(buf) - 1);
	close(log_fd);
	unlink(path_log);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "hello from the avf payload"));

	fd = mkstemp(path_none);
	ASSERT_LE(0, fd);
	memset(&self->r.ev, 0, sizeof(self->r.ev));
	self->r.nev = 0;
	run_to_stop(_metadata, &self->r, "hello", extra_none);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
	unlink(path_none);
}

TEST(usage_errors)
{
	static const char *const cases[][4] = {
		{ "--protected", NULL },
		{ "--mem", "0", NULL },
		{ "--cpus", "0", NULL },
		{ "--debug", "some", NULL },
	};
	unsigned int i;

	init_paths();
	if (access(vmm_path, X_OK))
		SKIP(return, "no %s", vmm_path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[16] = { vmm_path, "--vm-fd", "99", "--kernel", "k", "--initrd",
					 "i", "--package", "p", "--payload", "x.so" };
		unsigned int n = 11, j;
		int status;
		pid_t pid;

		for (j = 0; cases[i][j]; j++)
			argv[n++] = cases[i][j];
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 2);
			execv(vmm_path, (char *const *)argv);
			_exit(127);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(64, WEXITSTATUS(status));
	}
}

/*
 * The hostile guest (hostile_guest.S) abuses the transport and queues; the
 * VMM must flag each device NEEDS_RESET, keep serving the others, recover
 * a device after reset and report the final triple fault as REBOOT.
 * Standalone mode: needs /dev/kvm only.
 */
TEST(hostile_guest)
{
	char guest[600], console[] = "/tmp/vmtest-hostile-XXXXXX", pkg[] = "/tmp/vmtest-pkg-XXXXXX";
	char errlog[] = "/tmp/vmtest-hostile-err-XXXXXX";
	static const char *const want[] = {
		"mmio-sweep: ok", "blk-loop-needs-reset: ok", "vsock-avail-jump-needs-reset: ok",
		"console-oob-needs-reset: ok", "blk-read-after-reset: ok", "triple-fault",
	};
	char buf[4096];
	int cfd, pfd, efd, status;
	unsigned int i;
	ssize_t n;
	pid_t pid;

	init_paths();
	snprintf(guest, sizeof(guest), "%s/build/user/tests/vm/hostile_guest.elf", AVF_TREE_TOP);
	if (access(vmm_path, X_OK))
		SKIP(return, "missing %s", vmm_path);
	if (access(guest, R_OK))
		SKIP(return, "missing %.400s", guest);
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	cfd = mkstemp(console);
	pfd = mkstemp(pkg);
	efd = mkstemp(errlog);
	ASSERT_LE(0, cfd);
	ASSERT_LE(0, pfd);
	ASSERT_LE(0, efd);
	ASSERT_EQ(12, pwrite(pfd, "AVF-HOSTILE", 12, 0));
	ASSERT_EQ(0, ftruncate(pfd, 4096));
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			vmm_path, "--standalone", "--kernel", guest, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--debug", "full", "--console", console,
			"--hangup-timeout", "60", NULL,
		};
		dup2(efd, 2);
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	n = pread(cfd, buf, sizeof(buf) - 1, 0);
	ASSERT_LT(0, n);
	buf[n] = 0;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(buf, want[i]))
			TH_LOG("missing '%s' in:\n%s", want[i], buf);
		EXPECT_NE(NULL, strstr(buf, want[i]));
	}
	n = pread(efd, buf, sizeof(buf) - 1, 0);
	ASSERT_LT(0, n);
	buf[n] = 0;
	if (!strstr(buf, "event STOPPED code=5"))
		TH_LOG("avf-vmm said:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, "event STOPPED code=5"));
	close(cfd);
	close(pfd);
	close(efd);
	unlink(console);
	unlink(pkg);
	unlink(errlog);
}

/* Run a bare guest image standalone; returns the wait status, fills @ru and @err. */
static int run_bare(const char *image, const char *pkg, int console_fd, struct rusage *ru,
		    char *err, size_t errcap)
{
	char console[32], errlog[] = "/tmp/vmtest-bare-err-XXXXXX";
	int efd = mkstemp(errlog), status = -1;
	ssize_t n;
	pid_t pid;

	if (efd < 0)
		return -1;
	snprintf(console, sizeof(console), "/dev/fd/%d", console_fd);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			vmm_path, "--standalone", "--kernel", image, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--debug", "full", "--console", console,
			"--hangup-timeout", "0", NULL,
		};
		fcntl(console_fd, F_SETFD, 0);
		dup2(efd, 2);
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		wait4(pid, &status, 0, ru);
	n = pread(efd, err, errcap - 1, 0);
	err[n > 0 ? n : 0] = 0;
	close(efd);
	unlink(errlog);
	return status;
}

/*
 * RELIABILITY.md 18: the guest writes 100 MiB to hvc0 and 128 KiB to the
 * UART while nobody reads the console pipe. The run must end (the vCPU never
 * blocks) and the VMM's peak RSS may not grow by more than 2 MiB (2% of the
 * flood) over the same guest without the flood: the peak RSS of two runs of
 * the same guest differs by up to ~600 KiB in the emulated test host, so a
 * tighter bound fails at random; buffering the flood would add ~100 MiB.
 */
TEST(console_flood_unread)
{
	char base[600], flood[600], pkg[] = "/tmp/vmtest-flood-pkg-XXXXXX", err[4096];
	struct rusage ru_base, ru_flood;
	int p[2], pfd, st;

	init_paths();
	snprintf(base, sizeof(base), "%s/build/user/tests/vm/hostile_guest.elf", AVF_TREE_TOP);
	snprintf(flood, sizeof(flood), "%s/build/user/tests/vm/flood_guest.elf", AVF_TREE_TOP);
	if (access(vmm_path, X_OK))
		SKIP(return, "missing %s", vmm_path);
	if (access(flood, R_OK) || access(base, R_OK))
		SKIP(return, "missing %.400s", flood);
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	pfd = mkstemp(pkg);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(12, pwrite(pfd, "AVF-HOSTILE", 12, 0));
	ASSERT_EQ(0, ftruncate(pfd, 4096));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));	/* p[0] is never read */

	st = run_bare(base, pkg, p[1], &ru_base, err, sizeof(err));
	ASSERT_TRUE(WIFEXITED(st));
	st = run_bare(flood, pkg, p[1], &ru_flood, err, sizeof(err));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	if (!strstr(err, "event STOPPED code=5"))
		TH_LOG("avf-vmm said:\n%s", err);
	EXPECT_NE(NULL, strstr(err, "event STOPPED code=5"));
	TH_LOG("peak RSS: %ld KiB without flood, %ld KiB with", ru_base.ru_maxrss,
	       ru_flood.ru_maxrss);
	EXPECT_LE(ru_flood.ru_maxrss, ru_base.ru_maxrss + 2048);
	close(p[0]);
	close(p[1]);
	close(pfd);
	unlink(pkg);
}

/*
 * The vsock data path end to end: a bare guest with a polling virtio-vsock
 * echo driver (vsock_echo_guest.c); the host connects through the
 * development socket and streams 1 MiB through it and back.
 */
TEST(vsock_echo_1mib)
{
	char guest[600], sock[64], pkg[] = "/tmp/vmtest-echo-pkg-XXXXXX", line[64];
	char console[] = "/tmp/vmtest-echo-con-XXXXXX", con[256];
	int cfd;
	const size_t total = 1 << 20;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *out, *in;
	size_t sent = 0, got = 0, n_line = 0;
	long t0;
	int pfd, c = -1, status, i;
	pid_t pid;

	init_paths();
	snprintf(guest, sizeof(guest), "%s/build/user/tests/vm/vsock_echo_guest.elf",
		 AVF_TREE_TOP);
	if (access(vmm_path, X_OK))
		SKIP(return, "missing %s", vmm_path);
	if (access(guest, R_OK))
		SKIP(return, "missing %.400s", guest);
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	snprintf(sock, sizeof(sock), "/tmp/vmtest-echo-%d.sock", getpid());
	pfd = mkstemp(pkg);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, ftruncate(pfd, 4096));
	cfd = mkstemp(console);
	ASSERT_LE(0, cfd);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			vmm_path, "--standalone", "--kernel", guest, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--hangup-timeout", "0", "--vsock-uds", sock,
			"--debug", "full", "--console", console, NULL,
		};
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	ASSERT_LT(0, pid);
	/* Connect once the guest driver is up: a device reset drops connections. */
	for (i = 0; i < 600; i++) {
		ssize_t n = pread(cfd, con, sizeof(con) - 1, 0);

		con[n > 0 ? n : 0] = 0;
		if (strstr(con, "echo: ready"))
			break;
		usleep(100000);
	}
	ASSERT_NE(NULL, strstr(con, "echo: ready"));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (i = 0; i < 300 && c < 0; i++) {
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(c);
			c = -1;
			usleep(100000);
		}
	}
	ASSERT_LE(0, c);
	ASSERT_EQ(13, write(c, "CONNECT 5000\n", 13));
	while (n_line < sizeof(line) - 1) {
		ASSERT_EQ(1, read(c, &line[n_line], 1));
		if (line[n_line++] == '\n')
			break;
	}
	line[n_line] = 0;
	ASSERT_EQ(0, strncmp(line, "OK ", 3));

	out = malloc(total);
	in = malloc(total);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (sent = 0; sent < total; sent++)
		out[sent] = (uint8_t)(sent * 7 + sent / 4093);
	sent = 0;
	fcntl(c, F_SETFL, O_NONBLOCK);
	t0 = now_ms();
	while (got < total && now_ms() - t0 < 120000) {
		struct pollfd p = { .fd = c, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < total) {
			n = write(c, out + sent, total - sent > 16384 ? 16384 : total - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			n = read(c, in + got, total - got);
			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
		}
	}
	TH_LOG("echoed %zu bytes in %ld ms", got, now_ms() - t0);
	ASSERT_EQ(total, got);
	EXPECT_EQ(0, memcmp(out, in, total));
	close(c);
	usleep(200000);
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	free(out);
	free(in);
	close(pfd);
	close(cfd);
	unlink(pkg);
	unlink(console);
	unlink(sock);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return test_harness_run(argc, argv);
}
