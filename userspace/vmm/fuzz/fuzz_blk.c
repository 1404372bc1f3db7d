// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: virtio-blk request parsing and execution through the queue. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_guest.h"
#include "virtio_blk.h"

#define FZ_DISK_BYTES	(16 * 512 + 7)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int disk_fd(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, FZ_DISK_BYTES) < 0)
			abort();
	}
	return dup(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blk_dev b;
	struct guest_mem m;

	if (size < 1)
		return 0;
	fz_mem(&m, data + 1, size - 1);
	if (blk_dev_init(&b, &m, disk_fd(), data[0] & 1, "fuzz"))
		abort();
	fz_activate(&b.vd, 1, data[0] & 2);
	virtio_dev_process(&b.vd);
	blk_dev_exit(&b);
	free(m.host);
	return 0;
}
