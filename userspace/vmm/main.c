// SPDX-License-Identifier: GPL-2.0
/* avf-vmm: one process per running VM. See Documentation/vmm.rst. */
#include <malloc.h>
#include <stdio.h>

#include "cli.h"
#include "limits.h"
#include "log.h"
#include "startup.h"
#include "vmm.h"

int main(int argc, char **argv)
{
	struct vmm_opts opts;
	bool setid;
	int ret;

	vlog_stamp(VTS_EXEC);
	/*
	 * One malloc arena for every thread: they allocate only at set-up (each
	 * thread's seccomp filter, vsock host buffers), and an arena a thread
	 * would keep costs ~45 KiB of RSS each (Documentation/vmm.rst, "Memory").
	 */
	mallopt(M_ARENA_MAX, 1);
	/* Before anything the caller controls is looked at. */
	ret = startup_secure(&setid);
	if (ret)
		return ret;
	ret = cli_parse(argc, argv, &opts);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (setid && opts.standalone) {
		fputs("avf-vmm: --standalone: refused in a set-uid/set-gid avf-vmm (it would "
		      "open the caller's paths as the VMM user); run an avf-vmm that is not "
		      "set-uid\n", stderr);
		return EXIT_VMM_USAGE;
	}
	return vmm_run(&opts);
}
