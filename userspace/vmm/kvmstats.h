/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's binary statistics of a vCPU (KVM_GET_STATS_FD, Linux 5.14): the
 * in-kernel exit counters that tell what a boot cost the host, read at the
 * guest runtime's BOOT line for the "boot counts" line of vmm.log
 * (Documentation/vmm.rst) and make check's boot-cost guard.
 */
#ifndef AVF_VMM_KVMSTATS_H
#define AVF_VMM_KVMSTATS_H

#include <stdint.h>

enum kvm_stat_id {
	KST_EXITS,	/* every exit from the guest (to KVM or further) */
	KST_IO_EXITS,	/* port I/O intercepts */
	KST_MMIO_EXITS,	/* MMIO emulated in userspace */
	KST_HALT_EXITS,	/* HLT */
	KST_INSN_EMULATION,	/* instructions KVM emulated */
	KST_PF_TAKEN,	/* stage-2 (NPT/EPT) faults: first touches of guest RAM */
	KST_COUNT
};

extern const char *const kvmstats_names[KST_COUNT];

struct kvm_stats {
	int fd;				/* -1: no statistics */
	uint64_t off[KST_COUNT];	/* byte offset of each value; 0: not offered */
};

/* Open @vcpu_fd's statistics; on failure s->fd is -1 and -errno returned. */
int kvmstats_open(int vcpu_fd, struct kvm_stats *s);
/* Add the current values to @sum (a counter not offered adds nothing). */
void kvmstats_add(const struct kvm_stats *s, uint64_t sum[KST_COUNT]);
void kvmstats_close(struct kvm_stats *s);

#endif
