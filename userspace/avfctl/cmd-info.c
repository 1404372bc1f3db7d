// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl info: what the host supports (VirtualMachineManager.getCapabilities)
 * and who can see VM secrets: the trusted VMM uid, or development mode.
 */
#include "avfctl.h"

#define DEV_MODE_LINE "development mode: the owner can read VM secrets"

int cmd_info(struct avfctl *ctl, struct opts *o)
{
	struct avf_host_info hi;
	struct avf_host_trust tr;
	struct avf_manager *m;
	int ret;

	(void)o;
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avf_manager_host_info(m, &hi);
	if (!ret)
		ret = avf_manager_host_trust(m, &tr);
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
		json_object_object_add(j, "development_mode",
				       json_object_new_boolean(tr.owner_is_vmm));
		json_object_object_add(j, "vmm_uid", tr.trusted_vmm
						? json_object_new_int64(tr.vmm_uid) : NULL);
		json_object_object_add(j, "vm_secrets", json_object_new_string(
				tr.owner_is_vmm ? DEV_MODE_LINE
				: tr.trusted_vmm ? "only the trusted VMM uid"
						 : "no trusted VMM: no VM can start"));
		json_object_object_add(j, "max_running_per_owner",
				       json_object_new_int64(tr.max_running_per_owner));
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
		if (tr.owner_is_vmm)
			printf("VM secrets:         " DEV_MODE_LINE "\n");
		if (tr.trusted_vmm)
			printf("trusted VMM uid:    %u\n", tr.vmm_uid);
		else if (!tr.owner_is_vmm)
			printf("trusted VMM uid:    none (no VM can start: load avf.ko with "
			       "vmm_uid=UID)\n");
		printf("max VMs per user:   %u\n", hi.max_vms_per_owner);
		printf("max running/user:   %u\n", tr.max_running_per_owner);
		printf("data root:          %s\n", avf_manager_data_root(m));
	}
	avf_manager_close(m);
	return EX_OK;
}
