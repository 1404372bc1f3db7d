// SPDX-License-Identifier: GPL-2.0
/* Example payload: says hello, tells the host it is ready, returns 0. */
#include <stdio.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	printf("hello from the avf payload; package contents at %s\n",
	       AVmPayload_getApkContentsPath());
	fflush(stdout);
	AVmPayload_notifyPayloadReady();
	AVmPayload_notifyPayloadReady();	/* later calls are no-ops */
	return 0;
}
