/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avf RPC framing (Documentation/rpc.rst): the byte layout both ends of an
 * RPC connection speak over a vsock stream, shared by the server in
 * libvm_payload and the client in libavf so the two cannot drift. Message
 * bodies are protobuf messages marshalled by protobuf-c; this layer only
 * frames, numbers and answers them.
 *
 * A frame is a fixed 32-byte header, little-endian, then @len body bytes:
 *
 *   off size field
 *     0    4 magic      AVF_RPC_MAGIC ("AVR1" on the wire)
 *     4    4 len        body bytes that follow, 0..AVF_RPC_MAX_BODY
 *     8    4 call_id    chosen by the client; a reply carries its request's
 *    12    2 method     index into the service descriptor's methods[]
 *    14    2 flags      AVF_RPC_F_REPLY on replies; other bits must be 0
 *    16    4 deadline   request: ms the client waits (0: no deadline)
 *    20    4 status     reply: enum avf_rpc_wire_status; request: 0
 *    24    4 app_code   reply with AVF_RPC_S_APP_ERROR: the service's code
 *    28    4 reserved   0
 *
 * Request body: the method's input message. Reply body: with status OK the
 * output message; otherwise a UTF-8 error text of at most
 * AVF_RPC_MAX_ERRMSG bytes (no NUL).
 *
 * Errors in a frame header (bad magic, unknown flags, @len above the
 * limit) are fatal for the connection: the receiver cannot find the next
 * frame, so a server answers with AVF_RPC_S_BAD_FRAME or
 * AVF_RPC_S_TOO_BIG (call id 0 when it could not read one) and closes that
 * connection, and a client fails the call and the connection. Neither
 * process dies, and other connections go on. A body that does not decode
 * as the method's message is an error of that call only
 * (AVF_RPC_S_BAD_MESSAGE).
 */
#ifndef AVF_COMMON_RPCFRAME_H
#define AVF_COMMON_RPCFRAME_H

#include <stddef.h>
#include <stdint.h>

#define AVF_RPC_MAGIC		0x31525641u	/* "AVR1" little-endian */
#define AVF_RPC_HDR_SIZE	32
#define AVF_RPC_MAX_BODY	(256u * 1024)	/* bytes of one message */
#define AVF_RPC_MAX_FRAME	(AVF_RPC_HDR_SIZE + AVF_RPC_MAX_BODY)
#define AVF_RPC_MAX_ERRMSG	1024		/* bytes of an error text */
#define AVF_RPC_MAX_METHODS	65535		/* method indices are 16-bit */
#define AVF_RPC_F_REPLY		0x0001u
#define AVF_RPC_F_KNOWN		AVF_RPC_F_REPLY

/*
 * Status of a reply. The values are the wire format and also those of
 * enum avf_rpc_status in <avf/rpc.h> (which adds the client's own).
 */
enum avf_rpc_wire_status {
	AVF_RPC_S_OK = 0,
	AVF_RPC_S_UNKNOWN_METHOD = 1,	/* no method of that index */
	AVF_RPC_S_BAD_MESSAGE = 2,	/* the body did not decode as the message */
	AVF_RPC_S_APP_ERROR = 3,	/* the service failed the call (code, text) */
	AVF_RPC_S_DEADLINE_EXCEEDED = 4, /* the deadline passed before the call ran */
	AVF_RPC_S_TOO_BIG = 5,		/* a frame's len above AVF_RPC_MAX_BODY */
	AVF_RPC_S_BAD_FRAME = 6,	/* a header that is not ours */
	AVF_RPC_S_INTERNAL = 7,		/* the server could not run the call */
	AVF_RPC_S_WIRE_MAX = AVF_RPC_S_INTERNAL,
};

struct avf_rpc_hdr {
	uint32_t len;
	uint32_t call_id;
	uint16_t method;
	uint16_t flags;
	uint32_t deadline_ms;
	int32_t status;
	int32_t app_code;
};

/* Writes @h as AVF_RPC_HDR_SIZE bytes at @out (magic and reserved filled in). */
void avf_rpc_hdr_encode(const struct avf_rpc_hdr *h, uint8_t out[AVF_RPC_HDR_SIZE]);

/*
 * Decodes and checks the header at @in. Returns AVF_RPC_S_OK, or
 * AVF_RPC_S_BAD_FRAME (bad magic, unknown flags, nonzero reserved, a
 * request with a status, a reply status outside the wire values) or
 * AVF_RPC_S_TOO_BIG (len above @max_body, which is at most
 * AVF_RPC_MAX_BODY); @h is filled in as far as it could be read (call_id
 * is valid whenever the magic was).
 */
int avf_rpc_hdr_decode(const uint8_t in[AVF_RPC_HDR_SIZE], uint32_t max_body,
		       struct avf_rpc_hdr *h);

/*
 * Incremental frame parsing over a byte buffer (a stream's receive buffer):
 * with @n bytes at @buf, returns 0 and fills @h and *@frame_len (header +
 * body) when a whole valid frame is there, AVF_RPC_NEED_MORE when more
 * bytes are needed, or a positive wire status (BAD_FRAME, TOO_BIG) as soon
 * as the header is there and bad. Never reads beyond @n.
 */
#define AVF_RPC_NEED_MORE	(-1)
int avf_rpc_frame_parse(const uint8_t *buf, size_t n, uint32_t max_body,
			struct avf_rpc_hdr *h, size_t *frame_len);

/* Name of a wire status ("APP_ERROR"), or "UNKNOWN" outside the range. */
const char *avf_rpc_wire_status_name(int status);

#endif /* AVF_COMMON_RPCFRAME_H */
