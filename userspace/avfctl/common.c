// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the verbs: errors and exit codes, the manager, configs
 * from options, JSON output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "avfctl.h"

/* Android's vm tool gives new storage 10 MiB unless told. */
#define DEFAULT_STORAGE_BYTES (10ull << 20)

void avfctl_err(struct avfctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctl->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int avfctl_exit_code(int err)
{
	switch (err) {
	case AVF_OK:
		return EX_OK;
	case AVF_E_INVALID:
	case AVF_E_INCOMPATIBLE:
	case AVF_E_CORRUPT:
	case AVF_E_VERSION:
		return EX_DATAERR;
	case AVF_E_NOT_FOUND:
	case AVF_E_DELETED:
	case AVF_E_IMAGE:
		return EX_NOINPUT;
	case AVF_E_UNSUPPORTED:
	case AVF_E_NOT_CAPABLE:
	case AVF_E_SPAWN:
	case AVF_E_NO_OUTPUT:
	case AVF_E_REFUSED:
		return EX_UNAVAILABLE;
	case AVF_E_EXISTS:
		return EX_CANTCREAT;
	case AVF_E_IO:
		return EX_IOERR;
	case AVF_E_STATE:
	case AVF_E_BUSY:
	case AVF_E_TIMEOUT:
		return EX_TEMPFAIL;
	case AVF_E_PROTOCOL:
		return EX_PROTOCOL;
	case AVF_E_PERMISSION:
		return EX_NOPERM;
	default:
		return EX_OSERR;
	}
}

int avfctl_fail(struct avfctl *ctl, int err, const char *what, const char *detail)
{
	const char *name = avf_strerror(err);
	char code[32];
	size_t n = strcspn(name, ":");

	snprintf(code, sizeof(code), "%.*s", (int)(n < sizeof(code) ? n : sizeof(code) - 1), name);
	size_t wl = strlen(what);

	/* libavf messages often start with the operation already. */
	if (detail && !strncmp(detail, what, wl) && detail[wl] == ':')
		avfctl_err(ctl, "%s (%s)", detail, code);
	else if (detail && *detail)
		avfctl_err(ctl, "%s: %s (%s)", what, detail, code);
	else
		avfctl_err(ctl, "%s: %s", what, name);
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(code));
		json_object_object_add(o, "code", json_object_new_int(err));
		json_object_object_add(o, "message",
				       json_object_new_string(detail && *detail ? detail : name));
		json_object_object_add(o, "exit_code", json_object_new_int(avfctl_exit_code(err)));
		avfctl_json_print(o);
	}
	return avfctl_exit_code(err);
}

int avfctl_open_manager(struct avfctl *ctl, struct avf_manager **m)
{
	char *msg = NULL;
	int ret = avf_manager_open(ctl->data_root, m, &msg);

	if (ret) {
		ret = avfctl_fail(ctl, ret, "cannot open AVF", msg);
		free(msg);
		return ret;
	}
	return EX_OK;
}

const char *avfctl_vm_name(struct opts *o)
{
	if (o->name)
		return o->name;
	return o->nargs > 0 ? o->args[0] : NULL;
}

int avfctl_build_config(struct avfctl *ctl, struct avf_manager *m, struct opts *o,
			struct avf_config **out)
{
	struct avf_config_builder *b = NULL;
	int ret;

	*out = NULL;
	if (!o->package || !o->payload) {
		avfctl_err(ctl, "a new VM needs --package APK and --payload-binary-name NAME");
		return EX_USAGE;
	}
	ret = avf_config_builder_new(m, &b);
	if (ret)
		return avfctl_fail(ctl, ret, "config", NULL);
	{
		char *abs = realpath(o->package, NULL);

		if (!abs) {
			avfctl_err(ctl, "--package %s: %s", o->package, strerror(errno));
			avf_config_builder_free(b);
			return EX_NOINPUT;
		}
		ret = avf_config_builder_set_apk_path(b, abs);
		free(abs);
	}
	if (!ret)
		ret = avf_config_builder_set_payload_binary_name(b, o->payload);
	if (!ret)
		ret = avf_config_builder_set_protected_vm(b, o->protected_vm);
	if (!ret && o->debug >= 0)
		ret = avf_config_builder_set_debug_level(b, (enum avf_debug_level)o->debug);
	if (!ret && o->mem_mib)
		ret = avf_config_builder_set_memory_bytes(b, o->mem_mib << 20);
	if (!ret && o->cpu >= 0)
		ret = avf_config_builder_set_cpu_topology(b, (enum avf_cpu_topology)o->cpu);
	if (!ret && o->storage)
		ret = avf_config_builder_set_encrypted_storage_bytes(
			b, o->storage_size ? o->storage_size : DEFAULT_STORAGE_BYTES);
	/* Output capture follows --debug full unless told otherwise. */
	if (!ret)
		ret = avf_config_builder_set_vm_output_captured(
			b, o->capture >= 0 ? o->capture : o->debug == AVF_DEBUG_LEVEL_FULL);
	if (!ret)
		ret = avf_config_builder_build(b, out);
	if (ret)
		ret = avfctl_fail(ctl, ret, "invalid config", avf_config_builder_last_error(b));
	avf_config_builder_free(b);
	return ret;
}

int avfctl_get_vm(struct avfctl *ctl, struct avf_manager *m, struct opts *o, struct avf_vm **vm)
{
	const char *name = avfctl_vm_name(o);
	struct avf_config *cfg = NULL;
	int ret;

	ret = avf_vm_get(m, name, vm);
	if (ret == AVF_E_NOT_FOUND && (o->package || o->payload)) {
		ret = avfctl_build_config(ctl, m, o, &cfg);
		if (ret)
			return ret;
		ret = avf_vm_get_or_create(m, name, cfg, vm);
		avf_config_free(cfg);
	} else if (ret == AVF_OK && (o->package || o->payload)) {
		avfctl_err(ctl, "note: VM '%s' exists; config options ignored (use 'config')",
			   name);
	}
	if (ret) {
		char what[128];

		snprintf(what, sizeof(what), "VM '%s'", name);
		return avfctl_fail(ctl, ret, what, avf_manager_last_error(m));
	}
	return EX_OK;
}

struct json_object *avfctl_config_json(const struct avf_config *cfg)
{
	struct json_object *o = json_object_new_object();
	uint64_t mem = avf_config_memory_bytes(cfg);

	json_object_object_add(o, "payload_binary_name",
			       json_object_new_string(avf_config_payload_binary_name(cfg)));
	json_object_object_add(o, "apk_path", json_object_new_string(avf_config_apk_path(cfg)));
	json_object_object_add(o, "debug_level",
			       json_object_new_string(avf_config_debug_level(cfg) ==
						      AVF_DEBUG_LEVEL_FULL ? "full" : "none"));
	json_object_object_add(o, "protected_vm",
			       json_object_new_boolean(avf_config_protected_vm(cfg)));
	json_object_object_add(o, "memory_bytes",
			       json_object_new_int64((int64_t)(mem ? mem
								   : AVF_MEMORY_DEFAULT_BYTES)));
	json_object_object_add(o, "cpu_topology",
			       json_object_new_string(avf_config_cpu_topology(cfg) ==
						      AVF_CPU_TOPOLOGY_MATCH_HOST ? "match_host"
										  : "one_cpu"));
	json_object_object_add(o, "encrypted_storage_bytes",
			       json_object_new_int64(
				       (int64_t)avf_config_encrypted_storage_bytes(cfg)));
	json_object_object_add(o, "vm_output_captured",
			       json_object_new_boolean(avf_config_vm_output_captured(cfg)));
	return o;
}

void avfctl_print_config(const struct avf_config *cfg, const char *in)
{
	uint64_t mem = avf_config_memory_bytes(cfg);
	uint64_t st = avf_config_encrypted_storage_bytes(cfg);

	printf("%spackage:      %s\n", in, avf_config_apk_path(cfg));
	printf("%spayload:      %s\n", in, avf_config_payload_binary_name(cfg));
	printf("%sdebug:        %s\n", in,
	       avf_config_debug_level(cfg) == AVF_DEBUG_LEVEL_FULL ? "full" : "none");
	printf("%sprotected:    %s\n", in, avf_config_protected_vm(cfg) ? "yes" : "no");
	printf("%smemory:       %llu MiB%s\n", in,
	       (unsigned long long)((mem ? mem : AVF_MEMORY_DEFAULT_BYTES) >> 20),
	       mem ? "" : " (default)");
	printf("%scpu topology: %s\n", in,
	       avf_config_cpu_topology(cfg) == AVF_CPU_TOPOLOGY_MATCH_HOST ? "match_host"
									 : "one_cpu");
	if (st)
		printf("%sstorage:      %llu bytes (encrypted)\n", in, (unsigned long long)st);
	else
		printf("%sstorage:      none\n", in);
	printf("%soutput:       %s\n", in,
	       avf_config_vm_output_captured(cfg) ? "captured" : "not captured");
}

void avfctl_json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

char *avfctl_output_path(struct avf_manager *m, const char *name, const char *kind)
{
	char *p = NULL;

	if (asprintf(&p, "%s/logs/%s.%s", avf_manager_data_root(m), name, kind) < 0)
		return NULL;
	return p;
}

int avfctl_mkdir_logs(struct avf_manager *m)
{
	char *p = NULL;
	int r;

	if (asprintf(&p, "%s/logs", avf_manager_data_root(m)) < 0)
		return -1;
	r = mkdir(p, 0700);
	free(p);
	return r < 0 && errno != EEXIST ? -1 : 0;
}

long avfctl_peer_uid(int sock, long *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return -1;
	if (pid)
		*pid = cr.pid;
	return (long)cr.uid;
}
