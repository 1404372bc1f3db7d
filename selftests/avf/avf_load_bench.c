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
 *   load_cached_us    AVF_VMM_LOAD from regular files the measured-image
 *                     cache holds (a later run of the same images)
 *   seal_cached_us    AVF_INSTANCE_SEAL of the same
 * load_file_ms - load_memfd_ms is what the measured-equals-booted copy costs.
 * The first three run with the cache off (image_cache_mib=0), then it is
 * put back.
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
#define CACHE_MIB "/sys/module/avf/parameters/image_cache_mib"

/* Set image_cache_mib to @v; returns the previous value, or -1 (no cache). */
static long cache_mib(long v)
{
	char buf[32] = "";
	long prev;
	int fd = open(CACHE_MIB, O_RDWR | O_CLOEXEC), n;

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0) {
		close(fd);
		return -1;
	}
	prev = strtol(buf, NULL, 10);
	n = snprintf(buf, sizeof(buf), "%ld", v);
	if (pwrite(fd, buf, n, 0) != n)
		prev = -1;
	close(fd);
	return prev;
}

/* One LOAD of @im in a new instance; milliseconds, or a negative errno. */
static double load_once(int dev, const struct avf_images *im, const __u8 *state,
			const char *name)
{
	int vm = __avf_open_vm(dev, name, AVF_OPEN_CREATE | AVF_OPEN_EXCL), vmm, ret;
	double t0;

	vmm = vm < 0 ? vm : avf_vmm_bind(vm);
	if (vmm < 0) {
		fprintf(stderr, "bind as the VMM uid failed: %s\n", strerror(-vmm));
		return vmm;
	}
	t0 = now_ms();
	ret = __avf_load(vmm, im, state, NULL);
	t0 = now_ms() - t0;
	if (ret)
		fprintf(stderr, "AVF_VMM_LOAD: %s\n", strerror(-ret));
	close(vmm);
	__avf_ioctl(vm, AVF_VM_DELETE, NULL);
	close(vm);
	return ret ? ret : t0;
}

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
	double seal[32], lfile[32], lmem[32], lcached[32], scached[32];
	__u8 state[AVF_INSTANCE_STATE_SIZE];
	int trials = argc > 4 ? atoi(argv[4]) : 5, dev, t;
	int files[3], memfds[3];
	long prev_mib;

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
	prev_mib = cache_mib(0);
	for (t = 0; t < trials; t++) {
		struct avf_images im = {
			.kernel_fd = files[0], .initrd_fd = files[1], .package_fd = files[2],
			.payload_name = (__u64)(uintptr_t)payload,
		};
		struct avf_instance_seal s = {
			.state = (__u64)(uintptr_t)state, .state_size = sizeof(state),
		};
		char name[AVF_NAME_MAX];
		double t0;

		s.images = im;
		t0 = now_ms();
		if (__avf_ioctl(dev, AVF_INSTANCE_SEAL, &s)) {
			perror("AVF_INSTANCE_SEAL");
			return 70;
		}
		seal[t] = now_ms() - t0;
		snprintf(name, sizeof(name), "bench-%d-%d-file", getpid(), t);
		lfile[t] = load_once(dev, &im, state, name);
		im.kernel_fd = memfds[0];
		im.initrd_fd = memfds[1];
		im.package_fd = memfds[2];
		snprintf(name, sizeof(name), "bench-%d-%d-memfd", getpid(), t);
		lmem[t] = load_once(dev, &im, state, name);
		if (lfile[t] < 0 || lmem[t] < 0)
			return 70;
	}
	if (prev_mib > 0) {
		struct avf_images im = {
			.kernel_fd = files[0], .initrd_fd = files[1], .package_fd = files[2],
			.payload_name = (__u64)(uintptr_t)payload,
		};
		struct avf_instance_seal s = {
			.state = (__u64)(uintptr_t)state, .state_size = sizeof(state),
			.images = im,
		};
		char name[AVF_NAME_MAX];
		double t0;

		cache_mib(prev_mib);
		snprintf(name, sizeof(name), "bench-%d-warm", getpid());
		if (load_once(dev, &im, state, name) < 0)	/* fills the cache */
			return 70;
		for (t = 0; t < trials; t++) {
			snprintf(name, sizeof(name), "bench-%d-%d-cached", getpid(), t);
			lcached[t] = load_once(dev, &im, state, name) * 1000;
			if (lcached[t] < 0)
				return 70;
			t0 = now_ms();
			if (__avf_ioctl(dev, AVF_INSTANCE_SEAL, &s)) {
				perror("AVF_INSTANCE_SEAL");
				return 70;
			}
			scached[t] = (now_ms() - t0) * 1000;
		}
	}
	printf("seal_ms %.1f ms\n", median(seal, trials));
	printf("load_file_ms %.1f ms\n", median(lfile, trials));
	printf("load_memfd_ms %.1f ms\n", median(lmem, trials));
	if (prev_mib > 0) {
		printf("load_cached_us %.1f us\n", median(lcached, trials));
		printf("seal_cached_us %.1f us\n", median(scached, trials));
	} else {
		printf("load_cached_us nan us\nseal_cached_us nan us\n");
	}
	return 0;
}
