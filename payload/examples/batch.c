// SPDX-License-Identifier: GPL-2.0
/*
 * Example payload: a batch job. It never calls notifyPayloadReady (it has
 * nothing to accept), works until the guest has been up for
 * avf_batch.seconds=N seconds (kernel command line; default 45) and
 * returns 42, reported as onPayloadFinished(42). The hang-up timer covers
 * boot only (up to PAYLOAD_STARTED), so it may work as long as it likes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm_payload.h"

static unsigned long wanted_seconds(void)
{
	char buf[4096], *p;
	unsigned long s = 45;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return s;
	if (fgets(buf, sizeof(buf), f)) {
		p = strstr(buf, "avf_batch.seconds=");
		if (p)
			s = strtoul(p + strlen("avf_batch.seconds="), NULL, 10);
	}
	fclose(f);
	return s;
}

int AVmPayload_main(void)
{
	unsigned long want = wanted_seconds();
	struct timespec now;

	printf("batch payload working until %lu s of guest uptime, not ready\n", want);
	fflush(stdout);
	for (;;) {
		/* CLOCK_BOOTTIME starts after the VMM armed its hang-up timer. */
		clock_gettime(CLOCK_BOOTTIME, &now);
		if ((unsigned long)now.tv_sec >= want)
			break;
		nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	}
	printf("batch payload done after %lu s\n", (unsigned long)now.tv_sec);
	return 42;
}
