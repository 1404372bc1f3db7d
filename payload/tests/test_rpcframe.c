// SPDX-License-Identifier: GPL-2.0
/* The avf RPC framing (common/rpcframe.h, Documentation/rpc.rst). */
#include <string.h>

/* the harness compares its int literals with the header's unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"

#include "kselftest_harness.h"
#include "rpcframe.h"

static const uint8_t golden[AVF_RPC_HDR_SIZE] = {
	'A', 'V', 'R', '1',		/* magic */
	0x10, 0x00, 0x00, 0x00,		/* len 16 */
	0x78, 0x56, 0x34, 0x12,		/* call id */
	0x05, 0x00,			/* method 5 */
	0x01, 0x00,			/* reply */
	0xe8, 0x03, 0x00, 0x00,		/* deadline 1000 */
	0x03, 0x00, 0x00, 0x00,		/* APP_ERROR */
	0xfe, 0xff, 0xff, 0xff,		/* app code -2 */
	0, 0, 0, 0,
};

TEST(encode_is_little_endian_and_fixed)
{
	struct avf_rpc_hdr h = {
		.len = 16, .call_id = 0x12345678, .method = 5, .flags = AVF_RPC_F_REPLY,
		.deadline_ms = 1000, .status = AVF_RPC_S_APP_ERROR, .app_code = -2,
	};
	uint8_t b[AVF_RPC_HDR_SIZE];

	avf_rpc_hdr_encode(&h, b);
	ASSERT_EQ(0, memcmp(golden, b, sizeof(b)));
}

TEST(decode_round_trip)
{
	struct avf_rpc_hdr h;

	ASSERT_EQ(AVF_RPC_S_OK, avf_rpc_hdr_decode(golden, AVF_RPC_MAX_BODY, &h));
	EXPECT_EQ(16, h.len);
	EXPECT_EQ(0x12345678, h.call_id);
	EXPECT_EQ(5, h.method);
	EXPECT_EQ(AVF_RPC_F_REPLY, h.flags);
	EXPECT_EQ(1000, h.deadline_ms);
	EXPECT_EQ(AVF_RPC_S_APP_ERROR, h.status);
	EXPECT_EQ(-2, h.app_code);
}

TEST(decode_refuses_what_is_not_a_header)
{
	struct avf_rpc_hdr h;
	uint8_t b[AVF_RPC_HDR_SIZE];

	/* every single-byte change of magic, flags or reserved */
	for (int i = 0; i < AVF_RPC_HDR_SIZE; i++) {
		if ((i >= 4 && i < 14) || (i >= 16 && i < 28))
			continue;
		memcpy(b, golden, sizeof(b));
		b[i] ^= 0x40;
		EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h))
			TH_LOG("byte %d", i);
	}
	/* a request with a status or an app code */
	memcpy(b, golden, sizeof(b));
	b[14] = 0;
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
	b[20] = 0;
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
	memset(b + 24, 0, 4);
	EXPECT_EQ(AVF_RPC_S_OK, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
	/* a reply status outside the wire's, negative or too high */
	memcpy(b, golden, sizeof(b));
	memset(b + 24, 0, 4);
	b[20] = AVF_RPC_S_WIRE_MAX + 1;
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
	b[20] = 0xff;
	b[21] = b[22] = b[23] = 0xff;
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
	/* an app code without APP_ERROR */
	memcpy(b, golden, sizeof(b));
	b[20] = AVF_RPC_S_INTERNAL;
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &h));
}

TEST(size_limits)
{
	struct avf_rpc_hdr h = { .call_id = 9 }, d;
	uint8_t b[AVF_RPC_HDR_SIZE];

	h.len = AVF_RPC_MAX_BODY;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_OK, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &d));
	h.len = AVF_RPC_MAX_BODY + 1;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &d));
	EXPECT_EQ(9, d.call_id);	/* known, to answer the refusal */
	/* a caller's limit above the protocol's does not raise it */
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_hdr_decode(b, UINT32_MAX, &d));
	h.len = 100;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_hdr_decode(b, 99, &d));
	h.len = UINT32_MAX;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &d));
	/* error texts are bounded on their own */
	h.flags = AVF_RPC_F_REPLY;
	h.status = AVF_RPC_S_INTERNAL;
	h.len = AVF_RPC_MAX_ERRMSG;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_OK, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &d));
	h.len = AVF_RPC_MAX_ERRMSG + 1;
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_hdr_decode(b, AVF_RPC_MAX_BODY, &d));
}

TEST(parse_incrementally)
{
	uint8_t buf[2 * (AVF_RPC_HDR_SIZE + 5)];
	struct avf_rpc_hdr h = { .len = 5, .call_id = 1, .method = 2 }, d;
	size_t flen, n;

	avf_rpc_hdr_encode(&h, buf);
	memcpy(buf + AVF_RPC_HDR_SIZE, "hello", 5);
	h.call_id = 2;
	avf_rpc_hdr_encode(&h, buf + AVF_RPC_HDR_SIZE + 5);
	memcpy(buf + 2 * AVF_RPC_HDR_SIZE + 5, "world", 5);
	/* every prefix of the first frame needs more; the whole one parses */
	for (n = 0; n < AVF_RPC_HDR_SIZE + 5; n++) {
		ASSERT_EQ(AVF_RPC_NEED_MORE, avf_rpc_frame_parse(buf, n, AVF_RPC_MAX_BODY, &d, &flen))
			TH_LOG("prefix %zu", n);
		ASSERT_EQ(0, flen);
	}
	ASSERT_EQ(0, avf_rpc_frame_parse(buf, sizeof(buf), AVF_RPC_MAX_BODY, &d, &flen));
	EXPECT_EQ(AVF_RPC_HDR_SIZE + 5, flen);
	EXPECT_EQ(1, d.call_id);
	ASSERT_EQ(0, avf_rpc_frame_parse(buf + flen, sizeof(buf) - flen, AVF_RPC_MAX_BODY, &d,
					 &flen));
	EXPECT_EQ(2, d.call_id);
	EXPECT_EQ(0, memcmp(buf + sizeof(buf) - 5, "world", 5));
}

TEST(parse_refuses_early)
{
	struct avf_rpc_hdr h = { .len = AVF_RPC_MAX_BODY + 1 }, d;
	uint8_t b[AVF_RPC_HDR_SIZE];
	size_t flen;

	/* a wrong magic is refused from its first byte, not after 32 */
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_frame_parse((const uint8_t *)"G", 1,
							   AVF_RPC_MAX_BODY, &d, &flen));
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, avf_rpc_frame_parse((const uint8_t *)"AVRx", 4,
							   AVF_RPC_MAX_BODY, &d, &flen));
	EXPECT_EQ(AVF_RPC_NEED_MORE, avf_rpc_frame_parse((const uint8_t *)"AVR1", 4,
							 AVF_RPC_MAX_BODY, &d, &flen));
	/* an oversized body is refused on the header, without waiting for it */
	avf_rpc_hdr_encode(&h, b);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, avf_rpc_frame_parse(b, sizeof(b), AVF_RPC_MAX_BODY, &d,
							 &flen));
	EXPECT_EQ(0, flen);
}

TEST(status_names)
{
	EXPECT_STREQ("OK", avf_rpc_wire_status_name(AVF_RPC_S_OK));
	EXPECT_STREQ("APP_ERROR", avf_rpc_wire_status_name(AVF_RPC_S_APP_ERROR));
	EXPECT_STREQ("INTERNAL", avf_rpc_wire_status_name(AVF_RPC_S_WIRE_MAX));
	EXPECT_STREQ("UNKNOWN", avf_rpc_wire_status_name(-1));
	EXPECT_STREQ("UNKNOWN", avf_rpc_wire_status_name(AVF_RPC_S_WIRE_MAX + 1));
}

TEST_HARNESS_MAIN
