// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: RPC message decoding, both directions.
 *
 *  - as the server reads them: the input is a stream of request frames,
 *    split with avf_rpc_frame_parse() and each body unpacked as its
 *    method's input message, as AVmPayload_runVsockRpcServer does;
 *  - as the client reads them: the input is what a server sent on the
 *    connection (a socketpair), and avf_rpc_call() makes calls of every
 *    method until the connection fails, so the client's reply parsing,
 *    late-reply skipping and message unpacking all see it.
 *
 * The interface is the example's (selftests/api/payloads/calc.proto).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "avf/rpc.h"
#include "rpcframe.h"
#include "calc.pb-c.h"

static void as_server(const uint8_t *data, size_t size)
{
	const ProtobufCServiceDescriptor *d = &calc__calculator__descriptor;

	for (;;) {
		struct avf_rpc_hdr h;
		size_t flen;
		ProtobufCMessage *m;

		if (avf_rpc_frame_parse(data, size, AVF_RPC_MAX_BODY, &h, &flen))
			return;
		if (!(h.flags & AVF_RPC_F_REPLY) && h.method < d->n_methods) {
			m = protobuf_c_message_unpack(d->methods[h.method].input, NULL, h.len,
						      data + AVF_RPC_HDR_SIZE);
			if (m) {
				/* what decoded packs again within the limit */
				size_t n = protobuf_c_message_get_packed_size(m);
				uint8_t *b = malloc(n ? n : 1);

				if (!b || protobuf_c_message_pack(m, b) != n)
					abort();
				free(b);
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
		data += flen;
		size -= flen;
	}
}

static void as_client(const uint8_t *data, size_t size)
{
	const ProtobufCServiceDescriptor *d = &calc__calculator__descriptor;
	Calc__AddRequest add = CALC__ADD_REQUEST__INIT;
	Calc__DivRequest div = CALC__DIV_REQUEST__INIT;
	Calc__EchoRequest echo = CALC__ECHO_REQUEST__INIT;
	Calc__SleepRequest sl = CALC__SLEEP_REQUEST__INIT;
	Calc__Empty empty = CALC__EMPTY__INIT;
	Calc__ExitRequest ex = CALC__EXIT_REQUEST__INIT;
	const ProtobufCMessage *req[] = { &add.base, &div.base, &echo.base, &sl.base, &empty.base,
					  &ex.base };
	struct avf_rpc_client *c;
	int sv[2], bufsz = 1 << 20;

	_Static_assert(sizeof(req) / sizeof(req[0]) == 6, "one request per method");
	if (d->n_methods != 6 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	/* the whole "server" output is in the socket before the first call */
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	c = avf_rpc_client_from_fd(sv[0], d);
	if (!c)
		abort();
	for (unsigned i = 0; i < 64; i++) {
		ProtobufCMessage *out;
		int st = avf_rpc_call(c, i % 6, req[i % 6], &out, 1000);

		if (st == AVF_RPC_OK) {
			if (!out || out->descriptor != d->methods[i % 6].output)
				abort();
			protobuf_c_message_free_unpacked(out, NULL);
		} else if (out) {
			abort();
		}
		if (!avf_rpc_client_last_error(c))
			abort();
		if (st == AVF_RPC_PEER_GONE || st == AVF_RPC_DEADLINE_EXCEEDED)
			break;
	}
	avf_rpc_client_close(c);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_server(data, size);
	as_client(data, size);
	return 0;
}
