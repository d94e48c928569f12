/*
 * multiboot.h - the Multiboot (version 1) boot protocol.
 *
 * A Multiboot kernel carries a small header in its first 8 KiB; a boot
 * loader (GRUB, QEMU's -kernel, or kvmshadow's loader) finds it, loads the
 * kernel's ELF segments, and jumps to the entry point in 32-bit protected
 * mode with paging off, EAX = MULTIBOOT_BOOTLOADER_MAGIC and EBX = the
 * physical address of a struct multiboot_info.
 */
#ifndef KVMSHADOW_MULTIBOOT_H
#define KVMSHADOW_MULTIBOOT_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define MULTIBOOT_HEADER_MAGIC		0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC	0x2BADB002
#define MULTIBOOT_SEARCH		8192	/* header lies in the first 8 KiB */
#define MULTIBOOT_HEADER_ALIGN		4

/* Header flags: what the kernel asks of the boot loader. */
#define MULTIBOOT_PAGE_ALIGN		0x00000001 /* modules page aligned */
#define MULTIBOOT_MEMORY_INFO		0x00000002 /* want mem_* fields */
#define MULTIBOOT_VIDEO_MODE		0x00000004
#define MULTIBOOT_AOUT_KLUDGE		0x00010000 /* load from header addrs */

#ifndef __ASSEMBLER__
struct multiboot_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;	/* magic + flags + checksum == 0 */
	/* Valid only with MULTIBOOT_AOUT_KLUDGE. */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
} __attribute__((packed));

/* Info flags: which fields of struct multiboot_info are valid. */
#endif /* !__ASSEMBLER__ */

#define MULTIBOOT_INFO_MEMORY		0x00000001
#define MULTIBOOT_INFO_CMDLINE		0x00000004
#define MULTIBOOT_INFO_MEM_MAP		0x00000040
#define MULTIBOOT_INFO_BOOT_LOADER_NAME	0x00000200

#ifndef __ASSEMBLER__
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;	/* KiB of memory below 1 MiB */
	uint32_t mem_upper;	/* KiB of memory from 1 MiB up */
	uint32_t boot_device;
	uint32_t cmdline;	/* physical address of a C string */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;	/* bytes of memory map */
	uint32_t mmap_addr;	/* physical address of the first entry */
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name; /* physical address of a C string */
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

#define MULTIBOOT_MEMORY_AVAILABLE	1
#define MULTIBOOT_MEMORY_RESERVED	2

/* One memory-map entry; 'size' does not count itself. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
#endif /* !__ASSEMBLER__ */

#endif
