/*
 * elf.h - the parts of the ELF format the kernel's program loader reads.
 *
 * Our own copy of a few definitions from the System V ABI, because the
 * kernel is freestanding and has no <elf.h>.
 */
#ifndef GUEST_ELF_H
#define GUEST_ELF_H

#include <stdint.h>

#define ELF_MAGIC	0x464c457fu	/* "\x7fELF" as a little-endian word */
#define ELF_CLASS32	1
#define ELF_DATA_LSB	1
#define ELF_ET_EXEC	2
#define ELF_EM_386	3
#define ELF_PT_LOAD	1
#define ELF_PF_W	2

struct elf_header {
	uint32_t magic;
	uint8_t class, data, version, osabi;
	uint8_t pad[8];
	uint16_t type, machine;
	uint32_t version2, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

#endif
