// SPDX-License-Identifier: GPL-2.0
/* Control-channel line formatting (Documentation/interfaces.rst). */
#include <string.h>

#include "kselftest_harness.h"
#include "ctlchan.h"

TEST(simple_lines)
{
	char b[AVF_CTL_LINE_MAX + 1];

	ASSERT_EQ(5, avf_ctl_fmt_boot(b, sizeof(b), -1));
	ASSERT_STREQ("BOOT\n", b);
	ASSERT_EQ(10, avf_ctl_fmt_boot(b, sizeof(b), 1234));
	ASSERT_STREQ("BOOT 1234\n", b);
	avf_ctl_fmt_boot(b, sizeof(b), 0);
	ASSERT_STREQ("BOOT 0\n", b);
	ASSERT_EQ(8, avf_ctl_fmt_started(b, sizeof(b)));
	ASSERT_STREQ("STARTED\n", b);
	ASSERT_EQ(6, avf_ctl_fmt_ready(b, sizeof(b)));
	ASSERT_STREQ("READY\n", b);
	ASSERT_EQ(9, avf_ctl_fmt_shutdown(b, sizeof(b)));
	ASSERT_STREQ("SHUTDOWN\n", b);
	ASSERT_EQ(11, avf_ctl_fmt_finished(b, sizeof(b), 0));
	ASSERT_STREQ("FINISHED 0\n", b);
	avf_ctl_fmt_finished(b, sizeof(b), 7);
	ASSERT_STREQ("FINISHED 7\n", b);
	avf_ctl_fmt_finished(b, sizeof(b), -2147483647 - 1);
	ASSERT_STREQ("FINISHED -2147483648\n", b);
	avf_ctl_fmt_fail(b, sizeof(b), 15);
	ASSERT_STREQ("FAIL 15\n", b);
}

TEST(error_line)
{
	char b[AVF_CTL_LINE_MAX + 1];

	avf_ctl_fmt_error(b, sizeof(b), 0, "payload killed by signal 11");
	ASSERT_STREQ("ERROR 0 payload killed by signal 11\n", b);
	avf_ctl_fmt_error(b, sizeof(b), 3, "");
	ASSERT_STREQ("ERROR 3 error\n", b);
	avf_ctl_fmt_error(b, sizeof(b), 3, NULL);
	ASSERT_STREQ("ERROR 3 error\n", b);
}

TEST(error_text_is_sanitized)
{
	char b[AVF_CTL_LINE_MAX + 1];

	avf_ctl_fmt_error(b, sizeof(b), 3, "a\nFINISHED 0\r\x01\xff" "b");
	ASSERT_STREQ("ERROR 3 a?FINISHED 0???b\n", b);
	ASSERT_EQ(b + strlen(b) - 1, strchr(b, '\n'));
}

TEST(long_text_is_truncated)
{
	char text[1000], b[AVF_CTL_LINE_MAX + 1];
	int n;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = avf_ctl_fmt_error(b, sizeof(b), 3, text);
	ASSERT_EQ(AVF_CTL_LINE_MAX, n);
	ASSERT_EQ((size_t)n, strlen(b));
	ASSERT_EQ('\n', b[n - 1]);
	ASSERT_EQ(0, strncmp(b, "ERROR 3 xxx", 11));
}

TEST(big_buffer_still_capped)
{
	char text[1000], b[2048];

	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ASSERT_EQ(AVF_CTL_LINE_MAX, avf_ctl_fmt_error(b, sizeof(b), 0, text));
}

TEST(small_buffers)
{
	char b[16];

	ASSERT_EQ(-1, avf_ctl_fmt_started(b, 0));
	ASSERT_EQ(-1, avf_ctl_fmt_started(b, 8));	/* "STARTED\n" needs 9 with NUL */
	ASSERT_EQ(8, avf_ctl_fmt_started(b, 9));
	ASSERT_STREQ("STARTED\n", b);
	ASSERT_EQ(12, avf_ctl_fmt_error(b, 13, 3, "abcdef"));	/* truncated text */
	ASSERT_STREQ("ERROR 3 abc\n", b);
}

TEST_HARNESS_MAIN
