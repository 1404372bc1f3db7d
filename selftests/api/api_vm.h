/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One running VM for an end-to-end fixture (rpc_test, vsock_stream_test):
 * a manager on a fresh root, the package's config and the VM, created and
 * running, through libavf as an app would.
 */
#ifndef AVF_SELFTESTS_API_VM_H
#define AVF_SELFTESTS_API_VM_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avf/avf.h>

#include "kselftest_harness.h"

struct api_vm {
	char root[64];
	char name[32];
	struct avf_manager *m;
	struct avf_config *c;
	struct avf_vm *vm;
};

/*
 * Starts @apk's @payload as VM "@tag-PID" under a new manager root
 * /tmp/avf-@tag-XXXXXX. Returns NULL once it runs, or why this test host
 * cannot run it (the caller SKIPs); a libavf failure fails the test.
 */
static inline const char *api_vm_start(struct __test_metadata *_metadata, struct api_vm *v,
				       const char *tag, const char *apk, const char *payload)
{
	static char why[512];
	struct avf_config_builder *b = NULL;
	char *msg = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(v->root, sizeof(v->root), "/tmp/avf-%s-XXXXXX", tag);
	ASSERT_NE(NULL, mkdtemp(v->root));
	if (access(apk, R_OK)) {
		snprintf(why, sizeof(why), "%s not built (guest side missing)", apk);
		return why;
	}
	ret = avf_manager_open(v->root, &v->m, &msg);
	if (ret == AVF_E_UNSUPPORTED) {
		snprintf(why, sizeof(why), "AVF not supported here: %s", msg);
		free(msg);
		return why;
	}
	ASSERT_EQ(AVF_OK, ret) TH_LOG("%s", msg);
	free(msg);
	ASSERT_EQ(AVF_OK, avf_config_builder_new(v->m, &b));
	avf_config_builder_set_apk_path(b, apk);
	avf_config_builder_set_payload_binary_name(b, payload);
	avf_config_builder_set_protected_vm(b, false);
	/* AVF_TEST_DEBUG_FULL=1: debuggable VMs (vmm.log shows vCPU state at a stall) */
	if (getenv("AVF_TEST_DEBUG_FULL"))
		avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_FULL);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &v->c));
	avf_config_builder_free(b);
	/* A name of its own: a test killed by its timeout leaves its VM behind. */
	snprintf(v->name, sizeof(v->name), "%s-%d", tag, (int)getpid());
	ASSERT_EQ(AVF_OK, avf_vm_create(v->m, v->name, v->c, &v->vm));
	ASSERT_EQ(AVF_OK, avf_vm_run(v->vm)) TH_LOG("%s", avf_vm_last_error(v->vm));
	return NULL;
}

/* The VM's state and its vmm.log on stderr, as TAP comments (a failure's context). */
static inline void api_vm_dump_log(struct avf_vm *vm)
{
	struct avf_vm_state st;
	char path[4096], line[512];
	FILE *f;

	if (avf_vm_info(vm, &st) == AVF_OK)
		fprintf(stderr, "# VM status %d, last stop reason %d, run %llu\n", (int)st.status,
			(int)st.last_stop_reason, (unsigned long long)st.run_count);

	snprintf(path, sizeof(path), "%s/vmm.log", avf_vm_dir(vm));
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "# %s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# vmm.log: %s", line);
	fclose(f);
}

/* Closes and deletes what api_vm_start() made (the VM already stopped or not). */
static inline void api_vm_end(struct api_vm *v)
{
	if (v->vm) {
		avf_vm_close(v->vm);
		avf_vm_delete(v->m, v->name);
	}
	avf_config_free(v->c);
	avf_manager_close(v->m);
	if (v->root[0])
		rmdir(v->root);
}

#endif
