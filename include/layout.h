/*
 * layout.h - the contract between the guest kernel and kvmshadow about
 * where things may live.
 *
 * A classic software VMM has to live somewhere inside every address space
 * of the guest, because on x86 a trap cannot switch address spaces: the
 * CPU takes the trap through the current page tables.  Like Xen on x86_32
 * and lguest, kvmshadow claims the top of the virtual address space; our
 * guest kernel promises never to map anything there.
 */
#ifndef KVMSHADOW_LAYOUT_H
#define KVMSHADOW_LAYOUT_H

/* Virtual: the top 4 MiB of every address space belong to the VMM. */
#define VMM_RESERVED_VA		0xffc00000u
#define VMM_RESERVED_VA_SIZE	0x00400000u

/*
 * Guest-physical: the first 1 MiB is where a boot loader keeps its own
 * things.  kvmshadow places the Multiboot information there, so a kernel
 * image must load at or above 1 MiB.
 */
#define BOOT_GDT_PA		0x00008000u	/* a flat GDT, for the entry state */
#define BOOT_STACK_TOP		0x00008000u	/* ESP at entry (grows down) */
#define BOOT_INFO_PA		0x00009000u	/* struct multiboot_info */
#define BOOT_MMAP_PA		0x00009100u	/* its memory map */
#define BOOT_NAME_PA		0x00009200u	/* the boot loader's name */
#define BOOT_CMDLINE_PA		0x00009400u	/* the command line */
#define BOOT_INFO_END		0x0000a000u
#define LOW_MEMORY_END		0x000a0000u	/* 640 KiB, as on a PC */
#define KERNEL_MIN_PA		0x00100000u	/* 1 MiB */

/* The guest kernel's own choice: it lives at 3 GiB, its image at 1 MiB. */
#define GUEST_KERNEL_BASE	0xc0000000u

#endif
