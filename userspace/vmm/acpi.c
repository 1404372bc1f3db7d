// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI 6.0 tables for a PVH guest and the PM1a / PM timer ports of its
 * FADT. Not hardware-reduced: Linux takes the PM timer only from a full
 * FADT. SMI_CMD 0 says the platform is in ACPI mode already; the DSDT has
 * no AML; no SCI is ever raised. Interrupt routing is the MP table's
 * (mptable.c): ISA IRQ n on I/O APIC pin n, the SCI level-triggered.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "acpi.h"
#include "boot.h"
#include "limits.h"

_Static_assert(ACPI_SCI_IRQ >= VIRTIO_MMIO_IRQ_BASE + VIRTIO_MMIO_SLOTS ||
	       ACPI_SCI_IRQ < VIRTIO_MMIO_IRQ_BASE, "the SCI on a virtio-mmio IRQ");
_Static_assert(ACPI_SCI_IRQ != SERIAL_IRQ && ACPI_SCI_IRQ < 16, "the SCI's ISA IRQ");

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, ioapic_id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, processor_id;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (6.0)");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

#define ACPI_GAS_IO		1
#define ACPI_GAS_ACCESS_WORD	2
#define ACPI_GAS_ACCESS_DWORD	3

#define FADT_F_WBINVD		(1U << 0)
#define FADT_F_PROC_C1		(1U << 2)
#define FADT_F_PWR_BUTTON	(1U << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1U << 5)	/* no fixed sleep button */
#define FADT_F_FIX_RTC		(1U << 6)	/* no RTC wake status */
#define IAPC_NO_VGA		(1U << 2)	/* no 8042 either: bit 1 clear */
#define IAPC_NO_CMOS_RTC	(1U << 5)

#define MADT_PCAT_COMPAT	1
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_ENABLED		1
#define MPS_INTI_HIGH_LEVEL	0x000d	/* active high, level-triggered */

#define PM1_SCI_EN		0x01	/* PM1a_CNT bit 0 */
#define PM1_SLP_EN_HI		0x20	/* PM1a_CNT bit 13, in its second byte */

/* Offsets of the tables in the GPA_ACPI page. */
#define OFF_RSDP	0x000
#define OFF_XSDT	0x040
#define OFF_FADT	0x080
#define OFF_FACS	0x1c0	/* 64-byte aligned */
#define OFF_DSDT	0x200
#define OFF_MADT	0x240

static void header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "AVFVMM", 6);
	memcpy(h->oem_table_id, "AVFVMM  ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "AVF ", 4);
	h->creator_revision = 1;
}

static struct acpi_gas io_gas(uint16_t port, unsigned int bytes)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_IO, .bit_width = (uint8_t)(bytes * 8),
		.access_size = bytes == 4 ? ACPI_GAS_ACCESS_DWORD : ACPI_GAS_ACCESS_WORD,
		.address = port,
	};
}

static void fadt_fill(struct acpi_fadt *f)
{
	header(&f->h, "FACP", sizeof(*f), 6);
	/* FIRMWARE_CTRL stays 0: X_FIRMWARE_CTRL names the FACS (ACPI 6.0, 5.2.9) */
	f->dsdt = (uint32_t)(GPA_ACPI + OFF_DSDT);
	f->sci_int = ACPI_SCI_IRQ;
	f->pm1a_evt_blk = ACPI_PM1_EVT_PORT;
	f->pm1a_cnt_blk = ACPI_PM1_CNT_PORT;
	f->pm_tmr_blk = ACPI_PM_TMR_PORT;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101;	/* > 100: no C2 */
	f->p_lvl3_lat = 1001;	/* > 1000: no C3 */
	f->iapc_boot_arch = IAPC_NO_VGA | IAPC_NO_CMOS_RTC;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
		   FADT_F_FIX_RTC;
	f->x_firmware_ctrl = GPA_ACPI + OFF_FACS;
	f->x_dsdt = GPA_ACPI + OFF_DSDT;
	f->x_pm1a_evt_blk = io_gas(ACPI_PM1_EVT_PORT, 4);
	f->x_pm1a_cnt_blk = io_gas(ACPI_PM1_CNT_PORT, 2);
	f->x_pm_tmr_blk = io_gas(ACPI_PM_TMR_PORT, 4);
	memcpy(&f->hypervisor_vendor, "AVFVMM\0\0", 8);
	f->h.checksum = table_checksum(f, sizeof(*f));
}

/* Append @n bytes of entry @e to the table at @p (@room bytes): false if full. */
static bool madt_add(uint8_t *p, size_t room, size_t *len, const void *e, size_t n)
{
	if (n > room - *len)
		return false;
	memcpy(p + *len, e, n);
	*len += n;
	return true;
}

static size_t madt_fill(uint8_t *p, size_t room, unsigned int ncpus)
{
	struct acpi_madt *madt = (struct acpi_madt *)p;
	/* the MP table's I/O APIC, the SCI's override, LINT1 as NMI on every CPU */
	const struct madt_ioapic io = {
		.type = MADT_IOAPIC, .length = sizeof(io), .ioapic_id = ioapic_id(ncpus),
		.address = (uint32_t)GPA_IOAPIC, .gsi_base = 0,
	};
	const struct madt_iso sci = {
		.type = MADT_ISO, .length = sizeof(sci), .bus = 0, .source = ACPI_SCI_IRQ,
		.gsi = ACPI_SCI_IRQ, .flags = MPS_INTI_HIGH_LEVEL,
	};
	const struct madt_lapic_nmi nmi = {
		.type = MADT_LAPIC_NMI, .length = sizeof(nmi), .processor_id = 0xff,
		.flags = 0, .lint = 1,
	};
	size_t len = sizeof(*madt);
	unsigned int i;

	if (room < len)
		return 0;
	madt->lapic_address = (uint32_t)GPA_LAPIC;
	madt->flags = MADT_PCAT_COMPAT;
	for (i = 0; i < ncpus; i++) {
		const struct madt_lapic l = {
			.type = MADT_LAPIC, .length = sizeof(l), .processor_id = (uint8_t)i,
			.apic_id = (uint8_t)i, .flags = MADT_ENABLED,
		};

		if (!madt_add(p, room, &len, &l, sizeof(l)))
			return 0;
	}
	if (!madt_add(p, room, &len, &io, sizeof(io)) ||
	    !madt_add(p, room, &len, &sci, sizeof(sci)) ||
	    !madt_add(p, room, &len, &nmi, sizeof(nmi)))
		return 0;
	header(&madt->h, "APIC", (uint32_t)len, 5);
	madt->h.checksum = table_checksum(p, len);
	return len;
}

int acpi_write(const struct guest_mem *m, unsigned int ncpus, uint64_t *rsdp_gpa)
{
	uint8_t *base = gmem_ptr(m, GPA_ACPI, GPA_ACPI_SIZE);
	struct acpi_rsdp *rsdp;
	struct acpi_header *xsdt, *dsdt;
	struct acpi_facs *facs;
	uint64_t entries[2];
	size_t madt_len;

	if (!base || ncpus == 0 || ncpus > VMM_CPUS_MAX)
		return -EINVAL;
	memset(base, 0, GPA_ACPI_SIZE);

	madt_len = madt_fill(base + OFF_MADT, GPA_ACPI_SIZE - OFF_MADT, ncpus);
	if (!madt_len)
		return -EINVAL;
	fadt_fill((struct acpi_fadt *)(base + OFF_FADT));

	facs = (struct acpi_facs *)(base + OFF_FACS);
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	dsdt = (struct acpi_header *)(base + OFF_DSDT);
	header(dsdt, "DSDT", sizeof(*dsdt), 2);
	dsdt->checksum = table_checksum(dsdt, sizeof(*dsdt));

	xsdt = (struct acpi_header *)(base + OFF_XSDT);
	entries[0] = GPA_ACPI + OFF_FADT;
	entries[1] = GPA_ACPI + OFF_MADT;
	header(xsdt, "XSDT", sizeof(*xsdt) + sizeof(entries), 1);
	memcpy(xsdt + 1, entries, sizeof(entries));
	xsdt->checksum = table_checksum(xsdt, xsdt->length);

	rsdp = (struct acpi_rsdp *)(base + OFF_RSDP);
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "AVFVMM", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = GPA_ACPI + OFF_XSDT;
	rsdp->checksum = table_checksum(rsdp, 20);
	rsdp->extended_checksum = table_checksum(rsdp, sizeof(*rsdp));
	*rsdp_gpa = GPA_ACPI + OFF_RSDP;
	return 0;
}

/* ---- the PM ports ---------------------------------------------------- */

void acpi_pm_init(struct acpi_pm *pm, uint64_t (*clock)(void))
{
	memset(pm, 0, sizeof(*pm));
	pm->cnt[0] = PM1_SCI_EN;
	pm->clock = clock;
	pm->t0_ns = clock();
}

uint32_t acpi_pm_timer(uint64_t ns)
{
	uint64_t s = ns / 1000000000ULL, rem = ns % 1000000000ULL;

	return (uint32_t)((s * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / 1000000000ULL) &
			  0xffffff);
}

static uint8_t pm_read_byte(struct acpi_pm *pm, unsigned int off, uint32_t tmr)
{
	switch (off) {
	case 0: case 1:			/* PM1a_STS: no event is ever pending */
		return 0;
	case 2: case 3:
		return __atomic_load_n(&pm->en[off - 2], __ATOMIC_RELAXED);
	case 4: case 5:
		return __atomic_load_n(&pm->cnt[off - 4], __ATOMIC_RELAXED);
	case 8: case 9: case 10: case 11:
		return (uint8_t)(tmr >> ((off - 8) * 8));
	}
	return 0xff;
}

static void pm_write_byte(struct acpi_pm *pm, unsigned int off, uint8_t v)
{
	switch (off) {
	case 2: case 3:
		__atomic_store_n(&pm->en[off - 2], v, __ATOMIC_RELAXED);
		break;
	case 4:			/* SCI_EN stays set: the platform is in ACPI mode */
		__atomic_store_n(&pm->cnt[0], (uint8_t)(v | PM1_SCI_EN), __ATOMIC_RELAXED);
		break;
	case 5:			/* SLP_EN reads as 0; no sleep state is offered (no _Sx) */
		__atomic_store_n(&pm->cnt[1], (uint8_t)(v & ~PM1_SLP_EN_HI), __ATOMIC_RELAXED);
		break;
	}
	/* PM1a_STS: write-1-to-clear of bits never set; PM_TMR: read-only */
}

bool acpi_pm_pio(struct acpi_pm *pm, uint16_t port, uint8_t *data, unsigned int size,
		 bool out)
{
	uint32_t tmr = 0;
	unsigned int i;

	if (port < ACPI_PM1_EVT_PORT || port >= ACPI_PM_PORT_END)
		return false;
	/* The clock only for a read that reaches the timer's bytes. */
	if (!out && port + size > ACPI_PM_TMR_PORT) {
		uint64_t now = pm->clock();

		tmr = acpi_pm_timer(now >= pm->t0_ns ? now - pm->t0_ns : 0);
	}
	for (i = 0; i < size; i++) {
		unsigned int off = port - ACPI_PM1_EVT_PORT + i;

		if (out)
			pm_write_byte(pm, off, data[i]);
		else
			data[i] = pm_read_byte(pm, off, tmr);
	}
	return true;
}
