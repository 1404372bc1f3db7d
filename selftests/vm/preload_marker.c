// SPDX-License-Identifier: GPL-2.0
/*
 * An LD_PRELOAD library for vm_test's attack tests: when loaded it creates
 * the file named by $AVF_TEST_MARKER, before main() of the program runs.
 * The set-uid avf-vmm must never load it (secure-execution mode).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void avf_test_mark(void)
{
	const char *p = getenv("AVF_TEST_MARKER");
	int fd;

	if (!p)
		return;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}
