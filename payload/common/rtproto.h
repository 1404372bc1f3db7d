/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protocol between libvm_payload and the guest runtime on the UNIX socket
 * AVF_RT_SOCK_PATH (SOCK_SEQPACKET, one datagram per message).
 *
 * Every message is a fixed 16-byte header followed by @len bytes of body.
 * A request carries @op and @status = 0; the reply echoes @op and carries
 * @status = 0 or a negative errno, followed by an op-specific body.
 * Unknown ops are answered with -ENOSYS, so a library newer than the
 * runtime fails cleanly. New ops get new numbers; existing ones never change.
 */
#ifndef AVF_RTPROTO_H
#define AVF_RTPROTO_H

#include <stdint.h>

#define AVF_RT_SOCK_DIR		"/run/avf"
#ifndef AVF_RT_SOCK_PATH	/* overridden only by host unit tests */
#define AVF_RT_SOCK_PATH	"/run/avf/runtime.sock"
#endif
#define AVF_RT_MAX_BODY		4096u

/* uid/gid the payload runs as */
#define AVF_PAYLOAD_UID		1000u
#define AVF_PAYLOAD_GID		1000u

#define AVF_APK_MOUNT		"/mnt/apk"

enum avf_rt_op {
	AVF_RT_OP_NOTIFY_READY	= 1,	/* no body; reply: no body */
	AVF_RT_OP_STORAGE_PATH	= 2,	/* no body; reply: path (no NUL), or -ENOENT */
	/*
	 * body: u32 size (1..32) + identifier (the rest, may be empty);
	 * reply: size bytes of HKDF-SHA-256(VM secret, "avf-payload-secret-v1",
	 * identifier), or -EINVAL (bad size), -ENOKEY (VM without identity)
	 */
	AVF_RT_OP_INSTANCE_SECRET = 3,
	AVF_RT_OP_IS_NEW_INSTANCE = 4,	/* no body; reply: u8 0/1, or -ENOSYS: unknown */
};

struct avf_rt_hdr {
	uint32_t op;
	int32_t status;
	uint32_t len;		/* body bytes that follow */
	uint32_t reserved;	/* 0 */
};

#define AVF_RT_MAX_MSG	(sizeof(struct avf_rt_hdr) + AVF_RT_MAX_BODY)

#endif /* AVF_RTPROTO_H */
