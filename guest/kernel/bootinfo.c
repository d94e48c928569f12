/*
 * bootinfo.c - the Multiboot protocol, from the kernel's side.
 *
 * Two halves.  The header is what we ask of the boot loader: it sits at
 * the start of our image (the linker script puts section .multiboot
 * first) and says "align modules to pages, and tell me about memory".
 * The information structure is the answer: the boot loader leaves it
 * somewhere in physical memory and passes its address in EBX.
 *
 * We copy what we need out of that structure - the size of memory and
 * the command line - before the page allocator starts: the boot loader
 * may have put the structure in what is now free memory (QEMU puts it
 * just after the kernel image), and once the allocator hands those pages
 * out the information is gone.  Until vm_init runs, only the first 4 MiB
 * of physical memory are mapped (boot.S), so the structure must be there.
 *
 * Memory size: from the memory map (flag 0x40) when there is one, the
 * available region that contains 1 MiB; otherwise mem_upper (flag 0x1),
 * the KiB of memory above 1 MiB.  Memory above a hole is not used.
 */
#include <stddef.h>

#include "bootinfo.h"
#include "memlayout.h"
#include "multiboot.h"
#include "printk.h"
#include "str.h"

#define BOOTINFO_HEADER_FLAGS	(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)
#define BOOTINFO_MAPPED_END	0x00400000u	/* what boot.S maps */
#define MIB			0x00100000u

__attribute__((section(".multiboot"), used, aligned(4)))
static const struct multiboot_header bootinfo_header = {
	.magic = MULTIBOOT_HEADER_MAGIC,
	.flags = BOOTINFO_HEADER_FLAGS,
	.checksum = (uint32_t)-(MULTIBOOT_HEADER_MAGIC + BOOTINFO_HEADER_FLAGS),
};

struct bootinfo bootinfo;

/* The boot loader's physical address pa, if boot.S's mapping reaches it. */
static const void *bootinfo_map(uint32_t pa, uint32_t len, const char *what)
{
	if (pa >= BOOTINFO_MAPPED_END || len > BOOTINFO_MAPPED_END - pa)
		panic("multiboot %s at 0x%08x is beyond the first 4 MiB", what, pa);
	return P2V(pa);
}

/* The end of the available memory-map region that contains 1 MiB, or 0. */
static uint32_t bootinfo_mmap_end(const struct multiboot_info *mbi)
{
	const uint8_t *map = bootinfo_map(mbi->mmap_addr, mbi->mmap_length, "memory map");
	uint32_t off = 0;

	while (off + sizeof(struct multiboot_mmap_entry) <= mbi->mmap_length) {
		struct multiboot_mmap_entry e;
		uint64_t end;

		memcpy(&e, map + off, sizeof(e));
		end = e.addr + e.len;
		if (e.type == MULTIBOOT_MEMORY_AVAILABLE && e.addr <= KERNEL_MIN_PA &&
		    end > KERNEL_MIN_PA)
			return end > 0xffffffffull ? 0xfffff000u : (uint32_t)end;
		off += e.size + sizeof(e.size);
	}
	return 0;
}

static uint32_t bootinfo_mem_end(const struct multiboot_info *mbi)
{
	uint32_t end = 0;

	if (mbi->flags & MULTIBOOT_INFO_MEM_MAP)
		end = bootinfo_mmap_end(mbi);
	if (!end && (mbi->flags & MULTIBOOT_INFO_MEMORY))
		end = KERNEL_MIN_PA + mbi->mem_upper * 1024u;
	if (!end)
		panic("the boot loader gave no memory size (multiboot flags 0x%x)", mbi->flags);
	return PAGE_ROUND_DOWN(end);
}

/* Copy the command line, which need not be mapped or even terminated nicely. */
static void bootinfo_copy_cmdline(const struct multiboot_info *mbi)
{
	const char *s;
	size_t i;

	if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE))
		return;
	s = bootinfo_map(mbi->cmdline, 1, "command line");
	for (i = 0; i + 1 < sizeof(bootinfo.cmdline); i++) {
		if (mbi->cmdline + i >= BOOTINFO_MAPPED_END || !s[i])
			break;
		bootinfo.cmdline[i] = s[i];
	}
	bootinfo.cmdline[i] = '\0';
}

void bootinfo_read(uint32_t magic, uint32_t info_pa)
{
	const struct multiboot_info *mbi;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not booted by a Multiboot loader (EAX 0x%08x, expected 0x%08x)", magic,
		      MULTIBOOT_BOOTLOADER_MAGIC);
	mbi = bootinfo_map(info_pa, sizeof(*mbi), "information");
	bootinfo.mem_end = bootinfo_mem_end(mbi);
	/* Round to whole MiB: firmware often keeps a few KiB at the top. */
	bootinfo.mem_mib = (uint32_t)(((uint64_t)bootinfo.mem_end + MIB / 2) / MIB);
	bootinfo_copy_cmdline(mbi);
}
