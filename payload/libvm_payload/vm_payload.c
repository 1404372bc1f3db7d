// SPDX-License-Identifier: GPL-2.0
/*
 * libvm_payload: the payload side of the VM Payload API. Each call that
 * needs the guest runtime opens a short connection to AVF_RT_SOCK_PATH,
 * sends one request (struct avf_rt_hdr + body) and reads one reply.
 */
#include "vm_payload.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rtproto.h"

#define VMP_EXPORT __attribute__((visibility("default")))

/*
 * Send request @op with @body; on success the reply body is copied to @out
 * (at most @out_size bytes) and its length stored in @out_len.
 * Returns the reply status (0 or -errno) or -errno of a transport failure.
 */
static int rt_call(uint32_t op, const void *body, uint32_t len,
		   void *out, size_t out_size, size_t *out_len)
{
	unsigned char msg[AVF_RT_MAX_MSG];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct avf_rt_hdr h = { .op = op, .len = len };
	ssize_t n;
	int fd, rc;

	if (len > AVF_RT_MAX_BODY)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, AVF_RT_SOCK_PATH);
	while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) && errno == EINTR)
		;
	if (rc) {
		rc = -errno;
		goto out;
	}
	memcpy(msg, &h, sizeof(h));
	if (len)
		memcpy(msg + sizeof(h), body, len);
	while ((n = send(fd, msg, sizeof(h) + len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)(sizeof(h) + len)) {
		rc = n < 0 ? -errno : -EIO;
		goto out;
	}
	while ((n = recv(fd, msg, sizeof(msg), MSG_TRUNC)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	if ((size_t)n < sizeof(h) || (size_t)n > sizeof(msg)) {
		rc = -EPROTO;
		goto out;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.op != op || h.len != (size_t)n - sizeof(h) || h.status > 0) {
		rc = -EPROTO;
		goto out;
	}
	rc = h.status;
	if (rc == 0 && out) {
		if (h.len > out_size) {
			rc = -EOVERFLOW;
			goto out;
		}
		memcpy(out, msg + sizeof(h), h.len);
	}
	if (out_len)
		*out_len = h.len;
out:
	close(fd);
	return rc;
}

VMP_EXPORT void AVmPayload_notifyPayloadReady(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int done;
	int rc;

	pthread_mutex_lock(&lock);
	if (!done) {
		rc = rt_call(AVF_RT_OP_NOTIFY_READY, NULL, 0, NULL, 0, NULL);
		if (rc == 0)
			done = 1;
		else
			fprintf(stderr, "vm_payload: notifyPayloadReady: %s\n", strerror(-rc));
	}
	pthread_mutex_unlock(&lock);
}

VMP_EXPORT const char *AVmPayload_getApkContentsPath(void)
{
	return AVF_APK_MOUNT;
}

static char storage_path[256];
static const char *storage_result;

static void storage_query(void)
{
	size_t len = 0;

	if (rt_call(AVF_RT_OP_STORAGE_PATH, NULL, 0, storage_path, sizeof(storage_path) - 1,
		    &len) == 0 && len > 0) {
		storage_path[len] = '\0';
		if (strlen(storage_path) == len && storage_path[0] == '/')
			storage_result = storage_path;
	}
}

VMP_EXPORT const char *AVmPayload_getEncryptedStoragePath(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, storage_query);
	return storage_result;
}

VMP_EXPORT bool AVmPayload_getVmInstanceSecret(const void *identifier, size_t identifier_size,
					       void *secret, size_t size)
{
	unsigned char body[AVF_RT_MAX_BODY];
	uint32_t want = (uint32_t)size;
	size_t got = 0;
	int rc;

	/* a size above 32 may not be the buffer's: leave it alone then */
	if (secret && size && size <= 32)
		memset(secret, 0, size);
	if (!secret || size == 0 || size > 32 || (!identifier && identifier_size) ||
	    identifier_size > AVF_RT_MAX_BODY - sizeof(want)) {
		errno = EINVAL;
		return false;
	}
	memcpy(body, &want, sizeof(want));
	if (identifier_size)
		memcpy(body + sizeof(want), identifier, identifier_size);
	rc = rt_call(AVF_RT_OP_INSTANCE_SECRET, body, (uint32_t)(sizeof(want) + identifier_size),
		     secret, size, &got);
	if (rc == 0 && got != size)
		rc = -EPROTO;
	if (rc) {
		memset(secret, 0, size);
		errno = -rc;
		return false;
	}
	return true;
}

VMP_EXPORT bool AVmPayload_isNewInstance(void)
{
	unsigned char v = 0;
	size_t got = 0;
	int rc = rt_call(AVF_RT_OP_IS_NEW_INSTANCE, NULL, 0, &v, sizeof(v), &got);

	if (rc == 0 && got != 1)
		rc = -EPROTO;
	if (rc) {
		errno = -rc;
		return false;
	}
	return v != 0;
}
