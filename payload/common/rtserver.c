// SPDX-License-Identifier: GPL-2.0
#include "rtserver.h"

#include <errno.h>
#include <string.h>

#include "secret.h"

static ssize_t reply(void *out, uint32_t op, int32_t status, const void *body, size_t len)
{
	struct avf_rt_hdr h = { .op = op, .status = status, .len = (uint32_t)len };

	if (len > AVF_RT_MAX_BODY)
		return reply(out, op, -EOVERFLOW, NULL, 0);
	memcpy(out, &h, sizeof(h));
	if (len)
		memcpy((char *)out + sizeof(h), body, len);
	return (ssize_t)(sizeof(h) + len);
}

ssize_t avf_rt_handle(struct avf_rt_state *st, const void *req, size_t n,
		      void *out, bool *send_ready)
{
	struct avf_rt_hdr h;

	*send_ready = false;
	if (n < sizeof(h) || n > AVF_RT_MAX_MSG)
		return -1;
	memcpy(&h, req, sizeof(h));
	if (h.len != n - sizeof(h) || h.reserved || h.status)
		return -1;

	switch (h.op) {
	case AVF_RT_OP_NOTIFY_READY:
		if (h.len)
			return reply(out, h.op, -EINVAL, NULL, 0);
		if (!st->ready_sent) {
			st->ready_sent = true;
			*send_ready = true;
		}
		return reply(out, h.op, 0, NULL, 0);
	case AVF_RT_OP_STORAGE_PATH:
		if (h.len)
			return reply(out, h.op, -EINVAL, NULL, 0);
		if (!st->storage_path)
			return reply(out, h.op, -ENOENT, NULL, 0);
		return reply(out, h.op, 0, st->storage_path, strlen(st->storage_path));
	case AVF_RT_OP_INSTANCE_SECRET: {
		unsigned char secret[AVF_PAYLOAD_SECRET_MAX];
		uint32_t size;
		ssize_t r;

		if (h.len < sizeof(size))
			return reply(out, h.op, -EINVAL, NULL, 0);
		memcpy(&size, (const char *)req + sizeof(h), sizeof(size));
		if (size == 0 || size > AVF_PAYLOAD_SECRET_MAX)
			return reply(out, h.op, -EINVAL, NULL, 0);
		if (!st->vm_secret)
			return reply(out, h.op, -ENOKEY, NULL, 0);
		if (avf_derive_payload_secret(st->vm_secret,
					      (const char *)req + sizeof(h) + sizeof(size),
					      h.len - sizeof(size), secret, size))
			return reply(out, h.op, -EIO, NULL, 0);
		r = reply(out, h.op, 0, secret, size);
		avf_wipe(secret, sizeof(secret));
		return r;
	}
	case AVF_RT_OP_IS_NEW_INSTANCE: {
		unsigned char v = st->new_instance;

		if (h.len)
			return reply(out, h.op, -EINVAL, NULL, 0);
		if (!st->new_instance_known)
			return reply(out, h.op, -ENOSYS, NULL, 0);
		return reply(out, h.op, 0, &v, 1);
	}
	default:
		return reply(out, h.op, -ENOSYS, NULL, 0);
	}
}
