// SPDX-License-Identifier: GPL-2.0
/*
 * Instance identity: at create() the module seals a new instance state
 * over the measured boot images (AVF_INSTANCE_SEAL); libavf stores the
 * opaque 256-byte result as instance.img and hands its path to avf-vmm on
 * every run (--instance), which has the module check it (AVF_VMM_START).
 * Documentation/interfaces.rst, "Identity and secrets".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static int open_image(const char *what, const char *env, const char *path, int *fd, char *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;

		if (env)
			avf__seterr(err, "%s %s: %s (set %s)", what, path, strerror(e), env);
		else
			avf__seterr(err, "%s %s: %s", what, path, strerror(e));
		return AVF_E_IMAGE;
	}
	return AVF_OK;
}

int avf__seal_instance(struct avf_manager *m, const struct avf_config *cfg,
		       unsigned char blob[AVF_INSTANCE_STATE_SIZE], char *err)
{
	struct avf_instance_seal s;
	int kfd = -1, ifd = -1, pfd = -1, ret;

	ret = open_image("guest kernel", "AVF_GUEST_KERNEL", avf__guest_kernel_path(), &kfd, err);
	if (!ret)
		ret = open_image("guest initramfs", "AVF_GUEST_INITRD", avf__guest_initrd_path(),
				 &ifd, err);
	if (!ret)
		ret = open_image("app package", NULL, cfg->apk_path, &pfd, err);
	if (ret)
		goto out;
	memset(&s, 0, sizeof(s));
	s.images.kernel_fd = kfd;
	s.images.initrd_fd = ifd;
	s.images.package_fd = pfd;
	s.images.debug_level = cfg->debug_level == AVF_DEBUG_LEVEL_FULL ? AVF_DEBUG_FULL
									: AVF_DEBUG_NONE;
	s.images.protected_vm = cfg->protected_vm;
	s.state = (uint64_t)(uintptr_t)blob;
	s.state_size = AVF_INSTANCE_STATE_SIZE;
	if (ioctl(m->dev_fd, AVF_INSTANCE_SEAL, &s) < 0) {
		int e = errno;

		switch (e) {
		case ENOTTY:
			avf__seterr(err, "the avf module cannot seal instance state (too old)");
			ret = AVF_E_UNSUPPORTED;
			break;
		case ETXTBSY:
			avf__seterr(err, "a boot image is open for writing elsewhere (or an "
					 "unsealed memfd); cannot measure it");
			ret = AVF_E_BUSY;
			break;
		case EOPNOTSUPP:
			avf__seterr(err, "protected VMs are not supported on this host");
			ret = AVF_E_NOT_CAPABLE;
			break;
		case EINVAL:
		case EFBIG:
			avf__seterr(err, "the module refused the boot images: %s", strerror(e));
			ret = AVF_E_IMAGE;
			break;
		default:
			avf__seterr(err, "AVF_INSTANCE_SEAL failed: %s", strerror(e));
			ret = avf__errno_to_err(e);
			break;
		}
	}
out:
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (pfd >= 0)
		close(pfd);
	return ret;
}
