// SPDX-License-Identifier: GPL-2.0
/*
 * Where libavf finds avf-vmm and the guest images.
 *
 *   avf-vmm:  $AVF_VMM, else the installed /usr/libexec/avf/avf-vmm or
 *             /usr/local/libexec/avf/avf-vmm (the first that exists), else
 *             <tree>/build/user/bin/avf-vmm (compiled in as AVF_TREE_TOP).
 *             Whichever runs, only a VMM the module trusts (set-uid to its
 *             vmm_uid, or the owner in development mode) can bind: a VMM
 *             picked by $AVF_VMM gains nothing.
 *   kernel:   $AVF_GUEST_KERNEL, else <tree>/build/user/guest/vmlinux,
 *             else /usr/local/share/avf/vmlinux when it exists, else the
 *             newest kernel/build.sh output ($AVF_CACHE or
 *             ~/.cache/avf: kernel/normal-XXX/vmlinux)
 *   initrd:   $AVF_GUEST_INITRD, else
 *             <tree>/build/user/guest/initramfs.cpio.gz, else
 *             /usr/local/share/avf/initramfs.cpio.gz
 */
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	static const char *const installed[] = {
		"/usr/libexec/avf/avf-vmm",
		"/usr/local/libexec/avf/avf-vmm",
	};
	const char *v = getenv("AVF_VMM");

	if (v && *v)
		return v;
	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++)
		if (access(installed[i], X_OK) == 0)
			return installed[i];
	return AVF_TREE_TOP "/build/user/bin/avf-vmm";
}

/* The newest cached kernel build's vmlinux, or NULL. */
static const char *cached_kernel(void)
{
	static char best[PATH_MAX];
	const char *cache = getenv("AVF_CACHE"), *home = getenv("HOME");
	char pattern[PATH_MAX];
	struct timespec newest = { 0, 0 };
	glob_t g;

	if (cache && *cache)
		snprintf(pattern, sizeof(pattern), "%s/kernel/normal-*/vmlinux", cache);
	else if (home && *home)
		snprintf(pattern, sizeof(pattern), "%s/.cache/avf/kernel/normal-*/vmlinux", home);
	else
		return NULL;
	best[0] = '\0';
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat st;

			if (stat(g.gl_pathv[i], &st) == 0 &&
			    (st.st_mtim.tv_sec > newest.tv_sec ||
			     (st.st_mtim.tv_sec == newest.tv_sec &&
			      st.st_mtim.tv_nsec > newest.tv_nsec))) {
				newest = st.st_mtim;
				snprintf(best, sizeof(best), "%s", g.gl_pathv[i]);
			}
		}
		globfree(&g);
	}
	return best[0] ? best : NULL;
}

const char *avf__guest_kernel_path(void)
{
	const char *p = pick("AVF_GUEST_KERNEL", AVF_TREE_TOP "/build/user/guest/vmlinux",
			     "/usr/local/share/avf/vmlinux");
	const char *c;

	if (access(p, F_OK) == 0 || getenv("AVF_GUEST_KERNEL"))
		return p;
	c = cached_kernel();
	return c ? c : p;
}

const char *avf__guest_initrd_path(void)
{
	return pick("AVF_GUEST_INITRD", AVF_TREE_TOP "/build/user/guest/initramfs.cpio.gz",
		    "/usr/local/share/avf/initramfs.cpio.gz");
}
