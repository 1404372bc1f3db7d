/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avf.ko internals.
 *
 * Lock order (outermost first):
 *   avf_registry.lock (mutex)  ->  avf_vm.lock (mutex)
 *     ->  avf_cid_lock (spinlock)  /  avf_vm.readers_lock (spinlock)
 * User memory is never touched with any of them held.
 */
#ifndef _AVF_INTERNAL_H
#define _AVF_INTERNAL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <kunit/visibility.h>
#include <uapi/linux/avf.h>

/* Limits (documented in Documentation/userspace-api/avf.rst). */
#define AVF_MAX_VMS_PER_OWNER	256
#define AVF_MAX_VMS		4096
#define AVF_EVENT_QUEUE_LEN	64

/* ---- pure helpers (avf_state.c), unit-tested by KUnit ---------------- */

/**
 * struct avf_cid_pool - round-robin allocator of guest CIDs
 * @map: one bit per CID in [@first, @last], set while in use.
 * @first: lowest CID handed out.
 * @last: highest CID handed out.
 * @next: where the next search starts; a CID is reused only after the
 *	cursor has wrapped around the whole range.
 *
 * Callers serialise access (avf_cid_lock for the global pool).
 */
struct avf_cid_pool {
	unsigned long *map;
	u32 first;
	u32 last;
	u32 next;
};

int avf_cid_pool_init(struct avf_cid_pool *pool, u32 first, u32 last);
void avf_cid_pool_destroy(struct avf_cid_pool *pool);
int avf_cid_alloc(struct avf_cid_pool *pool, u32 *cid);
void avf_cid_free(struct avf_cid_pool *pool, u32 cid);

/**
 * struct avf_evq - bounded queue of event records for one reader
 * @ring: @cap records.
 * @cap: capacity, > 0.
 * @head: index of the oldest record.
 * @count: records queued.
 * @dropped: records dropped (oldest first) since the last pop; the next pop
 *	returns an AVF_EVENT_OVERFLOW record carrying this count.
 */
struct avf_evq {
	struct avf_event *ring;
	u32 cap;
	u32 head;
	u32 count;
	u32 dropped;
};

void avf_evq_init(struct avf_evq *q, struct avf_event *ring, u32 cap);
void avf_evq_push(struct avf_evq *q, const struct avf_event *ev);
bool avf_evq_peek(const struct avf_evq *q, struct avf_event *out);
void avf_evq_consume(struct avf_evq *q, const struct avf_event *ev);
bool avf_evq_empty(const struct avf_evq *q);

/**
 * struct avf_run_state - which payload events a run has reported
 * @started: PAYLOAD_STARTED seen.
 * @ready: PAYLOAD_READY seen.
 * @finished: PAYLOAD_FINISHED seen.
 * @error: ERROR seen.
 */
struct avf_run_state {
	bool started;
	bool ready;
	bool finished;
	bool error;
};

int avf_name_validate(const char name[AVF_NAME_MAX]);
bool avf_status_transition_ok(u32 from, u32 to);
int avf_report_validate(const struct avf_vmm_report *r);
int avf_report_check_order(const struct avf_run_state *s, u32 type);
void avf_report_apply(struct avf_run_state *s, u32 type);
bool avf_zeroed(const void *p, size_t len);

/* ---- objects (avf_vm.c) ---------------------------------------------- */

struct avf_vmm;

/**
 * struct avf_vm - one VM instance, owned by a uid, named
 * @ref: one reference for the registry (until delete), one per VM fd and
 *	one per VMM fd.
 * @node: in avf_registry.vms; protected by avf_registry.lock.
 * @owner: uid that created it; immutable.
 * @name: immutable, NUL-padded.
 * @lock: protects every field below except the readers list.
 * @status: AVF_STATUS_*.
 * @cid: CID of the current run, 0 when stopped.
 * @last_stop_reason: AVF_STOP_* of the last run.
 * @run_count: runs since creation.
 * @seq: sequence number of the last event emitted.
 * @run: payload events seen in the current run.
 * @vmm: current binding or NULL.
 * @vmm_pid: thread group of the bound VMM, or NULL.
 * @readers_lock: protects @readers and every reader's queue.
 * @readers: struct avf_vm_file list (open VM fds).
 * @wq: readers wait here for events.
 */
struct avf_vm {
	struct kref ref;
	struct list_head node;
	kuid_t owner;
	char name[AVF_NAME_MAX];

	struct mutex lock;
	u32 status;
	u32 cid;
	s32 last_stop_reason;
	u64 run_count;
	u32 seq;
	struct avf_run_state run;
	struct avf_vmm *vmm;
	struct pid *vmm_pid;

	spinlock_t readers_lock;
	struct list_head readers;
	wait_queue_head_t wq;
};

long avf_vm_open_ioctl(void __user *arg);
void avf_fill_capabilities(struct avf_capabilities *caps);
int avf_objects_init(void);
void avf_objects_exit(void);

#endif /* _AVF_INTERNAL_H */
