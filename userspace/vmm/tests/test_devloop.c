// SPDX-License-Identifier: GPL-2.0
/*
 * The device loop: a hung-up fd source (the VMM fd when a run ends) is
 * dropped from the loop instead of waking it forever; devloop_forget()
 * does the same on demand.
 */
#include <stdatomic.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "devloop.h"

static atomic_uint calls;

static void count(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
}

TEST(hung_up_source_is_dropped)
{
	struct devloop dl;
	int p[2];

	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));	/* the thread confines itself */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, devloop_init(&dl, NULL, NULL));
	ASSERT_EQ(0, devloop_add_fd(&dl, p[0], count, NULL));
	ASSERT_EQ(0, devloop_start(&dl));
	close(p[1]);		/* EPOLLHUP, level-triggered, for ever */
	usleep(300000);
	/* Once for the hang-up; a spinning loop would be in the thousands. */
	EXPECT_EQ(1U, atomic_load(&calls));
	EXPECT_TRUE(dl.src[0].gone);
	/* A sync no longer runs the dropped source either. */
	EXPECT_EQ(0, devloop_sync(&dl, 1000));
	EXPECT_EQ(1U, atomic_load(&calls));
	devloop_exit(&dl);
	close(p[0]);
}

TEST(readable_source_keeps_running_and_can_be_forgotten)
{
	struct devloop dl;
	int p[2];
	char c;

	atomic_store(&calls, 0);
	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, devloop_init(&dl, NULL, NULL));
	ASSERT_EQ(0, devloop_add_fd(&dl, p[0], count, NULL));
	ASSERT_EQ(0, devloop_start(&dl));
	ASSERT_EQ(1, write(p[1], "x", 1));
	usleep(100000);
	EXPECT_LE(1U, atomic_load(&calls));	/* level-triggered: until read */
	devloop_forget(&dl, p[0]);		/* from here nobody reads it */
	ASSERT_EQ(0, devloop_sync(&dl, 1000));
	atomic_store(&calls, 0);
	usleep(200000);
	EXPECT_EQ(0U, atomic_load(&calls));
	EXPECT_EQ(1, read(p[0], &c, 1));
	devloop_exit(&dl);
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
