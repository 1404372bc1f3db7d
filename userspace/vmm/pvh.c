// SPDX-License-Identifier: GPL-2.0
/* PVH boot information (include/xen/interface/hvm/start_info.h, version 1). */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "limits.h"

int pvh_write_start_info(const struct guest_mem *m, uint64_t cmdline_gpa,
			 uint64_t initrd_gpa, uint64_t initrd_len, uint64_t rsdp,
			 uint64_t *start_info)
{
	struct hvm_memmap_table_entry map[MEMMAP_MAX_ENTRIES];
	struct hvm_modlist_entry mod;
	struct hvm_start_info si;
	unsigned int n = 0;
	int ret;

	memset(map, 0, sizeof(map));
	map[n++] = (struct hvm_memmap_table_entry){ 0, GPA_EBDA, E820_RAM, 0 };
	map[n++] = (struct hvm_memmap_table_entry){ GPA_EBDA, GPA_EBDA_END - GPA_EBDA,
						   E820_RESERVED, 0 };
	if (rsdp)
		map[n++] = (struct hvm_memmap_table_entry){ GPA_ACPI, GPA_ACPI_SIZE,
							   E820_RESERVED, 0 };
	map[n++] = (struct hvm_memmap_table_entry){ GPA_HIGH_RAM, m->size - GPA_HIGH_RAM,
						   E820_RAM, 0 };
	/* The MMIO windows, so the guest never places anything there. */
	map[n++] = (struct hvm_memmap_table_entry){ VIRTIO_MMIO_BASE,
		VIRTIO_MMIO_SIZE * VIRTIO_MMIO_SLOTS, E820_RESERVED, 0 };
	map[n++] = (struct hvm_memmap_table_entry){ GPA_IOAPIC, 0x1000, E820_RESERVED, 0 };
	map[n++] = (struct hvm_memmap_table_entry){ GPA_LAPIC, 0x1000, E820_RESERVED, 0 };

	memset(&mod, 0, sizeof(mod));
	mod.paddr = initrd_gpa;
	mod.size = initrd_len;

	memset(&si, 0, sizeof(si));
	si.magic = XEN_HVM_START_MAGIC;
	si.version = 1;
	si.nr_modules = initrd_len ? 1 : 0;
	si.modlist_paddr = initrd_len ? GPA_MODLIST : 0;
	si.cmdline_paddr = cmdline_gpa;
	si.rsdp_paddr = rsdp;
	si.memmap_paddr = GPA_MEMMAP;
	si.memmap_entries = n;

	ret = gmem_write(m, GPA_MEMMAP, map, sizeof(map[0]) * n);
	if (!ret)
		ret = gmem_write(m, GPA_MODLIST, &mod, sizeof(mod));
	if (!ret)
		ret = gmem_write(m, GPA_START_INFO, &si, sizeof(si));
	if (ret)
		return ret;
	*start_info = GPA_START_INFO;
	return 0;
}

/* The payload kernel's boot-time writes (boot.h, boot_prefault_plan()). */
#define PF_LOW_START		0xc0000ULL		/* 768 KiB */
#define PF_LOW_END		(7ULL << 20)
#define PF_ABOVE_KERNEL(mem)	((2ULL << 20) + ((mem) >> 20) * 1536)
#define PF_BELOW_INITRD(mem)	((mem) / 64 + (5ULL << 19))

size_t boot_prefault_plan(uint64_t mem, uint64_t kernel_start, uint64_t kernel_end,
			  uint64_t initrd_gpa, uint64_t initrd_len,
			  struct gpa_range out[BOOT_PREFAULT_MAX])
{
	uint64_t below = PF_BELOW_INITRD(mem);
	/* [lo, hi) each; the plan is their union inside RAM, ascending */
	uint64_t want[BOOT_PREFAULT_MAX][2] = {
		{ PF_LOW_START, PF_LOW_END },
		{ kernel_start, kernel_end },
		{ kernel_end, kernel_end + PF_ABOVE_KERNEL(mem) },
		{ initrd_gpa > below ? initrd_gpa - below : 0, initrd_gpa },
		{ initrd_gpa, initrd_gpa + initrd_len },
	};
	size_t i, j, n = 0;

	/* by start (a crowded layout puts them out of order) */
	for (i = 1; i < BOOT_PREFAULT_MAX; i++)
		for (j = i; j > 0 && want[j - 1][0] > want[j][0]; j--) {
			uint64_t t[2] = { want[j][0], want[j][1] };

			memcpy(want[j], want[j - 1], sizeof(t));
			memcpy(want[j - 1], t, sizeof(t));
		}
	/* clipped to RAM; one that overlaps the range before extends it */
	for (i = 0; i < BOOT_PREFAULT_MAX; i++) {
		uint64_t lo = want[i][0], hi = want[i][1] < mem ? want[i][1] : mem;

		if (lo >= hi)
			continue;
		if (n && lo < out[n - 1].gpa + out[n - 1].len) {
			if (hi > out[n - 1].gpa + out[n - 1].len)
				out[n - 1].len = hi - out[n - 1].gpa;
			continue;
		}
		out[n++] = (struct gpa_range){ lo, hi - lo };
	}
	return n;
}
