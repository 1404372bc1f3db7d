/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Life-cycle reporting to /dev/avf: control-channel messages become
 * AVF_VMM_REPORT calls in the order the module accepts; the stop reason is
 * derived from the last control message when the guest resets.
 */
#ifndef AVF_VMM_LIFECYCLE_H
#define AVF_VMM_LIFECYCLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctlchan.h"

struct lifecycle {
	pthread_mutex_t lock;
	int vmm_fd;		/* -1: standalone, events go to stderr */
	int wake_fd;		/* eventfd poked on STARTED / READY / FINISHED */
	bool started, ready, finished, errored, stopped;
	bool shutdown_seen;
	bool fail_seen;
	int32_t fail_reason;
	struct avf_ctl_stream stream;
	uint64_t stats_refused, stats_dropped;	/* last AVF_VMM_SET_STATS */
	/* Called under the lock at the first BOOT line (vm_count_boot()). */
	/* at BOOT; @guest_ms: the guest's own claim of its boot time, -1 for none */
	void (*on_boot)(void *arg, int32_t guest_ms);
	void *on_boot_arg;
};

void lifecycle_init(struct lifecycle *lc, int vmm_fd, int wake_fd);

/* Device thread: bytes from hvc2. */
void lifecycle_feed(struct lifecycle *lc, const uint8_t *buf, size_t len);
/* One parsed message (exposed for tests). */
void lifecycle_handle(struct lifecycle *lc, const struct avf_ctl_msg *msg);

/* Report ERROR(code, text) from the VMM itself (once per run, like the guest's). */
void lifecycle_error(struct lifecycle *lc, int32_t code, const char *text);
/* The stop reason when the guest resets (triple fault / reboot). */
int32_t lifecycle_reset_reason(struct lifecycle *lc);
/* Payload reached STARTED: the hang-up (boot) timer no longer applies. */
bool lifecycle_started(struct lifecycle *lc);
/* Report STOPPED(reason) once; later calls do nothing. */
int lifecycle_stop(struct lifecycle *lc, int32_t reason);

/*
 * Main thread: pass the run's counters to the module (AVF_VMM_SET_STATS)
 * when they changed since the last call; the owner sees them in VM info.
 * Call once more with the final values before lifecycle_stop().
 */
void lifecycle_set_stats(struct lifecycle *lc, uint64_t vsock_refused, uint64_t console_dropped);

/* Map a stop-reason number to its name (for logs). */
const char *stop_reason_name(int32_t reason);

#endif
