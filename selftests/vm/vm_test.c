// SPDX-License-Identifier: GPL-2.0
/*
 * End-to-end tests of avf-vmm: create an instance through /dev/avf, seal
 * its state (AVF_INSTANCE_SEAL), run the trusted avf-vmm on it with file
 * descriptors only (--vm-fd, --kernel-fd, ... --instance-fd), and check the
 * life-cycle records the module fans out on the VM fd. The attack tests at
 * the end play an ordinary owner (uid 1000) against the trust boundary.
 * Runs inside the test host (selftests/vm/run.sh).
 *
 * Paths: $AVF_VMM (the trusted, set-uid avf-vmm the test host installs as
 * /run/avf/libexec/avf-vmm), $AVF_VMM_DEV (a non-set-uid avf-vmm for the
 * --standalone tests; default the build tree's), $AVF_GUEST_KERNEL
 * (vmlinux), $AVF_GUEST_INITRD, $AVF_TEST_PACKAGES (hello.zip,
 * exit-code.zip, crash.zip, never-ready.zip, batch.zip, stall.zip);
 * defaults under build/user/.
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <linux/avf.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

/* Guests boot under nested TCG (and a debug host kernel): allow minutes, not 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	900

#define VM_TIMEOUT_MS	180000	/* one guest run under nested TCG */
#define MAX_EVENTS	32
#define MAX_ARGS	40

static char vmm_path[512], dev_vmm_path[512], kernel_path[512], initrd_path[512], pkg_dir[512];

static void pick(char *dst, size_t cap, const char *env, const char *fallback)
{
	const char *v = getenv(env);

	snprintf(dst, cap, "%s", v && *v ? v : fallback);
}

static void init_paths(void)
{
	pick(vmm_path, sizeof(vmm_path), "AVF_VMM", AVF_TREE_TOP "/build/user/bin/avf-vmm");
	pick(dev_vmm_path, sizeof(dev_vmm_path), "AVF_VMM_DEV",
	     AVF_TREE_TOP "/build/user/bin/avf-vmm");
	pick(kernel_path, sizeof(kernel_path), "AVF_GUEST_KERNEL",
	     AVF_TREE_TOP "/build/user/vmm/guest-vmlinux");
	pick(initrd_path, sizeof(initrd_path), "AVF_GUEST_INITRD",
	     AVF_TREE_TOP "/build/user/guest/initramfs.cpio.gz");
	pick(pkg_dir, sizeof(pkg_dir), "AVF_TEST_PACKAGES",
	     AVF_TREE_TOP "/build/user/guest/packages");
}

struct run {
	pid_t pid;
	int dev;
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

/* Value of "--@opt X" in a NULL-terminated argument list, or NULL. */
static const char *arg_of(const char *const *args, const char *opt)
{
	for (; args && *args; args++)
		if (!strcmp(*args, opt) && args[1])
			return args[1];
	return NULL;
}

/*
 * Seal an instance state for (@kernel_fd, @initrd_fd, @pkg_fd, @payload,
 * @cmdline, @debug) into @state. Returns 0 or -errno.
 */
static int seal_fds(int dev, int kernel_fd, int initrd_fd, int pkg_fd, const char *payload,
		    const char *cmdline, int debug, uint8_t *state)
{
	struct avf_instance_seal seal;

	memset(&seal, 0, sizeof(seal));
	seal.images.kernel_fd = kernel_fd;
	seal.images.initrd_fd = initrd_fd;
	seal.images.package_fd = pkg_fd;
	seal.images.debug_level = (uint32_t)debug;
	seal.images.payload_name = (uintptr_t)payload;
	seal.images.cmdline = cmdline ? (uintptr_t)cmdline : 0;
	seal.state = (uintptr_t)state;
	seal.state_size = AVF_INSTANCE_STATE_SIZE;
	return ioctl(dev, AVF_INSTANCE_SEAL, &seal) ? -errno : 0;
}

/* A memfd holding @state: what an owner hands avf-vmm as --instance-fd. */
static int state_memfd(const uint8_t *state)
{
	int fd = memfd_create("instance-state", MFD_CLOEXEC);

	if (fd >= 0 && write(fd, state, AVF_INSTANCE_STATE_SIZE) != AVF_INSTANCE_STATE_SIZE) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Descriptors of one run; -1 where not given. @vmm: the binary (NULL:
 * $AVF_VMM); @err: its stderr (-1: inherited); @traceme: exec it under
 * PTRACE_TRACEME (the caller is the tracer).
 */
struct run_fds {
	int kernel, initrd, package, instance, storage, console, log;
	const char *vmm;
	int err;
	bool traceme;
};

#define NO_FDS { -1, -1, -1, -1, -1, -1, -1, NULL, -1, false }

static void add_fd_arg(const char **argv, unsigned int *n, char (*buf)[16], const char *opt,
		       int fd)
{
	if (fd < 0)
		return;
	snprintf(*buf, sizeof(*buf), "%d", fd);
	argv[(*n)++] = opt;
	argv[(*n)++] = *buf;
}

/* fork + exec @vmm with @argv, the listed fds inherited, stdin /dev/null. */
static pid_t exec_vmm(const char *vmm, const char *const *argv, const int *keep, unsigned int nkeep,
		      int err, bool traceme)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		unsigned int i;

		dup2(null, 0);
		if (err >= 0)
			dup2(err, 2);
		if (traceme && ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(126);
		for (i = 0; i < nkeep; i++)
			if (keep[i] >= 0)
				fcntl(keep[i], F_SETFD, 0);	/* inherited by avf-vmm */
		execv(vmm, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/*
 * Start the trusted avf-vmm for @package on @vm_fd, opening every file here
 * and passing descriptors. Unless @given->instance is set, the instance
 * state is sealed for exactly this run (package, payload, --cmdline,
 * --debug from @extra). @extra (NULL-terminated) is appended.
 */
static pid_t spawn_vmm_fds(int dev, int vm_fd, const char *package, const char *const *extra,
			   const struct run_fds *given)
{
	char pkg[600], payload[128], bufs[8][16];
	const char *argv[MAX_ARGS], *dbg = arg_of(extra, "--debug");
	struct run_fds f = given ? *given : (struct run_fds)NO_FDS;
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	unsigned int n = 0;
	int keep[8], i, own[4] = { -1, -1, -1, -1 };
	pid_t pid = -1;

	snprintf(pkg, sizeof(pkg), "%s/%s.zip", pkg_dir, package);
	snprintf(payload, sizeof(payload), "%s.so", package);
	if (f.kernel < 0)
		f.kernel = own[0] = open(kernel_path, O_RDONLY | O_CLOEXEC);
	if (f.initrd < 0)
		f.initrd = own[1] = open(initrd_path, O_RDONLY | O_CLOEXEC);
	if (f.package < 0)
		f.package = own[2] = open(pkg, O_RDONLY | O_CLOEXEC);
	if (f.kernel < 0 || f.initrd < 0 || f.package < 0)
		goto out;
	if (f.instance < 0) {
		if (seal_fds(dev, f.kernel, f.initrd, f.package, payload,
			     arg_of(extra, "--cmdline"),
			     dbg && !strcmp(dbg, "full") ? AVF_DEBUG_FULL : AVF_DEBUG_NONE, state))
			goto out;
		f.instance = own[3] = state_memfd(state);
		if (f.instance < 0)
			goto out;
	}
	argv[n++] = f.vmm ? f.vmm : vmm_path;
	add_fd_arg(argv, &n, &bufs[0], "--vm-fd", vm_fd);
	add_fd_arg(argv, &n, &bufs[1], "--kernel-fd", f.kernel);
	add_fd_arg(argv, &n, &bufs[2], "--initrd-fd", f.initrd);
	add_fd_arg(argv, &n, &bufs[3], "--package-fd", f.package);
	add_fd_arg(argv, &n, &bufs[4], "--instance-fd", f.instance);
	add_fd_arg(argv, &n, &bufs[5], "--storage-fd", f.storage);
	add_fd_arg(argv, &n, &bufs[6], "--console-fd", f.console);
	add_fd_arg(argv, &n, &bufs[7], "--log-fd", f.log);
	argv[n++] = "--payload";
	argv[n++] = payload;
	/* A loaded test host can take more than the default 30 s to boot. */
	if (!arg_of(extra, "--hangup-timeout")) {
		argv[n++] = "--hangup-timeout";
		argv[n++] = "300";
	}
	while (extra && *extra && n < MAX_ARGS - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	keep[0] = vm_fd;
	keep[1] = f.kernel;
	keep[2] = f.initrd;
	keep[3] = f.package;
	keep[4] = f.instance;
	keep[5] = f.storage;
	keep[6] = f.console;
	keep[7] = f.log;
	pid = exec_vmm(argv[0], argv, keep, 8, f.err, f.traceme);
out:
	for (i = 0; i < 4; i++)
		if (own[i] >= 0)
			close(own[i]);
	return pid;
}

static pid_t spawn_vmm(int dev, int vm_fd, const char *package, const char *const *extra)
{
	return spawn_vmm_fds(dev, vm_fd, package, extra, NULL);
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
	self->r.dev = self->dev;
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
static void run_to_stop_fds(struct __test_metadata *_metadata, struct run *r,
			    const char *package, const char *const *extra,
			    const struct run_fds *fds)
{
	int ret;

	r->pid = spawn_vmm_fds(r->dev, r->vm_fd, package, extra, fds);
	ASSERT_LT(0, r->pid);
	ret = collect(r, VM_TIMEOUT_MS, -1);
	ASSERT_EQ(0, reap(r, 10000));
	if (ret)
		dump(_metadata, r);
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(WIFEXITED(r->status));
	EXPECT_EQ(0, WEXITSTATUS(r->status));
}

static void run_to_stop(struct __test_metadata *_metadata, struct run *r, const char *package,
			const char *const *extra)
{
	run_to_stop_fds(_metadata, r, package, extra, NULL);
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

/* The payload blocks in its constructor: never STARTED, so the boot timer fires. */
TEST_F(vm, never_started_hangs_up)
{
	static const char *const extra[] = { "--hangup-timeout", "5", NULL };

	run_to_stop(_metadata, &self->r, "stall", extra);
	check_frame(_metadata, &self->r);
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_READY));
	EXPECT_EQ(AVF_STOP_HANGUP, last(&self->r)->code);
}

/*
 * A batch payload never calls notifyPayloadReady and works until the guest
 * has been up for longer than the hang-up timeout (guest uptime starts after
 * the VMM armed the timer): once STARTED it runs to completion and its exit
 * code reaches FINISHED. HANGUP_TEST_S only has to cover the boot.
 */
#define HANGUP_TEST_S	"20"
TEST_F(vm, started_payload_without_ready_outlives_hangup)
{
	static const char *const extra[] = {
		"--hangup-timeout", HANGUP_TEST_S,
		"--cmdline", "avf_batch.seconds=30", NULL,
	};
	int i;

	run_to_stop(_metadata, &self->r, "batch", extra);
	check_frame(_metadata, &self->r);
	ASSERT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
	EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_READY));
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(42, self->r.ev[i].code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
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

	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "never-ready", NULL);
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
	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "never-ready", NULL);
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
	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "never-ready", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_STOP, 0));
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(AVF_STOP_KILLED, last(&self->r)->code);
}

/*
 * connectVsock through the module (AVF_VM_CONNECT_VSOCK, brokered to the
 * VMM with AVF_VMM_CONN_TAKE/DONE): the Linux guest has no listener on the
 * port, so its vsock driver answers the VMM's REQUEST with RST and the
 * owner's ioctl fails with ECONNREFUSED; the VM keeps running.
 */
TEST_F(vm, vsock_connect_to_closed_port_is_refused)
{
	struct avf_vsock_connect c = { .port = 5000, .timeout_ms = 60000 };
	int fd;

	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "never-ready", NULL);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	fd = ioctl(self->r.vm_fd, AVF_VM_CONNECT_VSOCK, &c);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ECONNREFUSED, errno);
	collect(&self->r, 100, -1);
	if (find(&self->r, AVF_EVENT_STOPPED) >= 0)
		dump(_metadata, &self->r);
	ASSERT_EQ(-1, find(&self->r, AVF_EVENT_STOPPED));	/* still running */
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_STOP, 0));
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
}

/* The bound VMM takes no --vsock-uds: host connections come through the module. */
TEST_F(vm, bound_vmm_refuses_vsock_uds)
{
	static const char *const extra[] = { "--vsock-uds", "/tmp/vmtest-nope.sock", NULL };

	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "hello", extra);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(0, reap(&self->r, 10000));
	ASSERT_TRUE(WIFEXITED(self->r.status));
	EXPECT_EQ(64, WEXITSTATUS(self->r.status));
	EXPECT_NE(0, access("/tmp/vmtest-nope.sock", F_OK));
}

/*
 * Seal an instance state for (kernel, initrd, @package, "<package>.so",
 * @debug) into a temp file @path.
 */
static int seal_instance_dbg(int dev, const char *package, char *path, int debug)
{
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	char pkg[600], payload[128];
	int k, i, p, fd, ret;

	snprintf(pkg, sizeof(pkg), "%s/%s.zip", pkg_dir, package);
	snprintf(payload, sizeof(payload), "%s.so", package);
	k = open(kernel_path, O_RDONLY | O_CLOEXEC);
	i = open(initrd_path, O_RDONLY | O_CLOEXEC);
	p = open(pkg, O_RDONLY | O_CLOEXEC);
	ret = seal_fds(dev, k, i, p, payload, NULL, debug, state);
	close(k);
	close(i);
	close(p);
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

/* A temporary file open for appending; its path in @path (a mkstemp template). */
static int tmp_out(char *path)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	close(fd);
	return open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
}

/*
 * A debuggable VM that hangs in boot says where its vCPUs were when the
 * hang-up stopped it (vmm.rst, "Diagnosing a guest reset"); a VM without
 * debug shows the owner nothing of the guest's state.
 */
TEST_F(vm, hangup_logs_vcpu_state_only_when_debuggable)
{
	static const char *const dbg[] = { "--hangup-timeout", "5", "--debug", "full", NULL };
	static const char *const nodbg[] = { "--hangup-timeout", "5", NULL };
	char path[64], buf[16384];

	for (int round = 0; round < 2; round++) {
		struct run_fds fds = NO_FDS;

		strcpy(path, "/tmp/vmtest-hangup-XXXXXX");
		fds.err = tmp_out(path);
		ASSERT_LE(0, fds.err);
		memset(self->r.ev, 0, sizeof(self->r.ev));
		self->r.nev = 0;
		run_to_stop_fds(_metadata, &self->r, "stall", round ? nodbg : dbg, &fds);
		close(fds.err);
		EXPECT_EQ(AVF_STOP_HANGUP, last(&self->r)->code);
		slurp(path, buf, sizeof(buf));
		unlink(path);
		if (!round) {
			if (!strstr(buf, "vcpu0: at hang-up: stopped: rip 0x"))
				TH_LOG("vmm log:\n%s", buf);
			EXPECT_NE(NULL, strstr(buf, "vcpu0: at hang-up: stopped: rip 0x"));
		} else {
			EXPECT_NE(NULL, strstr(buf, "hang-up"));
			EXPECT_EQ(NULL, strstr(buf, "rip"));
		}
	}
}

/*
 * The boot-cost guard (issue 10, no timing): what a plain hello boot costs
 * the host up to the runtime's BOOT line, from avf-vmm's "boot counts" line
 * (Documentation/vmm.rst, "Boot cost"), stays under recorded bounds:
 *
 *  vmm_exits        exits to avf-vmm: device register accesses and port
 *                   I/O left after ioeventfd and the in-kernel irqchip
 *  dev_wakeups      device-thread runs on guest notifies: a receive queue
 *                   the guest fills entry by entry shows here
 *  dev_irqs         device interrupts raised
 *  kvm_io_exits     every port I/O intercept, in-kernel ones too (a PIT or
 *                   CMOS probe, serial output)
 *  kvm_mmio_exits   MMIO emulated for userspace
 *  kvm_pf_taken     stage-2 faults, first touches of guest RAM: the
 *                   prefault (kernel, initramfs and what the guest kernel
 *                   writes in every boot, boot_prefault_plan()) removes
 *                   all but a few dozen
 *  kvm_exits        every exit, timer interrupts included
 *  console/uart     no byte of kernel output in a non-debug boot
 *
 * A change that adds a probing driver, serial output, a notification that
 * misses its ioeventfd, a big console receive queue or a dropped prefault
 * fails here, and so does a guest that keeps time with the PIT (+400 to
 * +1,000 port I/O: its LAPIC timer failed the check the ACPI PM timer
 * spares it, Documentation/vmm.rst "ACPI"). Measured (2026-12-03, test
 * host, guest kernel, 11 boots): vmm_exits 393, dev_wakeups 9, dev_irqs 3,
 * io 211-223 (100 before the ACPI PM timer; the ~115 more are PM timer
 * and PM1 accesses, all to avf-vmm), mmio 238, stage-2 faults 3,530-3,552
 * (4,330 with 256-entry console receive queues, ~5,500 without the
 * prefault), all exits 5,600-5,930, insn emulation 1,550-1,710 (the
 * second session's 10 boots: 5,330-5,338 and 1,462-1,471 before the ACPI
 * tables). All exits and instruction emulation also count
 * timer interrupts and APIC accesses, which grow with wall time (+2,000
 * and +1,600 seen with VMs sharing the CPU): their bounds are loose; the
 * fault count does not depend on time. Since the prefault of the guest
 * kernel's own boot-time writes (2026-12-03, seventh session): stage-2
 * faults 17-26, all exits 1,900-2,230.
 */
static const struct {
	const char *key;
	unsigned long long max;
} boot_bounds[] = {
	{ "vmm_exits=", 520 },
	{ "dev_wakeups=", 64 },
	{ "dev_irqs=", 32 },
	{ "kvm_io_exits=", 240 },
	{ "kvm_mmio_exits=", 320 },
	{ "kvm_pf_taken=", 400 },
	{ "kvm_exits=", 6000 },
	{ "kvm_insn_emulation=", 4000 },
	{ "console_bytes=", 0 },
	{ "uart_bytes=", 0 },
};

/* The value of "@key<n>" in a "boot counts:" line; false when absent. */
static bool boot_count(const char *line, const char *key, unsigned long long *v)
{
	const char *p = strstr(line, key);

	if (!p)
		return false;
	*v = strtoull(p + strlen(key), NULL, 10);
	return true;
}

TEST_F(vm, boot_cost_stays_under_bounds)
{
	char err[64], log[16384];
	struct run_fds fds = NO_FDS;
	unsigned long long v;
	const char *line;
	char *eol;
	size_t i;

	strcpy(err, "/tmp/vmtest-exits-XXXXXX");
	fds.err = tmp_out(err);
	ASSERT_LE(0, fds.err);
	run_to_stop_fds(_metadata, &self->r, "hello", NULL, &fds);
	close(fds.err);
	ASSERT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
	slurp(err, log, sizeof(log));
	unlink(err);
	line = strstr(log, "boot counts: ");
	ASSERT_NE(NULL, line) TH_LOG("vmm.log:\n%s", log);
	eol = strchr(line, '\n');
	if (eol)
		*eol = 0;
	TH_LOG("hello %s", line);
	for (i = 0; i < sizeof(boot_bounds) / sizeof(boot_bounds[0]); i++) {
		/* the kvm_ counters need KVM_GET_STATS_FD (5.14); the rest are avf-vmm's */
		if (!boot_count(line, boot_bounds[i].key, &v)) {
			if (!strncmp(boot_bounds[i].key, "kvm_", 4))
				continue;
			ASSERT_TRUE(false) TH_LOG("no %s in: %s", boot_bounds[i].key, line);
		}
		EXPECT_GE(boot_bounds[i].max, v)
			TH_LOG("%s over its bound %llu", boot_bounds[i].key, boot_bounds[i].max);
	}
	/* the in-kernel counters are there on the test host's 6.12 */
	EXPECT_NE(NULL, strstr(line, " kvm_exits="));
}

/*
 * KVM's debugfs directory of avf-vmm @pid's VM ("<pid>-<vm fd>") into
 * @path: 0, or -1 when there is none.
 */
static int kvm_vm_dir(pid_t pid, char *path, size_t size)
{
	const char *top = "/sys/kernel/debug/kvm";
	char prefix[32];
	struct dirent *d;
	int ret = -1;
	DIR *dir;

	dir = opendir(top);
	if (!dir)
		return -1;
	snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
	while ((d = readdir(dir))) {
		if (!strncmp(d->d_name, prefix, strlen(prefix))) {
			snprintf(path, size, "%s/%s", top, d->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

/* One of KVM's per-VM counters in @dir (kvm_vm_dir()): -1 when absent. */
static long long kvm_vm_stat(const char *dir, const char *stat)
{
	char path[PATH_MAX];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, stat);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * VM exits per second of an idle never-ready VM: the least of @windows
 * windows of @window_s seconds each (a window with the runtime's or the
 * guest kernel's deferred work after STARTED is not the idle rate), from
 * KVM's own counters; -1 when they cannot be read. *@io: the port I/O
 * exits in that window.
 */
static double idle_exit_rate(struct __test_metadata *_metadata, struct run *r,
			     const char *const *extra, unsigned int windows, unsigned int window_s,
			     long long *io)
{
	enum { EXITS, HALT, IRQ, INJ, PF, IO, MMIO, NSTATS };
	static const char *const stats[NSTATS] = {
		[EXITS] = "exits", [HALT] = "halt_exits", [IRQ] = "irq_exits",
		[INJ] = "irq_injections", [PF] = "pf_taken", [IO] = "io_exits",
		[MMIO] = "mmio_exits",
	};
	long long v0[NSTATS], v1[NSTATS];
	double rate, best = -1;
	char dir[PATH_MAX];
	unsigned int w, i;
	long t0, t1;

	r->pid = spawn_vmm(r->dev, r->vm_fd, "never-ready", extra);
	if (r->pid <= 0)
		return -1;
	if (collect(r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED) != 1 ||
	    find(r, AVF_EVENT_PAYLOAD_STARTED) < 0) {
		dump(_metadata, r);
		return -1;
	}
	if (kvm_vm_dir(r->pid, dir, sizeof(dir)))
		goto out;
	for (i = 0; i < NSTATS; i++)
		v0[i] = kvm_vm_stat(dir, stats[i]);
	t0 = now_ms();
	for (w = 0; w < windows; w++) {
		sleep(window_s);
		for (i = 0; i < NSTATS; i++)
			v1[i] = kvm_vm_stat(dir, stats[i]);
		t1 = now_ms();
		if (v0[EXITS] < 0 || v1[EXITS] < v0[EXITS] || t1 <= t0) {
			best = -1;
			break;
		}
		rate = (double)(v1[EXITS] - v0[EXITS]) * 1000.0 / (double)(t1 - t0);
		TH_LOG("idle %s, %ld ms: %.1f exits/s (%s %lld, %s %lld, %s %lld, %s %lld, %s %lld, %s %lld)",
		       extra && extra[0] ? extra[1] : "default", t1 - t0, rate,
		       stats[HALT], v1[HALT] - v0[HALT], stats[IRQ], v1[IRQ] - v0[IRQ],
		       stats[INJ], v1[INJ] - v0[INJ], stats[PF], v1[PF] - v0[PF],
		       stats[IO], v1[IO] - v0[IO], stats[MMIO], v1[MMIO] - v0[MMIO]);
		if (best < 0 || rate < best) {
			best = rate;
			*io = v1[IO] - v0[IO];
		}
		memcpy(v0, v1, sizeof(v0));
		t0 = t1;
	}
out:
	ioctl(r->vm_fd, AVF_VM_STOP, 0);
	collect(r, 30000, -1);
	reap(r, 10000);
	return best;
}

/*
 * The idle-tick guard (issue 10, no timing of the product): an idle
 * payload VM's guest kernel stops its tick (NO_HZ_IDLE, kernel/guest.config),
 * so the VM exits hardly at all while its payload sleeps; a periodic
 * 250 Hz tick costs a timer interrupt, its EOI and a HLT every 4 ms (12.6 %
 * of a test-host CPU per idle VM, bench/README.md). The control run with
 * nohz=off shows the counter sees the tick; a guest config or a device
 * that wakes the idle guest periodically fails the bound. Measured
 * (2026-12-03, test host, the least of three 4 s windows): tickless 17-22
 * exits/s (4-5 wake-ups a second, no port I/O), nohz=off 424-484.
 */
#define IDLE_EXITS_PER_S_MAX 50.0

static int reopen_instance(struct __test_metadata *_metadata, FIXTURE_DATA(vm) *self,
			   unsigned int n)
{
	char name[AVF_NAME_MAX];
	int fd;

	snprintf(name, sizeof(name), "%.*s-%u", (int)sizeof(name) - 12, self->name, n);
	fd = open_instance(self->dev, name);
	if (fd < 0)
		return -1;
	ioctl(self->r.vm_fd, AVF_VM_DELETE, 0);
	close(self->r.vm_fd);
	self->r.vm_fd = fd;
	self->r.nev = 0;
	return 0;
}

TEST_F(vm, idle_guest_takes_no_timer_ticks)
{
	static const char *const periodic[] = { "--cmdline", "nohz=off", NULL };
	double tickless, ticking;
	long long io = -1;

	if (access("/sys/kernel/debug/kvm", R_OK))
		SKIP(return, "no KVM debugfs (/sys/kernel/debug/kvm)");
	tickless = idle_exit_rate(_metadata, &self->r, NULL, 3, 4, &io);
	ASSERT_LE(0, tickless) TH_LOG("no exit count for the idle VM");
	/* port I/O at idle: the PIT keeps the guest's time (vmm.rst, "ACPI") */
	EXPECT_EQ(0, io) TH_LOG("%lld port I/O exits at idle", io);
	EXPECT_GE(IDLE_EXITS_PER_S_MAX, tickless)
		TH_LOG("idle VM exits %.1f/s, over %.0f/s: a tick or a device wakes it",
		       tickless, IDLE_EXITS_PER_S_MAX);

	/* the control: the same VM with its tick kept in idle (any timer) */
	ASSERT_EQ(0, reopen_instance(_metadata, self, 1));
	ticking = idle_exit_rate(_metadata, &self->r, periodic, 3, 4, &io);
	ASSERT_LE(0, ticking) TH_LOG("no exit count for the ticking VM");
	EXPECT_LT(IDLE_EXITS_PER_S_MAX * 4, ticking)
		TH_LOG("nohz=off VM exits only %.1f/s: the counter does not see the tick", ticking);
}

/*
 * --debug full puts the guest kernel's early console on the UART, into
 * the console file: here every early message (ignore_loglevel) arrives
 * through the UART (vmm.log counts its bytes) before hvc0 exists; a VM
 * without debug has no early console (and no console file at all).
 */
TEST_F(vm, debug_full_console_has_early_boot_messages)
{
	static const char *const dbg[] = { "--debug", "full", "--cmdline", "ignore_loglevel",
					   NULL };
	static const char *const nodbg[] = { "--cmdline", "ignore_loglevel", NULL };
	char con[64], err[64], log[8192];
	static char buf[1 << 20];
	unsigned long long uart;
	const char *p;

	for (int round = 0; round < 2; round++) {
		struct run_fds fds = NO_FDS;

		strcpy(con, "/tmp/vmtest-earlycon-XXXXXX");
		strcpy(err, "/tmp/vmtest-earlycon-log-XXXXXX");
		fds.console = tmp_out(con);
		fds.err = tmp_out(err);
		ASSERT_LE(0, fds.console);
		ASSERT_LE(0, fds.err);
		memset(self->r.ev, 0, sizeof(self->r.ev));
		self->r.nev = 0;
		run_to_stop_fds(_metadata, &self->r, "hello", round ? nodbg : dbg, &fds);
		close(fds.console);
		close(fds.err);
		ASSERT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
		slurp(con, buf, sizeof(buf));
		slurp(err, log, sizeof(log));
		unlink(con);
		unlink(err);
		p = strstr(log, ", uart ");
		ASSERT_NE(NULL, p);
		uart = strtoull(p + 7, NULL, 10);
		if (!round) {
			EXPECT_LT(1000, uart);
			EXPECT_NE(NULL, strstr(buf, "printk: debug: ignoring loglevel setting."));
		} else {
			EXPECT_EQ(0, uart);
			EXPECT_EQ(0, buf[0]);
		}
	}
}

/*
 * The guest kernel finds avf-vmm's ACPI PM timer and references its LAPIC
 * timer calibration to it, so the check against the PIT, which fails on a
 * starved host and leaves the guest keeping time with the PIT, is not run
 * (Documentation/vmm.rst, "ACPI"). apic=verbose prints the calibration.
 */
TEST_F(vm, guest_calibrates_its_lapic_timer_by_the_acpi_pm_timer)
{
	static const char *const dbg[] = { "--debug", "full", "--cmdline",
					   "ignore_loglevel apic=verbose", NULL };
	struct run_fds fds = NO_FDS;
	static char buf[1 << 20];
	char con[64];

	strcpy(con, "/tmp/vmtest-pmtimer-XXXXXX");
	fds.console = tmp_out(con);
	ASSERT_LE(0, fds.console);
	run_to_stop_fds(_metadata, &self->r, "hello", dbg, &fds);
	close(fds.console);
	ASSERT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
	slurp(con, buf, sizeof(buf));
	unlink(con);
	EXPECT_NE(NULL, strstr(buf, "ACPI: PM-Timer IO Port: 0x608")) TH_LOG("console:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, "Calibrating APIC timer"));
	/* "result ok", or the LAPIC count scaled to it: PM-referenced either way */
	EXPECT_TRUE(strstr(buf, "... PM-Timer result ok") ||
		    strstr(buf, "APIC delta adjusted to PM-Timer"));
	EXPECT_EQ(NULL, strstr(buf, "verify APIC timer"));
	EXPECT_EQ(NULL, strstr(buf, "APIC timer disabled"));
	EXPECT_NE(NULL, strstr(buf, "ACPI: Interpreter enabled"));
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
	static const char *const first[] = { "--new-instance", "--debug", "full", NULL };
	static const char *const second[] = { "--debug", "full", NULL };
	struct run_fds fds = NO_FDS;
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

	fds.instance = open(state, O_RDONLY | O_CLOEXEC);
	fds.storage = open(img, O_RDWR | O_CLOEXEC);
	fds.log = open(logf, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fds.instance);
	ASSERT_LE(0, fds.storage);
	ASSERT_LE(0, fds.log);
	run_to_stop_fds(_metadata, &self->r, "storage", first, &fds);
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
	run_to_stop_fds(_metadata, &self->r, "storage", second, &fds);
	close(fds.instance);
	close(fds.storage);
	close(fds.log);
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
	static const char *const extra[] = { "--new-instance", NULL };
	struct run_fds fds = NO_FDS;
	int ret;

	ret = seal_instance(self->dev, "hello", state);
	ASSERT_EQ(0, ret);
	fds.instance = open(state, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fds.instance);
	run_to_stop_fds(_metadata, &self->r, "hello", extra, &fds);
	close(fds.instance);
	check_frame(_metadata, &self->r);
	EXPECT_LE(0, find(&self->r, AVF_EVENT_PAYLOAD_FINISHED));
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
	unlink(state);
}

TEST_F(vm, instance_other_package_is_payload_changed)
{
	char state[] = "/tmp/vmtest-instance-XXXXXX";
	struct run_fds fds = NO_FDS;
	int i, ret;

	ret = seal_instance(self->dev, "hello", state);
	ASSERT_EQ(0, ret);
	fds.instance = open(state, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fds.instance);
	run_to_stop_fds(_metadata, &self->r, "exit-code", NULL, &fds);
	close(fds.instance);
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
	struct run_fds fds = NO_FDS;
	uint8_t b;
	int fd, ret, round;

	ret = seal_instance(self->dev, "hello", state);
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
		fds.instance = open(state, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fds.instance);
		run_to_stop_fds(_metadata, &self->r, "hello", NULL, &fds);
		close(fds.instance);
		check_frame(_metadata, &self->r);
		EXPECT_LE(0, find(&self->r, AVF_EVENT_ERROR));
		EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
		EXPECT_EQ(AVF_STOP_MICRODROID_PAYLOAD_VERIFICATION_FAILED, last(&self->r)->code);
	}
	unlink(state);
}

/* --payload, --cmdline and --debug are part of the identity: a run that changes one is refused. */
TEST_F(vm, identity_covers_payload_cmdline_and_debug)
{
	static const char *const changed[][5] = {
		{ "--cmdline", "avf.extra=1", NULL },
		{ "--debug", "full", NULL },
	};
	uint8_t state[AVF_INSTANCE_STATE_SIZE];
	struct run_fds fds = NO_FDS;
	char pkg[600];
	unsigned int round;
	int k, i, p, ret;

	snprintf(pkg, sizeof(pkg), "%s/hello.zip", pkg_dir);
	k = open(kernel_path, O_RDONLY | O_CLOEXEC);
	i = open(initrd_path, O_RDONLY | O_CLOEXEC);
	p = open(pkg, O_RDONLY | O_CLOEXEC);
	/* Sealed for "other.so", no extra command line, debug none. */
	ret = seal_fds(self->dev, k, i, p, "other.so", NULL, AVF_DEBUG_NONE, state);
	close(k);
	close(i);
	close(p);
	ASSERT_EQ(0, ret);
	for (round = 0; round < 3; round++) {
		fds.instance = state_memfd(state);
		ASSERT_LE(0, fds.instance);
		memset(self->r.ev, 0, sizeof(self->r.ev));
		self->r.nev = 0;
		/* round 0: payload hello.so instead of other.so; 1, 2: plus a change */
		run_to_stop_fds(_metadata, &self->r, "hello", round ? changed[round - 1] : NULL,
				&fds);
		close(fds.instance);
		check_frame(_metadata, &self->r);
		EXPECT_EQ(-1, find(&self->r, AVF_EVENT_PAYLOAD_STARTED));
		EXPECT_EQ(AVF_STOP_MICRODROID_PAYLOAD_HAS_CHANGED, last(&self->r)->code);
	}
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
	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "hello", NULL);
	b->pid = spawn_vmm(self->dev, b->vm_fd, "exit-code", NULL);
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

/*
 * The seccomp state of thread @tid of @pid: its name and how many filters
 * it runs under (Seccomp_filters), or -1 when not in filter mode.
 */
static int task_filters(pid_t pid, const char *tid, char *name, size_t cap)
{
	char path[320], line[256];
	int mode = -1, n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	name[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:\t", 6))
			snprintf(name, cap, "%.*s", (int)strcspn(line + 6, "\n"), line + 6);
		sscanf(line, "Seccomp: %d", &mode);
		sscanf(line, "Seccomp_filters: %d", &n);
	}
	fclose(f);
	return mode == 2 ? n : -1;
}

/*
 * A running avf-vmm: each of its threads (main, vcpu0, vcpu1, devices) runs
 * under two seccomp filters, the process-wide base filter and its role's
 * (Documentation/vmm.rst, "seccomp"), and the VM still does its work. The
 * batch payload keeps the VM up after STARTED. KVM's own workers in the
 * thread group (kvm-nx-lpage-recovery) never return to user space: not
 * counted.
 */
TEST_F(vm, threads_run_under_their_filters)
{
	static const char *const extra[] = {
		"--cpus", "2", "--cmdline", "avf_batch.seconds=10", NULL,
	};
	char path[64], name[32];
	unsigned int tries, threads = 0, confined = 0;
	struct dirent *d;
	int ret, i;
	DIR *dp;

	self->r.pid = spawn_vmm(self->dev, self->r.vm_fd, "batch", extra);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)self->r.pid);
	/* main stacks its role right after starting the others: a bounded wait */
	for (tries = 0; tries < 100; tries++) {
		dp = opendir(path);
		ASSERT_NE(NULL, dp);
		threads = confined = 0;
		while ((d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			ret = task_filters(self->r.pid, d->d_name, name, sizeof(name));
			if (strcmp(name, "avf-vmm") && strcmp(name, "vcpu0") &&
			    strcmp(name, "vcpu1") && strcmp(name, "devices"))
				continue;
			threads++;
			confined += ret == 2;
			if (tries == 99 && ret != 2)
				TH_LOG("thread %s (%s): %d filters", d->d_name, name, ret);
		}
		closedir(dp);
		if (threads == 4 && confined == 4)
			break;
		usleep(100000);
	}
	EXPECT_EQ(4U, threads);
	EXPECT_EQ(4U, confined);

	ret = collect(&self->r, VM_TIMEOUT_MS, -1);
	ASSERT_EQ(0, reap(&self->r, 10000));
	if (ret)
		dump(_metadata, &self->r);
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(WIFEXITED(self->r.status));
	EXPECT_EQ(0, WEXITSTATUS(self->r.status));
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(42, self->r.ev[i].code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

TEST_F(vm, console_capture_only_with_debug_full)
{
	char path_full[] = "/tmp/vmtest-console-XXXXXX";
	char path_none[] = "/tmp/vmtest-console-none-XXXXXX";
	char path_log[] = "/tmp/vmtest-log-XXXXXX";
	static const char *const extra_full[] = { "--debug", "full", NULL };
	struct run_fds fds = NO_FDS;
	char buf[8192];
	ssize_t n;
	int fd, log_fd;

	fd = mkstemp(path_full);
	ASSERT_LE(0, fd);
	log_fd = mkstemp(path_log);
	ASSERT_LE(0, log_fd);
	/* The VMM writes through descriptors of its own (a pipe would do too). */
	fds.console = open(path_full, O_WRONLY | O_APPEND | O_CLOEXEC);
	fds.log = open(path_log, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fds.console);
	ASSERT_LE(0, fds.log);
	run_to_stop_fds(_metadata, &self->r, "hello", extra_full, &fds);
	close(fds.console);
	close(fds.log);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path_full);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "avf-runtime"));
	/* The payload's stdout arrives on hvc1, in the log file. */
	n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	close(log_fd);
	unlink(path_log);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "hello from the avf payload"));

	/* Without --debug full the console fd is not written. */
	fd = mkstemp(path_none);
	ASSERT_LE(0, fd);
	fds = (struct run_fds)NO_FDS;
	fds.console = open(path_none, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fds.console);
	memset(&self->r.ev, 0, sizeof(self->r.ev));
	self->r.nev = 0;
	run_to_stop_fds(_metadata, &self->r, "hello", NULL, &fds);
	close(fds.console);
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 0));
	close(fd);
	unlink(path_none);
}

/* RssAnon of @pid in KiB (guest RAM is a shared memfd: not counted), or -1. */
static long rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * The payload log applies backpressure: flood.so writes 16 MiB (100 MiB
 * with AVF_FLOOD_MIB=100, make soak) while
 * nobody reads the log pipe for a while; the payload cannot finish then
 * (the guest's writes wait in its virtio-console driver), the VMM's
 * anonymous memory stays flat, and once the test drains the pipe every
 * byte arrives, in order, and FINISHED(0) follows.
 */
TEST_F(vm, payload_log_backpressure_loses_nothing)
{
	/*
	 * AVF_FLOOD_MIB (default 16): the log moves about 0.3 MiB/s in the
	 * loaded nested-TCG test host, so make check uses 16 MiB and make
	 * soak the full 100 MiB.
	 */
	const char *mib = getenv("AVF_FLOOD_MIB") ? getenv("AVF_FLOOD_MIB") : "16";
	const uint64_t FLOOD_BYTES = strtoull(mib, NULL, 10) << 20;
	char cmdline[64];
	const char *const extra[] = { "--debug", "full", "--cmdline", cmdline, NULL };
	struct run_fds fds = NO_FDS;
	static char buf[256 * 1024], cycle[4096 + 26];
	uint64_t got = 0, bad = 0;
	long rss0, rss, rss_max;
	int p[2], i, ret;
	ssize_t n;

	snprintf(cmdline, sizeof(cmdline), "avf_flood.mib=%s", mib);
	for (i = 0; i < (int)sizeof(cycle); i++)
		cycle[i] = (char)('A' + i % 26);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds.log = p[1];
	self->r.pid = spawn_vmm_fds(self->dev, self->r.vm_fd, "flood", extra, &fds);
	close(p[1]);
	ASSERT_LT(0, self->r.pid);
	ASSERT_EQ(1, collect(&self->r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED));
	/* Nobody reads for a while (not a timing assertion: any wait works). */
	sleep(10);
	rss0 = rss_anon_kb(self->r.pid);
	ASSERT_LT(0, rss0);
	rss_max = rss0;
	/* 100 MiB cannot fit in a pipe and the VMM's ring: not finished. */
	ASSERT_EQ(-ETIMEDOUT, collect(&self->r, 1000, AVF_EVENT_PAYLOAD_FINISHED));
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		ASSERT_LT(0, n);
		for (i = 0; i < n;) {	/* byte q is 'A' + (q + (q >> 12)) % 26 */
			uint64_t q = got + (uint64_t)i, b = q >> 12;
			size_t o = (size_t)(q & 4095), m = 4096 - o;

			if (m > (size_t)(n - i))
				m = (size_t)(n - i);
			bad += !!memcmp(buf + i, cycle + (b * 4097) % 26 + o, m);
			i += (int)m;
		}
		if ((got >> 23) != ((got + (uint64_t)n) >> 23)) {	/* every 8 MiB */
			rss = rss_anon_kb(self->r.pid);
			if (rss > rss_max)
				rss_max = rss;
		}
		got += (uint64_t)n;
	}
	close(p[0]);
	ret = collect(&self->r, VM_TIMEOUT_MS, -1);
	ASSERT_EQ(0, reap(&self->r, 10000));
	if (ret)
		dump(_metadata, &self->r);
	ASSERT_EQ(0, ret);
	TH_LOG("log: %llu bytes, %llu wrong pieces; VMM RssAnon %ld kB before draining, max %ld kB",
	       (unsigned long long)got, (unsigned long long)bad, rss0, rss_max);
	EXPECT_EQ((uint64_t)FLOOD_BYTES, got);
	EXPECT_EQ(0U, bad);
	/* Flat: at most 1% of what went through (512 KiB floor for page noise). */
	EXPECT_LE(rss_max - rss0, (long)(FLOOD_BYTES / 1024 / 100) + 512);
	i = find(&self->r, AVF_EVENT_PAYLOAD_FINISHED);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, self->r.ev[i].code);
	EXPECT_EQ(AVF_STOP_SHUTDOWN, last(&self->r)->code);
}

/* ---- soak (RELIABILITY.md 23) ---- */

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Module references: open /dev/avf files and VM fds pin avf.ko. */
static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/avf/refcnt", "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * MemAvailable after dropping clean page cache (as root; otherwise as is):
 * the images each run reads stay cached and only part of the page cache
 * counts as available, which moved the figure by ~20 MiB between cycles
 * without any leak.
 */
static long mem_available_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			kb = -1;	/* not root: measure with the cache */
		close(fd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#define SOAK_VMS	3
enum soak_kind { SOAK_RUN, SOAK_KILL9, SOAK_STOP_MIDBOOT, SOAK_SIGTERM, SOAK_KINDS };

/* A soak VM that did not end as it should: its events and its console (early console included). */
static void soak_explain(struct __test_metadata *_metadata, const struct run *r, const char *con)
{
	static char buf[4096];

	dump(_metadata, r);
	slurp(con, buf, sizeof(buf));
	TH_LOG("console (%s):\n%s", con, buf);
}

/* collect() until @type; a VM that ends first says why. */
static int soak_reach(struct __test_metadata *_metadata, struct run *r, const char *con,
		      int type)
{
	int ret = collect(r, VM_TIMEOUT_MS, type);

	if (ret != 1)
		soak_explain(_metadata, r, con);
	return ret;
}

/*
 * One cycle: SOAK_VMS instances created, run at once, each ended its own
 * way (to completion, kill -9 of avf-vmm, AVF_VM_STOP right after the
 * bind, SIGTERM), then deleted. Every VM must report its stop reason, no
 * CID stays assigned, every avf-vmm is reaped.
 */
static void soak_cycle(struct __test_metadata *_metadata, int dev, unsigned int cycle)
{
	static const int32_t want[SOAK_KINDS] = {
		AVF_STOP_SHUTDOWN, AVF_STOP_CRASH, AVF_STOP_KILLED, AVF_STOP_KILLED,
	};
	static struct run r[SOAK_VMS];
	static const char *const dbg[] = { "--debug", "full", NULL };
	static char con[SOAK_VMS][64];
	struct run_fds fds = NO_FDS;
	struct avf_vm_info info;
	char name[AVF_NAME_MAX];
	unsigned int v;

	for (v = 0; v < SOAK_VMS; v++) {
		enum soak_kind k = (cycle + v) % SOAK_KINDS;

		memset(&r[v], 0, sizeof(r[v]));
		r[v].dev = dev;
		snprintf(name, sizeof(name), "soak-%d-%u-%u", getpid(), cycle, v);
		r[v].vm_fd = open_instance(dev, name);
		ASSERT_LE(0, r[v].vm_fd);
		/* debuggable, the console in a file: a VM that ends early shows why */
		snprintf(con[v], sizeof(con[v]), "/tmp/vmtest-soak-%d-%u.console", getpid(), v);
		fds.console = open(con[v], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ASSERT_LE(0, fds.console);
		r[v].pid = spawn_vmm_fds(dev, r[v].vm_fd, k == SOAK_RUN ? "hello" : "never-ready",
					 dbg, &fds);
		close(fds.console);
		ASSERT_LT(0, r[v].pid);
	}
	for (v = 0; v < SOAK_VMS; v++) {
		enum soak_kind k = (cycle + v) % SOAK_KINDS;

		switch (k) {
		case SOAK_RUN:
			break;
		case SOAK_STOP_MIDBOOT:
			ASSERT_EQ(1, soak_reach(_metadata, &r[v], con[v], AVF_EVENT_RUNNING));
			ASSERT_EQ(0, ioctl(r[v].vm_fd, AVF_VM_STOP, 0));
			break;
		case SOAK_KILL9:
		case SOAK_SIGTERM:
			ASSERT_EQ(1, soak_reach(_metadata, &r[v], con[v],
						AVF_EVENT_PAYLOAD_STARTED));
			kill(r[v].pid, k == SOAK_KILL9 ? SIGKILL : SIGTERM);
			break;
		case SOAK_KINDS:
			break;
		}
	}
	for (v = 0; v < SOAK_VMS; v++) {
		enum soak_kind k = (cycle + v) % SOAK_KINDS;

		ASSERT_EQ(0, collect(&r[v], VM_TIMEOUT_MS, -1));
		ASSERT_EQ(0, reap(&r[v], 20000));
		if (last(&r[v])->code != want[k])
			soak_explain(_metadata, &r[v], con[v]);
		EXPECT_EQ(want[k], last(&r[v])->code);
		ASSERT_EQ(0, ioctl(r[v].vm_fd, AVF_VM_GET_INFO, &info));
		EXPECT_EQ(AVF_STATUS_STOPPED, info.status);
		EXPECT_EQ(0U, info.cid);	/* the CID went back at unbind */
		EXPECT_EQ(0U, info.vmm_pid);
		EXPECT_EQ(0, ioctl(r[v].vm_fd, AVF_VM_DELETE, 0));
		close(r[v].vm_fd);
		unlink(con[v]);
	}
}

/*
 * Soak: AVF_SOAK_CYCLES (default 2) cycles of SOAK_VMS VMs at once after a
 * warm-up cycle; then the test's open fds and the module's reference count
 * are back to their baseline exactly, and MemAvailable (clean page cache
 * dropped) within 32 MiB of it: three runs of 2 x 3 VMs in the test host
 * moved it by -15..+3 MiB without a leak (once by -34.5 MiB, in a CI run
 * under load, so the figure gets up to 10 s to settle before it counts);
 * one leaked guest is 256 MiB and
 * one leaked set of sealed image copies ~22 MiB, so a leak of 6 MiB per run
 * over the 6 runs still fails. `make soak`
 * runs it with more cycles.
 */
TEST(soak_cycles_return_to_baseline)
{
	const char *env = getenv("AVF_SOAK_CYCLES");
	unsigned int cycles = env ? (unsigned int)strtoul(env, NULL, 10) : 2, c;
	long ref0, ref1, mem0, mem1;
	int dev, fds0, fds1;

	init_paths();
	if (access(vmm_path, X_OK) || access(kernel_path, R_OK) || access(initrd_path, R_OK) ||
	    access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no avf-vmm, guest images or /dev/kvm");
	dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		SKIP(return, "/dev/avf: %s", strerror(errno));
	soak_cycle(_metadata, dev, 0);	/* warm-up: caches, lazily made objects */
	fds0 = count_open_fds();
	ref0 = module_refcnt();
	mem0 = mem_available_kb();
	for (c = 1; c <= cycles; c++)
		soak_cycle(_metadata, dev, c);
	fds1 = count_open_fds();
	ref1 = module_refcnt();
	/*
	 * Memory freed after the fact (RCU, deferred vfree, the VMMs' pages
	 * going back on reap) is given up to 10 s to come back; a leak does
	 * not come back however long one waits.
	 */
	for (c = 0; c < 10; c++) {
		mem1 = mem_available_kb();
		if (mem1 >= mem0 - 32 * 1024)
			break;
		sleep(1);
	}
	TH_LOG("soak: %u cycles x %d VMs: fds %d -> %d, avf refcnt %ld -> %ld, "
	       "MemAvailable %ld -> %ld kB", cycles, SOAK_VMS, fds0, fds1, ref0, ref1, mem0, mem1);
	EXPECT_EQ(fds0, fds1);
	EXPECT_LE(0, ref0);
	EXPECT_EQ(ref0, ref1);
	EXPECT_GE(mem1, mem0 - 32 * 1024);
	close(dev);
}

/* Refused command lines exit 64 before anything else (bound mode, fds only). */
TEST(usage_errors)
{
	static const char *const cases[][4] = {
		{ "--protected", NULL },
		{ "--mem", "0", NULL },
		{ "--cpus", "0", NULL },
		{ "--debug", "some", NULL },
		{ "--kernel", "/etc/passwd", NULL },	/* paths only with --standalone */
		{ "--vsock-uds", "/tmp/x", NULL },
		{ "--standalone", NULL },		/* not in the set-uid VMM; not with --vm-fd */
		{ "--storage-fd", "2", NULL },
		{ "--log-fd", "10", NULL },		/* the same fd as --vm-fd */
		{ "--profile-fd", "15", NULL },		/* guest registers: --standalone only */
	};
	unsigned int i;

	init_paths();
	if (access(vmm_path, X_OK))
		SKIP(return, "no %s", vmm_path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[20] = { vmm_path, "--vm-fd", "10", "--kernel-fd", "11",
					 "--initrd-fd", "12", "--package-fd", "13",
					 "--instance-fd", "14", "--payload", "x.so" };
		unsigned int n = 13, j;
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
		if (WEXITSTATUS(status) != 64)
			TH_LOG("case %u exited %d", i, WEXITSTATUS(status));
		EXPECT_EQ(64, WEXITSTATUS(status));
	}
}

/* Every given fd is checked: a wrong kind exits 64 with a message naming the option. */
TEST(wrong_fd_kinds_refused)
{
	char err[] = "/tmp/vmtest-fdkind-XXXXXX", buf[1024];
	int efd, p[2], status;
	ssize_t n;
	pid_t pid;

	init_paths();
	if (access(vmm_path, X_OK))
		SKIP(return, "no %s", vmm_path);
	efd = mkstemp(err);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	if (pid == 0) {
		char vmfd[16], pfd[16];
		/* A regular file as the VM fd, a pipe as the kernel. */
		int f = open(vmm_path, O_RDONLY);
		const char *argv[] = { vmm_path, "--vm-fd", vmfd, "--kernel-fd", pfd,
				       "--initrd-fd", "200", "--package-fd", "201",
				       "--instance-fd", "202", "--payload", "x.so", NULL };

		snprintf(vmfd, sizeof(vmfd), "%d", f);
		snprintf(pfd, sizeof(pfd), "%d", p[0]);
		dup2(efd, 2);
		execv(vmm_path, (char *const *)argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(64, WEXITSTATUS(status));
	n = pread(efd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	EXPECT_NE(NULL, strstr(buf, "--vm-fd"));
	EXPECT_NE(NULL, strstr(buf, "not an avf VM fd"));
	close(efd);
	close(p[0]);
	close(p[1]);
	unlink(err);
}

/*
 * The hostile guest (hostile_guest.S) abuses the transport and queues and
 * the ACPI PM ports; the VMM must flag each device NEEDS_RESET, keep serving the others, recover
 * a device after reset and report the final triple fault as REBOOT.
 * Standalone mode (the non-set-uid $AVF_VMM_DEV): needs /dev/kvm only.
 */
TEST(hostile_guest)
{
	char guest[600], console[] = "/tmp/vmtest-hostile-XXXXXX", pkg[] = "/tmp/vmtest-pkg-XXXXXX";
	char errlog[] = "/tmp/vmtest-hostile-err-XXXXXX";
	static const char *const want[] = {
		"mmio-sweep: ok", "blk-loop-needs-reset: ok", "vsock-avail-jump-needs-reset: ok",
		"console-oob-needs-reset: ok", "blk-read-after-reset: ok", "acpi-pm-ports: ok",
		"triple-fault",
	};
	char buf[4096];
	int cfd, pfd, efd, status;
	unsigned int i;
	ssize_t n;
	pid_t pid;

	init_paths();
	snprintf(guest, sizeof(guest), "%s/build/user/tests/vm/hostile_guest.elf", AVF_TREE_TOP);
	if (access(dev_vmm_path, X_OK))
		SKIP(return, "missing %s", dev_vmm_path);
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
			dev_vmm_path, "--standalone", "--kernel", guest, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--debug", "full", "--console", console,
			"--hangup-timeout", "60", NULL,
		};
		dup2(efd, 2);
		execv(dev_vmm_path, (char *const *)argv);
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

/*
 * Run a bare guest image standalone; returns the wait status, fills @ru and
 * @err. @verbose: with --verbose.
 */
static int run_bare_v(const char *image, const char *pkg, int console_fd, bool verbose,
		      struct rusage *ru, char *err, size_t errcap)
{
	char console[32], errlog[] = "/tmp/vmtest-bare-err-XXXXXX";
	int efd = mkstemp(errlog), status = -1;
	ssize_t n;
	pid_t pid;

	if (efd < 0)
		return -1;
	snprintf(console, sizeof(console), "%d", console_fd);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			dev_vmm_path, "--standalone", "--kernel", image, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--debug", "full", "--console-fd", console,
			"--hangup-timeout", "0", verbose ? "--verbose" : NULL, NULL,
		};
		fcntl(console_fd, F_SETFD, 0);
		dup2(efd, 2);
		execv(dev_vmm_path, (char *const *)argv);
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

static int run_bare(const char *image, const char *pkg, int console_fd, struct rusage *ru,
		    char *err, size_t errcap)
{
	return run_bare_v(image, pkg, console_fd, false, ru, err, errcap);
}

/*
 * The guest is offered the TSC-deadline timer where KVM emulates it and the
 * host is not emulated (QEMU TCG's "TCGTCGTCGTCG" hypervisor leaf): on the
 * test host, where that timer stalls guests, the bit is clear; elsewhere
 * (bare metal, nested on hardware) set, sparing the guest its LAPIC
 * calibration (Documentation/vmm.rst, "Memory map"). The expectation is
 * worked out here from this CPU's CPUID and /dev/kvm, not from avf-vmm.
 */
TEST(tsc_deadline_bit_follows_the_host)
{
	char base[600], pkg[] = "/tmp/vmtest-tscdl-pkg-XXXXXX", err[16384], want[64];
	unsigned int a, b, c, d;
	char sig[13] = "";
	struct rusage ru;
	int p[2], pfd, kvm, st;
	bool emulated, kvm_has;

	init_paths();
	snprintf(base, sizeof(base), "%s/build/user/tests/vm/hostile_guest.elf", AVF_TREE_TOP);
	if (access(dev_vmm_path, X_OK) || access(base, R_OK))
		SKIP(return, "missing %s or %.400s", dev_vmm_path, base);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		SKIP(return, "no usable /dev/kvm");
	kvm_has = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	close(kvm);
	__cpuid(1, a, b, c, d);
	emulated = false;
	if (c & (1U << 31)) {
		__cpuid(0x40000000, a, b, c, d);
		memcpy(sig, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		emulated = !strcmp(sig, "TCGTCGTCGTCG");
	}
	snprintf(want, sizeof(want), "tsc-deadline %s:", kvm_has && !emulated ? "on" : "off");
	TH_LOG("host hypervisor leaf \"%s\", KVM %s: expect \"%s\"", sig,
	       kvm_has ? "emulates the timer" : "without it", want);

	pfd = mkstemp(pkg);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(12, pwrite(pfd, "AVF-HOSTILE", 12, 0));
	ASSERT_EQ(0, ftruncate(pfd, 4096));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC | O_NONBLOCK));
	st = run_bare_v(base, pkg, p[1], true, &ru, err, sizeof(err));
	close(p[0]);
	close(p[1]);
	close(pfd);
	unlink(pkg);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("avf-vmm:\n%s", err);
	EXPECT_NE(NULL, strstr(err, "cpuid 1: ")) TH_LOG("avf-vmm:\n%s", err);
	EXPECT_NE(NULL, strstr(err, want)) TH_LOG("avf-vmm:\n%s", err);
}

/*
 * --profile (standalone): a hello boot leaves one "vcpu0 0xRIP US" line per
 * sample, in time order, most of them in the guest kernel's text (x86-64: the top 2 GiB),
 * as tools/guest-profile.sh expects; a bound VMM refuses the option
 * (test_cli). The count depends on time: only "some" is asserted.
 */
TEST(profile_samples_the_guest_kernel)
{
	char prof[] = "/tmp/vmtest-profile-XXXXXX", errlog[] = "/tmp/vmtest-profile-err-XXXXXX";
	char pkg[600], line[128], err[4096];
	unsigned int total = 0, kernel = 0, bad = 0;
	unsigned long long last_us = 0;
	int pfd, efd, status;
	ssize_t n;
	FILE *f;
	pid_t pid;

	init_paths();
	snprintf(pkg, sizeof(pkg), "%s/hello.zip", pkg_dir);
	if (access(dev_vmm_path, X_OK) || access(kernel_path, R_OK) || access(pkg, R_OK))
		SKIP(return, "missing avf-vmm, guest kernel or hello.zip");
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	pfd = mkstemp(prof);
	efd = mkstemp(errlog);
	ASSERT_LE(0, pfd);
	ASSERT_LE(0, efd);
	/* a profile that cannot be created: exit 64, the message names the option and path */
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			dev_vmm_path, "--standalone", "--kernel", kernel_path, "--initrd",
			initrd_path, "--package", pkg, "--payload", "hello.so", "--profile",
			"/nonexistent/dir/profile", NULL,
		};
		dup2(efd, 2);
		execv(dev_vmm_path, (char *const *)argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 64);
	n = pread(efd, err, sizeof(err) - 1, 0);
	err[n > 0 ? n : 0] = 0;
	EXPECT_NE(NULL, strstr(err, "--profile /nonexistent/dir/profile: No such file"))
		TH_LOG("avf-vmm:\n%s", err);
	ASSERT_EQ(0, ftruncate(efd, 0));
	ASSERT_EQ(0, lseek(efd, 0, SEEK_SET));	/* the child shares the offset */
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {
			dev_vmm_path, "--standalone", "--kernel", kernel_path, "--initrd",
			initrd_path, "--package", pkg, "--payload", "hello.so", "--profile", prof,
			"--verbose", NULL,
		};
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(efd, 2);
		execv(dev_vmm_path, (char *const *)argv);
		_exit(127);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	n = pread(efd, err, sizeof(err) - 1, 0);
	err[n > 0 ? n : 0] = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("avf-vmm:\n%s", err);
	EXPECT_NE(NULL, strstr(err, "event FINISHED")) TH_LOG("avf-vmm:\n%s", err);
	f = fdopen(pfd, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long rip, us;
		unsigned int cpu;
		char nl;

		total++;
		if (sscanf(line, "vcpu%u %llx %llu%c", &cpu, &rip, &us, &nl) != 4 || cpu != 0 ||
		    nl != '\n' || us > last_us + 600000000ULL) {
			bad++;
			continue;
		}
		/* in time order, microseconds after the vCPU started */
		if (us < last_us)
			bad++;
		last_us = us;
		if (rip >= 0xffffffff80000000ULL)
			kernel++;
	}
	fclose(f);
	/* tools/guest-profile.sh reads the same lines: it names the total */
	if (access(kernel_path, R_OK) == 0) {
		char cmd[2048], want[64], out[512] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "'%s/tools/guest-profile.sh' '%s' '%s' 5 2>&1",
			 AVF_TREE_TOP, prof, kernel_path);
		p = popen(cmd, "r");
		ASSERT_NE(NULL, p);
		if (!fgets(out, sizeof(out), p))
			out[0] = 0;
		while (fgets(line, sizeof(line), p))
			;	/* the table; read to the end, not to SIGPIPE the script */
		EXPECT_EQ(0, pclose(p)) TH_LOG("%s: %s", cmd, out);
		snprintf(want, sizeof(want), "%u samples of ", total);
		EXPECT_EQ(0, strncmp(out, want, strlen(want))) TH_LOG("guest-profile: %s", out);
	}
	close(efd);
	unlink(prof);
	unlink(errlog);
	TH_LOG("%u samples, %u in the guest kernel", total, kernel);
	EXPECT_EQ(0, bad);
	EXPECT_LE(10, total);
	/* a boot is the kernel's: user space (runtime, payload) is a few per cent */
	EXPECT_LE(total / 2, kernel);
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
	if (access(dev_vmm_path, X_OK))
		SKIP(return, "missing %s", dev_vmm_path);
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
 * Issue 12: the kernel console may drop rather than stall the guest, but the
 * owner then learns how much. The flood guest (100 MiB to hvc0, 128 KiB to
 * the UART) runs through the module as the trusted VMM with --debug full and
 * a console pipe nobody reads; afterwards the owner's VM info counts the
 * dropped bytes: with what the pipe still holds they cover the flood, and
 * the count is no larger than what the guest wrote.
 */
TEST_F(vm, console_drops_reach_vm_info)
{
	char flood[600];
	static const char *const extra[] = { "--debug", "full", "--hangup-timeout", "0", NULL };
	struct run_fds fds = NO_FDS;
	struct avf_vm_info info;
	uint64_t held = 0;
	char buf[65536];
	int p[2];

	snprintf(flood, sizeof(flood), "%s/build/user/tests/vm/flood_guest.elf", AVF_TREE_TOP);
	if (access(flood, R_OK))
		SKIP(return, "missing %.400s", flood);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds.kernel = open(flood, O_RDONLY | O_CLOEXEC);
	fds.initrd = open(flood, O_RDONLY | O_CLOEXEC);
	fds.package = open(flood, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fds.kernel);
	ASSERT_LE(0, fds.initrd);
	ASSERT_LE(0, fds.package);
	fds.console = p[1];
	self->r.pid = spawn_vmm_fds(self->dev, self->r.vm_fd, "flood", extra, &fds);
	ASSERT_LT(0, self->r.pid);
	close(p[1]);
	ASSERT_EQ(0, collect(&self->r, VM_TIMEOUT_MS, -1)) dump(_metadata, &self->r);
	ASSERT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(AVF_EVENT_STOPPED, last(&self->r)->type);
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_GET_INFO, &info));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(p[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		held += (uint64_t)n;
	}
	close(p[0]);
	close(fds.kernel);
	close(fds.initrd);
	close(fds.package);
	TH_LOG("console: %llu bytes dropped, %llu held in the pipe",
	       (unsigned long long)info.console_dropped, (unsigned long long)held);
	EXPECT_LE(100ULL << 20, info.console_dropped + held);
	EXPECT_GE((100ULL << 20) + (128ULL << 10), info.console_dropped + held);
	EXPECT_LT((100ULL << 20) - (1ULL << 20), info.console_dropped);
	EXPECT_EQ(0, info.vsock_refused);
}

/* Stream @total bytes through the echo guest on @c and compare; returns 0 when equal. */
static int echo_pump(struct __test_metadata *_metadata, int c, size_t total)
{
	size_t sent = 0, got = 0;
	uint8_t *out, *in;
	long t0;
	int ret;

	out = malloc(total);
	in = malloc(total);
	if (!out || !in)
		return -ENOMEM;
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
	ret = got == total && !memcmp(out, in, total) ? 0 : -EIO;
	free(out);
	free(in);
	return ret;
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
	size_t n_line = 0;
	int pfd, c = -1, status, i;
	pid_t pid;

	init_paths();
	snprintf(guest, sizeof(guest), "%s/build/user/tests/vm/vsock_echo_guest.elf",
		 AVF_TREE_TOP);
	if (access(dev_vmm_path, X_OK))
		SKIP(return, "missing %s", dev_vmm_path);
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
			dev_vmm_path, "--standalone", "--kernel", guest, "--initrd", pkg, "--package",
			pkg, "--payload", "x.so", "--hangup-timeout", "0", "--vsock-uds", sock,
			"--debug", "full", "--console", console, NULL,
		};
		/* an assertion that ends the test ends this VMM too */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(dev_vmm_path, (char *const *)argv);
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
	{
		/* bounded: a guest that never answers fails the test, not the tier */
		struct timeval tv = { .tv_sec = 60 };

		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	}
	ASSERT_EQ(13, write(c, "CONNECT 5000\n", 13));
	while (n_line < sizeof(line) - 1) {
		ASSERT_EQ(1, read(c, &line[n_line], 1));
		if (line[n_line++] == '\n')
			break;
	}
	line[n_line] = 0;
	ASSERT_EQ(0, strncmp(line, "OK ", 3));

	ASSERT_EQ(0, echo_pump(_metadata, c, total));
	close(c);
	usleep(200000);
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(pfd);
	close(cfd);
	unlink(pkg);
	unlink(console);
	unlink(sock);
}

/*
 * connectVsock end to end through the module: the bare echo guest runs
 * bound (sealed like any instance); the owner's AVF_VM_CONNECT_VSOCK
 * returns a connected socket that the VMM relays (AVF_VMM_CONN_TAKE with
 * the module's fd as the host side, AVF_VMM_CONN_DONE(0) on RESPONSE).
 */
TEST_F(vm, vsock_connect_brokered_echo_1mib)
{
	char guest[600], pkg[] = "/tmp/vmtest-becho-pkg-XXXXXX", con[256];
	char console[] = "/tmp/vmtest-becho-con-XXXXXX";
	static const char *const extra[] = { "--debug", "full", "--hangup-timeout", "0", NULL };
	struct avf_vsock_connect req = { .port = 5000, .timeout_ms = 30000 };
	struct run_fds fds = NO_FDS;
	int pfd, cfd, c, i;

	snprintf(guest, sizeof(guest), "%s/build/user/tests/vm/vsock_echo_guest.elf",
		 AVF_TREE_TOP);
	if (access(guest, R_OK))
		SKIP(return, "missing %.400s", guest);
	pfd = mkstemp(pkg);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, ftruncate(pfd, 4096));
	cfd = mkstemp(console);
	ASSERT_LE(0, cfd);
	fds.kernel = open(guest, O_RDONLY | O_CLOEXEC);
	fds.initrd = open(pkg, O_RDONLY | O_CLOEXEC);
	fds.package = open(pkg, O_RDONLY | O_CLOEXEC);
	fds.console = open(console, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fds.kernel);
	ASSERT_LE(0, fds.initrd);
	ASSERT_LE(0, fds.package);
	ASSERT_LE(0, fds.console);
	self->r.pid = spawn_vmm_fds(self->dev, self->r.vm_fd, "x", extra, &fds);
	ASSERT_LT(0, self->r.pid);
	close(fds.kernel);
	close(fds.initrd);
	close(fds.package);
	close(fds.console);
	/* Connect once the guest driver is up: a device reset drops connections. */
	for (i = 0; i < 1200; i++) {
		ssize_t n = pread(cfd, con, sizeof(con) - 1, 0);

		con[n > 0 ? n : 0] = 0;
		if (strstr(con, "echo: ready"))
			break;
		usleep(100000);
	}
	ASSERT_NE(NULL, strstr(con, "echo: ready"));
	c = ioctl(self->r.vm_fd, AVF_VM_CONNECT_VSOCK, &req);
	if (c < 0)
		TH_LOG("AVF_VM_CONNECT_VSOCK: %s", strerror(errno));
	ASSERT_LE(0, c);
	ASSERT_EQ(0, echo_pump(_metadata, c, 1 << 20));
	close(c);
	ASSERT_EQ(0, ioctl(self->r.vm_fd, AVF_VM_STOP, 0));
	ASSERT_EQ(0, collect(&self->r, 20000, -1));
	ASSERT_EQ(0, reap(&self->r, 10000));
	EXPECT_EQ(AVF_STOP_KILLED, last(&self->r)->code);
	close(pfd);
	close(cfd);
	unlink(pkg);
	unlink(console);
}

/* ---- attacks by an ordinary owner (Documentation/vmm.rst, trust) ------ */

#define OWNER_UID	1000

/* An ordinary user allowed to run VMs: in group avf (udev/60-avf.rules) if there is one. */
static int become_owner(void)
{
	struct group *g = getgrnam("avf");
	gid_t avf_gid = g ? g->gr_gid : 0;

	if (setgroups(g ? 1 : 0, &avf_gid) || setresgid(OWNER_UID, OWNER_UID, OWNER_UID) ||
	    setresuid(OWNER_UID, OWNER_UID, OWNER_UID))
		return -errno;
	return 0;
}

/* Copy @src to @dst (a mkstemp template) with @mode; returns 0 or -errno. */
static int copy_file(const char *src, char *dst, mode_t mode)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = mkstemp(dst), ret = 0;
	ssize_t n;

	if (in < 0 || out < 0)
		ret = -errno;
	while (!ret && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			ret = -EIO;
	if (!ret && fchmod(out, mode))
		ret = -errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static bool is_setuid(const char *path)
{
	struct stat st;

	return !stat(path, &st) && (st.st_mode & S_ISUID) && st.st_uid != 0;
}

struct attack {
	char name[AVF_NAME_MAX];
	char err[32];		/* the VMM's stderr, readable by root afterwards */
	int err_fd;
	int kernel, initrd, package;	/* opened by root, inherited by the owner */
};

static int attack_setup(struct __test_metadata *_metadata, struct attack *a, const char *package)
{
	char pkg[600];

	init_paths();
	if (getuid() != 0)
		return -EPERM;
	if (access("/dev/avf", R_OK | W_OK) || access("/dev/kvm", R_OK | W_OK))
		return -ENODEV;
	snprintf(a->name, sizeof(a->name), "vmtest-attack-%d", getpid());
	strcpy(a->err, "/tmp/vmtest-attack-err-XXXXXX");
	a->err_fd = mkstemp(a->err);
	if (a->err_fd < 0 || fchown(a->err_fd, OWNER_UID, OWNER_UID))
		return -errno;
	snprintf(pkg, sizeof(pkg), "%s/%s.zip", pkg_dir, package);
	a->kernel = open(kernel_path, O_RDONLY | O_CLOEXEC);
	a->initrd = open(initrd_path, O_RDONLY | O_CLOEXEC);
	a->package = open(pkg, O_RDONLY | O_CLOEXEC);
	if (a->kernel < 0 || a->initrd < 0 || a->package < 0)
		return -ENOENT;
	return 0;
}

static void attack_log(struct __test_metadata *_metadata, struct attack *a)
{
	char buf[2048];
	ssize_t n = pread(a->err_fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	TH_LOG("avf-vmm said: %s", buf);
}

static bool attack_said(struct attack *a, const char *what)
{
	char buf[4096];
	ssize_t n = pread(a->err_fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, what) != NULL;
}

static void attack_cleanup(struct attack *a)
{
	close(a->err_fd);
	unlink(a->err);
	close(a->kernel);
	close(a->initrd);
	close(a->package);
}

/*
 * As the owner (uid 1000): create the instance, seal its state and run
 * @vmm on it (traced when @traceme). Returns the child exit code to report:
 * 0 when avf-vmm exited @want_exit and the instance never ran (or, for
 * @want_exit 0, ran to STOPPED(SHUTDOWN)).
 */
static int owner_run(struct attack *a, const char *vmm, bool traceme, int want_exit)
{
	struct run_fds fds = NO_FDS;
	static struct run r;
	int dev, status = 0;
	pid_t pid;

	if (become_owner())
		return 10;
	dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 11;
	memset(&r, 0, sizeof(r));
	r.dev = dev;
	r.vm_fd = open_instance(dev, a->name);
	if (r.vm_fd < 0)
		return 12;
	fds.kernel = a->kernel;
	fds.initrd = a->initrd;
	fds.package = a->package;
	fds.vmm = vmm;
	fds.err = a->err_fd;
	fds.traceme = traceme;
	pid = spawn_vmm_fds(dev, r.vm_fd, "hello", NULL, &fds);
	if (pid < 0)
		return 13;
	for (;;) {
		if (waitpid(pid, &status, 0) != pid)
			return 14;
		if (!WIFSTOPPED(status))
			break;
		/* The tracer lets the tracee go on; exec's SIGTRAP is not delivered. */
		ptrace(PTRACE_CONT, pid, NULL,
		       (void *)(long)(WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status)));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want_exit) {
		fprintf(stderr, "avf-vmm: status %#x, wanted exit %d\n", status, want_exit);
		return 15;
	}
	if (want_exit == 0) {
		if (collect(&r, 10000, -1) || !r.nev || r.ev[r.nev - 1].code != AVF_STOP_SHUTDOWN) {
			fprintf(stderr, "the run did not end in SHUTDOWN (%u events)\n", r.nev);
			return 17;
		}
	} else {
		collect(&r, 500, -1);
		if (r.nev) {
			fprintf(stderr, "the instance ran: %u events\n", r.nev);
			return 16;
		}
	}
	ioctl(r.vm_fd, AVF_VM_DELETE, 0);
	return 0;
}

static int in_owner_child(struct attack *a, const char *vmm, bool traceme, int want_exit)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(owner_run(a, vmm, traceme, want_exit));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * The owner runs an avf-vmm that is not set-uid (a copy of the build's):
 * it is not the trusted VMM, the module refuses the bind (EPERM) and the
 * VMM exits 69 saying so; the instance never runs, so no secret.
 */
TEST(attack_owner_runs_untrusted_vmm_cannot_bind)
{
	char copy[] = "/tmp/vmtest-untrusted-vmm-XXXXXX";
	struct attack a;
	int ret;

	ret = attack_setup(_metadata, &a, "hello");
	if (ret == -EPERM)
		SKIP(return, "needs root to become the owner uid");
	if (ret == -ENODEV)
		SKIP(return, "no /dev/avf or /dev/kvm");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, copy_file(dev_vmm_path, copy, 0755));
	ASSERT_FALSE(is_setuid(copy));
	ret = in_owner_child(&a, copy, false, 69);
	if (ret)
		attack_log(_metadata, &a);
	EXPECT_EQ(0, ret);
	EXPECT_TRUE(attack_said(&a, "AVF_VM_BIND_VMM refused (EPERM)"));
	unlink(copy);
	attack_cleanup(&a);
}

/*
 * The set-uid avf-vmm run under ptrace by the owner (PTRACE_TRACEME, then
 * exec): the kernel does not honour set-uid for a traced exec, so the VMM
 * runs as the owner and the bind is refused.
 */
TEST(attack_ptraced_setuid_vmm_cannot_bind)
{
	struct attack a;
	int ret;

	ret = attack_setup(_metadata, &a, "hello");
	if (ret == -EPERM)
		SKIP(return, "needs root to become the owner uid");
	if (ret == -ENODEV)
		SKIP(return, "no /dev/avf or /dev/kvm");
	ASSERT_EQ(0, ret);
	if (!is_setuid(vmm_path))
		SKIP(return, "%s is not set-uid (run in the test host)", vmm_path);
	ret = in_owner_child(&a, vmm_path, true, 69);
	if (ret)
		attack_log(_metadata, &a);
	EXPECT_EQ(0, ret);
	EXPECT_TRUE(attack_said(&a, "AVF_VM_BIND_VMM refused (EPERM)"));
	attack_cleanup(&a);
}

/*
 * LD_PRELOAD has no effect on the set-uid avf-vmm. Control first: the
 * same library preloaded into a non-set-uid copy does write its marker.
 */
TEST(attack_ld_preload_ignored_by_setuid_vmm)
{
	char lib[] = "/tmp/vmtest-preload-XXXXXX", copy[] = "/tmp/vmtest-plain-vmm-XXXXXX";
	char src[600], mark_plain[64], mark_trusted[64];
	int status;
	pid_t pid;

	init_paths();
	if (getuid() != 0)
		SKIP(return, "needs root to become the owner uid");
	if (!is_setuid(vmm_path))
		SKIP(return, "%s is not set-uid (run in the test host)", vmm_path);
	snprintf(src, sizeof(src), "%s/build/user/tests/vm/preload_marker.so", AVF_TREE_TOP);
	if (access(src, R_OK))
		SKIP(return, "missing %.400s", src);
	ASSERT_EQ(0, copy_file(src, lib, 0644));
	ASSERT_EQ(0, copy_file(dev_vmm_path, copy, 0755));
	snprintf(mark_plain, sizeof(mark_plain), "/tmp/vmtest-mark-plain-%d", getpid());
	snprintf(mark_trusted, sizeof(mark_trusted), "/tmp/vmtest-mark-trusted-%d", getpid());
	unlink(mark_plain);
	unlink(mark_trusted);
	pid = fork();
	if (pid == 0) {
		const char *vmms[2] = { copy, vmm_path }, *marks[2] = { mark_plain, mark_trusted };
		int i;

		if (become_owner())
			_exit(10);
		for (i = 0; i < 2; i++) {
			char env1[128], env2[128];
			char *const envp[] = { env1, env2, NULL };
			char *const argv[] = { (char *)vmms[i], "--version", NULL };
			int st;
			pid_t c;

			snprintf(env1, sizeof(env1), "LD_PRELOAD=%s", lib);
			snprintf(env2, sizeof(env2), "AVF_TEST_MARKER=%s", marks[i]);
			c = fork();
			if (c == 0) {
				int null = open("/dev/null", O_WRONLY);

				dup2(null, 1);
				dup2(null, 2);
				execve(vmms[i], argv, envp);
				_exit(127);
			}
			if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
				_exit(20 + i);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, access(mark_plain, F_OK));		/* the library works */
	EXPECT_NE(0, access(mark_trusted, F_OK));	/* but not in the trusted VMM */
	unlink(mark_plain);
	unlink(mark_trusted);
	unlink(lib);
	unlink(copy);
}

/*
 * While the trusted VMM runs the owner's instance, the owner can neither
 * read its memory (/proc/<vmm>/mem, environ) nor trace it nor signal it:
 * all its uids are the VMM uid. The owner stops it through the module.
 */
static int owner_pokes_running_vmm(struct attack *a)
{
	static const char *const extra[] = { "--hangup-timeout", "300", NULL };
	struct run_fds fds = NO_FDS;
	struct avf_vm_info info;
	static struct run r;
	char path[64];
	int dev, fd, ret = 0;

	if (become_owner())
		return 10;
	dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 11;
	memset(&r, 0, sizeof(r));
	r.dev = dev;
	r.vm_fd = open_instance(dev, a->name);
	if (r.vm_fd < 0)
		return 12;
	fds.kernel = a->kernel;
	fds.initrd = a->initrd;
	fds.package = a->package;
	fds.err = a->err_fd;
	r.pid = spawn_vmm_fds(dev, r.vm_fd, "never-ready", extra, &fds);
	if (r.pid < 0)
		return 13;
	if (collect(&r, VM_TIMEOUT_MS, AVF_EVENT_PAYLOAD_STARTED) != 1) {
		fprintf(stderr, "the VMM did not start the payload\n");
		ret = 14;
		goto stop;
	}
	if (ioctl(r.vm_fd, AVF_VM_GET_INFO, &info) || info.vmm_pid != (uint32_t)r.pid) {
		ret = 15;
		goto stop;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", r.pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0 || errno != EACCES) {
		fprintf(stderr, "open %s: %d (%s)\n", path, fd, strerror(errno));
		ret = 16;
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", r.pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0 || errno != EACCES) {
		fprintf(stderr, "open %s: %d (%s)\n", path, fd, strerror(errno));
		ret = ret ?: 17;
	}
	if (ptrace(PTRACE_ATTACH, r.pid, NULL, NULL) == 0 || errno != EPERM) {
		fprintf(stderr, "PTRACE_ATTACH: %s\n", strerror(errno));
		ret = ret ?: 18;
	}
	if (kill(r.pid, SIGKILL) == 0 || errno != EPERM) {
		fprintf(stderr, "kill SIGKILL: %s\n", strerror(errno));
		ret = ret ?: 19;
	}
	if (kill(r.pid, SIGSTOP) == 0 || errno != EPERM) {
		fprintf(stderr, "kill SIGSTOP: %s\n", strerror(errno));
		ret = ret ?: 20;
	}
stop:
	/* The owner's way to end the run: the module. */
	ioctl(r.vm_fd, AVF_VM_STOP, 0);
	collect(&r, 20000, -1);
	if (reap(&r, 10000))
		ret = ret ?: 21;
	ioctl(r.vm_fd, AVF_VM_DELETE, 0);
	return ret;
}

TEST(attack_owner_cannot_read_trace_or_kill_trusted_vmm)
{
	struct attack a;
	int ret, status;
	pid_t pid;

	ret = attack_setup(_metadata, &a, "never-ready");
	if (ret == -EPERM)
		SKIP(return, "needs root to become the owner uid");
	if (ret == -ENODEV)
		SKIP(return, "no /dev/avf or /dev/kvm");
	ASSERT_EQ(0, ret);
	if (!is_setuid(vmm_path))
		SKIP(return, "%s is not set-uid (run in the test host)", vmm_path);
	pid = fork();
	if (pid == 0)
		_exit(owner_pokes_running_vmm(&a));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status))
		attack_log(_metadata, &a);
	EXPECT_EQ(0, WEXITSTATUS(status));
	attack_cleanup(&a);
}

/* Development mode (module parameter owner_vmm); returns the old value or -errno. */
static int set_dev_mode(bool on)
{
	int fd = open("/sys/module/avf/parameters/owner_vmm", O_RDWR | O_CLOEXEC), old;
	char c = 0;

	if (fd < 0)
		return -errno;
	old = read(fd, &c, 1) == 1 ? (c == 'Y' || c == '1') : -EIO;
	if (old >= 0 && pwrite(fd, on ? "1" : "0", 1, 0) != 1)
		old = -errno;
	close(fd);
	return old;
}

/*
 * Development mode (owner_vmm=1): the owner's own avf-vmm, not set-uid,
 * may bind, because it makes itself non-dumpable at start-up (the module
 * refuses a dumpable VMM), and the run completes. Kept last: it switches
 * a module-wide setting and restores it.
 */
TEST(dev_mode_owner_runs_plain_vmm)
{
	char copy[] = "/tmp/vmtest-devmode-vmm-XXXXXX";
	struct attack a;
	int ret, old;

	ret = attack_setup(_metadata, &a, "hello");
	if (ret == -EPERM)
		SKIP(return, "needs root to become the owner uid");
	if (ret == -ENODEV)
		SKIP(return, "no /dev/avf or /dev/kvm");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, copy_file(dev_vmm_path, copy, 0755));
	old = set_dev_mode(true);
	if (old < 0) {
		unlink(copy);
		SKIP(return, "no owner_vmm module parameter: %s", strerror(-old));
	}
	ret = in_owner_child(&a, copy, false, 0);
	set_dev_mode(old);
	if (ret)
		attack_log(_metadata, &a);
	EXPECT_EQ(0, ret);
	unlink(copy);
	attack_cleanup(&a);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return test_harness_run(argc, argv);
}
