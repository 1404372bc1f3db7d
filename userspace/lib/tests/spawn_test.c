// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of how libavf starts avf-vmm (vm_spawn.c): the child gets
 * exactly the fds it is given (the app's fds, CLOEXEC or not, stay
 * behind), the standard fds it is given, and an empty environment. The
 * child is this test program again (/proc/self/exe --probe), which reports
 * what it inherited.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "kselftest_harness.h"

extern char **environ;

/* Probe mode: one line per open fd, then the environment size. */
static int probe(int argc, char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 3;
	while ((de = readdir(d))) {
		char path[64], link[256];
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		link[len > 0 ? len : 0] = '\0';
		printf("fd %d %d %s\n", fd, fcntl(fd, F_GETFL) & O_ACCMODE, link);
	}
	closedir(d);
	for (char **e = environ; *e; e++)
		n++;
	printf("env %d\n", n);
	printf("argc %d\n", argc);
	for (int i = 2; i < argc; i++)
		printf("arg %s\n", argv[i]);
	fflush(stdout);
	return 0;
}

/* Runs the probe through avf__spawn_start; its report lands in @out. */
static int run_probe(struct avf_spawn *s, char *out, size_t size, int *status)
{
	int p[2], devnull, ret;
	size_t got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	p[1] = avf__high_fd(p[1]);
	devnull = avf__high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	s->stdio[0] = devnull;
	s->stdio[1] = p[1];
	s->stdio[2] = p[1];
	ret = avf__spawn_start(s, &pid, NULL);
	close(p[1]);
	close(devnull);
	if (ret) {
		close(p[0]);
		return ret;
	}
	for (;;) {
		ssize_t n = read(p[0], out + got, size - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, status, 0);
	return 0;
}

static bool has_fd(const char *report, int fd)
{
	char key[32];

	snprintf(key, sizeof(key), "\nfd %d ", fd);
	return !strncmp(report, key + 1, strlen(key + 1)) || strstr(report, key) != NULL;
}

TEST(only_the_given_fds_reach_the_child)
{
	char report[8192], key[64];
	struct avf_spawn s;
	int leaked, cloexec, kept, st = -1, fds = 0;

	/* An fd the app forgot to make CLOEXEC, one it did, one we pass. */
	leaked = open("/proc/self/exe", O_RDONLY);
	cloexec = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	kept = avf__high_fd(open("/dev/zero", O_RDONLY | O_CLOEXEC));
	ASSERT_LE(3, leaked);
	ASSERT_LE(3, cloexec);
	ASSERT_LE(3, kept);
	avf__spawn_init(&s, "/proc/self/exe");
	avf__spawn_arg(&s, "--probe");
	avf__spawn_fd_arg(&s, "--zero-fd", kept);
	ASSERT_EQ(0, run_probe(&s, report, sizeof(report), &st));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	EXPECT_FALSE(has_fd(report, leaked)) TH_LOG("%s", report);
	EXPECT_FALSE(has_fd(report, cloexec));
	snprintf(key, sizeof(key), "fd %d 0 /dev/zero\n", kept);
	EXPECT_NE(NULL, strstr(report, key));
	/* The number is on the command line, as given. */
	snprintf(key, sizeof(key), "arg --zero-fd\narg %d\n", kept);
	EXPECT_NE(NULL, strstr(report, key));
	EXPECT_NE(NULL, strstr(report, "fd 0 0 /dev/null\n"));
	EXPECT_NE(NULL, strstr(report, "fd 1 1 pipe:"));
	EXPECT_NE(NULL, strstr(report, "fd 2 1 pipe:"));
	for (const char *p = report; (p = strstr(p, "fd ")); p++)
		if (p == report || p[-1] == '\n')
			fds++;
	EXPECT_EQ(4, fds);
	EXPECT_NE(NULL, strstr(report, "env 0\n"));
	/* The parent's fds are untouched. */
	EXPECT_EQ(0, fcntl(leaked, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(kept, F_GETFD) & FD_CLOEXEC);
	close(leaked);
	close(cloexec);
	close(kept);
}

TEST(many_leaked_fds_stay_behind)
{
	char report[16384];
	struct avf_spawn s;
	int fds[64], st = -1, lines = 0;

	for (int i = 0; i < 64; i++) {
		fds[i] = open("/dev/null", O_RDONLY);
		ASSERT_LE(0, fds[i]);
	}
	avf__spawn_init(&s, "/proc/self/exe");
	avf__spawn_arg(&s, "--probe");
	ASSERT_EQ(0, run_probe(&s, report, sizeof(report), &st));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (const char *p = report; (p = strstr(p, "fd ")); p++)
		if (p == report || p[-1] == '\n')
			lines++;
	EXPECT_EQ(3, lines) TH_LOG("%s", report);
	for (int i = 0; i < 64; i++)
		close(fds[i]);
}

TEST(standard_fds_and_low_fds_are_refused)
{
	struct avf_spawn s;
	char err[AVF_ERRMSG_MAX] = "";
	pid_t pid = 0;
	int fd = avf__high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));

	ASSERT_LE(3, fd);
	avf__spawn_init(&s, "/bin/true");
	s.stdio[0] = s.stdio[1] = s.stdio[2] = fd;
	avf__spawn_fd_arg(&s, "--x-fd", 1);
	EXPECT_EQ(AVF_E_INVALID, avf__spawn_start(&s, &pid, err));
	EXPECT_NE(NULL, strstr(err, "fd 1"));
	EXPECT_EQ(0, pid);
	avf__spawn_init(&s, "/bin/true");
	s.stdio[0] = 0;
	s.stdio[1] = s.stdio[2] = fd;
	EXPECT_EQ(AVF_E_INVALID, avf__spawn_start(&s, &pid, err));
	close(fd);
}

TEST(too_many_arguments_are_refused)
{
	struct avf_spawn s;
	char err[AVF_ERRMSG_MAX] = "";
	pid_t pid = 0;

	avf__spawn_init(&s, "/bin/true");
	for (int i = 0; i < AVF_SPAWN_MAX_ARGS; i++)
		avf__spawn_arg(&s, "x");
	EXPECT_TRUE(s.overflow);
	EXPECT_EQ(NULL, s.argv[AVF_SPAWN_MAX_ARGS - 1]);
	EXPECT_EQ(AVF_E_INVALID, avf__spawn_start(&s, &pid, err));
	EXPECT_NE(NULL, strstr(err, "too many"));
}

TEST(exec_failure_is_exit_127)
{
	char report[256];
	struct avf_spawn s;
	int st = -1;

	avf__spawn_init(&s, "/nonexistent/avf-vmm");
	ASSERT_EQ(0, run_probe(&s, report, sizeof(report), &st));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(127, WEXITSTATUS(st));
}

TEST(high_fd_moves_standard_fds)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int saved = dup(0), moved;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, saved);
	/* Make the next open land on 0, as in an app that closed stdin. */
	close(0);
	moved = avf__high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	EXPECT_LE(3, moved);
	EXPECT_EQ(FD_CLOEXEC, fcntl(moved, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, fcntl(0, F_GETFD));
	EXPECT_EQ(-1, avf__high_fd(-1));
	EXPECT_EQ(fd, avf__high_fd(fd));
	dup2(saved, 0);
	close(saved);
	close(moved);
	close(fd);
}

TEST(pidfd_polls_on_exit)
{
	pid_t pid = fork();
	int pidfd, st;

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(5);
	pidfd = avf__pidfd_open(pid);
	if (pidfd < 0 && errno == ENOSYS)
		SKIP(return, "no pidfd_open on this kernel");
	ASSERT_LE(0, pidfd);
	{
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		EXPECT_EQ(1, poll(&p, 1, 5000));
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(5, WEXITSTATUS(st));
	close(pidfd);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--probe"))
		return probe(argc, argv);
	return test_harness_run(argc, argv);
}
