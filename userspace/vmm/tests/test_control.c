// SPDX-License-Identifier: GPL-2.0
/* Control-channel parsing and the life-cycle state derived from it. */
#include <errno.h>
#include <stdint.h>

#include "kselftest_harness.h"

#include "ctlchan.h"
#include "lifecycle.h"

static int parse(const char *s, struct avf_ctl_msg *m)
{
	return avf_ctl_parse_line(s, strlen(s), m);
}

TEST(valid_lines)
{
	struct avf_ctl_msg m;

	ASSERT_EQ(0, parse("BOOT", &m));
	EXPECT_EQ(AVF_CTL_BOOT, m.type);
	EXPECT_EQ(-1, m.code);		/* no figure */
	ASSERT_EQ(0, parse("BOOT 1501", &m));
	EXPECT_EQ(AVF_CTL_BOOT, m.type);
	EXPECT_EQ(1501, m.code);
	ASSERT_EQ(0, parse("BOOT 2147483647", &m));
	EXPECT_EQ(2147483647, m.code);
	EXPECT_EQ(-EINVAL, parse("BOOTX", &m));
	/* the guest's figure is a non-negative int32 and nothing else */
	EXPECT_EQ(-EINVAL, parse("BOOT ", &m));
	EXPECT_EQ(-EINVAL, parse("BOOT -5", &m));
	EXPECT_EQ(-EINVAL, parse("BOOT 12ms", &m));
	EXPECT_EQ(-EINVAL, parse("BOOT 2147483648", &m));
	EXPECT_EQ(-EINVAL, parse("BOOT 1 2", &m));
	ASSERT_EQ(0, parse("STARTED", &m));
	EXPECT_EQ(AVF_CTL_STARTED, m.type);
	ASSERT_EQ(0, parse("READY", &m));
	EXPECT_EQ(AVF_CTL_READY, m.type);
	ASSERT_EQ(0, parse("SHUTDOWN\r", &m));
	EXPECT_EQ(AVF_CTL_SHUTDOWN, m.type);
	ASSERT_EQ(0, parse("FINISHED 7", &m));
	EXPECT_EQ(AVF_CTL_FINISHED, m.type);
	EXPECT_EQ(7, m.code);
	ASSERT_EQ(0, parse("FINISHED -2147483648", &m));
	EXPECT_EQ(INT32_MIN, m.code);
	ASSERT_EQ(0, parse("FAIL 14", &m));
	EXPECT_EQ(AVF_CTL_FAIL, m.type);
	EXPECT_EQ(14, m.code);
	ASSERT_EQ(0, parse("ERROR 3 payload not found", &m));
	EXPECT_EQ(AVF_CTL_ERROR, m.type);
	EXPECT_EQ(3, m.code);
	EXPECT_STREQ("payload not found", m.text);
	ASSERT_EQ(0, parse("ERROR 0", &m));
	EXPECT_STREQ("", m.text);
}

TEST(invalid_lines)
{
	static const char *const bad[] = {
		"", "STARTED ", "started", "READY!", "FINISHED", "FINISHED ", "FINISHED x",
		"FINISHED 1x", "FINISHED 2147483648", "FINISHED 99999999999999999999",
		"FAIL", "FAIL -", "ERROR", "ERROR x y", "ERROR 1x", "SHUTDOWNX", "HELLO",
		"FINISHED  1", "STA\x01RTED", "ERROR 1 \xff",
	};
	struct avf_ctl_msg m;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, parse(bad[i], &m));
}

TEST(long_error_text_truncated)
{
	char line[300];
	struct avf_ctl_msg m;

	memset(line, 'a', sizeof(line));
	memcpy(line, "ERROR 1 ", 8);
	ASSERT_EQ(0, avf_ctl_parse_line(line, 250, &m));
	EXPECT_EQ(AVF_MESSAGE_MAX - 1, (int)strlen(m.text));
}

struct lines {
	char seen[8][AVF_CTL_LINE_MAX + 1];
	int n;
};

static void collect(void *opaque, const char *line, size_t len)
{
	struct lines *l = opaque;

	if (l->n < 8) {
		memcpy(l->seen[l->n], line, len);
		l->seen[l->n][len] = 0;
		l->n++;
	}
}

TEST(stream_reassembly_and_overlong)
{
	struct avf_ctl_stream s = { .len = 0 };
	struct lines l = { .n = 0 };
	static uint8_t big[1000];

	avf_ctl_stream_feed(&s, (const uint8_t *)"STAR", 4, collect, &l);
	avf_ctl_stream_feed(&s, (const uint8_t *)"TED\nREADY\nFIN", 13, collect, &l);
	memset(big, 'x', sizeof(big));
	avf_ctl_stream_feed(&s, big, sizeof(big), collect, &l);
	avf_ctl_stream_feed(&s, (const uint8_t *)"\nSHUTDOWN\n", 10, collect, &l);
	ASSERT_EQ(3, l.n);
	EXPECT_STREQ("STARTED", l.seen[0]);
	EXPECT_STREQ("READY", l.seen[1]);
	EXPECT_STREQ("SHUTDOWN", l.seen[2]);
}

static void feed(struct lifecycle *lc, const char *s)
{
	lifecycle_feed(lc, (const uint8_t *)s, strlen(s));
}

TEST(reset_reasons)
{
	struct lifecycle lc;

	lifecycle_init(&lc, -1, -1);
	EXPECT_EQ(AVF_STOP_REBOOT, lifecycle_reset_reason(&lc));
	EXPECT_FALSE(lifecycle_started(&lc));
	feed(&lc, "STARTED\nREADY\nFINISHED 0\nSHUTDOWN\n");
	EXPECT_TRUE(lifecycle_started(&lc));
	EXPECT_EQ(AVF_STOP_SHUTDOWN, lifecycle_reset_reason(&lc));

	lifecycle_init(&lc, -1, -1);
	feed(&lc, "STARTED\nERROR 0 payload killed by signal 11\nFAIL 15\n");
	/* STARTED alone disarms the hang-up timer: no READY is needed. */
	EXPECT_TRUE(lifecycle_started(&lc));
	EXPECT_TRUE(lc.errored);
	EXPECT_EQ(AVF_STOP_MICRODROID_UNKNOWN_RUNTIME_ERROR, lifecycle_reset_reason(&lc));
}

TEST(started_disarms_hangup_without_ready)
{
	struct lifecycle lc;

	lifecycle_init(&lc, -1, -1);
	/* READY or FINISHED before STARTED are ignored: still not started. */
	feed(&lc, "READY\nFINISHED 3\n");
	EXPECT_FALSE(lifecycle_started(&lc));
	EXPECT_FALSE(lc.ready);
	feed(&lc, "STARTED\n");
	EXPECT_TRUE(lifecycle_started(&lc));
	EXPECT_FALSE(lc.ready);
}

TEST(order_enforced)
{
	struct lifecycle lc;

	lifecycle_init(&lc, -1, -1);
	feed(&lc, "READY\nFINISHED 1\n");	/* before STARTED: ignored */
	EXPECT_FALSE(lc.ready);
	EXPECT_FALSE(lc.finished);
	feed(&lc, "STARTED\nSTARTED\nREADY\nREADY\nFINISHED 1\n");
	EXPECT_TRUE(lc.ready);
	EXPECT_TRUE(lc.finished);
	EXPECT_EQ(0, lifecycle_stop(&lc, AVF_STOP_SHUTDOWN));
	EXPECT_TRUE(lc.stopped);
	/* Nothing after STOPPED. */
	feed(&lc, "ERROR 1 late\n");
	EXPECT_FALSE(lc.errored);
}

TEST_HARNESS_MAIN
