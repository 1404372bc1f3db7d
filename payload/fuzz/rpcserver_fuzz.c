// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: libvm_payload's RPC server (avf_rpc_serve_conn) reading
 * the input as what a host sent on one connection. A second thread reads
 * what the server answers; every byte of it must be well-formed reply
 * frames (common/rpcframe.h). The service is the example's Calculator
 * (selftests/api/payloads/calc.proto) with handlers that answer at once.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm_payload.h"
#include "rpcframe.h"
#include "../libvm_payload/rpc_server.h"
#include "calc.pb-c.h"

static void f_add(Calc__Calculator_Service *s, const Calc__AddRequest *in,
		  Calc__AddReply_Closure closure, void *data)
{
	Calc__AddReply out = CALC__ADD_REPLY__INIT;

	(void)s;
	out.sum = (int64_t)((uint64_t)in->a + (uint64_t)in->b);
	closure(&out, data);
}

static void f_divide(Calc__Calculator_Service *s, const Calc__DivRequest *in,
		     Calc__DivReply_Closure closure, void *data)
{
	(void)s;
	(void)in;
	AVmPayload_failRpcCall(data, 1, "no");
	closure(NULL, data);
}

static void f_echo(Calc__Calculator_Service *s, const Calc__EchoRequest *in,
		   Calc__EchoReply_Closure closure, void *data)
{
	Calc__EchoReply out = CALC__ECHO_REPLY__INIT;

	(void)s;
	out.data = in->data;
	closure(&out, data);
}

static void f_sleep(Calc__Calculator_Service *s, const Calc__SleepRequest *in,
		    Calc__Empty_Closure closure, void *data)
{
	(void)s;
	(void)in;
	(void)closure;
	(void)data;	/* no answer: INTERNAL */
}

static void f_stats(Calc__Calculator_Service *s, const Calc__Empty *in,
		    Calc__StatsReply_Closure closure, void *data)
{
	Calc__EchoReply wrong = CALC__ECHO_REPLY__INIT;

	(void)s;
	(void)in;
	closure((const Calc__StatsReply *)&wrong, data);	/* the wrong type */
}

static void f_exit(Calc__Calculator_Service *s, const Calc__ExitRequest *in,
		   Calc__Empty_Closure closure, void *data)
{
	(void)s;
	(void)in;
	closure(NULL, data);
}

static Calc__Calculator_Service svc = CALC__CALCULATOR__INIT(f_);

/* Reads the server's output to EOF and checks it is reply frames only. */
static void *drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static uint8_t buf[AVF_RPC_MAX_FRAME + 4096];
	size_t have = 0;
	ssize_t n;

	for (;;) {
		struct avf_rpc_hdr h;
		size_t flen;
		int r = avf_rpc_frame_parse(buf, have, AVF_RPC_MAX_BODY, &h, &flen);

		if (r == 0) {
			if (!(h.flags & AVF_RPC_F_REPLY))
				abort();
			have -= flen;
			memmove(buf, buf + flen, have);
			continue;
		}
		if (r != AVF_RPC_NEED_MORE)
			abort();	/* the server sent something malformed */
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	if (have)
		abort();	/* a frame cut short */
	close(fd);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], bufsz = 1 << 20;
	pthread_t t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (size && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	if (pthread_create(&t, NULL, drain, (void *)(intptr_t)sv[0]))
		abort();
	avf_rpc_serve_conn(&svc.base, sv[1]);	/* closes sv[1] */
	pthread_join(t, NULL);
	return 0;
}
