// SPDX-License-Identifier: GPL-2.0
/*
 * libavf RPC client (<avf/rpc.h>, Documentation/rpc.rst): protobuf-c
 * messages in avf RPC frames (common/rpcframe.h) over a connectVsock
 * stream. One call in flight per client; replies are matched by call id,
 * so a reply that arrives after its call's deadline is read and dropped.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "avf/rpc.h"
#include "rpcframe.h"

#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(AVF_RPC_UNKNOWN_METHOD, AVF_RPC_S_UNKNOWN_METHOD) &&
	       SAME(AVF_RPC_BAD_MESSAGE, AVF_RPC_S_BAD_MESSAGE) &&
	       SAME(AVF_RPC_APP_ERROR, AVF_RPC_S_APP_ERROR) &&
	       SAME(AVF_RPC_DEADLINE_EXCEEDED, AVF_RPC_S_DEADLINE_EXCEEDED) &&
	       SAME(AVF_RPC_TOO_BIG, AVF_RPC_S_TOO_BIG) &&
	       SAME(AVF_RPC_BAD_FRAME, AVF_RPC_S_BAD_FRAME) &&
	       SAME(AVF_RPC_INTERNAL, AVF_RPC_S_INTERNAL) &&
	       (int)AVF_RPC_PEER_GONE > (int)AVF_RPC_S_WIRE_MAX,
	       "<avf/rpc.h> statuses are the wire's (common/rpcframe.h)");
_Static_assert(AVF_RPC_MAX_MESSAGE == AVF_RPC_MAX_BODY, "one message limit");

struct avf_rpc_client {
	ProtobufCService svc;		/* avf_rpc_client_service() */
	int svc_timeout_ms;
	const ProtobufCServiceDescriptor *desc;
	pthread_mutex_t lock;
	int fd;				/* -1 once the connection is gone */
	uint32_t next_id;
	int last_status;
	int32_t app_code;
	char err[AVF_RPC_MAX_ERRMSG + 160];
	uint8_t *rx;			/* AVF_RPC_MAX_FRAME bytes */
	size_t have;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms left until @end (-1: none), at least 0 */
static int left_ms(int64_t end)
{
	int64_t l;

	if (end < 0)
		return -1;
	l = end - mono_ms();
	return l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int)l;
}

static int fail(struct avf_rpc_client *c, int st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct avf_rpc_client *c, int st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->last_status = st;
	return st;
}

static void drop_conn(struct avf_rpc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
}

static const char *method_name(const struct avf_rpc_client *c, unsigned m)
{
	return m < c->desc->n_methods ? c->desc->methods[m].name : "?";
}

static int send_frame(struct avf_rpc_client *c, const uint8_t *buf, size_t len, int64_t end,
		      unsigned m)
{
	while (len) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			int e = errno;

			drop_conn(c);
			return fail(c, AVF_RPC_PEER_GONE, "%s: sending failed: %s", method_name(c, m),
				    strerror(e));
		}
		r = poll(&p, 1, left_ms(end));
		if (r < 0 && errno != EINTR) {
			drop_conn(c);
			return fail(c, AVF_RPC_PEER_GONE, "%s: poll: %s", method_name(c, m),
				    strerror(errno));
		}
		if (r == 0) {
			/* a frame half sent cannot be taken back: the stream is lost */
			drop_conn(c);
			return fail(c, AVF_RPC_DEADLINE_EXCEEDED,
				    "%s: the server did not take the request before the deadline; "
				    "connection closed", method_name(c, m));
		}
	}
	return AVF_RPC_OK;
}

/* Copies the reply's error text, printable ASCII only. */
static void set_remote_err(struct avf_rpc_client *c, unsigned m, int st, const uint8_t *t,
			   size_t n)
{
	char text[AVF_RPC_MAX_ERRMSG + 1];

	if (n > AVF_RPC_MAX_ERRMSG)
		n = AVF_RPC_MAX_ERRMSG;
	for (size_t i = 0; i < n; i++)
		text[i] = t[i] >= 0x20 && t[i] < 0x7f ? (char)t[i] : '?';
	text[n] = 0;
	if (st == AVF_RPC_APP_ERROR)
		fail(c, st, "%s: application error %d: %s", method_name(c, m), (int)c->app_code,
		     n ? text : "(no message)");
	else
		fail(c, st, "%s: %s from the server: %s", method_name(c, m),
		     avf_rpc_status_name(st), n ? text : "(no message)");
}

/* Reads until the reply to @id is in; returns its status. */
static int recv_reply(struct avf_rpc_client *c, uint32_t id, unsigned m, int64_t end,
		      ProtobufCMessage **output)
{
	for (;;) {
		struct avf_rpc_hdr h;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		size_t flen;
		ssize_t n;
		int r = avf_rpc_frame_parse(c->rx, c->have, AVF_RPC_MAX_BODY, &h, &flen);

		if (r == 0) {
			const uint8_t *body = c->rx + AVF_RPC_HDR_SIZE;
			int st = h.status;

			if (!(h.flags & AVF_RPC_F_REPLY)) {
				drop_conn(c);
				return fail(c, AVF_RPC_BAD_FRAME, "%s: the server sent a request "
						  "frame; connection closed", method_name(c, m));
			}
			/*
			 * Call id 0: the server could not read our header and
			 * says so before closing. Other ids: late replies.
			 */
			if (h.call_id != id && !(h.call_id == 0 && st != AVF_RPC_OK)) {
				c->have -= flen;
				memmove(c->rx, c->rx + flen, c->have);
				continue;
			}
			if (st == AVF_RPC_OK) {
				*output = protobuf_c_message_unpack(c->desc->methods[m].output, NULL,
								    h.len, body);
				st = *output ? AVF_RPC_OK :
					fail(c, AVF_RPC_BAD_MESSAGE, "%s: the reply is not a valid %s",
					     method_name(c, m), c->desc->methods[m].output->name);
			} else {
				c->app_code = st == AVF_RPC_APP_ERROR ? h.app_code : 0;
				set_remote_err(c, m, st, body, h.len);
			}
			c->have -= flen;
			memmove(c->rx, c->rx + flen, c->have);
			/* the server closes after refusing a frame */
			if (st == AVF_RPC_TOO_BIG || st == AVF_RPC_BAD_FRAME)
				drop_conn(c);
			return st;
		}
		if (r != AVF_RPC_NEED_MORE) {
			drop_conn(c);
			if (r == AVF_RPC_S_TOO_BIG)
				return fail(c, AVF_RPC_TOO_BIG, "%s: the server sent a frame of %u "
						  "bytes (limit %u); connection closed",
					    method_name(c, m), h.len, AVF_RPC_MAX_BODY);
			return fail(c, AVF_RPC_BAD_FRAME, "%s: the server sent bytes that are not "
					  "an avf RPC frame; connection closed", method_name(c, m));
		}
		n = recv(c->fd, c->rx + c->have, AVF_RPC_MAX_FRAME - c->have, MSG_DONTWAIT);
		if (n > 0) {
			c->have += (size_t)n;
			continue;
		}
		if (n == 0) {
			drop_conn(c);
			return fail(c, AVF_RPC_PEER_GONE, "%s: the server closed the connection "
					  "(payload exited or VM stopped)", method_name(c, m));
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			int e = errno;

			drop_conn(c);
			return fail(c, AVF_RPC_PEER_GONE, "%s: the connection failed: %s",
				    method_name(c, m), strerror(e));
		}
		r = poll(&p, 1, left_ms(end));
		if (r < 0 && errno != EINTR) {
			drop_conn(c);
			return fail(c, AVF_RPC_PEER_GONE, "%s: poll: %s", method_name(c, m),
				    strerror(errno));
		}
		if (r == 0)
			return fail(c, AVF_RPC_DEADLINE_EXCEEDED, "%s: no reply within the deadline",
				    method_name(c, m));
	}
}

static int call_locked(struct avf_rpc_client *c, unsigned m, const ProtobufCMessage *input,
		       ProtobufCMessage **output, int timeout_ms)
{
	int64_t end = timeout_ms > 0 ? mono_ms() + timeout_ms : -1;
	struct avf_rpc_hdr h = { 0 };
	uint8_t *frame;
	size_t len;
	int st;

	c->last_status = AVF_RPC_OK;
	c->app_code = 0;
	c->err[0] = 0;
	if (m >= c->desc->n_methods || m > UINT16_MAX)
		return fail(c, AVF_RPC_INVALID, "%s has %u methods; no method %u", c->desc->name,
			    c->desc->n_methods, m);
	if (!input || input->descriptor != c->desc->methods[m].input)
		return fail(c, AVF_RPC_INVALID, "%s takes a %s", c->desc->methods[m].name,
			    c->desc->methods[m].input->name);
	if (c->fd < 0)
		return fail(c, AVF_RPC_PEER_GONE, "%s: the connection is closed",
			    c->desc->methods[m].name);
	len = protobuf_c_message_get_packed_size(input);
	if (len > AVF_RPC_MAX_BODY)
		return fail(c, AVF_RPC_TOO_BIG, "%s: the request has %zu bytes (limit %u); "
				"not sent", c->desc->methods[m].name, len, AVF_RPC_MAX_BODY);
	frame = malloc(AVF_RPC_HDR_SIZE + len);
	if (!frame)
		return fail(c, AVF_RPC_NOMEM, "out of memory");
	if (++c->next_id == 0)
		c->next_id = 1;
	h.len = (uint32_t)protobuf_c_message_pack(input, frame + AVF_RPC_HDR_SIZE);
	h.call_id = c->next_id;
	h.method = (uint16_t)m;
	h.deadline_ms = timeout_ms > 0 ? (uint32_t)timeout_ms : 0;
	avf_rpc_hdr_encode(&h, frame);
	st = send_frame(c, frame, AVF_RPC_HDR_SIZE + h.len, end, m);
	free(frame);
	if (st)
		return st;
	return recv_reply(c, h.call_id, m, end, output);
}

int avf_rpc_call(struct avf_rpc_client *c, unsigned method, const ProtobufCMessage *input,
		 ProtobufCMessage **output, int timeout_ms)
{
	int st;

	if (!output)
		return AVF_RPC_INVALID;
	*output = NULL;
	if (!c)
		return AVF_RPC_INVALID;
	pthread_mutex_lock(&c->lock);
	st = call_locked(c, method, input, output, timeout_ms);
	c->last_status = st;
	pthread_mutex_unlock(&c->lock);
	return st;
}

static void svc_invoke(ProtobufCService *svc, unsigned m, const ProtobufCMessage *input,
		       ProtobufCClosure closure, void *closure_data)
{
	struct avf_rpc_client *c = (struct avf_rpc_client *)((char *)svc -
		offsetof(struct avf_rpc_client, svc));
	ProtobufCMessage *out = NULL;

	avf_rpc_call(c, m, input, &out, c->svc_timeout_ms);
	if (closure)
		closure(out, closure_data);
	if (out)
		protobuf_c_message_free_unpacked(out, NULL);
}

static void svc_destroy(ProtobufCService *svc)
{
	(void)svc;	/* owned by the client: avf_rpc_client_close() */
}

struct avf_rpc_client *avf_rpc_client_from_fd(int fd, const ProtobufCServiceDescriptor *service)
{
	struct avf_rpc_client *c;
	int fl;

	if (fd < 0 || !service || service->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->rx = malloc(AVF_RPC_MAX_FRAME);
	fl = fcntl(fd, F_GETFL);
	if (!c || !c->rx || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = c && c->rx ? errno : ENOMEM;

		if (c)
			free(c->rx);
		free(c);
		close(fd);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->desc = service;
	c->fd = fd;
	c->svc.descriptor = service;
	c->svc.invoke = svc_invoke;
	c->svc.destroy = svc_destroy;
	return c;
}

int avf_vm_connect_to_vsock_server(struct avf_vm *vm, uint32_t port,
				   const ProtobufCServiceDescriptor *service,
				   struct avf_rpc_client **out)
{
	int fd = -1, r;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!vm || !service || service->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC)
		return AVF_E_INVALID;
	r = avf_vm_connect_vsock(vm, port, &fd);
	if (r)
		return r;
	*out = avf_rpc_client_from_fd(fd, service);
	return *out ? AVF_OK : AVF_E_NOMEM;
}

ProtobufCService *avf_rpc_client_service(struct avf_rpc_client *c, int timeout_ms)
{
	if (!c)
		return NULL;
	pthread_mutex_lock(&c->lock);
	c->svc_timeout_ms = timeout_ms;
	pthread_mutex_unlock(&c->lock);
	return &c->svc;
}

int32_t avf_rpc_client_app_code(const struct avf_rpc_client *c)
{
	return c ? c->app_code : 0;
}

int avf_rpc_client_last_status(const struct avf_rpc_client *c)
{
	return c ? c->last_status : AVF_RPC_INVALID;
}

const char *avf_rpc_client_last_error(const struct avf_rpc_client *c)
{
	return c ? c->err : "no client";
}

const char *avf_rpc_status_name(int status)
{
	switch (status) {
	case AVF_RPC_PEER_GONE:
		return "PEER_GONE";
	case AVF_RPC_INVALID:
		return "INVALID";
	case AVF_RPC_NOMEM:
		return "NOMEM";
	default:
		return avf_rpc_wire_status_name(status);
	}
}

void avf_rpc_client_close(struct avf_rpc_client *c)
{
	if (!c)
		return;
	drop_conn(c);
	pthread_mutex_destroy(&c->lock);
	free(c->rx);
	free(c);
}
