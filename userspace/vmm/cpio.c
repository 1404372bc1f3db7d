// SPDX-License-Identifier: GPL-2.0
/* newc ("070701") cpio writer for the configuration archive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

#define CPIO_HDR_BYTES	110

static int reserve(struct cpio_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 512;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void pad4(struct cpio_buf *b)
{
	while (b->len & 3)
		b->data[b->len++] = 0;
}

int cpio_add(struct cpio_buf *b, const char *name, uint32_t mode, const void *data,
	     size_t len)
{
	size_t off;

	return cpio_add_at(b, name, mode, data, len, &off);
}

int cpio_add_at(struct cpio_buf *b, const char *name, uint32_t mode, const void *data,
		size_t len, size_t *data_off)
{
	static unsigned int ino = 0x41560000;	/* stays clear of the first archive */
	size_t namesz = strlen(name) + 1;
	char hdr[CPIO_HDR_BYTES + 1];
	int ret;

	if (len > UINT32_MAX || namesz > 4096)
		return -EINVAL;
	ret = reserve(b, CPIO_HDR_BYTES + namesz + 3 + len + 3);
	if (ret)
		return ret;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino++, mode, 0U, 0U, 1U, 0U, (unsigned int)len, 0U, 0U, 0U, 0U,
		 (unsigned int)namesz, 0U);
	memcpy(b->data + b->len, hdr, CPIO_HDR_BYTES);
	b->len += CPIO_HDR_BYTES;
	memcpy(b->data + b->len, name, namesz);
	b->len += namesz;
	pad4(b);
	*data_off = b->len;
	if (len) {
		memcpy(b->data + b->len, data, len);
		b->len += len;
	}
	pad4(b);
	return 0;
}

int cpio_finish(struct cpio_buf *b)
{
	return cpio_add(b, "TRAILER!!!", 0, NULL, 0);
}

void cpio_free(struct cpio_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
