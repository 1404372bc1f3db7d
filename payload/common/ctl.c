// SPDX-License-Identifier: GPL-2.0
#include "ctl.h"

#include <stdio.h>
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

int avf_ctl_fmt_started(char *buf, size_t size)
{
	return put(buf, size, "STARTED", NULL);
}

int avf_ctl_fmt_ready(char *buf, size_t size)
{
	return put(buf, size, "READY", NULL);
}

int avf_ctl_fmt_finished(char *buf, size_t size, int code)
{
	char p[32];

	snprintf(p, sizeof(p), "FINISHED %d", code);
	return put(buf, size, p, NULL);
}

int avf_ctl_fmt_error(char *buf, size_t size, int code, const char *text)
{
	char p[32];

	snprintf(p, sizeof(p), "ERROR %d ", code);
	return put(buf, size, p, text && *text ? text : "error");
}

int avf_ctl_fmt_fail(char *buf, size_t size, int stop_reason)
{
	char p[32];

	snprintf(p, sizeof(p), "FAIL %d", stop_reason);
	return put(buf, size, p, NULL);
}

int avf_ctl_fmt_shutdown(char *buf, size_t size)
{
	return put(buf, size, "SHUTDOWN", NULL);
}
