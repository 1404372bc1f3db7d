// SPDX-License-Identifier: GPL-2.0
/* Example payload: returns 7, reported as onPayloadFinished(7). */
#include <stdio.h>

#include "vm_payload.h"

int AVmPayload_main(void)
{
	printf("exit-code payload returning 7\n");
	return 7;
}
