/* SPDX-License-Identifier: GPL-2.0 */
/* Control channel (hvc2) lines, guest -> host: Documentation/interfaces.rst */
#ifndef AVF_PAYLOAD_CTL_H
#define AVF_PAYLOAD_CTL_H

#include <stddef.h>

#define AVF_CTL_LINE_MAX	256	/* bytes, including the '\n' */

/* Error codes (VirtualMachineCallback ERROR_*) */
#define AVF_CTL_ERR_UNKNOWN			0
#define AVF_CTL_ERR_PAYLOAD_INVALID_CONFIG	3
/* Stop reasons (VirtualMachineCallback STOP_REASON_*) */
#define AVF_CTL_STOP_INVALID_PAYLOAD_CONFIG	14
#define AVF_CTL_STOP_UNKNOWN_RUNTIME_ERROR	15

/*
 * Each formatter writes one complete line ending in '\n' into @buf
 * (@size >= AVF_CTL_LINE_MAX is always enough) and returns its length
 * without a terminating NUL counted, or -1 when @size is too small.
 * Text is made printable ASCII (other bytes become '?') and truncated so the
 * line never exceeds AVF_CTL_LINE_MAX bytes.
 */
int avf_ctl_fmt_started(char *buf, size_t size);
int avf_ctl_fmt_ready(char *buf, size_t size);
int avf_ctl_fmt_finished(char *buf, size_t size, int code);
int avf_ctl_fmt_error(char *buf, size_t size, int code, const char *text);
int avf_ctl_fmt_fail(char *buf, size_t size, int stop_reason);
int avf_ctl_fmt_shutdown(char *buf, size_t size);

#endif
