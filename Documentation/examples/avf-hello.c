// SPDX-License-Identifier: GPL-2.0
/*
 * The host example of Documentation/libavf.rst: run the hello payload VM
 * and report how its payload finished. Build against an installed avf:
 *
 *   cc -o avf-hello avf-hello.c $(pkg-config --cflags --libs avf)
 *   ./avf-hello /usr/local/share/avf/examples/hello.zip
 */
#include <stdio.h>
#include <stdlib.h>

#include <avf/avf.h>

static void on_finished(struct avf_vm *vm, int exit_code, void *ctx)
{
	(void)vm;
	*(int *)ctx = exit_code;
	printf("payload finished: exit code %d\n", exit_code);
}

static void on_error(struct avf_vm *vm, int error_code, const char *message, void *ctx)
{
	(void)vm;
	(void)ctx;
	fprintf(stderr, "VM error %d: %s\n", error_code, message);
}

static const struct avf_vm_callbacks callbacks = {
	.on_payload_finished = on_finished,
	.on_error = on_error,
};

int main(int argc, char **argv)
{
	const char *package = argc > 1 ? argv[1] : "/usr/local/share/avf/examples/hello.zip";
	struct avf_manager *m;
	struct avf_config_builder *b;
	struct avf_config *cfg;
	struct avf_vm *vm;
	char *msg = NULL;
	int exit_code = -1, r;

	r = avf_manager_open(NULL, &m, &msg);
	if (r == AVF_E_UNSUPPORTED) {
		fprintf(stderr, "no AVF on this host: %s\n", msg ? msg : "");
		free(msg);
		return 2;	/* getSystemService() == null */
	}
	if (r) {
		fprintf(stderr, "avf: %s\n", msg ? msg : avf_strerror(r));
		free(msg);
		return 1;
	}
	if (avf_config_builder_new(m, &b)) {
		fprintf(stderr, "avf: %s\n", avf_manager_last_error(m));
		avf_manager_close(m);
		return 1;
	}
	avf_config_builder_set_apk_path(b, package);
	avf_config_builder_set_payload_binary_name(b, "hello.so");
	avf_config_builder_set_protected_vm(b, false);
	r = avf_config_builder_build(b, &cfg);
	if (r)
		fprintf(stderr, "config: %s\n", avf_config_builder_last_error(b));
	avf_config_builder_free(b);
	if (r) {
		avf_manager_close(m);
		return 1;
	}
	r = avf_vm_get_or_create(m, "avf-hello", cfg, &vm);
	avf_config_free(cfg);
	if (r) {
		fprintf(stderr, "create: %s\n", avf_manager_last_error(m));
		avf_manager_close(m);
		return 1;
	}
	/* POLL: callbacks run in avf_vm_wait_stopped() on this thread */
	avf_vm_set_callback(vm, &callbacks, &exit_code, AVF_EXECUTOR_POLL);
	r = avf_vm_run(vm);	/* returns once avf-vmm is running it */
	if (r == AVF_OK)
		r = avf_vm_wait_stopped(vm, 120 * 1000);
	if (r)
		fprintf(stderr, "run: %s\n", avf_vm_last_error(vm));
	avf_vm_close(vm);	/* stops it if still running */
	avf_vm_delete(m, "avf-hello");
	avf_manager_close(m);
	return r ? 1 : exit_code;
}
