// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include <libfdt.h>

#include "config_fdt.h"

int config_fdt_build(const struct vm_config *cfg, void *buf, size_t cap)
{
	int err;

	if (!cfg->payload || cap > INT32_MAX)
		return -EINVAL;
	err = fdt_create(buf, (int)cap);
	err = err ?: fdt_finish_reservemap(buf);
	err = err ?: fdt_begin_node(buf, "");
	err = err ?: fdt_property_u32(buf, "#address-cells", 1);
	err = err ?: fdt_property_u32(buf, "#size-cells", 0);
	err = err ?: fdt_begin_node(buf, "avf");
	err = err ?: fdt_property_string(buf, "compatible", AVF_CONFIG_COMPATIBLE);
	err = err ?: fdt_property_string(buf, "payload-binary-name", cfg->payload);
	err = err ?: fdt_property_u32(buf, "debug-level", cfg->debug_level);
	err = err ?: fdt_property_u32(buf, "protected", cfg->protected_vm);
	err = err ?: fdt_property_u32(buf, "cid", cfg->cid);
	err = err ?: fdt_property_u32(buf, "memory-mib", cfg->memory_mib);
	err = err ?: fdt_property_u32(buf, "cpus", cfg->cpus);
	err = err ?: fdt_property_u32(buf, "storage", cfg->storage);
	err = err ?: fdt_property_u32(buf, "new-instance", cfg->new_instance);
	err = err ?: fdt_end_node(buf);
	err = err ?: fdt_end_node(buf);
	err = err ?: fdt_finish(buf);
	if (err)
		return -ENOSPC;
	return (int)fdt_totalsize(buf);
}
