// SPDX-License-Identifier: GPL-2.0
#include "ctlchan.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>

static int put(char *buf, size_t size, const char *prefix, const char *text)
{
	size_t n = strlen(prefix), room;

	if (size < 2 || n + 1 >= size || n + 1 > AVF_CTL_LINE_MAX)
		return -1;
	memcpy(buf, prefix, n);
	room = (size < AVF_CTL_LINE_MAX + 1 ? size - 1 : AVF_CTL_LINE_MAX) - 1;
	for (; text && *text && n < room; text++) {
		unsigned char c = (unsigned char)*text;

		buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	return (int)n;
}

int avf_ctl_fmt_boot(char *buf, size_t size, int32_t boot_ms)
{
	char p[32];

	if (boot_ms < 0)
		return put(buf, size, AVF_CTL_KW_BOOT, NULL);
	snprintf(p, sizeof(p), AVF_CTL_KW_BOOT " %d", boot_ms);
	return put(buf, size, p, NULL);
}

int avf_ctl_fmt_started(char *buf, size_t size)
{
	return put(buf, size, AVF_CTL_KW_STARTED, NULL);
}

int avf_ctl_fmt_ready(char *buf, size_t size)
{
	return put(buf, size, AVF_CTL_KW_READY, NULL);
}

int avf_ctl_fmt_finished(char *buf, size_t size, int code)
{
	char p[32];

	snprintf(p, sizeof(p), AVF_CTL_KW_FINISHED " %d", code);
	return put(buf, size, p, NULL);
}

int avf_ctl_fmt_error(char *buf, size_t size, int code, const char *text)
{
	char p[32];

	snprintf(p, sizeof(p), AVF_CTL_KW_ERROR " %d ", code);
	return put(buf, size, p, text && *text ? text : "error");
}

int avf_ctl_fmt_fail(char *buf, size_t size, int stop_reason)
{
	char p[32];

	snprintf(p, sizeof(p), AVF_CTL_KW_FAIL " %d", stop_reason);
	return put(buf, size, p, NULL);
}

int avf_ctl_fmt_shutdown(char *buf, size_t size)
{
	return put(buf, size, AVF_CTL_KW_SHUTDOWN, NULL);
}

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

/* The whole line is keyword @w. */
static int is_word(const char *line, size_t len, const char *w)
{
	return len == strlen(w) && !memcmp(line, w, len);
}

int avf_ctl_parse_line(const char *line, size_t len, struct avf_ctl_msg *msg)
{
	size_t rest, used, i;
	int32_t code;

	if (len && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return -EINVAL;
	memset(msg, 0, sizeof(*msg));

	if (word_is(line, len, AVF_CTL_KW_BOOT, &rest)) {
		msg->type = AVF_CTL_BOOT;
		msg->code = -1;
		if (rest == len && len == strlen(AVF_CTL_KW_BOOT))
			return 0;
		if (rest >= len || line[rest] == '-' ||
		    parse_int(line + rest, len - rest, &code, &used) || rest + used != len)
			return -EINVAL;
		msg->code = code;
		return 0;
	}
	if (is_word(line, len, AVF_CTL_KW_STARTED)) {
		msg->type = AVF_CTL_STARTED;
		return 0;
	}
	if (is_word(line, len, AVF_CTL_KW_READY)) {
		msg->type = AVF_CTL_READY;
		return 0;
	}
	if (is_word(line, len, AVF_CTL_KW_SHUTDOWN)) {
		msg->type = AVF_CTL_SHUTDOWN;
		return 0;
	}
	if (word_is(line, len, AVF_CTL_KW_FINISHED, &rest) ||
	    word_is(line, len, AVF_CTL_KW_FAIL, &rest)) {
		msg->type = line[1] == AVF_CTL_KW_FINISHED[1] ? AVF_CTL_FINISHED : AVF_CTL_FAIL;
		if (rest >= len || parse_int(line + rest, len - rest, &code, &used) ||
		    rest + used != len)
			return -EINVAL;
		msg->code = code;
		return 0;
	}
	if (word_is(line, len, AVF_CTL_KW_ERROR, &rest)) {
		msg->type = AVF_CTL_ERROR;
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

void avf_ctl_stream_feed(struct avf_ctl_stream *s, const uint8_t *buf, size_t len,
			 avf_ctl_line_fn fn, void *opaque)
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
		if (s->len >= AVF_CTL_LINE_MAX) {
			s->overlong = 1;
			continue;
		}
		s->buf[s->len++] = ch;
		s->buf[s->len] = '\0';
	}
}
