// SPDX-License-Identifier: GPL-2.0
/*
 * Test payload: checks the environment the runtime promises and the
 * libvm_payload API. Prints one line per check to the payload log and
 * returns the number of failed checks (0 = all good).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_payload.h"

static int failed;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAILED", what);
	if (!ok)
		failed++;
}

static int no_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return 0;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return 0;
	return prctl(PR_CAPBSET_READ, 0 /* CAP_CHOWN */, 0, 0, 0) == 0;
}

int AVmPayload_main(void)
{
	unsigned char secret[32];
	const char *storage;
	struct statvfs sv;
	const char *apk = AVmPayload_getApkContentsPath();
	char path[256];
	gid_t groups[4];
	struct stat st;
	int fd;

	check(getuid() == 1000 && geteuid() == 1000, "uid 1000");
	check(getgid() == 1000 && getegid() == 1000, "gid 1000");
	check(getgroups(4, groups) == 0, "no supplementary groups");
	check(no_caps(), "no capabilities, empty bounding set");
	check(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs");
	check(setuid(0) != 0, "cannot become root");
	check(fcntl(5, F_GETFD) < 0, "no runtime fds leaked");
	check(apk && !strcmp(apk, "/mnt/apk"), "getApkContentsPath is /mnt/apk");
	check(statvfs("/mnt/apk", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/mnt/apk read-only");
	snprintf(path, sizeof(path), "%s/lib/x86_64/selfcheck.so", apk);
	check(stat(path, &st) == 0 && S_ISREG(st.st_mode), "payload visible in the package");
	snprintf(path, sizeof(path), "%s/assets/hello.txt", apk);
	check(stat(path, &st) == 0 && st.st_size > 0, "asset extracted");
	fd = open("/mnt/apk/newfile", O_WRONLY | O_CREAT, 0644);
	check(fd < 0, "cannot write into /mnt/apk");
	check(open("/avf/config.dtb", O_WRONLY) < 0, "cannot write the config");
	check(open("/dev/hvc2", O_WRONLY | O_NOCTTY) < 0, "cannot write the control channel");
	check(open("/dev/vda", O_RDONLY) < 0, "cannot read the package disk");
	check(kill(1, SIGKILL) < 0 && errno == EPERM, "cannot signal the runtime");
	fd = open("/tmp/scratch", O_WRONLY | O_CREAT, 0600);
	check(fd >= 0, "/tmp writable");
	if (fd >= 0)
		close(fd);
	check(access("/avf/secret", F_OK) < 0 && errno == ENOENT, "no /avf/secret file");
	check(open("/proc/1/mem", O_RDONLY) < 0, "cannot read the runtime's memory");
	check(open("/dev/mapper/control", O_RDWR) < 0, "cannot reach device-mapper");
	storage = AVmPayload_getEncryptedStoragePath();
	errno = 0;
	check(!AVmPayload_getVmInstanceSecret("id", 2, secret, 33) && errno == EINVAL,
	      "secret size above 32 refused");
	errno = 0;
	check(!AVmPayload_getVmInstanceSecret("id", 2, secret, 0) && errno == EINVAL,
	      "secret size 0 refused");
	if (!storage) {
		/* run without identity */
		memset(secret, 0xaa, sizeof(secret));
		errno = 0;
		check(!AVmPayload_getVmInstanceSecret("id", 2, secret, sizeof(secret)) &&
		      errno == ENOKEY, "no identity: getVmInstanceSecret fails (ENOKEY)");
		check(secret[0] == 0 && secret[31] == 0, "secret buffer zeroed on failure");
		errno = 0;
		check(!AVmPayload_isNewInstance() && errno == ENOSYS,
		      "no new-instance in the config: ENOSYS");
	} else {
		/* run with a secret, new-instance and storage */
		unsigned char again[32];
		int fd2;

		check(AVmPayload_getVmInstanceSecret("id", 2, secret, sizeof(secret)) &&
		      AVmPayload_getVmInstanceSecret("id", 2, again, sizeof(again)) &&
		      !memcmp(secret, again, sizeof(secret)), "instance secret is deterministic");
		check(AVmPayload_getVmInstanceSecret("id2", 3, again, sizeof(again)) &&
		      memcmp(secret, again, sizeof(secret)), "other identifier, other secret");
		errno = 0;
		check(AVmPayload_isNewInstance() && errno == 0, "isNewInstance true");
		check(!strcmp(storage, "/mnt/encryptedstore"), "storage at /mnt/encryptedstore");
		check(stat(storage, &st) == 0 && st.st_uid == 1000 && S_ISDIR(st.st_mode),
		      "storage owned by the payload uid");
		check(statvfs(storage, &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV) &&
		      (sv.f_flag & ST_NOEXEC) && !(sv.f_flag & ST_RDONLY),
		      "storage mounted rw,nosuid,nodev,noexec");
		snprintf(path, sizeof(path), "%s/selfcheck", storage);
		fd2 = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		check(fd2 >= 0 && write(fd2, "x", 1) == 1 && close(fd2) == 0, "storage writable");
		check(open("/dev/vdb", O_RDONLY) < 0, "cannot read the storage disk");
		check(open("/dev/mapper/encryptedstore", O_RDONLY) < 0,
		      "cannot read the decrypted device");
	}
	AVmPayload_notifyPayloadReady();
	AVmPayload_notifyPayloadReady();
	printf("selfcheck: %d failed\n", failed);
	return failed;
}
