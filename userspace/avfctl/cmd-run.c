// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl run: run a VM in the foreground. Prints each callback with the
 * time since run(), streams console/log with "--console -"/"--log -",
 * stops the VM on SIGINT/SIGTERM or --timeout, and exits with the
 * payload's exit code (EX_SOFTWARE when it never finished).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avfctl.h"

struct run_state {
	struct avfctl *ctl;
	struct timespec t0;
	bool finished, stopped, had_error;
	int exit_code, stop_reason, error_code;
	char error_msg[160];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static double elapsed(struct run_state *s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - s->t0.tv_sec) + (double)(t.tv_nsec - s->t0.tv_nsec) / 1e9;
}

static void event(struct run_state *s, const char *ev, const char *key, int code,
		  const char *text)
{
	if (s->ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string(ev));
		json_object_object_add(j, "time", json_object_new_double(elapsed(s)));
		if (key)
			json_object_object_add(j, key, json_object_new_int(code));
		if (text)
			json_object_object_add(j, "message", json_object_new_string(text));
		avfctl_json_print(j);
		return;
	}
	printf("[%9.3f] %s", elapsed(s), ev);
	if (key)
		printf(" %s=%d", key, code);
	if (text)
		printf(" \"%s\"", text);
	printf("\n");
	fflush(stdout);
}

static void cb_started(struct avf_vm *vm, void *ctx)
{
	(void)vm;
	event(ctx, "payload_started", NULL, 0, NULL);
}

static void cb_ready(struct avf_vm *vm, void *ctx)
{
	(void)vm;
	event(ctx, "payload_ready", NULL, 0, NULL);
}

static void cb_finished(struct avf_vm *vm, int code, void *ctx)
{
	struct run_state *s = ctx;

	(void)vm;
	s->finished = true;
	s->exit_code = code;
	event(s, "payload_finished", "exit_code", code, NULL);
}

static void cb_error(struct avf_vm *vm, int code, const char *msg, void *ctx)
{
	struct run_state *s = ctx;

	(void)vm;
	s->had_error = true;
	s->error_code = code;
	snprintf(s->error_msg, sizeof(s->error_msg), "%s", msg);
	event(s, "error", "code", code, msg);
}

static void cb_stopped(struct avf_vm *vm, int reason, void *ctx)
{
	struct run_state *s = ctx;

	(void)vm;
	s->stopped = true;
	s->stop_reason = reason;
	event(s, "stopped", "reason", reason, avf_stop_reason_name(reason));
}

static const struct avf_vm_callbacks callbacks = {
	.on_payload_started = cb_started,
	.on_payload_ready = cb_ready,
	.on_payload_finished = cb_finished,
	.on_error = cb_error,
	.on_stopped = cb_stopped,
};

/* Copies what is readable from @fd to @out (-1: discard); closes at EOF. */
static void pump(int *fd, int out)
{
	char buf[4096];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0) {
		if (out >= 0 && write(out, buf, (size_t)n) < 0) {
			/* Output closed: keep draining so the VMM never blocks. */
		}
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

int cmd_run(struct avfctl *ctl, struct opts *o)
{
	struct run_state s = { .ctl = ctl };
	struct avf_config *cfg = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	struct sigaction sa;
	int con = -1, log = -1, con_out = -1, log_out = -1, ret;
	bool stopping = false;
	long deadline_ms = -1;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_get_config(vm, &cfg);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "run", avf_vm_last_error(vm));
		goto out;
	}
	if ((o->console || o->log) && !avf_config_vm_output_captured(cfg)) {
		avfctl_err(ctl, "VM '%s' does not capture output; --console/--log need a VM "
				"created with --debug full", avf_vm_name(vm));
		ret = EX_USAGE;
		goto out;
	}
	/* Files are written by avf-vmm itself; "-" streams through us. */
	avf_vm_set_output_paths(vm, o->console && strcmp(o->console, "-") ? o->console : NULL,
				o->log && strcmp(o->log, "-") ? o->log : NULL);
	ret = avf_vm_set_callback(vm, &callbacks, &s, AVF_EXECUTOR_POLL);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "run", avf_vm_last_error(vm));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	clock_gettime(CLOCK_MONOTONIC, &s.t0);
	ret = avf_vm_run(vm);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "run", avf_vm_last_error(vm));
		goto out;
	}
	event(&s, "running", NULL, 0, NULL);
	if (avf_config_vm_output_captured(cfg)) {
		con = avf_vm_console_fd(vm);
		log = avf_vm_log_fd(vm);
		if (con >= 0)
			con = fcntl(con, F_DUPFD_CLOEXEC, 0);
		if (log >= 0)
			log = fcntl(log, F_DUPFD_CLOEXEC, 0);
		if (con >= 0)
			fcntl(con, F_SETFL, O_NONBLOCK);
		if (log >= 0)
			fcntl(log, F_SETFL, O_NONBLOCK);
		con_out = o->console && !strcmp(o->console, "-") ? STDOUT_FILENO : -1;
		log_out = o->log && !strcmp(o->log, "-") ? STDOUT_FILENO : -1;
	}
	if (o->timeout_s > 0)
		deadline_ms = o->timeout_s * 1000L;

	/* Until stopped and both streams reached EOF (bounded after the stop). */
	for (int after_stop = 0; !s.stopped || ((con >= 0 || log >= 0) && after_stop < 40);) {
		struct pollfd p[3] = {
			{ .fd = avf_vm_event_fd(vm), .events = POLLIN },
			{ .fd = con, .events = POLLIN },
			{ .fd = log, .events = POLLIN },
		};
		int r = poll(p, 3, 50);

		if (r < 0 && errno != EINTR)
			break;
		if (avf_vm_dispatch(vm) < 0)
			break;
		if (con >= 0 && p[1].revents)
			pump(&con, con_out);
		if (log >= 0 && p[2].revents)
			pump(&log, log_out);
		if (s.stopped)
			after_stop++;
		if (!s.stopped && !stopping && deadline_ms >= 0 && elapsed(&s) * 1000 > deadline_ms) {
			avfctl_err(ctl, "VM '%s' still running after %d s: stopping it",
				   avf_vm_name(vm), o->timeout_s);
			stopping = true;
			avf_vm_stop(vm);
		}
		if (interrupted && !stopping) {
			avfctl_err(ctl, "interrupted: stopping VM '%s'", avf_vm_name(vm));
			stopping = true;
			avf_vm_stop(vm);
		}
		if (!s.stopped && stopping) {
			enum avf_status st;

			/* The STOPPED record follows the stop; a last dispatch picks it up. */
			if (avf_vm_status(vm, &st) == AVF_OK && st != AVF_VM_STATUS_RUNNING &&
			    avf_vm_dispatch(vm) == 0 && !s.stopped)
				s.stopped = true, s.stop_reason = AVF_VM_STOP_KILLED;
		}
	}
	if (con >= 0)
		close(con);
	if (log >= 0)
		close(log);
	if (interrupted)
		ret = 128 + interrupted;
	else if (stopping)
		ret = EX_TEMPFAIL;
	else if (s.finished)
		ret = s.exit_code & 0xff;
	else {
		avfctl_err(ctl, "VM '%s' stopped (%s) before its payload finished%s%s",
			   avf_vm_name(vm), avf_stop_reason_name(s.stop_reason),
			   s.had_error ? ": " : "", s.had_error ? s.error_msg : "");
		ret = EX_SOFTWARE;
	}
out:
	avf_config_free(cfg);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
