// SPDX-License-Identifier: GPL-2.0
/* avf-vmm: one process per running VM. See Documentation/vmm.rst. */
#include "cli.h"
#include "vmm.h"

int main(int argc, char **argv)
{
	struct vmm_opts opts;
	int ret = cli_parse(argc, argv, &opts);

	if (ret)
		return ret == 1 ? 0 : ret;
	return vmm_run(&opts);
}
