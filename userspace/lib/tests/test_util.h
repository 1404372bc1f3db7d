/* SPDX-License-Identifier: GPL-2.0 */
/* Shared helpers for libavf unit tests (kselftest harness, TAP output). */
#ifndef AVF_TEST_UTIL_H
#define AVF_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <avf/avf.h>
#include "internal.h"

/* A builder with the minimum a build() needs. */
static inline struct avf_config_builder *tu_builder(void)
{
	struct avf_config_builder *b = NULL;

	if (avf_config_builder_new(NULL, &b))
		return NULL;
	if (avf_config_builder_set_payload_binary_name(b, "hello.so") ||
	    avf_config_builder_set_apk_path(b, "/opt/apps/hello.zip") ||
	    avf_config_builder_set_protected_vm(b, false)) {
		avf_config_builder_free(b);
		return NULL;
	}
	return b;
}

static inline struct avf_config *tu_config(void)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;

	if (b && avf_config_builder_build(b, &c))
		c = NULL;
	avf_config_builder_free(b);
	return c;
}

#endif
