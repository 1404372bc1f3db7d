// SPDX-License-Identifier: GPL-2.0
/* avfctl create: VirtualMachineManager.create(name, config). */
#include "avfctl.h"

int cmd_create(struct avfctl *ctl, struct opts *o)
{
	const char *name = avfctl_vm_name(o);
	struct avf_config *cfg = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	int ret;

	if (!o->package || !o->payload) {
		avfctl_err(ctl, "create needs --package APK and --payload-binary-name NAME");
		return EX_USAGE;
	}
	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_build_config(ctl, m, o, &cfg);
	if (ret)
		goto out;
	ret = avf_vm_create(m, name, cfg, &vm);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "create", avf_manager_last_error(m));
		goto out;
	}
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(name));
		json_object_object_add(j, "status", json_object_new_string("STOPPED"));
		json_object_object_add(j, "dir", json_object_new_string(avf_vm_dir(vm)));
		json_object_object_add(j, "config", avfctl_config_json(cfg));
		avfctl_json_print(j);
	} else {
		printf("created VM '%s' in %s\n", name, avf_vm_dir(vm));
	}
	avf_vm_release(vm);
out:
	avf_config_free(cfg);
	avf_manager_close(m);
	return ret;
}
