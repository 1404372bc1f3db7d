// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "control.h"

/* Strict decimal int32: optional '-', digits, nothing else. */
static int parse_int(const char *s, size_t len, int32_t *out, size_t *used)
{
	int64_t v = 0;
	size_t i = 0;
	int neg = 0;

	if (i < len && s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= len || s[i] < '0' || s[i] > '9')
		return -EINVAL;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return -ERANGE;
	}
	if (neg)
		v = -v;
	if (v > INT32_MAX || v < INT32_MIN)
		return -ERANGE;
	*out = (int32_t)v;
	*used = i;
	return 0;
}

static int word_is(const char *line, size_t len, const char *w, size_t *rest)
{
	size_t n = strlen(w);

	if (len < n || memcmp(line, w, n))
		return 0;
	if (len == n) {
		*rest = n;
		return 1;
	}
	if (line[n] != ' ')
		return 0;
	*rest = n + 1;
	return 1;
}

int control_parse_line(const char *line, size_t len, struct control_msg *msg)
{
	size_t rest, used, i;
	int32_t code;

	if (len && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return -EINVAL;
	memset(msg, 0, sizeof(*msg));

	if (len == 7 && !memcmp(line, "STARTED", 7)) {
		msg->type = CTL_STARTED;
		return 0;
	}
	if (len == 5 && !memcmp(line, "READY", 5)) {
		msg->type = CTL_READY;
		return 0;
	}
	if (len == 8 && !memcmp(line, "SHUTDOWN", 8)) {
		msg->type = CTL_SHUTDOWN;
		return 0;
	}
	if (word_is(line, len, "FINISHED", &rest) || word_is(line, len, "FAIL", &rest)) {
		msg->type = line[1] == 'I' && line[2] == 'N' ? CTL_FINISHED : CTL_FAIL;
		if (rest >= len || parse_int(line + rest, len - rest, &code, &used) ||
		    rest + used != len)
			return -EINVAL;
		msg->code = code;
		return 0;
	}
	if (word_is(line, len, "ERROR", &rest)) {
		msg->type = CTL_ERROR;
		if (rest >= len || parse_int(line + rest, len - rest, &code, &used))
			return -EINVAL;
		msg->code = code;
		rest += used;
		if (rest < len) {
			size_t n;

			if (line[rest] != ' ')
				return -EINVAL;
			rest++;
			n = len - rest;
			if (n > sizeof(msg->text) - 1)
				n = sizeof(msg->text) - 1;
			memcpy(msg->text, line + rest, n);
		}
		return 0;
	}
	return -EINVAL;
}

void control_stream_feed(struct control_stream *s, const uint8_t *buf, size_t len,
			 control_line_fn fn, void *opaque)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = (char)buf[i];

		if (ch == '\n') {
			if (!s->overlong)
				fn(opaque, s->buf, s->len);
			s->len = 0;
			s->overlong = 0;
			continue;
		}
		if (s->len >= CONTROL_LINE_MAX) {
			s->overlong = 1;
			continue;
		}
		s->buf[s->len++] = ch;
		s->buf[s->len] = '\0';
	}
}
