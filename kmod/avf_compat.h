/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avf.ko builds against Linux 6.1 .. 6.12 and later (Documentation/install.rst).
 * The interfaces that changed within that range, each named by the release
 * that changed it, and detected by the interface itself rather than by
 * LINUX_VERSION_CODE (stable and distribution kernels take changes early).
 * Shims only: no kernel code is copied here.
 */
#ifndef AVF_COMPAT_H
#define AVF_COMPAT_H

#include <linux/file.h>

/* 6.12 moved the unaligned access helpers from <asm/unaligned.h>. */
#if __has_include("linux/unaligned.h")
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * 6.12 made struct fd opaque behind fd_file(); before, the file was the
 * member .file. fd_file() is a macro, so a stable kernel that took it early
 * keeps its own.
 */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

#endif /* AVF_COMPAT_H */
