// SPDX-License-Identifier: GPL-2.0
#include "newc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int put(struct avf_newc *c, const void *p, size_t n)
{
	if (c->error)
		return -ENOMEM;
	if (n > SIZE_MAX / 2 - c->len) {
		c->error = 1;
		return -ENOMEM;
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 1024;
		unsigned char *nb;

		while (cap < c->len + n)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb) {
			c->error = 1;
			return -ENOMEM;
		}
		c->buf = nb;
		c->cap = cap;
	}
	if (n)
		memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

static int pad4(struct avf_newc *c)
{
	static const unsigned char zero[4];

	return put(c, zero, (4 - (c->len & 3)) & 3);
}

int avf_newc_add_at(struct avf_newc *c, const char *name, uint32_t mode,
		    const void *data, size_t size, size_t *data_off)
{
	char hdr[AVF_NEWC_HDR_SIZE + 1];
	size_t nlen = strlen(name) + 1;
	int ret;

	if (c->error)
		return -ENOMEM;
	if (size > UINT32_MAX || nlen > AVF_NEWC_NAME_MAX)
		return -EINVAL;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++c->ino, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (uint32_t)size,
		 0u, 0u, 0u, 0u, (uint32_t)nlen, 0u);
	ret = put(c, hdr, AVF_NEWC_HDR_SIZE);
	ret = ret ?: put(c, name, nlen);
	ret = ret ?: pad4(c);
	if (ret)
		return ret;
	*data_off = c->len;
	ret = put(c, data, size);
	return ret ?: pad4(c);
}

int avf_newc_add(struct avf_newc *c, const char *name, uint32_t mode,
		 const void *data, size_t size)
{
	size_t off;

	return avf_newc_add_at(c, name, mode, data, size, &off);
}

int avf_newc_finish(struct avf_newc *c)
{
	return avf_newc_add(c, "TRAILER!!!", 0, NULL, 0);
}

void avf_newc_free(struct avf_newc *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}
