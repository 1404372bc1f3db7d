// SPDX-License-Identifier: GPL-2.0
/*
 * Example payload that never starts: its ELF constructor blocks while the
 * runtime is still loading it (dlopen), so the runtime never reports
 * PAYLOAD_STARTED and the VM is stopped with HANGUP when the boot timeout
 * expires.
 */
#include <unistd.h>

#include "vm_payload.h"

static void __attribute__((constructor)) stall_in_loader(void)
{
	for (;;)
		pause();
}

int AVmPayload_main(void)
{
	return 0;
}
