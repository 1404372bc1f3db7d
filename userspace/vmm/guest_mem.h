/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical memory: one contiguous host mapping of GPA [0, size).
 * Every translation is bounds- and overflow-checked; the guest is hostile.
 */
#ifndef AVF_VMM_GUEST_MEM_H
#define AVF_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;
	uint64_t size;
	int memfd;
};

/* Host pointer for [gpa, gpa+len), or NULL if any byte lies outside RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

static inline bool gmem_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(m, gpa, len) != NULL;
}

int gmem_init(struct guest_mem *m, uint64_t size);
void gmem_exit(struct guest_mem *m);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);

#endif
