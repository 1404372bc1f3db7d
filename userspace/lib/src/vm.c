// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachine: the handle, status, config changes, output fds, stop,
 * release and connectVsock. Events and callbacks are in vm_events.c,
 * starting avf-vmm (run) in vm_spawn.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

const char *avf_vm_name(const struct avf_vm *vm)
{
	return vm ? vm->name : NULL;
}

const char *avf_vm_last_error(const struct avf_vm *vm)
{
	return vm ? vm->err : "no VM";
}

const char *avf_vm_dir(const struct avf_vm *vm)
{
	return vm ? vm->dir : NULL;
}

void avf__sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long avf__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int avf__vm_get_info(struct avf_vm *vm, struct avf_vm_state *out)
{
	struct avf_vm_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(vm->vm_fd, AVF_VM_GET_INFO, &info) < 0) {
		int e = errno;

		if (e == EIDRM) {
			memset(out, 0, sizeof(*out));
			out->status = AVF_VM_STATUS_DELETED;
			out->last_stop_reason = AVF_STOP_NONE;
			return AVF_OK;
		}
		avf__seterr(vm->err, "AVF_VM_GET_INFO failed: %s", strerror(e));
		return avf__errno_to_err(e);
	}
	out->status = (enum avf_status)info.status;
	out->cid = info.cid;
	out->vmm_pid = info.vmm_pid;
	out->last_stop_reason = info.last_stop_reason;
	out->run_count = info.run_count;
	out->vsock_refused = info.vsock_refused;
	out->console_dropped = info.console_dropped;
	return AVF_OK;
}

int avf_vm_info(struct avf_vm *vm, struct avf_vm_state *info)
{
	if (!vm || !info)
		return AVF_E_INVALID;
	return avf__vm_get_info(vm, info);
}

int avf_vm_status(struct avf_vm *vm, enum avf_status *status)
{
	struct avf_vm_state info;
	int ret;

	if (!vm || !status)
		return AVF_E_INVALID;
	ret = avf__vm_get_info(vm, &info);
	if (!ret)
		*status = info.status;
	return ret;
}

int avf__vm_open_dir(struct avf_vm *vm, int *dirfd)
{
	*dirfd = open(vm->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dirfd < 0) {
		int e = errno;

		if (e == ENOENT) {
			avf__seterr(vm->err, "VM \"%s\" was deleted (no %s)", vm->name, vm->dir);
			return AVF_E_DELETED;
		}
		avf__seterr(vm->err, "cannot open %s: %s", vm->dir, strerror(e));
		return avf__errno_to_err(e);
	}
	return AVF_OK;
}

/* Fails with AVF_E_DELETED / AVF_E_STATE unless the VM is in @want. */
int avf__vm_require_status(struct avf_vm *vm, enum avf_status want, const char *what)
{
	struct avf_vm_state info;
	int ret = avf__vm_get_info(vm, &info);

	if (ret)
		return ret;
	if (info.status == want)
		return AVF_OK;
	if (info.status == AVF_VM_STATUS_DELETED) {
		avf__seterr(vm->err, "%s: VM \"%s\" was deleted", what, vm->name);
		return AVF_E_DELETED;
	}
	avf__seterr(vm->err, "%s: VM \"%s\" is %s, must be %s", what, vm->name,
		    avf_status_name(info.status), avf_status_name(want));
	return AVF_E_STATE;
}

int avf_vm_get_config(struct avf_vm *vm, struct avf_config **out)
{
	int dirfd, ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!vm)
		return AVF_E_INVALID;
	ret = avf__vm_open_dir(vm, &dirfd);
	if (ret)
		return ret;
	ret = avf__config_load(dirfd, out, vm->err);
	close(dirfd);
	return ret;
}

int avf_vm_set_output_paths(struct avf_vm *vm, const char *console, const char *log)
{
	char *c = NULL, *l = NULL;

	if (!vm)
		return AVF_E_INVALID;
	if ((console && !(c = strdup(console))) || (log && !(l = strdup(log)))) {
		free(c);
		return AVF_E_NOMEM;
	}
	free(vm->console_path);
	free(vm->log_path);
	vm->console_path = c;
	vm->log_path = l;
	return AVF_OK;
}

int avf_vm_console_fd(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	if (vm->console_fd < 0) {
		avf__seterr(vm->err, "no console output: capture is off, a path was set, "
				     "or the VM has not run");
		return AVF_E_NO_OUTPUT;
	}
	return vm->console_fd;
}

int avf_vm_log_fd(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	if (vm->log_fd < 0) {
		avf__seterr(vm->err, "no log output: capture is off, a path was set, "
				     "or the VM has not run");
		return AVF_E_NO_OUTPUT;
	}
	return vm->log_fd;
}

/*
 * Reaps our avf-vmm child, waiting up to @ms for it; true when there is
 * none left. Called from the caller's thread and from the callback
 * thread: vmm_pid is under vm->lock.
 */
bool avf__vm_reap(struct avf_vm *vm, long ms)
{
	long end = avf__now_ms() + ms;
	pid_t pid;

	pthread_mutex_lock(&vm->lock);
	pid = vm->vmm_pid;
	pthread_mutex_unlock(&vm->lock);
	if (pid <= 0)
		return true;
	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR)) {
			pthread_mutex_lock(&vm->lock);
			if (vm->vmm_pid == pid)
				vm->vmm_pid = 0;
			pthread_mutex_unlock(&vm->lock);
			return true;
		}
		if (avf__now_ms() >= end)
			return false;
		avf__sleep_ms(5);
	}
}

/*
 * SIGKILLs our avf-vmm child, if any, and reaps it; one we may not signal
 * (it has become the VMM uid) is forgotten, for init to reap.
 */
void avf__vm_kill_reap(struct avf_vm *vm)
{
	pid_t pid;

	pthread_mutex_lock(&vm->lock);
	pid = vm->vmm_pid;
	pthread_mutex_unlock(&vm->lock);
	if (pid <= 0)
		return;
	if (avf__kill_child(pid, -1) == 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	pthread_mutex_lock(&vm->lock);
	if (vm->vmm_pid == pid)
		vm->vmm_pid = 0;
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Whether the run our avf-vmm child served is over, by the module's word:
 * it is unless the instance is RUNNING bound to that child (a later run by
 * another handle has another VMM). Unknown (the ioctl failed) is not over.
 */
static bool vmm_run_over(struct avf_vm *vm)
{
	struct avf_vm_state info;

	if (avf__vm_get_info(vm, &info) != AVF_OK)
		return false;
	return info.status != AVF_VM_STATUS_RUNNING || info.vmm_pid != (uint32_t)vm->vmm_pid;
}

/*
 * The last release of a handle whose run has ended waits for that run's
 * avf-vmm to finish its teardown (unmapping guest RAM, closing /dev/avf),
 * so that when avfctl run or an app's release returns nothing of the run
 * is left: the module can be unloaded, the memory is back. A VMM still
 * there after the grace has nothing left to do for the run and is killed
 * if we may signal it (its instance files are written atomically); a
 * set-uid VMM that has become the VMM uid is not ours to kill and ends by
 * itself, reaped by init once we exit.
 */
static void vm_reap_ended(struct avf_vm *vm)
{
	if (!avf__vm_reap(vm, AVF_VMM_EXIT_GRACE_MS))
		avf__vm_kill_reap(vm);
}

void avf__close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int avf_vm_run(struct avf_vm *vm)
{
	return avf__vm_run(vm);
}

int avf_vm_stop(struct avf_vm *vm)
{
	if (!vm)
		return AVF_E_INVALID;
	if (ioctl(vm->vm_fd, AVF_VM_STOP, 0) < 0) {
		int e = errno;

		if (e == ESRCH) {
			avf__seterr(vm->err, "stop: VM \"%s\" is not running", vm->name);
			return AVF_E_STATE;
		}
		if (e == EIDRM) {
			avf__seterr(vm->err, "stop: VM \"%s\" was deleted", vm->name);
			return AVF_E_DELETED;
		}
		avf__seterr(vm->err, "AVF_VM_STOP failed: %s", strerror(e));
		return avf__errno_to_err(e);
	}
	avf__vm_reap(vm, 2000);
	return AVF_OK;
}

void avf__vm_free(struct avf_vm *vm)
{
	if (vm->vmm_pid > 0 && vmm_run_over(vm))
		vm_reap_ended(vm);
	else if (vm->vmm_pid > 0)
		avf__vm_reap(vm, 0); /* running on: init reaps it after we exit */
	avf__close_fd(&vm->vm_fd);
	avf__close_fd(&vm->console_fd);
	avf__close_fd(&vm->log_fd);
	avf__close_fd(&vm->wake_fd[0]);
	avf__close_fd(&vm->wake_fd[1]);
	if (vm->thread_running)
		pthread_detach(vm->thread);
	pthread_mutex_destroy(&vm->lock);
	free(vm->console_path);
	free(vm->log_path);
	free(vm->dir);
	free(vm);
}

void avf_vm_release(struct avf_vm *vm)
{
	if (!vm)
		return;
	if (!avf__vm_stop_thread(vm)) {
		/* Called from our own callback: the thread frees on its way out. */
		pthread_mutex_lock(&vm->lock);
		vm->thread_stop = true;
		vm->free_on_exit = true;
		vm->have_cb = false;
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	avf__vm_free(vm);
}

void avf_vm_close(struct avf_vm *vm)
{
	enum avf_status st;

	if (!vm)
		return;
	if (avf_vm_status(vm, &st) == AVF_OK && st == AVF_VM_STATUS_RUNNING)
		avf_vm_stop(vm);
	avf_vm_release(vm);
}

int avf_vm_set_config(struct avf_vm *vm, const struct avf_config *cfg)
{
	struct avf_config *cur = NULL;
	int lockfd = -1, dirfd = -1, ret;

	if (!vm)
		return AVF_E_INVALID;
	if (!cfg) {
		avf__seterr(vm->err, "set_config: config is NULL");
		return AVF_E_INVALID;
	}
	ret = avf__config_validate(cfg, vm->err);
	if (ret)
		return ret;
	ret = avf__vm_require_status(vm, AVF_VM_STATUS_STOPPED, "set_config");
	if (ret)
		return ret;
	ret = avf__lock_instance(vm->dir, LOCK_EX, &lockfd, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	ret = avf__vm_open_dir(vm, &dirfd);
	if (ret)
		goto out;
	ret = avf__config_load(dirfd, &cur, vm->err);
	if (ret)
		goto out;
	if (!avf_config_is_compatible_with(cur, cfg)) {
		avf__seterr(vm->err, "set_config: only memory and CPU topology may change");
		ret = AVF_E_INCOMPATIBLE;
		goto out;
	}
	ret = avf__config_store(dirfd, cfg, vm->err);
out:
	avf_config_free(cur);
	avf__close_fd(&dirfd);
	avf__close_fd(&lockfd);
	return ret;
}

static int connect_error(struct avf_vm *vm, uint32_t port, int e)
{
	switch (e) {
	case EPERM:
		avf__seterr(vm->err, "connect_vsock: permission denied: only the owner of VM "
				     "\"%s\" may connect to it (this process runs as uid %u)",
			    vm->name, (unsigned)geteuid());
		return AVF_E_PERMISSION;
	case ESRCH:
		avf__seterr(vm->err, "connect_vsock: VM \"%s\" is not running", vm->name);
		return AVF_E_STATE;
	case EIDRM:
		avf__seterr(vm->err, "connect_vsock: VM \"%s\" was deleted", vm->name);
		return AVF_E_DELETED;
	case EINVAL:
		avf__seterr(vm->err, "connect_vsock: the module refused port %u", port);
		return AVF_E_INVALID;
	case ECONNREFUSED:
		avf__seterr(vm->err, "connect_vsock: nothing listens on port %u in VM \"%s\"",
			    port, vm->name);
		return AVF_E_REFUSED;
	case ETIMEDOUT:
		avf__seterr(vm->err, "connect_vsock: port %u of VM \"%s\" did not answer "
				     "within %d ms", port, vm->name, AVF_VSOCK_CONNECT_MS);
		return AVF_E_TIMEOUT;
	case EAGAIN:
		avf__seterr(vm->err, "connect_vsock: too many connection requests to VM "
				     "\"%s\" in flight (max %u); retry later", vm->name,
			    vm->mgr->caps.max_pending_connects);
		return AVF_E_BUSY;
	case ECONNABORTED:
		avf__seterr(vm->err, "connect_vsock: VM \"%s\" stopped before port %u "
				     "answered", vm->name, port);
		return AVF_E_STATE;
	case ENOTTY:
		avf__seterr(vm->err, "connect_vsock: the avf module cannot broker vsock "
				     "connections (too old)");
		return AVF_E_UNSUPPORTED;
	default:
		avf__seterr(vm->err, "AVF_VM_CONNECT_VSOCK failed: %s", strerror(e));
		return avf__errno_to_err(e);
	}
}

/*
 * The module brokers the connection to the bound VMM, which relays it to
 * the guest port: no socket path, and only the owner's uid gets through.
 */
int avf_vm_connect_vsock(struct avf_vm *vm, uint32_t port, int *fd)
{
	struct avf_vsock_connect c;
	int r;

	if (!fd)
		return AVF_E_INVALID;
	*fd = -1;
	if (!vm)
		return AVF_E_INVALID;
	if (port < AVF_VSOCK_PORT_MIN || port == UINT32_MAX) {
		avf__seterr(vm->err, "connect_vsock: port %u is outside %u..%u", port,
			    AVF_VSOCK_PORT_MIN, UINT32_MAX - 1);
		return AVF_E_INVALID;
	}
	memset(&c, 0, sizeof(c));
	c.port = port;
	c.timeout_ms = AVF_VSOCK_CONNECT_MS;
	do {
		r = ioctl(vm->vm_fd, AVF_VM_CONNECT_VSOCK, &c);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return connect_error(vm, port, errno);
	/*
	 * The result must be a new socket: never hand out, or close, an fd
	 * we did not get (a module returning 0 would name our stdin).
	 */
	{
		struct stat st;

		if (fstat(r, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			avf__seterr(vm->err, "connect_vsock: the module returned fd %d, which is "
					     "not a socket", r);
			return AVF_E_PROTOCOL;
		}
	}
	/* The module returns it O_CLOEXEC and blocking; make sure of both. */
	if (fcntl(r, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(r, F_SETFL, fcntl(r, F_GETFL) & ~O_NONBLOCK) < 0) {
		int e = errno;

		close(r);
		avf__seterr(vm->err, "connect_vsock: fcntl failed: %s", strerror(e));
		return AVF_E_SYSTEM;
	}
	*fd = r;
	return AVF_OK;
}
