/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest image preparation: vmlinux ELF loading (PVH entry), hvm_start_info,
 * and the MP table. The configuration archive is common/newc.h + vmcfg.h.
 */
#ifndef AVF_VMM_BOOT_H
#define AVF_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define XEN_HVM_START_MAGIC		0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define E820_RAM	1
#define E820_RESERVED	2

/**
 * elf_load_pvh - copy a vmlinux image into guest RAM
 * @img: the file contents, @len bytes (untrusted: bounds-checked).
 * @entry: out: 32-bit PVH entry point from XEN_ELFNOTE_PHYS32_ENTRY.
 * @start: out: the lowest guest-physical byte of the loaded image.
 * @end: out: first guest-physical byte above the loaded image.
 */
int elf_load_pvh(const struct guest_mem *m, const uint8_t *img, size_t len,
		 uint64_t *entry, uint64_t *start, uint64_t *end);

/*
 * Write hvm_start_info, module list and memory map; returns start_info GPA.
 * @rsdp: the ACPI RSDP (acpi_write()), or 0 for none.
 */
int pvh_write_start_info(const struct guest_mem *m, uint64_t cmdline_gpa,
			 uint64_t initrd_gpa, uint64_t initrd_len, uint64_t rsdp,
			 uint64_t *start_info);

/* A guest-physical range [gpa, gpa + len). */
struct gpa_range {
	uint64_t gpa;
	uint64_t len;
};

#define BOOT_PREFAULT_MAX	5

/**
 * boot_prefault_plan - what to map into the stage-2 tables before the first
 * KVM_RUN (Documentation/vmm.rst, "Boot cost")
 * @mem: guest RAM bytes.
 * @kernel_start, @kernel_end: the loaded kernel image (elf_load_pvh()).
 * @initrd_gpa, @initrd_len: the initramfs at the top of RAM (page aligned).
 * @out: up to BOOT_PREFAULT_MAX ranges, inside RAM, ascending, none overlapping.
 *
 * The kernel and initramfs avf-vmm wrote, and what the payload kernel
 * (kernel/guest.config) writes during every boot, measured with mincore()
 * at the boot marker for 64 MiB to 1 GiB: its early allocations from 768
 * KiB up to ~7 MiB, its page tables and memblock allocations just above
 * the kernel image (2 MiB, ~1.5 KiB more per MiB of RAM), and just below
 * the initramfs the memory map (64 bytes per 4 KiB page) and ~2.5 MiB of
 * memblock allocations, top-down.
 *
 * Return: the number of ranges in @out.
 */
size_t boot_prefault_plan(uint64_t mem, uint64_t kernel_start, uint64_t kernel_end,
			  uint64_t initrd_gpa, uint64_t initrd_len,
			  struct gpa_range out[BOOT_PREFAULT_MAX]);

/* The byte that makes @len bytes at @p sum to 0 (MP and ACPI tables). */
uint8_t table_checksum(const void *p, size_t len);

/*
 * The I/O APIC's ID in the MP table and the MADT alike: the one after the
 * vCPUs' LAPIC IDs (0 .. @ncpus - 1).
 */
static inline uint8_t ioapic_id(unsigned int ncpus)
{
	return (uint8_t)ncpus;
}

/* Write an MP floating pointer and configuration table for @ncpus CPUs. */
int mptable_write(const struct guest_mem *m, unsigned int ncpus);

#endif
