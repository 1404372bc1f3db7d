// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM: one anonymous private mapping, as QEMU's default RAM backend.
 * (A shared memfd here made nested guests crash and freeze under device
 * load on the emulated test host: issue 12, vmm.rst "Guest RAM".)
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"

int gmem_init(struct guest_mem *m, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->host = p;
	/* Guest memory must never end up in a core dump, nor in a child. */
	madvise(m->host, size, MADV_DONTDUMP);
	madvise(m->host, size, MADV_DONTFORK);
	m->size = size;
	return 0;
}

void gmem_exit(struct guest_mem *m)
{
	if (!m->host)
		return;		/* never set up */
	munmap(m->host, m->size);
	m->host = NULL;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
