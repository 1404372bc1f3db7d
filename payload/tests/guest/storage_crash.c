// SPDX-License-Identifier: GPL-2.0
/*
 * Test payload: the runtime must flush and close the encrypted storage when
 * the payload dies by a signal. First boot: write a file without fsync and
 * crash. Next boot: print what the file holds.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	const char *dir = AVmPayload_getEncryptedStoragePath();
	char path[512], buf[128];
	ssize_t n;
	int fd;

	if (!dir)
		return 2;
	snprintf(path, sizeof(path), "%s/crash.txt", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		printf("crash-content: %s\n", buf);
		fflush(stdout);
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "written-before-crash", 20) != 20)
		return 3;
	/* no fsync, no close: the runtime's syncfs at the end must keep it */
	printf("crashing\n");
	fflush(stdout);
	AVmPayload_notifyPayloadReady();
	raise(SIGSEGV);
	return 4;
}
