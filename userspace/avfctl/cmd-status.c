// SPDX-License-Identifier: GPL-2.0
/* avfctl status: VirtualMachine.getStatus() and the module's view. */
#include "avfctl.h"

int cmd_status(struct avfctl *ctl, struct opts *o)
{
	struct avf_config *cfg = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	struct avf_vm_state st;
	int ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_info(vm, &st);
	if (!ret)
		ret = avf_vm_get_config(vm, &cfg);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "status", avf_vm_last_error(vm));
		goto out;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(avf_vm_name(vm)));
		json_object_object_add(j, "status",
				       json_object_new_string(avf_status_name(st.status)));
		json_object_object_add(j, "cid", json_object_new_int64(st.cid));
		json_object_object_add(j, "vmm_pid", json_object_new_int64(st.vmm_pid));
		json_object_object_add(j, "run_count", json_object_new_int64((int64_t)st.run_count));
		json_object_object_add(j, "vsock_refused",
				       json_object_new_int64((int64_t)st.vsock_refused));
		json_object_object_add(j, "console_dropped",
				       json_object_new_int64((int64_t)st.console_dropped));
		json_object_object_add(j, "last_stop_reason",
				       json_object_new_string(
					       avf_stop_reason_name(st.last_stop_reason)));
		json_object_object_add(j, "dir", json_object_new_string(avf_vm_dir(vm)));
		json_object_object_add(j, "config", avfctl_config_json(cfg));
		avfctl_json_print(j);
	} else {
		printf("%s: %s\n", avf_vm_name(vm), avf_status_name(st.status));
		if (st.status == AVF_VM_STATUS_RUNNING)
			printf("  cid:          %u\n  avf-vmm pid:  %u\n", st.cid, st.vmm_pid);
		printf("  runs:         %llu\n", (unsigned long long)st.run_count);
		printf("  last stop:    %s\n", avf_stop_reason_name(st.last_stop_reason));
		printf("  vsock refused: %llu guest-initiated connection(s)\n",
		       (unsigned long long)st.vsock_refused);
		printf("  console dropped: %llu byte(s)\n", (unsigned long long)st.console_dropped);
		printf("  directory:    %s\n", avf_vm_dir(vm));
		avfctl_print_config(cfg, "  ");
	}
out:
	avf_config_free(cfg);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
