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
	s->discarded = 0;
	s->written = 0;
	s->capture = fd >= 0;
}

static void lost(struct outsink *s, size_t len)
{
	if (s->capture)
		s->dropped += len;
	else
		s->discarded += len;
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
	lost(s, s->len);
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

void outsink_drain(struct outsink *s, int idle_ms)
{
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };
		int n;

		outsink_flush(s);
		if (!s->len || s->fd < 0)
			return;
		n = poll(&p, 1, idle_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			give_up(s);
			return;
		}
	}
}

void outsink_abandon(struct outsink *s)
{
	outsink_flush(s);
	lost(s, s->len);
	s->len = 0;
}

size_t outsink_take(struct outsink *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t taken = 0;

	if (s->fd < 0) {
		lost(s, len);
		return len;
	}
	while (len) {
		size_t space = CONSOLE_RING_BYTES - s->len, tail, n;

		if (!space) {
			outsink_flush(s);
			if (s->fd < 0) {	/* gone meanwhile */
				lost(s, len);
				return taken + len;
			}
			space = CONSOLE_RING_BYTES - s->len;
			if (!space)
				break;
		}
		tail = (s->head + s->len) % CONSOLE_RING_BYTES;
		n = len < space ? len : space;
		if (n > CONSOLE_RING_BYTES - tail)
			n = CONSOLE_RING_BYTES - tail;
		memcpy(s->ring + tail, p, n);
		s->len += n;
		p += n;
		len -= n;
		taken += n;
	}
	outsink_flush(s);
	return taken;
}

void outsink_put(struct outsink *s, const void *buf, size_t len)
{
	size_t taken = outsink_take(s, buf, len);

	if (taken < len)
		s->dropped += len - taken;
}
