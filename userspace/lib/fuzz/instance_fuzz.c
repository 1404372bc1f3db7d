// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the instance.img header check, over a memfd holding the input.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[AVF_ERRMSG_MAX];
	int fd = memfd_create("instance.img", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size)
		avf__check_instance_img(fd, err);
	close(fd);
	return 0;
}
