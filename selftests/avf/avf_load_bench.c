// SPDX-License-Identifier: GPL-2.0
/*
 * Not a test: the cost of measurement, for make bench. As root in the test
 * host (a child becomes the trusted VMM uid to bind):
 *
 *   avf_load_bench KERNEL INITRD PACKAGE [TRIALS]
 *
 * prints median milliseconds of
 *   seal_ms           AVF_INSTANCE_SEAL: hash the three images (create())
 *   load_file_ms      AVF_VMM_LOAD from regular files: hash + sealed copy
 *   load_memfd_ms     AVF_VMM_LOAD from sealed memfds: hash, no copy
 * load_file_ms - load_memfd_ms is what the measured-equals-booted copy costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "avf_id_util.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

/* A sealed memfd holding the contents of @path. */
static int sealed_copy(const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC), fd;
	char buf[1 << 16];
	ssize_t n;

	if (in < 0)
		return -1;
	fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	while (fd >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			n = -1;
	close(in);
	if (fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
			     F_SEAL_SEAL)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const char payload[] = "hello.so";
	double seal[32], lfile[32], lmem[32];
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	int trials = argc > 4 ? atoi(argv[4]) : 5, dev, t;
	int files[3], memfds[3];

	if (argc < 4 || trials < 1 || trials > 32) {
		fprintf(stderr, "usage: %s KERNEL INITRD PACKAGE [TRIALS<=32]\n", argv[0]);
		return 64;
	}
	dev = open("/dev/avf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("/dev/avf");
		return 69;
	}
	for (t = 0; t < 3; t++) {
		files[t] = open(argv[1 + t], O_RDONLY | O_CLOEXEC);
		memfds[t] = sealed_copy(argv[1 + t]);
		if (files[t] < 0 || memfds[t] < 0) {
			perror(argv[1 + t]);
			return 66;
		}
	}
	for (t = 0; t < trials; t++) {
		struct avf_images im = {
			.kernel_fd = files[0], .initrd_fd = files[1], .package_fd = files[2],
			.payload_name = (__u64)(uintptr_t)payload,
		};
		struct avf_instance_seal s = {
			.state = (__u64)(uintptr_t)state, .state_size = sizeof(state),
		};
		char name[AVF_NAME_MAX];
		int pass, vm, vmm;
		double t0;

		s.images = im;
		t0 = now_ms();
		if (__avf_ioctl(dev, AVF_INSTANCE_SEAL, &s)) {
			perror("AVF_INSTANCE_SEAL");
			return 70;
		}
		seal[t] = now_ms() - t0;
		for (pass = 0; pass < 2; pass++) {
			if (pass) {
				im.kernel_fd = memfds[0];
				im.initrd_fd = memfds[1];
				im.package_fd = memfds[2];
			}
			snprintf(name, sizeof(name), "bench-%d-%d-%d", getpid(), t, pass);
			vm = __avf_open_vm(dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL);
			vmm = vm < 0 ? -1 : avf_vmm_bind(vm);
			if (vmm < 0) {
				fprintf(stderr, "bind as the VMM uid failed: %s\n", strerror(-vmm));
				return 70;
			}
			t0 = now_ms();
			if (__avf_load(vmm, &im, state, NULL)) {
				perror("AVF_VMM_LOAD");
				return 70;
			}
			(pass ? lmem : lfile)[t] = now_ms() - t0;
			close(vmm);
			__avf_ioctl(vm, AVF_VM_DELETE, NULL);
			close(vm);
		}
	}
	printf("seal_ms %.1f ms\n", median(seal, trials));
	printf("load_file_ms %.1f ms\n", median(lfile, trials));
	printf("load_memfd_ms %.1f ms\n", median(lmem, trials));
	return 0;
}
