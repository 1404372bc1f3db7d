// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachineConfig and its Builder: every rule of the real framework.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void config_clear(struct avf_config *c)
{
	free(c->payload_binary_name);
	free(c->apk_path);
	memset(c, 0, sizeof(*c));
}

static int config_copy(struct avf_config *dst, const struct avf_config *src)
{
	*dst = *src;
	dst->payload_binary_name = NULL;
	dst->apk_path = NULL;
	if (src->payload_binary_name &&
	    !(dst->payload_binary_name = strdup(src->payload_binary_name)))
		goto nomem;
	if (src->apk_path && !(dst->apk_path = strdup(src->apk_path)))
		goto nomem;
	return AVF_OK;
nomem:
	config_clear(dst);
	return AVF_E_NOMEM;
}

static int check_payload_name(const char *name, char *err)
{
	size_t len;

	if (!name) {
		avf__seterr(err, "payload binary name is NULL");
		return AVF_E_INVALID;
	}
	len = strlen(name);
	/* The module's limit (part of the identity): the UAPI counts the NUL. */
	if (len == 0 || len > AVF_PAYLOAD_NAME_MAX - 1) {
		avf__seterr(err, "payload binary name must be 1..%d bytes", AVF_PAYLOAD_NAME_MAX - 1);
		return AVF_E_INVALID;
	}
	if (strchr(name, '/')) {
		avf__seterr(err, "payload binary name must not contain '/': \"%s\"", name);
		return AVF_E_INVALID;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		avf__seterr(err, "payload binary name must not be \".\" or \"..\"");
		return AVF_E_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			avf__seterr(err, "payload binary name must be printable ASCII (the module "
					 "seals it into the identity)");
			return AVF_E_INVALID;
		}
	}
	return AVF_OK;
}

static int check_apk_path(const char *path, char *err)
{
	size_t len;

	if (!path) {
		avf__seterr(err, "apk path is NULL");
		return AVF_E_INVALID;
	}
	len = strlen(path);
	if (len == 0 || path[0] != '/') {
		avf__seterr(err, "apk path must be absolute: \"%s\"", path);
		return AVF_E_INVALID;
	}
	if (len >= AVF_PATH_MAX) {
		avf__seterr(err, "apk path is longer than %d bytes", AVF_PATH_MAX - 1);
		return AVF_E_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			avf__seterr(err, "apk path contains a control character");
			return AVF_E_INVALID;
		}
	}
	return AVF_OK;
}

static int round_memory(uint64_t bytes, uint64_t *out, char *err)
{
	if (bytes == 0) {
		avf__seterr(err, "memory bytes must be positive");
		return AVF_E_INVALID;
	}
	if (bytes > AVF_MEMORY_MAX_BYTES) {
		avf__seterr(err, "memory of %llu bytes exceeds the limit of %llu bytes",
			    (unsigned long long)bytes, (unsigned long long)AVF_MEMORY_MAX_BYTES);
		return AVF_E_INVALID;
	}
	*out = (bytes + AVF_MIB - 1) & ~(AVF_MIB - 1);
	return AVF_OK;
}

static int round_storage(uint64_t bytes, uint64_t *out, char *err)
{
	if (bytes == 0) {
		avf__seterr(err, "encrypted storage bytes must be positive");
		return AVF_E_INVALID;
	}
	if (bytes > AVF_STORAGE_MAX_BYTES) {
		avf__seterr(err, "encrypted storage of %llu bytes exceeds the limit of %llu bytes",
			    (unsigned long long)bytes, (unsigned long long)AVF_STORAGE_MAX_BYTES);
		return AVF_E_INVALID;
	}
	*out = (bytes + AVF_STORAGE_ALIGN - 1) & ~(AVF_STORAGE_ALIGN - 1);
	return AVF_OK;
}

/*
 * The rules between fields, shared by build() and the config file parser.
 * Protected-VM explicitness and host capabilities are the builder's.
 */
int avf__config_validate(const struct avf_config *c, char *err)
{
	uint64_t r;
	int ret;

	if (!c->payload_binary_name) {
		avf__seterr(err, "payload binary name is not set");
		return AVF_E_INVALID;
	}
	ret = check_payload_name(c->payload_binary_name, err);
	if (ret)
		return ret;
	if (!c->apk_path) {
		avf__seterr(err, "apk path is not set");
		return AVF_E_INVALID;
	}
	ret = check_apk_path(c->apk_path, err);
	if (ret)
		return ret;
	if (c->debug_level != AVF_DEBUG_LEVEL_NONE && c->debug_level != AVF_DEBUG_LEVEL_FULL) {
		avf__seterr(err, "invalid debug level %d", (int)c->debug_level);
		return AVF_E_INVALID;
	}
	if (c->cpu_topology != AVF_CPU_TOPOLOGY_ONE_CPU &&
	    c->cpu_topology != AVF_CPU_TOPOLOGY_MATCH_HOST) {
		avf__seterr(err, "invalid CPU topology %d", (int)c->cpu_topology);
		return AVF_E_INVALID;
	}
	if (c->memory_bytes) {
		ret = round_memory(c->memory_bytes, &r, err);
		if (ret)
			return ret;
		if (r != c->memory_bytes) {
			avf__seterr(err, "memory bytes %llu is not a whole MiB",
				    (unsigned long long)c->memory_bytes);
			return AVF_E_INVALID;
		}
	}
	if (c->encrypted_storage_bytes) {
		ret = round_storage(c->encrypted_storage_bytes, &r, err);
		if (ret)
			return ret;
		if (r != c->encrypted_storage_bytes) {
			avf__seterr(err, "encrypted storage bytes %llu is not a multiple of 4 KiB",
				    (unsigned long long)c->encrypted_storage_bytes);
			return AVF_E_INVALID;
		}
	}
	if (c->vm_output_captured && c->debug_level != AVF_DEBUG_LEVEL_FULL) {
		avf__seterr(err, "VM output capture requires debug level FULL");
		return AVF_E_INVALID;
	}
	return AVF_OK;
}

uint64_t avf__config_memory_mib(const struct avf_config *cfg)
{
	uint64_t b = cfg->memory_bytes ? cfg->memory_bytes : AVF_MEMORY_DEFAULT_BYTES;

	return b / AVF_MIB;
}

int avf_config_builder_new(struct avf_manager *mgr, struct avf_config_builder **out)
{
	struct avf_config_builder *b;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return AVF_E_NOMEM;
	b->cfg.debug_level = AVF_DEBUG_LEVEL_NONE;
	b->cfg.cpu_topology = AVF_CPU_TOPOLOGY_ONE_CPU;
	if (mgr) {
		b->have_caps = true;
		b->caps = mgr->caps.caps;
	}
	*out = b;
	return AVF_OK;
}

int avf_config_builder_from(const struct avf_config *cfg, struct avf_config_builder **out)
{
	struct avf_config_builder *b;
	int ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!cfg)
		return AVF_E_INVALID;
	b = calloc(1, sizeof(*b));
	if (!b)
		return AVF_E_NOMEM;
	ret = config_copy(&b->cfg, cfg);
	if (ret) {
		free(b);
		return ret;
	}
	b->protected_set = true;
	*out = b;
	return AVF_OK;
}

void avf__config_builder_set_caps(struct avf_config_builder *b, uint32_t caps)
{
	b->have_caps = true;
	b->caps = caps;
}

void avf_config_builder_free(struct avf_config_builder *b)
{
	if (!b)
		return;
	config_clear(&b->cfg);
	free(b);
}

const char *avf_config_builder_last_error(const struct avf_config_builder *b)
{
	return b ? b->err : "no builder";
}

static int set_string(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return AVF_E_NOMEM;
	free(*field);
	*field = s;
	return AVF_OK;
}

int avf_config_builder_set_payload_binary_name(struct avf_config_builder *b, const char *name)
{
	int ret;

	if (!b)
		return AVF_E_INVALID;
	ret = check_payload_name(name, b->err);
	return ret ? ret : set_string(&b->cfg.payload_binary_name, name);
}

int avf_config_builder_set_apk_path(struct avf_config_builder *b, const char *path)
{
	int ret;

	if (!b)
		return AVF_E_INVALID;
	ret = check_apk_path(path, b->err);
	return ret ? ret : set_string(&b->cfg.apk_path, path);
}

int avf_config_builder_set_debug_level(struct avf_config_builder *b, enum avf_debug_level level)
{
	if (!b)
		return AVF_E_INVALID;
	if (level != AVF_DEBUG_LEVEL_NONE && level != AVF_DEBUG_LEVEL_FULL) {
		avf__seterr(b->err, "invalid debug level %d (NONE=0, FULL=1)", (int)level);
		return AVF_E_INVALID;
	}
	b->cfg.debug_level = level;
	return AVF_OK;
}

int avf_config_builder_set_protected_vm(struct avf_config_builder *b, bool protected_vm)
{
	if (!b)
		return AVF_E_INVALID;
	b->cfg.protected_vm = protected_vm;
	b->protected_set = true;
	return AVF_OK;
}

int avf_config_builder_set_memory_bytes(struct avf_config_builder *b, uint64_t bytes)
{
	uint64_t r;
	int ret;

	if (!b)
		return AVF_E_INVALID;
	ret = round_memory(bytes, &r, b->err);
	if (ret)
		return ret;
	b->cfg.memory_bytes = r;
	return AVF_OK;
}

int avf_config_builder_set_cpu_topology(struct avf_config_builder *b,
					enum avf_cpu_topology topology)
{
	if (!b)
		return AVF_E_INVALID;
	if (topology != AVF_CPU_TOPOLOGY_ONE_CPU && topology != AVF_CPU_TOPOLOGY_MATCH_HOST) {
		avf__seterr(b->err, "invalid CPU topology %d (ONE_CPU=0, MATCH_HOST=1)",
			    (int)topology);
		return AVF_E_INVALID;
	}
	b->cfg.cpu_topology = topology;
	return AVF_OK;
}

int avf_config_builder_set_encrypted_storage_bytes(struct avf_config_builder *b, uint64_t bytes)
{
	uint64_t r;
	int ret;

	if (!b)
		return AVF_E_INVALID;
	ret = round_storage(bytes, &r, b->err);
	if (ret)
		return ret;
	b->cfg.encrypted_storage_bytes = r;
	return AVF_OK;
}

int avf_config_builder_set_vm_output_captured(struct avf_config_builder *b, bool captured)
{
	if (!b)
		return AVF_E_INVALID;
	b->cfg.vm_output_captured = captured;
	return AVF_OK;
}

int avf_config_builder_build(struct avf_config_builder *b, struct avf_config **out)
{
	struct avf_config *c;
	int ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!b)
		return AVF_E_INVALID;
	if (!b->protected_set) {
		avf__seterr(b->err, "protected VM must be chosen explicitly "
				    "(avf_config_builder_set_protected_vm)");
		return AVF_E_INVALID;
	}
	ret = avf__config_validate(&b->cfg, b->err);
	if (ret)
		return ret;
	if (b->have_caps) {
		uint32_t need = b->cfg.protected_vm ? AVF_CAP_PROTECTED_VM : AVF_CAP_NON_PROTECTED_VM;

		if (!(b->caps & need)) {
			avf__seterr(b->err, "%s VMs are not supported on this host",
				    b->cfg.protected_vm ? "protected" : "non-protected");
			return AVF_E_NOT_CAPABLE;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return AVF_E_NOMEM;
	ret = config_copy(c, &b->cfg);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return AVF_OK;
}

void avf_config_free(struct avf_config *cfg)
{
	if (!cfg)
		return;
	config_clear(cfg);
	free(cfg);
}

int avf_config_dup(const struct avf_config *cfg, struct avf_config **out)
{
	struct avf_config *c;
	int ret;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!cfg)
		return AVF_E_INVALID;
	c = calloc(1, sizeof(*c));
	if (!c)
		return AVF_E_NOMEM;
	ret = config_copy(c, cfg);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return AVF_OK;
}

const char *avf_config_payload_binary_name(const struct avf_config *c)
{
	return c ? c->payload_binary_name : NULL;
}

const char *avf_config_apk_path(const struct avf_config *c)
{
	return c ? c->apk_path : NULL;
}

enum avf_debug_level avf_config_debug_level(const struct avf_config *c)
{
	return c ? c->debug_level : AVF_DEBUG_LEVEL_NONE;
}

bool avf_config_protected_vm(const struct avf_config *c)
{
	return c && c->protected_vm;
}

uint64_t avf_config_memory_bytes(const struct avf_config *c)
{
	return c ? c->memory_bytes : 0;
}

enum avf_cpu_topology avf_config_cpu_topology(const struct avf_config *c)
{
	return c ? c->cpu_topology : AVF_CPU_TOPOLOGY_ONE_CPU;
}

uint64_t avf_config_encrypted_storage_bytes(const struct avf_config *c)
{
	return c ? c->encrypted_storage_bytes : 0;
}

bool avf_config_vm_output_captured(const struct avf_config *c)
{
	return c && c->vm_output_captured;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

bool avf_config_is_compatible_with(const struct avf_config *a, const struct avf_config *b)
{
	if (!a || !b)
		return false;
	return str_eq(a->payload_binary_name, b->payload_binary_name) &&
	       str_eq(a->apk_path, b->apk_path) && a->debug_level == b->debug_level &&
	       a->protected_vm == b->protected_vm &&
	       a->encrypted_storage_bytes == b->encrypted_storage_bytes &&
	       a->vm_output_captured == b->vm_output_captured;
}
