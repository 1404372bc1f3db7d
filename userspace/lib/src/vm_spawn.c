// SPDX-License-Identifier: GPL-2.0
/*
 * run(): start avf-vmm for one run of an instance and wait until it has
 * bound to the instance.
 *
 * libavf opens every file the VMM needs itself (O_NOFOLLOW | O_CLOEXEC)
 * and hands avf-vmm exactly those fds (the bound-mode command line,
 * Documentation/vmm.rst):
 *
 *   avf-vmm --vm-fd N --kernel-fd N --initrd-fd N --package-fd N
 *           --instance-fd N --payload NAME [--storage-fd N]
 *           [--console-fd N] [--log-fd N] --mem MIB --cpus N
 *           --debug full|none [--new-instance]
 *
 * with stdin /dev/null, stdout and stderr the instance's vmm.log, an empty
 * environment and no other fd: the app's fds, CLOEXEC or not, stay behind.
 * avf-vmm is set-uid to the trusted VMM uid and opens nothing by path in
 * the owner's directory; the module lets only a trusted VMM bind.
 *
 * The bind is seen on a VM fd opened for this run before the fork (its
 * queue starts empty): the RUNNING record, polled together with a pidfd of
 * the child so that a VMM that dies first is noticed at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

/* ---- starting a program with exactly the given fds ---------------- */

void avf__spawn_init(struct avf_spawn *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	s->stdio[0] = s->stdio[1] = s->stdio[2] = -1;
	avf__spawn_arg(s, path);
}

void avf__spawn_arg(struct avf_spawn *s, const char *arg)
{
	if (s->argc >= AVF_SPAWN_MAX_ARGS - 1) {
		s->overflow = true;
		return;
	}
	s->argv[s->argc++] = (char *)arg;
	s->argv[s->argc] = NULL;
}

/* "@opt N": @fd is inherited under its own number. */
void avf__spawn_fd_arg(struct avf_spawn *s, const char *opt, int fd)
{
	if (s->nkeep >= AVF_SPAWN_MAX_FDS) {
		s->overflow = true;
		return;
	}
	snprintf(s->nums[s->nkeep], sizeof(s->nums[0]), "%d", fd);
	avf__spawn_arg(s, opt);
	avf__spawn_arg(s, s->nums[s->nkeep]);
	s->keep[s->nkeep++] = fd;
}

int avf__pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Moves @fd above the standard fds (closing the old one); -1 stays -1. */
int avf__high_fd(int fd)
{
	int n;

	if (fd < 0 || fd > 2)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* Child side: async-signal-safe calls only; never returns. */
static void __attribute__((noreturn)) spawn_child(const struct avf_spawn *s, int maxfd)
{
	static char *const no_env[] = { NULL };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	for (int i = 0; i < 3; i++)
		if (dup2(s->stdio[i], i) < 0)
			_exit(126);
	/* Every fd above 2 goes at exec, but for the ones we were given. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3; fd < maxfd; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	for (int i = 0; i < s->nkeep; i++)
		if (fcntl(s->keep[i], F_SETFD, 0) < 0)
			_exit(126);
	execve(s->path, s->argv, no_env);
	_exit(127);
}

/*
 * Forks and execs @s. Every fd of @s must be >= 3 (avf__high_fd), so that
 * installing the standard fds cannot overwrite one.
 */
int avf__spawn_start(const struct avf_spawn *s, pid_t *pid, char *err)
{
	struct rlimit rl;
	int maxfd = 65536;
	pid_t p;

	if (s->overflow) {
		avf__seterr(err, "too many arguments or fds for %s", s->path);
		return AVF_E_INVALID;
	}
	for (int i = 0; i < 3; i++) {
		if (s->stdio[i] < 3) {
			avf__seterr(err, "spawn: standard fd %d given as fd %d", i, s->stdio[i]);
			return AVF_E_INVALID;
		}
	}
	for (int i = 0; i < s->nkeep; i++) {
		if (s->keep[i] < 3) {
			avf__seterr(err, "spawn: fd %d cannot be passed (must be >= 3)",
				    s->keep[i]);
			return AVF_E_INVALID;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)INT_MAX)
		maxfd = (int)rl.rlim_cur;
	p = fork();
	if (p < 0) {
		avf__seterr(err, "fork failed: %s", strerror(errno));
		return AVF_E_SPAWN;
	}
	if (p == 0)
		spawn_child(s, maxfd);
	*pid = p;
	return AVF_OK;
}

/* ---- run() --------------------------------------------------------- */

/* Everything run() opens for one start; -1 when not open. */
struct run_files {
	int dirfd, lockfd;
	int child_vm;	/* the VMM's VM fd (blocking) */
	int wait_vm;	/* our own VM fd for this run's records */
	int kernel, initrd, package, instance, storage;
	int devnull, vmmlog;
	int con[2], log[2]; /* pipes, or [1] a configured file */
};

static void run_files_init(struct run_files *f)
{
	int *p = (int *)f;

	for (size_t i = 0; i < sizeof(*f) / sizeof(int); i++)
		p[i] = -1;
}

static void run_files_close(struct run_files *f)
{
	int *p = (int *)f;

	for (size_t i = 0; i < sizeof(*f) / sizeof(int); i++)
		avf__close_fd(&p[i]);
}

/* Last non-empty line of vmm.log, for error messages. */
static void vmm_log_tail(int dirfd, char *buf, size_t len)
{
	char *data = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (avf__read_file(dirfd, AVF_FILE_VMM_LOG, 1 << 20, &data, &n, NULL) == AVF_OK) {
		char *p;

		while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
			data[--n] = '\0';
		p = memrchr(data, '\n', n);
		snprintf(buf, len, "%s", p ? p + 1 : data);
	}
	free(data);
}

/* An instance file, opened without following links, checked to be a file. */
static int open_instance_file(struct avf_vm *vm, int dirfd, const char *name, int flags,
			      int *fd)
{
	struct stat st;

	*fd = avf__high_fd(openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
	if (*fd < 0) {
		avf__seterr(vm->err, "VM \"%s\": cannot open %s: %s", vm->name, name,
			    strerror(errno));
		return AVF_E_CORRUPT;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		avf__seterr(vm->err, "VM \"%s\": %s is not a regular file", vm->name, name);
		return AVF_E_CORRUPT;
	}
	return AVF_OK;
}

/*
 * A console or log destination: a file at the configured @path (appended,
 * created 0600, not through a final symlink) or else a pipe whose read end
 * the handle keeps.
 */
static int open_output(struct avf_vm *vm, const char *what, const char *path, int p[2])
{
	if (path) {
		p[1] = avf__high_fd(open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
						       O_CLOEXEC | O_NOCTTY, 0600));
		if (p[1] < 0) {
			avf__seterr(vm->err, "%s output %s: %s", what, path, strerror(errno));
			return errno == EACCES ? AVF_E_PERMISSION : AVF_E_IO;
		}
		return AVF_OK;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		avf__seterr(vm->err, "pipe failed: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	p[1] = avf__high_fd(p[1]);
	if (p[1] < 0) {
		avf__seterr(vm->err, "cannot move the %s pipe: %s", what, strerror(errno));
		return AVF_E_SYSTEM;
	}
	return AVF_OK;
}

/* Opens everything the VMM gets; checks on the way. */
static int open_run_files(struct avf_vm *vm, const struct avf_config *cfg, struct run_files *f)
{
	int ret;

	ret = avf__open_image("guest kernel", "AVF_GUEST_KERNEL", avf__guest_kernel_path(),
			      &f->kernel, vm->err);
	if (!ret)
		ret = avf__open_image("guest initramfs", "AVF_GUEST_INITRD",
				      avf__guest_initrd_path(), &f->initrd, vm->err);
	if (!ret)
		ret = avf__open_image("app package", NULL, cfg->apk_path, &f->package, vm->err);
	if (ret)
		return ret;
	f->kernel = avf__high_fd(f->kernel);
	f->initrd = avf__high_fd(f->initrd);
	f->package = avf__high_fd(f->package);
	if (f->kernel < 0 || f->initrd < 0 || f->package < 0) {
		avf__seterr(vm->err, "cannot move the boot image fds: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	ret = open_instance_file(vm, f->dirfd, AVF_FILE_INSTANCE_IMG, O_RDONLY, &f->instance);
	if (ret) {
		avf__seterr(vm->err, "VM \"%s\": instance.img missing or not a file", vm->name);
		return ret;
	}
	ret = avf__check_instance_img(f->instance, vm->err);
	if (ret)
		return ret;
	if (cfg->encrypted_storage_bytes) {
		ret = open_instance_file(vm, f->dirfd, AVF_FILE_STORAGE_IMG, O_RDWR, &f->storage);
		if (ret)
			return ret;
	}
	if (cfg->vm_output_captured) {
		ret = open_output(vm, "console", vm->console_path, f->con);
		if (!ret)
			ret = open_output(vm, "log", vm->log_path, f->log);
		if (ret)
			return ret;
	}
	f->devnull = avf__high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	f->vmmlog = avf__high_fd(openat(f->dirfd, AVF_FILE_VMM_LOG,
					O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
						O_NOCTTY,
					0600));
	if (f->devnull < 0 || f->vmmlog < 0) {
		avf__seterr(vm->err, "cannot open avf-vmm's standard fds: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	/* The VMM's own VM fd (blocking); and ours, whose queue starts now. */
	ret = avf__module_open(vm->mgr, vm->name, 0, &f->child_vm, vm->err);
	if (!ret)
		ret = avf__module_open(vm->mgr, vm->name, 0, &f->wait_vm, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	f->child_vm = avf__high_fd(f->child_vm);
	if (f->child_vm < 0 ||
	    fcntl(f->child_vm, F_SETFL, fcntl(f->child_vm, F_GETFL) & ~O_NONBLOCK) < 0) {
		avf__seterr(vm->err, "cannot prepare the VMM's VM fd: %s", strerror(errno));
		return AVF_E_SYSTEM;
	}
	return AVF_OK;
}

/*
 * Reads this run's records from @f->wait_vm: true in *bound once the
 * RUNNING record came. AVF_E_DELETED when the instance went away.
 */
static int scan_records(struct avf_vm *vm, struct run_files *f, bool *bound)
{
	struct avf_event evs[AVF_EVENT_BATCH];

	for (;;) {
		ssize_t n = read(f->wait_vm, evs, sizeof(evs));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return AVF_OK;
		if (n == 0 || (n < 0 && errno == EIDRM)) {
			avf__seterr(vm->err, "run: VM \"%s\" was deleted while starting", vm->name);
			return AVF_E_DELETED;
		}
		if (n < 0) {
			avf__seterr(vm->err, "run: reading the VM's records: %s", strerror(errno));
			return avf__errno_to_err(errno);
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(evs[0]); i++)
			if (evs[i].type == AVF_EVENT_RUNNING)
				*bound = true;
	}
}

/* The message for a VMM that ended before binding. */
static void exited_error(struct avf_vm *vm, int dirfd, int st, bool known)
{
	char tail[160];

	vmm_log_tail(dirfd, tail, sizeof(tail));
	if (!known)
		avf__seterr(vm->err, "avf-vmm exited before binding to the instance%s%s",
			    tail[0] ? ": " : "", tail);
	else if (WIFEXITED(st))
		avf__seterr(vm->err, "avf-vmm exited with status %d before binding to the "
				     "instance%s%s", WEXITSTATUS(st), tail[0] ? ": " : "", tail);
	else
		avf__seterr(vm->err, "avf-vmm killed by signal %d before binding to the "
				     "instance%s%s", WTERMSIG(st), tail[0] ? ": " : "", tail);
}

/* SIGKILL to our child, through its pidfd when there is one. */
int avf__kill_child(pid_t pid, int pidfd)
{
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
#else
	(void)pidfd;
#endif
	return kill(pid, SIGKILL);
}

/*
 * Waits for the bind of the VMM @pid: the RUNNING record on our VM fd,
 * or the child's end (pidfd; without one, waitpid every 20 ms).
 * *reaped tells whether the child is gone already.
 */
static int wait_bound(struct avf_vm *vm, struct run_files *f, pid_t pid, bool *reaped)
{
	long end = avf__now_ms() + AVF_SPAWN_TIMEOUT_MS;
	int pidfd = avf__pidfd_open(pid);
	bool bound = false;
	int ret;

	*reaped = false;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = f->wait_vm, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		long left = end - avf__now_ms();
		bool gone = false, known = true;
		int st = 0;

		ret = scan_records(vm, f, &bound);
		if (ret || bound)
			break;
		if (left <= 0) {
			char tail[160];

			/* Ours to kill until it has become the VMM uid. */
			if (avf__kill_child(pid, pidfd) == 0 && waitpid(pid, NULL, 0) == pid)
				*reaped = true;
			vmm_log_tail(f->dirfd, tail, sizeof(tail));
			avf__seterr(vm->err, "avf-vmm did not bind to the instance within %d ms%s%s",
				    AVF_SPAWN_TIMEOUT_MS, tail[0] ? ": " : "", tail);
			ret = AVF_E_TIMEOUT;
			break;
		}
		if (poll(p, pidfd >= 0 ? 2 : 1, (int)(pidfd >= 0 || left < 20 ? left : 20)) < 0 &&
		    errno != EINTR) {
			avf__seterr(vm->err, "run: poll failed: %s", strerror(errno));
			ret = AVF_E_SYSTEM;
			break;
		}
		if (pidfd < 0 || (p[1].revents & POLLIN)) {
			pid_t r = waitpid(pid, &st, WNOHANG);

			if (r == pid) {
				gone = true;
			} else if (r < 0 && errno == ECHILD) {
				/* SIGCHLD ignored: reaped for us; a pidfd knows. */
				gone = pidfd >= 0 || (kill(pid, 0) < 0 && errno == ESRCH);
				known = false;
			}
		}
		if (gone) {
			*reaped = true;
			/* It may have bound and ended before we looked. */
			ret = scan_records(vm, f, &bound);
			if (!ret && !bound) {
				exited_error(vm, f->dirfd, st, known);
				ret = AVF_E_SPAWN;
			}
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (!ret) {
		struct avf_vm_state info;

		/* Whose bind was it? A VMM we did not start would be a bug. */
		if (avf__vm_get_info(vm, &info) == AVF_OK && info.vmm_pid &&
		    info.vmm_pid != (uint32_t)pid) {
			avf__seterr(vm->err, "run: another VMM (pid %u) bound VM \"%s\"",
				    info.vmm_pid, vm->name);
			ret = AVF_E_BUSY;
		}
	}
	return ret;
}

static int build_argv(struct avf_vm *vm, const struct avf_config *cfg, struct run_files *f,
		      bool new_instance, struct avf_spawn *s, char *mem, size_t memlen,
		      char *cpus, size_t cpuslen)
{
	snprintf(mem, memlen, "%llu", (unsigned long long)avf__config_memory_mib(cfg));
	snprintf(cpus, cpuslen, "%ld",
		 cfg->cpu_topology == AVF_CPU_TOPOLOGY_MATCH_HOST ? sysconf(_SC_NPROCESSORS_ONLN)
								  : 1L);
	avf__spawn_fd_arg(s, "--vm-fd", f->child_vm);
	avf__spawn_fd_arg(s, "--kernel-fd", f->kernel);
	avf__spawn_fd_arg(s, "--initrd-fd", f->initrd);
	avf__spawn_fd_arg(s, "--package-fd", f->package);
	avf__spawn_fd_arg(s, "--instance-fd", f->instance);
	avf__spawn_arg(s, "--payload");
	avf__spawn_arg(s, cfg->payload_binary_name);
	if (f->storage >= 0)
		avf__spawn_fd_arg(s, "--storage-fd", f->storage);
	if (f->con[1] >= 0)
		avf__spawn_fd_arg(s, "--console-fd", f->con[1]);
	if (f->log[1] >= 0)
		avf__spawn_fd_arg(s, "--log-fd", f->log[1]);
	avf__spawn_arg(s, "--mem");
	avf__spawn_arg(s, mem);
	avf__spawn_arg(s, "--cpus");
	avf__spawn_arg(s, cpus);
	/* The identity sealed at create: same debug level, no extra cmdline. */
	avf__spawn_arg(s, "--debug");
	avf__spawn_arg(s, avf__debug_level(cfg) == AVF_DEBUG_FULL ? "full" : "none");
	if (cfg->protected_vm)
		avf__spawn_arg(s, "--protected");
	if (new_instance)
		avf__spawn_arg(s, "--new-instance");
	s->stdio[0] = f->devnull;
	s->stdio[1] = f->vmmlog;
	s->stdio[2] = f->vmmlog;
	if (s->overflow) {
		avf__seterr(vm->err, "run: avf-vmm command line too long");
		return AVF_E_INVALID;
	}
	return AVF_OK;
}

int avf__vm_run(struct avf_vm *vm)
{
	struct avf_config *cfg = NULL;
	struct run_files f;
	struct avf_spawn s;
	const char *vmm;
	char mem[24], cpus[16];
	bool new_instance, reaped = false;
	pid_t pid;
	int ret;

	if (!vm)
		return AVF_E_INVALID;
	run_files_init(&f);
	ret = avf__vm_require_status(vm, AVF_VM_STATUS_STOPPED, "run");
	if (ret)
		return ret;
	avf__vm_reap(vm, 2000); /* the previous run's VMM, if still around */

	ret = avf__lock_instance(vm->dir, LOCK_EX, &f.lockfd, vm->err);
	if (ret)
		return ret == AVF_E_NOT_FOUND ? AVF_E_DELETED : ret;
	ret = avf__vm_open_dir(vm, &f.dirfd);
	if (ret)
		goto out;
	ret = avf__config_load(f.dirfd, &cfg, vm->err);
	if (ret)
		goto out;
	if (cfg->protected_vm && !(vm->mgr->caps.caps & AVF_CAP_PROTECTED_VM)) {
		avf__seterr(vm->err, "protected VMs are not supported on this host");
		ret = AVF_E_NOT_CAPABLE;
		goto out;
	}
	vmm = avf__vmm_path();
	if (access(vmm, X_OK) < 0) {
		avf__seterr(vm->err, "avf-vmm (set AVF_VMM) %s: %s", vmm, strerror(errno));
		ret = AVF_E_SPAWN;
		goto out;
	}
	new_instance = faccessat(f.dirfd, AVF_FILE_NEW_INSTANCE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	avf__vm_drain_events(vm);
	avf__close_fd(&vm->console_fd);
	avf__close_fd(&vm->log_fd);
	ret = open_run_files(vm, cfg, &f);
	if (ret)
		goto out;
	avf__spawn_init(&s, vmm);
	ret = build_argv(vm, cfg, &f, new_instance, &s, mem, sizeof(mem), cpus, sizeof(cpus));
	if (ret)
		goto out;
	ret = avf__spawn_start(&s, &pid, vm->err);
	if (ret)
		goto out;
	/* The child has its copies: ours of its ends go before we wait. */
	avf__close_fd(&f.con[1]);
	avf__close_fd(&f.log[1]);
	avf__close_fd(&f.child_vm);
	ret = wait_bound(vm, &f, pid, &reaped);
	if (!reaped) {
		pthread_mutex_lock(&vm->lock);
		vm->vmm_pid = pid; /* reaped once it ends */
		pthread_mutex_unlock(&vm->lock);
	}
	if (!ret) {
		vm->console_fd = f.con[0];
		vm->log_fd = f.log[0];
		f.con[0] = f.log[0] = -1;
		/* The instance has booted once: later runs are not new. */
		if (new_instance && unlinkat(f.dirfd, AVF_FILE_NEW_INSTANCE, 0) == 0)
			avf__fsync_dir(f.dirfd, NULL);
	}
out:
	run_files_close(&f);
	avf_config_free(cfg);
	return ret;
}
