// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/avf.h>

#include "lifecycle.h"
#include "log.h"

static const char *const event_names[] = {
	[AVF_EVENT_PAYLOAD_STARTED] = "STARTED",
	[AVF_EVENT_PAYLOAD_READY] = "READY",
	[AVF_EVENT_PAYLOAD_FINISHED] = "FINISHED",
	[AVF_EVENT_ERROR] = "ERROR",
	[AVF_EVENT_STOPPED] = "STOPPED",
};

const char *stop_reason_name(int32_t r)
{
	switch (r) {
	case AVF_STOP_INFRASTRUCTURE_ERROR: return "INFRASTRUCTURE_ERROR";
	case AVF_STOP_KILLED: return "KILLED";
	case AVF_STOP_UNKNOWN: return "UNKNOWN";
	case AVF_STOP_SHUTDOWN: return "SHUTDOWN";
	case AVF_STOP_START_FAILED: return "START_FAILED";
	case AVF_STOP_REBOOT: return "REBOOT";
	case AVF_STOP_CRASH: return "CRASH";
	case AVF_STOP_MICRODROID_INVALID_PAYLOAD_CONFIG: return "INVALID_PAYLOAD_CONFIG";
	case AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR: return "UNKNOWN_RUNTIME_ERROR";
	case AVF_STOP_HANGUP: return "HANGUP";
	default: return "other";
	}
}

void lifecycle_init(struct lifecycle *lc, int vmm_fd, int wake_fd)
{
	memset(lc, 0, sizeof(*lc));
	pthread_mutex_init(&lc->lock, NULL);
	lc->vmm_fd = vmm_fd;
	lc->wake_fd = wake_fd;
}

/* Lock held. */
static int report(struct lifecycle *lc, uint32_t type, int32_t code, const char *msg)
{
	struct avf_vmm_report r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.code = code;
	if (msg)
		strncpy(r.message, msg, sizeof(r.message) - 1);
	if (lc->vmm_fd < 0) {
		vlog("event %s code=%d%s%s\n", event_names[type], code, msg ? " " : "",
		     msg ? msg : "");
		return 0;
	}
	vlog_debug("report %s code=%d\n", event_names[type], code);
	if (ioctl(lc->vmm_fd, AVF_VMM_REPORT, &r) < 0) {
		int err = -errno;

		vlog_ratelimited("AVF_VMM_REPORT %s(%d) failed: %s\n", event_names[type], code,
				 strerror(errno));
		return err;
	}
	return 0;
}

void lifecycle_set_stats(struct lifecycle *lc, uint64_t vsock_refused, uint64_t console_dropped)
{
	struct avf_vmm_stats st;

	pthread_mutex_lock(&lc->lock);
	if (lc->vmm_fd < 0 || lc->stopped ||
	    (vsock_refused == lc->stats_refused && console_dropped == lc->stats_dropped))
		goto out;
	memset(&st, 0, sizeof(st));
	st.vsock_refused = vsock_refused;
	st.console_dropped = console_dropped;
	if (ioctl(lc->vmm_fd, AVF_VMM_SET_STATS, &st) < 0) {
		vlog_ratelimited("AVF_VMM_SET_STATS: %s\n", strerror(errno));
		goto out;
	}
	lc->stats_refused = vsock_refused;
	lc->stats_dropped = console_dropped;
out:
	pthread_mutex_unlock(&lc->lock);
}

static void wake(struct lifecycle *lc)
{
	uint64_t one = 1;

	if (lc->wake_fd >= 0 && write(lc->wake_fd, &one, sizeof(one)) < 0)
		vlog_debug("wake: %s\n", strerror(errno));
}

void lifecycle_handle(struct lifecycle *lc, const struct avf_ctl_msg *msg)
{
	pthread_mutex_lock(&lc->lock);
	if (lc->stopped)
		goto out;
	switch (msg->type) {
	case AVF_CTL_BOOT:
		vlog_stamp(VTS_BOOT);
		if (lc->on_boot)
			lc->on_boot(lc->on_boot_arg, msg->code);
		break;
	case AVF_CTL_STARTED:
		vlog_stamp(VTS_STARTED);
		if (lc->started)
			break;
		lc->started = true;
		report(lc, AVF_EVENT_PAYLOAD_STARTED, 0, NULL);
		wake(lc);
		break;
	case AVF_CTL_READY:
		vlog_stamp(VTS_READY);
		if (lc->ready || !lc->started)
			break;
		lc->ready = true;
		report(lc, AVF_EVENT_PAYLOAD_READY, 0, NULL);
		wake(lc);
		break;
	case AVF_CTL_FINISHED:
		if (lc->finished || !lc->started)
			break;
		lc->finished = true;
		report(lc, AVF_EVENT_PAYLOAD_FINISHED, msg->code, NULL);
		wake(lc);
		break;
	case AVF_CTL_ERROR:
		if (lc->errored)
			break;
		lc->errored = true;
		report(lc, AVF_EVENT_ERROR, msg->code, msg->text);
		break;
	case AVF_CTL_FAIL:
		lc->fail_seen = true;
		lc->fail_reason = msg->code;
		break;
	case AVF_CTL_SHUTDOWN:
		lc->shutdown_seen = true;
		break;
	}
out:
	pthread_mutex_unlock(&lc->lock);
}

void lifecycle_error(struct lifecycle *lc, int32_t code, const char *text)
{
	struct avf_ctl_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = AVF_CTL_ERROR;
	msg.code = code;
	strncpy(msg.text, text, sizeof(msg.text) - 1);
	lifecycle_handle(lc, &msg);
}

static void on_line(void *opaque, const char *line, size_t len)
{
	struct lifecycle *lc = opaque;
	struct avf_ctl_msg msg;

	if (avf_ctl_parse_line(line, len, &msg)) {
		vlog_ratelimited("control: ignoring unknown line (%zu bytes)\n", len);
		return;
	}
	lifecycle_handle(lc, &msg);
}

void lifecycle_feed(struct lifecycle *lc, const uint8_t *buf, size_t len)
{
	avf_ctl_stream_feed(&lc->stream, buf, len, on_line, lc);
}

int32_t lifecycle_reset_reason(struct lifecycle *lc)
{
	int32_t r;

	pthread_mutex_lock(&lc->lock);
	if (lc->fail_seen)
		r = lc->fail_reason;
	else if (lc->shutdown_seen)
		r = AVF_STOP_SHUTDOWN;
	else
		r = AVF_STOP_REBOOT;
	pthread_mutex_unlock(&lc->lock);
	return r;
}

bool lifecycle_started(struct lifecycle *lc)
{
	bool p;

	pthread_mutex_lock(&lc->lock);
	p = lc->started;
	pthread_mutex_unlock(&lc->lock);
	return p;
}

int lifecycle_stop(struct lifecycle *lc, int32_t reason)
{
	int ret = 0;

	pthread_mutex_lock(&lc->lock);
	if (!lc->stopped) {
		if (reason < AVF_STOP_INFRASTRUCTURE_ERROR || reason > AVF_STOP_HANGUP)
			reason = AVF_STOP_UNKNOWN;
		vlog_debug("guest stopped: %s (%d)\n", stop_reason_name(reason), reason);
		ret = report(lc, AVF_EVENT_STOPPED, reason, NULL);
		if (ret == -EINVAL && reason != AVF_STOP_UNKNOWN)
			ret = report(lc, AVF_EVENT_STOPPED, AVF_STOP_UNKNOWN, NULL);
		lc->stopped = true;
	}
	pthread_mutex_unlock(&lc->lock);
	return ret;
}
