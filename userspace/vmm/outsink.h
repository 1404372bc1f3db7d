/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bounded output stream for guest console/log bytes. Writing never blocks:
 * bytes the destination cannot take now wait in a fixed ring; when the ring
 * is full new bytes are dropped and counted. No destination = discard.
 */
#ifndef AVF_VMM_OUTSINK_H
#define AVF_VMM_OUTSINK_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct outsink {
	int fd;			/* -1: discard */
	size_t head, len;
	uint64_t dropped;
	uint64_t written;
	uint8_t ring[CONSOLE_RING_BYTES];
};

void outsink_init(struct outsink *s, int fd);
void outsink_put(struct outsink *s, const void *buf, size_t len);
/* Push buffered bytes to the fd as far as it accepts them without blocking. */
void outsink_flush(struct outsink *s);
static inline size_t outsink_pending(const struct outsink *s)
{
	return s->len;
}

#endif
