// SPDX-License-Identifier: GPL-2.0
/* avf RPC framing: header encoding and checking (rpcframe.h). */
#include "rpcframe.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void avf_rpc_hdr_encode(const struct avf_rpc_hdr *h, uint8_t out[AVF_RPC_HDR_SIZE])
{
	put32(out, AVF_RPC_MAGIC);
	put32(out + 4, h->len);
	put32(out + 8, h->call_id);
	put16(out + 12, h->method);
	put16(out + 14, h->flags);
	put32(out + 16, h->deadline_ms);
	put32(out + 20, (uint32_t)h->status);
	put32(out + 24, (uint32_t)h->app_code);
	put32(out + 28, 0);
}

int avf_rpc_hdr_decode(const uint8_t in[AVF_RPC_HDR_SIZE], uint32_t max_body,
		       struct avf_rpc_hdr *h)
{
	*h = (struct avf_rpc_hdr){ 0 };
	if (get32(in) != AVF_RPC_MAGIC)
		return AVF_RPC_S_BAD_FRAME;
	h->len = get32(in + 4);
	h->call_id = get32(in + 8);
	h->method = get16(in + 12);
	h->flags = get16(in + 14);
	h->deadline_ms = get32(in + 16);
	h->status = (int32_t)get32(in + 20);
	h->app_code = (int32_t)get32(in + 24);
	if ((h->flags & ~AVF_RPC_F_KNOWN) || get32(in + 28))
		return AVF_RPC_S_BAD_FRAME;
	if (h->flags & AVF_RPC_F_REPLY) {
		if (h->status < 0 || h->status > AVF_RPC_S_WIRE_MAX)
			return AVF_RPC_S_BAD_FRAME;
		if (h->status != AVF_RPC_S_APP_ERROR && h->app_code)
			return AVF_RPC_S_BAD_FRAME;
		if (h->status != AVF_RPC_S_OK && h->len > AVF_RPC_MAX_ERRMSG)
			return AVF_RPC_S_TOO_BIG;
	} else if (h->status || h->app_code) {
		return AVF_RPC_S_BAD_FRAME;
	}
	if (max_body > AVF_RPC_MAX_BODY)
		max_body = AVF_RPC_MAX_BODY;
	if (h->len > max_body)
		return AVF_RPC_S_TOO_BIG;
	return AVF_RPC_S_OK;
}

int avf_rpc_frame_parse(const uint8_t *buf, size_t n, uint32_t max_body,
			struct avf_rpc_hdr *h, size_t *frame_len)
{
	int r;

	*frame_len = 0;
	if (n < AVF_RPC_HDR_SIZE) {
		/* a wrong magic is known as soon as its bytes are there */
		for (size_t i = 0; i < n && i < 4; i++)
			if (buf[i] != (uint8_t)(AVF_RPC_MAGIC >> (8 * i)))
				return AVF_RPC_S_BAD_FRAME;
		return AVF_RPC_NEED_MORE;
	}
	r = avf_rpc_hdr_decode(buf, max_body, h);
	if (r)
		return r;
	if (n - AVF_RPC_HDR_SIZE < h->len)
		return AVF_RPC_NEED_MORE;
	*frame_len = AVF_RPC_HDR_SIZE + (size_t)h->len;
	return 0;
}

const char *avf_rpc_wire_status_name(int status)
{
	static const char *const names[] = {
		[AVF_RPC_S_OK] = "OK",
		[AVF_RPC_S_UNKNOWN_METHOD] = "UNKNOWN_METHOD",
		[AVF_RPC_S_BAD_MESSAGE] = "BAD_MESSAGE",
		[AVF_RPC_S_APP_ERROR] = "APP_ERROR",
		[AVF_RPC_S_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
		[AVF_RPC_S_TOO_BIG] = "TOO_BIG",
		[AVF_RPC_S_BAD_FRAME] = "BAD_FRAME",
		[AVF_RPC_S_INTERNAL] = "INTERNAL",
	};

	if (status < 0 || status > AVF_RPC_S_WIRE_MAX)
		return "UNKNOWN";
	return names[status];
}
