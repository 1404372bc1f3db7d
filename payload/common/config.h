/* SPDX-License-Identifier: GPL-2.0 */
/* The VM configuration tree (dts/avf-config.rst): parsing and validation. */
#ifndef AVF_PAYLOAD_CONFIG_H
#define AVF_PAYLOAD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AVF_CONFIG_COMPATIBLE	"avf,vm-config-v1"
#define AVF_CONFIG_MAX_SIZE	(64u * 1024u)
#define AVF_PAYLOAD_NAME_MAX	255u

struct avf_config {
	char payload_name[AVF_PAYLOAD_NAME_MAX + 1];
	uint32_t debug_level;	/* 0 none, 1 full */
	uint32_t protected_vm;
	uint32_t cid;
	uint32_t memory_mib;
	uint32_t cpus;
	uint32_t storage;
	/* optional: absent from trees of VMMs without instance support */
	bool new_instance_set;
	uint32_t new_instance;
};

/* true when @name is an acceptable payload binary name */
bool avf_payload_name_valid(const char *name, size_t len);

/*
 * Parse and validate the blob @buf of @size bytes into @cfg.
 * Returns 0, or -1 with a reason in @err (always NUL-terminated).
 */
int avf_config_parse(const void *buf, size_t size, struct avf_config *cfg,
		     char *err, size_t errlen);

/* Read @path (at most AVF_CONFIG_MAX_SIZE) and parse it. */
int avf_config_load(const char *path, struct avf_config *cfg, char *err, size_t errlen);

#endif
