// SPDX-License-Identifier: GPL-2.0
/* The host-side backend of vsock connections (vsock_host.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock_host.h"

int vhost_open(struct vsock_host_end *e, int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = 0, .data.u32 = tag };

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	e->fd = fd;
	e->watched = true;
	return 0;
}

void vhost_unwatch(struct vsock_host_end *e, int epfd)
{
	if (e->fd >= 0 && e->watched)
		epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
	e->watched = false;
}

void vhost_close(struct vsock_host_end *e, int epfd)
{
	vhost_unwatch(e, epfd);
	if (e->fd >= 0)
		close(e->fd);
	free(e->buf);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

static int write_some(int fd, const uint8_t *p, uint32_t len, uint32_t *w)
{
	ssize_t n = write(fd, p, len);

	*w = 0;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	*w = (uint32_t)n;
	return 0;
}

int vhost_put(struct vsock_host_end *e, const uint8_t *p, uint32_t len, uint32_t *taken)
{
	uint32_t w = 0;
	int ret;

	*taken = 0;
	if (e->fd < 0)
		return -EPIPE;
	if (!e->buf_len && len) {
		/* Nothing waits: straight to the fd, partial writes included. */
		ret = write_some(e->fd, p, len, &w);
		if (ret)
			return ret;
		*taken = w;
	}
	len -= w;
	if (!len)
		return 0;
	if (len > VSOCK_CONN_BUF - e->buf_len)
		return -ENOBUFS;
	if (!e->buf) {
		e->buf = malloc(VSOCK_CONN_BUF);
		if (!e->buf)
			return -ENOMEM;
	}
	memcpy(e->buf + e->buf_len, p + w, len);
	e->buf_len += len;
	return 0;
}

int vhost_flush(struct vsock_host_end *e, uint32_t *taken)
{
	uint32_t w;
	int ret;

	*taken = 0;
	if (!e->buf_len)
		return 0;
	if (e->fd < 0)
		return -EPIPE;
	ret = write_some(e->fd, e->buf, e->buf_len, &w);
	if (ret || !w)
		return ret;
	memmove(e->buf, e->buf + w, e->buf_len - w);
	e->buf_len -= w;
	*taken = w;
	return 0;
}

ssize_t vhost_get(struct vsock_host_end *e, uint8_t *buf, uint32_t len)
{
	ssize_t n;

	if (e->fd < 0)
		return 0;
	n = read(e->fd, buf, len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
	return n;
}

void vhost_shutdown(struct vsock_host_end *e, int how)
{
	if (e->fd >= 0)
		shutdown(e->fd, how);
}

void vhost_interest(struct vsock_host_end *e, int epfd, uint32_t tag, bool want_in)
{
	struct epoll_event ev = { .events = 0, .data.u32 = tag };

	if (e->fd < 0 || !e->watched)
		return;
	if (want_in)
		ev.events |= EPOLLIN;
	if (e->buf_len)
		ev.events |= EPOLLOUT;
	if (ev.events == e->events)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, e->fd, &ev) == 0)
		e->events = ev.events;
}

int vhost_handshake(struct vsock_host_end *e, uint32_t *port)
{
	unsigned long p;
	char *end;
	ssize_t n;

	/* One byte at a time: never read past the line into payload. */
	while (e->line_len < sizeof(e->line) - 1) {
		n = read(e->fd, &e->line[e->line_len], 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		if (e->line[e->line_len] != '\n') {
			e->line_len++;
			continue;
		}
		e->line[e->line_len] = '\0';
		if (strncmp(e->line, "CONNECT ", 8))
			return -1;
		errno = 0;
		p = strtoul(e->line + 8, &end, 10);
		if (errno || *end || end == e->line + 8 || p > UINT32_MAX)
			return -1;
		*port = (uint32_t)p;
		return 1;
	}
	return -1;
}

int vhost_handshake_ok(struct vsock_host_end *e, uint32_t local_port)
{
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", local_port);

	return write(e->fd, ok, (size_t)n) == n ? 0 : -1;
}

int vhost_listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}
