// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl start: run a VM in the background. With output capture the
 * console and payload log go to files (default <data root>/logs/NAME.console
 * and NAME.log, read back by "avfctl console/log").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avfctl.h"

int cmd_start(struct avfctl *ctl, struct opts *o)
{
	struct avf_config *cfg = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	struct avf_vm_state st;
	char *con = NULL, *log = NULL;
	int ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_get_config(vm, &cfg);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "start", avf_vm_last_error(vm));
		goto out;
	}
	if ((o->console && !strcmp(o->console, "-")) || (o->log && !strcmp(o->log, "-"))) {
		avfctl_err(ctl, "start runs in the background: --console/--log take a file "
				"(use 'run' to stream)");
		ret = EX_USAGE;
		goto out;
	}
	if (avf_config_vm_output_captured(cfg)) {
		if (avfctl_mkdir_logs(m)) {
			avfctl_err(ctl, "cannot create %s/logs", avf_manager_data_root(m));
			ret = EX_CANTCREAT;
			goto out;
		}
		con = o->console ? strdup(o->console) : avfctl_output_path(m, avf_vm_name(vm),
									   "console");
		log = o->log ? strdup(o->log) : avfctl_output_path(m, avf_vm_name(vm), "log");
		/* Each start begins fresh files (avf-vmm appends). */
		if ((!o->console && con && truncate(con, 0) && errno != ENOENT) ||
		    (!o->log && log && truncate(log, 0) && errno != ENOENT))
			avfctl_err(ctl, "note: cannot truncate old output: %s", strerror(errno));
		avf_vm_set_output_paths(vm, con, log);
	} else if (o->console || o->log) {
		avfctl_err(ctl, "VM '%s' does not capture output; --console/--log need a VM "
				"created with --debug full", avf_vm_name(vm));
		ret = EX_USAGE;
		goto out;
	}
	ret = avf_vm_run(vm);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "start", avf_vm_last_error(vm));
		goto out;
	}
	memset(&st, 0, sizeof(st));
	avf_vm_info(vm, &st);
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(avf_vm_name(vm)));
		json_object_object_add(j, "status", json_object_new_string(
				avf_status_name(st.status)));
		json_object_object_add(j, "cid", json_object_new_int64(st.cid));
		json_object_object_add(j, "vmm_pid", json_object_new_int64(st.vmm_pid));
		if (con)
			json_object_object_add(j, "console", json_object_new_string(con));
		if (log)
			json_object_object_add(j, "log", json_object_new_string(log));
		avfctl_json_print(j);
	} else {
		printf("started VM '%s' (cid %u, avf-vmm pid %u)\n", avf_vm_name(vm), st.cid,
		       st.vmm_pid);
		if (con)
			printf("console: %s\nlog:     %s\n", con, log);
	}
out:
	free(con);
	free(log);
	avf_config_free(cfg);
	avf_vm_release(vm); /* leaves the VM running */
	avf_manager_close(m);
	return ret;
}
