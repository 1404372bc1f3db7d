// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MultiProcessor Specification 1.4 tables so that Linux finds every
 * vCPU and the I/O APIC without ACPI. Placed in the last KiB of base memory
 * (0x9fc00), one of the places Linux scans.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "limits.h"

#define MPC_SPEC		4	/* 1.4 */
#define MP_APIC_VERSION		0x14
#define MP_PROCESSOR		0
#define MP_BUS			1
#define MP_IOAPIC		2
#define MP_INTSRC		3
#define MP_LINTSRC		4
#define CPU_ENABLED		1
#define CPU_BOOTPROCESSOR	2
#define MP_INT			0
#define MP_NMI			1
#define MP_EXTINT		3
#define MP_IRQ_DEFAULT		0	/* conforms to bus */
#define ISA_IRQS		16

struct mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1;
	uint8_t feature2;
	uint8_t feature3;
	uint8_t feature4;
	uint8_t feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

uint8_t table_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

int mptable_write(const struct guest_mem *m, unsigned int ncpus)
{
	size_t size = sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
		      ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		      sizeof(struct mpc_ioapic) + (ISA_IRQS + 2) * sizeof(struct mpc_intsrc);
	uint8_t *base = gmem_ptr(m, GPA_EBDA, GPA_EBDA_END - GPA_EBDA);
	uint8_t io_id = ioapic_id(ncpus);
	struct mpf_intel *mpf;
	struct mpc_table *mpc;
	uint8_t *p;
	unsigned int i;

	if (!base || size > GPA_EBDA_END - GPA_EBDA || ncpus == 0 || ncpus > VMM_CPUS_MAX)
		return -EINVAL;
	memset(base, 0, GPA_EBDA_END - GPA_EBDA);

	mpf = (struct mpf_intel *)base;
	mpc = (struct mpc_table *)(base + sizeof(*mpf));
	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(GPA_EBDA + sizeof(*mpf));
	mpf->length = 1;	/* in 16-byte units */
	mpf->specification = MPC_SPEC;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->spec = MPC_SPEC;
	memcpy(mpc->oem, "AVF     ", 8);
	memcpy(mpc->productid, "AVF-VMM     ", 12);
	mpc->lapic = (uint32_t)GPA_LAPIC;
	p = (uint8_t *)(mpc + 1);

	for (i = 0; i < ncpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = (uint8_t)i,
			.apicver = MP_APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = 0x600,	/* family 6 */
			.featureflag = 0x201,	/* FPU, APIC */
		};
		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
		mpc->oemcount++;
	}
	{
		struct mpc_bus bus = { .type = MP_BUS, .busid = 0 };

		memcpy(bus.bustype, "ISA   ", 6);
		memcpy(p, &bus, sizeof(bus));
		p += sizeof(bus);
		mpc->oemcount++;
	}
	{
		struct mpc_ioapic io = {
			.type = MP_IOAPIC, .apicid = io_id, .apicver = MP_APIC_VERSION,
			.flags = 1, .apicaddr = (uint32_t)GPA_IOAPIC,
		};
		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		mpc->oemcount++;
	}
	/* ISA IRQ n -> I/O APIC pin n (KVM's default GSI routing). */
	for (i = 0; i < ISA_IRQS; i++) {
		struct mpc_intsrc src = {
			.type = MP_INTSRC, .irqtype = MP_INT, .irqflag = MP_IRQ_DEFAULT,
			.srcbus = 0, .srcbusirq = (uint8_t)i, .dstapic = io_id,
			.dstirq = (uint8_t)i,
		};
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
		mpc->oemcount++;
	}
	{
		struct mpc_intsrc lint[2] = {
			{ .type = MP_LINTSRC, .irqtype = MP_EXTINT, .srcbus = 0,
			  .dstapic = 0xff, .dstirq = 0 },
			{ .type = MP_LINTSRC, .irqtype = MP_NMI, .srcbus = 0,
			  .dstapic = 0xff, .dstirq = 1 },
		};
		memcpy(p, lint, sizeof(lint));
		p += sizeof(lint);
		mpc->oemcount += 2;
	}
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->checksum = table_checksum(mpc, mpc->length);
	mpf->checksum = table_checksum(mpf, sizeof(*mpf));
	return 0;
}
