/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM configuration tree (/avf/config.dtb in the guest; binding in
 * dts/avf-config.rst): its property names, the writer avf-vmm and
 * avf-mkconfig use, and the parser the guest runtime uses, in one place.
 * The guest trusts nothing in it: the parser checks every property.
 */
#ifndef AVF_COMMON_VMCFG_H
#define AVF_COMMON_VMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/avf.h>

#define AVF_VMCFG_COMPATIBLE	"avf,vm-config-v1"
#define AVF_VMCFG_NODE		"avf"		/* /avf */
#define AVF_VMCFG_PATH		"avf/config.dtb"	/* in the config archive */
#define AVF_VMCFG_SECRET_PATH	"avf/secret"	/* the VM secret, 32 bytes */

#define AVF_VMCFG_P_COMPATIBLE	"compatible"
#define AVF_VMCFG_P_PAYLOAD	"payload-binary-name"
#define AVF_VMCFG_P_DEBUG	"debug-level"
#define AVF_VMCFG_P_PROTECTED	"protected"
#define AVF_VMCFG_P_CID		"cid"
#define AVF_VMCFG_P_MEMORY	"memory-mib"
#define AVF_VMCFG_P_CPUS	"cpus"
#define AVF_VMCFG_P_STORAGE	"storage"
#define AVF_VMCFG_P_NEW_INSTANCE "new-instance"	/* optional */

#define AVF_VMCFG_BUILD_MAX	4096		/* a written tree fits */
#define AVF_VMCFG_MAX_SIZE	(64u * 1024u)	/* largest tree the guest reads */
#define AVF_VMCFG_CPUS_MAX	256

/**
 * struct avf_vmcfg - the contents of the tree
 * @payload_name: payload binary name (lib/x86_64/NAME in the package).
 * @debug_level: AVF_DEBUG_*.
 * @protected_vm: 0 or 1.
 * @cid: the guest's vsock CID.
 * @memory_mib: guest RAM.
 * @cpus: vCPUs.
 * @storage: 0/1: an encrypted-storage disk is attached.
 * @new_instance_set: the optional new-instance property is present.
 * @new_instance: 0/1: first boot of this instance.
 */
struct avf_vmcfg {
	char payload_name[AVF_PAYLOAD_NAME_MAX];
	uint32_t debug_level;
	uint32_t protected_vm;
	uint32_t cid;
	uint32_t memory_mib;
	uint32_t cpus;
	uint32_t storage;
	bool new_instance_set;
	uint32_t new_instance;
};

/* true when @name (@len bytes, no NUL) is an acceptable payload binary name */
bool avf_vmcfg_payload_name_valid(const char *name, size_t len);

/*
 * Write @cfg as a flattened tree into @buf (@cap bytes; AVF_VMCFG_BUILD_MAX
 * is enough). Values are written as given: validation is the reader's.
 * Returns the tree's size or -errno.
 */
int avf_vmcfg_build(const struct avf_vmcfg *cfg, void *buf, size_t cap);

/*
 * Parse and validate the blob @buf of @size bytes into @cfg.
 * Returns 0, or -1 with a reason in @err (always NUL-terminated).
 */
int avf_vmcfg_parse(const void *buf, size_t size, struct avf_vmcfg *cfg,
		    char *err, size_t errlen);

#endif
