/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one newc ("070701") cpio writer of the tree, as the kernel's
 * initramfs unpacker reads it (Documentation/driver-api/early-userspace):
 * avf-vmm writes the per-run configuration archive with it, avf-mkconfig
 * the same archive for tests.
 */
#ifndef AVF_COMMON_NEWC_H
#define AVF_COMMON_NEWC_H

#include <stddef.h>
#include <stdint.h>

#define AVF_NEWC_HDR_SIZE	110
#define AVF_NEWC_NAME_MAX	4096	/* bytes of a name, including the NUL */

/**
 * struct avf_newc - an archive being written
 * @buf: the archive, @len bytes (capacity @cap).
 * @len: bytes written.
 * @cap: bytes allocated.
 * @ino: inode number of the last entry; set it before the first add to
 *	start elsewhere (a second archive appended to an initramfs).
 * @error: set once an allocation failed; every later call fails.
 */
struct avf_newc {
	unsigned char *buf;
	size_t len, cap;
	uint32_t ino;
	int error;
};

/*
 * Append one entry (owner root:root, mtime 0). @mode includes the file
 * type. Returns 0 or -errno (-EINVAL for a size or name too large,
 * -ENOMEM).
 */
int avf_newc_add(struct avf_newc *c, const char *name, uint32_t mode,
		 const void *data, size_t size);
/* Same; *data_off = where the entry's data starts in the archive. */
int avf_newc_add_at(struct avf_newc *c, const char *name, uint32_t mode,
		    const void *data, size_t size, size_t *data_off);
/* Append the TRAILER!!! entry; the archive is complete afterwards. */
int avf_newc_finish(struct avf_newc *c);
void avf_newc_free(struct avf_newc *c);

#endif
