/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control channel (hvc2): ASCII lines from the guest runtime to
 * avf-vmm, Documentation/interfaces.rst. Formatters (guest side) and the
 * parser (VMM side) live here together so the two cannot drift; codes are
 * the UAPI's (AVF_ERROR_*, AVF_STOP_* in <linux/avf.h>).
 *
 *   BOOT [<ms>] | STARTED | READY | SHUTDOWN | FINISHED <int32>
 *   | FAIL <stop reason> | ERROR <error code> [<text>]
 *
 * BOOT is the boot marker: the runtime's first line, sent as init starts,
 * with the guest's CLOCK_BOOTTIME in ms then (how long its kernel took,
 * as the guest saw it; 0..INT32_MAX); the VMM timestamps it, logs the
 * guest's figure as a guest's claim and reports nothing (bench/ boot
 * breakdowns). "BOOT" alone is the same marker without the figure.
 */
#ifndef AVF_COMMON_CTLCHAN_H
#define AVF_COMMON_CTLCHAN_H

#include <stddef.h>
#include <stdint.h>

#include <linux/avf.h>

#define AVF_CTL_LINE_MAX	256	/* bytes of a line, including the '\n' */

#define AVF_CTL_KW_BOOT		"BOOT"
#define AVF_CTL_KW_STARTED	"STARTED"
#define AVF_CTL_KW_READY	"READY"
#define AVF_CTL_KW_SHUTDOWN	"SHUTDOWN"
#define AVF_CTL_KW_FINISHED	"FINISHED"
#define AVF_CTL_KW_FAIL		"FAIL"
#define AVF_CTL_KW_ERROR	"ERROR"

/*
 * Each formatter writes one complete line ending in '\n' into @buf
 * (@size >= AVF_CTL_LINE_MAX + 1 is always enough) and returns its length
 * without a terminating NUL counted, or -1 when @size is too small.
 * Text is made printable ASCII (other bytes become '?') and truncated so the
 * line never exceeds AVF_CTL_LINE_MAX bytes.
 */
/* @boot_ms < 0: no figure ("BOOT"). */
int avf_ctl_fmt_boot(char *buf, size_t size, int32_t boot_ms);
int avf_ctl_fmt_started(char *buf, size_t size);
int avf_ctl_fmt_ready(char *buf, size_t size);
int avf_ctl_fmt_finished(char *buf, size_t size, int code);
int avf_ctl_fmt_error(char *buf, size_t size, int code, const char *text);
int avf_ctl_fmt_fail(char *buf, size_t size, int stop_reason);
int avf_ctl_fmt_shutdown(char *buf, size_t size);

enum avf_ctl_type {
	AVF_CTL_STARTED,
	AVF_CTL_READY,
	AVF_CTL_FINISHED,
	AVF_CTL_ERROR,
	AVF_CTL_FAIL,
	AVF_CTL_SHUTDOWN,
	AVF_CTL_BOOT,
};

struct avf_ctl_msg {
	enum avf_ctl_type type;
	int32_t code;		/* BOOT: the guest's ms, -1 without */
	char text[AVF_MESSAGE_MAX];
};

/* Parse one line without its '\n'. Returns 0 or -EINVAL (unknown/malformed). */
int avf_ctl_parse_line(const char *line, size_t len, struct avf_ctl_msg *msg);

typedef void (*avf_ctl_line_fn)(void *opaque, const char *line, size_t len);

/* Reassembles lines from a byte stream; overlong lines are discarded whole. */
struct avf_ctl_stream {
	char buf[AVF_CTL_LINE_MAX + 1];
	size_t len;
	int overlong;
};

void avf_ctl_stream_feed(struct avf_ctl_stream *s, const uint8_t *buf, size_t len,
			 avf_ctl_line_fn fn, void *opaque);

#endif
