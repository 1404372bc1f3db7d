// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/avf.h>

#include "limits.h"
#include "startup.h"

/*
 * Nothing of the caller's environment (TZ, LANG, LD_*, AVF_*, ...) survives,
 * not even the original strings on the stack (/proc/<pid>/environ).
 */
static int scrub_environment(void)
{
	char **e;

	for (e = environ; e && *e; e++)
		explicit_bzero(*e, strlen(*e));
	if (clearenv())
		return -1;
	/* The VMM executes nothing; a fixed PATH only for tidiness. */
	return setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
}

/* The kernel's struct sigaction (x86-64), for the signals glibc hides. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/*
 * glibc reserves two real-time signals for itself and refuses sigaction()
 * on them (EINVAL), but an ignore the caller set survives exec there too:
 * undo it with the raw syscall, leaving a handler of glibc's own alone.
 */
static int reset_hidden_signal(int sig)
{
	struct ksigaction old, dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.handler = SIG_DFL;
	if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(old.mask)))
		return -1;
	if (old.handler != SIG_IGN)
		return 0;
	return (int)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

static int reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &sa, NULL) == 0)
			continue;
		if (errno != EINVAL || reset_hidden_signal(sig))
			return -1;
	}
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

static int open_stdio(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* A closed 0-2 would be reused by the next open (guest RAM as stderr). */
		nfd = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (nfd != fd) {
			if (nfd >= 0)
				close(nfd);
			return -1;
		}
	}
	return 0;
}

static int die(const char *what)
{
	fprintf(stderr, "avf-vmm: start-up: %s: %s\n", what, strerror(errno));
	return EXIT_VMM_UNAVAILABLE;
}

int startup_secure(bool *setid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (open_stdio())
		return die("cannot open /dev/null for a closed fd 0-2");
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		return die("getresuid");
	*setid = ru != eu || rg != eg;
	if (*setid) {
		/* gid first: after setresuid the gid change would be refused. */
		if (setresgid(eg, eg, eg))
			return die("setresgid");
		if (setresuid(eu, eu, eu))
			return die("setresuid");
	}
	{
		uid_t r2, e2, s2;
		gid_t rg2, eg2, sg2;

		errno = EPERM;
		if (getresuid(&r2, &e2, &s2) || getresgid(&rg2, &eg2, &sg2) ||
		    r2 != eu || e2 != eu || s2 != eu ||
		    (*setid && (rg2 != eg || eg2 != eg || sg2 != eg)))
			return die("the VMM identity did not stick (uids/gids differ)");
	}
	/*
	 * Not dumpable: no core dumps, no ptrace and no /proc/<pid>/mem for the
	 * caller's uid. Always, also in sanitizer builds: the module refuses a
	 * dumpable VMM, and LeakSanitizer makes the process dumpable itself for
	 * the moment it stops the world at exit.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return die("PR_SET_DUMPABLE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return die("PR_SET_NO_NEW_PRIVS");
	if (scrub_environment())
		return die("clearing the environment");
	if (reset_signals())
		return die("resetting signals");
	umask(077);
	if (chdir("/"))
		return die("chdir /");
	return 0;
}

static int bad_fd(enum vmm_fd_slot slot, int fd, const char *why)
{
	fprintf(stderr, "avf-vmm: %s %d: %s\n", cli_fd_option(slot), fd, why);
	return EXIT_VMM_USAGE;
}

static int check_one(enum vmm_fd_slot slot, int fd)
{
	struct avf_vm_info info;
	struct stat st;
	int fl, acc;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return bad_fd(slot, fd, errno == EBADF ? "not an open descriptor" : strerror(errno));
	if (fl & O_PATH)
		return bad_fd(slot, fd, "an O_PATH descriptor cannot be used");
	if (fstat(fd, &st) < 0)
		return bad_fd(slot, fd, strerror(errno));
	acc = fl & O_ACCMODE;
	switch (slot) {
	case FD_VM:
		memset(&info, 0, sizeof(info));
		if (ioctl(fd, AVF_VM_GET_INFO, &info) < 0)
			return bad_fd(slot, fd, "not an avf VM fd (AVF_VM_GET_INFO failed)");
		return 0;
	case FD_KERNEL:
	case FD_INITRD:
	case FD_PACKAGE:
	case FD_INSTANCE:
		if (!S_ISREG(st.st_mode))
			return bad_fd(slot, fd, "not a regular file");
		if (acc == O_WRONLY)
			return bad_fd(slot, fd, "not open for reading");
		return 0;
	case FD_STORAGE:
		if (!S_ISREG(st.st_mode))
			return bad_fd(slot, fd, "not a regular file");
		if (acc != O_RDWR)
			return bad_fd(slot, fd, "not open for reading and writing");
		if (fl & O_APPEND)
			return bad_fd(slot, fd, "open with O_APPEND (writes would not land in place)");
		return 0;
	case FD_CONSOLE:
	case FD_LOG:
	case FD_PROFILE:
		if (acc != O_WRONLY && acc != O_RDWR)
			return bad_fd(slot, fd, "not open for writing");
		if (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) ||
		    (S_ISCHR(st.st_mode) && isatty(fd)))
			return 0;
		return bad_fd(slot, fd, "not a pipe, a regular file or a terminal");
	default:
		return bad_fd(slot, fd, "unknown option");
	}
}

int startup_check_fds(const struct vmm_opts *o)
{
	unsigned int i;
	int ret;

	for (i = 0; i < FD_COUNT; i++) {
		if (o->fd[i] < 0)
			continue;
		ret = check_one((enum vmm_fd_slot)i, o->fd[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static bool kept(const int *keep, unsigned int n, int fd)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Fallback without close_range(): every entry of /proc/self/fd. */
static int close_by_proc(const int *keep, unsigned int n)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int dfd, ret = 0;

	if (!dir)
		return -errno;
	dfd = dirfd(dir);
	while ((d = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(d->d_name, &end, 10);

		if (*end || end == d->d_name || fd <= 2 || fd == dfd || kept(keep, n, (int)fd))
			continue;
		if (close((int)fd) < 0 && errno != EBADF)
			ret = -errno;
	}
	closedir(dir);
	return ret;
}

int startup_close_fds(const int *keep, unsigned int n)
{
	int sorted[FD_COUNT + 4];
	unsigned int i, j, m = 0;
	unsigned int from = 3;

	if (n > sizeof(sorted) / sizeof(sorted[0]))
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (keep[i] > 2)
			sorted[m++] = keep[i];
	for (i = 1; i < m; i++)		/* insertion sort: a handful of fds */
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = 0; i <= m; i++) {
		unsigned int to = i < m ? (unsigned int)sorted[i] - 1 : ~0U;

		if (i < m && (unsigned int)sorted[i] < from) /* duplicate entry */
			continue;
		if (from <= to && syscall(__NR_close_range, from, to, 0) < 0) {
			if (errno == ENOSYS || errno == EINVAL)
				return close_by_proc(keep, n);
			return -errno;
		}
		if (i < m)
			from = (unsigned int)sorted[i] + 1;
	}
	return 0;
}
