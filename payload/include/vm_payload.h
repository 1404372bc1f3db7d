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
#include <stdint.h>

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

/* protobuf-c's service object (<protobuf-c/protobuf-c.h>). */
struct ProtobufCService;

/*
 * Serve @service, a protobuf-c service (the generated FOO__INIT(prefix)
 * struct's .base, or any ProtobufCService), on vsock @port (1024 and up)
 * to the host: Documentation/rpc.rst. Calls @on_ready(@param), when not
 * NULL, once the port listens (typically to call
 * AVmPayload_notifyPayloadReady()). Accepts only connections from the
 * host (peer CID 2), up to 16 at once, each served by a thread of its own:
 * method handlers run concurrently for different clients and must be
 * thread-safe. Does not return on success; returns false and sets errno
 * when the port cannot be served (EINVAL for a NULL service or port below
 * 1024, EADDRINUSE, ...). Android takes an AIBinder here.
 */
bool AVmPayload_runVsockRpcServer(struct ProtobufCService *service, uint32_t port,
				  void (*on_ready)(void *param), void *param);

/*
 * From inside a method handler: fail the call with the application error
 * @code and @message (UTF-8, truncated to 1024 bytes; NULL for none); the
 * client gets AVF_RPC_APP_ERROR with both. @closure_data is the handler's
 * closure_data argument. The first result of a call counts: a later
 * closure() or AVmPayload_failRpcCall() is ignored. A handler that calls
 * closure(NULL, closure_data) without this fails with code 0.
 */
void AVmPayload_failRpcCall(void *closure_data, int32_t code, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* AVF_VM_PAYLOAD_H */
