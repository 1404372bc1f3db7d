// SPDX-License-Identifier: GPL-2.0
/*
 * libvm_payload's RPC server (rpc_server.c) on one end of a socketpair,
 * driven with raw frames from the other: dispatch, every refusal, the
 * handler contract (first answer counts, no answer, wrong reply type) and
 * a deadline that passed in the queue. The service is the example's
 * Calculator (selftests/api/payloads/calc.proto) with test handlers.
 */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* the harness compares its int literals with the header's unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
/* and its fixtures longjmp, and its macros end in a for clause */
#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"

#include "kselftest_harness.h"
#include "vm_payload.h"
#include "rpcframe.h"
#include "../libvm_payload/rpc_server.h"
#include "calc.pb-c.h"

enum { ADD = 0, DIVIDE = 1, ECHO = 2, SLEEP = 3, STATS = 4, EXIT = 5 };

static void t_add(Calc__Calculator_Service *s, const Calc__AddRequest *in,
		  Calc__AddReply_Closure closure, void *data)
{
	Calc__AddReply out = CALC__ADD_REPLY__INIT;

	(void)s;
	out.sum = in->a + in->b;
	closure(&out, data);
}

static void t_divide(Calc__Calculator_Service *s, const Calc__DivRequest *in,
		     Calc__DivReply_Closure closure, void *data)
{
	Calc__DivReply out = CALC__DIV_REPLY__INIT;

	(void)s;
	if (!in->divisor) {
		AVmPayload_failRpcCall(data, 42, "division by zero");
		/* the first answer counts: this one is ignored */
		closure(&out, data);
		return;
	}
	out.quotient = in->dividend / in->divisor;
	closure(&out, data);
}

/* Echo's data picks a misbehaviour. */
static void t_echo(Calc__Calculator_Service *s, const Calc__EchoRequest *in,
		   Calc__EchoReply_Closure closure, void *data)
{
	Calc__EchoReply out = CALC__ECHO_REPLY__INIT;
	Calc__AddReply wrong = CALC__ADD_REPLY__INIT;

	(void)s;
	if (in->data.len == 7 && !memcmp(in->data.data, "noreply", 7))
		return;
	if (in->data.len == 4 && !memcmp(in->data.data, "null", 4)) {
		closure(NULL, data);
		return;
	}
	if (in->data.len == 5 && !memcmp(in->data.data, "wrong", 5)) {
		closure((const Calc__EchoReply *)&wrong, data);
		return;
	}
	out.data = in->data;
	closure(&out, data);
}

static void t_sleep(Calc__Calculator_Service *s, const Calc__SleepRequest *in,
		    Calc__Empty_Closure closure, void *data)
{
	Calc__Empty out = CALC__EMPTY__INIT;
	struct timespec ts = { in->ms / 1000, (in->ms % 1000) * 1000000L };

	(void)s;
	nanosleep(&ts, NULL);
	closure(&out, data);
}

static void t_stats(Calc__Calculator_Service *s, const Calc__Empty *in,
		    Calc__StatsReply_Closure closure, void *data)
{
	Calc__StatsReply out = CALC__STATS_REPLY__INIT;

	(void)s;
	(void)in;
	closure(&out, data);
}

static void t_exit(Calc__Calculator_Service *s, const Calc__ExitRequest *in,
		   Calc__Empty_Closure closure, void *data)
{
	(void)s;
	(void)in;
	(void)closure;
	AVmPayload_failRpcCall(data, in->code, NULL);
}

static Calc__Calculator_Service svc = CALC__CALCULATOR__INIT(t_);

static void *serve(void *arg)
{
	avf_rpc_serve_conn(&svc.base, (int)(intptr_t)arg);
	return NULL;
}

FIXTURE(srv)
{
	int fd;
	pthread_t t;
};

FIXTURE_SETUP(srv)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	self->fd = sv[0];
	ASSERT_EQ(0, pthread_create(&self->t, NULL, serve, (void *)(intptr_t)sv[1]));
}

FIXTURE_TEARDOWN(srv)
{
	close(self->fd);	/* the server sees EOF and ends */
	pthread_join(self->t, NULL);
}

static size_t frame(uint8_t *out, uint32_t id, uint16_t method, uint32_t deadline,
		    const ProtobufCMessage *m)
{
	struct avf_rpc_hdr h = { .call_id = id, .method = method, .deadline_ms = deadline };

	h.len = m ? (uint32_t)protobuf_c_message_pack(m, out + AVF_RPC_HDR_SIZE) : 0;
	avf_rpc_hdr_encode(&h, out);
	return AVF_RPC_HDR_SIZE + h.len;
}

static int recv_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 10000) != 1)
			return -1;
		n = recv(fd, p, len, 0);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply: header in *h, body (NUL-terminated) in @body. */
static int reply(int fd, struct avf_rpc_hdr *h, uint8_t *body, size_t size)
{
	uint8_t b[AVF_RPC_HDR_SIZE];

	if (recv_full(fd, b, sizeof(b)) || avf_rpc_hdr_decode(b, (uint32_t)size - 1, h) ||
	    recv_full(fd, body, h->len))
		return -1;
	body[h->len] = 0;
	return 0;
}

static bool eof(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char x;

	return poll(&pf, 1, 10000) == 1 && recv(fd, &x, 1, 0) == 0;
}

TEST_F(srv, calls_and_per_call_errors)
{
	Calc__AddRequest a = CALC__ADD_REQUEST__INIT;
	Calc__DivRequest d = CALC__DIV_REQUEST__INIT;
	Calc__AddReply *sum;
	struct avf_rpc_hdr h;
	uint8_t b[512], body[512];
	size_t n;

	a.a = 40;
	a.b = 2;
	n = frame(b, 1, ADD, 0, &a.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(1, h.call_id);
	EXPECT_EQ(ADD, h.method);
	EXPECT_EQ(AVF_RPC_F_REPLY, h.flags);
	EXPECT_EQ(AVF_RPC_S_OK, h.status);
	sum = calc__add_reply__unpack(NULL, h.len, body);
	ASSERT_NE(NULL, sum);
	EXPECT_EQ(42, sum->sum);
	calc__add_reply__free_unpacked(sum, NULL);

	/* application error: code and text; the later closure is ignored */
	n = frame(b, 2, DIVIDE, 0, &d.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(2, h.call_id);
	EXPECT_EQ(AVF_RPC_S_APP_ERROR, h.status);
	EXPECT_EQ(42, h.app_code);
	EXPECT_STREQ("division by zero", (char *)body);

	/* unknown method, then a body that is no AddRequest */
	n = frame(b, 3, 6, 0, &a.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(AVF_RPC_S_UNKNOWN_METHOD, h.status);
	EXPECT_NE(NULL, strstr((char *)body, "no method 6"));
	{
		struct avf_rpc_hdr r = { .len = 3, .call_id = 4, .method = ADD };

		avf_rpc_hdr_encode(&r, b);
		memcpy(b + AVF_RPC_HDR_SIZE, "\x08\xff\xff", 3);
		ASSERT_EQ(AVF_RPC_HDR_SIZE + 3, write(self->fd, b, AVF_RPC_HDR_SIZE + 3));
	}
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(4, h.call_id);
	EXPECT_EQ(AVF_RPC_S_BAD_MESSAGE, h.status);
	/* the connection still serves */
	n = frame(b, 5, ADD, 0, &a.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(AVF_RPC_S_OK, h.status);
}

TEST_F(srv, handler_contract)
{
	static const char *const what[] = { "noreply", "null", "wrong" };
	static const int want[] = { AVF_RPC_S_INTERNAL, AVF_RPC_S_APP_ERROR, AVF_RPC_S_INTERNAL };
	Calc__EchoRequest e = CALC__ECHO_REQUEST__INIT;
	Calc__ExitRequest x = CALC__EXIT_REQUEST__INIT;
	struct avf_rpc_hdr h;
	uint8_t b[512], body[512];
	size_t n;

	for (int i = 0; i < 3; i++) {
		e.data.data = (uint8_t *)what[i];
		e.data.len = strlen(what[i]);
		n = frame(b, 10 + i, ECHO, 0, &e.base);
		ASSERT_EQ(n, write(self->fd, b, n));
		ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
		EXPECT_EQ(10 + i, h.call_id);
		EXPECT_EQ(want[i], h.status) TH_LOG("%s: %s", what[i], body);
		EXPECT_EQ(0, h.app_code);
	}
	/* failRpcCall without a message */
	x.code = -5;
	n = frame(b, 20, EXIT, 0, &x.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(AVF_RPC_S_APP_ERROR, h.status);
	EXPECT_EQ(-5, h.app_code);
	EXPECT_EQ(0, h.len);
}

TEST_F(srv, deadline_passed_in_the_queue)
{
	Calc__SleepRequest s = CALC__SLEEP_REQUEST__INIT;
	Calc__AddRequest a = CALC__ADD_REQUEST__INIT;
	struct avf_rpc_hdr h;
	uint8_t b[512], body[512];
	size_t n;

	/* both in one write: Add waits behind a 300 ms Sleep, its deadline 100 ms */
	s.ms = 300;
	n = frame(b, 1, SLEEP, 0, &s.base);
	n += frame(b + n, 2, ADD, 100, &a.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(1, h.call_id);
	EXPECT_EQ(AVF_RPC_S_OK, h.status);
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(2, h.call_id);
	EXPECT_EQ(AVF_RPC_S_DEADLINE_EXCEEDED, h.status);
	/* a deadline that has not passed runs */
	n = frame(b, 3, ADD, 60000, &a.base);
	ASSERT_EQ(n, write(self->fd, b, n));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(AVF_RPC_S_OK, h.status);
}

TEST_F(srv, oversized_frame_refused_then_closed)
{
	struct avf_rpc_hdr r = { .len = AVF_RPC_MAX_BODY + 1, .call_id = 77, .method = ECHO }, h;
	uint8_t b[AVF_RPC_HDR_SIZE], body[512];

	avf_rpc_hdr_encode(&r, b);
	ASSERT_EQ(sizeof(b), write(self->fd, b, sizeof(b)));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(77, h.call_id);
	EXPECT_EQ(AVF_RPC_S_TOO_BIG, h.status);
	EXPECT_TRUE(eof(self->fd));
}

TEST_F(srv, garbage_refused_then_closed)
{
	struct avf_rpc_hdr h;
	uint8_t body[512];

	ASSERT_EQ(5, write(self->fd, "GET /", 5));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(0, h.call_id);
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, h.status);
	EXPECT_TRUE(eof(self->fd));
}

TEST_F(srv, reply_frame_refused_then_closed)
{
	struct avf_rpc_hdr r = { .call_id = 5, .flags = AVF_RPC_F_REPLY }, h;
	uint8_t b[AVF_RPC_HDR_SIZE], body[512];

	avf_rpc_hdr_encode(&r, b);
	ASSERT_EQ(sizeof(b), write(self->fd, b, sizeof(b)));
	ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
	EXPECT_EQ(AVF_RPC_S_BAD_FRAME, h.status);
	EXPECT_TRUE(eof(self->fd));
}

TEST_F(srv, pipelined_calls_in_order)
{
	Calc__AddRequest a = CALC__ADD_REQUEST__INIT;
	static uint8_t b[100 * 64];
	struct avf_rpc_hdr h;
	uint8_t body[512];
	size_t n = 0;

	for (int i = 0; i < 100; i++) {
		a.a = i;
		n += frame(b + n, 1000 + i, ADD, 0, &a.base);
	}
	ASSERT_EQ(n, write(self->fd, b, n));
	for (int i = 0; i < 100; i++) {
		Calc__AddReply *r;

		ASSERT_EQ(0, reply(self->fd, &h, body, sizeof(body)));
		ASSERT_EQ(1000 + i, h.call_id);
		r = calc__add_reply__unpack(NULL, h.len, body);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(i, r->sum);
		calc__add_reply__free_unpacked(r, NULL);
	}
}

TEST_HARNESS_MAIN
