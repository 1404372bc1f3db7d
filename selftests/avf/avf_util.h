/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the /dev/avf selftests: raw ioctls (__avf_*) return -errno;
 * the asserting forms name the ioctl in the failure message.
 */
#ifndef AVF_SELFTEST_UTIL_H
#define AVF_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/avf.h>

/* The trusted VMM uid the test host loads avf.ko with (testhost/init). */
static inline uid_t avf_vmm_uid(void)
{
	const char *s = getenv("AVF_VMM_UID");

	return s && *s ? (uid_t)strtoul(s, NULL, 10) : 970;
}

/*
 * Become the trusted VMM identity, as a set-uid avf-vmm does after exec:
 * every uid and gid the VMM uid, not dumpable. Needs root (the test host);
 * returns 0 or -errno. Call it in a forked child.
 */
static inline int avf_become_vmm(void)
{
	uid_t u = avf_vmm_uid();

	if (setresgid(u, u, u) || setresuid(u, u, u))
		return -errno;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ? -errno : 0;
}

/*
 * Development mode (owner_vmm module parameter, root only): the owner may
 * bind as VMM. Returns the previous setting, or -errno.
 */
static inline int avf_set_dev_mode(bool on)
{
	const char *p = "/sys/module/avf/parameters/owner_vmm";
	char c = 0;
	int fd = open(p, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = read(fd, &c, 1) == 1 ? (c == 'Y' || c == '1') : -EIO;
	if (ret >= 0 && pwrite(fd, on ? "1" : "0", 1, 0) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static inline int __avf_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

static inline int __avf_open_vm(int dev, const char *name, __u32 flags)
{
	struct avf_vm_open o;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	memcpy(o.name, name, strnlen(name, sizeof(o.name) - 1));
	return __avf_ioctl(dev, AVF_VM_OPEN, &o);
}

static inline int __avf_bind(int vm, __u32 *cid)
{
	struct avf_vm_bind b;
	int ret;

	memset(&b, 0, sizeof(b));
	ret = __avf_ioctl(vm, AVF_VM_BIND_VMM, &b);
	if (ret >= 0 && cid)
		*cid = b.cid;
	return ret;
}

static inline int __avf_report(int vmm, __u32 type, __s32 code, const char *msg)
{
	struct avf_vmm_report r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.code = code;
	if (msg)
		memcpy(r.message, msg, strnlen(msg, sizeof(r.message) - 1));
	return __avf_ioctl(vmm, AVF_VMM_REPORT, &r);
}

static inline int __avf_info(int vm, struct avf_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	return __avf_ioctl(vm, AVF_VM_GET_INFO, info);
}

static inline __u32 avf_status(int vm)
{
	struct avf_vm_info info;

	return __avf_info(vm, &info) ? ~0U : info.status;
}

/* Read one event without blocking: 0 on success, -errno otherwise. */
static inline int avf_read_event(int vm, struct avf_event *ev)
{
	int fl = fcntl(vm, F_GETFL);
	ssize_t n;

	fcntl(vm, F_SETFL, fl | O_NONBLOCK);
	n = read(vm, ev, sizeof(*ev));
	fcntl(vm, F_SETFL, fl);
	if (n < 0)
		return -errno;
	return n == sizeof(*ev) ? 0 : -EIO;
}

#define avf_ioctl(_t, fd, cmd, arg) ({					\
	int __r = __avf_ioctl(fd, cmd, arg);				\
	ASSERT_GE(__r, 0) TH_LOG(#cmd " failed: %s", strerror(-__r));	\
	__r;								\
})

#endif
