// SPDX-License-Identifier: GPL-2.0
/* Boot-image preparation: ELF loader (hostile images), cpio, config tree, PVH info, MP table. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <libfdt.h>

#include "kselftest_harness.h"

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
	ASSERT_EQ(0, pvh_write_start_info(&g.mem, GPA_CMDLINE, 0x80000, 1234, &gpa));
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

TEST_HARNESS_MAIN
