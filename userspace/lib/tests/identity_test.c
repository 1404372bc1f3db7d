// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of how libavf opens the boot images it measures and hands to
 * avf-vmm (identity.c): regular files only, read-only, never through a
 * final symlink, never blocking on a FIFO, with messages that name the
 * file and the variable that overrides its location.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "kselftest_harness.h"

FIXTURE(img)
{
	char dir[64];
	char path[128];
};

FIXTURE_SETUP(img)
{
	strcpy(self->dir, "/tmp/avf-unit-img-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(img)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd)) {
		/* best effort */
	}
}

TEST_F(img, regular_file_opens_read_only_and_blocking)
{
	char err[AVF_ERRMSG_MAX] = "";
	int fd = -1, w;

	snprintf(self->path, sizeof(self->path), "%s/vmlinux", self->dir);
	w = open(self->path, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, w);
	ASSERT_EQ(4, write(w, "kern", 4));
	close(w);
	ASSERT_EQ(AVF_OK, avf__open_image("guest kernel", "AVF_GUEST_KERNEL", self->path, &fd,
					  err));
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(img, final_symlink_is_not_followed)
{
	char err[AVF_ERRMSG_MAX] = "", target[160];
	int fd = 7, w;

	snprintf(target, sizeof(target), "%s/real", self->dir);
	w = open(target, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, w);
	close(w);
	snprintf(self->path, sizeof(self->path), "%s/link", self->dir);
	ASSERT_EQ(0, symlink(target, self->path));
	EXPECT_EQ(AVF_E_IMAGE, avf__open_image("guest initramfs", "AVF_GUEST_INITRD", self->path,
					       &fd, err));
	EXPECT_EQ(-1, fd);
	EXPECT_NE(NULL, strstr(err, "symbolic link")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "AVF_GUEST_INITRD"));
}

static void on_alarm(int sig)
{
	(void)sig;
	_exit(99); /* a blocked open() is a failure */
}

TEST_F(img, fifo_is_refused_without_blocking)
{
	char err[AVF_ERRMSG_MAX] = "";
	int fd = 7;

	snprintf(self->path, sizeof(self->path), "%s/fifo", self->dir);
	ASSERT_EQ(0, mkfifo(self->path, 0644));
	signal(SIGALRM, on_alarm);
	alarm(5);
	EXPECT_EQ(AVF_E_IMAGE, avf__open_image("app package", NULL, self->path, &fd, err));
	alarm(0);
	EXPECT_EQ(-1, fd);
	EXPECT_NE(NULL, strstr(err, "not a regular file")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, self->path));
}

TEST_F(img, directory_and_missing_file_are_refused)
{
	char err[AVF_ERRMSG_MAX] = "";
	int fd = 7;

	EXPECT_EQ(AVF_E_IMAGE, avf__open_image("app package", NULL, self->dir, &fd, err));
	EXPECT_EQ(-1, fd);
	EXPECT_NE(NULL, strstr(err, "not a regular file"));
	snprintf(self->path, sizeof(self->path), "%s/absent", self->dir);
	EXPECT_EQ(AVF_E_IMAGE, avf__open_image("guest kernel", "AVF_GUEST_KERNEL", self->path,
					       &fd, err));
	EXPECT_NE(NULL, strstr(err, "No such file")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "set AVF_GUEST_KERNEL"));
}

TEST(debug_level_maps_to_the_uapi)
{
	struct avf_config *c = tu_config();

	ASSERT_NE(NULL, c);
	EXPECT_EQ(AVF_DEBUG_NONE, avf__debug_level(c));
	c->debug_level = AVF_DEBUG_LEVEL_FULL;
	EXPECT_EQ(AVF_DEBUG_FULL, avf__debug_level(c));
	avf_config_free(c);
}

TEST_HARNESS_MAIN
