// SPDX-License-Identifier: GPL-2.0
/* Example payload: dies of SIGSEGV after reporting ready. */
#include <stdio.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	volatile int *p = NULL;

	printf("crash payload about to write through NULL\n");
	fflush(stdout);
	AVmPayload_notifyPayloadReady();
	*p = 1;
	return 0;
}
