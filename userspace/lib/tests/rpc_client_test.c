// SPDX-License-Identifier: GPL-2.0
/*
 * The RPC client (<avf/rpc.h>) against scripted server bytes on a
 * socketpair: the replies a call will read are written before the call
 * (the request goes into the socket buffer and is checked afterwards), so
 * no thread and no timing is involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avf/rpc.h"
#include "rpcframe.h"
#include "calc.pb-c.h"

enum { ADD = 0, DIVIDE = 1, ECHO = 2, SLEEP = 3 };

FIXTURE(cl)
{
	int srv;
	struct avf_rpc_client *c;
};

FIXTURE_SETUP(cl)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	self->srv = sv[1];
	self->c = avf_rpc_client_from_fd(sv[0], &calc__calculator__descriptor);
	ASSERT_NE(NULL, self->c);
}

FIXTURE_TEARDOWN(cl)
{
	avf_rpc_client_close(self->c);
	if (self->srv >= 0)
		close(self->srv);
}

static void put_reply(int fd, uint32_t id, uint16_t method, int status, int32_t code,
		      const void *body, size_t len)
{
	struct avf_rpc_hdr h = { .len = (uint32_t)len, .call_id = id, .method = method,
				 .flags = AVF_RPC_F_REPLY, .status = status, .app_code = code };
	uint8_t b[AVF_RPC_HDR_SIZE];

	avf_rpc_hdr_encode(&h, b);
	if (write(fd, b, sizeof(b)) != sizeof(b) || (len && write(fd, body, len) != (ssize_t)len))
		abort();
}

static void put_sum(int fd, uint32_t id, int64_t sum)
{
	Calc__AddReply r = CALC__ADD_REPLY__INIT;
	uint8_t b[32];

	r.sum = sum;
	put_reply(fd, id, ADD, AVF_RPC_S_OK, 0, b, calc__add_reply__pack(&r, b));
}

static int add(struct avf_rpc_client *c, int64_t a, int64_t b, int64_t *sum, int ms)
{
	Calc__AddRequest req = CALC__ADD_REQUEST__INIT;
	Calc__AddReply *rep;
	int st;

	req.a = a;
	req.b = b;
	st = avf_rpc_call(c, ADD, &req.base, (ProtobufCMessage **)&rep, ms);
	if (st == AVF_RPC_OK) {
		*sum = rep->sum;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	return st;
}

/* Reads one request frame the client sent; its header in *h. */
static int get_request(int fd, struct avf_rpc_hdr *h, Calc__AddRequest **req)
{
	uint8_t b[AVF_RPC_HDR_SIZE], body[256];

	if (read(fd, b, sizeof(b)) != sizeof(b) || avf_rpc_hdr_decode(b, sizeof(body), h))
		return -1;
	if (h->len && read(fd, body, h->len) != (ssize_t)h->len)
		return -1;
	*req = h->method == ADD ? calc__add_request__unpack(NULL, h->len, body) : NULL;
	return 0;
}

TEST_F(cl, call_ok_and_request_frame)
{
	struct avf_rpc_hdr h;
	Calc__AddRequest *req;
	int64_t sum = 0;

	put_sum(self->srv, 1, 5);
	ASSERT_EQ(AVF_RPC_OK, add(self->c, 2, 3, &sum, 5000));
	EXPECT_EQ(5, sum);
	EXPECT_STREQ("", avf_rpc_client_last_error(self->c));
	ASSERT_EQ(0, get_request(self->srv, &h, &req));
	EXPECT_EQ(1, h.call_id);
	EXPECT_EQ(ADD, h.method);
	EXPECT_EQ(0, h.flags);
	EXPECT_EQ(5000, h.deadline_ms);
	ASSERT_NE(NULL, req);
	EXPECT_EQ(2, req->a);
	EXPECT_EQ(3, req->b);
	calc__add_request__free_unpacked(req, NULL);
	/* call ids count up */
	put_sum(self->srv, 2, 7);
	ASSERT_EQ(AVF_RPC_OK, add(self->c, 3, 4, &sum, 0));
	ASSERT_EQ(0, get_request(self->srv, &h, &req));
	EXPECT_EQ(2, h.call_id);
	EXPECT_EQ(0, h.deadline_ms);
	calc__add_request__free_unpacked(req, NULL);
}

TEST_F(cl, app_error_code_and_text)
{
	Calc__DivRequest d = CALC__DIV_REQUEST__INIT;
	ProtobufCMessage *out = (ProtobufCMessage *)1;
	int64_t sum = 0;

	put_reply(self->srv, 1, DIVIDE, AVF_RPC_S_APP_ERROR, -7, "bad\x01\xff zero", 10);
	EXPECT_EQ(AVF_RPC_APP_ERROR, avf_rpc_call(self->c, DIVIDE, &d.base, &out, 5000));
	EXPECT_EQ(NULL, out);
	EXPECT_EQ(-7, avf_rpc_client_app_code(self->c));
	EXPECT_EQ(AVF_RPC_APP_ERROR, avf_rpc_client_last_status(self->c));
	/* control bytes of the peer's text never reach the caller */
	EXPECT_NE(NULL, strstr(avf_rpc_client_last_error(self->c), "bad?? zero"))
		TH_LOG("%s", avf_rpc_client_last_error(self->c));
	/* the other statuses of the wire come through with their text */
	put_reply(self->srv, 2, DIVIDE, AVF_RPC_S_UNKNOWN_METHOD, 0, "no", 2);
	EXPECT_EQ(AVF_RPC_UNKNOWN_METHOD, avf_rpc_call(self->c, DIVIDE, &d.base, &out, 5000));
	EXPECT_EQ(0, avf_rpc_client_app_code(self->c));
	put_reply(self->srv, 3, DIVIDE, AVF_RPC_S_BAD_MESSAGE, 0, NULL, 0);
	EXPECT_EQ(AVF_RPC_BAD_MESSAGE, avf_rpc_call(self->c, DIVIDE, &d.base, &out, 5000));
	/* and the connection is still good */
	put_sum(self->srv, 4, 1);
	EXPECT_EQ(AVF_RPC_OK, add(self->c, 0, 1, &sum, 5000));
}

TEST_F(cl, late_reply_is_dropped)
{
	int64_t sum = 0;

	/* nothing to read: the deadline passes */
	EXPECT_EQ(AVF_RPC_DEADLINE_EXCEEDED, add(self->c, 1, 1, &sum, 50));
	/* the reply to call 1 comes late, then call 2's */
	put_sum(self->srv, 1, 1000);
	put_sum(self->srv, 2, 3);
	EXPECT_EQ(AVF_RPC_OK, add(self->c, 1, 2, &sum, 5000));
	EXPECT_EQ(3, sum);
}

TEST_F(cl, bad_reply_body_fails_the_call_only)
{
	int64_t sum = 0;

	put_reply(self->srv, 1, ADD, AVF_RPC_S_OK, 0, "\xff\xff\xff\xff", 4);
	EXPECT_EQ(AVF_RPC_BAD_MESSAGE, add(self->c, 1, 1, &sum, 5000));
	put_sum(self->srv, 2, 2);
	EXPECT_EQ(AVF_RPC_OK, add(self->c, 1, 1, &sum, 5000));
}

TEST_F(cl, garbage_closes_the_connection)
{
	int64_t sum = 0;

	ASSERT_EQ(40, write(self->srv, "HTTP/1.1 200 OK\r\n\r\nthis is no avf frame", 40));
	EXPECT_EQ(AVF_RPC_BAD_FRAME, add(self->c, 1, 1, &sum, 5000));
	EXPECT_EQ(AVF_RPC_PEER_GONE, add(self->c, 1, 1, &sum, 5000));
	EXPECT_NE(NULL, strstr(avf_rpc_client_last_error(self->c), "closed"));
}

TEST_F(cl, oversized_reply_closes_the_connection)
{
	struct avf_rpc_hdr h = { .len = AVF_RPC_MAX_BODY + 1, .call_id = 1,
				 .flags = AVF_RPC_F_REPLY };
	uint8_t b[AVF_RPC_HDR_SIZE];
	int64_t sum = 0;

	avf_rpc_hdr_encode(&h, b);
	ASSERT_EQ(sizeof(b), write(self->srv, b, sizeof(b)));
	EXPECT_EQ(AVF_RPC_TOO_BIG, add(self->c, 1, 1, &sum, 5000));
	EXPECT_EQ(AVF_RPC_PEER_GONE, add(self->c, 1, 1, &sum, 5000));
}

TEST_F(cl, server_refusal_with_call_id_0)
{
	int64_t sum = 0;

	put_reply(self->srv, 0, 0, AVF_RPC_S_BAD_FRAME, 0, "not an avf RPC frame header", 27);
	EXPECT_EQ(AVF_RPC_BAD_FRAME, add(self->c, 1, 1, &sum, 5000));
	EXPECT_EQ(AVF_RPC_PEER_GONE, add(self->c, 1, 1, &sum, 5000));
}

TEST_F(cl, request_frame_from_server_is_refused)
{
	struct avf_rpc_hdr h = { .call_id = 1 };
	uint8_t b[AVF_RPC_HDR_SIZE];
	int64_t sum = 0;

	avf_rpc_hdr_encode(&h, b);
	ASSERT_EQ(sizeof(b), write(self->srv, b, sizeof(b)));
	EXPECT_EQ(AVF_RPC_BAD_FRAME, add(self->c, 1, 1, &sum, 5000));
}

TEST_F(cl, peer_gone_is_clean)
{
	int64_t sum = 0;

	/* half a reply, then the server goes */
	ASSERT_EQ(10, write(self->srv, "AVR1\x10\0\0\0\x01\0", 10));
	close(self->srv);
	self->srv = -1;
	EXPECT_EQ(AVF_RPC_PEER_GONE, add(self->c, 1, 1, &sum, 0));
	EXPECT_EQ(AVF_RPC_PEER_GONE, add(self->c, 1, 1, &sum, 0));
}

TEST_F(cl, local_refusals_keep_the_connection)
{
	Calc__EchoRequest e = CALC__ECHO_REQUEST__INIT;
	Calc__AddRequest a = CALC__ADD_REQUEST__INIT;
	ProtobufCMessage *out;
	static uint8_t big[AVF_RPC_MAX_MESSAGE + 1];
	int64_t sum = 0;

	e.data.data = big;
	e.data.len = sizeof(big);
	EXPECT_EQ(AVF_RPC_TOO_BIG, avf_rpc_call(self->c, ECHO, &e.base, &out, 5000));
	EXPECT_EQ(AVF_RPC_INVALID, avf_rpc_call(self->c, ECHO, &a.base, &out, 5000));
	EXPECT_EQ(AVF_RPC_INVALID, avf_rpc_call(self->c, 6, &a.base, &out, 5000));
	EXPECT_EQ(AVF_RPC_INVALID, avf_rpc_call(self->c, ADD, NULL, &out, 5000));
	EXPECT_EQ(AVF_RPC_INVALID, avf_rpc_call(self->c, ADD, &a.base, NULL, 5000));
	EXPECT_EQ(AVF_RPC_INVALID, avf_rpc_call(NULL, ADD, &a.base, &out, 5000));
	/* nothing was sent: the next call is call 1 */
	put_sum(self->srv, 1, 9);
	EXPECT_EQ(AVF_RPC_OK, add(self->c, 4, 5, &sum, 5000));
	EXPECT_EQ(9, sum);
}

static void got_sum(const Calc__AddReply *r, void *data)
{
	*(int64_t *)data = r ? r->sum : -1;
}

TEST_F(cl, generated_stubs_work_over_the_client)
{
	Calc__AddRequest a = CALC__ADD_REQUEST__INIT;
	ProtobufCService *svc = avf_rpc_client_service(self->c, 5000);
	int64_t sum = 0;

	ASSERT_NE(NULL, svc);
	put_sum(self->srv, 1, 77);
	calc__calculator__add(svc, &a, got_sum, &sum);
	EXPECT_EQ(77, sum);
	/* a failed call gives the closure NULL; the status says why */
	put_reply(self->srv, 2, ADD, AVF_RPC_S_APP_ERROR, 3, NULL, 0);
	calc__calculator__add(svc, &a, got_sum, &sum);
	EXPECT_EQ(-1, sum);
	EXPECT_EQ(AVF_RPC_APP_ERROR, avf_rpc_client_last_status(self->c));
	EXPECT_EQ(3, avf_rpc_client_app_code(self->c));
}

TEST(from_fd_checks)
{
	int sv[2];

	errno = 0;
	EXPECT_EQ(NULL, avf_rpc_client_from_fd(-1, &calc__calculator__descriptor));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* not a service descriptor: refused, and the fd is closed */
	EXPECT_EQ(NULL, avf_rpc_client_from_fd(sv[0], (const void *)&calc__add_request__descriptor));
	EXPECT_EQ(-1, fcntl(sv[0], F_GETFD));
	close(sv[1]);
	EXPECT_STREQ("PEER_GONE", avf_rpc_status_name(AVF_RPC_PEER_GONE));
	EXPECT_STREQ("DEADLINE_EXCEEDED", avf_rpc_status_name(AVF_RPC_DEADLINE_EXCEEDED));
	EXPECT_STREQ("UNKNOWN", avf_rpc_status_name(99));
	EXPECT_EQ(AVF_E_INVALID, avf_vm_connect_to_vsock_server(NULL, 5000,
								 &calc__calculator__descriptor, NULL));
	avf_rpc_client_close(NULL);
}

TEST_HARNESS_MAIN
