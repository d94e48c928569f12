/*
 * boot.S - the guest kernel's first instructions: from the boot loader's
 * world (physical addresses, paging off) to the kernel's (virtual
 * addresses from 3 GiB up, paging on).
 *
 * A Multiboot loader - GRUB, QEMU's -kernel, kvmshadow's loader - puts
 * our ELF segments at their physical load addresses (1 MiB up) and jumps
 * to the ELF entry point, boot_entry_pa, with paging off, EAX holding the
 * Multiboot magic and EBX the physical address of the Multiboot
 * information.  The kernel, however, is linked to run at KERNEL_BASE +
 * 1 MiB.  So the code here may not use an absolute address without
 * subtracting KERNEL_BASE first (V2P); jumps and calls are relative and
 * work anywhere.
 *
 * We build the smallest page directory that lets us switch: one page
 * table mapping the first 4 MiB of physical memory, entered twice - at
 * virtual 0 (so that the instruction after the one that turns paging on
 * still exists) and at KERNEL_BASE (where the kernel is linked).  Then
 * one indirect jump takes us to the linked addresses, and C code
 * (kmain) builds the real page tables (vm.c).
 */
#include "layout.h"
#include "x86.h"

#define BOOT_PTE_PW	(PTE_P | PTE_W)
#define BOOT_STACK_SIZE	16384

#define V2P(x)		((x) - GUEST_KERNEL_BASE)

/*
 * The linker script (guest/kernel.ld) cannot read C headers, so we hand
 * it the two numbers it needs from layout.h as absolute symbols.
 */
	.globl	layout_kernel_base, layout_kernel_pa, boot_entry_pa
	.set	layout_kernel_base, GUEST_KERNEL_BASE
	.set	layout_kernel_pa, KERNEL_MIN_PA
	/* The ELF entry point: Multiboot jumps there with paging off. */
	.set	boot_entry_pa, V2P(boot_entry)

	.section .bss
	.balign	PAGE_SIZE
boot_pgdir:
	.skip	PAGE_SIZE
boot_pt:
	.skip	PAGE_SIZE
	.globl	boot_stack_top
boot_stack:
	.skip	BOOT_STACK_SIZE
boot_stack_top:

	.section .text.boot, "ax"
	.globl	boot_entry
boot_entry:
	cli
	cld
	movl	%eax, %esi		/* the Multiboot magic, for kmain */
	movl	%ebx, %ebp		/* the Multiboot info's physical address */

	/* Zero .bss: a loader should have, but a kernel need not trust it. */
	movl	$V2P(kernel_bss_start), %edi
	movl	$V2P(kernel_end), %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb

	/* boot_pt maps the first 4 MiB of physical memory, writable. */
	movl	$V2P(boot_pt), %edi
	movl	$BOOT_PTE_PW, %eax
1:	stosl
	addl	$PAGE_SIZE, %eax
	cmpl	$V2P(boot_pt) + PAGE_SIZE, %edi
	jne	1b

	/* ...seen both at virtual 0 and at KERNEL_BASE. */
	movl	$V2P(boot_pt) + BOOT_PTE_PW, %eax
	movl	%eax, V2P(boot_pgdir)
	movl	%eax, V2P(boot_pgdir) + (GUEST_KERNEL_BASE >> 22) * 4

	movl	$V2P(boot_pgdir), %eax
	movl	%eax, %cr3
	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0

	/* Paging is on; we still run at the low, identity-mapped alias. */
	movl	$boot_high, %eax
	jmp	*%eax

boot_high:
	movl	$boot_stack_top, %esp
	pushl	%ebp			/* kmain(magic, info_pa) */
	pushl	%esi
	xorl	%ebp, %ebp		/* the end of the frame-pointer chain */
	call	kmain

	/* kmain does not return; if it did, stop here. */
2:	cli
	hlt
	jmp	2b

	.section .note.GNU-stack, "", @progbits
