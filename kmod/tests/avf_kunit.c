// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for the pure helpers of avf.ko (avf_state.c, avf_crypto.c,
 * avf_identity.c): one suite per concern, table-driven where the helper is
 * a function of its inputs.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/hex.h>
#include <crypto/sha2.h>
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
		KUNIT_EXPECT_TRUE(test,
				  i + 1 == ARRAY_SIZE(c->steps) || !c->steps[i + 1]);
}

/* Counters of a run: each case starts from {10, 100}. */
struct stats_case {
	const char *desc;
	u64 refused, dropped;
	bool dirty_reserved;
	int want;
};

static const struct stats_case stats_cases[] = {
	{ "unchanged", 10, 100, false, 0 },
	{ "both grow", 11, 4096, false, 0 },
	{ "refused grows", 12, 100, false, 0 },
	{ "refused goes down", 9, 100, false, -EINVAL },
	{ "dropped goes down", 10, 99, false, -EINVAL },
	{ "to zero", 0, 0, false, -EINVAL },
	{ "maximum", U64_MAX, U64_MAX, false, 0 },
	{ "reserved set", 10, 100, true, -EINVAL },
};

static void stats_case_desc(const struct stats_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(stats, stats_cases, stats_case_desc);

static void avf_stats_update_test(struct kunit *test)
{
	const struct stats_case *c = test->param_value;
	struct avf_run_stats cur = { .vsock_refused = 10, .console_dropped = 100 };
	struct avf_vmm_stats s = {
		.vsock_refused = c->refused,
		.console_dropped = c->dropped,
	};

	if (c->dirty_reserved)
		s.reserved[5] = 1;
	KUNIT_EXPECT_EQ(test, avf_stats_update(&cur, &s), c->want);
	/* A refused update changes nothing. */
	KUNIT_EXPECT_EQ(test, cur.vsock_refused, c->want ? 10 : c->refused);
	KUNIT_EXPECT_EQ(test, cur.console_dropped, c->want ? 100 : c->dropped);
}

static struct kunit_case avf_report_cases[] = {
	KUNIT_CASE_PARAM(avf_report_validate_test, report_gen_params),
	KUNIT_CASE(avf_report_message_padding_test),
	KUNIT_CASE_PARAM(avf_report_order_test, order_gen_params),
	KUNIT_CASE_PARAM(avf_stats_update_test, stats_gen_params),
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
	/* the reader got seq 1: it is not reported as dropped as well */
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	KUNIT_EXPECT_EQ(test, out.type, (u32)AVF_EVENT_PAYLOAD_READY);
	KUNIT_EXPECT_EQ(test, out.seq, 2u);
	avf_evq_consume(&q, &out);
	KUNIT_ASSERT_TRUE(test, avf_evq_peek(&q, &out));
	KUNIT_EXPECT_EQ(test, out.seq, 3u);
}

/*
 * Interleavings of a writer and one reader on a queue of 4: 'p' pushes the
 * next record (seq 1, 2, ...), 'k' peeks, 'c' consumes what was peeked
 * (the reader has then received it), 'd' drains by peek+consume. @want is
 * what the reader receives: seqs, and "O<n>" for an OVERFLOW of n.
 */
struct evq_race_case {
	const char *desc;
	const char *script;
	const char *want;
};

static const struct evq_race_case evq_race_cases[] = {
	{ "no race", "ppkckcd", "1 2" },
	{ "peek on empty, then push", "kpd", "1" },
	{ "drop between peek and consume of OVERFLOW",
	  "ppppppkpcd", "O2 O1 4 5 6 7" },
	{ "many drops between peek and consume of OVERFLOW",
	  "pppppkppppcd", "O1 O4 6 7 8 9" },
	{ "peeked record dropped before consume",
	  "pkppppcd", "1 2 3 4 5" },
	{ "peeked record and the next dropped before consume",
	  "pkpppppcd", "1 O1 3 4 5 6" },
	{ "overflow, then a peeked record dropped",
	  "ppppppkckpppppcd", "O2 3 O4 8 9 10 11" },
};

KUNIT_ARRAY_PARAM_DESC(evq_race, evq_race_cases, desc);

/* The reader received @ev: append it to @got and check the accounting. */
static void evq_race_receive(struct kunit *test, const struct avf_event *ev,
			     u32 *next, u32 *owed, char *got, size_t *len)
{
	if (ev->type == AVF_EVENT_OVERFLOW) {
		*owed += ev->code;
		*len += scnprintf(got + *len, 256 - *len, "%sO%d",
				  *len ? " " : "", ev->code);
		return;
	}
	KUNIT_EXPECT_GE(test, ev->seq, *next);
	KUNIT_EXPECT_EQ_MSG(test, ev->seq - *next, *owed,
			    "gap before seq %u not what OVERFLOW said", ev->seq);
	*next = ev->seq + 1;
	*owed = 0;
	*len += scnprintf(got + *len, 256 - *len, "%s%u", *len ? " " : "",
			  ev->seq);
}

static void avf_evq_race_test(struct kunit *test)
{
	const struct evq_race_case *c = test->param_value;
	struct avf_event *ring = kunit_kcalloc(test, 4, sizeof(*ring), GFP_KERNEL);
	char *got = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct avf_event held = {}, ev;
	u32 pushed = 0, next = 1, owed = 0;
	struct avf_evq q;
	bool have = false;
	const char *op;
	size_t len = 0;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_ASSERT_NOT_NULL(test, got);
	avf_evq_init(&q, ring, 4);
	for (op = c->script; *op; op++) {
		switch (*op) {
		case 'p':
			ev = ev_seq(++pushed);
			avf_evq_push(&q, &ev);
			break;
		case 'k':
			have = avf_evq_peek(&q, &held);
			break;
		case 'c':
			KUNIT_ASSERT_TRUE(test, have);
			avf_evq_consume(&q, &held);
			have = false;
			evq_race_receive(test, &held, &next, &owed, got, &len);
			break;
		case 'd':
			while (avf_evq_peek(&q, &held)) {
				avf_evq_consume(&q, &held);
				evq_race_receive(test, &held, &next, &owed, got, &len);
			}
			have = false;
			break;
		}
	}
	KUNIT_EXPECT_TRUE(test, avf_evq_empty(&q));
	KUNIT_EXPECT_EQ_MSG(test, pushed + 1 - next, owed,
			    "records lost at the end");
	KUNIT_EXPECT_STREQ(test, got, c->want);
}

static struct kunit_case avf_evq_cases[] = {
	KUNIT_CASE(avf_evq_order_test),
	KUNIT_CASE(avf_evq_overflow_test),
	KUNIT_CASE(avf_evq_stale_consume_test),
	KUNIT_CASE_PARAM(avf_evq_race_test, evq_race_gen_params),
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

/* ---- crypto known answers ------------------------------------------- */

static void hex2bin_or_fail(struct kunit *test, u8 *dst, const char *hex)
{
	KUNIT_ASSERT_EQ(test, hex2bin(dst, hex, strlen(hex) / 2), 0);
}

static void avf_hkdf_rfc5869_test(struct kunit *test)
{
	/* RFC 5869 A.1 */
	u8 ikm[22], salt[13], info[10], okm[42], want[42];

	memset(ikm, 0x0b, sizeof(ikm));
	hex2bin_or_fail(test, salt, "000102030405060708090a0b0c");
	hex2bin_or_fail(test, info, "f0f1f2f3f4f5f6f7f8f9");
	hex2bin_or_fail(test, want,
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	KUNIT_ASSERT_EQ(test, avf_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm),
					      info, sizeof(info), okm, sizeof(okm)), 0);
	KUNIT_EXPECT_MEMEQ(test, okm, want, sizeof(want));
	KUNIT_EXPECT_EQ(test, avf_hkdf_sha256(NULL, 0, ikm, 1, NULL, 0, okm, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, avf_hkdf_sha256(NULL, 0, ikm, 1, NULL, 0, okm, 255 * 32 + 1),
			-EINVAL);
}

static void avf_gcm_vector_test(struct kunit *test)
{
	/* "The Galois/Counter Mode of Operation", test case 16 (AES-256) */
	u8 key[32], iv[12], want[20 + 60 + 16];
	u8 *buf = kunit_kzalloc(test, sizeof(want), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	hex2bin_or_fail(test, key,
			"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
	hex2bin_or_fail(test, iv, "cafebabefacedbaddecaf888");
	hex2bin_or_fail(test, buf,
			"feedfacedeadbeeffeedfacedeadbeefabaddad2d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
	hex2bin_or_fail(test, want,
			"feedfacedeadbeeffeedfacedeadbeefabaddad2522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b");
	KUNIT_ASSERT_EQ(test, avf_gcm_seal(key, iv, buf, 20, 60), 0);
	KUNIT_EXPECT_MEMEQ(test, buf, want, sizeof(want));
	KUNIT_ASSERT_EQ(test, avf_gcm_open(key, iv, buf, 20, 60), 0);
	buf[0] ^= 1;	/* AAD is authenticated */
	memcpy(buf + 20, want + 20, 76);
	KUNIT_EXPECT_EQ(test, avf_gcm_open(key, iv, buf, 20, 60), -EBADMSG);
}

static struct kunit_case avf_crypto_cases[] = {
	KUNIT_CASE(avf_hkdf_rfc5869_test),
	KUNIT_CASE(avf_gcm_vector_test),
	{}
};

static struct kunit_suite avf_crypto_suite = {
	.name = "avf_crypto",
	.test_cases = avf_crypto_cases,
};

/* ---- identity: validators ------------------------------------------ */

struct text_case {
	const char *desc;
	const char *text;
	int len;	/* > 0: that many 'a' bytes instead of @text */
	int want;
};

static const struct text_case payload_name_cases[] = {
	{ "simple", "payload.so", 0, 0 },
	{ "one char", "a", 0, 0 },
	{ "space and symbols", "my payload-1_2+~", 0, 0 },
	{ "max length", NULL, AVF_PAYLOAD_NAME_MAX - 1, 0 },
	{ "empty", "", 0, -EINVAL },
	{ "slash", "lib/payload.so", 0, -EINVAL },
	{ "only slash", "/", 0, -EINVAL },
	{ "newline", "a\nb", 0, -EINVAL },
	{ "tab", "a\tb", 0, -EINVAL },
	{ "del", "a\x7f", 0, -EINVAL },
	{ "high byte", "caf\xc3\xa9", 0, -EINVAL },
	{ "unterminated", NULL, AVF_PAYLOAD_NAME_MAX, -EINVAL },
};

static const struct text_case cmdline_cases[] = {
	{ "empty", "", 0, 0 },
	{ "words", "quiet loglevel=3 avf.x=\"y z\"", 0, 0 },
	{ "slash allowed", "root=/dev/vda", 0, 0 },
	{ "max length", NULL, AVF_CMDLINE_MAX - 1, 0 },
	{ "newline", "quiet\ninit=/bin/sh", 0, -EINVAL },
	{ "tab", "a\tb", 0, -EINVAL },
	{ "del", "a\x7f", 0, -EINVAL },
	{ "high byte", "\xff", 0, -EINVAL },
	{ "unterminated", NULL, AVF_CMDLINE_MAX, -EINVAL },
};

static void text_case_desc(const struct text_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(payload_name, payload_name_cases, text_case_desc);
KUNIT_ARRAY_PARAM(cmdline, cmdline_cases, text_case_desc);

static char *text_case_buf(struct kunit *test, const struct text_case *c, size_t size)
{
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	if (c->len)
		memset(buf, 'a', c->len);
	else
		strscpy(buf, c->text, size);
	return buf;
}

static void avf_payload_name_test(struct kunit *test)
{
	const struct text_case *c = test->param_value;
	const char *name = text_case_buf(test, c, AVF_PAYLOAD_NAME_MAX);

	KUNIT_EXPECT_EQ(test, avf_payload_name_validate(name), c->want);
}

static void avf_cmdline_test(struct kunit *test)
{
	const struct text_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, avf_cmdline_validate(text_case_buf(test, c, AVF_CMDLINE_MAX)),
			c->want);
}

/* One field of a request set to a bad value per case; the base is valid. */
struct request_case {
	const char *desc;
	void (*change)(struct avf_vmm_load *l, struct avf_vmm_start *s);
	int want_load;
	int want_start;
};

static void rq_none(struct avf_vmm_load *l, struct avf_vmm_start *s) { }
static void rq_flags(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->flags = 1;
	s->flags = 1;
}

static void rq_reserved(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->reserved[1] = 1;
	s->reserved[2] = 1;
}

static void rq_size(struct avf_vmm_load *l, struct avf_vmm_start *s) { l->state_size = 255; }
static void rq_out_fd(struct avf_vmm_load *l, struct avf_vmm_start *s) { l->initrd_fd = 3; }
static void rq_out_reserved(struct avf_vmm_load *l, struct avf_vmm_start *s) { l->reserved0 = 1; }
static void rq_img_reserved0(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->images.reserved0 = 1;
}

static void rq_img_reserved(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->images.reserved[1] = 1;
}

static void rq_debug(struct avf_vmm_load *l, struct avf_vmm_start *s) { l->images.debug_level = 2; }
static void rq_protected(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->images.protected_vm = 1;
}

static void rq_protected2(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	l->images.protected_vm = 2;
}

static void rq_off4(struct avf_vmm_load *l, struct avf_vmm_start *s) { s->secret_offset = 4; }
static void rq_off1(struct avf_vmm_load *l, struct avf_vmm_start *s) { s->secret_offset = 0x1001; }
static void rq_off_high(struct avf_vmm_load *l, struct avf_vmm_start *s)
{
	s->secret_offset = ~7ULL;
}

static const struct request_case request_cases[] = {
	{ "valid", rq_none, 0, 0 },
	{ "flags", rq_flags, -EINVAL, -EINVAL },
	{ "reserved", rq_reserved, -EINVAL, -EINVAL },
	{ "state size", rq_size, -EINVAL, 0 },
	{ "output fd set", rq_out_fd, -EINVAL, 0 },
	{ "output reserved0 set", rq_out_reserved, -EINVAL, 0 },
	{ "images reserved0", rq_img_reserved0, -EINVAL, 0 },
	{ "images reserved", rq_img_reserved, -EINVAL, 0 },
	{ "debug level 2", rq_debug, -EINVAL, 0 },
	{ "protected", rq_protected, -EOPNOTSUPP, 0 },
	{ "protected 2", rq_protected2, -EINVAL, 0 },
	{ "offset 4", rq_off4, 0, -EINVAL },
	{ "offset 0x1001", rq_off1, 0, -EINVAL },
	{ "offset aligned high", rq_off_high, 0, 0 },	/* bounds: at the memfd */
};

static void request_case_desc(const struct request_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(request, request_cases, request_case_desc);

static void avf_request_validate_test(struct kunit *test)
{
	const struct request_case *c = test->param_value;
	struct avf_vmm_load l = {
		.images = { .kernel_fd = 3, .initrd_fd = 4, .package_fd = 5,
			    .debug_level = AVF_DEBUG_FULL, .payload_name = 0x1000 },
		.state = 0x2000, .state_size = AVF_INSTANCE_STATE_SIZE,
	};
	struct avf_vmm_start s = { .mem_fd = 3, .secret_offset = 0x1000 };

	c->change(&l, &s);
	KUNIT_EXPECT_EQ(test, avf_vmm_load_validate(&l), c->want_load);
	KUNIT_EXPECT_EQ(test, avf_vmm_start_validate(&s), c->want_start);
}

static struct kunit_case avf_validate_cases[] = {
	KUNIT_CASE_PARAM(avf_payload_name_test, payload_name_gen_params),
	KUNIT_CASE_PARAM(avf_cmdline_test, cmdline_gen_params),
	KUNIT_CASE_PARAM(avf_request_validate_test, request_gen_params),
	{}
};

static struct kunit_suite avf_validate_suite = {
	.name = "avf_validate",
	.test_cases = avf_validate_cases,
};

/* ---- identity: derivation and sealed state -------------------------- */

/*
 * The known answers below come from kmod/tests/avf_kat.py, which computes
 * them without the module: SHA-256 and HMAC from Python's hashlib/hmac,
 * HKDF written out from RFC 5869, AES-256-GCM from pyca/cryptography,
 * over the same inputs as fixed_state(). It reproduces the version 1
 * vector of this suite's history when the v2 inputs are left out.
 */
static void fixed_state(u8 *uds, struct avf_state *st)
{
	int i;

	for (i = 0; i < AVF_HASH_SIZE; i++)
		uds[i] = i;
	memset(st, 0, sizeof(*st));
	memset(st->salt, 0x11, AVF_HASH_SIZE);
	memset(st->m.kernel, 0x22, AVF_HASH_SIZE);
	memset(st->m.initrd, 0x33, AVF_HASH_SIZE);
	memset(st->m.package, 0x44, AVF_HASH_SIZE);
	avf_text_hash("avf-payload-name", "payload.so", st->m.payload_name);
	avf_text_hash("avf-cmdline", "quiet", st->m.cmdline);
	st->m.debug_level = AVF_DEBUG_FULL;
	st->owner = 1000;
}

static void avf_text_hash_kat_test(struct kunit *test)
{
	u8 out[32], want[32];

	avf_text_hash("avf-cmdline", "", out);
	hex2bin_or_fail(test, want,
			"dbabe45e5a9fb9906da4b6a6e05e0ed96d4ec12e96b754b58d102b7c1a37140f");
	KUNIT_EXPECT_MEMEQ(test, out, want, 32);
	avf_text_hash("avf-payload-name", "payload.so", out);
	hex2bin_or_fail(test, want,
			"3b5a2b61125515c8f8928f51f51b8418da07aabb370a6f28f7e2b0b147c70a40");
	KUNIT_EXPECT_MEMEQ(test, out, want, 32);
	/* the tag separates domains: the same text under another tag differs */
	avf_text_hash("avf-cmdline", "payload.so", out);
	KUNIT_EXPECT_MEMNEQ(test, out, want, 32);
}

static void avf_derive_kat_test(struct kunit *test)
{
	u8 uds[32], out[32], want[32];
	struct avf_state st;

	fixed_state(uds, &st);
	hex2bin_or_fail(test, want,
			"869dc0396ad64755ad23c10709838b810680060278b2ce6bf95330c9fe1fba17");
	KUNIT_ASSERT_EQ(test, avf_derive_secret(uds, &st, out), 0);
	KUNIT_EXPECT_MEMEQ(test, out, want, 32);
	st.m.debug_level = AVF_DEBUG_NONE;
	hex2bin_or_fail(test, want,
			"3f43581520cb0eb75ee7a969275b994259628a357c37690016ba08654b09be2b");
	KUNIT_ASSERT_EQ(test, avf_derive_secret(uds, &st, out), 0);
	KUNIT_EXPECT_MEMEQ(test, out, want, 32);
}

struct derive_case {
	const char *desc;
	void (*change)(u8 *uds, struct avf_state *st);
	bool same;	/* the secret must not change */
};

static void ch_uds(u8 *uds, struct avf_state *st) { uds[31] ^= 1; }
static void ch_salt(u8 *uds, struct avf_state *st) { st->salt[0] ^= 1; }
static void ch_kernel(u8 *uds, struct avf_state *st) { st->m.kernel[5] ^= 1; }
static void ch_initrd(u8 *uds, struct avf_state *st) { st->m.initrd[9] ^= 1; }
static void ch_package(u8 *uds, struct avf_state *st) { st->m.package[31] ^= 1; }
static void ch_debug(u8 *uds, struct avf_state *st) { st->m.debug_level = AVF_DEBUG_NONE; }
static void ch_protected(u8 *uds, struct avf_state *st) { st->m.protected_vm = 1; }
static void ch_name(u8 *uds, struct avf_state *st)
{
	avf_text_hash("avf-payload-name", "other.so", st->m.payload_name);
}

static void ch_cmdline(u8 *uds, struct avf_state *st)
{
	avf_text_hash("avf-cmdline", "quiet init=/bin/sh", st->m.cmdline);
}

static void ch_owner(u8 *uds, struct avf_state *st) { st->owner = 1001; }

static const struct derive_case derive_cases[] = {
	{ "device secret", ch_uds },
	{ "instance salt", ch_salt },
	{ "kernel", ch_kernel },
	{ "runtime", ch_initrd },
	{ "payload package", ch_package },
	{ "debug level", ch_debug },
	{ "protected", ch_protected },
	{ "payload name", ch_name },
	{ "command line", ch_cmdline },
	{ "owner is not an input", ch_owner, true },
};

static void derive_case_desc(const struct derive_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(derive, derive_cases, derive_case_desc);

static void avf_derive_inputs_test(struct kunit *test)
{
	const struct derive_case *c = test->param_value;
	u8 uds[32], a[32], b[32];
	struct avf_state st;

	fixed_state(uds, &st);
	KUNIT_ASSERT_EQ(test, avf_derive_secret(uds, &st, a), 0);
	KUNIT_ASSERT_EQ(test, avf_derive_secret(uds, &st, b), 0);
	KUNIT_EXPECT_MEMEQ(test, a, b, 32);	/* deterministic */
	c->change(uds, &st);
	KUNIT_ASSERT_EQ(test, avf_derive_secret(uds, &st, b), 0);
	if (c->same)
		KUNIT_EXPECT_MEMEQ(test, a, b, 32);
	else
		KUNIT_EXPECT_MEMNEQ(test, a, b, 32);
}

static void avf_state_kat_test(struct kunit *test)
{
	u8 uds[32], nonce[12], digest[32], want[32];
	u8 *blob = kunit_kzalloc(test, AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	struct avf_state st;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, blob);
	fixed_state(uds, &st);
	for (i = 0; i < 12; i++)
		nonce[i] = 0xa0 + i;
	KUNIT_ASSERT_EQ(test, avf_state_seal(uds, &st, nonce, blob), 0);
	KUNIT_EXPECT_MEMEQ(test, blob, "AVFI\x02\0\0\0", 8);
	sha256(blob, AVF_INSTANCE_STATE_SIZE, digest);
	hex2bin_or_fail(test, want,
			"e4bfb095e5f034b59fa8d4a8f56933834a99995545e5e99e9cae3a75139fe461");
	KUNIT_EXPECT_MEMEQ(test, digest, want, 32);
}

/* Seal and open give back every field, the owner included. */
static void avf_state_round_trip_test(struct kunit *test)
{
	u8 uds[32], nonce[12] = { 7 };
	u8 *blob = kunit_kzalloc(test, AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	static const u32 owners[] = { 0, 1000, 970, 0xfffffffe };
	struct avf_state st, back;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, blob);
	for (i = 0; i < ARRAY_SIZE(owners); i++) {
		fixed_state(uds, &st);
		st.owner = owners[i];
		st.m.debug_level = i & 1;
		KUNIT_ASSERT_EQ(test, avf_state_seal(uds, &st, nonce, blob), 0);
		memset(&back, 0xee, sizeof(back));
		KUNIT_ASSERT_EQ(test, avf_state_open(uds, blob, &back), 0);
		KUNIT_EXPECT_EQ(test, back.owner, owners[i]);
		KUNIT_EXPECT_MEMEQ(test, back.salt, st.salt, 32);
		KUNIT_EXPECT_EQ(test, avf_measurement_diff(&back.m, &st.m), 0u);
		KUNIT_EXPECT_EQ(test, back.m.debug_level, st.m.debug_level);
		KUNIT_EXPECT_EQ(test, back.m.protected_vm, st.m.protected_vm);
	}
}

struct tamper_case {
	const char *desc;
	int offset;	/* byte to flip; -1: use another device secret */
	int want;
};

static const struct tamper_case tamper_cases[] = {
	{ "magic", 0, -EBADMSG },
	{ "version", 4, -EPROTONOSUPPORT },
	{ "nonce", 10, -EBADMSG },
	{ "salt", AVF_STATE_HDR_SIZE + AVF_ST_SALT, -EBADMSG },
	{ "kernel hash", AVF_STATE_HDR_SIZE + AVF_ST_KERNEL + 8, -EBADMSG },
	{ "debug level", AVF_STATE_HDR_SIZE + AVF_ST_DEBUG, -EBADMSG },
	{ "owner", AVF_STATE_HDR_SIZE + AVF_ST_OWNER, -EBADMSG },
	{ "payload name hash", AVF_STATE_HDR_SIZE + AVF_ST_NAME + 3, -EBADMSG },
	{ "command line hash", AVF_STATE_HDR_SIZE + AVF_ST_CMDLINE + 31, -EBADMSG },
	{ "padding", 230, -EBADMSG },
	{ "tag", 255, -EBADMSG },
	{ "other device secret", -1, -EBADMSG },
};

static void tamper_case_desc(const struct tamper_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(tamper, tamper_cases, tamper_case_desc);

static void avf_state_tamper_test(struct kunit *test)
{
	const struct tamper_case *c = test->param_value;
	u8 uds[32], nonce[12] = { 1 };
	u8 *blob = kunit_kzalloc(test, AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	struct avf_state st, back;

	KUNIT_ASSERT_NOT_NULL(test, blob);
	fixed_state(uds, &st);
	KUNIT_ASSERT_EQ(test, avf_state_seal(uds, &st, nonce, blob), 0);
	if (c->offset >= 0)
		blob[c->offset] ^= 0x80;
	else
		uds[0] ^= 1;
	KUNIT_EXPECT_EQ(test, avf_state_open(uds, blob, &back), c->want);
}

/* A version 1 blob (the layout without an owner) is refused as such. */
static void avf_state_v1_test(struct kunit *test)
{
	u8 uds[32], nonce[12] = { 2 };
	u8 *blob = kunit_kzalloc(test, AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	struct avf_state st, back;

	KUNIT_ASSERT_NOT_NULL(test, blob);
	fixed_state(uds, &st);
	KUNIT_ASSERT_EQ(test, avf_state_seal(uds, &st, nonce, blob), 0);
	blob[4] = 1;
	KUNIT_EXPECT_EQ(test, avf_state_open(uds, blob, &back), -EPROTONOSUPPORT);
}

static void avf_measurement_diff_test(struct kunit *test)
{
	u8 uds[32];
	struct avf_state a, b;

	fixed_state(uds, &a);
	b = a;
	KUNIT_EXPECT_EQ(test, avf_measurement_diff(&a.m, &b.m), 0u);
	b.owner = 1;	/* not part of the measurement */
	KUNIT_EXPECT_EQ(test, avf_measurement_diff(&a.m, &b.m), 0u);
	b.m.package[0] ^= 1;
	b.m.debug_level = 0;
	KUNIT_EXPECT_EQ(test, avf_measurement_diff(&a.m, &b.m),
			(unsigned int)(AVF_DIFF_PACKAGE | AVF_DIFF_CONFIG));
	b = a;
	b.m.kernel[0] ^= 1;
	b.m.initrd[0] ^= 1;
	KUNIT_EXPECT_EQ(test, avf_measurement_diff(&a.m, &b.m),
			(unsigned int)(AVF_DIFF_KERNEL | AVF_DIFF_INITRD));
	b = a;
	b.m.payload_name[0] ^= 1;
	b.m.cmdline[31] ^= 1;
	KUNIT_EXPECT_EQ(test, avf_measurement_diff(&a.m, &b.m),
			(unsigned int)(AVF_DIFF_PAYLOAD_NAME | AVF_DIFF_CMDLINE));
}

static struct kunit_case avf_identity_cases[] = {
	KUNIT_CASE(avf_text_hash_kat_test),
	KUNIT_CASE(avf_derive_kat_test),
	KUNIT_CASE_PARAM(avf_derive_inputs_test, derive_gen_params),
	KUNIT_CASE(avf_state_kat_test),
	KUNIT_CASE(avf_state_round_trip_test),
	KUNIT_CASE_PARAM(avf_state_tamper_test, tamper_gen_params),
	KUNIT_CASE(avf_state_v1_test),
	KUNIT_CASE(avf_measurement_diff_test),
	{}
};

static struct kunit_suite avf_identity_suite = {
	.name = "avf_identity",
	.test_cases = avf_identity_cases,
};

/* ---- the measured-image cache's freshness rules --------------------- */

enum imgkey_change {
	IK_NONE, IK_OWNER, IK_DEV, IK_INO, IK_GEN, IK_SIZE, IK_MTIME, IK_CTIME,
	IK_COOKIE, IK_COOKIE_GONE, IK_NOW_ONLY,
};

struct imgkey_case {
	const char *desc;
	enum imgkey_change change;	/* what differs between before and after */
	s64 ctime_vs_now_ns;		/* before.ctime - now */
	bool eq, cacheable;
};

static const struct imgkey_case imgkey_cases[] = {
	{ "unchanged, changed long ago", IK_NONE, -NSEC_PER_SEC, true, true },
	{ "unchanged, changed one ns before the clock", IK_NONE, -1, true, true },
	{ "unchanged, changed in the clock's tick", IK_NONE, 0, true, false },
	{ "unchanged, ctime after the clock (fine-grained)", IK_NONE, 1, true, false },
	{ "another owner", IK_OWNER, -NSEC_PER_SEC, false, false },
	{ "another device", IK_DEV, -NSEC_PER_SEC, false, false },
	{ "another inode", IK_INO, -NSEC_PER_SEC, false, false },
	{ "inode number reused (generation)", IK_GEN, -NSEC_PER_SEC, false, false },
	{ "grew", IK_SIZE, -NSEC_PER_SEC, false, false },
	{ "mtime reset by the owner", IK_MTIME, -NSEC_PER_SEC, false, false },
	{ "written during the hash (ctime)", IK_CTIME, -NSEC_PER_SEC, false, false },
	{ "change cookie moved, times equal", IK_COOKIE, -NSEC_PER_SEC, false, false },
	{ "change cookie no longer reported", IK_COOKIE_GONE, -NSEC_PER_SEC, false, false },
	{ "only the clock differs", IK_NOW_ONLY, -NSEC_PER_SEC, true, true },
};

static void imgkey_case_desc(const struct imgkey_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(imgkey, imgkey_cases, imgkey_case_desc);

static void avf_imgkey_test(struct kunit *test)
{
	const struct imgkey_case *c = test->param_value;
	struct avf_img_key a = {
		.owner = KUIDT_INIT(1000), .dev = 8, .ino = 1234, .gen = 77, .size = 4096,
		.mtime = { 100, 5 }, .ctime = { 200, 500 }, .cookie = 9, .has_cookie = true,
	};
	struct avf_img_key b;
	struct timespec64 now = timespec64_sub(a.ctime, ns_to_timespec64(c->ctime_vs_now_ns));

	a.now = now;
	b = a;
	switch (c->change) {
	case IK_NONE:
		break;
	case IK_OWNER:
		b.owner = KUIDT_INIT(1001);
		break;
	case IK_DEV:
		b.dev++;
		break;
	case IK_INO:
		b.ino++;
		break;
	case IK_GEN:
		b.gen++;
		break;
	case IK_SIZE:
		b.size++;
		break;
	case IK_MTIME:
		b.mtime.tv_sec--;
		break;
	case IK_CTIME:
		b.ctime.tv_nsec++;
		break;
	case IK_COOKIE:
		b.cookie++;
		break;
	case IK_COOKIE_GONE:
		b.has_cookie = false;
		b.cookie = 0;
		break;
	case IK_NOW_ONLY:
		b.now.tv_sec += 5;
		break;
	}
	KUNIT_EXPECT_EQ(test, avf_img_key_eq(&a, &b), c->eq);
	KUNIT_EXPECT_EQ(test, avf_img_key_eq(&b, &a), c->eq);
	KUNIT_EXPECT_EQ(test, avf_img_key_cacheable(&a, &b, &now), c->cacheable);
}

static struct kunit_case avf_imgcache_cases[] = {
	KUNIT_CASE_PARAM(avf_imgkey_test, imgkey_gen_params),
	{}
};

static struct kunit_suite avf_imgcache_suite = {
	.name = "avf_imgcache",
	.test_cases = avf_imgcache_cases,
};

kunit_test_suites(&avf_name_suite, &avf_status_suite, &avf_report_suite,
		  &avf_evq_suite, &avf_cid_suite, &avf_crypto_suite,
		  &avf_validate_suite, &avf_identity_suite, &avf_imgcache_suite);

MODULE_DESCRIPTION("KUnit tests for avf.ko");
MODULE_LICENSE("GPL");
