// SPDX-License-Identifier: GPL-2.0
/*
 * Crypto helpers of avf.ko on the kernel crypto API: HMAC-SHA-256, HKDF
 * (RFC 5869), AES-256-GCM sealing, SHA-256 of a file. Known-answer tests
 * in tests/avf_kunit.c.
 */
#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "avf_internal.h"

/**
 * avf_hmac_sha256() - HMAC-SHA-256 over the concatenation of @n parts
 * @key: key.
 * @klen: key bytes.
 * @parts: data parts.
 * @n: number of parts.
 * @out: AVF_HASH_SIZE bytes.
 *
 * Return: 0 or a negative errno from the crypto API.
 */
VISIBLE_IF_KUNIT int avf_hmac_sha256(const u8 *key, size_t klen,
				     const struct avf_buf *parts, size_t n, u8 *out)
{
	struct crypto_shash *tfm;
	size_t i;
	int ret;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	ret = crypto_shash_setkey(tfm, key, klen);
	if (!ret) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		ret = crypto_shash_init(desc);
		for (i = 0; !ret && i < n; i++)
			ret = crypto_shash_update(desc, parts[i].p, parts[i].len);
		if (!ret)
			ret = crypto_shash_final(desc, out);
		shash_desc_zero(desc);
	}
	crypto_free_shash(tfm);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(avf_hmac_sha256);

/**
 * avf_hkdf_sha256() - HKDF-SHA-256 extract and expand (RFC 5869)
 * @salt: salt; NULL or empty means HashLen zero bytes.
 * @slen: salt bytes.
 * @ikm: input keying material.
 * @ilen: its bytes.
 * @info: context.
 * @info_len: its bytes.
 * @out: output keying material.
 * @olen: 1..255*AVF_HASH_SIZE bytes.
 *
 * Return: 0, -EINVAL for a bad @olen, or a crypto API error.
 */
VISIBLE_IF_KUNIT int avf_hkdf_sha256(const u8 *salt, size_t slen,
				     const u8 *ikm, size_t ilen,
				     const u8 *info, size_t info_len,
				     u8 *out, size_t olen)
{
	static const u8 zeros[AVF_HASH_SIZE];
	u8 prk[AVF_HASH_SIZE], t[AVF_HASH_SIZE];
	size_t done = 0, tlen = 0;
	u8 ctr = 1;
	int ret;

	if (!olen || olen > 255 * AVF_HASH_SIZE)
		return -EINVAL;
	if (!salt || !slen) {
		salt = zeros;
		slen = sizeof(zeros);
	}
	ret = avf_hmac_sha256(salt, slen,
			      &(struct avf_buf){ .p = ikm, .len = ilen }, 1, prk);
	while (!ret && done < olen) {
		struct avf_buf parts[] = {
			{ .p = t, .len = tlen },
			{ .p = info, .len = info_len },
			{ .p = &ctr, .len = 1 },
		};
		size_t take = min_t(size_t, olen - done, AVF_HASH_SIZE);

		ret = avf_hmac_sha256(prk, sizeof(prk), parts, ARRAY_SIZE(parts), t);
		if (ret)
			break;
		memcpy(out + done, t, take);
		done += take;
		tlen = AVF_HASH_SIZE;
		ctr++;
	}
	memzero_explicit(prk, sizeof(prk));
	memzero_explicit(t, sizeof(t));
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(avf_hkdf_sha256);

/*
 * AES-256-GCM over a kmalloc'ed buffer (scatterlists must not point at
 * the stack): @buf holds @aad_len bytes of AAD, then the text, then room
 * for the 16-byte tag.
 */
static int avf_gcm(bool enc, const u8 key[AVF_SEAL_KEY_SIZE],
		   const u8 nonce[AVF_SEAL_NONCE_SIZE], u8 *buf,
		   size_t aad_len, size_t text_len)
{
	struct crypto_aead *tfm;
	struct aead_request *req;
	struct scatterlist sg;
	u8 iv[AVF_SEAL_NONCE_SIZE];
	DECLARE_CRYPTO_WAIT(wait);
	int ret;

	tfm = crypto_alloc_aead("gcm(aes)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	ret = crypto_aead_setkey(tfm, key, AVF_SEAL_KEY_SIZE);
	if (!ret)
		ret = crypto_aead_setauthsize(tfm, AVF_SEAL_TAG_SIZE);
	if (ret)
		goto out_tfm;
	req = aead_request_alloc(tfm, GFP_KERNEL);
	if (!req) {
		ret = -ENOMEM;
		goto out_tfm;
	}
	memcpy(iv, nonce, sizeof(iv));
	sg_init_one(&sg, buf, aad_len + text_len + AVF_SEAL_TAG_SIZE);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP, crypto_req_done, &wait);
	aead_request_set_ad(req, aad_len);
	aead_request_set_crypt(req, &sg, &sg,
			       enc ? text_len : text_len + AVF_SEAL_TAG_SIZE, iv);
	ret = crypto_wait_req(enc ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req),
			      &wait);
	aead_request_free(req);
out_tfm:
	crypto_free_aead(tfm);
	return ret;
}

/**
 * avf_gcm_seal() - encrypt in place and append the tag
 * @key: AES-256 key.
 * @nonce: 12 bytes, never reused with @key.
 * @buf: AAD (@aad_len) || plaintext (@text_len) || room for the tag; must
 *	not be on the stack.
 * @aad_len: bytes of associated data.
 * @text_len: bytes to encrypt.
 */
VISIBLE_IF_KUNIT int avf_gcm_seal(const u8 *key, const u8 *nonce, u8 *buf,
				  size_t aad_len, size_t text_len)
{
	return avf_gcm(true, key, nonce, buf, aad_len, text_len);
}
EXPORT_SYMBOL_IF_KUNIT(avf_gcm_seal);

/**
 * avf_gcm_open() - check the tag and decrypt in place
 * @key: AES-256 key.
 * @nonce: 12 bytes.
 * @buf: AAD || ciphertext || tag, not on the stack.
 * @aad_len: bytes of associated data.
 * @text_len: bytes of ciphertext (without the tag).
 *
 * Return: 0, -EBADMSG when the tag does not match, or a crypto API error.
 */
VISIBLE_IF_KUNIT int avf_gcm_open(const u8 *key, const u8 *nonce, u8 *buf,
				  size_t aad_len, size_t text_len)
{
	return avf_gcm(false, key, nonce, buf, aad_len, text_len);
}
EXPORT_SYMBOL_IF_KUNIT(avf_gcm_open);

/**
 * avf_sha256_copy() - SHA-256 of a whole file, copying it as it is read
 * @src: a regular file open for reading; read from offset 0 to its end.
 * @dst: NULL, or a file open for writing that receives exactly the bytes
 *	hashed, from offset 0.
 * @out: AVF_HASH_SIZE bytes.
 *
 * One pass: every chunk is hashed and written from the same buffer, so
 * @dst holds exactly what @out measures even if @src changes meanwhile.
 *
 * Return: 0, -EFBIG above AVF_IMAGE_MAX bytes, -EINTR on a fatal signal,
 * -EIO on a short write, or a read or write error.
 */
int avf_sha256_copy(struct file *src, struct file *dst, u8 *out)
{
	loff_t pos = 0, wpos = 0;
	struct sha256_state sctx;
	size_t chunk = 64 * 1024;
	u8 *buf;
	int ret = 0;

	if (i_size_read(file_inode(src)) > AVF_IMAGE_MAX)
		return -EFBIG;
	buf = kvmalloc(chunk, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	sha256_init(&sctx);
	for (;;) {
		const struct cred *old;
		ssize_t n;

		/*
		 * Read with the credentials of whoever opened @src: a file whose
		 * read checks the reader (procfs) must not see the VMM's.
		 */
		old = override_creds(src->f_cred);
		n = kernel_read(src, buf, chunk, &pos);
		revert_creds(old);
		if (n <= 0) {
			ret = n;
			break;
		}
		if (pos > AVF_IMAGE_MAX) {
			ret = -EFBIG;	/* it grew while we read it */
			break;
		}
		sha256_update(&sctx, buf, n);
		if (dst) {
			ssize_t w = kernel_write(dst, buf, n, &wpos);

			if (w != n) {
				ret = w < 0 ? w : -EIO;
				break;
			}
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	sha256_final(&sctx, out);
	kvfree(buf);
	return ret;
}

/**
 * avf_sha256_file() - SHA-256 of a whole file, read through the kernel
 * @file: a regular file open for reading.
 * @out: AVF_HASH_SIZE bytes.
 *
 * Return: as avf_sha256_copy().
 */
int avf_sha256_file(struct file *file, u8 *out)
{
	return avf_sha256_copy(file, NULL, out);
}
