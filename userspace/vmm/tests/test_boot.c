// SPDX-License-Identifier: GPL-2.0
/* Boot-image preparation: ELF loader (hostile images), cpio, config tree, PVH info, MP table. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <libfdt.h>

#include "kselftest_harness.h"

#include "acpi.h"
#include "boot.h"
#include "newc.h"
#include "vmcfg.h"
#include "fake_guest.h"
#include "limits.h"

#define RAM	(4U << 20)

struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t code[64];
} __attribute__((packed));

static void make_img(struct img *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_phoff = offsetof(struct img, ph);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 2;
	im->ph[0].p_type = PT_NOTE;
	im->ph[0].p_offset = offsetof(struct img, nh);
	im->ph[0].p_filesz = sizeof(Elf64_Nhdr) + 8;
	im->ph[1].p_type = PT_LOAD;
	im->ph[1].p_offset = offsetof(struct img, code);
	im->ph[1].p_paddr = 0x200000;
	im->ph[1].p_filesz = sizeof(im->code);
	im->ph[1].p_memsz = 0x1000;
	im->nh.n_namesz = 4;
	im->nh.n_descsz = 4;
	im->nh.n_type = XEN_ELFNOTE_PHYS32_ENTRY;
	memcpy(im->name, "Xen", 4);
	im->entry = 0x200010;
	memset(im->code, 0x90, sizeof(im->code));
}

FIXTURE(elf) {
	struct guest_mem m;
	struct img im;
	uint64_t entry, start, end;
};

FIXTURE_SETUP(elf)
{
	self->m.host = calloc(1, RAM);
	self->m.size = RAM;
	self->m.memfd = -1;
	make_img(&self->im);
}

FIXTURE_TEARDOWN(elf)
{
	free(self->m.host);
}

#define LOAD() elf_load_pvh(&self->m, (const uint8_t *)&self->im, sizeof(self->im), \
			    &self->entry, &self->start, &self->end)

TEST_F(elf, loads)
{
	self->m.host[0x200000 + 0x800] = 0xcc;	/* bss must be cleared */
	ASSERT_EQ(0, LOAD());
	EXPECT_EQ(0x200010ULL, self->entry);
	EXPECT_EQ(0x201000ULL, self->end);
	EXPECT_EQ(0x200000ULL, self->start);
	EXPECT_EQ(0x90, self->m.host[0x200000]);
	EXPECT_EQ(0, self->m.host[0x200800]);
}

TEST_F(elf, not_elf)
{
	self->im.eh.e_ident[1] = 'X';
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, no_pvh_note)
{
	self->im.nh.n_type = 17;
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, phdrs_out_of_file)
{
	self->im.eh.e_phoff = 1ULL << 40;
	EXPECT_EQ(-ENOEXEC, LOAD());
	make_img(&self->im);
	self->im.eh.e_phnum = 0xffff;
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, segment_out_of_file)
{
	self->im.ph[1].p_offset = UINT64_MAX - 4;
	EXPECT_EQ(-ENOEXEC, LOAD());
	make_img(&self->im);
	self->im.ph[1].p_filesz = 4096;
	self->im.ph[1].p_memsz = 4096;
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, filesz_above_memsz)
{
	self->im.ph[1].p_memsz = 8;
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, segment_outside_ram)
{
	self->im.ph[1].p_paddr = RAM - 16;
	EXPECT_EQ(-ENOMEM, LOAD());
	make_img(&self->im);
	self->im.ph[1].p_paddr = UINT64_MAX - 8;
	EXPECT_EQ(-ENOMEM, LOAD());
	make_img(&self->im);
	self->im.ph[1].p_paddr = 0x1000;	/* below 1 MiB */
	EXPECT_EQ(-ENOEXEC, LOAD());
}

TEST_F(elf, bad_note_sizes)
{
	self->im.nh.n_descsz = 0xfffffff0;
	EXPECT_EQ(-ENOEXEC, LOAD());
	make_img(&self->im);
	self->im.nh.n_descsz = 3;
	self->im.ph[0].p_filesz = sizeof(Elf64_Nhdr) + 8;
	EXPECT_EQ(-ENOEXEC, LOAD());
}

static unsigned long hex8(const uint8_t *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = 0;
	return strtoul(s, NULL, 16);
}

TEST(cpio_layout)
{
	struct avf_newc b = { 0 };
	size_t off = 0, n = 0, secret_off;
	const char *names[4];

	ASSERT_EQ(0, avf_newc_add(&b, "avf", 040755, NULL, 0));
	ASSERT_EQ(0, avf_newc_add(&b, "avf/config.dtb", 0100444, "12345", 5));
	ASSERT_EQ(0, avf_newc_add_at(&b, "avf/secret", 0100400, "SECRET", 6, &secret_off));
	ASSERT_EQ(0, memcmp(b.buf + secret_off, "SECRET", 6));
	EXPECT_EQ(0U, secret_off % 4);
	ASSERT_EQ(0, avf_newc_finish(&b));
	EXPECT_EQ(0U, b.len % 4);
	while (off < b.len && n < 4) {
		unsigned long fsz, nsz;

		ASSERT_EQ(0, memcmp(b.buf + off, "070701", 6));
		fsz = hex8(b.buf + off + 6 + 6 * 8);
		nsz = hex8(b.buf + off + 6 + 11 * 8);
		names[n++] = (const char *)b.buf + off + 110;
		off = (off + 110 + nsz + 3) & ~3UL;
		if (fsz == 5)
			EXPECT_EQ(0, memcmp(b.buf + off, "12345", 5));
		off = (off + fsz + 3) & ~3UL;
	}
	ASSERT_EQ(4U, n);
	EXPECT_STREQ("avf", names[0]);
	EXPECT_STREQ("avf/config.dtb", names[1]);
	EXPECT_STREQ("avf/secret", names[2]);
	EXPECT_STREQ("TRAILER!!!", names[3]);
	EXPECT_EQ(b.len, off);
	avf_newc_free(&b);
}

static uint32_t prop_u32(const void *fdt, int node, const char *name)
{
	const fdt32_t *p = fdt_getprop(fdt, node, name, NULL);

	return p ? fdt32_to_cpu(*p) : 0xdeadbeef;
}

TEST(config_tree)
{
	struct avf_vmcfg cfg = {
		.payload_name = "hello.so", .debug_level = 1, .protected_vm = 0, .cid = 2049,
		.memory_mib = 256, .cpus = 2, .storage = 1, .new_instance_set = true,
	};
	uint8_t buf[AVF_VMCFG_BUILD_MAX];
	int len, node;

	len = avf_vmcfg_build(&cfg, buf, sizeof(buf));
	ASSERT_GT(len, 0);
	ASSERT_EQ(0, fdt_check_header(buf));
	node = fdt_path_offset(buf, "/avf");
	ASSERT_GE(node, 0);
	EXPECT_EQ(0, fdt_node_check_compatible(buf, node, "avf,vm-config-v1"));
	EXPECT_STREQ("hello.so", (const char *)fdt_getprop(buf, node, "payload-binary-name", NULL));
	EXPECT_EQ(1U, prop_u32(buf, node, "debug-level"));
	EXPECT_EQ(0U, prop_u32(buf, node, "protected"));
	EXPECT_EQ(2049U, prop_u32(buf, node, "cid"));
	EXPECT_EQ(256U, prop_u32(buf, node, "memory-mib"));
	EXPECT_EQ(2U, prop_u32(buf, node, "cpus"));
	EXPECT_EQ(1U, prop_u32(buf, node, "storage"));
	EXPECT_EQ(0U, prop_u32(buf, node, "new-instance"));
	EXPECT_EQ(-ENOSPC, avf_vmcfg_build(&cfg, buf, 64));
}

/* What avf-vmm writes is what the guest runtime reads back (one contract). */
TEST(config_tree_round_trip)
{
	struct avf_vmcfg cfg = {
		.payload_name = "libpayload.so", .debug_level = 0, .cid = 4096,
		.memory_mib = 512, .cpus = 4, .storage = 0, .new_instance_set = true,
		.new_instance = 1,
	}, back;
	uint8_t buf[AVF_VMCFG_BUILD_MAX];
	char err[128];
	int len;

	len = avf_vmcfg_build(&cfg, buf, sizeof(buf));
	ASSERT_GT(len, 0);
	ASSERT_EQ(0, avf_vmcfg_parse(buf, (size_t)len, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(0, memcmp(&cfg, &back, sizeof(cfg)));
	/* a name the guest refuses is written as given and refused on parse */
	strcpy(cfg.payload_name, "../x.so");
	len = avf_vmcfg_build(&cfg, buf, sizeof(buf));
	ASSERT_GT(len, 0);
	EXPECT_EQ(-1, avf_vmcfg_parse(buf, (size_t)len, &back, err, sizeof(err)));
}

TEST(start_info)
{
	struct fake_guest g;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry map[MEMMAP_MAX_ENTRIES];
	uint64_t gpa;
	unsigned int i, ram = 0;

	fg_init(&g);
	ASSERT_EQ(0, pvh_write_start_info(&g.mem, GPA_CMDLINE, 0x80000, 1234, 0, &gpa));
	memcpy(&si, g.mem.host + gpa, sizeof(si));
	EXPECT_EQ(XEN_HVM_START_MAGIC, si.magic);
	EXPECT_EQ(1U, si.version);
	EXPECT_EQ(1U, si.nr_modules);
	EXPECT_EQ(GPA_CMDLINE, si.cmdline_paddr);
	memcpy(&mod, g.mem.host + si.modlist_paddr, sizeof(mod));
	EXPECT_EQ(0x80000ULL, mod.paddr);
	EXPECT_EQ(1234ULL, mod.size);
	ASSERT_LE(si.memmap_entries, MEMMAP_MAX_ENTRIES);
	memcpy(map, g.mem.host + si.memmap_paddr, sizeof(map[0]) * si.memmap_entries);
	for (i = 0; i < si.memmap_entries; i++)
		if (map[i].type == E820_RAM)
			ram += (unsigned int)map[i].size;
	EXPECT_EQ(FG_RAM - (GPA_HIGH_RAM - GPA_EBDA), ram);
	EXPECT_EQ(0ULL, si.rsdp_paddr);
	fg_free(&g);
}

/* The ranges of boot_prefault_plan(): ascending, disjoint, inside RAM; kernel and initramfs in full. */
static bool plan_sane(uint64_t mem, uint64_t ks, uint64_t ke, uint64_t ig, uint64_t il,
		      const struct gpa_range *r, size_t n)
{
	uint64_t end = 0, kernel = 0, initrd = 0;
	size_t i;

	if (n > BOOT_PREFAULT_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!r[i].len || r[i].gpa < end || r[i].len > mem - r[i].gpa)
			return false;
		end = r[i].gpa + r[i].len;
		if (r[i].gpa <= ks && end >= ke)
			kernel = ke - ks;
		if (r[i].gpa <= ig && end >= ig + il)
			initrd = il;
	}
	return kernel == ke - ks && initrd == il;
}

TEST(prefault_plan_follows_the_guest_layout)
{
	const uint64_t ks = 0x1000000, ke = 0x1c18000, il = 1788696;
	static const struct {
		uint64_t mib;
		uint64_t below_kib;	/* how far below the initramfs the plan starts */
	} t[] = {
		{ 64, 1024 + 2560 }, { 256, 4096 + 2560 }, { 512, 8192 + 2560 },
		{ 1024, 16384 + 2560 }, { 4096, 65536 + 2560 },
	};
	struct gpa_range r[BOOT_PREFAULT_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t mem = t[i].mib << 20, ig = (mem - il - 4096) & ~0xfffULL;

		n = boot_prefault_plan(mem, ks, ke, ig, il, r);
		ASSERT_EQ(5U, n);
		EXPECT_TRUE(plan_sane(mem, ks, ke, ig, il, r, n));
		/* the early allocations, 768 KiB to 7 MiB */
		EXPECT_EQ(0xc0000ULL, r[0].gpa);
		EXPECT_EQ(7ULL << 20, r[0].gpa + r[0].len);
		EXPECT_EQ(ks, r[1].gpa);
		/* above the kernel: 2 MiB and 1.5 KiB per MiB */
		EXPECT_EQ(ke, r[2].gpa);
		EXPECT_EQ((2ULL << 20) + t[i].mib * 1536, r[2].len);
		/* below the initramfs: the memory map and 2.5 MiB */
		EXPECT_EQ(ig - (t[i].below_kib << 10), r[3].gpa);
		EXPECT_EQ(ig, r[4].gpa);
		EXPECT_EQ(il, r[4].len);
	}
}

TEST(prefault_plan_clips_a_crowded_layout)
{
	static const struct {
		uint64_t mem, ks, ke, ig, il;
	} t[] = {
		/* 32 MiB: below-initramfs and above-kernel meet */
		{ 32ULL << 20, 0x1000000, 0x1c18000, 0x1e00000, 0x100000 },
		/* the initramfs right after the kernel */
		{ 32ULL << 20, 0x1000000, 0x1c18000, 0x1c18000, 0x3e8000 },
		/* a kernel low enough to overlap the early range */
		{ 64ULL << 20, 0x200000, 0x800000, 0x3e00000, 0x200000 },
		/* a kernel ending at the top of RAM, no initramfs */
		{ 32ULL << 20, 0x1000000, 0x2000000, 0x2000000, 0 },
		/* RAM smaller than the early range */
		{ 4ULL << 20, 0x100000, 0x200000, 0x300000, 0x100000 },
	};
	struct gpa_range r[BOOT_PREFAULT_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = boot_prefault_plan(t[i].mem, t[i].ks, t[i].ke, t[i].ig, t[i].il, r);
		EXPECT_LE(1U, n);
		EXPECT_TRUE(plan_sane(t[i].mem, t[i].ks, t[i].ke, t[i].ig, t[i].il, r, n)) {
			TH_LOG("case %zu", i);
		}
	}
}

/* With ACPI tables: the RSDP is handed over and their page is reserved. */
TEST(start_info_acpi)
{
	struct hvm_memmap_table_entry map[MEMMAP_MAX_ENTRIES];
	struct hvm_start_info si;
	struct fake_guest g;
	uint64_t gpa, rsdp;
	unsigned int i;
	bool reserved = false;

	fg_init(&g);
	ASSERT_EQ(0, acpi_write(&g.mem, 2, &rsdp));
	ASSERT_EQ(0, pvh_write_start_info(&g.mem, GPA_CMDLINE, 0x80000, 1234, rsdp, &gpa));
	memcpy(&si, g.mem.host + gpa, sizeof(si));
	EXPECT_EQ(GPA_ACPI, si.rsdp_paddr);
	ASSERT_LE(si.memmap_entries, MEMMAP_MAX_ENTRIES);
	memcpy(map, g.mem.host + si.memmap_paddr, sizeof(map[0]) * si.memmap_entries);
	for (i = 0; i < si.memmap_entries; i++) {
		if (map[i].addr == GPA_ACPI && map[i].size == GPA_ACPI_SIZE)
			reserved = map[i].type == E820_RESERVED;
		/* no RAM over the tables */
		if (map[i].type == E820_RAM)
			EXPECT_TRUE(map[i].addr >= GPA_ACPI + GPA_ACPI_SIZE ||
				    map[i].addr + map[i].size <= GPA_ACPI);
	}
	EXPECT_TRUE(reserved);
	fg_free(&g);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

TEST(mptable)
{
	struct fake_guest g;
	const uint8_t *mpf, *mpc;
	uint16_t len;
	uint32_t ptr;

	fg_init(&g);
	ASSERT_EQ(0, mptable_write(&g.mem, 4));
	mpf = g.mem.host + GPA_EBDA;
	ASSERT_EQ(0, memcmp(mpf, "_MP_", 4));
	EXPECT_EQ(0, sum(mpf, 16));
	memcpy(&ptr, mpf + 4, 4);
	mpc = g.mem.host + ptr;
	ASSERT_EQ(0, memcmp(mpc, "PCMP", 4));
	memcpy(&len, mpc + 4, 2);
	EXPECT_EQ(0, sum(mpc, len));
	EXPECT_EQ(-EINVAL, mptable_write(&g.mem, 0));
	EXPECT_EQ(-EINVAL, mptable_write(&g.mem, VMM_CPUS_MAX + 1));
	fg_free(&g);
}

/* An ACPI table the guest reaches from the XSDT: signature and checksum. */
static const uint8_t *acpi_table(struct __test_metadata *_metadata, const uint8_t *ram,
				 uint64_t gpa, const char *sig)
{
	const uint8_t *t = ram + gpa;
	uint32_t len;

	EXPECT_EQ(0, memcmp(t, sig, 4)) TH_LOG("%.4s, not %s", (const char *)t, sig);
	memcpy(&len, t + 4, 4);
	EXPECT_LE(36U, len);
	EXPECT_LE(gpa + len, GPA_ACPI + GPA_ACPI_SIZE);
	EXPECT_EQ(0, sum(t, len)) TH_LOG("%s checksum", sig);
	return t;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

TEST(acpi_tables)
{
	const uint8_t *ram, *rsdp, *xsdt, *fadt, *madt, *e;
	unsigned int lapics = 0, ioapics = 0, n;
	struct fake_guest g;
	uint64_t gpa;
	uint32_t len;

	fg_init(&g);
	ram = g.mem.host;
	ASSERT_EQ(0, acpi_write(&g.mem, 3, &gpa));
	EXPECT_EQ(GPA_ACPI, gpa);
	rsdp = ram + gpa;
	ASSERT_EQ(0, memcmp(rsdp, "RSD PTR ", 8));
	EXPECT_EQ(0, sum(rsdp, 20));
	EXPECT_EQ(2, rsdp[15]);			/* revision: the XSDT is valid */
	EXPECT_EQ(36U, rd32(rsdp + 20));
	EXPECT_EQ(0, sum(rsdp, 36));

	xsdt = acpi_table(_metadata, ram, rd64(rsdp + 24), "XSDT");
	ASSERT_EQ(36U + 16, rd32(xsdt + 4));
	fadt = acpi_table(_metadata, ram, rd64(xsdt + 36), "FACP");
	madt = acpi_table(_metadata, ram, rd64(xsdt + 44), "APIC");

	/* FADT 6.0: full hardware (the PM timer is only read from such a FADT) */
	EXPECT_EQ(276U, rd32(fadt + 4));
	EXPECT_EQ(0U, rd32(fadt + 112) & (1U << 20));	/* HW_REDUCED_ACPI clear */
	EXPECT_EQ(0U, rd32(fadt + 48));			/* SMI_CMD: in ACPI mode */
	EXPECT_EQ(ACPI_SCI_IRQ, fadt[46]);
	EXPECT_EQ((uint32_t)ACPI_PM1_EVT_PORT, rd32(fadt + 56));
	EXPECT_EQ((uint32_t)ACPI_PM1_CNT_PORT, rd32(fadt + 64));
	EXPECT_EQ((uint32_t)ACPI_PM_TMR_PORT, rd32(fadt + 76));
	EXPECT_EQ(4, fadt[88]);
	EXPECT_EQ(2, fadt[89]);
	EXPECT_EQ(4, fadt[91]);
	EXPECT_EQ(1, fadt[208]);			/* X_PM_TMR_BLK: system I/O */
	EXPECT_EQ(32, fadt[209]);
	EXPECT_EQ((uint64_t)ACPI_PM_TMR_PORT, rd64(fadt + 212));
	EXPECT_EQ(0U, rd32(fadt + 36));			/* FIRMWARE_CTRL: X_ only */
	acpi_table(_metadata, ram, rd64(fadt + 140), "DSDT");
	e = ram + rd64(fadt + 132);
	EXPECT_EQ(0, memcmp(e, "FACS", 4));
	EXPECT_EQ(64U, rd32(e + 4));
	EXPECT_EQ(0U, rd64(fadt + 132) % 64);

	/* MADT: the vCPUs and the MP table's I/O APIC (ID after the vCPUs') */
	EXPECT_EQ((uint32_t)GPA_LAPIC, rd32(madt + 36));
	len = rd32(madt + 4);
	for (n = 44; n + 2 <= len && madt[n + 1] >= 2; n += madt[n + 1]) {
		e = madt + n;
		if (e[0] == 0) {
			EXPECT_EQ(lapics, e[3]);	/* APIC ID */
			EXPECT_EQ(1U, rd32(e + 4) & 1);
			lapics++;
		} else if (e[0] == 1) {
			EXPECT_EQ(3, e[2]);
			EXPECT_EQ((uint32_t)GPA_IOAPIC, rd32(e + 4));
			ioapics++;
		}
	}
	EXPECT_EQ(len, n);
	EXPECT_EQ(3U, lapics);
	EXPECT_EQ(1U, ioapics);

	EXPECT_EQ(-EINVAL, acpi_write(&g.mem, 0, &gpa));
	EXPECT_EQ(-EINVAL, acpi_write(&g.mem, VMM_CPUS_MAX + 1, &gpa));
	ASSERT_EQ(0, acpi_write(&g.mem, VMM_CPUS_MAX, &gpa));
	madt = acpi_table(_metadata, ram, rd64(ram + rd64(ram + gpa + 24) + 44), "APIC");
	fg_free(&g);
}

TEST(acpi_pm_timer_counts_at_3_58_mhz)
{
	EXPECT_EQ(0U, acpi_pm_timer(0));
	EXPECT_EQ(3579545U, acpi_pm_timer(1000000000ULL));
	EXPECT_EQ(357954U, acpi_pm_timer(100000000ULL));
	EXPECT_EQ((uint32_t)((5ULL * 3579545) & 0xffffff), acpi_pm_timer(5000000000ULL));
	/* no overflow for a VM up for a long time: 2^40 ns ~ 12.7 days */
	EXPECT_EQ((uint32_t)((((1ULL << 40) / 1000000000ULL) * 3579545ULL +
			      ((1ULL << 40) % 1000000000ULL) * 3579545ULL / 1000000000ULL) &
			     0xffffff), acpi_pm_timer(1ULL << 40));
	EXPECT_GE(0xffffffU, acpi_pm_timer(UINT64_MAX));
}

/* The fake clock of acpi_pm_ports: the time it tells, and its reads. */
static uint64_t fake_ns;
static unsigned int fake_reads;

static uint64_t fake_clock(void)
{
	fake_reads++;
	return fake_ns;
}

/* The PM ports, as a hostile guest may drive them. */
TEST(acpi_pm_ports)
{
	const uint64_t t0 = 5000000000ULL, s = 1000000000ULL;
	struct acpi_pm pm;
	uint8_t d[4];
	uint32_t v;
	uint16_t w;

	fake_ns = t0;
	acpi_pm_init(&pm, fake_clock);
	fake_reads = 0;
	/* not ours */
	EXPECT_FALSE(acpi_pm_pio(&pm, ACPI_PM1_EVT_PORT - 1, d, 1, false));
	EXPECT_FALSE(acpi_pm_pio(&pm, ACPI_PM_PORT_END, d, 4, false));
	EXPECT_FALSE(acpi_pm_pio(&pm, 0xcf9, d, 1, true));
	/* PM1a_STS: nothing pending, and writes (W1C) change nothing */
	memset(d, 0xff, 2);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_EVT_PORT, d, 2, true));
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_EVT_PORT, d, 2, false));
	memcpy(&w, d, 2);
	EXPECT_EQ(0, w);
	/* PM1a_EN keeps what is written */
	w = 0x0121;
	memcpy(d, &w, 2);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_EVT_PORT + 2, d, 2, true));
	memset(d, 0, 4);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_EVT_PORT, d, 4, false));
	EXPECT_EQ(0, d[0]);
	EXPECT_EQ(0, d[1]);
	EXPECT_EQ(0x21, d[2]);
	EXPECT_EQ(0x01, d[3]);
	/* PM1a_CNT: SCI_EN always set, SLP_EN never latched */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT, d, 2, false));
	memcpy(&w, d, 2);
	EXPECT_EQ(1, w);
	w = 0x3c00;			/* SLP_TYP 7 | SLP_EN, SCI_EN clear */
	memcpy(d, &w, 2);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT, d, 2, true));
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT, d, 2, false));
	memcpy(&w, d, 2);
	EXPECT_EQ(0x1c01, w);
	/* the gap between the blocks reads as all ones */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT + 2, d, 2, false));
	EXPECT_EQ(0xff, d[0]);
	EXPECT_EQ(0xff, d[1]);
	/* no access so far, nor a write to the timer, reads the clock */
	memset(d, 0xaa, 4);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT, d, 4, true));
	EXPECT_EQ(0U, fake_reads);
	/* a PM1a_CNT read running into the gap only: no clock either */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT, d, 4, false));
	EXPECT_EQ(0U, fake_reads);
	/* PM_TMR: 0 at t0, one second later 3,579,545; read-only */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT, d, 4, false));
	EXPECT_EQ(0U, rd32(d));
	EXPECT_EQ(1U, fake_reads);
	fake_ns = t0 + s;
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT, d, 4, false));
	EXPECT_EQ(3579545U, rd32(d));
	/* a read from the gap running into the timer reads it */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM1_CNT_PORT + 2, d, 4, false));
	EXPECT_EQ(0xff, d[1]);
	EXPECT_EQ(3579545U & 0xff, d[2]);
	EXPECT_EQ(3U, fake_reads);
	/* byte by byte, and a read running off the end */
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT + 2, d, 1, false));
	EXPECT_EQ((3579545U >> 16) & 0xff, d[0]);
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT + 3, d, 4, false));
	EXPECT_EQ(0, d[0]);		/* the 24-bit count's top byte */
	EXPECT_EQ(0xff, d[1]);
	EXPECT_EQ(0xff, d[3]);
	/* a clock before t0 (not CLOCK_MONOTONIC's way, but no wrap either) */
	fake_ns = t0 - s;
	EXPECT_TRUE(acpi_pm_pio(&pm, ACPI_PM_TMR_PORT, d, 4, false));
	v = rd32(d);
	EXPECT_EQ(0U, v);
}

TEST_HARNESS_MAIN
