// SPDX-License-Identifier: GPL-2.0
/*
 * Test payload: listens on vsock port 5000, reports ready, echoes one
 * message from the host back, and returns 0 (1 on any failure).
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	struct sockaddr_vm a;
	char buf[256];
	ssize_t n;
	int s, c;

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.svm_family = AF_VSOCK;
	a.svm_port = 5000;
	a.svm_cid = VMADDR_CID_ANY;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		return 1;
	AVmPayload_notifyPayloadReady();
	c = accept(s, NULL, NULL);
	if (c < 0)
		return 1;
	n = read(c, buf, sizeof(buf));
	if (n <= 0 || write(c, buf, (size_t)n) != n)
		return 1;
	close(c);
	close(s);
	return 0;
}
