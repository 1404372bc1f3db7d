// SPDX-License-Identifier: GPL-2.0
/*
 * The measured-image cache: a run that boots the same unchanged files as an
 * earlier run of the same owner gets that run's sealed copies and digests
 * instead of a new SHA-256 pass and copy (Documentation/userspace-api/avf.rst,
 * "The measured-image cache"; Documentation/threat-model.rst).
 *
 * What is cached is the sealed private copy itself, not just a digest: a hit
 * hands out the bytes that were hashed, so "measured = booted" holds whatever
 * the cache decides. What the cache must get right is only freshness: a file
 * changed since it was cached must miss. A file is identified by its device,
 * inode number and generation, and is unchanged while its size, mtime, ctime
 * and (where the filesystem keeps one) change cookie are. mtime can be set by
 * the file's owner, ctime cannot; a write, truncate, fallocate or attribute
 * change sets ctime to the current time. Three rules close the gaps:
 *
 *  - An entry is made only if the file's ctime is older than the clock read
 *    before hashing: a later change then sets a later ctime, even with coarse
 *    (per-tick) timestamps, and a change during the hash shows in the key
 *    read after it, which must equal the one read before.
 *  - Not for a file mapped shared and writable, at lookup or at entry: stores
 *    through a mapping change no time until the next write fault.
 *  - Not for tmpfs (shmem) files that are not sealed: tmpfs records no time
 *    for stores through a mapping at all. (Sealed memfds never change and are
 *    only hashed, not copied; they are not cached either.)
 *
 * Entries are per owner uid: one uid's runs never learn from the cache what
 * another's booted. The cache holds at most image_cache_mib MiB of copies
 * (least recently used first out; 0 turns it off and empties it).
 */
#include <linux/fs.h>
#include <linux/iversion.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include "avf_internal.h"

/**
 * struct avf_img_entry - one cached measured image
 * @node: in avf_imgcache_lru, most recently used first.
 * @key: the file it was made from, as it was.
 * @copy: the sealed private copy of what was hashed (one reference).
 * @hash: SHA-256 of @copy.
 */
struct avf_img_entry {
	struct list_head node;
	struct avf_img_key key;
	struct file *copy;
	u8 hash[AVF_HASH_SIZE];
};

static DEFINE_MUTEX(avf_imgcache_lock);
static LIST_HEAD(avf_imgcache_lru);
static u64 avf_imgcache_bytes;		/* under avf_imgcache_lock */

static unsigned int avf_imgcache_mib = 128;
static unsigned long avf_imgcache_hits, avf_imgcache_misses;

static DEFINE_SPINLOCK(avf_imgcache_stat_lock);

static void avf_imgcache_trim(u64 limit);

static void avf_imgcache_count(bool hit)
{
	spin_lock(&avf_imgcache_stat_lock);
	if (hit)
		WRITE_ONCE(avf_imgcache_hits, avf_imgcache_hits + 1);
	else
		WRITE_ONCE(avf_imgcache_misses, avf_imgcache_misses + 1);
	spin_unlock(&avf_imgcache_stat_lock);
}

static int avf_imgcache_mib_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint(val, kp);

	if (!ret) {
		mutex_lock(&avf_imgcache_lock);
		avf_imgcache_trim((u64)READ_ONCE(avf_imgcache_mib) << 20);
		mutex_unlock(&avf_imgcache_lock);
	}
	return ret;
}

static const struct kernel_param_ops avf_imgcache_mib_ops = {
	.set = avf_imgcache_mib_set,
	.get = param_get_uint,
};

module_param_cb(image_cache_mib, &avf_imgcache_mib_ops, &avf_imgcache_mib, 0644);
MODULE_PARM_DESC(image_cache_mib,
		 "MiB of measured image copies kept for later runs of the same owner (0 = off)");
/* Root only: when another uid runs VMs is not everyone's business. */
module_param_named(image_cache_hits, avf_imgcache_hits, ulong, 0400);
MODULE_PARM_DESC(image_cache_hits,
		 "images AVF_VMM_LOAD or AVF_INSTANCE_SEAL measured from the cache (no hash, no copy)");
module_param_named(image_cache_misses, avf_imgcache_misses, ulong, 0400);
MODULE_PARM_DESC(image_cache_misses,
		 "images AVF_VMM_LOAD or AVF_INSTANCE_SEAL hashed (and LOAD copied)");

/**
 * avf_img_key_eq() - do two keys name the same file in the same state?
 * @a: a key.
 * @b: another.
 *
 * Return: true if every field is equal.
 */
VISIBLE_IF_KUNIT bool avf_img_key_eq(const struct avf_img_key *a, const struct avf_img_key *b)
{
	return uid_eq(a->owner, b->owner) && a->dev == b->dev && a->ino == b->ino &&
	       a->gen == b->gen && a->size == b->size && a->cookie == b->cookie &&
	       a->has_cookie == b->has_cookie &&
	       timespec64_equal(&a->mtime, &b->mtime) && timespec64_equal(&a->ctime, &b->ctime);
}
EXPORT_SYMBOL_IF_KUNIT(avf_img_key_eq);

/**
 * avf_img_key_cacheable() - may a hash made between two key reads be kept?
 * @before: the key read before hashing.
 * @after: the key read after hashing.
 * @now: the file's clock (current_time()) read before @before.
 *
 * Return: true if nothing changed the file during the hash and its last
 * change is older than @now, so that any later change sets another ctime.
 */
VISIBLE_IF_KUNIT bool avf_img_key_cacheable(const struct avf_img_key *before,
					    const struct avf_img_key *after,
					    const struct timespec64 *now)
{
	return avf_img_key_eq(before, after) && timespec64_compare(&before->ctime, now) < 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_img_key_cacheable);

/*
 * The key of @file for @owner; false if the file may change unseen (shared
 * writable mapping, unsealed tmpfs) or cannot be stat'ed.
 */
static bool avf_img_key_of(struct file *file, kuid_t owner, struct avf_img_key *k)
{
	struct inode *inode = file_inode(file);
	u32 mask = STATX_BASIC_STATS;
	struct kstat st;

	if (shmem_file(file) || mapping_writably_mapped(file->f_mapping))
		return false;
#ifdef STATX_CHANGE_COOKIE
	mask |= STATX_CHANGE_COOKIE;
#endif
	if (vfs_getattr_nosec(&file->f_path, &st, mask, AT_STATX_SYNC_AS_STAT))
		return false;
	memset(k, 0, sizeof(*k));
	k->owner = owner;
	k->dev = st.dev;
	k->ino = st.ino;
	k->gen = inode->i_generation;
	k->size = st.size;
	k->mtime = st.mtime;
	k->ctime = st.ctime;
#ifdef STATX_CHANGE_COOKIE
	if (st.result_mask & STATX_CHANGE_COOKIE) {
		k->cookie = st.change_cookie;
		k->has_cookie = true;
	}
#endif
	return true;
}

static void avf_img_entry_free(struct avf_img_entry *e)
{
	list_del(&e->node);
	avf_imgcache_bytes -= e->key.size;
	fput(e->copy);
	kfree(e);
}

/* Drop least recently used entries until at most @limit bytes are kept. */
static void avf_imgcache_trim(u64 limit)
{
	lockdep_assert_held(&avf_imgcache_lock);
	while (avf_imgcache_bytes > limit && !list_empty(&avf_imgcache_lru))
		avf_img_entry_free(list_last_entry(&avf_imgcache_lru, struct avf_img_entry, node));
}

static struct avf_img_entry *avf_imgcache_find(const struct avf_img_key *k)
{
	struct avf_img_entry *e;

	lockdep_assert_held(&avf_imgcache_lock);
	list_for_each_entry(e, &avf_imgcache_lru, node)
		if (avf_img_key_eq(&e->key, k))
			return e;
	return NULL;
}

/**
 * avf_imgcache_key() - read @src's key, before it is looked up or hashed
 * @src: the image the caller opened.
 * @owner: the instance's owner.
 * @k: out: the key, with @k->now set to the file's clock read before it.
 *
 * Return: true if @src may be cached at all (the cache is on, the file
 * cannot change unseen and could be stat'ed).
 */
bool avf_imgcache_key(struct file *src, kuid_t owner, struct avf_img_key *k)
{
	struct timespec64 now;

	if (!READ_ONCE(avf_imgcache_mib))
		return false;
	now = current_time(file_inode(src));
	if (!avf_img_key_of(src, owner, k))
		return false;
	k->now = now;
	return true;
}

/**
 * avf_imgcache_lookup() - the cached measurement of a file, if it is fresh
 * @k: its key from avf_imgcache_key(), or NULL (not cacheable: a miss).
 * @ro: out: a new read-only file of the cached copy, or NULL with @hash only.
 * @hash: out: AVF_HASH_SIZE bytes.
 *
 * Return: true on a hit (*@ro set if @ro is not NULL).
 */
bool avf_imgcache_lookup(const struct avf_img_key *k, struct file **ro, u8 *hash)
{
	struct avf_img_entry *e;
	struct file *out = NULL;
	bool hit = false;

	if (!k || !READ_ONCE(avf_imgcache_mib)) {
		avf_imgcache_count(false);
		return false;
	}
	mutex_lock(&avf_imgcache_lock);
	e = avf_imgcache_find(k);
	if (e && ro)
		out = dentry_open(&e->copy->f_path, O_RDONLY | O_LARGEFILE, current_cred());
	if (e && !IS_ERR(out)) {
		list_move(&e->node, &avf_imgcache_lru);
		memcpy(hash, e->hash, AVF_HASH_SIZE);
		if (ro)
			*ro = out;
		hit = true;
	}
	mutex_unlock(&avf_imgcache_lock);
	avf_imgcache_count(hit);
	return hit;
}

/**
 * avf_imgcache_add() - keep a copy hashed after avf_imgcache_key()
 * @src: the image, as before.
 * @before: from avf_imgcache_key().
 * @copy: the sealed copy (the cache takes its own reference).
 * @hash: its SHA-256.
 */
void avf_imgcache_add(struct file *src, const struct avf_img_key *before, struct file *copy,
		      const u8 *hash)
{
	u64 limit = (u64)READ_ONCE(avf_imgcache_mib) << 20;
	struct avf_img_entry *e;
	struct avf_img_key after;

	if (!avf_img_key_of(src, before->owner, &after) ||
	    !avf_img_key_cacheable(before, &after, &before->now) ||
	    i_size_read(file_inode(copy)) != before->size || before->size > limit)
		return;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return;
	e->key = *before;
	e->copy = get_file(copy);
	memcpy(e->hash, hash, AVF_HASH_SIZE);
	mutex_lock(&avf_imgcache_lock);
	if (avf_imgcache_find(&e->key)) {	/* a concurrent run was first */
		mutex_unlock(&avf_imgcache_lock);
		fput(e->copy);
		kfree(e);
		return;
	}
	list_add(&e->node, &avf_imgcache_lru);
	avf_imgcache_bytes += e->key.size;
	avf_imgcache_trim(limit);
	mutex_unlock(&avf_imgcache_lock);
}

/** avf_imgcache_exit() - drop every entry (module unload). */
void avf_imgcache_exit(void)
{
	mutex_lock(&avf_imgcache_lock);
	avf_imgcache_trim(0);
	mutex_unlock(&avf_imgcache_lock);
}
