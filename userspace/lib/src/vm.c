// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachine: status, run (spawning avf-vmm), stop, config changes,
 * and the callbacks fed from the module's event records.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define EVENT_BATCH 16

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

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int get_info(struct avf_vm *vm, struct avf_vm_state *out)
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
	return AVF_OK;
}

int avf_vm_info(struct avf_vm *vm, struct avf_vm_state *info)
{
	if (!vm || !info)
		return AVF_E_INVALID;
	return get_info(vm, info);
}

int avf_vm_status(struct avf_vm *vm, enum avf_status *status)
{
	struct avf_vm_state info;
	int ret;

	if (!vm || !status)
		return AVF_E_INVALID;
	ret = get_info(vm, &info);
	if (!ret)
		*status = info.status;
	return ret;
}

static int open_dir(struct avf_vm *vm, int *dirfd)
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
static int require_status(struct avf_vm *vm, enum avf_status want, const char *what)
{
	struct avf_vm_state info;
	int ret = get_info(vm, &info);

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
	ret = open_dir(vm, &dirfd);
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
 * Reaps our avf-vmm child, waiting up to @ms for it. Called from the
 * caller's thread and from the callback thread: vmm_pid is under vm->lock.
 */
static void reap(struct avf_vm *vm, long ms)
{
	long end = now_ms() + ms;
	pid_t pid;

	pthread_mutex_lock(&vm->lock);
	pid = vm->vmm_pid;
	pthread_mutex_unlock(&vm->lock);
	if (pid <= 0)
		return;
	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR)) {
			pthread_mutex_lock(&vm->lock);
			if (vm->vmm_pid == pid)
				vm->vmm_pid = 0;
			pthread_mutex_unlock(&vm->lock);
			return;
		}
		if (now_ms() >= end)
			return;
		sleep_ms(5);
	}
}

/* ------------------------------------------------------------------ */
/* Events and callbacks                                                */

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
	n = read(vm->vm_fd, evs, sizeof(*evs) * EVENT_BATCH);
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

static int dispatch_all(struct avf_vm *vm)
{
	struct avf_event evs[EVENT_BATCH];
	int total = 0;

	for (;;) {
		int n = read_events(vm, evs);

		if (n <= 0)
			return n < 0 ? n : total;
		for (int i = 0; i < n; i++) {
			if (evs[i].type == AVF_EVENT_STOPPED)
				reap(vm, 0);
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
			sleep_ms(10);
		pthread_mutex_lock(&vm->lock);
		stop = vm->thread_stop;
		pthread_mutex_unlock(&vm->lock);
		if (stop)
			break;
		if (p[1].revents & POLLIN)
			dispatch_all(vm);
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
	if (free_me) {
		void avf__vm_free(struct avf_vm *vm);

		avf__vm_free(vm);
	}
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
static bool stop_thread(struct avf_vm *vm)
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
	if (executor == AVF_EXECUTOR_POLL && vm->thread_running && !stop_thread(vm)) {
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
	stop_thread(vm);
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
	return dispatch_all(vm);
}

int avf_vm_wait_stopped(struct avf_vm *vm, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	if (!vm)
		return AVF_E_INVALID;
	for (;;) {
		struct avf_vm_state info;
		int ret;

		if (!vm->thread_running) {
			struct pollfd p = { .fd = vm->vm_fd, .events = POLLIN };

			poll(&p, 1, 50);
			ret = dispatch_all(vm);
			if (ret < 0)
				return ret;
		} else {
			sleep_ms(20);
		}
		ret = get_info(vm, &info);
		if (ret)
			return ret;
		if (info.status != AVF_VM_STATUS_RUNNING) {
			if (!vm->thread_running) {
				ret = dispatch_all(vm);
				if (ret < 0)
					return ret;
			}
			reap(vm, 1000);
			return AVF_OK;
		}
		if (timeout_ms >= 0 && now_ms() >= end) {
			avf__seterr(vm->err, "VM \"%s\" still running after %d ms", vm->name,
				    timeout_ms);
			return AVF_E_TIMEOUT;
		}
	}
}

/* ------------------------------------------------------------------ */
/* run / stop                                                          */

/* Drops records queued before this run (from earlier runs). */
static void drain_events(struct avf_vm *vm)
{
	struct avf_event evs[EVENT_BATCH];

	if (vm->thread_running)
		return; /* the thread delivers them in order */
	while (read_events(vm, evs) > 0)
		;
}

static int high_fd(int fd)
{
	int n;

	if (fd < 0 || fd > 2)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct spawn {
	char *argv[40];
	int argc;
	char nums[3][16];
	int keep[8]; /* fds the child inherits */
	int nkeep;
};

static int add_arg(struct spawn *s, const char *a)
{
	if (s->argc >= (int)(sizeof(s->argv) / sizeof(s->argv[0])) - 1)
		return -1;
	s->argv[s->argc++] = (char *)a;
	s->argv[s->argc] = NULL;
	return 0;
}

/* Last non-empty line of vmm.log, for error messages. */
static void vmm_log_tail(struct avf_vm *vm, char *buf, size_t len)
{
	char *data = NULL;
	size_t n = 0;
	int dirfd;

	buf[0] = '\0';
	if (open_dir(vm, &dirfd))
		return;
	if (avf__read_file(dirfd, AVF_FILE_VMM_LOG, 1 << 20, &data, &n, NULL) == AVF_OK) {
		while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
			data[--n] = '\0';
		char *p = memrchr(data, '\n', n);

		snprintf(buf, len, "%s", p ? p + 1 : data);
	}
	free(data);
	close(dirfd);
}

static int check_file(struct avf_vm *vm, const char *what, const char *path, int mode, int err)
{
	if (access(path, mode) < 0) {
		avf__seterr(vm->err, "%s %s: %s", what, path, strerror(errno));
		return err;
	}
	return AVF_OK;
}

/*
 * Point avf-vmm's output @opt at @path, or else at the write end of a new
 * pipe @p that avf-vmm inherits (@buf holds its /dev/fd name).
 */
static int add_output(struct avf_vm *vm, struct spawn *s, const char *opt,
		      const char *path, int p[2], char *buf, size_t n)
{
	add_arg(s, opt);
	if (path) {
		add_arg(s, path);
		return AVF_OK;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		avf__seterr(vm->err, "pipe failed: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	p[1] = high_fd(p[1]);
	snprintf(buf, n, "/dev/fd/%d", p[1]);
	add_arg(s, buf);
	s->keep[s->nkeep++] = p[1];
	return AVF_OK;
}

static int run_once(struct avf_vm *vm)
{
	struct avf_config *cfg = NULL;
	struct avf_vm_state info;
	struct spawn s;
	const char *vmm, *kernel, *initrd;
	char mem[24], cpus[16], cfd[24], lfd[24], vfd[24];
	char *storage = NULL, *instance = NULL, *vsock = NULL;
	bool new_instance;
	int lockfd = -1, child_vm = -1, con[2] = { -1, -1 }, log[2] = { -1, -1 };
	int devnull = -1, vmmlog = -1, dirfd = -1, ret;
	uint64_t before;
	pid_t pid;
	long end;

	if (!vm)
		return AVF_E_INVALID;
	memset(&s, 0, sizeof(s));
	ret = require_status(vm, AVF_VM_STATUS_STOPPED, "run");
	if (ret)
		return ret;
	ret = get_info(vm, &info);
	if (ret)
		return ret;
	before = info.run_count;
	reap(vm, 2000); /* the previous run's VMM, if still around */

	ret = avf__lock_instance(vm->dir, LOCK_EX, &lockfd, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	ret = open_dir(vm, &dirfd);
	if (ret)
		goto out;
	ret = avf__config_load(dirfd, &cfg, vm->err);
	if (ret)
		goto out;
	{
		int fd = openat(dirfd, AVF_FILE_INSTANCE_IMG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0) {
			avf__seterr(vm->err, "instance.img missing");
			ret = AVF_E_CORRUPT;
			goto out;
		}
		ret = avf__check_instance_img(fd, vm->err);
		close(fd);
		if (ret)
			goto out;
	}
	if (cfg->protected_vm && !(vm->mgr->caps.caps & AVF_CAP_PROTECTED_VM)) {
		avf__seterr(vm->err, "protected VMs are not supported on this host");
		ret = AVF_E_NOT_CAPABLE;
		goto out;
	}
	vmm = avf__vmm_path();
	kernel = avf__guest_kernel_path();
	initrd = avf__guest_initrd_path();
	ret = check_file(vm, "avf-vmm (set AVF_VMM)", vmm, X_OK, AVF_E_SPAWN);
	if (!ret)
		ret = check_file(vm, "guest kernel (set AVF_GUEST_KERNEL)", kernel, R_OK,
				 AVF_E_IMAGE);
	if (!ret)
		ret = check_file(vm, "guest initramfs (set AVF_GUEST_INITRD)", initrd, R_OK,
				 AVF_E_IMAGE);
	if (!ret)
		ret = check_file(vm, "app package", cfg->apk_path, R_OK, AVF_E_IMAGE);
	if (ret)
		goto out;
	instance = avf__strdup_printf("%s/%s", vm->dir, AVF_FILE_INSTANCE_IMG);
	vsock = avf__strdup_printf("%s/%s", vm->dir, AVF_FILE_VSOCK);
	if (!instance || !vsock) {
		ret = AVF_E_NOMEM;
		goto out;
	}
	new_instance = faccessat(dirfd, AVF_FILE_NEW_INSTANCE, F_OK, 0) == 0;
	if (cfg->encrypted_storage_bytes) {
		storage = avf__strdup_printf("%s/%s", vm->dir, AVF_FILE_STORAGE_IMG);
		if (!storage) {
			ret = AVF_E_NOMEM;
			goto out;
		}
		ret = check_file(vm, "encrypted storage", storage, R_OK | W_OK, AVF_E_CORRUPT);
		if (ret)
			goto out;
	}

	drain_events(vm);
	close_fd(&vm->console_fd);
	close_fd(&vm->log_fd);

	/* A VM fd of its own for the child, blocking, same instance. */
	ret = avf__module_open(vm->mgr, vm->name, 0, &child_vm, vm->err);
	if (ret)
		goto out;
	fcntl(child_vm, F_SETFL, fcntl(child_vm, F_GETFL) & ~O_NONBLOCK);
	child_vm = high_fd(child_vm);
	lockfd = high_fd(lockfd);
	devnull = high_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
	vmmlog = high_fd(openat(dirfd, AVF_FILE_VMM_LOG,
				O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
	if (child_vm < 0 || lockfd < 0 || devnull < 0 || vmmlog < 0) {
		avf__seterr(vm->err, "cannot prepare avf-vmm's files: %s", strerror(errno));
		ret = AVF_E_SYSTEM;
		goto out;
	}

	snprintf(vfd, sizeof(vfd), "%d", child_vm);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)avf__config_memory_mib(cfg));
	snprintf(cpus, sizeof(cpus), "%ld",
		 cfg->cpu_topology == AVF_CPU_TOPOLOGY_MATCH_HOST ? sysconf(_SC_NPROCESSORS_ONLN)
								  : 1L);
	add_arg(&s, vmm);
	add_arg(&s, "--vm-fd");
	add_arg(&s, vfd);
	add_arg(&s, "--kernel");
	add_arg(&s, kernel);
	add_arg(&s, "--initrd");
	add_arg(&s, initrd);
	add_arg(&s, "--package");
	add_arg(&s, cfg->apk_path);
	add_arg(&s, "--payload");
	add_arg(&s, cfg->payload_binary_name);
	add_arg(&s, "--mem");
	add_arg(&s, mem);
	add_arg(&s, "--cpus");
	add_arg(&s, cpus);
	add_arg(&s, "--debug");
	add_arg(&s, cfg->debug_level == AVF_DEBUG_LEVEL_FULL ? "full" : "none");
	if (cfg->protected_vm)
		add_arg(&s, "--protected");
	if (storage) {
		add_arg(&s, "--storage");
		add_arg(&s, storage);
	}
	if (strlen(vsock) < sizeof(((struct sockaddr_un *)0)->sun_path)) {
		add_arg(&s, "--vsock-uds");
		add_arg(&s, vsock);
	}
	/* Every run is identity-checked: no instance state, no run. */
	add_arg(&s, "--instance");
	add_arg(&s, instance);
	if (new_instance)
		add_arg(&s, "--new-instance");
	s.keep[s.nkeep++] = child_vm;
	s.keep[s.nkeep++] = lockfd;
	if (cfg->vm_output_captured) {
		ret = add_output(vm, &s, "--console", vm->console_path, con, cfd, sizeof(cfd));
		ret = ret ?: add_output(vm, &s, "--log", vm->log_path, log, lfd, sizeof(lfd));
		if (ret)
			goto out;
	}

	pid = fork();
	if (pid < 0) {
		avf__seterr(vm->err, "fork failed: %s", strerror(errno));
		ret = AVF_E_SPAWN;
		goto out;
	}
	if (pid == 0) {
		/* Child: async-signal-safe calls only. */
		struct sigaction sa;
		sigset_t none;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; sig++)
			sigaction(sig, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		dup2(devnull, 0);
		dup2(vmmlog, 1);
		dup2(vmmlog, 2);
		for (int i = 0; i < s.nkeep; i++)
			fcntl(s.keep[i], F_SETFD, 0);
		execv(vmm, s.argv);
		_exit(127);
	}

	/* Parent: wait until the VMM has bound (run_count moved) or died. */
	end = now_ms() + AVF_SPAWN_TIMEOUT_MS;
	for (;;) {
		int st;
		pid_t r;

		ret = get_info(vm, &info);
		if (ret)
			break;
		if (info.run_count > before) {
			pthread_mutex_lock(&vm->lock);
			vm->vmm_pid = pid;
			pthread_mutex_unlock(&vm->lock);
			ret = AVF_OK;
			break;
		}
		r = waitpid(pid, &st, WNOHANG);
		/* With SIGCHLD ignored the child is reaped for us: ask kill(). */
		if (r < 0 && errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH) {
			st = 0xff00; /* "exit status 255": unknown */
			r = pid;
		}
		if (r == pid) {
			char tail[160];

			/* It may have bound and stopped between our two looks (reaped). */
			if (get_info(vm, &info) == AVF_OK && info.run_count > before) {
				ret = AVF_OK;
				break;
			}
			vmm_log_tail(vm, tail, sizeof(tail));
			if (WIFEXITED(st))
				avf__seterr(vm->err, "avf-vmm exited with status %d before starting%s%s",
					    WEXITSTATUS(st), tail[0] ? ": " : "", tail);
			else
				avf__seterr(vm->err, "avf-vmm killed by signal %d before starting",
					    WTERMSIG(st));
			ret = AVF_E_SPAWN;
			break;
		}
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			avf__seterr(vm->err, "avf-vmm did not start within %d ms",
				    AVF_SPAWN_TIMEOUT_MS);
			ret = AVF_E_TIMEOUT;
			break;
		}
		sleep_ms(5);
	}
	if (!ret) {
		vm->console_fd = con[0];
		vm->log_fd = log[0];
		con[0] = log[0] = -1;
		/* The instance has booted once: later runs are not new. */
		if (new_instance && unlinkat(dirfd, AVF_FILE_NEW_INSTANCE, 0) == 0)
			avf__fsync_dir(dirfd, NULL);
	}
out:
	close_fd(&con[0]);
	close_fd(&con[1]);
	close_fd(&log[0]);
	close_fd(&log[1]);
	close_fd(&child_vm);
	close_fd(&devnull);
	close_fd(&vmmlog);
	close_fd(&lockfd); /* avf-vmm holds its own copy while it runs */
	close_fd(&dirfd);
	free(storage);
	free(instance);
	free(vsock);
	avf_config_free(cfg);
	return ret;
}

int avf_vm_run(struct avf_vm *vm)
{
	return run_once(vm);
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
	reap(vm, 2000);
	return AVF_OK;
}

void avf__vm_free(struct avf_vm *vm);

void avf__vm_free(struct avf_vm *vm)
{
	if (vm->vmm_pid > 0)
		reap(vm, 0); /* else init reaps it after we exit */
	close_fd(&vm->vm_fd);
	close_fd(&vm->console_fd);
	close_fd(&vm->log_fd);
	close_fd(&vm->wake_fd[0]);
	close_fd(&vm->wake_fd[1]);
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
	if (!stop_thread(vm)) {
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
	ret = require_status(vm, AVF_VM_STATUS_STOPPED, "set_config");
	if (ret)
		return ret;
	ret = avf__lock_instance(vm->dir, LOCK_EX, &lockfd, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	ret = open_dir(vm, &dirfd);
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
	close_fd(&dirfd);
	close_fd(&lockfd);
	return ret;
}

int avf_vm_connect_vsock(struct avf_vm *vm, uint32_t port, int *fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char line[48];
	size_t len = 0;
	long end;
	int s, ret;

	if (!fd)
		return AVF_E_INVALID;
	*fd = -1;
	if (!vm)
		return AVF_E_INVALID;
	if (port < 1024) {
		avf__seterr(vm->err, "connect_vsock: port %u is below 1024", port);
		return AVF_E_INVALID;
	}
	ret = require_status(vm, AVF_VM_STATUS_RUNNING, "connect_vsock");
	if (ret)
		return ret;
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", vm->dir, AVF_FILE_VSOCK) >=
	    (int)sizeof(a.sun_path)) {
		avf__seterr(vm->err, "connect_vsock: instance path too long for a socket");
		return AVF_E_UNSUPPORTED;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		avf__seterr(vm->err, "socket: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(s);
		avf__seterr(vm->err, "connect_vsock: this run offers no host connections "
				     "(%s: %s)", a.sun_path, strerror(e));
		return e == EACCES ? AVF_E_PERMISSION : AVF_E_UNSUPPORTED;
	}
	len = (size_t)snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(s, line, len) != (ssize_t)len) {
		avf__seterr(vm->err, "connect_vsock: handshake write failed: %s", strerror(errno));
		close(s);
		return AVF_E_IO;
	}
	/* "OK <local port>\n", read a byte at a time: data may follow it. */
	len = 0;
	end = now_ms() + AVF_VSOCK_CONNECT_MS;
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			avf__seterr(vm->err, "connect_vsock: port %u did not answer", port);
			close(s);
			return AVF_E_TIMEOUT;
		}
		n = read(s, &line[len], 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			avf__seterr(vm->err, "connect_vsock: the VM refused port %u", port);
			close(s);
			return AVF_E_REFUSED;
		}
		if (line[len] == '\n')
			break;
		if (++len >= sizeof(line) - 1) {
			avf__seterr(vm->err, "connect_vsock: bad handshake answer");
			close(s);
			return AVF_E_PROTOCOL;
		}
	}
	line[len] = '\0';
	if (strncmp(line, "OK ", 3)) {
		avf__seterr(vm->err, "connect_vsock: bad handshake answer \"%s\"", line);
		close(s);
		return AVF_E_PROTOCOL;
	}
	*fd = s;
	return AVF_OK;
}
