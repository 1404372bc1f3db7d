// SPDX-License-Identifier: GPL-2.0
/*
 * Pure helpers of avf.ko: name rules, status transitions, event ordering,
 * the event queue and the CID allocator. No locking here: callers
 * serialise. Covered by the KUnit suites in tests/avf_kunit.c.
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "avf_internal.h"

/**
 * avf_zeroed() - true when @len bytes at @p are all zero
 * @p: memory to check.
 * @len: byte count.
 */
VISIBLE_IF_KUNIT bool avf_zeroed(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}
EXPORT_SYMBOL_IF_KUNIT(avf_zeroed);

/**
 * avf_name_validate() - check a VM name from userspace
 * @name: AVF_NAME_MAX bytes as copied from userspace.
 *
 * Return: 0 when @name is 1..AVF_NAME_MAX-1 bytes, NUL-terminated, zero
 * padded, without '/' or control characters, and not "." or ".."; else
 * -EINVAL.
 */
VISIBLE_IF_KUNIT int avf_name_validate(const char name[AVF_NAME_MAX])
{
	size_t len = strnlen(name, AVF_NAME_MAX);
	size_t i;

	if (len == 0 || len == AVF_NAME_MAX)
		return -EINVAL;
	if (!avf_zeroed(name + len, AVF_NAME_MAX - len))
		return -EINVAL;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_name_validate);

/**
 * avf_status_transition_ok() - is @from -> @to a legal status change
 * @from: AVF_STATUS_* now.
 * @to: AVF_STATUS_* wanted.
 *
 * STOPPED -> RUNNING (a VMM binds), RUNNING -> STOPPED (the run ends),
 * STOPPED -> DELETED (delete). DELETED is final.
 */
VISIBLE_IF_KUNIT bool avf_status_transition_ok(u32 from, u32 to)
{
	switch (from) {
	case AVF_STATUS_STOPPED:
		return to == AVF_STATUS_RUNNING || to == AVF_STATUS_DELETED;
	case AVF_STATUS_RUNNING:
		return to == AVF_STATUS_STOPPED;
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(avf_status_transition_ok);

static bool avf_stop_reason_valid(s32 reason)
{
	return reason >= AVF_STOP_VIRTUALIZATION_SERVICE_DIED &&
	       reason <= AVF_STOP_HANGUP;
}

/**
 * avf_report_validate() - check the fields of a VMM report
 * @r: report as copied from userspace.
 *
 * Return: 0, or -EINVAL for an unknown type, a bad code, a non-zero
 * reserved field, or a message that is missing (ERROR), not terminated,
 * not zero padded, or present on another type.
 */
VISIBLE_IF_KUNIT int avf_report_validate(const struct avf_vmm_report *r)
{
	size_t len;

	if (r->reserved0 || !avf_zeroed(r->reserved, sizeof(r->reserved)))
		return -EINVAL;

	switch (r->type) {
	case AVF_EVENT_PAYLOAD_STARTED:
	case AVF_EVENT_PAYLOAD_READY:
		if (r->code)
			return -EINVAL;
		break;
	case AVF_EVENT_PAYLOAD_FINISHED:
		break;
	case AVF_EVENT_ERROR:
		if (r->code < AVF_ERROR_UNKNOWN ||
		    r->code > AVF_ERROR_PAYLOAD_INVALID_CONFIG)
			return -EINVAL;
		len = strnlen(r->message, AVF_MESSAGE_MAX);
		if (len == AVF_MESSAGE_MAX)
			return -EINVAL;
		return avf_zeroed(r->message + len, AVF_MESSAGE_MAX - len) ?
			0 : -EINVAL;
	case AVF_EVENT_STOPPED:
		if (!avf_stop_reason_valid(r->code))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return avf_zeroed(r->message, sizeof(r->message)) ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(avf_report_validate);

/**
 * avf_stats_update() - take a VMM's counters for the current run
 * @cur: the run's counters, updated only on success.
 * @s: counters as copied from userspace.
 *
 * Return: 0, or -EINVAL for a non-zero reserved field or a counter that
 * went down (counters of a run only grow).
 */
VISIBLE_IF_KUNIT int avf_stats_update(struct avf_run_stats *cur,
				      const struct avf_vmm_stats *s)
{
	if (!avf_zeroed(s->reserved, sizeof(s->reserved)))
		return -EINVAL;
	if (s->vsock_refused < cur->vsock_refused ||
	    s->console_dropped < cur->console_dropped)
		return -EINVAL;
	cur->vsock_refused = s->vsock_refused;
	cur->console_dropped = s->console_dropped;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_stats_update);

/**
 * avf_report_check_order() - may an event of @type follow what @s has seen
 * @s: events of the current run.
 * @type: a validated report type.
 *
 * STARTED once; READY and FINISHED once each and only after STARTED; ERROR
 * once; STOPPED always (it ends the run).
 *
 * Return: 0 or -EPROTO.
 */
VISIBLE_IF_KUNIT int avf_report_check_order(const struct avf_run_state *s,
					    u32 type)
{
	switch (type) {
	case AVF_EVENT_PAYLOAD_STARTED:
		return s->started ? -EPROTO : 0;
	case AVF_EVENT_PAYLOAD_READY:
		return (!s->started || s->ready || s->finished) ? -EPROTO : 0;
	case AVF_EVENT_PAYLOAD_FINISHED:
		return (!s->started || s->finished) ? -EPROTO : 0;
	case AVF_EVENT_ERROR:
		return s->error ? -EPROTO : 0;
	case AVF_EVENT_STOPPED:
		return 0;
	default:
		return -EPROTO;
	}
}
EXPORT_SYMBOL_IF_KUNIT(avf_report_check_order);

/**
 * avf_report_apply() - record that an event of @type was accepted
 * @s: events of the current run.
 * @type: a type avf_report_check_order() accepted.
 */
VISIBLE_IF_KUNIT void avf_report_apply(struct avf_run_state *s, u32 type)
{
	switch (type) {
	case AVF_EVENT_PAYLOAD_STARTED:
		s->started = true;
		break;
	case AVF_EVENT_PAYLOAD_READY:
		s->ready = true;
		break;
	case AVF_EVENT_PAYLOAD_FINISHED:
		s->finished = true;
		break;
	case AVF_EVENT_ERROR:
		s->error = true;
		break;
	}
}
EXPORT_SYMBOL_IF_KUNIT(avf_report_apply);

/* ---- event queue ---------------------------------------------------- */

VISIBLE_IF_KUNIT void avf_evq_init(struct avf_evq *q, struct avf_event *ring,
				   u32 cap)
{
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	q->count = 0;
	q->dropped = 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_evq_init);

VISIBLE_IF_KUNIT bool avf_evq_empty(const struct avf_evq *q)
{
	return q->count == 0 && q->dropped == 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_evq_empty);

/**
 * avf_evq_push() - append a record, dropping the oldest when full
 * @q: queue.
 * @ev: record to copy in.
 */
VISIBLE_IF_KUNIT void avf_evq_push(struct avf_evq *q, const struct avf_event *ev)
{
	if (q->count == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->count--;
		q->dropped++;
	}
	q->ring[(q->head + q->count) % q->cap] = *ev;
	q->count++;
}
EXPORT_SYMBOL_IF_KUNIT(avf_evq_push);

/**
 * avf_evq_peek() - the record a read returns next
 * @q: queue.
 * @out: filled with an AVF_EVENT_OVERFLOW record when records were dropped
 *	since the last consume, else with the oldest record.
 *
 * Return: false when there is nothing to read.
 */
VISIBLE_IF_KUNIT bool avf_evq_peek(const struct avf_evq *q, struct avf_event *out)
{
	if (q->dropped) {
		memset(out, 0, sizeof(*out));
		out->type = AVF_EVENT_OVERFLOW;
		out->code = q->dropped;
		if (q->count)
			out->timestamp_ns = q->ring[q->head].timestamp_ns;
		return true;
	}
	if (!q->count)
		return false;
	*out = q->ring[q->head];
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(avf_evq_peek);

/**
 * avf_evq_consume() - drop the record avf_evq_peek() returned
 * @q: queue.
 * @ev: the peeked record, which the reader has now received.
 *
 * Pushes may have dropped records since the peek. For an OVERFLOW record
 * only the @ev->code drops it reported are forgotten; later ones stay
 * counted for the next OVERFLOW. A plain record was at the head when
 * peeked with nothing dropped, so any drop since then took it first: the
 * reader received it, so it is no longer counted as dropped.
 */
VISIBLE_IF_KUNIT void avf_evq_consume(struct avf_evq *q, const struct avf_event *ev)
{
	if (ev->type == AVF_EVENT_OVERFLOW) {
		q->dropped -= min_t(u32, q->dropped, (u32)ev->code);
		return;
	}
	if (q->dropped) {
		q->dropped--;
		return;
	}
	if (!q->count || q->ring[q->head].seq != ev->seq)
		return;
	q->head = (q->head + 1) % q->cap;
	q->count--;
}
EXPORT_SYMBOL_IF_KUNIT(avf_evq_consume);

/* ---- CID allocator -------------------------------------------------- */

VISIBLE_IF_KUNIT int avf_cid_pool_init(struct avf_cid_pool *pool, u32 first,
				       u32 last)
{
	if (first > last)
		return -EINVAL;
	pool->map = bitmap_zalloc(last - first + 1, GFP_KERNEL);
	if (!pool->map)
		return -ENOMEM;
	pool->first = first;
	pool->last = last;
	pool->next = first;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_cid_pool_init);

VISIBLE_IF_KUNIT void avf_cid_pool_destroy(struct avf_cid_pool *pool)
{
	bitmap_free(pool->map);
	pool->map = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(avf_cid_pool_destroy);

/**
 * avf_cid_alloc() - take the next free CID at or after the cursor
 * @pool: pool.
 * @cid: out.
 *
 * Return: 0, or -ENOSPC when every CID is in use.
 */
VISIBLE_IF_KUNIT int avf_cid_alloc(struct avf_cid_pool *pool, u32 *cid)
{
	unsigned long n = pool->last - pool->first + 1;
	unsigned long start = pool->next - pool->first;
	unsigned long bit;

	bit = find_next_zero_bit(pool->map, n, start);
	if (bit >= n)
		bit = find_first_zero_bit(pool->map, n);
	if (bit >= n)
		return -ENOSPC;
	__set_bit(bit, pool->map);
	*cid = pool->first + bit;
	pool->next = *cid == pool->last ? pool->first : *cid + 1;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_cid_alloc);

VISIBLE_IF_KUNIT void avf_cid_free(struct avf_cid_pool *pool, u32 cid)
{
	if (cid < pool->first || cid > pool->last)
		return;
	__clear_bit(cid - pool->first, pool->map);
}
EXPORT_SYMBOL_IF_KUNIT(avf_cid_free);
