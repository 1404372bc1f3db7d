// SPDX-License-Identifier: GPL-2.0
/*
 * Instance identity: at create() the module seals a new instance state
 * over the measured boot images and every other input that changes what
 * runs (debug level, protected, payload binary name, extra kernel command
 * line: none from libavf) with AVF_INSTANCE_SEAL; the state names the
 * caller's uid as its owner. libavf stores the opaque 256-byte result as
 * instance.img and hands an fd of it to avf-vmm on every run
 * (--instance-fd), which has the module check it against what it boots
 * (AVF_VMM_LOAD: the same payload name, the same empty command line, the
 * same debug level as here). Documentation/interfaces.rst, "Identity and
 * secrets".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/*
 * Opens a boot image read-only, not through a final symlink and without
 * blocking on a FIFO, and checks that it is a regular file. @env names the
 * variable that overrides the location, for the message.
 */
int avf__open_image(const char *what, const char *env, const char *path, int *fd, char *err)
{
	struct stat st;
	int e;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0) {
		e = errno;
		if (e == ELOOP)
			avf__seterr(err, "%s %s is a symbolic link (not followed)%s%s", what,
				    path, env ? "; set " : "", env ? env : "");
		else if (env)
			avf__seterr(err, "%s %s: %s (set %s)", what, path, strerror(e), env);
		else
			avf__seterr(err, "%s %s: %s", what, path, strerror(e));
		return AVF_E_IMAGE;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		avf__seterr(err, "%s %s is not a regular file", what, path);
		close(*fd);
		*fd = -1;
		return AVF_E_IMAGE;
	}
	return AVF_OK;
}

uint32_t avf__debug_level(const struct avf_config *cfg)
{
	return cfg->debug_level == AVF_DEBUG_LEVEL_FULL ? AVF_DEBUG_FULL : AVF_DEBUG_NONE;
}

int avf__seal_instance(struct avf_manager *m, const struct avf_config *cfg,
		       unsigned char blob[AVF_INSTANCE_STATE_SIZE], char *err)
{
	struct avf_instance_seal s;
	int kfd = -1, ifd = -1, pfd = -1, ret;

	ret = avf__open_image("guest kernel", "AVF_GUEST_KERNEL", avf__guest_kernel_path(), &kfd, err);
	if (!ret)
		ret = avf__open_image("guest initramfs", "AVF_GUEST_INITRD", avf__guest_initrd_path(),
				 &ifd, err);
	if (!ret)
		ret = avf__open_image("app package", NULL, cfg->apk_path, &pfd, err);
	if (ret)
		goto out;
	memset(&s, 0, sizeof(s));
	s.images.kernel_fd = kfd;
	s.images.initrd_fd = ifd;
	s.images.package_fd = pfd;
	s.images.debug_level = avf__debug_level(cfg);
	s.images.protected_vm = cfg->protected_vm;
	/* Part of the identity; the VMM passes the same to AVF_VMM_LOAD. */
	s.images.payload_name = (uint64_t)(uintptr_t)cfg->payload_binary_name;
	s.images.cmdline = 0; /* libavf adds no guest kernel command line */
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
			avf__seterr(err, "the module refused the boot images or the payload "
					 "name \"%s\": %s", cfg->payload_binary_name, strerror(e));
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
