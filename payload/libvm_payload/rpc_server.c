// SPDX-License-Identifier: GPL-2.0
/*
 * libvm_payload: AVmPayload_runVsockRpcServer(), the payload side of the
 * avf RPC layer (Documentation/rpc.rst). Framing is common/rpcframe.h,
 * marshalling protobuf-c's. One thread accepts host connections; each
 * connection gets a thread that reads frames, dispatches them to the
 * service one at a time and writes the replies.
 */
#include "vm_payload.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>
#include <protobuf-c/protobuf-c.h>

#include "rpcframe.h"
#include "rpc_server.h"

#define VMP_EXPORT __attribute__((visibility("default")))

#define RPC_MAX_CLIENTS	16	/* connections served at once; more are closed */
#define RPC_BACKLOG	16

struct rpc_server {
	ProtobufCService *service;
	atomic_int clients;
};

struct rpc_conn {
	ProtobufCService *service;
	int fd;
};

/* One call in progress: what the handler's closure or failRpcCall left. */
struct rpc_call {
	const ProtobufCMethodDescriptor *method;
	bool done;
	int status;
	int32_t app_code;
	uint8_t *out;
	size_t out_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_reply(int fd, const struct avf_rpc_hdr *req, int status, int32_t app_code,
		      const void *body, size_t len)
{
	uint8_t hdr[AVF_RPC_HDR_SIZE];
	struct avf_rpc_hdr h = {
		.len = (uint32_t)len,
		.call_id = req ? req->call_id : 0,
		.method = req ? req->method : 0,
		.flags = AVF_RPC_F_REPLY,
		.status = status,
		.app_code = status == AVF_RPC_S_APP_ERROR ? app_code : 0,
	};
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	size_t total = sizeof(hdr) + len;
	ssize_t n;

	avf_rpc_hdr_encode(&h, hdr);
	/* one sendmsg for the common case; the rest, if any, piecewise */
	do {
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n == total)
		return 0;
	if ((size_t)n < sizeof(hdr)) {
		if (send_all(fd, hdr + n, sizeof(hdr) - (size_t)n))
			return -1;
		n = 0;
	} else {
		n -= (ssize_t)sizeof(hdr);
	}
	return send_all(fd, (const uint8_t *)body + n, len - (size_t)n);
}

static int send_error(int fd, const struct avf_rpc_hdr *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int send_error(int fd, const struct avf_rpc_hdr *req, int status, const char *fmt, ...)
{
	char msg[AVF_RPC_MAX_ERRMSG + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > AVF_RPC_MAX_ERRMSG)
		n = AVF_RPC_MAX_ERRMSG;
	return send_reply(fd, req, status, 0, msg, (size_t)n);
}

static void call_closure(const ProtobufCMessage *out, void *closure_data)
{
	struct rpc_call *c = closure_data;
	size_t n;

	if (c->done)
		return;
	c->done = true;
	if (!out) {
		c->status = AVF_RPC_S_APP_ERROR;
		return;
	}
	if (out->descriptor != c->method->output) {
		c->status = AVF_RPC_S_INTERNAL;
		return;
	}
	n = protobuf_c_message_get_packed_size(out);
	if (n > AVF_RPC_MAX_BODY) {
		c->status = AVF_RPC_S_TOO_BIG;
		return;
	}
	c->out = malloc(n ? n : 1);
	if (!c->out) {
		c->status = AVF_RPC_S_INTERNAL;
		return;
	}
	c->out_len = protobuf_c_message_pack(out, c->out);
	c->status = AVF_RPC_S_OK;
}

VMP_EXPORT void AVmPayload_failRpcCall(void *closure_data, int32_t code, const char *message)
{
	struct rpc_call *c = closure_data;
	size_t n;

	if (!c || c->done)
		return;
	c->done = true;
	c->status = AVF_RPC_S_APP_ERROR;
	c->app_code = code;
	if (!message)
		return;
	n = strnlen(message, AVF_RPC_MAX_ERRMSG);
	c->out = malloc(n ? n : 1);
	if (c->out) {
		memcpy(c->out, message, n);
		c->out_len = n;
	}
}

/* Runs one request frame; returns -1 when the connection must end. */
static int dispatch(struct rpc_conn *cn, const struct avf_rpc_hdr *h, const uint8_t *body,
		    uint64_t arrived_ms)
{
	ProtobufCService *svc = cn->service;
	const ProtobufCServiceDescriptor *d = svc->descriptor;
	struct rpc_call c = { 0 };
	ProtobufCMessage *in;
	int r;

	if (h->method >= d->n_methods)
		return send_error(cn->fd, h, AVF_RPC_S_UNKNOWN_METHOD,
				  "%s has %u methods; no method %u", d->name, d->n_methods,
				  h->method);
	c.method = &d->methods[h->method];
	/* a request that waited behind others past its deadline is not run */
	if (h->deadline_ms && now_ms() - arrived_ms > h->deadline_ms)
		return send_error(cn->fd, h, AVF_RPC_S_DEADLINE_EXCEEDED,
				  "%s: the deadline of %u ms passed before the call ran",
				  c.method->name, h->deadline_ms);
	in = protobuf_c_message_unpack(c.method->input, NULL, h->len, body);
	if (!in)
		return send_error(cn->fd, h, AVF_RPC_S_BAD_MESSAGE,
				  "%s: the request is not a valid %s", c.method->name,
				  c.method->input->name);
	svc->invoke(svc, h->method, in, call_closure, &c);
	protobuf_c_message_free_unpacked(in, NULL);
	if (!c.done)
		r = send_error(cn->fd, h, AVF_RPC_S_INTERNAL, "%s returned without a reply",
			       c.method->name);
	else if (c.status == AVF_RPC_S_INTERNAL && !c.out)
		r = send_error(cn->fd, h, AVF_RPC_S_INTERNAL,
			       "%s: the reply is not a %s, or out of memory", c.method->name,
			       c.method->output->name);
	else if (c.status == AVF_RPC_S_TOO_BIG)
		r = send_error(cn->fd, h, AVF_RPC_S_INTERNAL, "%s: the reply exceeds %u bytes",
			       c.method->name, AVF_RPC_MAX_BODY);
	else
		r = send_reply(cn->fd, h, c.status, c.app_code, c.out, c.out_len);
	free(c.out);
	return r;
}

void avf_rpc_serve_conn(struct ProtobufCService *service, int fd)
{
	struct rpc_conn conn = { .service = service, .fd = fd }, *cn = &conn;
	uint8_t *buf = malloc(AVF_RPC_MAX_FRAME);
	size_t have = 0;
	uint64_t arrived = 0;

	if (!buf)
		goto out;
	for (;;) {
		struct avf_rpc_hdr h;
		size_t flen;
		ssize_t n;
		int r = avf_rpc_frame_parse(buf, have, AVF_RPC_MAX_BODY, &h, &flen);

		if (r == 0) {
			if (h.flags & AVF_RPC_F_REPLY) {
				send_error(cn->fd, &h, AVF_RPC_S_BAD_FRAME,
					   "a reply frame sent to the server");
				break;
			}
			if (dispatch(cn, &h, buf + AVF_RPC_HDR_SIZE, arrived))
				break;
			have -= flen;
			memmove(buf, buf + flen, have);
			continue;
		}
		if (r == AVF_RPC_S_TOO_BIG) {
			send_error(cn->fd, &h, r, "a frame of %u body bytes; the limit is %u",
				   h.len, AVF_RPC_MAX_BODY);
			break;
		}
		if (r != AVF_RPC_NEED_MORE) {
			/* the call id of a header that is not ours means nothing */
			send_error(cn->fd, NULL, r, "not an avf RPC frame header");
			break;
		}
		do {
			n = read(cn->fd, buf + have, AVF_RPC_MAX_FRAME - have);
		} while (n < 0 && errno == EINTR);
		if (n <= 0)
			break;	/* the host closed, or the connection failed */
		have += (size_t)n;
		arrived = now_ms();
	}
out:
	free(buf);
	close(fd);
}

struct conn_arg {
	struct rpc_server *srv;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn_arg *ca = arg;

	avf_rpc_serve_conn(ca->srv->service, ca->fd);
	atomic_fetch_sub(&ca->srv->clients, 1);
	free(ca);
	return NULL;
}

VMP_EXPORT bool AVmPayload_runVsockRpcServer(struct ProtobufCService *service, uint32_t port,
					     void (*on_ready)(void *param), void *param)
{
	struct rpc_server *srv;
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_port = port,
		.svm_cid = VMADDR_CID_ANY,
	};
	pthread_attr_t attr;
	int s, e;

	if (!service || !service->descriptor || !service->invoke || port < 1024 ||
	    port == VMADDR_PORT_ANY) {
		errno = EINVAL;
		return false;
	}
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, RPC_BACKLOG)) {
		e = errno;
		close(s);
		errno = e;
		return false;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(s);
		errno = ENOMEM;
		return false;
	}
	srv->service = service;
	atomic_init(&srv->clients, 0);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (on_ready)
		on_ready(param);
	for (;;) {
		struct sockaddr_vm peer;
		socklen_t plen = sizeof(peer);
		struct conn_arg *cn;
		pthread_t t;
		int c = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of fds or memory: let the clients finish some */
				usleep(10 * 1000);
				continue;
			}
			/* the listening socket itself failed: nothing more to serve */
			e = errno;
			close(s);
			/* srv stays: connection threads may still use it */
			errno = e;
			return false;
		}
		/* only the host: never another VM (the VMM refuses those too) */
		if (plen < sizeof(peer) || peer.svm_family != AF_VSOCK ||
		    peer.svm_cid != VMADDR_CID_HOST ||
		    atomic_load(&srv->clients) >= RPC_MAX_CLIENTS) {
			close(c);
			continue;
		}
		cn = malloc(sizeof(*cn));
		if (!cn) {
			close(c);
			continue;
		}
		cn->srv = srv;
		cn->fd = c;
		atomic_fetch_add(&srv->clients, 1);
		if (pthread_create(&t, &attr, conn_main, cn)) {
			atomic_fetch_sub(&srv->clients, 1);
			close(c);
			free(cn);
		}
	}
}
