// SPDX-License-Identifier: GPL-2.0
/* avfctl delete: VirtualMachineManager.delete(name); irreversible. */
#include "avfctl.h"

int cmd_delete(struct avfctl *ctl, struct opts *o)
{
	const char *name = avfctl_vm_name(o);
	struct avf_manager *m;
	int ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avf_vm_delete(m, name);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "delete", avf_manager_last_error(m));
	} else if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(name));
		json_object_object_add(j, "status", json_object_new_string("DELETED"));
		avfctl_json_print(j);
	} else {
		printf("deleted VM '%s'\n", name);
	}
	avf_manager_close(m);
	return ret;
}
