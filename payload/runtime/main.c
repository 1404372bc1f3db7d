// SPDX-License-Identifier: GPL-2.0
/*
 * avf guest runtime: PID 1 of the guest initramfs (the Microdroid role).
 *
 * Mounts the basic file systems, reads the VM configuration tree, extracts
 * the app package from /dev/vda into /mnt/apk, runs the payload in an
 * unprivileged child and reports its life-cycle on the control channel
 * (/dev/hvc2). Serves libvm_payload on AVF_RT_SOCK_PATH. Contract:
 * Documentation/interfaces.rst; user-facing description:
 * Documentation/payload-api.rst.
 *
 * PID 1 never returns: every path ends in end_vm().
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/securebits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctlchan.h"
#include "dmcrypt.h"
#include "pkg.h"
#include "rtproto.h"
#include "rtserver.h"
#include "secret.h"

#define CONFIG_PATH	"/avf/config.dtb"
#define CTL_DEV		"/dev/hvc2"
#define LOG_DEV		"/dev/hvc1"
#define PKG_DEV		"/dev/vda"
#define SECRET_PATH	"/avf/secret"
#define STORAGE_DEV	"/dev/vdb"
#define STORAGE_DM_NAME	"encryptedstore"
#define STORAGE_DM_NODE	"/dev/mapper/" STORAGE_DM_NAME
#define STORAGE_MOUNT	"/mnt/encryptedstore"
#define MKE2FS		"/sbin/mke2fs"
#define PAYLOAD_DIR	AVF_APK_MOUNT "/lib/x86_64"
#define DEVICE_WAIT_MS	10000
#define MAX_CLIENTS	16

/* child -> parent messages on the sync pipe */
#define MSG_LOADED	'L'	/* payload loaded, waiting for 'G' */
#define MSG_LOAD_ERROR	'E'	/* followed by text */
#define MSG_RETURNED	'X'	/* followed by the int AVmPayload_main returned */
#define MSG_GO		'G'	/* parent -> child */

static int ctl_fd = -1;
static int log_fd = -1;
static bool verbose = true;	/* until the config says otherwise */
static struct avf_vmcfg cfg;
/* storage_path is set by setup_storage() once encrypted storage is mounted */
static struct avf_rt_state rt_state;

/*
 * Key material lives only in this page of PID 1: locked in RAM, left out of
 * core dumps and zero-filled in every child (MADV_WIPEONFORK), so neither
 * the payload process nor mke2fs ever has a copy. Wiped on every way out.
 */
struct keys {
	unsigned char vm_secret[AVF_VM_SECRET_SIZE];
	unsigned char storage_key[AVF_STORAGE_KEY_SIZE];
	char dm_params[512];
};
static struct keys *keys;
static bool have_secret;
static bool storage_dm_created;
static bool storage_mounted;

static void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rt_log(const char *fmt, ...)
{
	static const char prefix[] = "avf-runtime: ";
	char buf[512];
	size_t n = sizeof(prefix) - 1;
	va_list ap;
	int len;

	memcpy(buf, prefix, n);
	va_start(ap, fmt);
	len = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	n += (size_t)len < sizeof(buf) - n - 1 ? (size_t)len : sizeof(buf) - n - 2;
	buf[n++] = '\n';
	/* the console is best effort: nothing to do when it fails */
	if (write(STDERR_FILENO, buf, n) < 0)
		errno = 0;
}

#define rt_info(...) do { if (verbose) rt_log(__VA_ARGS__); } while (0)

static void ctl_send(const char *line, int len)
{
	if (len < 0)
		return;
	rt_info("control: %.*s", len - 1, line);
	if (ctl_fd < 0)
		return;
	for (int off = 0; off < len;) {
		ssize_t n = write(ctl_fd, line + off, (size_t)(len - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rt_log("control channel write: %s", strerror(errno));
			return;
		}
		off += (int)n;
	}
	tcdrain(ctl_fd);
}

static void sleep_ms(long ms);

static void wipe_keys(void)
{
	if (keys)
		avf_wipe(keys, sizeof(*keys));
	have_secret = false;
	rt_state.vm_secret = NULL;
}

/* Reap every process after kill(-1, SIGKILL), waiting at most ~5 s. */
static void reap_all(void)
{
	for (int waited = 0; waited < 5000; waited += 10) {
		pid_t pid;

		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			return;
		sleep_ms(10);
	}
	rt_log("processes still alive after SIGKILL");
}

/*
 * Flush and close the encrypted storage: syncfs, unmount, remove the
 * dm-crypt device (the kernel forgets the key). Every process but PID 1 is
 * gone by now, so nothing holds the mount.
 */
static void teardown_storage(void)
{
	if (storage_mounted) {
		int fd = open(STORAGE_MOUNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int rc = -1;

		if (fd >= 0) {
			if (syncfs(fd))
				rt_log("syncfs %s: %s", STORAGE_MOUNT, strerror(errno));
			close(fd);
		}
		for (int i = 0; i < 100; i++) {
			rc = umount2(STORAGE_MOUNT, 0);
			if (rc == 0 || errno != EBUSY)
				break;
			sleep_ms(20);
		}
		if (rc)
			rt_log("unmount %s: %s", STORAGE_MOUNT, strerror(errno));
		else
			rt_info("storage: unmounted %s", STORAGE_MOUNT);
		storage_mounted = false;
		rt_state.storage_path = NULL;
	}
	if (storage_dm_created) {
		int rc = avf_dm_remove(STORAGE_DM_NAME);

		if (rc)
			rt_log("remove dm device %s: %s", STORAGE_DM_NAME, strerror(-rc));
		storage_dm_created = false;
	}
}

/* End the VM. SHUTDOWN is sent only on the clean path. */
static void __attribute__((noreturn)) end_vm(bool clean)
{
	char line[AVF_CTL_LINE_MAX + 1];

	kill(-1, SIGKILL);
	reap_all();
	teardown_storage();
	wipe_keys();
	sync();
	if (clean)
		ctl_send(line, avf_ctl_fmt_shutdown(line, sizeof(line)));
	rt_info("rebooting");
	reboot(RB_AUTOBOOT);
	/* only reached without CAP_SYS_BOOT: never exit, that would panic */
	rt_log("reboot: %s", strerror(errno));
	for (;;)
		pause();
}

static void __attribute__((noreturn)) fail_vm(int code, int stop_reason, const char *why)
{
	char line[AVF_CTL_LINE_MAX + 1];

	rt_log("error %d: %s", code, why);
	ctl_send(line, avf_ctl_fmt_error(line, sizeof(line), code, why));
	ctl_send(line, avf_ctl_fmt_fail(line, sizeof(line), stop_reason));
	end_vm(false);
}

static void __attribute__((noreturn, format(printf, 3, 4)))
fail_vmf(int code, int stop_reason, const char *fmt, ...)
{
	char why[AVF_CTL_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fail_vm(code, stop_reason, why);
}

/* fds 0-2 must exist so later opens never land there (no console node) */
static void setup_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int nfd = open("/dev/console", O_RDWR | O_NOCTTY);

		if (nfd < 0)
			nfd = open("/", O_RDONLY);	/* placeholder */
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

static void do_mount(const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) && errno != EBUSY)
		rt_log("mount %s on %s: %s", type, dst, strerror(errno));
}

static void mount_basics(void)
{
	do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755");
	do_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755");
	do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	/* the initramfs had a static /dev/console; devtmpfs provides its own */
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Devices probe in parallel with init: wait for them a little. */
static int open_dev(const char *path, int flags)
{
	for (int waited = 0;; waited += 20) {
		int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

		if (fd >= 0)
			return fd;
		if ((errno != ENOENT && errno != ENODEV && errno != ENXIO && errno != EIO) ||
		    waited >= DEVICE_WAIT_MS)
			return -1;
		sleep_ms(20);
	}
}

static int open_console(const char *path)
{
	struct termios t;
	int fd = open_dev(path, O_RDWR);

	if (fd < 0)
		return -1;
	/* raw: no "\r\n" translation, no echo of what the host sends */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static void load_config(void)
{
	char err[AVF_CTL_LINE_MAX];

	if (avf_config_load(CONFIG_PATH, &cfg, err, sizeof(err)))
		fail_vm(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG, err);
	verbose = cfg.debug_level >= 1;
	rt_info("config: payload=%s debug=%u protected=%u cid=%u mem=%uMiB cpus=%u storage=%u",
		cfg.payload_name, cfg.debug_level, cfg.protected_vm, cfg.cid, cfg.memory_mib,
		cfg.cpus, cfg.storage);
}

/*
 * The VM secret: the VMM appends /avf/secret (32 bytes) to the initramfs
 * when the run is identity-checked and the module writes the secret into
 * it. Copy it into the locked page, overwrite the file's page and unlink
 * it. No file: the VM runs without identity.
 */
static void load_secret(void)
{
	unsigned char zero[AVF_VM_SECRET_SIZE] = { 0 };
	struct stat st;
	ssize_t n;
	int fd;

	keys = mmap(NULL, sizeof(*keys), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (keys == MAP_FAILED) {
		keys = NULL;
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "secret page: %s", strerror(errno));
	}
	if (madvise(keys, sizeof(*keys), MADV_WIPEONFORK))
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "secret page: MADV_WIPEONFORK: %s", strerror(errno));
	if (madvise(keys, sizeof(*keys), MADV_DONTDUMP))
		rt_log("secret page: MADV_DONTDUMP: %s", strerror(errno));
	if (mlock(keys, sizeof(*keys)))
		rt_log("secret page: mlock: %s", strerror(errno));

	fd = open(SECRET_PATH, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG,
				 AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG, "secret: open %s: %s",
				 SECRET_PATH, strerror(errno));
		rt_info("secret: none: the VM runs without identity");
		return;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != AVF_VM_SECRET_SIZE)
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "secret: %s is not a %u-byte file", SECRET_PATH, AVF_VM_SECRET_SIZE);
	do
		n = pread(fd, keys->vm_secret, AVF_VM_SECRET_SIZE, 0);
	while (n < 0 && errno == EINTR);
	/* overwrite the file's page in the root file system, then drop it */
	if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero))
		rt_log("secret: overwrite %s: %s", SECRET_PATH, strerror(errno));
	close(fd);
	if (unlink(SECRET_PATH))
		rt_log("secret: unlink %s: %s", SECRET_PATH, strerror(errno));
	if (n != AVF_VM_SECRET_SIZE)
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "secret: short read of %s", SECRET_PATH);
	/* all zeros: the VMM's placeholder that the module never filled */
	if (!memcmp(keys->vm_secret, zero, sizeof(zero)))
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "secret: %s was never filled in", SECRET_PATH);
	have_secret = true;
	rt_state.vm_secret = keys->vm_secret;
	rt_info("secret: loaded");
}

static void extract_package(void)
{
	const struct avf_pkg_limits lim = AVF_PKG_DEFAULT_LIMITS;
	char err[AVF_CTL_LINE_MAX - 32];
	int fd, n;

	/* the package is read by path; wait for the disk to show up */
	fd = open_dev(PKG_DEV, O_RDONLY);
	if (fd < 0)
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "no app package: %s: %s", PKG_DEV, strerror(errno));
	close(fd);
	mkdir("/mnt", 0755);
	do_mount("tmpfs", AVF_APK_MOUNT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	n = avf_pkg_extract(PKG_DEV, AVF_APK_MOUNT, &lim, err, sizeof(err));
	if (n < 0)
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "bad app package: %s", err);
	if (mount(NULL, AVF_APK_MOUNT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL))
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "remount %s read-only: %s", AVF_APK_MOUNT, strerror(errno));
	rt_info("package: %d files in %s", n, AVF_APK_MOUNT);
}

#define storage_fail(...) \
	fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR, "storage: " __VA_ARGS__)

/* Run mke2fs on the decrypted device; the payload uid owns the root. */
static void format_storage(void)
{
	char owner[32];
	char *const argv[] = { MKE2FS, "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0",
			       "-L", "encryptedstore", "-E", owner, STORAGE_DM_NODE, NULL };
	char *const envp[] = { "PATH=/sbin:/bin", NULL };
	int status;
	pid_t pid;

	snprintf(owner, sizeof(owner), "nodiscard,root_owner=%u:%u", AVF_PAYLOAD_UID,
		 AVF_PAYLOAD_GID);
	rt_info("storage: no file system on the decrypted device: creating ext4");
	pid = fork();
	if (pid < 0)
		storage_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0)
			dup2(nul, 0);
		execve(MKE2FS, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			storage_fail("wait for mke2fs: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		storage_fail("mke2fs failed (status 0x%x)", status);
}

/*
 * Encrypted storage (config storage = 1): dm-crypt aes-xts-plain64 with
 * 4096-byte sectors over /dev/vdb, keyed by HKDF(VM secret), ext4 inside
 * (created when the decrypted device holds no valid superblock: first run,
 * or a different secret, which then loses the old contents), mounted
 * nosuid,nodev,noexec on STORAGE_MOUNT and owned by the payload uid.
 */
static void setup_storage(void)
{
	unsigned char sb[1024];
	uint64_t bytes = 0;
	struct stat st;
	int64_t sectors;
	dev_t dm_dev;
	char err[200];
	int fd, rc;

	if (!cfg.storage)
		return;
	if (!have_secret)
		fail_vm(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			"storage: encrypted storage requested but the VM has no instance secret");
	fd = open_dev(STORAGE_DEV, O_RDWR);
	if (fd < 0)
		storage_fail("%s: %s", STORAGE_DEV, strerror(errno));
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode) || ioctl(fd, BLKGETSIZE64, &bytes))
		storage_fail("%s is not a usable block device", STORAGE_DEV);
	close(fd);
	sectors = avf_dm_crypt_sectors(bytes);
	if (sectors < 0)
		storage_fail("%s: size %llu is not a positive multiple of %u", STORAGE_DEV,
			     (unsigned long long)bytes, AVF_DM_SECTOR_SIZE);

	if (avf_derive_storage_key(keys->vm_secret, keys->storage_key))
		storage_fail("key derivation failed");
	rc = avf_dm_crypt_params(keys->dm_params, sizeof(keys->dm_params), keys->storage_key,
				 AVF_STORAGE_KEY_SIZE, major(st.st_rdev), minor(st.st_rdev));
	avf_wipe(keys->storage_key, sizeof(keys->storage_key));
	if (rc < 0)
		storage_fail("cannot build the dm-crypt table");
	rc = avf_dm_create_crypt(STORAGE_DM_NAME, (uint64_t)sectors, keys->dm_params, &dm_dev,
				 err, sizeof(err));
	avf_wipe(keys->dm_params, sizeof(keys->dm_params));
	if (rc)
		storage_fail("%s", err);
	storage_dm_created = true;

	mkdir("/dev/mapper", 0755);
	unlink(STORAGE_DM_NODE);
	if (mknod(STORAGE_DM_NODE, S_IFBLK | 0600, dm_dev))
		storage_fail("mknod %s: %s", STORAGE_DM_NODE, strerror(errno));

	fd = open(STORAGE_DM_NODE, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, sb, sizeof(sb), 1024) != (ssize_t)sizeof(sb))
		storage_fail("read %s: %s", STORAGE_DM_NODE, strerror(errno));
	close(fd);
	if (!avf_ext4_superblock_valid(sb, bytes))
		format_storage();

	mkdir(STORAGE_MOUNT, 0700);
	if (mount(STORAGE_DM_NODE, STORAGE_MOUNT, "ext4", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""))
		storage_fail("mount ext4 on %s: %s", STORAGE_MOUNT, strerror(errno));
	storage_mounted = true;
	if (chown(STORAGE_MOUNT, AVF_PAYLOAD_UID, AVF_PAYLOAD_GID) || chmod(STORAGE_MOUNT, 0700))
		storage_fail("chown %s: %s", STORAGE_MOUNT, strerror(errno));
	rt_state.storage_path = STORAGE_MOUNT;
	rt_info("storage: %s ready (%llu bytes)", STORAGE_MOUNT, (unsigned long long)bytes);
}

static int make_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (mkdir(AVF_RT_SOCK_DIR, 0755) && errno != EEXIST)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	strcpy(sa.sun_path, AVF_RT_SOCK_PATH);
	unlink(AVF_RT_SOCK_PATH);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chown(AVF_RT_SOCK_PATH, 0, AVF_PAYLOAD_GID) ||
	    chmod(AVF_RT_SOCK_PATH, 0660) || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1: served a request, 0: nothing to read, -1: close the connection */
static int serve_client(int fd)
{
	unsigned char msg[AVF_RT_MAX_MSG], out[AVF_RT_MAX_MSG];
	char line[AVF_CTL_LINE_MAX + 1];
	bool send_ready;
	ssize_t n, len;

	/* MSG_TRUNC: the real size of an oversized datagram, which is refused */
	n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	len = avf_rt_handle(&rt_state, msg, (size_t)n, out, &send_ready);
	if (len < 0)
		return -1;
	if (send_ready)
		ctl_send(line, avf_ctl_fmt_ready(line, sizeof(line)));
	n = send(fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	avf_wipe(out, (size_t)len);	/* may hold a derived secret */
	if (n < 0)
		return -1;
	return 1;
}

static int peer_allowed(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) || len != sizeof(uc))
		return 0;
	return uc.uid == 0 || uc.uid == AVF_PAYLOAD_UID;
}

static void child_report(int fd, char kind, const void *data, size_t len)
{
	char msg[PIPE_BUF];

	if (len > sizeof(msg) - 1)
		len = sizeof(msg) - 1;
	msg[0] = kind;
	memcpy(msg + 1, data, len);
	if (write(fd, msg, len + 1) < 0)
		_exit(127);
}

static void __attribute__((noreturn)) child_fail(int fd, const char *fmt, ...)
{
	char text[AVF_CTL_LINE_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	child_report(fd, MSG_LOAD_ERROR, text, strlen(text));
	_exit(127);
}

static int last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return CAP_LAST_CAP;
	return atoi(buf);
}

static bool caps_empty(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	return true;
}

/* In the child: become the unprivileged payload process and run it. */
static void __attribute__((noreturn)) run_payload(int report_fd, int go_fd)
{
	char path[sizeof(PAYLOAD_DIR) + AVF_PAYLOAD_NAME_MAX + 2];
	int (*payload_main)(void);
	sigset_t all;
	void *handle;
	char go;
	int rc, nul, ncap;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* already zero-filled by MADV_WIPEONFORK; the payload gets no mapping */
	if (keys)
		munmap(keys, sizeof(*keys));
	keys = NULL;
	rt_state.vm_secret = NULL;

	/*
	 * fds: 0 /dev/null, 1-2 payload log, 3 report pipe, 4 go pipe (both
	 * close-on-exec), nothing else. Move everything out of the way first
	 * so no dup2() below closes a descriptor still needed.
	 */
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	nul = nul < 0 ? -1 : fcntl(nul, F_DUPFD_CLOEXEC, 100);
	report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 100);
	go_fd = fcntl(go_fd, F_DUPFD_CLOEXEC, 100);
	log_fd = log_fd < 0 ? -1 : fcntl(log_fd, F_DUPFD_CLOEXEC, 100);
	if (nul < 0 || report_fd < 0 || go_fd < 0 || dup2(nul, 0) < 0)
		_exit(127);
	if (log_fd >= 0 && (dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0))
		_exit(127);
	if (dup3(report_fd, 3, O_CLOEXEC) < 0 || dup3(go_fd, 4, O_CLOEXEC) < 0)
		_exit(127);
	if (syscall(SYS_close_range, 5u, ~0u, 0u))
		_exit(127);
	report_fd = 3;
	go_fd = 4;

	if (chdir("/"))
		child_fail(report_fd, "chdir: %s", strerror(errno));
	ncap = last_cap();
	for (int cap = 0; cap <= ncap; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			child_fail(report_fd, "drop capability %d: %s", cap, strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
		  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0))
		child_fail(report_fd, "securebits: %s", strerror(errno));
	if (setgroups(0, NULL) ||
	    setresgid(AVF_PAYLOAD_GID, AVF_PAYLOAD_GID, AVF_PAYLOAD_GID) ||
	    setresuid(AVF_PAYLOAD_UID, AVF_PAYLOAD_UID, AVF_PAYLOAD_UID))
		child_fail(report_fd, "drop privileges: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		child_fail(report_fd, "no_new_privs: %s", strerror(errno));
	if (!caps_empty() || setuid(0) == 0)
		child_fail(report_fd, "capabilities still held after dropping privileges");

	umask(022);
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", "/tmp", 1);
	setenv("TMPDIR", "/tmp", 1);

	snprintf(path, sizeof(path), "%s/%s", PAYLOAD_DIR, cfg.payload_name);
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		child_fail(report_fd, "cannot load payload %s: %s", cfg.payload_name, dlerror());
	*(void **)&payload_main = dlsym(handle, "AVmPayload_main");
	if (!payload_main)
		child_fail(report_fd, "payload %s has no AVmPayload_main", cfg.payload_name);

	child_report(report_fd, MSG_LOADED, NULL, 0);
	for (;;) {
		ssize_t n = read(go_fd, &go, 1);

		if (n == 1 && go == MSG_GO)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		_exit(127);
	}
	close(go_fd);

	rc = payload_main();
	fflush(NULL);
	child_report(report_fd, MSG_RETURNED, &rc, sizeof(rc));
	exit(rc);
}

struct payload_state {
	pid_t pid;
	bool loaded;
	bool returned;
	int rc;
	char load_error[AVF_CTL_LINE_MAX];
	int report_fd;	/* parent's read end, -1 once at EOF */
	int go_fd;	/* parent's write end */
};

static void read_reports(struct payload_state *ps)
{
	char line[AVF_CTL_LINE_MAX + 1];
	char msg[PIPE_BUF + 1];

	while (ps->report_fd >= 0) {
		ssize_t n = read(ps->report_fd, msg, sizeof(msg) - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;	/* EAGAIN */
		if (n == 0) {
			close(ps->report_fd);
			ps->report_fd = -1;
			return;
		}
		switch (msg[0]) {
		case MSG_LOADED:
			if (ps->loaded)
				break;
			ps->loaded = true;
			ctl_send(line, avf_ctl_fmt_started(line, sizeof(line)));
			if (write(ps->go_fd, (char[]){ MSG_GO }, 1) != 1)
				rt_log("cannot start payload: %s", strerror(errno));
			break;
		case MSG_LOAD_ERROR:
			msg[n] = '\0';
			{
				size_t l = strnlen(msg + 1, sizeof(ps->load_error) - 1);

				memcpy(ps->load_error, msg + 1, l);
				ps->load_error[l] = '\0';
			}
			break;
		case MSG_RETURNED:
			if (n == 1 + (ssize_t)sizeof(int)) {
				memcpy(&ps->rc, msg + 1, sizeof(int));
				ps->returned = true;
			}
			break;
		default:
			break;
		}
	}
}

static void __attribute__((noreturn)) payload_ended(struct payload_state *ps, int status)
{
	char line[AVF_CTL_LINE_MAX + 1];

	read_reports(ps);
	if (WIFSIGNALED(status))
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "payload killed by signal %d", WTERMSIG(status));
	if (!ps->loaded)
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "%s", ps->load_error[0] ? ps->load_error :
			 "payload exited while being loaded");
	ctl_send(line, avf_ctl_fmt_finished(line, sizeof(line),
					    ps->returned ? ps->rc : WEXITSTATUS(status)));
	end_vm(true);
}

static void __attribute__((noreturn)) serve(int sfd, struct payload_state *ps)
{
	int lfd = make_socket();
	int clients[MAX_CLIENTS];
	int nclients = 0;

	if (lfd < 0)
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "runtime socket: %s", strerror(errno));
	for (;;) {
		struct pollfd pfd[3 + MAX_CLIENTS];
		int n = 0;

		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ps->report_fd, .events = POLLIN };
		for (int i = 0; i < nclients; i++)
			pfd[n++] = (struct pollfd){ .fd = clients[i], .events = POLLIN };
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
				 "poll: %s", strerror(errno));
		}
		if (pfd[2].revents)
			read_reports(ps);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			int status;
			pid_t pid;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			/* PID 1 reaps every orphan, not only the payload */
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				if (pid == ps->pid)
					payload_ended(ps, status);
		}
		for (int i = 0; i < nclients; i++) {
			short re = pfd[3 + i].revents;
			int r = 0;

			if (!re)
				continue;
			if (re & POLLIN)
				while ((r = serve_client(clients[i])) > 0)
					;
			if (r < 0 || (re & (POLLERR | POLLHUP | POLLNVAL))) {
				close(clients[i]);
				clients[i] = -1;
			}
		}
		{
			int j = 0;

			for (int i = 0; i < nclients; i++)
				if (clients[i] >= 0)
					clients[j++] = clients[i];
			nclients = j;
		}
		if (pfd[1].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (cfd >= 0) {
				if (nclients < MAX_CLIENTS && peer_allowed(cfd))
					clients[nclients++] = cfd;
				else
					close(cfd);
			}
		}
	}
}

static void __attribute__((noreturn)) start_payload(void)
{
	char path[sizeof(PAYLOAD_DIR) + AVF_PAYLOAD_NAME_MAX + 2];
	struct payload_state ps = { .rc = 0 };
	int report[2], go[2], sfd;
	struct stat st;
	sigset_t chld;

	snprintf(path, sizeof(path), "%s/%s", PAYLOAD_DIR, cfg.payload_name);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		fail_vmf(AVF_ERROR_PAYLOAD_INVALID_CONFIG, AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG,
			 "payload lib/x86_64/%s not found in the app package", cfg.payload_name);

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(report, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "runtime setup: %s", strerror(errno));

	ps.pid = fork();
	if (ps.pid < 0)
		fail_vmf(AVF_ERROR_UNKNOWN, AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR,
			 "fork: %s", strerror(errno));
	if (ps.pid == 0)
		run_payload(report[1], go[0]);
	close(report[1]);
	close(go[0]);
	ps.report_fd = report[0];
	ps.go_fd = go[1];
	fcntl(ps.report_fd, F_SETFL, O_NONBLOCK);
	serve(sfd, &ps);
}

int main(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "avf-runtime: must run as PID 1 of the guest\n");
		return 1;
	}
	/* opens nothing, so fds 0-2 stay free until setup_stdio() fills them */
	mount_basics();
	setup_stdio();
	umask(022);

	ctl_fd = open_console(CTL_DEV);
	if (ctl_fd < 0) {
		rt_log("no control channel %s: %s", CTL_DEV, strerror(errno));
		end_vm(false);
	}
	{
		/* the boot marker (bench/): init has started, this long after the kernel did */
		char line[AVF_CTL_LINE_MAX + 1];
		struct timespec up;
		int32_t ms = -1;

		if (!clock_gettime(CLOCK_BOOTTIME, &up) && up.tv_sec < INT32_MAX / 1000)
			ms = (int32_t)(up.tv_sec * 1000 + up.tv_nsec / 1000000);
		ctl_send(line, avf_ctl_fmt_boot(line, sizeof(line), ms));
	}
	log_fd = open_console(LOG_DEV);
	if (log_fd < 0)
		rt_log("no payload log %s: %s (payload output goes to the console)", LOG_DEV,
		       strerror(errno));

	load_config();
	load_secret();
	rt_state.new_instance_known = cfg.new_instance_set;
	rt_state.new_instance = cfg.new_instance == 1;
	extract_package();
	setup_storage();
	start_payload();
}
