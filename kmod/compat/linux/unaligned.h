/* SPDX-License-Identifier: GPL-2.0 */
/* Kernels before 6.12 have the unaligned helpers in <asm/unaligned.h>. */
#ifndef AVF_COMPAT_LINUX_UNALIGNED_H
#define AVF_COMPAT_LINUX_UNALIGNED_H
#include <asm/unaligned.h>
#endif
