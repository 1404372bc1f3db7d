// SPDX-License-Identifier: GPL-2.0
/*
 * Where libavf finds avf-vmm and the guest images. AVF_LIBEXECDIR and
 * AVF_DATADIR are the configured install directories (LIBEXECDIR/avf and
 * DATADIR/avf, compiled in by the Makefile); nothing else is fixed.
 *
 *   avf-vmm:  $AVF_VMM, else AVF_LIBEXECDIR/avf-vmm.
 *   kernel:   $AVF_GUEST_KERNEL, else AVF_DATADIR/vmlinux.
 *   initrd:   $AVF_GUEST_INITRD, else AVF_DATADIR/initramfs.cpio.gz.
 *
 * A developer build (AVF_DEVEL=1, which defines AVF_TREE_TOP: make user and
 * the tests, never make install) prefers the build tree when the installed
 * file is absent: <tree>/build/user/bin/avf-vmm,
 * <tree>/build/user/guest/{vmlinux,initramfs.cpio.gz}, and for the kernel
 * the newest kernel/build.sh output ($AVF_CACHE or ~/.cache/avf:
 * kernel/normal-XXX/vmlinux).
 *
 * Whichever VMM runs, only one the module trusts (set-uid to its vmm_uid, or
 * the owner in development mode) can bind: a VMM picked by $AVF_VMM gains
 * nothing.
 */
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef AVF_LIBEXECDIR
#define AVF_LIBEXECDIR "/usr/local/libexec/avf"
#endif
#ifndef AVF_DATADIR
#define AVF_DATADIR "/usr/local/share/avf"
#endif

/*
 * $env, else the installed path; a developer build (tree != NULL) takes the
 * tree's file first if tree_first (the images it just built), else only
 * when nothing is installed (the VMM: an installed one is the trusted one).
 */
static const char *pick(const char *env, const char *installed, const char *tree,
			bool tree_first)
{
	const char *v = getenv(env);

	if (v && *v)
		return v;
	if (tree && (tree_first || access(installed, F_OK) != 0) && access(tree, F_OK) == 0)
		return tree;
	return installed;
}

#ifdef AVF_TREE_TOP
#define TREE(p) (AVF_TREE_TOP p)
#else
#define TREE(p) NULL
#endif

const char *avf__vmm_path(void)
{
	return pick("AVF_VMM", AVF_LIBEXECDIR "/avf-vmm", TREE("/build/user/bin/avf-vmm"), false);
}

#ifdef AVF_TREE_TOP

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

#endif

const char *avf__guest_kernel_path(void)
{
	const char *p = pick("AVF_GUEST_KERNEL", AVF_DATADIR "/vmlinux",
			     TREE("/build/user/guest/vmlinux"), true);
#ifdef AVF_TREE_TOP
	const char *c;

	if (access(p, F_OK) == 0 || getenv("AVF_GUEST_KERNEL"))
		return p;
	c = cached_kernel();
	return c ? c : p;
#else
	return p;
#endif
}

const char *avf__guest_initrd_path(void)
{
	return pick("AVF_GUEST_INITRD", AVF_DATADIR "/initramfs.cpio.gz",
		    TREE("/build/user/guest/initramfs.cpio.gz"), true);
}
