// SPDX-License-Identifier: GPL-2.0
/*
 * Instance identity: the device secret (UDS), measured images, the sealed
 * instance state and the DICE-style derivation of the VM secret.
 *
 *   UDS      from a logon key "avf:uds" owned by uid 0 (the module's
 *            keyring ".avf" first, then the loader's keyrings), else random
 *            per load
 *   state    AES-256-GCM(key = HKDF(UDS, "avf instance seal v1",
 *            "vm-instance")) over { salt, measurement, owner }, AAD = header
 *   H_c      SHA-256("avf-cmdline" || 0 || command line)
 *   H_n      SHA-256("avf-payload-name" || 0 || payload name)
 *   CDI_1    HKDF(ikm = UDS, salt = SHA-256("avf-layer-os" || H(kernel)
 *            || H(initrd) || le32 debug || le32 protected || H_c),
 *            info = "CDI_Seal")
 *   CDI_2    HKDF(ikm = CDI_1, salt = SHA-256("avf-layer-payload" ||
 *            H(package) || H_n || instance salt), info = "CDI_Seal")
 *   secret   HKDF(ikm = CDI_2, salt = "avf-vm-secret", info = "") (32 bytes)
 *
 * Memory, CPU count and the owner are not inputs. AVF_VMM_LOAD derives the
 * secret and keeps it in kernel memory; AVF_VMM_START writes it only into
 * the guest's memory; no ioctl returns it.
 */
#include <crypto/sha2.h>
#include <keys/user-type.h>
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/key.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/fcntl.h>
#include "avf_compat.h"
#include "avf_internal.h"

static DECLARE_RWSEM(avf_uds_sem);
static u8 avf_uds[AVF_HASH_SIZE];	/* under avf_uds_sem */
static bool avf_uds_from_key;		/* under avf_uds_sem */
static struct key *avf_keyring;		/* ".avf", set at init */

bool avf_uds_persistent(void)
{
	bool ret;

	down_read(&avf_uds_sem);
	ret = avf_uds_from_key;
	up_read(&avf_uds_sem);
	return ret;
}

/*
 * Make @key's payload the device secret. Only a key owned by uid 0 counts:
 * anyone can put a key named "avf:uds" in a keyring that root's processes
 * search (a session keyring they inherit).
 */
static int avf_uds_take(struct key *key)
{
	static const u8 salt[] = "avf-uds";
	const struct user_key_payload *up;
	u8 uds[AVF_HASH_SIZE];
	int ret;

	if (!uid_eq(key->uid, GLOBAL_ROOT_UID)) {
		pr_warn("avf: ignoring key \"%s\" of uid %u: not owned by root\n",
			AVF_UDS_KEY_DESC, from_kuid(&init_user_ns, key->uid));
		return -ENOKEY;
	}
	down_read(&key->sem);
	up = user_key_payload_locked(key);
	if (!up)
		ret = -EKEYREVOKED;
	else if (up->datalen < AVF_HASH_SIZE)
		ret = -EINVAL;
	else
		ret = avf_hkdf_sha256(salt, sizeof(salt) - 1, up->data, up->datalen,
				      NULL, 0, uds, sizeof(uds));
	up_read(&key->sem);
	if (ret)
		return ret;

	down_write(&avf_uds_sem);
	memcpy(avf_uds, uds, sizeof(uds));
	avf_uds_from_key = true;
	up_write(&avf_uds_sem);
	memzero_explicit(uds, sizeof(uds));
	return 0;
}

/*
 * Take the UDS from the logon key: the one linked in ".avf" first, else
 * the first the caller's keyrings yield (request_key(), no upcall: keys
 * provisioned before the module was loaded, e.g. in root's user keyring).
 * Return: 0, or the error of the last source tried (-ENOKEY: none).
 */
static int avf_uds_from_keyring(void)
{
	struct key *key;
	key_ref_t kref;
	int ret = -ENOKEY;

	if (avf_keyring) {
		kref = keyring_search(make_key_ref(avf_keyring, true), &key_type_logon,
				      AVF_UDS_KEY_DESC, false);
		if (!IS_ERR(kref)) {
			key = key_ref_to_ptr(kref);
			ret = avf_uds_take(key);
			key_put(key);
			if (!ret)
				return 0;
		}
	}
	key = request_key(&key_type_logon, AVF_UDS_KEY_DESC, NULL);
	if (IS_ERR(key))
		return ret == -ENOKEY ? PTR_ERR(key) : ret;
	ret = avf_uds_take(key);
	key_put(key);
	return ret;
}

int avf_identity_init(void)
{
	struct key *kr;
	int ret;

	/* root (uid 0) may add, read back attributes, search and link; no one else */
	kr = keyring_alloc(AVF_KEYRING_NAME, GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
			   current_cred(),
			   KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH |
			   KEY_POS_LINK | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_WRITE |
			   KEY_USR_SEARCH | KEY_USR_LINK,
			   KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(kr))
		return PTR_ERR(kr);
	avf_keyring = kr;

	ret = avf_uds_from_keyring();
	if (ret) {
		get_random_bytes(avf_uds, sizeof(avf_uds));
		pr_info("avf: no usable logon key \"%s\" (%d): device secret is ephemeral\n",
			AVF_UDS_KEY_DESC, ret);
	} else {
		pr_info("avf: device secret from logon key \"%s\"\n", AVF_UDS_KEY_DESC);
	}
	return 0;
}

void avf_identity_exit(void)
{
	memzero_explicit(avf_uds, sizeof(avf_uds));
	if (avf_keyring) {
		key_invalidate(avf_keyring);
		key_put(avf_keyring);
		avf_keyring = NULL;
	}
}

long avf_uds_load_ioctl(void __user *arg)
{
	struct avf_uds_load l;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	if (l.flags || !avf_zeroed(l.reserved, sizeof(l.reserved)))
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return avf_uds_from_keyring();
}

/* ---- pure parts: validation, sealing and derivation ------------------ */

static int avf_text_check(const char *s, size_t max, size_t min, bool slash_ok)
{
	size_t len = strnlen(s, max), i;

	if (len == max || len < min)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c > 0x7e || (c == '/' && !slash_ok))
			return -EINVAL;
	}
	return 0;
}

/**
 * avf_payload_name_validate() - check a payload binary name
 * @name: up to AVF_PAYLOAD_NAME_MAX bytes.
 *
 * Return: 0 for 1..AVF_PAYLOAD_NAME_MAX-1 bytes of printable ASCII
 * (0x20..0x7e) without '/', then a NUL; else -EINVAL.
 */
VISIBLE_IF_KUNIT int avf_payload_name_validate(const char *name)
{
	return avf_text_check(name, AVF_PAYLOAD_NAME_MAX, 1, false);
}
EXPORT_SYMBOL_IF_KUNIT(avf_payload_name_validate);

/**
 * avf_cmdline_validate() - check an extra guest kernel command line
 * @cmdline: up to AVF_CMDLINE_MAX bytes.
 *
 * Return: 0 for 0..AVF_CMDLINE_MAX-1 bytes of printable ASCII, then a NUL;
 * else -EINVAL.
 */
VISIBLE_IF_KUNIT int avf_cmdline_validate(const char *cmdline)
{
	return avf_text_check(cmdline, AVF_CMDLINE_MAX, 0, true);
}
EXPORT_SYMBOL_IF_KUNIT(avf_cmdline_validate);

/**
 * avf_images_validate() - check the fields of struct avf_images that need
 *	no lookup (fds and strings are checked when used)
 * @im: as copied from userspace.
 *
 * Return: 0, -EINVAL (reserved, debug level, protected > 1) or -EOPNOTSUPP
 * (a protected VM: no backend isolates guest memory from the host).
 */
VISIBLE_IF_KUNIT int avf_images_validate(const struct avf_images *im)
{
	if (im->reserved0 || !avf_zeroed(im->reserved, sizeof(im->reserved)))
		return -EINVAL;
	if (im->debug_level > AVF_DEBUG_FULL || im->protected_vm > 1)
		return -EINVAL;
	if (im->protected_vm)
		return -EOPNOTSUPP;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_images_validate);

/**
 * avf_vmm_load_validate() - check struct avf_vmm_load as copied in
 * @l: request; the output fields must be zero on input.
 *
 * Return: 0 or an error of avf_images_validate().
 */
VISIBLE_IF_KUNIT int avf_vmm_load_validate(const struct avf_vmm_load *l)
{
	if (l->flags & ~AVF_LOAD_VALID || l->state_size != AVF_INSTANCE_STATE_SIZE ||
	    l->kernel_fd || l->initrd_fd || l->package_fd || l->reserved0 ||
	    !avf_zeroed(l->reserved, sizeof(l->reserved)))
		return -EINVAL;
	return avf_images_validate(&l->images);
}
EXPORT_SYMBOL_IF_KUNIT(avf_vmm_load_validate);

/**
 * avf_vmm_start_validate() - check struct avf_vmm_start as copied in
 * @s: request.
 *
 * Return: 0, or -EINVAL for flags, reserved fields or a @secret_offset
 * that is not 8-byte aligned (the bounds need the memfd's size).
 */
VISIBLE_IF_KUNIT int avf_vmm_start_validate(const struct avf_vmm_start *s)
{
	if (s->flags & ~AVF_START_VALID || !avf_zeroed(s->reserved, sizeof(s->reserved)))
		return -EINVAL;
	return s->secret_offset % 8 ? -EINVAL : 0;
}
EXPORT_SYMBOL_IF_KUNIT(avf_vmm_start_validate);

/**
 * avf_text_hash() - domain-separated SHA-256 of an identity string
 * @tag: domain, e.g. "avf-cmdline".
 * @text: NUL-terminated.
 * @out: SHA-256(@tag || 0x00 || @text), AVF_HASH_SIZE bytes.
 */
VISIBLE_IF_KUNIT void avf_text_hash(const char *tag, const char *text, u8 *out)
{
	struct sha256_state sctx;

	sha256_init(&sctx);
	sha256_update(&sctx, tag, strlen(tag) + 1);
	sha256_update(&sctx, text, strlen(text));
	sha256_final(&sctx, out);
}
EXPORT_SYMBOL_IF_KUNIT(avf_text_hash);

static int avf_seal_key(const u8 *uds, u8 *key)
{
	static const u8 salt[] = "avf instance seal v1";
	static const u8 info[] = "vm-instance";

	return avf_hkdf_sha256(salt, sizeof(salt) - 1, uds, AVF_HASH_SIZE,
			       info, sizeof(info) - 1, key, AVF_SEAL_KEY_SIZE);
}

static void avf_state_to_text(const struct avf_state *st, u8 *t)
{
	memset(t, 0, AVF_STATE_TEXT_SIZE);
	memcpy(t + AVF_ST_SALT, st->salt, AVF_HASH_SIZE);
	memcpy(t + AVF_ST_KERNEL, st->m.kernel, AVF_HASH_SIZE);
	memcpy(t + AVF_ST_INITRD, st->m.initrd, AVF_HASH_SIZE);
	memcpy(t + AVF_ST_PACKAGE, st->m.package, AVF_HASH_SIZE);
	put_unaligned_le32(st->m.debug_level, t + AVF_ST_DEBUG);
	put_unaligned_le32(st->m.protected_vm, t + AVF_ST_PROTECTED);
	put_unaligned_le32(st->owner, t + AVF_ST_OWNER);
	memcpy(t + AVF_ST_NAME, st->m.payload_name, AVF_HASH_SIZE);
	memcpy(t + AVF_ST_CMDLINE, st->m.cmdline, AVF_HASH_SIZE);
}

/**
 * avf_state_seal() - build a sealed instance state blob (version 2)
 * @uds: device secret.
 * @st: plaintext.
 * @nonce: AVF_SEAL_NONCE_SIZE fresh random bytes.
 * @blob: out, AVF_INSTANCE_STATE_SIZE bytes.
 */
VISIBLE_IF_KUNIT int avf_state_seal(const u8 *uds, const struct avf_state *st,
				    const u8 *nonce, u8 *blob)
{
	u8 key[AVF_SEAL_KEY_SIZE];
	u8 *buf;
	int ret;

	buf = kzalloc(AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, AVF_STATE_MAGIC, 4);
	put_unaligned_le32(AVF_STATE_VERSION, buf + 4);
	memcpy(buf + 8, nonce, AVF_SEAL_NONCE_SIZE);
	avf_state_to_text(st, buf + AVF_STATE_HDR_SIZE);
	ret = avf_seal_key(uds, key);
	if (!ret)
		ret = avf_gcm_seal(key, nonce, buf, AVF_STATE_HDR_SIZE, AVF_STATE_TEXT_SIZE);
	if (!ret)
		memcpy(blob, buf, AVF_INSTANCE_STATE_SIZE);
	memzero_explicit(key, sizeof(key));
	kfree_sensitive(buf);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(avf_state_seal);

/**
 * avf_state_open() - authenticate and decrypt a sealed instance state
 * @uds: device secret.
 * @blob: AVF_INSTANCE_STATE_SIZE bytes from userspace.
 * @st: out.
 *
 * Return: 0; -EBADMSG for a wrong magic, a failed tag (tampered, truncated
 * and padded, or sealed under another device secret) or a bad plaintext;
 * -EPROTONOSUPPORT for another format version (version 1 had no owner).
 */
VISIBLE_IF_KUNIT int avf_state_open(const u8 *uds, const u8 *blob, struct avf_state *st)
{
	u8 key[AVF_SEAL_KEY_SIZE], nonce[AVF_SEAL_NONCE_SIZE];
	u8 *buf, *t;
	int ret;

	if (memcmp(blob, AVF_STATE_MAGIC, 4))
		return -EBADMSG;
	if (get_unaligned_le32(blob + 4) != AVF_STATE_VERSION)
		return -EPROTONOSUPPORT;
	buf = kmemdup(blob, AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	memcpy(nonce, blob + 8, sizeof(nonce));
	ret = avf_seal_key(uds, key);
	if (!ret)
		ret = avf_gcm_open(key, nonce, buf, AVF_STATE_HDR_SIZE, AVF_STATE_TEXT_SIZE);
	memzero_explicit(key, sizeof(key));
	if (ret)
		goto out;
	t = buf + AVF_STATE_HDR_SIZE;
	memset(st, 0, sizeof(*st));
	memcpy(st->salt, t + AVF_ST_SALT, AVF_HASH_SIZE);
	memcpy(st->m.kernel, t + AVF_ST_KERNEL, AVF_HASH_SIZE);
	memcpy(st->m.initrd, t + AVF_ST_INITRD, AVF_HASH_SIZE);
	memcpy(st->m.package, t + AVF_ST_PACKAGE, AVF_HASH_SIZE);
	st->m.debug_level = get_unaligned_le32(t + AVF_ST_DEBUG);
	st->m.protected_vm = get_unaligned_le32(t + AVF_ST_PROTECTED);
	st->owner = get_unaligned_le32(t + AVF_ST_OWNER);
	memcpy(st->m.payload_name, t + AVF_ST_NAME, AVF_HASH_SIZE);
	memcpy(st->m.cmdline, t + AVF_ST_CMDLINE, AVF_HASH_SIZE);
	if (!avf_zeroed(t + AVF_ST_OWNER + 4, AVF_ST_NAME - AVF_ST_OWNER - 4) ||
	    !avf_zeroed(t + AVF_ST_END, AVF_STATE_TEXT_SIZE - AVF_ST_END) ||
	    st->m.debug_level > AVF_DEBUG_FULL || st->m.protected_vm > 1)
		ret = -EBADMSG;
out:
	kfree_sensitive(buf);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(avf_state_open);

static int avf_layer(const u8 *cdi, const struct avf_buf *parts, size_t n, u8 *next)
{
	static const u8 info[] = "CDI_Seal";
	struct sha256_state sctx;
	u8 salt[AVF_HASH_SIZE];
	size_t i;
	int ret;

	sha256_init(&sctx);
	for (i = 0; i < n; i++)
		sha256_update(&sctx, parts[i].p, parts[i].len);
	sha256_final(&sctx, salt);
	ret = avf_hkdf_sha256(salt, sizeof(salt), cdi, AVF_HASH_SIZE,
			      info, sizeof(info) - 1, next, AVF_HASH_SIZE);
	memzero_explicit(salt, sizeof(salt));
	return ret;
}

/**
 * avf_derive_secret() - the VM secret of an instance
 * @uds: device secret.
 * @st: the instance's state (salt and the measurement to boot; the owner
 *	is not an input).
 * @secret: out, AVF_SECRET_SIZE bytes.
 */
VISIBLE_IF_KUNIT int avf_derive_secret(const u8 *uds, const struct avf_state *st,
				       u8 *secret)
{
	static const u8 os_tag[] = "avf-layer-os", pl_tag[] = "avf-layer-payload";
	static const u8 out_salt[] = "avf-vm-secret";
	u8 cfg[8], cdi1[AVF_HASH_SIZE], cdi2[AVF_HASH_SIZE];
	struct avf_buf os[] = {
		{ os_tag, sizeof(os_tag) - 1 },
		{ st->m.kernel, AVF_HASH_SIZE },
		{ st->m.initrd, AVF_HASH_SIZE },
		{ cfg, sizeof(cfg) },
		{ st->m.cmdline, AVF_HASH_SIZE },
	};
	struct avf_buf pl[] = {
		{ pl_tag, sizeof(pl_tag) - 1 },
		{ st->m.package, AVF_HASH_SIZE },
		{ st->m.payload_name, AVF_HASH_SIZE },
		{ st->salt, AVF_HASH_SIZE },
	};
	int ret;

	put_unaligned_le32(st->m.debug_level, cfg);
	put_unaligned_le32(st->m.protected_vm, cfg + 4);
	ret = avf_layer(uds, os, ARRAY_SIZE(os), cdi1);
	if (!ret)
		ret = avf_layer(cdi1, pl, ARRAY_SIZE(pl), cdi2);
	if (!ret)
		ret = avf_hkdf_sha256(out_salt, sizeof(out_salt) - 1, cdi2, sizeof(cdi2),
				      NULL, 0, secret, AVF_SECRET_SIZE);
	memzero_explicit(cdi1, sizeof(cdi1));
	memzero_explicit(cdi2, sizeof(cdi2));
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(avf_derive_secret);

VISIBLE_IF_KUNIT unsigned int avf_measurement_diff(const struct avf_measurement *a,
						   const struct avf_measurement *b)
{
	unsigned int d = 0;

	if (memcmp(a->kernel, b->kernel, AVF_HASH_SIZE))
		d |= AVF_DIFF_KERNEL;
	if (memcmp(a->initrd, b->initrd, AVF_HASH_SIZE))
		d |= AVF_DIFF_INITRD;
	if (memcmp(a->package, b->package, AVF_HASH_SIZE))
		d |= AVF_DIFF_PACKAGE;
	if (a->debug_level != b->debug_level || a->protected_vm != b->protected_vm)
		d |= AVF_DIFF_CONFIG;
	if (memcmp(a->payload_name, b->payload_name, AVF_HASH_SIZE))
		d |= AVF_DIFF_PAYLOAD_NAME;
	if (memcmp(a->cmdline, b->cmdline, AVF_HASH_SIZE))
		d |= AVF_DIFF_CMDLINE;
	return d;
}
EXPORT_SYMBOL_IF_KUNIT(avf_measurement_diff);

/* ---- images --------------------------------------------------------- */

#define AVF_SEALS_NEEDED (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

static const char *const avf_image_names[] = { "avf-kernel", "avf-initrd", "avf-package" };

/** struct avf_texts - the identity strings of a request, copied in */
struct avf_texts {
	char name[AVF_PAYLOAD_NAME_MAX];
	char cmdline[AVF_CMDLINE_MAX];
};

/* An image fd: a readable regular file. */
static struct file *avf_image_fget(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!(file->f_mode & FMODE_READ)) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	if (!S_ISREG(file_inode(file)->i_mode)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file;
}

/* A memfd nobody can change any more: used as it is. */
static bool avf_memfd_sealed(struct file *file)
{
	return shmem_file(file) &&
	       (SHMEM_I(file_inode(file))->seals & AVF_SEALS_NEEDED) == AVF_SEALS_NEEDED;
}

/*
 * Seal a private copy for good: no writes, no size change, no new seals,
 * no write access even for root through a re-open (/proc/self/fd/N).
 * Nothing maps it: the only file of it is ours.
 */
static int avf_copy_seal(struct file *copy)
{
	struct inode *inode = file_inode(copy);
	int ret;

	inode_lock(inode);
	ret = mapping_deny_writable(copy->f_mapping);
	if (!ret) {
		SHMEM_I(inode)->seals |= F_SEAL_SEAL | AVF_SEALS_NEEDED;
		inode->i_mode = S_IFREG | 0444;
		inode_set_flags(inode, S_IMMUTABLE, S_IMMUTABLE);
	}
	inode_unlock(inode);
	return ret;
}

/*
 * Measure image @fd and return a read-only file (in *@ro) whose content is
 * exactly what was measured: the fd's own sealed memfd, or a sealed private
 * shmem copy made in the same pass as the hash. The caller's file is only
 * read: never write-denied, never kept.
 */
static int avf_image_load(int fd, const char *name, kuid_t owner, struct file **ro, u8 *hash)
{
	struct file *src, *copy, *out;
	struct avf_img_key key;
	bool cacheable;
	int ret;

	src = avf_image_fget(fd);
	if (IS_ERR(src))
		return PTR_ERR(src);
	/* One stat for the lookup and, on a miss, the entry made after the hash. */
	cacheable = avf_imgcache_key(src, owner, &key);
	if (avf_imgcache_lookup(cacheable ? &key : NULL, ro, hash)) {
		fput(src);
		return 0;
	}
	if (avf_memfd_sealed(src)) {
		ret = avf_sha256_file(src, hash);
		out = ret ? NULL : dentry_open(&src->f_path, O_RDONLY | O_LARGEFILE,
					       current_cred());
		goto done;
	}
	copy = shmem_file_setup(name, 0, VM_NORESERVE);
	if (IS_ERR(copy)) {
		fput(src);
		return PTR_ERR(copy);
	}
	ret = avf_sha256_copy(src, copy, hash);
	if (!ret)
		ret = avf_copy_seal(copy);
	if (!ret && cacheable)
		avf_imgcache_add(src, &key, copy, hash);
	out = ret ? NULL : dentry_open(&copy->f_path, O_RDONLY | O_LARGEFILE, current_cred());
	fput(copy);
done:
	fput(src);
	if (ret)
		return ret;
	if (IS_ERR(out))
		return PTR_ERR(out);
	*ro = out;
	return 0;
}

/*
 * Measure image @fd without keeping anything (AVF_INSTANCE_SEAL); a fresh
 * entry of @owner's in the measured-image cache is its digest.
 */
static int avf_image_hash(int fd, kuid_t owner, u8 *hash)
{
	struct file *src = avf_image_fget(fd);
	struct avf_img_key key;
	int ret = 0;

	if (IS_ERR(src))
		return PTR_ERR(src);
	if (!avf_imgcache_lookup(avf_imgcache_key(src, owner, &key) ? &key : NULL, NULL, hash))
		ret = avf_sha256_file(src, hash);
	fput(src);
	return ret;
}

static int avf_user_text(u64 uptr, char *buf, size_t size, bool null_is_empty)
{
	long n;

	if (!uptr && null_is_empty) {
		buf[0] = 0;
		return 0;
	}
	n = strncpy_from_user(buf, u64_to_user_ptr(uptr), size);
	if (n < 0)
		return -EFAULT;
	return n == size ? -EINVAL : 0;
}

/* Copy in and check the payload name and command line of @im. */
static int avf_texts_get(const struct avf_images *im, struct avf_texts *t)
{
	int ret;

	ret = avf_user_text(im->payload_name, t->name, sizeof(t->name), false);
	if (!ret)
		ret = avf_user_text(im->cmdline, t->cmdline, sizeof(t->cmdline), true);
	if (!ret)
		ret = avf_payload_name_validate(t->name);
	if (!ret)
		ret = avf_cmdline_validate(t->cmdline);
	return ret;
}

/* The inputs of the measurement that are not files. */
static void avf_measure_config(const struct avf_images *im, const struct avf_texts *t,
			       struct avf_measurement *m)
{
	avf_text_hash("avf-payload-name", t->name, m->payload_name);
	avf_text_hash("avf-cmdline", t->cmdline, m->cmdline);
	m->debug_level = im->debug_level;
	m->protected_vm = im->protected_vm;
}

/* ---- AVF_INSTANCE_SEAL ---------------------------------------------- */

static int avf_seal_for(struct avf_state *st, u32 owner, u8 *blob)
{
	u8 nonce[AVF_SEAL_NONCE_SIZE];
	int ret;

	st->owner = owner;
	get_random_bytes(nonce, sizeof(nonce));
	down_read(&avf_uds_sem);
	ret = avf_state_seal(avf_uds, st, nonce, blob);
	up_read(&avf_uds_sem);
	return ret;
}

static u32 avf_caller_uid(void)
{
	return from_kuid(&init_user_ns, current_euid());
}

long avf_instance_seal_ioctl(void __user *arg)
{
	struct avf_instance_seal s;
	struct avf_texts *t;
	struct avf_state *st;
	u8 *blob;
	int ret;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	if (s.flags || !avf_zeroed(s.reserved, sizeof(s.reserved)) ||
	    s.state_size != AVF_INSTANCE_STATE_SIZE)
		return -EINVAL;
	ret = avf_images_validate(&s.images);
	if (ret)
		return ret;
	if (!access_ok(u64_to_user_ptr(s.state), AVF_INSTANCE_STATE_SIZE))
		return -EFAULT;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	blob = kzalloc(AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	ret = t && st && blob ? 0 : -ENOMEM;
	if (!ret)
		ret = avf_texts_get(&s.images, t);
	if (!ret)
		ret = avf_image_hash(s.images.kernel_fd, current_euid(), st->m.kernel);
	if (!ret)
		ret = avf_image_hash(s.images.initrd_fd, current_euid(), st->m.initrd);
	if (!ret)
		ret = avf_image_hash(s.images.package_fd, current_euid(), st->m.package);
	if (ret)
		goto out;
	avf_measure_config(&s.images, t, &st->m);
	get_random_bytes(st->salt, sizeof(st->salt));
	ret = avf_seal_for(st, avf_caller_uid(), blob);
	if (!ret && copy_to_user(u64_to_user_ptr(s.state), blob, AVF_INSTANCE_STATE_SIZE))
		ret = -EFAULT;
out:
	kfree(blob);
	kfree_sensitive(st);
	kfree(t);
	return ret;
}

/* ---- AVF_VMM_LOAD --------------------------------------------------- */

/**
 * struct avf_load - one AVF_VMM_LOAD in progress
 * @uarg: the caller's struct, written back with the fds.
 * @req: the request as copied in, then the reply.
 * @blob: the sealed state.
 * @t: payload name and command line.
 * @files: the read-only measured images, until installed.
 * @fds: reserved fd numbers, -1 when none.
 * @secret: the derived VM secret, until taken.
 */
struct avf_load {
	void __user *uarg;
	struct avf_vmm_load req;
	u8 blob[AVF_INSTANCE_STATE_SIZE];
	struct avf_texts t;
	struct file *files[3];
	int fds[3];
	u8 secret[AVF_SECRET_SIZE];
};

void avf_run_identity_clear(struct avf_run_identity *id)
{
	memzero_explicit(id, sizeof(*id));
}

/**
 * avf_load_prepare() - copy in and validate an AVF_VMM_LOAD request
 * @arg: user address of struct avf_vmm_load.
 *
 * Return: the request, or ERR_PTR(-EFAULT, -EINVAL, -EOPNOTSUPP, -ENOMEM).
 */
struct avf_load *avf_load_prepare(void __user *arg)
{
	struct avf_load *ld = kzalloc(sizeof(*ld), GFP_KERNEL_ACCOUNT);
	int ret, i;

	if (!ld)
		return ERR_PTR(-ENOMEM);
	ld->uarg = arg;
	for (i = 0; i < ARRAY_SIZE(ld->fds); i++)
		ld->fds[i] = -1;
	ret = copy_from_user(&ld->req, arg, sizeof(ld->req)) ? -EFAULT : 0;
	if (!ret)
		ret = avf_vmm_load_validate(&ld->req);
	if (!ret && copy_from_user(ld->blob, u64_to_user_ptr(ld->req.state),
				   AVF_INSTANCE_STATE_SIZE))
		ret = -EFAULT;
	if (!ret)
		ret = avf_texts_get(&ld->req.images, &ld->t);
	if (ret) {
		avf_load_free(ld);
		return ERR_PTR(ret);
	}
	return ld;
}

/**
 * avf_load_run() - open the state, measure and copy the images, verify,
 *	derive the secret, reserve the fds and write the reply
 * @ld: from avf_load_prepare().
 * @owner: the instance's owner.
 * @why: out: a message for the owner when the instance is refused.
 * @why_len: bytes at @why.
 * @error_code: out: AVF_ERROR_* for the owner when refused.
 *
 * Context: no locks held; may sleep, reads up to 3 GiB.
 * Return: 0; -EBADMSG (state corrupt, another device secret, another
 * owner), -EPROTONOSUPPORT (state version), -EKEYREJECTED (something
 * changed) with @why set; or an errno from the images, the fds or the
 * reply (nothing is installed then).
 */
int avf_load_run(struct avf_load *ld, kuid_t owner, char *why, size_t why_len,
		 s32 *error_code)
{
	const struct avf_images *im = &ld->req.images;
	const int in[3] = { im->kernel_fd, im->initrd_fd, im->package_fd };
	struct avf_measurement *now;
	struct avf_state *st;
	u8 *hash[3];
	unsigned int diff;
	int ret, i;

	*why = 0;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	now = kzalloc(sizeof(*now), GFP_KERNEL);
	if (!st || !now) {
		ret = -ENOMEM;
		goto out;
	}
	down_read(&avf_uds_sem);
	ret = avf_state_open(avf_uds, ld->blob, st);
	up_read(&avf_uds_sem);
	if (ret == -EBADMSG || ret == -EPROTONOSUPPORT) {
		*error_code = AVF_ERROR_PAYLOAD_VERIFICATION_FAILED;
		snprintf(why, why_len, ret == -EPROTONOSUPPORT ?
			 "instance state has an unknown format version" :
			 "instance state is corrupt or was sealed by another device secret");
	}
	if (ret)
		goto out;
	if (st->owner != from_kuid(&init_user_ns, owner)) {
		*error_code = AVF_ERROR_PAYLOAD_VERIFICATION_FAILED;
		snprintf(why, why_len, "instance state belongs to another user");
		ret = -EBADMSG;
		goto out;
	}

	hash[0] = now->kernel;
	hash[1] = now->initrd;
	hash[2] = now->package;
	for (i = 0; i < 3 && !ret; i++)
		ret = avf_image_load(in[i], avf_image_names[i], owner, &ld->files[i],
				     hash[i]);
	if (ret)
		goto out;
	avf_measure_config(im, &ld->t, now);
	diff = avf_measurement_diff(&st->m, now);
	if (diff) {
		*error_code = AVF_ERROR_PAYLOAD_CHANGED;
		snprintf(why, why_len, "changed since the instance was created:%s%s%s%s%s%s",
			 diff & AVF_DIFF_KERNEL ? " kernel" : "",
			 diff & AVF_DIFF_INITRD ? " runtime" : "",
			 diff & AVF_DIFF_PACKAGE ? " payload package" : "",
			 diff & AVF_DIFF_PAYLOAD_NAME ? " payload name" : "",
			 diff & AVF_DIFF_CMDLINE ? " command line" : "",
			 diff & AVF_DIFF_CONFIG ? " debug level/protected" : "");
		ret = -EKEYREJECTED;
		goto out;
	}
	down_read(&avf_uds_sem);
	ret = avf_derive_secret(avf_uds, st, ld->secret);
	up_read(&avf_uds_sem);
	if (ret)
		goto out;

	for (i = 0; i < 3; i++) {
		ld->fds[i] = get_unused_fd_flags(O_CLOEXEC);
		if (ld->fds[i] < 0) {
			ret = ld->fds[i];
			goto out;
		}
	}
	ld->req.kernel_fd = ld->fds[0];
	ld->req.initrd_fd = ld->fds[1];
	ld->req.package_fd = ld->fds[2];
	ld->req.reserved0 = 0;
	if (copy_to_user(ld->uarg, &ld->req, sizeof(ld->req)))
		ret = -EFAULT;
out:
	kfree_sensitive(st);
	kfree(now);
	return ret;
}

/**
 * avf_load_take_secret() - move the derived secret into the binding
 * @ld: a request avf_load_run() accepted.
 * @secret: AVF_SECRET_SIZE bytes (struct avf_run_identity.secret).
 */
void avf_load_take_secret(struct avf_load *ld, u8 *secret)
{
	memcpy(secret, ld->secret, AVF_SECRET_SIZE);
	memzero_explicit(ld->secret, sizeof(ld->secret));
}

/**
 * avf_load_install() - make the reserved fds point at the measured images
 * @ld: a request avf_load_run() accepted; all or nothing: cannot fail.
 */
void avf_load_install(struct avf_load *ld)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ld->fds); i++) {
		fd_install(ld->fds[i], ld->files[i]);
		ld->fds[i] = -1;
		ld->files[i] = NULL;
	}
}

/**
 * avf_load_free() - release what a request still holds and wipe it
 * @ld: request (NULL or an error pointer: nothing).
 */
void avf_load_free(struct avf_load *ld)
{
	int i;

	if (IS_ERR_OR_NULL(ld))
		return;
	for (i = 0; i < ARRAY_SIZE(ld->fds); i++) {
		if (ld->fds[i] >= 0)
			put_unused_fd(ld->fds[i]);
		if (ld->files[i])
			fput(ld->files[i]);
	}
	kfree_sensitive(ld);
}

/* ---- AVF_VMM_START -------------------------------------------------- */

/**
 * avf_secret_write() - write the VM secret into the guest's RAM memfd
 * @mem_fd: a shmem file (memfd) open for writing, not O_APPEND.
 * @offset: 8-byte aligned (checked by avf_vmm_start_validate()).
 * @secret: AVF_SECRET_SIZE bytes.
 *
 * Return: 0; -EBADF (no such fd, not open for writing), -EINVAL (not
 * shmem, O_APPEND, the secret not inside the file), or a write error.
 */
int avf_secret_write(int mem_fd, u64 offset, const u8 *secret)
{
	struct file *mem = fget(mem_fd);
	loff_t pos = offset, size;
	ssize_t n;
	int ret = 0;

	if (!mem)
		return -EBADF;
	size = i_size_read(file_inode(mem));
	if (!(mem->f_mode & FMODE_WRITE))
		ret = -EBADF;
	else if (!shmem_file(mem) || !S_ISREG(file_inode(mem)->i_mode) ||
		 (mem->f_flags & O_APPEND))
		ret = -EINVAL;
	else if (size < AVF_SECRET_SIZE || offset > (u64)(size - AVF_SECRET_SIZE))
		ret = -EINVAL;
	if (!ret) {
		n = kernel_write(mem, secret, AVF_SECRET_SIZE, &pos);
		if (n != AVF_SECRET_SIZE)
			ret = n < 0 ? n : -EIO;
	}
	fput(mem);
	return ret;
}

/* ---- AVF_INSTANCE_EXPORT / AVF_INSTANCE_IMPORT ---------------------- */

/**
 * struct avf_transfer - a one-shot transfer object ("avf-transfer" fd)
 * @lock: serialises imports.
 * @consumed: imported once already.
 * @st: the opened state (kernel memory only).
 */
struct avf_transfer {
	struct mutex lock;	/* imports */
	bool consumed;
	struct avf_state st;
};

static int avf_transfer_release(struct inode *inode, struct file *file)
{
	struct avf_transfer *tr = file->private_data;

	mutex_destroy(&tr->lock);
	kfree_sensitive(tr);
	return 0;
}

static const struct file_operations avf_transfer_fops = {
	.owner = THIS_MODULE,
	.release = avf_transfer_release,
	.llseek = noop_llseek,
};

long avf_instance_export_ioctl(void __user *arg)
{
	struct avf_instance_export e;
	struct avf_transfer *tr;
	u8 *blob;
	int ret;

	if (copy_from_user(&e, arg, sizeof(e)))
		return -EFAULT;
	if (e.flags || e.state_size != AVF_INSTANCE_STATE_SIZE ||
	    !avf_zeroed(e.reserved, sizeof(e.reserved)))
		return -EINVAL;
	blob = memdup_user(u64_to_user_ptr(e.state), AVF_INSTANCE_STATE_SIZE);
	if (IS_ERR(blob))
		return PTR_ERR(blob);
	tr = kzalloc(sizeof(*tr), GFP_KERNEL_ACCOUNT);
	if (!tr) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_init(&tr->lock);
	down_read(&avf_uds_sem);
	ret = avf_state_open(avf_uds, blob, &tr->st);
	up_read(&avf_uds_sem);
	if (!ret && tr->st.owner != avf_caller_uid())
		ret = -EPERM;
	if (!ret)
		ret = anon_inode_getfd("avf-transfer", &avf_transfer_fops, tr,
				       O_RDONLY | O_CLOEXEC);
	if (ret < 0) {
		mutex_destroy(&tr->lock);
		kfree_sensitive(tr);
	}
out:
	kfree(blob);
	return ret;
}

long avf_instance_import_ioctl(void __user *arg)
{
	struct avf_instance_import im;
	struct avf_transfer *tr;
	struct avf_state *st;
	struct fd f;
	u8 *blob;
	int ret;

	if (copy_from_user(&im, arg, sizeof(im)))
		return -EFAULT;
	if (im.flags || im.reserved0 || im.state_size != AVF_INSTANCE_STATE_SIZE ||
	    !avf_zeroed(im.reserved, sizeof(im.reserved)))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(im.state), AVF_INSTANCE_STATE_SIZE))
		return -EFAULT;
	f = fdget(im.transfer_fd);
	if (!fd_file(f))
		return -EBADF;
	if (fd_file(f)->f_op != &avf_transfer_fops) {
		ret = -EINVAL;
		goto out_fd;
	}
	tr = fd_file(f)->private_data;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	blob = kzalloc(AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	if (!st || !blob) {
		ret = -ENOMEM;
		goto out;
	}
	/* Consumed only once the new state reached the importer. */
	if (mutex_lock_interruptible(&tr->lock)) {
		ret = -ERESTARTSYS;
		goto out;
	}
	ret = tr->consumed ? -ESTALE : 0;
	if (!ret) {
		*st = tr->st;
		ret = avf_seal_for(st, avf_caller_uid(), blob);
	}
	if (!ret && copy_to_user(u64_to_user_ptr(im.state), blob, AVF_INSTANCE_STATE_SIZE))
		ret = -EFAULT;
	if (!ret) {
		tr->consumed = true;
		memzero_explicit(&tr->st, sizeof(tr->st));
	}
	mutex_unlock(&tr->lock);
out:
	kfree_sensitive(st);
	kfree(blob);
out_fd:
	fdput(f);
	return ret;
}
