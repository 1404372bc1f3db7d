// SPDX-License-Identifier: GPL-2.0
/*
 * Instance identity: the device secret (UDS), measured images, the sealed
 * instance state and the DICE-style derivation of the VM secret.
 *
 *   UDS      from the logon key "avf:uds" (persistent) or random per load
 *   state    AES-256-GCM(key = HKDF(UDS, "avf instance seal v1",
 *            "vm-instance")) over { salt, measurement }, AAD = header
 *   CDI_1    HKDF(ikm = UDS, salt = SHA-256("avf-layer-os" || H(kernel)
 *            || H(initrd) || debug || protected), info = "CDI_Seal")
 *   CDI_2    HKDF(ikm = CDI_1, salt = SHA-256("avf-layer-payload" ||
 *            H(package) || instance salt), info = "CDI_Seal")
 *   secret   HKDF(ikm = CDI_2, salt = "avf-vm-secret", info = "") (32 bytes)
 *
 * Memory and CPU count are not inputs. The secret goes only into the
 * guest's memory (AVF_VMM_START); no ioctl returns it.
 */
#include <crypto/sha2.h>
#include <keys/user-type.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/key.h>
#include <linux/random.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <uapi/linux/fcntl.h>
#include "avf_internal.h"

static DECLARE_RWSEM(avf_uds_sem);
static u8 avf_uds[AVF_HASH_SIZE];	/* under avf_uds_sem */
static bool avf_uds_from_key;		/* under avf_uds_sem */

bool avf_uds_persistent(void)
{
	bool ret;

	down_read(&avf_uds_sem);
	ret = avf_uds_from_key;
	up_read(&avf_uds_sem);
	return ret;
}

/* Take the UDS from the logon key; -ENOKEY when there is none. */
static int avf_uds_from_keyring(void)
{
	static const u8 salt[] = "avf-uds";
	const struct user_key_payload *up;
	struct key *key;
	u8 uds[AVF_HASH_SIZE];
	int ret;

	key = request_key(&key_type_logon, AVF_UDS_KEY_DESC, NULL);
	if (IS_ERR(key))
		return PTR_ERR(key);
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
	key_put(key);
	if (ret)
		return ret;

	down_write(&avf_uds_sem);
	memcpy(avf_uds, uds, sizeof(uds));
	avf_uds_from_key = true;
	up_write(&avf_uds_sem);
	memzero_explicit(uds, sizeof(uds));
	return 0;
}

int avf_identity_init(void)
{
	int ret = avf_uds_from_keyring();

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

/* ---- pure parts: sealing and derivation ----------------------------- */

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
	memcpy(t, st->salt, AVF_HASH_SIZE);
	memcpy(t + 32, st->m.kernel, AVF_HASH_SIZE);
	memcpy(t + 64, st->m.initrd, AVF_HASH_SIZE);
	memcpy(t + 96, st->m.package, AVF_HASH_SIZE);
	put_unaligned_le32(st->m.debug_level, t + 128);
	put_unaligned_le32(st->m.protected_vm, t + 132);
}

/**
 * avf_state_seal() - build a sealed instance state blob
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
 * -EPROTONOSUPPORT for another format version.
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
	memcpy(st->salt, t, AVF_HASH_SIZE);
	memcpy(st->m.kernel, t + 32, AVF_HASH_SIZE);
	memcpy(st->m.initrd, t + 64, AVF_HASH_SIZE);
	memcpy(st->m.package, t + 96, AVF_HASH_SIZE);
	st->m.debug_level = get_unaligned_le32(t + 128);
	st->m.protected_vm = get_unaligned_le32(t + 132);
	if (!avf_zeroed(t + 136, AVF_STATE_TEXT_SIZE - 136) ||
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
 * @st: the instance's state (salt and the measurement to boot).
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
	};
	struct avf_buf pl[] = {
		{ pl_tag, sizeof(pl_tag) - 1 },
		{ st->m.package, AVF_HASH_SIZE },
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
	return d;
}
EXPORT_SYMBOL_IF_KUNIT(avf_measurement_diff);

/* ---- images --------------------------------------------------------- */

#define AVF_SEALS_NEEDED (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

/*
 * Take one image fd: readable regular file, unchangeable while held (a
 * fully sealed memfd, or write access denied as for exec), measured.
 */
static int avf_image_get(int fd, struct file **fp, bool *denied, u8 *hash)
{
	struct file *file = fget(fd);
	int ret;

	*denied = false;
	if (!file)
		return -EBADF;
	if (!(file->f_mode & FMODE_READ)) {
		ret = -EBADF;
		goto err;
	}
	if (!S_ISREG(file_inode(file)->i_mode)) {
		ret = -EINVAL;
		goto err;
	}
	if (shmem_mapping(file->f_mapping) &&
	    (SHMEM_I(file_inode(file))->seals & AVF_SEALS_NEEDED) == AVF_SEALS_NEEDED) {
		/* a sealed memfd: nobody can change it any more */
	} else if (file_inode(file)->i_sb->s_flags & SB_KERNMOUNT) {
		/*
		 * memfds live on an internal mount and do not count their
		 * writers in i_writecount, so deny_write_access() would not
		 * see them: only seals count there.
		 */
		ret = -ETXTBSY;
		goto err;
	} else {
		ret = deny_write_access(file);
		if (ret)
			goto err;
		*denied = true;
	}
	ret = avf_sha256_file(file, hash);
	if (ret)
		goto err;
	*fp = file;
	return 0;
err:
	if (*denied)
		allow_write_access(file);
	*denied = false;
	fput(file);
	return ret;
}

void avf_images_put(struct avf_held_images *h)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(h->files); i++) {
		if (!h->files[i])
			continue;
		if (h->denied[i])
			allow_write_access(h->files[i]);
		fput(h->files[i]);
		h->files[i] = NULL;
		h->denied[i] = false;
	}
}

static int avf_images_validate(const struct avf_images *im)
{
	if (!avf_zeroed(im->reserved, sizeof(im->reserved)))
		return -EINVAL;
	if (im->debug_level > AVF_DEBUG_FULL || im->protected_vm > 1)
		return -EINVAL;
	/* No backend isolates guest memory from the host: see capabilities. */
	if (im->protected_vm)
		return -EOPNOTSUPP;
	return 0;
}

static int avf_images_measure(const struct avf_images *im, struct avf_held_images *h,
			      struct avf_measurement *m)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = avf_image_get(im->kernel_fd, &h->files[0], &h->denied[0], m->kernel);
	if (!ret)
		ret = avf_image_get(im->initrd_fd, &h->files[1], &h->denied[1], m->initrd);
	if (!ret)
		ret = avf_image_get(im->package_fd, &h->files[2], &h->denied[2], m->package);
	if (ret) {
		avf_images_put(h);
		return ret;
	}
	m->debug_level = im->debug_level;
	m->protected_vm = im->protected_vm;
	return 0;
}

/* ---- ioctls --------------------------------------------------------- */

long avf_instance_seal_ioctl(void __user *arg)
{
	struct avf_held_images held = {};
	struct avf_instance_seal s;
	u8 nonce[AVF_SEAL_NONCE_SIZE];
	struct avf_state st;
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

	ret = avf_images_measure(&s.images, &held, &st.m);
	if (ret)
		return ret;
	avf_images_put(&held);	/* measured once; nothing boots from them here */

	blob = kzalloc(AVF_INSTANCE_STATE_SIZE, GFP_KERNEL);
	if (!blob)
		return -ENOMEM;
	get_random_bytes(st.salt, sizeof(st.salt));
	get_random_bytes(nonce, sizeof(nonce));
	down_read(&avf_uds_sem);
	ret = avf_state_seal(avf_uds, &st, nonce, blob);
	up_read(&avf_uds_sem);
	memzero_explicit(&st, sizeof(st));
	if (!ret && copy_to_user(u64_to_user_ptr(s.state), blob, AVF_INSTANCE_STATE_SIZE))
		ret = -EFAULT;
	kfree(blob);
	return ret;
}

static int avf_secret_write(int mem_fd, u64 offset, const u8 *secret)
{
	struct file *mem = fget(mem_fd);
	loff_t pos = offset;
	ssize_t n;
	int ret = 0;

	if (!mem)
		return -EBADF;
	if (!shmem_mapping(mem->f_mapping) || !(mem->f_mode & FMODE_WRITE))
		ret = -EINVAL;
	else if (offset > i_size_read(file_inode(mem)) - AVF_SECRET_SIZE ||
		 i_size_read(file_inode(mem)) < AVF_SECRET_SIZE)
		ret = -EINVAL;
	if (!ret) {
		n = kernel_write(mem, secret, AVF_SECRET_SIZE, &pos);
		if (n != AVF_SECRET_SIZE)
			ret = n < 0 ? n : -EIO;
	}
	fput(mem);
	return ret;
}

/**
 * avf_vmm_start_prepare() - measure, verify and hand over the secret
 * @images: what the run boots.
 * @s: the validated request.
 * @blob: the sealed state copied from userspace.
 * @held: out: the images, held until the run ends.
 * @secret: scratch for the secret (wiped by the caller).
 * @why: out: a message for the owner when the instance is refused.
 * @why_len: bytes at @why.
 * @error_code: out: AVF_ERROR_* for the owner when refused.
 *
 * Context: no locks held; may sleep and read files.
 * Return: 0; -EKEYREJECTED (payload changed), -EBADMSG /
 * -EPROTONOSUPPORT (state rejected), or an errno from the images.
 */
int avf_vmm_start_prepare(const struct avf_images *images,
			  const struct avf_vmm_start *s, const u8 *blob,
			  struct avf_held_images *held, u8 *secret,
			  char *why, size_t why_len, s32 *error_code)
{
	struct avf_measurement now;
	struct avf_state st;
	unsigned int diff;
	int ret;

	*why = 0;
	ret = avf_images_measure(images, held, &now);
	if (ret)
		return ret;

	down_read(&avf_uds_sem);
	ret = avf_state_open(avf_uds, blob, &st);
	up_read(&avf_uds_sem);
	if (ret) {
		*error_code = AVF_ERROR_PAYLOAD_VERIFICATION_FAILED;
		snprintf(why, why_len, ret == -EPROTONOSUPPORT ?
			 "instance state has an unknown format version" :
			 "instance state is corrupt or was sealed by another device secret");
		goto err;
	}
	diff = avf_measurement_diff(&st.m, &now);
	if (diff) {
		*error_code = AVF_ERROR_PAYLOAD_CHANGED;
		snprintf(why, why_len, "changed since the instance was created:%s%s%s%s",
			 diff & AVF_DIFF_KERNEL ? " kernel" : "",
			 diff & AVF_DIFF_INITRD ? " runtime" : "",
			 diff & AVF_DIFF_PACKAGE ? " payload package" : "",
			 diff & AVF_DIFF_CONFIG ? " debug level/protected" : "");
		ret = -EKEYREJECTED;
		goto err;
	}
	down_read(&avf_uds_sem);
	ret = avf_derive_secret(avf_uds, &st, secret);
	up_read(&avf_uds_sem);
	if (!ret)
		ret = avf_secret_write(s->mem_fd, s->secret_offset, secret);
	if (ret)
		goto err;
	memzero_explicit(&st, sizeof(st));
	return 0;
err:
	memzero_explicit(&st, sizeof(st));
	avf_images_put(held);
	return ret;
}
