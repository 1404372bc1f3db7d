/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bounded output stream for guest console/log bytes. Writing never blocks:
 * bytes the destination cannot take now wait in a fixed ring.
 *
 * outsink_put() (kernel console, serial): when the ring is full new bytes
 * are dropped and counted exactly in @dropped, as are bytes still queued or
 * arriving after the destination went away (EPIPE, POLLHUP...).
 * outsink_take() (payload log): takes only what fits and returns the count;
 * the caller keeps the rest (backpressure), nothing is dropped while the
 * destination exists.
 * No destination configured (capture off): bytes are discarded, counted in
 * @discarded, not as dropped.
 */
#ifndef AVF_VMM_OUTSINK_H
#define AVF_VMM_OUTSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct outsink {
	int fd;			/* -1: discard */
	size_t head, len;
	uint64_t dropped;	/* lost although capture was on */
	uint64_t discarded;	/* no destination configured */
	uint64_t written;
	bool capture;		/* a destination was given */
	uint8_t ring[CONSOLE_RING_BYTES];
};

void outsink_init(struct outsink *s, int fd);
void outsink_put(struct outsink *s, const void *buf, size_t len);
/* Queue as much of @buf as fits now (after a flush); returns bytes taken. */
size_t outsink_take(struct outsink *s, const void *buf, size_t len);
/* Push buffered bytes to the fd as far as it accepts them without blocking. */
void outsink_flush(struct outsink *s);
/*
 * End of the run: wait for the destination to take what is queued, giving
 * up (dropped, counted) after @idle_ms without progress.
 */
void outsink_drain(struct outsink *s, int idle_ms);
/* End of the run, no waiting: flush once, count what is left as dropped. */
void outsink_abandon(struct outsink *s);
static inline size_t outsink_pending(const struct outsink *s)
{
	return s->len;
}

#endif
