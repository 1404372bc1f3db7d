// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl config: show a VM's config, or change its memory and CPU topology
 * (VirtualMachine.setConfig with a compatible config; STOPPED only).
 */
#include "avfctl.h"

int cmd_config(struct avfctl *ctl, struct opts *o)
{
	struct avf_config_builder *b = NULL;
	struct avf_config *cur = NULL, *next = NULL;
	struct avf_manager *m;
	struct avf_vm *vm = NULL;
	int ret;

	ret = avfctl_open_manager(ctl, &m);
	if (ret)
		return ret;
	ret = avfctl_get_vm(ctl, m, o, &vm);
	if (ret)
		goto out;
	ret = avf_vm_get_config(vm, &cur);
	if (ret) {
		ret = avfctl_fail(ctl, ret, "config", avf_vm_last_error(vm));
		goto out;
	}
	if (o->seen & (O_MEM | O_CPU)) {
		ret = avf_config_builder_from(cur, &b);
		if (!ret && o->mem_mib)
			ret = avf_config_builder_set_memory_bytes(b, o->mem_mib << 20);
		if (!ret && o->cpu >= 0)
			ret = avf_config_builder_set_cpu_topology(b, (enum avf_cpu_topology)o->cpu);
		if (!ret)
			ret = avf_config_builder_build(b, &next);
		if (ret) {
			ret = avfctl_fail(ctl, ret, "invalid config",
					  avf_config_builder_last_error(b));
			goto out;
		}
		ret = avf_vm_set_config(vm, next);
		if (ret) {
			ret = avfctl_fail(ctl, ret, "config", avf_vm_last_error(vm));
			goto out;
		}
	}
	if (ctl->json) {
		avfctl_json_print(avfctl_config_json(next ? next : cur));
	} else {
		if (next)
			printf("updated VM '%s':\n", avf_vm_name(vm));
		avfctl_print_config(next ? next : cur, "");
	}
out:
	avf_config_builder_free(b);
	avf_config_free(cur);
	avf_config_free(next);
	avf_vm_release(vm);
	avf_manager_close(m);
	return ret;
}
