/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What avf-vmm itself runs on, for the default hang-up (boot) timeout and
 * the guest's timer: bare metal, a hardware-assisted hypervisor (nested virtualization) or a
 * CPU emulator (QEMU TCG). Documentation/vmm.rst, "Hang-up".
 */
#ifndef AVF_VMM_HOSTVIRT_H
#define AVF_VMM_HOSTVIRT_H

#include <stdbool.h>
#include <stdint.h>

enum host_virt {
	HOST_VIRT_NONE,		/* CPUID.1:ECX.hypervisor clear: real KVM */
	HOST_VIRT_NESTED,	/* under another hypervisor (KVM, Hyper-V, ...) */
	HOST_VIRT_EMULATED,	/* hypervisor signature "TCGTCGTCGTCG" */
};

/* @sig: the 12 bytes of CPUID 0x40000000 EBX:ECX:EDX (only read if @hv_bit). */
enum host_virt host_virt_classify(bool hv_bit, const char sig[12]);
/* Run CPUID on this CPU. */
enum host_virt host_virt_detect(void);
const char *host_virt_name(enum host_virt v);
/* HANGUP_TIMEOUT_DEFAULT_S times the factor for @v. */
uint32_t hangup_default_s(enum host_virt v);
/*
 * Whether the guest is offered the TSC-deadline timer (CPUID.1:ECX[24])
 * when KVM emulates it (@kvm_has: KVM_CAP_TSC_DEADLINE_TIMER): on every
 * host but an emulated one (Documentation/vmm.rst, "Memory map").
 */
bool tsc_deadline_wanted(enum host_virt v, bool kvm_has);

#endif
