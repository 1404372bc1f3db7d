// SPDX-License-Identifier: GPL-2.0
/* newc cpio as read by the kernel (Documentation/driver-api/early-userspace). */
#include "newc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int put(struct avf_newc *c, const void *p, size_t n)
{
	if (c->error)
		return -1;
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 1024;
		unsigned char *nb;

		while (cap < c->len + n)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb) {
			c->error = 1;
			return -1;
		}
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

static int pad4(struct avf_newc *c)
{
	static const unsigned char zero[4];

	return put(c, zero, (4 - (c->len & 3)) & 3);
}

int avf_newc_add(struct avf_newc *c, const char *name, uint32_t mode,
		 const void *data, size_t size)
{
	char hdr[111];
	size_t nlen = strlen(name) + 1;

	if (size > UINT32_MAX || nlen > 4096)
		return -1;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++c->ino, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (uint32_t)size,
		 0u, 0u, 0u, 0u, (uint32_t)nlen, 0u);
	if (put(c, hdr, 110) || put(c, name, nlen) || pad4(c))
		return -1;
	if (size && (put(c, data, size) || pad4(c)))
		return -1;
	return 0;
}

int avf_newc_finish(struct avf_newc *c)
{
	c->ino = 0;
	return avf_newc_add(c, "TRAILER!!!", 0, NULL, 0);
}

void avf_newc_free(struct avf_newc *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}
