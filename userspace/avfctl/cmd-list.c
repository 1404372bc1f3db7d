// SPDX-License-Identifier: GPL-2.0
/* avfctl list: every VM in the data root with its status. */
#include "avfctl.h"

int cmd_list(struct avfctl *ctl, struct opts *o)
{
	struct json_object *arr = NULL;
	struct avf_manager *m;
	char **names = NULL;
	size_t n = 0;
	int ret;

	(void)o;
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avf_manager_list(m, &names, &n);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "list", avf_manager_last_error(m));
		avf_manager_close(m);
		return ret;
	}
	if (ctl->json)
		arr = json_object_new_array();
	else if (n)
		printf("%-32s %-8s %s\n", "NAME", "STATUS", "PAYLOAD");
	for (size_t i = 0; i < n; i++) {
		struct avf_config *cfg = NULL;
		struct avf_vm *vm = NULL;
		enum avf_status st = AVF_VM_STATUS_STOPPED;
		const char *status = "BROKEN";
		const char *why = NULL;
		int r = avf_vm_get(m, names[i], &vm);

		if (!r)
			r = avf_vm_status(vm, &st);
		if (!r)
			r = avf_vm_get_config(vm, &cfg);
		if (!r)
			status = avf_status_name(st);
		else
			why = vm ? avf_vm_last_error(vm) : avf_manager_last_error(m);
		if (arr) {
			struct json_object *j = json_object_new_object();

			json_object_object_add(j, "name", json_object_new_string(names[i]));
			json_object_object_add(j, "status", json_object_new_string(status));
			if (cfg)
				json_object_object_add(j, "config", avfctl_config_json(cfg));
			if (why)
				json_object_object_add(j, "error", json_object_new_string(why));
			json_object_array_add(arr, j);
		} else {
			printf("%-32s %-8s %s\n", names[i], status,
			       cfg ? avf_config_payload_binary_name(cfg) : why);
		}
		avf_config_free(cfg);
		avf_vm_release(vm);
	}
	if (arr)
		avfctl_json_print(arr);
	avf_names_free(names, n);
	avf_manager_close(m);
	return EX_OK;
}
