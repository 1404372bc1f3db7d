/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vm_payload.h - API available to a payload running in an avf VM.
 *
 * Names and signatures follow the VM Payload API of Android's
 * Virtualization Framework. A payload is a shared object in the app package
 * at lib/x86_64/<name>; the guest runtime dlopen()s it in a process running
 * as an unprivileged user and calls AVmPayload_main(). Link payloads with
 * -lvm_payload.
 */
#ifndef AVF_VM_PAYLOAD_H
#define AVF_VM_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Entry point, implemented by the payload. Returning ends the VM; the value
 * is reported to the host as the payload's exit code (onPayloadFinished).
 */
int AVmPayload_main(void);

/*
 * Tell the host that the payload is ready to serve (onPayloadReady). Only
 * the first call has an effect; later calls return at once.
 */
void AVmPayload_notifyPayloadReady(void);

/*
 * Path of the directory holding the app package's contents, mounted
 * read-only. Never NULL.
 */
const char *AVmPayload_getApkContentsPath(void);

/*
 * Mount point of the VM instance's encrypted storage ("/mnt/encryptedstore",
 * owned by the payload's uid), or NULL when the VM has none.
 */
const char *AVmPayload_getEncryptedStoragePath(void);

/*
 * Derive a secret of @size bytes (1..32) bound to this VM instance and to
 * @identifier: HKDF-SHA-256 of the VM secret, truncated to @size.
 * Deterministic per (instance, identifier); a shorter @size gives a prefix
 * of a longer one. Returns true on success. Returns false, leaving @secret
 * zeroed (when not NULL), and sets errno: EINVAL for @size 0 or above 32
 * (Android aborts there instead), a NULL buffer or an identifier above
 * 4092 bytes; ENOKEY when the VM runs without identity; ENOSYS with a
 * runtime that does not serve secrets.
 */
bool AVmPayload_getVmInstanceSecret(const void *identifier, size_t identifier_size,
				    void *secret, size_t size);

/*
 * true when this is the first boot of the VM instance. Returns false and
 * sets errno to ENOSYS when the guest cannot tell (the VM configuration
 * carries no new-instance); errno is left alone otherwise.
 */
bool AVmPayload_isNewInstance(void);

#ifdef __cplusplus
}
#endif

#endif /* AVF_VM_PAYLOAD_H */
