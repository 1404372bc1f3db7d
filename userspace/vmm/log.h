/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics on stderr; guest-triggerable messages are rate-limited. */
#ifndef AVF_VMM_LOG_H
#define AVF_VMM_LOG_H

#include <stdbool.h>

extern bool vlog_verbose;

void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog_ratelimited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Phase timestamps (CLOCK_MONOTONIC ns, the clock of struct
 * avf_event.timestamp_ns) for boot-time breakdowns (bench/): the first
 * vlog_stamp() of each phase counts; vlog_stamps() writes them as one
 * "timestamps" line at exit. Lock-free, no syscall beyond the vDSO clock.
 */
enum vlog_ts {
	VTS_EXEC,	/* main() entered */
	VTS_BOUND,	/* AVF_VM_BIND_VMM done */
	VTS_LOAD0,	/* AVF_VMM_LOAD: measurement + sealed copies */
	VTS_LOAD1,
	VTS_START0,	/* AVF_VMM_START: secret derivation into guest RAM */
	VTS_START1,
	VTS_KVM_RUN,	/* first KVM_RUN of vCPU 0 */
	VTS_BOOT,	/* control line BOOT: guest runtime (init) started */
	VTS_STARTED,	/* control line STARTED */
	VTS_READY,	/* control line READY */
	VTS_COUNT
};

void vlog_stamp(enum vlog_ts which);
/* CLOCK_MONOTONIC now, in ns (the clock of the stamps). */
uint64_t vlog_now_ns(void);
void vlog_stamps(void);

#endif
