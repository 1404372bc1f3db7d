/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM configuration tree handed to the guest as /avf/config.dtb
 * (binding: dts/, property list: Documentation/interfaces.rst).
 */
#ifndef AVF_VMM_CONFIG_FDT_H
#define AVF_VMM_CONFIG_FDT_H

#include <stddef.h>
#include <stdint.h>

#define AVF_CONFIG_COMPATIBLE	"avf,vm-config-v1"
#define AVF_CONFIG_FDT_MAX	4096

struct vm_config {
	const char *payload;
	uint32_t debug_level;	/* 0 none, 1 full */
	uint32_t protected_vm;
	uint32_t cid;
	uint32_t memory_mib;
	uint32_t cpus;
	uint32_t storage;	/* 0/1 */
	uint32_t new_instance;	/* 0/1: first boot of this instance */
};

/* Build the tree into @buf (AVF_CONFIG_FDT_MAX bytes); returns its size or -errno. */
int config_fdt_build(const struct vm_config *cfg, void *buf, size_t cap);

#endif
