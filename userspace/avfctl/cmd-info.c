// SPDX-License-Identifier: GPL-2.0
/* avfctl info: what the host supports (VirtualMachineManager.getCapabilities). */
#include "avfctl.h"

int cmd_info(struct avfctl *ctl, struct opts *o)
{
	struct avf_host_info hi;
	struct avf_manager *m;
	int ret;

	(void)o;
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avf_manager_host_info(m, &hi);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "capabilities", avf_manager_last_error(m));
		avf_manager_close(m);
		return ret;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "abi_version", json_object_new_int64(hi.abi_version));
		json_object_object_add(j, "capabilities", json_object_new_int64(hi.capabilities));
		json_object_object_add(j, "protected_vm", json_object_new_boolean(
				hi.capabilities & AVF_CAPABILITY_PROTECTED_VM));
		json_object_object_add(j, "non_protected_vm", json_object_new_boolean(
				hi.capabilities & AVF_CAPABILITY_NON_PROTECTED_VM));
		json_object_object_add(j, "device_secret_persistent",
				       json_object_new_boolean(hi.device_secret_persistent));
		json_object_object_add(j, "max_vms_per_owner",
				       json_object_new_int64(hi.max_vms_per_owner));
		json_object_object_add(j, "event_queue_len",
				       json_object_new_int64(hi.event_queue_len));
		json_object_object_add(j, "data_root",
				       json_object_new_string(avf_manager_data_root(m)));
		avfctl_json_print(j);
	} else {
		printf("AVF is supported (module ABI %u)\n", hi.abi_version);
		printf("protected VMs:      %s\n",
		       hi.capabilities & AVF_CAPABILITY_PROTECTED_VM ? "supported" : "not supported");
		printf("non-protected VMs:  %s\n", hi.capabilities & AVF_CAPABILITY_NON_PROTECTED_VM
							    ? "supported" : "not supported");
		printf("device secret:      %s\n",
		       hi.device_secret_persistent ? "persistent (kernel key)"
						   : "ephemeral (lost on module reload)");
		printf("max VMs per user:   %u\n", hi.max_vms_per_owner);
		printf("data root:          %s\n", avf_manager_data_root(m));
	}
	avf_manager_close(m);
	return EX_OK;
}
