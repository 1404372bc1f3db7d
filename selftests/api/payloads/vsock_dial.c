// SPDX-License-Identifier: GPL-2.0
/*
 * Test payload: a guest that tries to open connections itself. It listens
 * on vsock port 5000 and reports ready; the host connects and sends lines
 * "CID PORT\n"; for each the payload connect()s to that CID and port and
 * answers "CID PORT ERRNO\n" (0: the connection was made, which the
 * policy forbids). "end\n" makes it return 0; any failure returns 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "vm_payload.h"

static int dial(unsigned int cid, unsigned int port)
{
	/*
	 * Through the virtio-vsock device even for CIDs above the host's: a
	 * guest kernel that also has a host-side transport (vhost) would keep
	 * those local and fail with ENODEV; a hostile guest sends them anyway.
	 */
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port,
				 .svm_flags = cid > VMADDR_CID_HOST ? VMADDR_FLAG_TO_HOST : 0 };
	struct timeval tv = { .tv_sec = 10 };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0), err = 0;

	if (s < 0)
		return errno;
	/* an unanswered REQUEST would take the guest's default 2 s: make it 10 */
	setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		err = errno;
	close(s);
	return err;
}

int AVmPayload_main(void)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = 5000 };
	char line[128];
	FILE *in, *out;
	int s, c;

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		return 1;
	AVmPayload_notifyPayloadReady();
	c = accept(s, NULL, NULL);
	if (c < 0)
		return 1;
	in = fdopen(c, "r");
	out = fdopen(dup(c), "w");
	if (!in || !out)
		return 1;
	while (fgets(line, sizeof(line), in)) {
		unsigned int cid, port;

		if (!strcmp(line, "end\n"))
			return 0;
		if (sscanf(line, "%u %u", &cid, &port) != 2)
			return 1;
		fprintf(out, "%u %u %d\n", cid, port, dial(cid, port));
		fflush(out);
	}
	return 1;
}
