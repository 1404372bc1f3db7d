// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "outsink.h"

void outsink_init(struct outsink *s, int fd)
{
	s->fd = fd;
	s->head = 0;
	s->len = 0;
	s->dropped = 0;
	s->written = 0;
}

/* 1: writable now, 0: not now, -1: the destination is gone. */
static int writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, 0) != 1)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -1;
	return !!(p.revents & POLLOUT);
}

static void give_up(struct outsink *s)
{
	s->dropped += s->len;
	s->len = 0;
	s->fd = -1;
}

void outsink_flush(struct outsink *s)
{
	while (s->len && s->fd >= 0) {
		size_t n = s->len, first = CONSOLE_RING_BYTES - s->head;
		ssize_t w;

		if (n > first)
			n = first;
		if (n > CONSOLE_WRITE_CHUNK)
			n = CONSOLE_WRITE_CHUNK;
		switch (writable(s->fd)) {
		case 0:
			return;
		case -1:
			give_up(s);
			return;
		}
		w = write(s->fd, s->ring + s->head, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Destination gone (EPIPE, EIO...): stop trying, keep draining. */
			if (w < 0 && errno != EAGAIN)
				give_up(s);
			return;
		}
		s->written += (size_t)w;
		s->head = (s->head + (size_t)w) % CONSOLE_RING_BYTES;
		s->len -= (size_t)w;
	}
}

void outsink_put(struct outsink *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (s->fd < 0) {
		s->dropped += len;
		return;
	}
	while (len) {
		size_t space = CONSOLE_RING_BYTES - s->len, tail, n;

		if (!space) {
			outsink_flush(s);
			space = CONSOLE_RING_BYTES - s->len;
			if (!space) {
				s->dropped += len;
				return;
			}
		}
		tail = (s->head + s->len) % CONSOLE_RING_BYTES;
		n = len < space ? len : space;
		if (n > CONSOLE_RING_BYTES - tail)
			n = CONSOLE_RING_BYTES - tail;
		memcpy(s->ring + tail, p, n);
		s->len += n;
		p += n;
		len -= n;
	}
	outsink_flush(s);
}
