/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avf.ko internals.
 *
 * Lock order (outermost first):
 *   avf_registry.lock (mutex)  ->  avf_vm.lock (mutex)
 *     ->  avf_cid_lock (spinlock)  /  avf_run_lock (spinlock)
 *         /  avf_vm.readers_lock (spinlock)
 *         /  avf_vmm.wq and avf_conn.wq (wait queue locks, by wake_up)
 * signal_struct.exec_update_lock (AVF_VM_STOP, read) is taken with none of
 * them held. Host connection requests (struct avf_conn) are protected by
 * the vm->lock of the instance whose binding lists them; sockets are
 * created and files put with no lock held. User memory is never touched
 * with any of these held. Apart, never nested with those: avf_uds_sem
 * (rwsem, the device secret), the inode lock of a measured copy while it
 * is sealed, avf_imgcache_lock (mutex, the measured-image cache; files
 * are opened and put under it, nothing else is taken), and
 * avf_transfer.lock (mutex, one transfer object's imports; the new state
 * is copied out under it so that the object is consumed only once the
 * importer has it).
 */
#ifndef _AVF_INTERNAL_H
#define _AVF_INTERNAL_H

#include <linux/bits.h>
#include <linux/sizes.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <kunit/visibility.h>
#include <uapi/linux/avf.h>

/* Limits (documented in Documentation/userspace-api/avf.rst). */
#define AVF_MAX_VMS_PER_OWNER	256
#define AVF_MAX_VMS		4096
#define AVF_EVENT_QUEUE_LEN	64
/* Instances of one owner uid running (bound) at once; -EUSERS beyond. */
#define AVF_MAX_RUNNING_PER_OWNER	64
/* connectVsock requests in flight (queued or taken) per run; -EAGAIN beyond. */
#define AVF_MAX_PENDING_CONNECTS	16

/* ---- module parameters (avf_dev.c) ----------------------------------- */

/**
 * struct avf_params - one consistent read of the module parameters
 * @vmm_uid: the trusted VMM uid, INVALID_UID when none is set.
 * @raw_vmm_uid: the parameter as set (AVF_VMM_UID_NONE when none).
 * @owner_vmm: development mode: the owner may bind as the VMM.
 */
struct avf_params {
	kuid_t vmm_uid;
	u32 raw_vmm_uid;
	bool owner_vmm;
};

void avf_params_get(struct avf_params *p);

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
 * @dropped: records dropped (oldest first) and not yet reported; the next
 *	peek returns an AVF_EVENT_OVERFLOW record carrying this count.
 *
 * Accounting guarantee: for a reader that peeks and then consumes what it
 * peeked (pushes may run in between), every pushed record is either
 * delivered or counted in exactly one OVERFLOW record, never both.
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

/* What the VMM dropped or refused in a run (struct avf_vmm_stats). */
struct avf_run_stats {
	u64 vsock_refused;
	u64 console_dropped;
};

int avf_stats_update(struct avf_run_stats *cur, const struct avf_vmm_stats *s);
int avf_report_check_order(const struct avf_run_state *s, u32 type);
void avf_report_apply(struct avf_run_state *s, u32 type);
bool avf_zeroed(const void *p, size_t len);

/* ---- crypto (avf_crypto.c) and identity (avf_identity.c) -------------- */

#define AVF_HASH_SIZE		32
#define AVF_SEAL_KEY_SIZE	32
#define AVF_SEAL_NONCE_SIZE	12
#define AVF_SEAL_TAG_SIZE	16
#define AVF_IMAGE_MAX		((loff_t)SZ_1G)
#define AVF_UDS_KEY_DESC	"avf:uds"
#define AVF_KEYRING_NAME	".avf"
#define AVF_STATE_MAGIC		"AVFI"
#define AVF_STATE_VERSION	2

/** struct avf_buf - one part of a message to hash */
struct avf_buf {
	const void *p;
	size_t len;
};

/**
 * struct avf_measurement - what an instance's identity is made of
 * @kernel: SHA-256 of the guest kernel.
 * @initrd: SHA-256 of the guest runtime (initramfs).
 * @package: SHA-256 of the app package.
 * @payload_name: avf_text_hash() of the payload binary name.
 * @cmdline: avf_text_hash() of the extra guest kernel command line.
 * @debug_level: AVF_DEBUG_*.
 * @protected_vm: 0 or 1.
 */
struct avf_measurement {
	u8 kernel[AVF_HASH_SIZE];
	u8 initrd[AVF_HASH_SIZE];
	u8 package[AVF_HASH_SIZE];
	u8 payload_name[AVF_HASH_SIZE];
	u8 cmdline[AVF_HASH_SIZE];
	u32 debug_level;
	u32 protected_vm;
};

/**
 * struct avf_state - the plaintext of a sealed instance state
 * @salt: per-instance random salt, made at AVF_INSTANCE_SEAL.
 * @m: the measurement recorded at creation.
 * @owner: uid (initial user namespace) that may run the instance; not an
 *	input of the secret, so a transfer keeps the secret.
 */
struct avf_state {
	u8 salt[AVF_HASH_SIZE];
	struct avf_measurement m;
	u32 owner;
};

/*
 * Layout of the sealed blob (all little endian): magic, version, nonce
 * (the AAD), then the encrypted text and the tag. Offsets in the text:
 */
#define AVF_STATE_HDR_SIZE	20	/* magic, version, nonce: the AAD */
#define AVF_STATE_TEXT_SIZE	(AVF_INSTANCE_STATE_SIZE - AVF_STATE_HDR_SIZE - AVF_SEAL_TAG_SIZE)
#define AVF_ST_SALT		0
#define AVF_ST_KERNEL		32
#define AVF_ST_INITRD		64
#define AVF_ST_PACKAGE		96
#define AVF_ST_DEBUG		128	/* le32 */
#define AVF_ST_PROTECTED	132	/* le32 */
#define AVF_ST_OWNER		136	/* le32 */
#define AVF_ST_NAME		144	/* 4 zero bytes before */
#define AVF_ST_CMDLINE		176
#define AVF_ST_END		208	/* zero up to AVF_STATE_TEXT_SIZE */

/* Which parts of a measurement differ (avf_measurement_diff()). */
#define AVF_DIFF_KERNEL		BIT(0)
#define AVF_DIFF_INITRD		BIT(1)
#define AVF_DIFF_PACKAGE	BIT(2)
#define AVF_DIFF_CONFIG		BIT(3)
#define AVF_DIFF_PAYLOAD_NAME	BIT(4)
#define AVF_DIFF_CMDLINE	BIT(5)

int avf_hmac_sha256(const u8 *key, size_t klen, const struct avf_buf *parts,
		    size_t n, u8 *out);
int avf_hkdf_sha256(const u8 *salt, size_t slen, const u8 *ikm, size_t ilen,
		    const u8 *info, size_t info_len, u8 *out, size_t olen);
int avf_gcm_seal(const u8 *key, const u8 *nonce, u8 *buf, size_t aad_len,
		 size_t text_len);
int avf_gcm_open(const u8 *key, const u8 *nonce, u8 *buf, size_t aad_len,
		 size_t text_len);
int avf_sha256_file(struct file *file, u8 *out);
int avf_sha256_copy(struct file *src, struct file *dst, u8 *out);

/* ---- the measured-image cache (avf_imgcache.c) ---------------------- */

/**
 * struct avf_img_key - an image file as it was when measured
 * @owner: the instance owner whose run measured it.
 * @dev: device (kstat.dev).
 * @ino: inode number.
 * @gen: inode generation.
 * @size: size in bytes.
 * @mtime: modification time.
 * @ctime: change time.
 * @cookie: the filesystem's change cookie (i_version), if @has_cookie.
 * @has_cookie: the filesystem keeps one.
 * @now: the file's clock before the key was read (avf_imgcache_key()).
 */
struct avf_img_key {
	kuid_t owner;
	u32 dev;
	u64 ino;
	u32 gen;
	loff_t size;
	struct timespec64 mtime;
	struct timespec64 ctime;
	u64 cookie;
	bool has_cookie;
	struct timespec64 now;
};

bool avf_img_key_eq(const struct avf_img_key *a, const struct avf_img_key *b);
bool avf_img_key_cacheable(const struct avf_img_key *before,
			   const struct avf_img_key *after,
			   const struct timespec64 *now);
bool avf_imgcache_key(struct file *src, kuid_t owner, struct avf_img_key *k);
bool avf_imgcache_lookup(const struct avf_img_key *k, struct file **ro, u8 *hash);
void avf_imgcache_add(struct file *src, const struct avf_img_key *before,
		      struct file *copy, const u8 *hash);
void avf_imgcache_exit(void);

int avf_payload_name_validate(const char *name);
int avf_cmdline_validate(const char *cmdline);
int avf_images_validate(const struct avf_images *im);
int avf_vmm_load_validate(const struct avf_vmm_load *l);
int avf_vmm_start_validate(const struct avf_vmm_start *s);
void avf_text_hash(const char *tag, const char *text, u8 *out);
int avf_state_seal(const u8 *uds, const struct avf_state *st, const u8 *nonce,
		   u8 *blob);
int avf_state_open(const u8 *uds, const u8 *blob, struct avf_state *st);
int avf_derive_secret(const u8 *uds, const struct avf_state *st, u8 *secret);
unsigned int avf_measurement_diff(const struct avf_measurement *a,
				  const struct avf_measurement *b);

/**
 * struct avf_run_identity - the identity side of one VMM binding
 * @busy: an AVF_VMM_LOAD or AVF_VMM_START of this binding is in progress.
 * @loaded: AVF_VMM_LOAD succeeded: @secret holds the VM secret.
 * @started: AVF_VMM_START handed @secret to the guest; @secret is wiped.
 * @secret: the VM secret derived by AVF_VMM_LOAD, kept in kernel memory
 *	only, for AVF_VMM_START.
 *
 * Embedded in struct avf_vmm; every field under vm->lock. The measured
 * copies of the images are not kept here: the VMM holds them as the
 * read-only fds AVF_VMM_LOAD returned, and nobody can change them.
 * avf_run_identity_clear() wipes it when the VMM fd is released.
 */
struct avf_run_identity {
	bool busy;
	bool loaded;
	bool started;
	u8 secret[AVF_SECRET_SIZE];
};

struct avf_load;

void avf_run_identity_clear(struct avf_run_identity *id);
struct avf_load *avf_load_prepare(void __user *arg);
int avf_load_run(struct avf_load *ld, kuid_t owner, char *why, size_t why_len,
		 s32 *error_code);
void avf_load_take_secret(struct avf_load *ld, u8 *secret);
void avf_load_install(struct avf_load *ld);
void avf_load_free(struct avf_load *ld);
int avf_secret_write(int mem_fd, u64 offset, const u8 *secret);

long avf_instance_seal_ioctl(void __user *arg);
long avf_instance_export_ioctl(void __user *arg);
long avf_instance_import_ioctl(void __user *arg);
long avf_uds_load_ioctl(void __user *arg);
bool avf_uds_persistent(void);
int avf_identity_init(void);
void avf_identity_exit(void);

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
 * @vmm_cred: credentials of the bound VMM's thread group leader at bind
 *	(AVF_VM_STOP signals it only while they are unchanged), or NULL.
 * @readers_lock: protects @readers and every reader's queue.
 * @readers: struct avf_vm_file list (open VM fds).
 * @wq: readers wait here for events.
 */
struct avf_vm {
	struct kref ref;
	struct list_head node;
	kuid_t owner;
	char name[AVF_NAME_MAX];

	struct mutex lock;	/* the run state below */
	u32 status;
	u32 cid;
	s32 last_stop_reason;
	u64 run_count;
	u32 seq;
	struct avf_run_state run;
	struct avf_run_stats stats;	/* current or last run */
	struct avf_vmm *vmm;
	struct pid *vmm_pid;
	const struct cred *vmm_cred;

	spinlock_t readers_lock;	/* readers and their queues */
	struct list_head readers;
	wait_queue_head_t wq;
};

long avf_vm_open_ioctl(void __user *arg);
void avf_fill_capabilities(struct avf_capabilities *caps);
int avf_objects_init(void);
void avf_objects_exit(void);

#endif /* _AVF_INTERNAL_H */
