// SPDX-License-Identifier: GPL-2.0
/* avfctl stop: VirtualMachine.stop(), a hard power-off. */
#include "avfctl.h"

int cmd_stop(struct avfctl *ctl, struct opts *o)
{
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	int ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_stop(vm);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "stop", avf_vm_last_error(vm));
		goto out;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(avf_vm_name(vm)));
		json_object_object_add(j, "status", json_object_new_string("STOPPED"));
		avfctl_json_print(j);
	} else {
		printf("stopped VM '%s'\n", avf_vm_name(vm));
	}
out:
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
