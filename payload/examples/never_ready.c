// SPDX-License-Identifier: GPL-2.0
/* Example payload: never calls notifyPayloadReady, never returns. */
#include <stdio.h>
#include <unistd.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	printf("never-ready payload sleeping forever\n");
	fflush(stdout);
	for (;;)
		pause();
}
