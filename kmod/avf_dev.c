// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avf: the misc device. Dispatches the device ioctls; everything else
 * lives in avf_vm.c (instances) and avf_state.c (pure helpers).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include "avf_internal.h"

/*
 * Module parameters. Both are root-writable at runtime through
 * /sys/module/avf/parameters/; every ioctl reads them once
 * (avf_params_get()) and uses that one view throughout.
 */
static unsigned int avf_vmm_uid_param = AVF_VMM_UID_NONE;
module_param_named(vmm_uid, avf_vmm_uid_param, uint, 0644);
MODULE_PARM_DESC(vmm_uid,
		 "uid (initial user namespace) of the trusted VMM that may bind and receive VM secrets; 4294967295 = none");

static bool avf_owner_vmm_param;
module_param_named(owner_vmm, avf_owner_vmm_param, bool, 0644);
MODULE_PARM_DESC(owner_vmm,
		 "development mode: an instance's owner may bind as its VMM and so read its VM secret");

/**
 * avf_params_get() - read the module parameters once
 * @p: out.
 */
void avf_params_get(struct avf_params *p)
{
	p->raw_vmm_uid = READ_ONCE(avf_vmm_uid_param);
	p->owner_vmm = READ_ONCE(avf_owner_vmm_param);
	p->vmm_uid = make_kuid(&init_user_ns, p->raw_vmm_uid);
	if (!uid_valid(p->vmm_uid))
		p->raw_vmm_uid = AVF_VMM_UID_NONE;
}

static long avf_get_capabilities(void __user *arg)
{
	struct avf_capabilities caps;

	avf_fill_capabilities(&caps);
	return copy_to_user(arg, &caps, sizeof(caps)) ? -EFAULT : 0;
}

static long avf_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case AVF_GET_CAPABILITIES:
		return avf_get_capabilities(uarg);
	case AVF_VM_OPEN:
		return avf_vm_open_ioctl(uarg);
	case AVF_INSTANCE_SEAL:
		return avf_instance_seal_ioctl(uarg);
	case AVF_UDS_LOAD:
		return avf_uds_load_ioctl(uarg);
	case AVF_INSTANCE_EXPORT:
		return avf_instance_export_ioctl(uarg);
	case AVF_INSTANCE_IMPORT:
		return avf_instance_import_ioctl(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations avf_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = avf_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice avf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "avf",
	.fops = &avf_dev_fops,
	/*
	 * Root only, like /dev/kvm before udev: udev/60-avf.rules widens it
	 * to 0660 group avf, the counterpart of MANAGE_VIRTUAL_MACHINE.
	 */
	.mode = 0600,
};

static int __init avf_init(void)
{
	int ret;

	ret = avf_objects_init();
	if (ret)
		return ret;
	ret = misc_register(&avf_misc);
	if (ret) {
		avf_objects_exit();
		return ret;
	}
	pr_info("avf: /dev/avf ready (ABI %d)\n", AVF_ABI_VERSION);
	return 0;
}

static void __exit avf_exit(void)
{
	misc_deregister(&avf_misc);
	avf_objects_exit();
	avf_imgcache_exit();
}

module_init(avf_init);
module_exit(avf_exit);
MODULE_DESCRIPTION("avf: Android Virtualization Framework style VM instances");
MODULE_LICENSE("GPL");
MODULE_VERSION(AVF_VERSION);
