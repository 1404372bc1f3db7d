// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper for identity persistence across module reloads (run by
 * avf_uds_persist.sh in the test host). It plays a VMM and prints the VM
 * secret it was handed: test builds only, never part of the product.
 *
 *   avf_secret_probe seal DIR     make DIR/{kernel,initrd,package}, seal DIR/state
 *   avf_secret_probe run DIR      start instance "probe" from DIR/state,
 *                                 print the secret (hex) or "error: NAME"
 *   avf_secret_probe addkey HEX   add logon key "avf:uds" to root's user keyring
 *   avf_secret_probe loaduds      AVF_UDS_LOAD
 *   avf_secret_probe caps         print capability flags
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
#include "avf_util.h"

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

int main(int argc, char **argv)
{
	int dev = open("/dev/avf", O_RDWR), ret;
	struct avf_images im = { .debug_level = AVF_DEBUG_FULL };
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	char path[512];

	if (argc < 2 || dev < 0)
		return fprintf(stderr, "usage: see source; /dev/avf needed\n"), 2;
	if (!strcmp(argv[1], "addkey") && argc == 3) {
		long k = syscall(SYS_add_key, "logon", "avf:uds", argv[2], strlen(argv[2]),
				 KEY_SPEC_USER_KEYRING);
		return k < 0 ? fail("add_key", -errno) : 0;
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
		printf("%s\n", c.flags & AVF_CAPS_UDS_PERSISTENT ? "persistent" : "ephemeral");
		return 0;
	}
	if (argc != 3)
		return 2;
	mkdir(argv[2], 0755);
	im.kernel_fd = img(argv[2], "kernel", 'k', !strcmp(argv[1], "seal"));
	im.initrd_fd = img(argv[2], "initrd", 'i', !strcmp(argv[1], "seal"));
	im.package_fd = img(argv[2], "package", 'p', !strcmp(argv[1], "seal"));
	if (im.kernel_fd < 0 || im.initrd_fd < 0 || im.package_fd < 0)
		return fail("images", -errno);
	snprintf(path, sizeof(path), "%s/state", argv[2]);
	if (!strcmp(argv[1], "seal")) {
		struct avf_instance_seal s = { .images = im, .state = (__u64)(uintptr_t)state,
					       .state_size = sizeof(state) };
		FILE *f;

		ret = __avf_ioctl(dev, AVF_INSTANCE_SEAL, &s);
		if (ret)
			return fail("AVF_INSTANCE_SEAL", ret);
		f = fopen(path, "w");
		if (!f || fwrite(state, sizeof(state), 1, f) != 1 || fclose(f))
			return fail("write state", -EIO);
		return 0;
	}
	if (!strcmp(argv[1], "run")) {
		FILE *f = fopen(path, "r");
		int vm, vmm, mem;
		__u8 secret[AVF_SECRET_SIZE];
		struct avf_vmm_start s = { .images = im, .state = (__u64)(uintptr_t)state,
					   .state_size = sizeof(state), .secret_offset = 64 };

		if (!f || fread(state, sizeof(state), 1, f) != 1)
			return fail("read state", -EIO);
		fclose(f);
		vm = __avf_open_vm(dev, "probe", AVF_OPEN_CREATE);
		vmm = vm < 0 ? vm : __avf_bind(vm, NULL);
		if (vmm < 0)
			return fail("bind", vmm);
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
	return 2;
}
