// SPDX-License-Identifier: GPL-2.0
/*
 * Example payload: writes 100 MiB (avf_flood.mib=N) of a known pattern to its log (stdout,
 * hvc1) and returns 0. Byte i is 'A' + (i + (i >> 12)) % 26: printable, no
 * newline, and a lost or repeated block shows. With output capture and
 * nobody reading, its writes block in the guest's virtio-console driver
 * until the host drains the log (selftests/vm: payload_log_backpressure).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm_payload.h"

/* avf_flood.mib=N on the kernel command line changes the size. */
static uint64_t flood_bytes(void)
{
	char line[4096], *p;
	uint64_t mib = 100;
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (fgets(line, sizeof(line), f)) {
			p = strstr(line, "avf_flood.mib=");
			if (p)
				mib = strtoull(p + strlen("avf_flood.mib="), NULL, 10);
		}
		fclose(f);
	}
	return mib << 20;
}

/* 'A' + j % 26 for j < 4096 + 26: block b is cycle[(b * 4097) % 26 ...]. */
static char cycle[4096 + 26];

int AVmPayload_main(void)
{
	static char buf[64 * 1024];
	const uint64_t FLOOD_BYTES = flood_bytes();
	uint64_t off = 0;
	size_t i;

	for (i = 0; i < sizeof(cycle); i++)
		cycle[i] = (char)('A' + i % 26);
	while (off < FLOOD_BYTES) {
		size_t n = sizeof(buf);
		ssize_t w;

		if (n > FLOOD_BYTES - off)
			n = FLOOD_BYTES - off;
		for (i = 0; i < n; i += 4096) {	/* off is 4 KiB aligned */
			uint64_t b = (off + i) >> 12;

			memcpy(buf + i, cycle + (b * 4097) % 26, 4096);
		}
		for (i = 0; i < n; i += (size_t)w) {
			w = write(STDOUT_FILENO, buf + i, n - i);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return 1;
		}
		off += n;
	}
	return 0;
}
