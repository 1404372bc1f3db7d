/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI for the guest: the tables (RSDP, XSDT, FADT, FACS, DSDT, MADT) and
 * the fixed hardware the FADT describes, a PM1a event/control block and
 * the ACPI PM timer. Their one purpose is the PM timer: with it the guest
 * kernel references its LAPIC timer calibration to the PM timer and skips
 * the check against the PIT that fails on a starved host
 * (Documentation/vmm.rst, "ACPI").
 */
#ifndef AVF_VMM_ACPI_H
#define AVF_VMM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"

/* The PM ports (Documentation/vmm.rst, "ACPI"). */
#define ACPI_PM1_EVT_PORT	0x600	/* PM1a_STS (2 bytes), PM1a_EN (2 bytes) */
#define ACPI_PM1_CNT_PORT	0x604	/* PM1a_CNT (2 bytes) */
#define ACPI_PM_TMR_PORT	0x608	/* PM_TMR (4 bytes, 24 bits count) */
#define ACPI_PM_PORT_END	0x60c
#define ACPI_PM_TIMER_HZ	3579545ULL
/*
 * The SCI: an ISA IRQ no device uses (virtio-mmio has VIRTIO_MMIO_IRQ_BASE
 * and up, the UART SERIAL_IRQ). It is level-triggered, and a virtio
 * interrupt sharing it would be lost: irqfd pulses the line, and a pulse
 * while the previous interrupt awaits its EOI is dropped on a level pin.
 */
#define ACPI_SCI_IRQ		11

/* The PM1 registers the guest may write; every vCPU thread may touch them. */
struct acpi_pm {
	uint8_t en[2];		/* PM1a_EN as written (never acted on: no SCI is raised) */
	uint8_t cnt[2];		/* PM1a_CNT as written, SCI_EN always set, SLP_EN clear */
	uint64_t t0_ns;		/* the clock when the timer read 0 */
	uint64_t (*clock)(void);	/* ns, monotonic (vlog_now_ns; tests: a fake) */
};

/*
 * Write the tables for @ncpus vCPUs to GPA_ACPI (reserved in the memory
 * map); *@rsdp: the RSDP's guest-physical address for hvm_start_info.
 */
int acpi_write(const struct guest_mem *m, unsigned int ncpus, uint64_t *rsdp);

/* The timer starts at 0 now; @clock is read only when the guest reads it. */
void acpi_pm_init(struct acpi_pm *pm, uint64_t (*clock)(void));
/* The PM timer's count @ns after t0 (24 bits). */
uint32_t acpi_pm_timer(uint64_t ns);
/*
 * A port access from the guest (any port, size and data: untrusted):
 * false when @port is none of the PM ports. Reads of unused bytes are 0xff.
 */
bool acpi_pm_pio(struct acpi_pm *pm, uint16_t port, uint8_t *data, unsigned int size,
		 bool out);

#endif
