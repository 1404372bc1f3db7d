// SPDX-License-Identifier: GPL-2.0
/* vmlinux loader: PT_LOAD segments at their physical addresses, PVH note. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "limits.h"
#include "log.h"

static int find_pvh_note(const uint8_t *note, uint64_t size, uint64_t *entry)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_sz, desc_sz, desc_off;

		memcpy(&nh, note + off, sizeof(nh));
		name_sz = (nh.n_namesz + 3ULL) & ~3ULL;
		desc_sz = (nh.n_descsz + 3ULL) & ~3ULL;
		desc_off = off + sizeof(nh) + name_sz;
		if (desc_off > size || desc_sz > size - desc_off)
			return -EINVAL;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(note + off + sizeof(nh), "Xen", 4)) {
			if (nh.n_descsz == 4) {
				uint32_t e;

				memcpy(&e, note + desc_off, 4);
				*entry = e;
			} else if (nh.n_descsz == 8) {
				memcpy(entry, note + desc_off, 8);
			} else {
				return -EINVAL;
			}
			return 0;
		}
		off = desc_off + desc_sz;
	}
	return -ENOENT;
}

int elf_load_pvh(const struct guest_mem *m, const uint8_t *img, size_t len,
		 uint64_t *entry, uint64_t *start, uint64_t *end)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	uint64_t lo = UINT64_MAX, hi = 0;
	bool found = false;
	unsigned int i;
	int ret;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64) {
		vlog("kernel: not an x86-64 ELF (vmlinux) image\n");
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return -ENOEXEC;

	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return -ENOEXEC;
		if (ph.p_type == PT_NOTE && !found) {
			ret = find_pvh_note(img + ph.p_offset, ph.p_filesz, entry);
			if (ret == 0)
				found = true;
			else if (ret != -ENOENT)
				return -ENOEXEC;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr < GPA_HIGH_RAM)
			return -ENOEXEC;
		if (!gmem_range_ok(m, ph.p_paddr, ph.p_memsz)) {
			vlog("kernel: segment at %#llx+%#llx does not fit in guest RAM\n",
			     (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
			return -ENOMEM;
		}
		memcpy(gmem_ptr(m, ph.p_paddr, ph.p_filesz), img + ph.p_offset, ph.p_filesz);
		memset(gmem_ptr(m, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz), 0,
		       ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
	}
	if (!found) {
		vlog("kernel: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); need CONFIG_PVH\n");
		return -ENOEXEC;
	}
	if (!hi || *entry >= m->size)
		return -ENOEXEC;
	*start = lo;
	*end = hi;
	return 0;
}
