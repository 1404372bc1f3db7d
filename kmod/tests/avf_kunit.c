// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for the pure helpers of avf.ko (avf_state.c): one suite per
 * concern, table-driven where the helper is a function of its inputs.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "../avf_internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* ---- names ---------------------------------------------------------- */

struct name_case {
	const char *desc;
	const char *name;	/* copied into a zeroed AVF_NAME_MAX buffer */
	int garbage_at;		/* >= 0: put 'x' at this offset after the copy */
	int want;
};

static const struct name_case name_cases[] = {
	{ "simple", "my vm", -1, 0 },
	{ "one char", "a", -1, 0 },
	{ "dots inside", "a..b", -1, 0 },
	{ "three dots", "...", -1, 0 },
	{ "utf-8", "caf\xc3\xa9", -1, 0 },
	{ "max length", "123456789012345678901234567890123456789012345678901234567890123", -1, 0 },
	{ "empty", "", -1, -EINVAL },
	{ "dot", ".", -1, -EINVAL },
	{ "dotdot", "..", -1, -EINVAL },
	{ "slash", "a/b", -1, -EINVAL },
	{ "leading slash", "/a", -1, -EINVAL },
	{ "newline", "a\nb", -1, -EINVAL },
	{ "tab", "a\tb", -1, -EINVAL },
	{ "del", "a\x7f", -1, -EINVAL },
	{ "garbage after nul", "ok", 10, -EINVAL },
	{ "garbage in last byte", "ok", AVF_NAME_MAX - 1, -EINVAL },
};

static void name_case_desc(const struct name_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(name, name_cases, name_case_desc);

static void avf_name_test(struct kunit *test)
{
	const struct name_case *c = test->param_value;
	char buf[AVF_NAME_MAX] = {};

	strscpy(buf, c->name, sizeof(buf));
	if (c->garbage_at >= 0)
		buf[c->garbage_at] = 'x';
	KUNIT_EXPECT_EQ(test, avf_name_validate(buf), c->want);
}

static void avf_name_unterminated_test(struct kunit *test)
{
	char buf[AVF_NAME_MAX];

	memset(buf, 'a', sizeof(buf));
	KUNIT_EXPECT_EQ(test, avf_name_validate(buf), -EINVAL);
}

static struct kunit_case avf_name_cases[] = {
	KUNIT_CASE_PARAM(avf_name_test, name_gen_params),
	KUNIT_CASE(avf_name_unterminated_test),
	{}
};

static struct kunit_suite avf_name_suite = {
	.name = "avf_name",
	.test_cases = avf_name_cases,
};

/* ---- status transitions --------------------------------------------- */

static void avf_status_test(struct kunit *test)
{
	/* want[from][to] for STOPPED, RUNNING, DELETED and one unknown */
	static const bool want[4][4] = {
		/* to: STOPPED RUNNING DELETED 3 */
		{ false, true, true, false },	/* from STOPPED */
		{ true, false, false, false },	/* from RUNNING */
		{ false, false, false, false },	/* from DELETED */
		{ false, false, false, false },	/* from unknown */
	};
	u32 from, to;

	for (from = 0; from < 4; from++)
		for (to = 0; to < 4; to++)
			KUNIT_EXPECT_EQ_MSG(test, avf_status_transition_ok(from, to),
					    want[from][to], "%u -> %u", from, to);
}

static struct kunit_case avf_status_cases[] = {
	KUNIT_CASE(avf_status_test),
	{}
};

static struct kunit_suite avf_status_suite = {
	.name = "avf_status",
	.test_cases = avf_status_cases,
};

/* ---- reports: fields and order -------------------------------------- */

struct report_case {
	const char *desc;
	u32 type;
	s32 code;
	const char *msg;
	bool dirty_reserved;
	int want;
};

static const struct report_case report_cases[] = {
	{ "started", AVF_EVENT_PAYLOAD_STARTED, 0, NULL, false, 0 },
	{ "started with code", AVF_EVENT_PAYLOAD_STARTED, 1, NULL, false, -EINVAL },
	{ "ready", AVF_EVENT_PAYLOAD_READY, 0, NULL, false, 0 },
	{ "finished any code", AVF_EVENT_PAYLOAD_FINISHED, -7, NULL, false, 0 },
	{ "finished with message", AVF_EVENT_PAYLOAD_FINISHED, 0, "x", false, -EINVAL },
	{ "error", AVF_EVENT_ERROR, AVF_ERROR_PAYLOAD_CHANGED, "changed", false, 0 },
	{ "error empty message", AVF_EVENT_ERROR, 0, "", false, 0 },
	{ "error bad code", AVF_EVENT_ERROR, 4, "x", false, -EINVAL },
	{ "error negative code", AVF_EVENT_ERROR, -1, "x", false, -EINVAL },
	{ "stopped shutdown", AVF_EVENT_STOPPED, AVF_STOP_SHUTDOWN, NULL, false, 0 },
	{ "stopped hangup", AVF_EVENT_STOPPED, AVF_STOP_HANGUP, NULL, false, 0 },
	{ "stopped service died", AVF_EVENT_STOPPED, -1, NULL, false, 0 },
	{ "stopped bad reason", AVF_EVENT_STOPPED, 17, NULL, false, -EINVAL },
	{ "stopped none", AVF_EVENT_STOPPED, AVF_STOP_NONE, NULL, false, -EINVAL },
	{ "running from vmm", AVF_EVENT_RUNNING, 0, NULL, false, -EINVAL },
	{ "overflow from vmm", AVF_EVENT_OVERFLOW, 0, NULL, false, -EINVAL },
	{ "type 0", 0, 0, NULL, false, -EINVAL },
	{ "reserved set", AVF_EVENT_PAYLOAD_READY, 0, NULL, true, -EINVAL },
};

static void report_case_desc(const struct report_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(report, report_cases, report_case_desc);

static void avf_report_validate_test(struct kunit *test)
{
	const struct report_case *c = test->param_value;
	struct avf_vmm_report r = { .type = c->type, .code = c->code };

	if (c->msg)
		strscpy(r.message, c->msg, sizeof(r.message));
	if (c->dirty_reserved)
		r.reserved[1] = 1;
	KUNIT_EXPECT_EQ(test, avf_report_validate(&r), c->want);
}

static void avf_report_message_padding_test(struct kunit *test)
{
	struct avf_vmm_report r = { .type = AVF_EVENT_ERROR };

	strscpy(r.message, "boom", sizeof(r.message));
	r.message[20] = 'x';
	KUNIT_EXPECT_EQ(test, avf_report_validate(&r), -EINVAL);
	memset(r.message, 'y', sizeof(r.message));
	KUNIT_EXPECT_EQ(test, avf_report_validate(&r), -EINVAL);
}

/* Sequences: each step is a type; want is the result of the last step. */
struct order_case {
	const char *desc;
	u32 steps[6];
	int want;
};

#define S AVF_EVENT_PAYLOAD_STARTED
#define R AVF_EVENT_PAYLOAD_READY
#define F AVF_EVENT_PAYLOAD_FINISHED
#define E AVF_EVENT_ERROR
#define X AVF_EVENT_STOPPED
static const struct order_case order_cases[] = {
	{ "full run", { S, R, F, X }, 0 },
	{ "finish without ready", { S, F }, 0 },
	{ "error first", { E }, 0 },
	{ "stop first", { X }, 0 },
	{ "ready before started", { R }, -EPROTO },
	{ "finished before started", { F }, -EPROTO },
	{ "started twice", { S, S }, -EPROTO },
	{ "ready twice", { S, R, R }, -EPROTO },
	{ "finished twice", { S, F, F }, -EPROTO },
	{ "ready after finished", { S, F, R }, -EPROTO },
	{ "error twice", { S, E, E }, -EPROTO },
	{ "error after finished", { S, F, E }, 0 },
};
#undef S
#undef R
#undef F
#undef E
#undef X

static void order_case_desc(const struct order_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(order, order_cases, order_case_desc);

static void avf_report_order_test(struct kunit *test)
{
	const struct order_case *c = test->param_value;
	struct avf_run_state s = {};
	int i, ret = 0;

	for (i = 0; i < ARRAY_SIZE(c->steps) && c->steps[i]; i++) {
		ret = avf_report_check_order(&s, c->steps[i]);
		if (ret)
			break;
		avf_report_apply(&s, c->steps[i]);
	}
	KUNIT_EXPECT_EQ(test, ret, c->want);
	/* A rejected step must be the last one of the case. */
	if (ret)
		KUNIT_EXPECT_TRUE(test, i + 1 == ARRAY_SIZE(c->steps) ||
					!c->steps[i + 1]);
}

static struct kunit_case avf_report_cases[] = {
	KUNIT_CASE_PARAM(avf_report_validate_test, report_gen_params),
	KUNIT_CASE(avf_report_message_padding_test),
	KUNIT_CASE_PARAM(avf_report_order_test, order_gen_params),
	{}
};

static struct kunit_suite avf_report_suite = {
	.name = "avf_report",
	.test_cases = avf_report_cases,
};

/* ---- event queue ---------------------------------------------------- */

static struct avf_event ev_seq(u32 seq)
{
	struct avf_event ev = { .type = AVF_EVENT_PAYLOAD_READY, .seq = seq,
				.timestamp_ns = seq * 10 };
	return ev;
}

static void avf_evq_order_test(struct kunit *test)
{
	struct avf_event *ring = kunit_kcalloc(test, 4, sizeof(*ring), GFP_KERNEL), out;
	struct avf_evq q;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	avf_evq_init(&q, ring, 4);
	KUNIT_EXPECT_TRUE(test, avf_evq_empty(&q));
	KUNIT_EXPECT_FALSE(test, avf_evq_peek(&q, &out));
	for (i = 1; i <= 3; i++) {
		struct avf_event ev = ev_seq(i);

		avf_evq_push(&q, &ev);
	}
	for (i = 1; i <= 3; i++) {
		KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
		KUNIT_EXPECT_EQ(test, out.seq, i);
		/* peeking twice returns the same record */
		KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
		KUNIT_EXPECT_EQ(test, out.seq, i);
		avf_evq_consume(&q, &out);
	}
	KUNIT_EXPECT_TRUE(test, avf_evq_empty(&q));
}

static void avf_evq_overflow_test(struct kunit *test)
{
	struct avf_event *ring = kunit_kcalloc(test, 4, sizeof(*ring), GFP_KERNEL), out;
	struct avf_evq q;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	avf_evq_init(&q, ring, 4);
	for (i = 1; i <= 10; i++) {
		struct avf_event ev = ev_seq(i);

		avf_evq_push(&q, &ev);
	}
	/* 6 oldest dropped: an overflow record first, then 7..10 */
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	KUNIT_EXPECT_EQ(test, out.type, (u32)AVF_EVENT_OVERFLOW);
	KUNIT_EXPECT_EQ(test, out.code, 6);
	KUNIT_EXPECT_EQ(test, out.seq, 0u);
	avf_evq_consume(&q, &out);
	for (i = 7; i <= 10; i++) {
		KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
		KUNIT_EXPECT_EQ(test, out.seq, i);
		avf_evq_consume(&q, &out);
	}
	KUNIT_EXPECT_TRUE(test, avf_evq_empty(&q));
}

static void avf_evq_stale_consume_test(struct kunit *test)
{
	struct avf_event *ring = kunit_kcalloc(test, 2, sizeof(*ring), GFP_KERNEL), out, ev;
	struct avf_evq q;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	avf_evq_init(&q, ring, 2);
	ev = ev_seq(1);
	avf_evq_push(&q, &ev);
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	/* two more pushes drop seq 1 while the reader holds it */
	ev = ev_seq(2);
	avf_evq_push(&q, &ev);
	ev = ev_seq(3);
	avf_evq_push(&q, &ev);
	avf_evq_consume(&q, &out);	/* stale: must not drop seq 2 */
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	KUNIT_EXPECT_EQ(test, out.type, (u32)AVF_EVENT_OVERFLOW);
	avf_evq_consume(&q, &out);
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	KUNIT_EXPECT_EQ(test, out.seq, 2u);
}

static struct kunit_case avf_evq_cases[] = {
	KUNIT_CASE(avf_evq_order_test),
	KUNIT_CASE(avf_evq_overflow_test),
	KUNIT_CASE(avf_evq_stale_consume_test),
	{}
};

static struct kunit_suite avf_evq_suite = {
	.name = "avf_evq",
	.test_cases = avf_evq_cases,
};

/* ---- CID allocator -------------------------------------------------- */

static void avf_cid_round_robin_test(struct kunit *test)
{
	struct avf_cid_pool p;
	u32 a, b, c;

	KUNIT_ASSERT_EQ(test, avf_cid_pool_init(&p, 10, 12), 0);
	KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &a), 0);
	KUNIT_EXPECT_EQ(test, a, 10u);
	avf_cid_free(&p, a);
	/* a freed CID is not handed out again until the range wraps */
	KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &b), 0);
	KUNIT_EXPECT_EQ(test, b, 11u);
	KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &c), 0);
	KUNIT_EXPECT_EQ(test, c, 12u);
	KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &a), 0);
	KUNIT_EXPECT_EQ(test, a, 10u);
	/* full */
	KUNIT_EXPECT_EQ(test, avf_cid_alloc(&p, &a), -ENOSPC);
	avf_cid_free(&p, 11);
	KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &a), 0);
	KUNIT_EXPECT_EQ(test, a, 11u);
	avf_cid_free(&p, 9999);	/* out of range: ignored */
	avf_cid_pool_destroy(&p);
}

static void avf_cid_unique_test(struct kunit *test)
{
	struct avf_cid_pool p;
	unsigned long *seen;
	u32 n = AVF_CID_LAST - AVF_CID_FIRST + 1, i, cid;

	KUNIT_ASSERT_EQ(test, avf_cid_pool_init(&p, AVF_CID_FIRST, AVF_CID_LAST), 0);
	seen = kunit_kzalloc(test, BITS_TO_LONGS(n) * sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, avf_cid_alloc(&p, &cid), 0);
		KUNIT_ASSERT_GE(test, cid, (u32)AVF_CID_FIRST);
		KUNIT_ASSERT_LE(test, cid, (u32)AVF_CID_LAST);
		KUNIT_ASSERT_FALSE(test, test_and_set_bit(cid - AVF_CID_FIRST, seen));
		/* freeing right away must still not cause reuse */
		avf_cid_free(&p, cid);
	}
	avf_cid_pool_destroy(&p);
}

static void avf_cid_bad_range_test(struct kunit *test)
{
	struct avf_cid_pool p;

	KUNIT_EXPECT_EQ(test, avf_cid_pool_init(&p, 5, 4), -EINVAL);
}

static struct kunit_case avf_cid_cases[] = {
	KUNIT_CASE(avf_cid_round_robin_test),
	KUNIT_CASE(avf_cid_unique_test),
	KUNIT_CASE(avf_cid_bad_range_test),
	{}
};

static struct kunit_suite avf_cid_suite = {
	.name = "avf_cid",
	.test_cases = avf_cid_cases,
};

kunit_test_suites(&avf_name_suite, &avf_status_suite, &avf_report_suite,
		  &avf_evq_suite, &avf_cid_suite);

MODULE_DESCRIPTION("KUnit tests for avf.ko");
MODULE_LICENSE("GPL");
