/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Control channel (hvc2) protocol: ASCII lines from the guest runtime,
 * Documentation/interfaces.rst. Pure parsing, no I/O.
 */
#ifndef AVF_VMM_CONTROL_H
#define AVF_VMM_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/avf.h>

#include "limits.h"

enum control_type {
	CTL_STARTED,
	CTL_READY,
	CTL_FINISHED,
	CTL_ERROR,
	CTL_FAIL,
	CTL_SHUTDOWN,
};

struct control_msg {
	enum control_type type;
	int32_t code;
	char text[AVF_MESSAGE_MAX];
};

/* Parse one line without its '\n'. Returns 0 or -EINVAL (unknown/malformed). */
int control_parse_line(const char *line, size_t len, struct control_msg *msg);

typedef void (*control_line_fn)(void *opaque, const char *line, size_t len);

/* Reassembles lines from a byte stream; overlong lines are discarded whole. */
struct control_stream {
	char buf[CONTROL_LINE_MAX + 1];
	size_t len;
	int overlong;
};

void control_stream_feed(struct control_stream *s, const uint8_t *buf, size_t len,
			 control_line_fn fn, void *opaque);

#endif
