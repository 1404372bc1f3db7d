// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper for identity persistence across module reloads (run by
 * avf_uds_persist.sh in the test host, as root). "run" plays the trusted
 * VMM: it opens the instance as root, then becomes the VMM uid
 * (avf_become_vmm(), what a set-uid avf-vmm is), binds, loads and starts,
 * and prints the VM secret it was handed. "run-own" does the same as the
 * caller's own uid without becoming the VMM: an ordinary uid must be
 * refused. Test builds only, never part of the product.
 *
 *   avf_secret_probe seal DIR       make DIR/{kernel,initrd,package}, seal DIR/state
 *   avf_secret_probe run DIR        run instance "probe" from DIR/state as the VMM,
 *                                   print the secret (hex) or "error: WHAT: ERRNO"
 *   avf_secret_probe run-own DIR    seal and run an own instance without becoming
 *                                   the VMM (DIR must be readable)
 *   avf_secret_probe addkey HEX     add logon key "avf:uds" to root's user keyring
 *   avf_secret_probe addkey-avf HEX [UID]
 *                                   add it to the module's keyring ".avf" (owned
 *                                   by UID when given: chown after adding)
 *   avf_secret_probe plant HEX UID -- CMD...
 *                                   join a new session keyring, add the key there
 *                                   owned by UID, then exec CMD (e.g. insmod)
 *   avf_secret_probe loaduds        AVF_UDS_LOAD
 *   avf_secret_probe caps           print "persistent|ephemeral trusted|untrusted"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
#include "avf_util.h"

static const char payload[] = "payload.so";

static int fail(const char *what, int err)
{
	printf("error: %s: %s\n", what, strerror(-err));
	return 1;
}

static int img(const char *dir, const char *name, char fill, int create)
{
	char path[512], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (create) {
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		memset(buf, fill, sizeof(buf));
		if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
			return -1;
		close(fd);
	}
	return open(path, O_RDONLY);
}

/* Serial of the keyring ".avf" from /proc/keys, or -1. */
static long avf_keyring(void)
{
	FILE *f = fopen("/proc/keys", "r");
	char line[512], type[32], desc[256];
	long found = -1;
	unsigned long serial;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %31s %255s", &serial, type, desc) == 3 &&
		    !strcmp(type, "keyring") && !strcmp(desc, ".avf:"))
			found = serial;
	if (f)
		fclose(f);
	return found;
}

static long add_logon(const char *hex, long ring)
{
	return syscall(SYS_add_key, "logon", "avf:uds", hex, strlen(hex), ring);
}

static int seal(int dev, struct avf_images im, __u8 *state)
{
	struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)state,
				       .state_size = AVF_INSTANCE_STATE_SIZE };

	return __avf_ioctl(dev, AVF_INSTANCE_SEAL, &s);
}

/* Bind to @vm, LOAD @im with @state, START; print the secret. */
static int run(int vm, struct avf_images im, const __u8 *state)
{
	struct avf_vmm_load l = { .images = im, .state = (__u64)(uintptr_t)state,
				  .state_size = AVF_INSTANCE_STATE_SIZE };
	struct avf_vmm_start s = { .secret_offset = 64 };
	__u8 secret[AVF_SECRET_SIZE];
	int vmm, mem, ret;

	vmm = __avf_bind(vm, NULL);
	if (vmm < 0)
		return fail("bind", vmm);
	ret = __avf_ioctl(vmm, AVF_VMM_LOAD, &l);
	if (ret)
		return fail("AVF_VMM_LOAD", ret);
	mem = memfd_create("ram", 0);
	if (mem < 0 || ftruncate(mem, 4096))
		return fail("memfd", -errno);
	s.mem_fd = mem;
	ret = __avf_ioctl(vmm, AVF_VMM_START, &s);
	if (ret)
		return fail("AVF_VMM_START", ret);
	if (pread(mem, secret, sizeof(secret), 64) != sizeof(secret))
		return fail("pread", -EIO);
	for (size_t i = 0; i < sizeof(secret); i++)
		printf("%02x", secret[i]);
	printf("\n");
	__avf_report(vmm, AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	int dev = open("/dev/avf", O_RDWR), ret;
	struct avf_images im = { .debug_level = AVF_DEBUG_FULL,
				 .payload_name = (__u64)(uintptr_t)payload };
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	char path[512];
	int create;
	long k;

	if (argc >= 2 && !strcmp(argv[1], "plant") && argc >= 6 && !strcmp(argv[4], "--")) {
		/* no /dev/avf needed: this loads the module */
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
			return fail("join session", -errno);
		k = add_logon(argv[2], KEY_SPEC_SESSION_KEYRING);
		if (k < 0)
			return fail("add_key", -errno);
		if (syscall(SYS_keyctl, KEYCTL_CHOWN, k, atoi(argv[3]), -1) < 0)
			return fail("chown key", -errno);
		execvp(argv[5], argv + 5);
		return fail("exec", -errno);
	}
	if (argc < 2 || dev < 0)
		return fprintf(stderr, "usage: see source; /dev/avf needed\n"), 2;
	if (!strcmp(argv[1], "addkey") && argc == 3)
		return add_logon(argv[2], KEY_SPEC_USER_KEYRING) < 0 ? fail("add_key", -errno) : 0;
	if (!strcmp(argv[1], "addkey-avf") && (argc == 3 || argc == 4)) {
		long ring = avf_keyring();

		if (ring < 0)
			return fail("find keyring .avf", -ENOKEY);
		if (argc == 3)
			return add_logon(argv[2], ring) < 0 ? fail("add_key", -errno) : 0;
		/* chown needs the key possessed: make it in the process keyring, then link */
		k = add_logon(argv[2], KEY_SPEC_PROCESS_KEYRING);
		if (k < 0)
			return fail("add_key", -errno);
		if (syscall(SYS_keyctl, KEYCTL_CHOWN, k, atoi(argv[3]), -1) < 0)
			return fail("chown key", -errno);
		if (syscall(SYS_keyctl, KEYCTL_LINK, k, ring) < 0)
			return fail("link key", -errno);
		return 0;
	}
	if (!strcmp(argv[1], "loaduds")) {
		struct avf_uds_load l = {};

		ret = __avf_ioctl(dev, AVF_UDS_LOAD, &l);
		return ret ? fail("AVF_UDS_LOAD", ret) : 0;
	}
	if (!strcmp(argv[1], "caps")) {
		struct avf_capabilities c;

		ret = __avf_ioctl(dev, AVF_GET_CAPABILITIES, &c);
		if (ret)
			return fail("caps", ret);
		printf("%s %s\n", c.flags & AVF_CAPS_UDS_PERSISTENT ? "persistent" : "ephemeral",
		       c.flags & AVF_CAPS_TRUSTED_VMM ? "trusted" : "untrusted");
		return 0;
	}
	if (argc != 3)
		return 2;
	create = !strcmp(argv[1], "seal") || !strcmp(argv[1], "run-own");
	if (create)
		mkdir(argv[2], 0755);
	im.kernel_fd = img(argv[2], "kernel", 'k', create);
	im.initrd_fd = img(argv[2], "initrd", 'i', create);
	im.package_fd = img(argv[2], "package", 'p', create);
	if (im.kernel_fd < 0 || im.initrd_fd < 0 || im.package_fd < 0)
		return fail("images", -errno);
	snprintf(path, sizeof(path), "%s/state", argv[2]);
	if (!strcmp(argv[1], "seal")) {
		FILE *f;

		ret = seal(dev, im, state);
		if (ret)
			return fail("AVF_INSTANCE_SEAL", ret);
		f = fopen(path, "w");
		if (!f || fwrite(state, sizeof(state), 1, f) != 1 || fclose(f))
			return fail("write state", -EIO);
		return 0;
	}
	if (!strcmp(argv[1], "run")) {
		FILE *f = fopen(path, "r");
		int vm;

		if (!f || fread(state, sizeof(state), 1, f) != 1)
			return fail("read state", -EIO);
		fclose(f);
		vm = __avf_open_vm(dev, "probe", AVF_OPEN_CREATE);
		if (vm < 0)
			return fail("open", vm);
		ret = avf_become_vmm();
		if (ret)
			return fail("become the VMM uid", ret);
		return run(vm, im, state);
	}
	if (!strcmp(argv[1], "run-own")) {
		char name[32];
		int vm;

		ret = seal(dev, im, state);
		if (ret)
			return fail("AVF_INSTANCE_SEAL", ret);
		snprintf(name, sizeof(name), "own-%d", getpid());
		vm = __avf_open_vm(dev, name, AVF_OPEN_CREATE);
		if (vm < 0)
			return fail("open", vm);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);	/* as non-dumpable as a VMM */
		ret = run(vm, im, state);
		__avf_ioctl(vm, AVF_VM_DELETE, NULL);
		return ret;
	}
	return 2;
}
