/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the identity selftests: run a step in a forked child under
 * another identity (the trusted VMM uid, an ordinary uid) and get its
 * result back, an fd included (SCM_RIGHTS); AVF_VMM_LOAD / AVF_VMM_START
 * wrappers. Include after avf_util.h.
 */
#ifndef AVF_SELFTEST_ID_UTIL_H
#define AVF_SELFTEST_ID_UTIL_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "avf_util.h"

/* avf_child() uid: become the trusted VMM (avf_become_vmm()). */
#define AVF_AS_VMM	((uid_t)-2)
/* avf_child() uid: stay root. */
#define AVF_AS_ROOT	((uid_t)-1)

static inline int avf_send_result(int sock, int r, bool is_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(cbuf, 0, sizeof(cbuf));
	if (is_fd && r >= 0) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &r, sizeof(int));
	}
	return sendmsg(sock, &m, 0) == sizeof(r) ? 0 : -errno;
}

static inline int avf_recv_result(int sock, bool is_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int r = -EIO, fd = -1;

	iov.iov_base = &r;
	iov.iov_len = sizeof(r);
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != sizeof(r))
		return -EPIPE;
	if (!is_fd || r < 0)
		return r;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * Run @fn(@arg) in a forked child as @uid (AVF_AS_VMM, AVF_AS_ROOT or an
 * ordinary uid, all of real/effective/saved, gids alike). Returns what @fn
 * returned: an fd when @is_fd (passed back with SCM_RIGHTS), else an int;
 * -ECHILD when the child could not switch identity.
 */
static inline int avf_child(uid_t uid, int (*fn)(void *), void *arg, bool is_fd)
{
	int sv[2], r, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sv[0]);
		if (uid == AVF_AS_VMM)
			r = avf_become_vmm() ? -ECHILD : 0;
		else if (uid != AVF_AS_ROOT)
			r = setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ? -ECHILD : 0;
		else
			r = 0;
		if (!r)
			r = fn(arg);
		avf_send_result(sv[1], r, is_fd);
		_exit(0);
	}
	close(sv[1]);
	r = avf_recv_result(sv[0], is_fd);
	close(sv[0]);
	waitpid(pid, &status, 0);
	return r;
}

static inline int avf_bind_fn(void *arg)
{
	return __avf_bind(*(int *)arg, NULL);
}

/* A VMM fd of @vm, bound by a child that became the trusted VMM uid. */
static inline int avf_vmm_bind(int vm)
{
	return avf_child(AVF_AS_VMM, avf_bind_fn, &vm, true);
}

static inline int __avf_load(int vmm, const struct avf_images *im, const void *state,
			     struct avf_vmm_load *out)
{
	struct avf_vmm_load l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.images = *im;
	l.state = (__u64)(uintptr_t)state;
	l.state_size = AVF_INSTANCE_STATE_SIZE;
	ret = __avf_ioctl(vmm, AVF_VMM_LOAD, &l);
	if (out)
		*out = l;
	if (!ret && !out) {
		close(l.kernel_fd);
		close(l.initrd_fd);
		close(l.package_fd);
	}
	return ret;
}

static inline int __avf_start(int vmm, int mem, __u64 off)
{
	struct avf_vmm_start s;

	memset(&s, 0, sizeof(s));
	s.mem_fd = mem;
	s.secret_offset = off;
	return __avf_ioctl(vmm, AVF_VMM_START, &s);
}

static inline void avf_close_load(const struct avf_vmm_load *l)
{
	close(l->kernel_fd);
	close(l->initrd_fd);
	close(l->package_fd);
}

#endif
