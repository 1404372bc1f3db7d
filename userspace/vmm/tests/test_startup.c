// SPDX-License-Identifier: GPL-2.0
/*
 * Trusted start-up (startup.c): the identity, environment, signal state
 * and descriptors the caller hands to avf-vmm do not survive; a given
 * descriptor of the wrong kind is refused with a message naming its option.
 * The last tests run the built avf-vmm (standalone, a halting guest) and
 * inspect it from outside through /proc.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kselftest_harness.h"

#include "boot.h"
#include "cli.h"
#include "limits.h"
#include "startup.h"

#ifndef VMM_BIN
#error "VMM_BIN: path of the built avf-vmm"
#endif

extern char **environ;

/* Child exit codes name the check that failed. */
static void child_secure(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	sigset_t mask;
	struct sigaction sa;
	char cwd[64];
	bool setid = false, root = getuid() == 0;

	setenv("TZ", "Europe/Paris", 1);
	setenv("LD_LIBRARY_PATH", "/nonexistent", 1);
	setenv("AVF_TEST_SECRET", "owner", 1);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	umask(0);
	if (chdir("/tmp"))
		_exit(90);
	/* As after exec of a binary set-uid 1001 / set-gid 1001 by uid 1000. */
	if (root && (setresgid(1000, 1001, 1001) || setresuid(1000, 1001, 1001)))
		_exit(91);
	if (startup_secure(&setid))
		_exit(10);
	if (setid != root)
		_exit(11);
	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		_exit(12);
	if (root && (r != 1001 || e != 1001 || s != 1001 || rg != 1001 || eg != 1001 ||
		     sg != 1001))
		_exit(13);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		_exit(14);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		_exit(15);
	if (!environ || !environ[0] || strncmp(environ[0], "PATH=", 5) || environ[1])
		_exit(16);
	if (umask(0) != 077)
		_exit(17);
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/"))
		_exit(18);
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_DFL)
		_exit(19);
	if (sigprocmask(SIG_BLOCK, NULL, &mask) || sigismember(&mask, SIGUSR2))
		_exit(20);
	_exit(0);
}

static int run_child(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		fn();
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(secure_takes_identity_and_drops_the_rest)
{
	EXPECT_EQ(0, run_child(child_secure));
}

static void child_closed_stdio(void)
{
	bool setid;
	struct stat st, null;

	close(1);
	if (startup_secure(&setid))
		_exit(10);
	if (fstat(1, &st) || stat("/dev/null", &null) || st.st_rdev != null.st_rdev)
		_exit(11);
	_exit(0);
}

TEST(closed_stdio_is_reopened_on_dev_null)
{
	EXPECT_EQ(0, run_child(child_closed_stdio));
}

/* startup_check_fds() with one slot set; returns its result, message in @err. */
static int check(enum vmm_fd_slot slot, int fd, char *err, size_t cap)
{
	struct vmm_opts o;
	int p[2], saved, ret, i;
	ssize_t n;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < FD_COUNT; i++)
		o.fd[i] = -1;
	o.fd[slot] = fd;
	fflush(stderr);
	if (pipe(p))
		return -1;
	saved = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	ret = startup_check_fds(&o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = read(p[0], err, cap - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	return ret;
}

#define REFUSED(slot, fd, why) do {						\
		char err_[256];							\
		int r_ = check(slot, fd, err_, sizeof(err_));			\
		if (r_ != EXIT_VMM_USAGE || !strstr(err_, cli_fd_option(slot)) ||	\
		    !strstr(err_, why))						\
			TH_LOG("%s %d: got %d '%s', want '%s'", cli_fd_option(slot), \
			       fd, r_, err_, why);				\
		EXPECT_EQ(EXIT_VMM_USAGE, r_);					\
		EXPECT_NE(NULL, strstr(err_, cli_fd_option(slot)));		\
		EXPECT_NE(NULL, strstr(err_, why));				\
	} while (0)

#define ACCEPTED(slot, fd) do {							\
		char err_[256];							\
		EXPECT_EQ(0, check(slot, fd, err_, sizeof(err_)));		\
	} while (0)

TEST(fd_of_the_wrong_kind_is_refused)
{
	char file[] = "/tmp/avf-startup-XXXXXX";
	int rw, ro, wo, app, dir, path, p[2], sp[2], null, i;

	rw = mkstemp(file);
	ASSERT_LE(0, rw);
	ASSERT_EQ(4096, pwrite(rw, (char[4096]){ 0 }, 4096, 0));
	ro = open(file, O_RDONLY);
	wo = open(file, O_WRONLY);
	app = open(file, O_RDWR | O_APPEND);
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	path = open(file, O_PATH);
	null = open("/dev/null", O_RDWR);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	ASSERT_LE(0, app);
	ASSERT_LE(0, dir);
	ASSERT_LE(0, path);
	ASSERT_LE(0, null);

	/* Closed. */
	REFUSED(FD_KERNEL, 1000, "not an open descriptor");
	/* The VM fd must answer AVF_VM_GET_INFO. */
	REFUSED(FD_VM, ro, "not an avf VM fd");
	REFUSED(FD_VM, p[0], "not an avf VM fd");
	/* Images and the instance state: readable regular files. */
	for (i = FD_KERNEL; i <= FD_INSTANCE; i++) {
		REFUSED(i, wo, "not open for reading");
		REFUSED(i, p[0], "not a regular file");
		REFUSED(i, dir, "not a regular file");
		REFUSED(i, sp[0], "not a regular file");
		REFUSED(i, null, "not a regular file");
		REFUSED(i, path, "O_PATH");
		ACCEPTED(i, ro);
		ACCEPTED(i, rw);
	}
	/* Storage: a regular file open read-write, written in place. */
	REFUSED(FD_STORAGE, ro, "not open for reading and writing");
	REFUSED(FD_STORAGE, wo, "not open for reading and writing");
	REFUSED(FD_STORAGE, app, "O_APPEND");
	REFUSED(FD_STORAGE, p[1], "not a regular file");
	ACCEPTED(FD_STORAGE, rw);
	/* Outputs: writable pipes, files or terminals. */
	for (i = FD_CONSOLE; i <= FD_LOG; i++) {
		REFUSED(i, ro, "not open for writing");
		REFUSED(i, p[0], "not open for writing");
		REFUSED(i, sp[0], "not a pipe, a regular file or a terminal");
		REFUSED(i, null, "not a pipe, a regular file or a terminal");
		REFUSED(i, path, "O_PATH");
		ACCEPTED(i, p[1]);
		ACCEPTED(i, wo);
		ACCEPTED(i, app);
	}
	close(rw);
	close(ro);
	close(wo);
	close(app);
	close(dir);
	close(path);
	close(null);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	unlink(file);
}

static const int keep[] = { 9, 5, 15, 9, -1, 40 };

static int open_fds_then_close(void)
{
	int fd, i;

	for (i = 3; i < 48; i++)
		if (dup2(0, i) != i)
			return 20;
	if (startup_close_fds(keep, sizeof(keep) / sizeof(keep[0])))
		return 21;
	for (fd = 3; fd < 256; fd++) {
		bool want = fd == 5 || fd == 9 || fd == 15 || fd == 40;

		if ((fcntl(fd, F_GETFD) >= 0) != want)
			return 22;
	}
	return fcntl(0, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0 ? 0 : 23;
}

static void child_close_range(void)
{
	_exit(open_fds_then_close());
}

/* close_range() unavailable (ENOSYS): the /proc/self/fd walk does the same. */
static void child_close_proc(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		_exit(30);
	if (syscall(__NR_close_range, 100, 100, 0) != -1 || errno != ENOSYS)
		_exit(31);
	_exit(open_fds_then_close());
}

TEST(close_every_other_fd)
{
	EXPECT_EQ(0, run_child(child_close_range));
	EXPECT_EQ(0, run_child(child_close_proc));
}

/* ---- the built binary ------------------------------------------------- */

/* A PVH "kernel" that halts forever: hlt; jmp .-3 */
struct halt_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t code[16];
} __attribute__((packed));

static int write_halt_guest(char *path)
{
	struct halt_img im;
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	memset(&im, 0, sizeof(im));
	memcpy(im.eh.e_ident, ELFMAG, SELFMAG);
	im.eh.e_ident[EI_CLASS] = ELFCLASS64;
	im.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im.eh.e_machine = EM_X86_64;
	im.eh.e_phoff = offsetof(struct halt_img, ph);
	im.eh.e_phentsize = sizeof(Elf64_Phdr);
	im.eh.e_phnum = 2;
	im.ph[0].p_type = PT_NOTE;
	im.ph[0].p_offset = offsetof(struct halt_img, nh);
	im.ph[0].p_filesz = sizeof(Elf64_Nhdr) + 8;
	im.ph[1].p_type = PT_LOAD;
	im.ph[1].p_offset = offsetof(struct halt_img, code);
	im.ph[1].p_paddr = 0x200000;
	im.ph[1].p_filesz = sizeof(im.code);
	im.ph[1].p_memsz = 0x1000;
	im.nh.n_namesz = 4;
	im.nh.n_descsz = 4;
	im.nh.n_type = XEN_ELFNOTE_PHYS32_ENTRY;
	memcpy(im.name, "Xen", 4);
	im.entry = 0x200000;
	im.code[0] = 0xf4;	/* hlt */
	im.code[1] = 0xeb;	/* jmp -3 */
	im.code[2] = 0xfd;
	if (write(fd, &im, sizeof(im)) != (ssize_t)sizeof(im)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int make_file(char *path, size_t size)
{
	int fd = mkstemp(path);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* True once a thread of @pid is named @comm. */
static bool has_thread(pid_t pid, const char *comm)
{
	char dir[64], path[600], name[32];
	struct dirent *d;
	bool found = false;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	dp = opendir(dir);
	if (!dp)
		return false;
	while (!found && (d = readdir(dp)) != NULL) {
		int fd;
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		name[n > 0 ? n : 0] = 0;
		found = !strncmp(name, comm, strlen(comm));
	}
	closedir(dp);
	return found;
}

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return -1;
	while (len < (ssize_t)cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

FIXTURE(bin) {
	char kernel[32], initrd[32], pkg[32], extra[32], err[32];
	int kfd, ifd, pfd, xfd, efd;
	pid_t pid;
};

FIXTURE_SETUP(bin)
{
	strcpy(self->kernel, "/tmp/avf-su-kernel-XXXXXX");
	strcpy(self->initrd, "/tmp/avf-su-initrd-XXXXXX");
	strcpy(self->pkg, "/tmp/avf-su-pkg-XXXXXX");
	strcpy(self->extra, "/tmp/avf-su-extra-XXXXXX");
	strcpy(self->err, "/tmp/avf-su-err-XXXXXX");
	self->pid = -1;
	self->kfd = self->ifd = self->pfd = self->xfd = self->efd = -1;
	if (access(VMM_BIN, X_OK))
		SKIP(return, "no %s", VMM_BIN);
	self->kfd = write_halt_guest(self->kernel);
	self->ifd = make_file(self->initrd, 4096);
	self->pfd = make_file(self->pkg, 4096);
	self->xfd = make_file(self->extra, 16);
	self->efd = make_file(self->err, 0);
	ASSERT_LE(0, self->kfd);
	ASSERT_LE(0, self->ifd);
	ASSERT_LE(0, self->pfd);
	ASSERT_LE(0, self->xfd);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(bin)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	unlink(self->kernel);
	unlink(self->initrd);
	unlink(self->pkg);
	unlink(self->extra);
	unlink(self->err);
}

/* Start avf-vmm --standalone on the halting guest with hostile extras. */
static pid_t spawn(FIXTURE_DATA(bin) *self, const char *vmm)
{
	char k[16], i[16], p[16];
	pid_t pid;

	snprintf(k, sizeof(k), "%d", self->kfd);
	snprintf(i, sizeof(i), "%d", self->ifd);
	snprintf(p, sizeof(p), "%d", self->pfd);
	pid = fork();
	if (pid == 0) {
		char *const argv[] = {
			(char *)vmm, "--standalone", "--kernel-fd", k, "--initrd-fd", i,
			"--package-fd", p, "--payload", "x.so", "--mem", "64",
			"--hangup-timeout", "0", NULL,
		};
		char *const envp[] = {
			"AVF_TEST_SECRET=owner-set", "TZ=Europe/Paris", "LANG=C.UTF-8",
			"LD_LIBRARY_PATH=/nonexistent", "MALLOC_CHECK_=3", NULL,
		};
		sigset_t m;

		/* Inherited: an extra descriptor, an ignored and a blocked signal. */
		fcntl(self->xfd, F_SETFD, 0);
		fcntl(self->kfd, F_SETFD, 0);
		fcntl(self->ifd, F_SETFD, 0);
		fcntl(self->pfd, F_SETFD, 0);
		struct { void (*h)(int); unsigned long f; void (*r)(void); uint64_t m; } ign = {
			.h = SIG_IGN,
		};

		signal(SIGUSR2, SIG_IGN);
		/* Signal 32 (glibc's own) too, with the raw syscall. */
		syscall(SYS_rt_sigaction, 32, &ign, NULL, sizeof(ign.m));
		sigemptyset(&m);
		sigaddset(&m, SIGQUIT);
		sigprocmask(SIG_BLOCK, &m, NULL);
		umask(0);
		dup2(self->efd, 2);
		execve(vmm, argv, envp);
		_exit(127);
	}
	return pid;
}

TEST_F(bin, running_vmm_keeps_nothing_of_the_caller)
{
	char path[600], link[600], buf[8192], *p;
	struct dirent *d;
	int i, status;
	ssize_t n;
	DIR *dp;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no usable /dev/kvm");
	self->pid = spawn(self, VMM_BIN);
	ASSERT_LT(0, self->pid);
	for (i = 0; i < 200 && !has_thread(self->pid, "vcpu0"); i++)
		usleep(50000);
	if (!has_thread(self->pid, "vcpu0")) {
		n = pread(self->efd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		TH_LOG("avf-vmm did not start: %s", buf);
	}
	ASSERT_TRUE(has_thread(self->pid, "vcpu0"));

	/* The descriptor table: no extra, no kernel or initrd (mapped and closed). */
	snprintf(path, sizeof(path), "/proc/%d/fd", self->pid);
	dp = opendir(path);
	ASSERT_NE(NULL, dp);
	while ((d = readdir(dp)) != NULL) {
		char fdp[900];

		if (d->d_name[0] == '.')
			continue;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, d->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		EXPECT_EQ(NULL, strstr(link, self->extra));
		EXPECT_EQ(NULL, strstr(link, self->kernel));
		EXPECT_EQ(NULL, strstr(link, self->initrd));
		if (strstr(link, self->extra))
			TH_LOG("fd %s -> %s inherited", d->d_name, link);
	}
	closedir(dp);

	/* The environment, even the original strings: nothing but NUL bytes. */
	snprintf(path, sizeof(path), "/proc/%d/environ", self->pid);
	n = slurp(path, buf, sizeof(buf));
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++)
		if (buf[i])
			break;
	if (i < n)
		TH_LOG("environ still holds: %s", buf + i);
	EXPECT_EQ(n, i);

	/* Signals, umask, working directory. */
	snprintf(path, sizeof(path), "/proc/%d/status", self->pid);
	ASSERT_LT(0, slurp(path, buf, sizeof(buf)));
	p = strstr(buf, "SigIgn:");
	ASSERT_NE(NULL, p);
	/* Only SIGPIPE (13) ignored, not the caller's SIGUSR2 or 32. */
	if (strncmp(p, "SigIgn:\t0000000000001000", 24))
		TH_LOG("%.24s", p);
	EXPECT_EQ(0, strncmp(p, "SigIgn:\t0000000000001000", 24));
	p = strstr(buf, "Umask:");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, strncmp(p, "Umask:\t0077", 11));
	snprintf(path, sizeof(path), "/proc/%d/cwd", self->pid);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	EXPECT_STREQ("/", link);
	/* The main thread blocks only what it takes through its signalfd. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", self->pid, self->pid);
	ASSERT_LT(0, slurp(path, buf, sizeof(buf)));
	p = strstr(buf, "SigBlk:");
	ASSERT_NE(NULL, p);
	/* HUP(1) INT(2) USR1(10) TERM(15), not the caller's QUIT(3). */
	EXPECT_EQ(0, strncmp(p, "SigBlk:\t0000000000004203", 24));

	kill(self->pid, SIGTERM);
	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A set-uid avf-vmm refuses --standalone: it would open the caller's
 * paths as the VMM user. Needs root and a /tmp without nosuid.
 */
TEST_F(bin, setuid_vmm_refuses_standalone)
{
	char copy[] = "/tmp/avf-su-vmm-XXXXXX", buf[1024];
	struct statvfs sv;
	int fd, in, status;
	ssize_t n;
	pid_t pid;

	if (getuid() != 0)
		SKIP(return, "needs root");
	if (statvfs("/tmp", &sv) || (sv.f_flag & ST_NOSUID))
		SKIP(return, "/tmp is nosuid");
	fd = mkstemp(copy);
	in = open(VMM_BIN, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, in);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(fd, buf, (size_t)n));
	close(in);
	ASSERT_EQ(0, fchown(fd, 1001, 1001));
	ASSERT_EQ(0, fchmod(fd, 06755));
	close(fd);
	pid = spawn(self, copy);
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	unlink(copy);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EXIT_VMM_USAGE, WEXITSTATUS(status));
	n = pread(self->efd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	EXPECT_NE(NULL, strstr(buf, "--standalone: refused in a set-uid"));
}

TEST_HARNESS_MAIN
