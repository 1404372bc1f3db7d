/* SPDX-License-Identifier: GPL-2.0 */
#ifndef AVF_VMM_VMM_H
#define AVF_VMM_VMM_H

#include "cli.h"

/*
 * Check and take the inherited descriptors, bind, boot, supervise and
 * report one run. Call after startup_secure() and cli_parse(). Returns the
 * process exit status.
 */
int vmm_run(const struct vmm_opts *o);

#endif
