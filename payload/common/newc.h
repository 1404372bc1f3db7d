/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal writer for the kernel's initramfs format (newc cpio). */
#ifndef AVF_PAYLOAD_NEWC_H
#define AVF_PAYLOAD_NEWC_H

#include <stddef.h>
#include <stdint.h>

struct avf_newc {
	unsigned char *buf;
	size_t len, cap;
	uint32_t ino;
	int error;
};

/* Append one entry (owner root:root, mtime 0). @mode includes the type. */
int avf_newc_add(struct avf_newc *c, const char *name, uint32_t mode,
		 const void *data, size_t size);
/* Append the TRAILER!!! entry; the archive is complete afterwards. */
int avf_newc_finish(struct avf_newc *c);
void avf_newc_free(struct avf_newc *c);

#endif
