// SPDX-License-Identifier: GPL-2.0
/* Host virtualization detection: the default boot (hang-up) timeout, the guest's timer. */
#include <cpuid.h>
#include <string.h>

#include "hostvirt.h"
#include "limits.h"

#define CPUID_HYPERVISOR_BIT	(1u << 31)	/* CPUID.1:ECX[31] */
#define CPUID_HV_BASE		0x40000000u

enum host_virt host_virt_classify(bool hv_bit, const char sig[12])
{
	if (!hv_bit)
		return HOST_VIRT_NONE;
	if (!memcmp(sig, "TCGTCGTCGTCG", 12))
		return HOST_VIRT_EMULATED;
	return HOST_VIRT_NESTED;
}

enum host_virt host_virt_detect(void)
{
	unsigned int a, b, c, d;
	char sig[12] = { 0 };

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return HOST_VIRT_NONE;
	if (!(c & CPUID_HYPERVISOR_BIT))
		return HOST_VIRT_NONE;
	__cpuid(CPUID_HV_BASE, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	return host_virt_classify(true, sig);
}

const char *host_virt_name(enum host_virt v)
{
	switch (v) {
	case HOST_VIRT_NONE: return "none";
	case HOST_VIRT_NESTED: return "nested";
	case HOST_VIRT_EMULATED: return "emulated";
	}
	return "?";
}

uint32_t hangup_default_s(enum host_virt v)
{
	switch (v) {
	case HOST_VIRT_NESTED:
		return HANGUP_TIMEOUT_DEFAULT_S * HANGUP_FACTOR_NESTED;
	case HOST_VIRT_EMULATED:
		return HANGUP_TIMEOUT_DEFAULT_S * HANGUP_FACTOR_EMULATED;
	case HOST_VIRT_NONE:
		break;
	}
	return HANGUP_TIMEOUT_DEFAULT_S;
}

/*
 * The TSC-deadline timer spares the guest kernel its LAPIC timer
 * calibration and check (~200 ms, the PIT set up and run) and is what QEMU's
 * -cpu host and Firecracker offer. Under TCG-emulated virtualization (the
 * test host) a guest that programs its timer through the deadline MSR was
 * seen halted with its timer due and no interrupt coming, under QEMU as
 * under avf-vmm: there the guest keeps the LAPIC's own timer.
 */
bool tsc_deadline_wanted(enum host_virt v, bool kvm_has)
{
	return kvm_has && v != HOST_VIRT_EMULATED;
}
