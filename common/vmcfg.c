// SPDX-License-Identifier: GPL-2.0
/* The VM configuration tree with libfdt: writer, and a parser that trusts nothing. */
#include "vmcfg.h"

#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

bool avf_vmcfg_payload_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > AVF_PAYLOAD_NAME_MAX - 1)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x21 || c > 0x7e || c == '/' || c == '\\')
			return false;
	}
	return true;
}

static int get_u32(const void *fdt, int node, const char *name, uint32_t *val,
		   char *err, size_t errlen)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return fail(err, errlen, "config: missing property /avf/%s", name);
	if (len != (int)sizeof(*p))
		return fail(err, errlen, "config: /avf/%s must be one u32 cell (got %d bytes)",
			    name, len);
	*val = fdt32_ld(p);
	return 0;
}

static int get_string(const void *fdt, int node, const char *name, const char **val,
		      size_t *slen, char *err, size_t errlen)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return fail(err, errlen, "config: missing property /avf/%s", name);
	if (len < 1 || p[len - 1] != '\0' || memchr(p, '\0', len) != p + len - 1)
		return fail(err, errlen, "config: /avf/%s must be one NUL-terminated string",
			    name);
	*val = p;
	*slen = (size_t)len - 1;
	return 0;
}

int avf_vmcfg_parse(const void *buf, size_t size, struct avf_vmcfg *cfg,
		    char *err, size_t errlen)
{
	const char *s;
	size_t slen;
	int node, rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	if (!buf || size < sizeof(struct fdt_header))
		return fail(err, errlen, "config: too small for a device tree (%zu bytes)", size);
	if (size > AVF_VMCFG_MAX_SIZE)
		return fail(err, errlen, "config: too large (%zu bytes)", size);
	/* fdt_check_full() may not touch bytes outside the buffer it was given */
	rc = fdt_check_header(buf);
	if (rc)
		return fail(err, errlen, "config: bad header: %s", fdt_strerror(rc));
	if (fdt_totalsize(buf) > size)
		return fail(err, errlen, "config: truncated (totalsize %u > %zu)",
			    fdt_totalsize(buf), size);
	rc = fdt_check_full(buf, size);
	if (rc)
		return fail(err, errlen, "config: malformed device tree: %s", fdt_strerror(rc));

	node = fdt_path_offset(buf, "/" AVF_VMCFG_NODE);
	if (node < 0)
		return fail(err, errlen, "config: no /avf node");
	if (get_string(buf, node, AVF_VMCFG_P_COMPATIBLE, &s, &slen, err, errlen))
		return -1;
	if (strcmp(s, AVF_VMCFG_COMPATIBLE))
		return fail(err, errlen, "config: /avf is not compatible with %s",
			    AVF_VMCFG_COMPATIBLE);

	if (get_string(buf, node, AVF_VMCFG_P_PAYLOAD, &s, &slen, err, errlen))
		return -1;
	if (!avf_vmcfg_payload_name_valid(s, slen))
		return fail(err, errlen, "config: invalid payload-binary-name");
	memcpy(cfg->payload_name, s, slen + 1);

	if (get_u32(buf, node, AVF_VMCFG_P_DEBUG, &cfg->debug_level, err, errlen) ||
	    get_u32(buf, node, AVF_VMCFG_P_PROTECTED, &cfg->protected_vm, err, errlen) ||
	    get_u32(buf, node, AVF_VMCFG_P_CID, &cfg->cid, err, errlen) ||
	    get_u32(buf, node, AVF_VMCFG_P_MEMORY, &cfg->memory_mib, err, errlen) ||
	    get_u32(buf, node, AVF_VMCFG_P_CPUS, &cfg->cpus, err, errlen) ||
	    get_u32(buf, node, AVF_VMCFG_P_STORAGE, &cfg->storage, err, errlen))
		return -1;

	if (fdt_getprop(buf, node, AVF_VMCFG_P_NEW_INSTANCE, NULL)) {
		if (get_u32(buf, node, AVF_VMCFG_P_NEW_INSTANCE, &cfg->new_instance, err, errlen))
			return -1;
		if (cfg->new_instance > 1)
			return fail(err, errlen, "config: new-instance %u out of range",
				    cfg->new_instance);
		cfg->new_instance_set = true;
	}

	if (cfg->debug_level > 1)
		return fail(err, errlen, "config: debug-level %u out of range", cfg->debug_level);
	if (cfg->protected_vm > 1)
		return fail(err, errlen, "config: protected %u out of range", cfg->protected_vm);
	if (cfg->cid < 3 || cfg->cid == UINT32_MAX)
		return fail(err, errlen, "config: cid %u out of range", cfg->cid);
	if (cfg->memory_mib < 1)
		return fail(err, errlen, "config: memory-mib must be at least 1");
	if (cfg->cpus < 1 || cfg->cpus > AVF_VMCFG_CPUS_MAX)
		return fail(err, errlen, "config: cpus %u out of range", cfg->cpus);
	if (cfg->storage > 1)
		return fail(err, errlen, "config: storage %u out of range", cfg->storage);
	return 0;
}

int avf_vmcfg_build(const struct avf_vmcfg *cfg, void *buf, size_t cap)
{
	int err;

	if (cap > INT32_MAX || !memchr(cfg->payload_name, 0, sizeof(cfg->payload_name)))
		return -EINVAL;
	err = fdt_create(buf, (int)cap);
	err = err ?: fdt_finish_reservemap(buf);
	err = err ?: fdt_begin_node(buf, "");
	err = err ?: fdt_property_u32(buf, "#address-cells", 1);
	err = err ?: fdt_property_u32(buf, "#size-cells", 0);
	err = err ?: fdt_begin_node(buf, AVF_VMCFG_NODE);
	err = err ?: fdt_property_string(buf, AVF_VMCFG_P_COMPATIBLE, AVF_VMCFG_COMPATIBLE);
	err = err ?: fdt_property_string(buf, AVF_VMCFG_P_PAYLOAD, cfg->payload_name);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_DEBUG, cfg->debug_level);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_PROTECTED, cfg->protected_vm);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_CID, cfg->cid);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_MEMORY, cfg->memory_mib);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_CPUS, cfg->cpus);
	err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_STORAGE, cfg->storage);
	if (cfg->new_instance_set)
		err = err ?: fdt_property_u32(buf, AVF_VMCFG_P_NEW_INSTANCE, cfg->new_instance);
	err = err ?: fdt_end_node(buf);
	err = err ?: fdt_end_node(buf);
	err = err ?: fdt_finish(buf);
	if (err)
		return -ENOSPC;
	return (int)fdt_totalsize(buf);
}
