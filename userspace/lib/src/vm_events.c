// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachineCallback: the module's life-cycle records read from the
 * handle's VM fd and delivered to the callbacks, on a thread of ours
 * (AVF_EXECUTOR_THREAD) or inside avf_vm_dispatch() (AVF_EXECUTOR_POLL).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"


static void deliver(struct avf_vm *vm, const struct avf_event *ev)
{
	struct avf_vm_callbacks cb;
	void *ctx;
	bool have;

	pthread_mutex_lock(&vm->lock);
	cb = vm->cb;
	ctx = vm->cb_ctx;
	have = vm->have_cb;
	pthread_mutex_unlock(&vm->lock);
	if (!have)
		return;
	switch (ev->type) {
	case AVF_EVENT_PAYLOAD_STARTED:
		if (cb.on_payload_started)
			cb.on_payload_started(vm, ctx);
		break;
	case AVF_EVENT_PAYLOAD_READY:
		if (cb.on_payload_ready)
			cb.on_payload_ready(vm, ctx);
		break;
	case AVF_EVENT_PAYLOAD_FINISHED:
		if (cb.on_payload_finished)
			cb.on_payload_finished(vm, ev->code, ctx);
		break;
	case AVF_EVENT_ERROR: {
		char msg[AVF_MESSAGE_MAX];

		memcpy(msg, ev->message, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		if (cb.on_error)
			cb.on_error(vm, ev->code, msg, ctx);
		break;
	}
	case AVF_EVENT_STOPPED:
		if (cb.on_stopped)
			cb.on_stopped(vm, ev->code, ctx);
		break;
	default:
		break; /* RUNNING, OVERFLOW and future types */
	}
}

/*
 * Reads up to one batch of records. Returns the count read, 0 when none
 * is queued, or an error.
 */
static int read_events(struct avf_vm *vm, struct avf_event *evs)
{
	ssize_t n;

	pthread_mutex_lock(&vm->lock);
	if (vm->hup) {
		pthread_mutex_unlock(&vm->lock);
		return 0;
	}
	n = read(vm->vm_fd, evs, sizeof(*evs) * AVF_EVENT_BATCH);
	if (n < 0) {
		int e = errno;

		if (e == EIDRM)
			vm->hup = true;
		pthread_mutex_unlock(&vm->lock);
		if (e == EAGAIN || e == EINTR || e == EIDRM)
			return 0;
		avf__seterr(vm->err, "reading events failed: %s", strerror(e));
		return avf__errno_to_err(e);
	}
	pthread_mutex_unlock(&vm->lock);
	if (n % (ssize_t)sizeof(*evs)) {
		avf__seterr(vm->err, "short event record (%zd bytes)", n);
		return AVF_E_PROTOCOL;
	}
	return (int)(n / (ssize_t)sizeof(*evs));
}

int avf__vm_dispatch_all(struct avf_vm *vm)
{
	struct avf_event evs[AVF_EVENT_BATCH];
	int total = 0;

	for (;;) {
		int n = read_events(vm, evs);

		if (n <= 0)
			return n < 0 ? n : total;
		for (int i = 0; i < n; i++) {
			if (evs[i].type == AVF_EVENT_STOPPED)
				avf__vm_reap(vm, 0);
			deliver(vm, &evs[i]);
			total++;
		}
	}
}

static void *event_thread(void *arg)
{
	struct avf_vm *vm = arg;
	bool free_me;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = vm->wake_fd[0], .events = POLLIN },
			{ .fd = vm->vm_fd, .events = POLLIN },
		};
		bool stop;

		pthread_mutex_lock(&vm->lock);
		if (vm->hup)
			p[1].fd = -1; /* deleted: only a wake-up can come */
		pthread_mutex_unlock(&vm->lock);

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			avf__sleep_ms(10);
		pthread_mutex_lock(&vm->lock);
		stop = vm->thread_stop;
		pthread_mutex_unlock(&vm->lock);
		if (stop)
			break;
		if (p[1].revents & POLLIN)
			avf__vm_dispatch_all(vm);
		else if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pthread_mutex_lock(&vm->lock);
			vm->hup = true;
			pthread_mutex_unlock(&vm->lock);
		}
		pthread_mutex_lock(&vm->lock);
		stop = vm->thread_stop;
		pthread_mutex_unlock(&vm->lock);
		if (stop)
			break;
	}
	pthread_mutex_lock(&vm->lock);
	free_me = vm->free_on_exit;
	pthread_mutex_unlock(&vm->lock);
	if (free_me)
		avf__vm_free(vm);
	return NULL;
}

static int start_thread(struct avf_vm *vm)
{
	int ret;

	if (vm->thread_running)
		return AVF_OK;
	if (vm->wake_fd[0] < 0 && pipe2(vm->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		avf__seterr(vm->err, "pipe failed: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	vm->thread_stop = false;
	ret = pthread_create(&vm->thread, NULL, event_thread, vm);
	if (ret) {
		avf__seterr(vm->err, "cannot start the callback thread: %s", strerror(ret));
		return ret == EAGAIN ? AVF_E_NOMEM : AVF_E_SYSTEM;
	}
	vm->thread_running = true;
	return AVF_OK;
}

/* Returns true when the thread was stopped (false: called from it). */
bool avf__vm_stop_thread(struct avf_vm *vm)
{
	char c = 1;

	if (!vm->thread_running)
		return true;
	if (pthread_equal(pthread_self(), vm->thread))
		return false;
	pthread_mutex_lock(&vm->lock);
	vm->thread_stop = true;
	pthread_mutex_unlock(&vm->lock);
	if (write(vm->wake_fd[1], &c, 1) < 0) {
		/* The pipe is only full when a wake-up is already pending. */
	}
	pthread_join(vm->thread, NULL);
	vm->thread_running = false;
	return true;
}

int avf_vm_set_callback(struct avf_vm *vm, const struct avf_vm_callbacks *cb, void *ctx,
			enum avf_executor executor)
{
	if (!vm)
		return AVF_E_INVALID;
	if (!cb || (executor != AVF_EXECUTOR_THREAD && executor != AVF_EXECUTOR_POLL)) {
		avf__seterr(vm->err, "set_callback: callbacks NULL or bad executor %d",
			    (int)executor);
		return AVF_E_INVALID;
	}
	if (executor == AVF_EXECUTOR_POLL && vm->thread_running && !avf__vm_stop_thread(vm)) {
		avf__seterr(vm->err, "cannot switch to the poll executor from a callback");
		return AVF_E_STATE;
	}
	pthread_mutex_lock(&vm->lock);
	vm->cb = *cb;
	vm->cb_ctx = ctx;
	vm->have_cb = true;
	vm->executor = executor;
	pthread_mutex_unlock(&vm->lock);
	if (executor == AVF_EXECUTOR_THREAD)
		return start_thread(vm);
	return AVF_OK;
}

int avf_vm_clear_callback(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	pthread_mutex_lock(&vm->lock);
	vm->have_cb = false;
	memset(&vm->cb, 0, sizeof(vm->cb));
	vm->cb_ctx = NULL;
	pthread_mutex_unlock(&vm->lock);
	/* From a callback the thread stays and drops events until release. */
	avf__vm_stop_thread(vm);
	return AVF_OK;
}

int avf_vm_event_fd(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	return vm->vm_fd;
}

int avf_vm_dispatch(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	if (vm->thread_running) {
		avf__seterr(vm->err, "dispatch: events go to the library's thread "
				     "(AVF_EXECUTOR_THREAD)");
		return AVF_E_STATE;
	}
	return avf__vm_dispatch_all(vm);
}

int avf_vm_wait_stopped(struct avf_vm *vm, int timeout_ms)
{
	long end = avf__now_ms() + timeout_ms;

	if (!vm)
		return AVF_E_INVALID;
	for (;;) {
		struct avf_vm_state info;
		int ret;

		if (!vm->thread_running) {
			struct pollfd p = { .fd = vm->vm_fd, .events = POLLIN };

			poll(&p, 1, 50);
			ret = avf__vm_dispatch_all(vm);
			if (ret < 0)
				return ret;
		} else {
			avf__sleep_ms(20);
		}
		ret = avf__vm_get_info(vm, &info);
		if (ret)
			return ret;
		if (info.status != AVF_VM_STATUS_RUNNING) {
			if (!vm->thread_running) {
				ret = avf__vm_dispatch_all(vm);
				if (ret < 0)
					return ret;
			}
			avf__vm_reap(vm, 1000);
			return AVF_OK;
		}
		if (timeout_ms >= 0 && avf__now_ms() >= end) {
			avf__seterr(vm->err, "VM \"%s\" still running after %d ms", vm->name,
				    timeout_ms);
			return AVF_E_TIMEOUT;
		}
	}
}

/* Drops records queued before this run (from earlier runs). */
void avf__vm_drain_events(struct avf_vm *vm)
{
	struct avf_event evs[AVF_EVENT_BATCH];

	if (vm->thread_running)
		return; /* the thread delivers them in order */
	while (read_events(vm, evs) > 0)
		;
}
