// SPDX-License-Identifier: GPL-2.0
/* Guest RAM backed by one memfd, mapped shared so KVM and devices see one copy. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"

int gmem_init(struct guest_mem *m, uint64_t size)
{
	int ret;

	m->memfd = memfd_create("avf-guest-ram", MFD_CLOEXEC);
	if (m->memfd < 0)
		return -errno;
	if (ftruncate(m->memfd, (off_t)size) < 0) {
		ret = -errno;
		goto err_close;
	}
	m->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       m->memfd, 0);
	if (m->host == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	/* Guest memory must never end up in a core dump. */
	madvise(m->host, size, MADV_DONTDUMP);
	m->size = size;
	return 0;

err_close:
	close(m->memfd);
	m->memfd = -1;
	return ret;
}

void gmem_exit(struct guest_mem *m)
{
	if (!m->host)
		return;		/* never set up */
	munmap(m->host, m->size);
	close(m->memfd);
	m->host = NULL;
	m->memfd = -1;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
