// SPDX-License-Identifier: GPL-2.0
/*
 * The example RPC payload (Documentation/rpc.rst): serves the Calculator
 * of calc.proto on vsock port CALC_PORT with AVmPayload_runVsockRpcServer()
 * and reports ready once it listens, as a payload serving Binder RPC does
 * on Android. Divide shows the error path (AVmPayload_failRpcCall).
 *
 * Test hooks besides the interface: Sleep and Exit, and a deliberately
 * broken server on CALC_BAD_PORT that answers with frames no client must
 * accept (calc_rpc.h), for the tests that the host survives a bad peer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "vm_payload.h"
#include "calc.pb-c.h"
#include "calc_rpc.h"

static atomic_ulong calls;

static void calc_add(Calc__Calculator_Service *svc, const Calc__AddRequest *in,
		     Calc__AddReply_Closure closure, void *closure_data)
{
	Calc__AddReply out = CALC__ADD_REPLY__INIT;

	(void)svc;
	atomic_fetch_add(&calls, 1);
	/* wraps like two's complement, without signed overflow */
	out.sum = (int64_t)((uint64_t)in->a + (uint64_t)in->b);
	closure(&out, closure_data);
}

static void calc_divide(Calc__Calculator_Service *svc, const Calc__DivRequest *in,
			Calc__DivReply_Closure closure, void *closure_data)
{
	Calc__DivReply out = CALC__DIV_REPLY__INIT;

	(void)svc;
	atomic_fetch_add(&calls, 1);
	if (in->divisor == 0) {
		AVmPayload_failRpcCall(closure_data, CALC_EDIVZERO, "division by zero");
		return;
	}
	if (in->dividend == INT64_MIN && in->divisor == -1) {
		AVmPayload_failRpcCall(closure_data, CALC_EOVERFLOW, "INT64_MIN / -1 overflows");
		return;
	}
	out.quotient = in->dividend / in->divisor;
	out.remainder = in->dividend % in->divisor;
	closure(&out, closure_data);
}

static void calc_echo(Calc__Calculator_Service *svc, const Calc__EchoRequest *in,
		      Calc__EchoReply_Closure closure, void *closure_data)
{
	Calc__EchoReply out = CALC__ECHO_REPLY__INIT;

	(void)svc;
	atomic_fetch_add(&calls, 1);
	out.data = in->data;
	closure(&out, closure_data);
}

static void calc_sleep(Calc__Calculator_Service *svc, const Calc__SleepRequest *in,
		       Calc__Empty_Closure closure, void *closure_data)
{
	Calc__Empty out = CALC__EMPTY__INIT;
	struct timespec ts = { .tv_sec = in->ms / 1000, .tv_nsec = (in->ms % 1000) * 1000000L };

	(void)svc;
	atomic_fetch_add(&calls, 1);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	closure(&out, closure_data);
}

static void calc_stats(Calc__Calculator_Service *svc, const Calc__Empty *in,
		       Calc__StatsReply_Closure closure, void *closure_data)
{
	Calc__StatsReply out = CALC__STATS_REPLY__INIT;

	(void)svc;
	(void)in;
	out.calls = atomic_fetch_add(&calls, 1) + 1;
	closure(&out, closure_data);
}

static void calc_exit(Calc__Calculator_Service *svc, const Calc__ExitRequest *in,
		      Calc__Empty_Closure closure, void *closure_data)
{
	(void)svc;
	(void)closure;
	(void)closure_data;
	/* no reply: the host must see the connection go, not wait forever */
	_exit(in->code);
}

static Calc__Calculator_Service calc = CALC__CALCULATOR__INIT(calc_);

/* ---- test hook: a server that breaks the framing on purpose ---- */

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* The little-endian frame header of common/rpcframe.h, by hand. */
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void bad_answer(int c)
{
	uint8_t h[32], body[4096];
	uint32_t len, id;
	uint16_t method;

	for (;;) {
		if (read_full(c, h, sizeof(h)))
			return;
		len = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
		id = h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24;
		method = (uint16_t)(h[12] | h[13] << 8);
		if (len > sizeof(body) || read_full(c, body, len))
			return;
		memset(h, 0, sizeof(h));
		put32(h, 0x31525641u);		/* magic */
		put32(h + 8, id);
		h[14] = 1;			/* reply */
		switch (method) {
		case CALC_BAD_TOO_BIG:
			put32(h + 4, 64u << 20);	/* a 64 MiB body announced */
			write_full(c, h, sizeof(h));
			break;
		case CALC_BAD_GARBAGE:
			write_full(c, "HTTP/1.1 200 OK\r\n\r\nthis is no avf frame", 40);
			break;
		case CALC_BAD_BODY:
			put32(h + 4, 8);		/* status OK, 8 bytes of no protobuf */
			write_full(c, h, sizeof(h));
			write_full(c, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
			break;
		default:
			return;
		}
	}
}

static void *bad_server(void *arg)
{
	int s = (int)(intptr_t)arg;

	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		bad_answer(c);
		close(c);
	}
}

static int start_bad_server(void)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_port = CALC_BAD_PORT,
		.svm_cid = VMADDR_CID_ANY,
	};
	pthread_t t;
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		return -1;
	return pthread_create(&t, NULL, bad_server, (void *)(intptr_t)s) ? -1 : 0;
}

static void on_ready(void *param)
{
	(void)param;
	AVmPayload_notifyPayloadReady();
}

int AVmPayload_main(void)
{
	if (start_bad_server()) {
		fprintf(stderr, "rpc-calc: port %d: %s\n", CALC_BAD_PORT, strerror(errno));
		return 1;
	}
	/* returns only when the port cannot be served */
	AVmPayload_runVsockRpcServer(&calc.base, CALC_PORT, on_ready, NULL);
	fprintf(stderr, "rpc-calc: port %d: %s\n", CALC_PORT, strerror(errno));
	return 1;
}
