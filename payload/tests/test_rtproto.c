// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime socket protocol: the runtime's handler against hostile
 * requests, and libvm_payload end to end against that handler on a test
 * socket.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rtserver.h"
#include "secret.h"
#include "vm_payload.h"

static size_t mkreq(void *buf, uint32_t op, int32_t status, uint32_t len, uint32_t reserved,
		    const void *body, size_t body_len)
{
	struct avf_rt_hdr h = { op, status, len, reserved };

	memcpy(buf, &h, sizeof(h));
	if (body_len)
		memcpy((char *)buf + sizeof(h), body, body_len);
	return sizeof(h) + body_len;
}

static struct avf_rt_hdr hdr_of(const void *buf)
{
	struct avf_rt_hdr h;

	memcpy(&h, buf, sizeof(h));
	return h;
}

TEST(notify_ready_once)
{
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;
	size_t n = mkreq(req, AVF_RT_OP_NOTIFY_READY, 0, 0, 0, NULL, 0);

	ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_TRUE(ready);
	ASSERT_EQ(0, hdr_of(out).status);
	ASSERT_EQ((uint32_t)AVF_RT_OP_NOTIFY_READY, hdr_of(out).op);
	for (int i = 0; i < 3; i++) {
		ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
		ASSERT_FALSE(ready);
		ASSERT_EQ(0, hdr_of(out).status);
	}
}

TEST(malformed_requests_close)
{
	unsigned char req[AVF_RT_MAX_MSG + 16], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;
	size_t n;

	memset(req, 0, sizeof(req));
	for (size_t len = 0; len < sizeof(struct avf_rt_hdr); len++)
		ASSERT_EQ(-1, avf_rt_handle(&st, req, len, out, &ready));
	n = mkreq(req, AVF_RT_OP_NOTIFY_READY, 0, 4, 0, NULL, 0);	/* len lies */
	ASSERT_EQ(-1, avf_rt_handle(&st, req, n, out, &ready));
	n = mkreq(req, AVF_RT_OP_NOTIFY_READY, 0, 0, 1, NULL, 0);	/* reserved */
	ASSERT_EQ(-1, avf_rt_handle(&st, req, n, out, &ready));
	n = mkreq(req, AVF_RT_OP_NOTIFY_READY, -5, 0, 0, NULL, 0);	/* status */
	ASSERT_EQ(-1, avf_rt_handle(&st, req, n, out, &ready));
	n = mkreq(req, AVF_RT_OP_NOTIFY_READY, 0, 0xffffffffu, 0, NULL, 0);
	ASSERT_EQ(-1, avf_rt_handle(&st, req, n, out, &ready));
	/* oversized datagram */
	mkreq(req, AVF_RT_OP_STORAGE_PATH, 0, AVF_RT_MAX_BODY + 1, 0, NULL, 0);
	ASSERT_EQ(-1, avf_rt_handle(&st, req, sizeof(struct avf_rt_hdr) + AVF_RT_MAX_BODY + 1,
				    out, &ready));
	ASSERT_FALSE(st.ready_sent);
}

TEST(notify_with_body_refused)
{
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;
	size_t n = mkreq(req, AVF_RT_OP_NOTIFY_READY, 0, 3, 0, "abc", 3);

	ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(-EINVAL, hdr_of(out).status);
	ASSERT_FALSE(ready);
}

TEST(unknown_and_future_ops)
{
	const uint32_t ops[] = { 0, AVF_RT_OP_IS_NEW_INSTANCE, 99, 0xffffffffu };
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = mkreq(req, ops[i], 0, 0, 0, NULL, 0);

		ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr),
			  avf_rt_handle(&st, req, n, out, &ready));
		ASSERT_EQ(-ENOSYS, hdr_of(out).status);
		ASSERT_EQ(ops[i], hdr_of(out).op);
	}
}

TEST(storage_path)
{
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;
	size_t n = mkreq(req, AVF_RT_OP_STORAGE_PATH, 0, 0, 0, NULL, 0);

	ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(-ENOENT, hdr_of(out).status);
	st.storage_path = "/mnt/encryptedstore";
	ASSERT_EQ((ssize_t)(sizeof(struct avf_rt_hdr) + 19), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(0, hdr_of(out).status);
	ASSERT_EQ(0, memcmp(out + sizeof(struct avf_rt_hdr), "/mnt/encryptedstore", 19));
}

static const unsigned char test_vm_secret[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static size_t secret_req(void *buf, uint32_t size, const void *id, size_t id_len)
{
	unsigned char body[AVF_RT_MAX_BODY + 64];

	memcpy(body, &size, sizeof(size));
	if (id_len)
		memcpy(body + sizeof(size), id, id_len);
	return mkreq(buf, AVF_RT_OP_INSTANCE_SECRET, 0, (uint32_t)(sizeof(size) + id_len), 0,
		     body, sizeof(size) + id_len);
}

TEST(instance_secret_served)
{
	unsigned char req[AVF_RT_MAX_MSG + 64], out[AVF_RT_MAX_MSG], want[32];
	struct avf_rt_state st = { .vm_secret = test_vm_secret };
	static unsigned char big_id[AVF_RT_MAX_BODY - 4];
	struct avf_rt_hdr h;
	bool ready;
	size_t n = secret_req(req, 32, "avf-test", 8);

	ASSERT_EQ((ssize_t)(sizeof(struct avf_rt_hdr) + 32), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(0, hdr_of(out).status);
	ASSERT_EQ(32u, hdr_of(out).len);
	ASSERT_EQ(0, avf_derive_payload_secret(test_vm_secret, "avf-test", 8, want, 32));
	ASSERT_EQ(0, memcmp(want, out + sizeof(struct avf_rt_hdr), 32));
	/* 1 byte: the first byte of the same derivation */
	n = secret_req(req, 1, "avf-test", 8);
	ASSERT_EQ((ssize_t)(sizeof(struct avf_rt_hdr) + 1), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(want[0], out[sizeof(struct avf_rt_hdr)]);
	/* the largest identifier that fits in one request */
	memset(big_id, 0x41, sizeof(big_id));
	n = secret_req(req, 32, big_id, sizeof(big_id));
	ASSERT_EQ((ssize_t)(sizeof(struct avf_rt_hdr) + 32), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(0, hdr_of(out).status);
	/* one byte more is an oversized datagram: the connection closes */
	h = hdr_of(req);
	h.len++;
	memcpy(req, &h, sizeof(h));
	req[n++] = 0x41;
	ASSERT_EQ(-1, avf_rt_handle(&st, req, n, out, &ready));
}

TEST(instance_secret_bad_requests)
{
	const uint32_t sizes[] = { 0, 33, 64, 0x80000000u, 0xffffffffu };
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { .vm_secret = test_vm_secret };
	bool ready;
	size_t n;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = secret_req(req, sizes[i], "id", 2);
		ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr), avf_rt_handle(&st, req, n, out, &ready));
		ASSERT_EQ(-EINVAL, hdr_of(out).status);
		ASSERT_EQ(0u, hdr_of(out).len);
	}
	/* a body too short to hold the size */
	for (uint32_t len = 0; len < 4; len++) {
		n = mkreq(req, AVF_RT_OP_INSTANCE_SECRET, 0, len, 0, "abc", len);
		ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr), avf_rt_handle(&st, req, n, out, &ready));
		ASSERT_EQ(-EINVAL, hdr_of(out).status);
	}
	/* no identity: a clean refusal */
	st.vm_secret = NULL;
	n = secret_req(req, 32, "id", 2);
	ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr), avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(-ENOKEY, hdr_of(out).status);
}

TEST(is_new_instance)
{
	unsigned char req[64], out[AVF_RT_MAX_MSG];
	struct avf_rt_state st = { 0 };
	bool ready;
	size_t n = mkreq(req, AVF_RT_OP_IS_NEW_INSTANCE, 0, 0, 0, NULL, 0);

	ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(-ENOSYS, hdr_of(out).status);
	st.new_instance_known = true;
	ASSERT_EQ((ssize_t)sizeof(struct avf_rt_hdr) + 1, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(0, hdr_of(out).status);
	ASSERT_EQ(0, out[sizeof(struct avf_rt_hdr)]);
	st.new_instance = true;
	ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(1, out[sizeof(struct avf_rt_hdr)]);
	n = mkreq(req, AVF_RT_OP_IS_NEW_INSTANCE, 0, 1, 0, "x", 1);
	ASSERT_LT(0, avf_rt_handle(&st, req, n, out, &ready));
	ASSERT_EQ(-EINVAL, hdr_of(out).status);
}

/* ---- libvm_payload against the handler ---- */

/* one raw request over a new connection; returns the reply's status */
static int raw_call(const void *req, size_t n, struct avf_rt_hdr *h, unsigned char *body)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char msg[AVF_RT_MAX_MSG];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t got;

	strcpy(sa.sun_path, AVF_RT_SOCK_PATH);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		if (fd >= 0)
			close(fd);
		return -1000;
	}
	got = recv(fd, msg, sizeof(msg), 0);
	close(fd);
	if (got < (ssize_t)sizeof(*h))
		return -2000;	/* closed by the server */
	memcpy(h, msg, sizeof(*h));
	if (body)
		memcpy(body, msg + sizeof(*h), (size_t)got - sizeof(*h));
	return h->status;
}

struct server {
	int lfd;
	struct avf_rt_state st;
	int readies;
	int stop;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		unsigned char msg[AVF_RT_MAX_MSG], out[AVF_RT_MAX_MSG];
		int cfd = accept(s->lfd, NULL, NULL);
		bool ready;
		ssize_t n, len;

		if (cfd < 0)
			break;
		while ((n = recv(cfd, msg, sizeof(msg), MSG_TRUNC)) > 0) {
			len = avf_rt_handle(&s->st, msg, (size_t)n, out, &ready);
			if (len < 0)
				break;
			if (ready)
				s->readies++;
			if (send(cfd, out, (size_t)len, MSG_NOSIGNAL) < 0)
				break;
		}
		close(cfd);
	}
	return NULL;
}

TEST(library_end_to_end)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server s = { .st = { .storage_path = "/mnt/encryptedstore" } };
	unsigned char secret[32], want[32], again[32], reply[AVF_RT_MAX_BODY];
	static unsigned char big[AVF_RT_MAX_BODY + 64];
	static unsigned char raw[AVF_RT_MAX_MSG + 128];
	struct avf_rt_hdr h;
	size_t n;
	pthread_t th;

	/* without a runtime every call fails cleanly */
	unlink(AVF_RT_SOCK_PATH);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret("a", 1, secret, 16));
	ASSERT_EQ(ENOENT, errno);

	s.lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ASSERT_LE(0, s.lfd);
	strcpy(sa.sun_path, AVF_RT_SOCK_PATH);
	ASSERT_EQ(0, bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(s.lfd, 4));
	ASSERT_EQ(0, pthread_create(&th, NULL, serve, &s));

	ASSERT_STREQ("/mnt/apk", AVmPayload_getApkContentsPath());
	AVmPayload_notifyPayloadReady();
	AVmPayload_notifyPayloadReady();
	ASSERT_STREQ("/mnt/encryptedstore", AVmPayload_getEncryptedStoragePath());
	memset(secret, 0x5a, sizeof(secret));
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret("id", 2, secret, sizeof(secret)));
	ASSERT_EQ(ENOKEY, errno);	/* no identity yet */
	for (size_t i = 0; i < sizeof(secret); i++)
		ASSERT_EQ(0, secret[i]);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret("id", 2, secret, 33));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret("id", 2, secret, 0));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret(NULL, 2, secret, 8));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret("id", 2, NULL, 8));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_FALSE(AVmPayload_isNewInstance());
	ASSERT_EQ(ENOSYS, errno);

	/* with identity: the same derivation as the runtime's */
	s.st.vm_secret = test_vm_secret;
	s.st.new_instance_known = true;
	s.st.new_instance = true;
	ASSERT_EQ(0, avf_derive_payload_secret(test_vm_secret, "avf-test", 8, want, 32));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret("avf-test", 8, secret, sizeof(secret)));
	ASSERT_EQ(0, memcmp(want, secret, 32));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret("avf-test", 8, again, sizeof(again)));
	ASSERT_EQ(0, memcmp(secret, again, 32));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret("avf-tesu", 8, again, sizeof(again)));
	ASSERT_NE(0, memcmp(secret, again, 32));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret("avf-test", 8, again, 5));
	ASSERT_EQ(0, memcmp(want, again, 5));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret(NULL, 0, again, 32));
	/* identifiers: the largest that fits, then one byte more */
	memset(big, 7, sizeof(big));
	ASSERT_TRUE(AVmPayload_getVmInstanceSecret(big, AVF_RT_MAX_BODY - 4, again, 32));
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret(big, AVF_RT_MAX_BODY - 3, again, 32));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_FALSE(AVmPayload_getVmInstanceSecret(big, (size_t)-1, again, 32));
	ASSERT_EQ(EINVAL, errno);
	for (size_t i = 0; i < sizeof(again); i++)
		ASSERT_EQ(0, again[i]);
	/* requests the library would never send, straight over the socket */
	n = secret_req(raw, 0, "id", 2);
	ASSERT_EQ(-EINVAL, raw_call(raw, n, &h, NULL));
	n = secret_req(raw, 33, "id", 2);
	ASSERT_EQ(-EINVAL, raw_call(raw, n, &h, NULL));
	n = secret_req(raw, 0xffffffffu, "id", 2);
	ASSERT_EQ(-EINVAL, raw_call(raw, n, &h, NULL));
	n = secret_req(raw, 32, big, AVF_RT_MAX_BODY - 4);
	ASSERT_EQ(0, raw_call(raw, n, &h, reply));
	ASSERT_EQ(32u, h.len);
	ASSERT_EQ(0, avf_derive_payload_secret(test_vm_secret, big, AVF_RT_MAX_BODY - 4, want, 32));
	ASSERT_EQ(0, memcmp(want, reply, 32));
	/* an identifier one byte too long: the runtime drops the connection */
	n = secret_req(raw, 32, big, AVF_RT_MAX_BODY - 3);
	ASSERT_EQ(-2000, raw_call(raw, n, &h, NULL));
	n = secret_req(raw, 32, big, AVF_RT_MAX_BODY + 40);
	ASSERT_EQ(-2000, raw_call(raw, n, &h, NULL));
	ASSERT_TRUE(AVmPayload_isNewInstance());
	s.st.new_instance = false;
	errno = 0;
	ASSERT_FALSE(AVmPayload_isNewInstance());
	ASSERT_EQ(0, errno);

	s.stop = 1;
	shutdown(s.lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(s.lfd);
	unlink(AVF_RT_SOCK_PATH);
	ASSERT_EQ(1, s.readies);
}

TEST_HARNESS_MAIN
