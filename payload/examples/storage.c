// SPDX-License-Identifier: GPL-2.0
/*
 * Example payload: keeps a marker file in the encrypted storage. The first
 * run writes it, later runs of the same instance read it back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm_payload.h"

#define MARKER "AVF-PLAINTEXT-MARKER-7f3a9c"

int AVmPayload_main(void)
{
	const char *dir = AVmPayload_getEncryptedStoragePath();
	char path[512], buf[256];
	ssize_t n = 0;
	int fd;

	if (!dir) {
		printf("storage-path: NONE\n");
		return 1;
	}
	printf("storage-path: %s\n", dir);
	snprintf(path, sizeof(path), "%s/marker.txt", dir);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	} else if (errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, MARKER, strlen(MARKER)) != (ssize_t)strlen(MARKER) ||
		    fsync(fd) || close(fd)) {
			printf("storage-error: write %s: %s\n", path, strerror(errno));
			return 1;
		}
	} else {
		printf("storage-error: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (n < 0) {
		printf("storage-error: read %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf[n] = '\0';
	printf("storage-content: %s\n", n ? buf : "EMPTY");
	fflush(stdout);
	AVmPayload_notifyPayloadReady();
	return 0;
}
