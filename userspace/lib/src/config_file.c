// SPDX-License-Identifier: GPL-2.0
/*
 * The instance "config" file: JSON (json-c), versioned. Format in
 * Documentation/libavf.rst. The parser trusts nothing: size cap, depth
 * cap, exact key set, types, and the builder's rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"

#define FORMAT_NAME "avf-vm-config"
#define JSON_DEPTH_MAX 4

static const char *const known_keys[] = {
	"format", "version", "payload_binary_name", "apk_path", "debug_level",
	"protected_vm", "memory_bytes", "cpu_topology", "encrypted_storage_bytes",
	"vm_output_captured",
};

int avf_config_to_text(const struct avf_config *cfg, char **out)
{
	struct json_object *o;
	const char *s;
	int ret = AVF_E_NOMEM;

	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!cfg || avf__config_validate(cfg, NULL))
		return AVF_E_INVALID;
	o = json_object_new_object();
	if (!o)
		return AVF_E_NOMEM;
	if (json_object_object_add(o, "format", json_object_new_string(FORMAT_NAME)) ||
	    json_object_object_add(o, "version", json_object_new_int(AVF_CONFIG_VERSION)) ||
	    json_object_object_add(o, "payload_binary_name",
				   json_object_new_string(cfg->payload_binary_name)) ||
	    json_object_object_add(o, "apk_path", json_object_new_string(cfg->apk_path)) ||
	    json_object_object_add(o, "debug_level",
				   json_object_new_string(cfg->debug_level == AVF_DEBUG_LEVEL_FULL
							  ? "full" : "none")) ||
	    json_object_object_add(o, "protected_vm", json_object_new_boolean(cfg->protected_vm)) ||
	    json_object_object_add(o, "memory_bytes",
				   json_object_new_int64((int64_t)cfg->memory_bytes)) ||
	    json_object_object_add(o, "cpu_topology",
				   json_object_new_string(cfg->cpu_topology ==
							  AVF_CPU_TOPOLOGY_MATCH_HOST
							  ? "match_host" : "one_cpu")) ||
	    json_object_object_add(o, "encrypted_storage_bytes",
				   json_object_new_int64((int64_t)cfg->encrypted_storage_bytes)) ||
	    json_object_object_add(o, "vm_output_captured",
				   json_object_new_boolean(cfg->vm_output_captured)))
		goto out;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		goto out;
	*out = avf__strdup_printf("%s\n", s);
	ret = *out ? AVF_OK : AVF_E_NOMEM;
out:
	json_object_put(o);
	return ret;
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type type,
			       char *err, int *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		avf__seterr(err, "config: missing field \"%s\"", key);
		*ret = AVF_E_CORRUPT;
		return NULL;
	}
	if (!json_object_is_type(v, type)) {
		avf__seterr(err, "config: field \"%s\" has the wrong type", key);
		*ret = AVF_E_CORRUPT;
		return NULL;
	}
	return v;
}

static int get_u64(struct json_object *o, const char *key, uint64_t *val, char *err)
{
	struct json_object *v;
	int ret = AVF_OK;
	int64_t x;

	v = get(o, key, json_type_int, err, &ret);
	if (!v)
		return ret;
	x = json_object_get_int64(v);
	if (x < 0 || x == INT64_MAX) {
		avf__seterr(err, "config: field \"%s\" out of range", key);
		return AVF_E_CORRUPT;
	}
	*val = (uint64_t)x;
	return AVF_OK;
}

static int parse_object(struct json_object *o, struct avf_config *c, char *err)
{
	struct json_object *v;
	const char *s;
	int ret = AVF_OK;

	if (!json_object_is_type(o, json_type_object)) {
		avf__seterr(err, "config: top level is not a JSON object");
		return AVF_E_CORRUPT;
	}
	v = get(o, "version", json_type_int, err, &ret);
	if (!v)
		return ret;
	if (json_object_get_int64(v) != AVF_CONFIG_VERSION) {
		avf__seterr(err, "config: format version %lld is not supported (this libavf reads %d)",
			    (long long)json_object_get_int64(v), AVF_CONFIG_VERSION);
		return AVF_E_VERSION;
	}
	v = get(o, "format", json_type_string, err, &ret);
	if (!v)
		return ret;
	if (strcmp(json_object_get_string(v), FORMAT_NAME)) {
		avf__seterr(err, "config: not an avf VM config (format \"%.64s\")",
			    json_object_get_string(v));
		return AVF_E_CORRUPT;
	}
	json_object_object_foreach(o, key, val) {
		bool known = false;

		(void)val;
		for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
			known |= !strcmp(key, known_keys[i]);
		if (!known) {
			avf__seterr(err, "config: unknown field \"%.64s\"", key);
			return AVF_E_CORRUPT;
		}
	}

	v = get(o, "payload_binary_name", json_type_string, err, &ret);
	if (!v)
		return ret;
	if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v))) {
		avf__seterr(err, "config: payload_binary_name contains a NUL byte");
		return AVF_E_CORRUPT;
	}
	c->payload_binary_name = strdup(json_object_get_string(v));
	v = get(o, "apk_path", json_type_string, err, &ret);
	if (!v)
		return ret;
	if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v))) {
		avf__seterr(err, "config: apk_path contains a NUL byte");
		return AVF_E_CORRUPT;
	}
	c->apk_path = strdup(json_object_get_string(v));
	if (!c->payload_binary_name || !c->apk_path)
		return AVF_E_NOMEM;

	v = get(o, "debug_level", json_type_string, err, &ret);
	if (!v)
		return ret;
	s = json_object_get_string(v);
	if (!strcmp(s, "none")) {
		c->debug_level = AVF_DEBUG_LEVEL_NONE;
	} else if (!strcmp(s, "full")) {
		c->debug_level = AVF_DEBUG_LEVEL_FULL;
	} else {
		avf__seterr(err, "config: debug_level must be \"none\" or \"full\"");
		return AVF_E_CORRUPT;
	}
	v = get(o, "cpu_topology", json_type_string, err, &ret);
	if (!v)
		return ret;
	s = json_object_get_string(v);
	if (!strcmp(s, "one_cpu")) {
		c->cpu_topology = AVF_CPU_TOPOLOGY_ONE_CPU;
	} else if (!strcmp(s, "match_host")) {
		c->cpu_topology = AVF_CPU_TOPOLOGY_MATCH_HOST;
	} else {
		avf__seterr(err, "config: cpu_topology must be \"one_cpu\" or \"match_host\"");
		return AVF_E_CORRUPT;
	}
	v = get(o, "protected_vm", json_type_boolean, err, &ret);
	if (!v)
		return ret;
	c->protected_vm = json_object_get_boolean(v);
	v = get(o, "vm_output_captured", json_type_boolean, err, &ret);
	if (!v)
		return ret;
	c->vm_output_captured = json_object_get_boolean(v);
	ret = get_u64(o, "memory_bytes", &c->memory_bytes, err);
	if (ret)
		return ret;
	ret = get_u64(o, "encrypted_storage_bytes", &c->encrypted_storage_bytes, err);
	if (ret)
		return ret;

	ret = avf__config_validate(c, err);
	if (ret) {
		char tmp[AVF_ERRMSG_MAX];

		if (err) {
			snprintf(tmp, sizeof(tmp), "config: %s", err);
			memcpy(err, tmp, sizeof(tmp));
		}
		return AVF_E_CORRUPT;
	}
	return AVF_OK;
}

static int from_text(const char *text, size_t len, struct avf_config **out, char *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct avf_config *c;
	enum json_tokener_error jerr;
	int ret;

	if (len == 0) {
		avf__seterr(err, "config: file is empty");
		return AVF_E_CORRUPT;
	}
	if (len > AVF_CONFIG_FILE_MAX) {
		avf__seterr(err, "config: file is larger than %d bytes", AVF_CONFIG_FILE_MAX);
		return AVF_E_CORRUPT;
	}
	if (memchr(text, '\0', len)) {
		avf__seterr(err, "config: file contains a NUL byte");
		return AVF_E_CORRUPT;
	}
	tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	if (!tok)
		return AVF_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success) {
		avf__seterr(err, "config: not valid JSON (%s)",
			    jerr == json_tokener_continue ? "truncated"
							  : json_tokener_error_desc(jerr));
		json_object_put(o);
		json_tokener_free(tok);
		return AVF_E_CORRUPT;
	}
	/* Only whitespace may follow the object. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (!strchr(" \t\r\n", text[i])) {
			avf__seterr(err, "config: trailing data after the JSON object");
			json_object_put(o);
			json_tokener_free(tok);
			return AVF_E_CORRUPT;
		}
	}
	json_tokener_free(tok);

	c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(o);
		return AVF_E_NOMEM;
	}
	ret = parse_object(o, c, err);
	json_object_put(o);
	if (ret) {
		avf_config_free(c);
		return ret;
	}
	*out = c;
	return AVF_OK;
}

int avf_config_from_text(const char *text, size_t len, struct avf_config **out, char **errmsg)
{
	char err[AVF_ERRMSG_MAX] = "";
	int ret;

	if (errmsg)
		*errmsg = NULL;
	if (!out)
		return AVF_E_INVALID;
	*out = NULL;
	if (!text)
		return AVF_E_INVALID;
	ret = from_text(text, len, out, err);
	if (ret && errmsg)
		*errmsg = strdup(err);
	return ret;
}

int avf__config_load(int dirfd, struct avf_config **out, char *err)
{
	char *data;
	size_t len;
	int ret;

	*out = NULL;
	ret = avf__read_file(dirfd, AVF_FILE_CONFIG, AVF_CONFIG_FILE_MAX, &data, &len, err);
	if (ret == AVF_E_INVALID) {
		avf__seterr(err, "config: file is larger than %d bytes", AVF_CONFIG_FILE_MAX);
		return AVF_E_CORRUPT;
	}
	if (ret)
		return ret;
	ret = from_text(data, len, out, err);
	free(data);
	return ret;
}

int avf__config_store(int dirfd, const struct avf_config *cfg, char *err)
{
	char *text;
	int ret;

	ret = avf_config_to_text(cfg, &text);
	if (ret) {
		avf__seterr(err, "cannot serialize the config");
		return ret;
	}
	ret = avf__write_file_atomic(dirfd, AVF_FILE_CONFIG, text, strlen(text), err);
	free(text);
	return ret;
}
