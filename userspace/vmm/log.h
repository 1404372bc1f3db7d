/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics on stderr; guest-triggerable messages are rate-limited. */
#ifndef AVF_VMM_LOG_H
#define AVF_VMM_LOG_H

#include <stdbool.h>

extern bool vlog_verbose;

void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog_ratelimited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
