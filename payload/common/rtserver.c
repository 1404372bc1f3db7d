// SPDX-License-Identifier: GPL-2.0
#include "rtserver.h"

#include <errno.h>
#include <string.h>

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
	case AVF_RT_OP_INSTANCE_SECRET:
	case AVF_RT_OP_IS_NEW_INSTANCE:
		/* the guest has no instance secret yet */
		return reply(out, h.op, -ENOSYS, NULL, 0);
	default:
		return reply(out, h.op, -ENOSYS, NULL, 0);
	}
}
