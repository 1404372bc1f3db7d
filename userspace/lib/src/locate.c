// SPDX-License-Identifier: GPL-2.0
/*
 * Where libavf finds avf-vmm and the guest images.
 *
 *   avf-vmm:  $AVF_VMM, else <tree>/build/user/bin/avf-vmm when it exists
 *             (compiled in as AVF_TREE_TOP), else
 *             /usr/local/libexec/avf/avf-vmm
 *   kernel:   $AVF_GUEST_KERNEL, else <tree>/build/user/guest/vmlinux,
 *             else /usr/local/share/avf/vmlinux
 *   initrd:   $AVF_GUEST_INITRD, else
 *             <tree>/build/user/guest/initramfs.cpio.gz, else
 *             /usr/local/share/avf/initramfs.cpio.gz
 */
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#ifndef AVF_TREE_TOP
#define AVF_TREE_TOP "/nonexistent"
#endif

static const char *pick(const char *env, const char *tree, const char *installed)
{
	const char *v = getenv(env);

	if (v && *v)
		return v;
	if (access(tree, F_OK) == 0)
		return tree;
	return installed;
}

const char *avf__vmm_path(void)
{
	return pick("AVF_VMM", AVF_TREE_TOP "/build/user/bin/avf-vmm",
		    "/usr/local/libexec/avf/avf-vmm");
}

const char *avf__guest_kernel_path(void)
{
	return pick("AVF_GUEST_KERNEL", AVF_TREE_TOP "/build/user/guest/vmlinux",
		    "/usr/local/share/avf/vmlinux");
}

const char *avf__guest_initrd_path(void)
{
	return pick("AVF_GUEST_INITRD", AVF_TREE_TOP "/build/user/guest/initramfs.cpio.gz",
		    "/usr/local/share/avf/initramfs.cpio.gz");
}
