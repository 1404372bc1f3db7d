/* SPDX-License-Identifier: GPL-2.0 */
/* The runtime's side of the libvm_payload protocol (rtproto.h). */
#ifndef AVF_PAYLOAD_RTSERVER_H
#define AVF_PAYLOAD_RTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rtproto.h"

struct avf_rt_state {
	bool ready_sent;		/* READY went out on the control channel */
	const char *storage_path;	/* NULL: no encrypted storage */
	/* the 32-byte VM secret (AVF_VM_SECRET_SIZE), NULL: no identity */
	const unsigned char *vm_secret;
	bool new_instance_known;	/* the config tree said new-instance */
	bool new_instance;
};

/*
 * Handle the request datagram @req of @n bytes (as received, possibly
 * longer than AVF_RT_MAX_MSG when the sender was hostile). Writes the reply
 * datagram to @out (AVF_RT_MAX_MSG bytes) and returns its length, or -1
 * when the connection must be closed. Sets *@send_ready when READY must be
 * sent on the control channel now (first notify only).
 */
ssize_t avf_rt_handle(struct avf_rt_state *st, const void *req, size_t n,
		      void *out, bool *send_ready);

#endif
