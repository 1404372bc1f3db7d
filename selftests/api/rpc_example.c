// SPDX-License-Identifier: GPL-2.0
/*
 * The example RPC host program (Documentation/rpc.rst): runs the rpc-calc
 * payload, waits for onPayloadReady, connects to its Calculator with
 * avf_vm_connect_to_vsock_server() and calls it, an error path included,
 * then stops the VM. The seed's pattern: the payload serves, notifies
 * ready, the app connects in onPayloadReady.
 *
 *   rpc_example [PACKAGE.zip]     (default: the build tree's rpc-calc.zip)
 *
 * Exit status 0 when every call gave the expected answer.
 */
#define _DEFAULT_SOURCE		/* mkdtemp with -std=c11 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avf/avf.h>
#include <avf/rpc.h>

#include "payloads/calc.pb-c.h"
#include "payloads/calc_rpc.h"

#ifndef AVF_TEST_DIR
#define AVF_TEST_DIR "."
#endif

struct app {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready, stopped;
	int failures;
};

static void calls(struct app *app, struct avf_vm *vm)
{
	Calc__AddRequest add = CALC__ADD_REQUEST__INIT;
	Calc__DivRequest div = CALC__DIV_REQUEST__INIT;
	Calc__AddReply *sum;
	Calc__DivReply *q;
	struct avf_rpc_client *c;
	int r;

	r = avf_vm_connect_to_vsock_server(vm, CALC_PORT, &calc__calculator__descriptor, &c);
	if (r) {
		fprintf(stderr, "connect: %s: %s\n", avf_strerror(r), avf_vm_last_error(vm));
		app->failures++;
		return;
	}
	add.a = 40;
	add.b = 2;
	r = avf_rpc_call(c, CALC_ADD, &add.base, (ProtobufCMessage **)&sum, 5000);
	if (r == AVF_RPC_OK) {
		printf("Add(40, 2) = %lld\n", (long long)sum->sum);
		if (sum->sum != 42)
			app->failures++;
		protobuf_c_message_free_unpacked(&sum->base, NULL);
	} else {
		printf("Add failed: %s\n", avf_rpc_client_last_error(c));
		app->failures++;
	}
	div.dividend = 7;
	div.divisor = 0;
	r = avf_rpc_call(c, CALC_DIVIDE, &div.base, (ProtobufCMessage **)&q, 5000);
	if (r == AVF_RPC_APP_ERROR) {
		printf("Divide(7, 0): %s, code %d: %s\n", avf_rpc_status_name(r),
		       (int)avf_rpc_client_app_code(c), avf_rpc_client_last_error(c));
		if (avf_rpc_client_app_code(c) != CALC_EDIVZERO)
			app->failures++;
	} else {
		printf("Divide(7, 0) should fail, got %s\n", avf_rpc_status_name(r));
		if (r == AVF_RPC_OK)
			protobuf_c_message_free_unpacked(&q->base, NULL);
		app->failures++;
	}
	avf_rpc_client_close(c);
}

static void on_ready(struct avf_vm *vm, void *ctx)
{
	struct app *app = ctx;

	/* onPayloadReady: connect and call from here, as an app would */
	calls(app, vm);
	pthread_mutex_lock(&app->lock);
	app->ready = true;
	pthread_cond_signal(&app->cond);
	pthread_mutex_unlock(&app->lock);
}

static void on_stopped(struct avf_vm *vm, int reason, void *ctx)
{
	struct app *app = ctx;

	(void)vm;
	printf("stopped: %s\n", avf_stop_reason_name(reason));
	pthread_mutex_lock(&app->lock);
	app->stopped = true;
	pthread_cond_signal(&app->cond);
	pthread_mutex_unlock(&app->lock);
}

int main(int argc, char **argv)
{
	const char *apk = argc > 1 ? argv[1] : AVF_TEST_DIR "/rpc-calc.zip";
	struct avf_vm_callbacks cb = { .on_payload_ready = on_ready, .on_stopped = on_stopped };
	struct app app = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0 };
	char root[] = "/tmp/avf-rpc-example-XXXXXX", name[32];
	struct avf_config_builder *b;
	struct avf_manager *m;
	struct avf_config *cfg;
	struct avf_vm *vm;
	char *msg = NULL;
	int r;

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	r = avf_manager_open(root, &m, &msg);
	if (r) {
		fprintf(stderr, "avf: %s: %s\n", avf_strerror(r), msg ? msg : "");
		free(msg);
		return r == AVF_E_UNSUPPORTED ? 4 : 1;
	}
	free(msg);
	if (avf_config_builder_new(m, &b))
		return 1;
	avf_config_builder_set_apk_path(b, apk);
	avf_config_builder_set_payload_binary_name(b, "rpc-calc.so");
	avf_config_builder_set_protected_vm(b, false);
	r = avf_config_builder_build(b, &cfg);
	avf_config_builder_free(b);
	if (r) {
		fprintf(stderr, "config: %s\n", avf_strerror(r));
		return 1;
	}
	snprintf(name, sizeof(name), "rpc-example-%d", (int)getpid());
	r = avf_vm_create(m, name, cfg, &vm);
	if (!r)
		r = avf_vm_set_callback(vm, &cb, &app, AVF_EXECUTOR_THREAD);
	if (!r)
		r = avf_vm_run(vm);
	if (r) {
		fprintf(stderr, "run: %s\n", avf_strerror(r));
		return 1;
	}
	pthread_mutex_lock(&app.lock);
	while (!app.ready && !app.stopped)
		pthread_cond_wait(&app.cond, &app.lock);
	pthread_mutex_unlock(&app.lock);
	if (!app.ready)
		app.failures++;
	avf_vm_stop(vm);
	avf_vm_wait_stopped(vm, 60000);
	avf_vm_close(vm);
	avf_vm_delete(m, name);
	avf_config_free(cfg);
	avf_manager_close(m);
	rmdir(root);
	printf("%s\n", app.failures ? "FAIL" : "OK");
	return app.failures ? 1 : 0;
}
