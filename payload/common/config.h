/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the VM configuration tree file (parser: common/vmcfg.h). */
#ifndef AVF_PAYLOAD_CONFIG_H
#define AVF_PAYLOAD_CONFIG_H

#include "vmcfg.h"

/* Read @path (at most AVF_VMCFG_MAX_SIZE) and parse it. */
int avf_config_load(const char *path, struct avf_vmcfg *cfg, char *err, size_t errlen);

#endif
