/*
 * entry.S - the multi-guest test kernel's assembly: the Multiboot entry,
 * our own GDT (Multiboot leaves GDTR undefined, and an interrupt gate
 * needs a code selector that really exists), and the trap stubs for
 * vectors 0-47: the exceptions and the two PICs' IRQs remapped to 0x20.
 *
 * Everything here runs in the guest.  memtest.c explains the design.
 */
#include "multiboot.h"

#define MB_FLAGS	(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)
#define KCODE		0x08
#define KDATA		0x10
#define NVECTORS	48

	.section .multiboot, "ax"
	.align	4
	.long	MULTIBOOT_HEADER_MAGIC, MB_FLAGS, -(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)

	.text
	.globl	_start
_start:
	lgdt	mt_gdtr
	ljmp	$KCODE, $1f
1:	mov	$KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%eax, %ss
	mov	$mt_stack_top, %esp
	push	%ebx			/* the Multiboot information */
	call	mt_main
1:	hlt				/* mt_main never returns */
	jmp	1b

/*
 * Trap stubs.  The CPU pushes an error code for vectors 8, 10-14 and 17;
 * for the rest we push a 0 so that every frame looks alike (struct
 * mt_frame in memtest.c).
 */
	.macro	stub n
mt_stub_\n:
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17)
	.else
	pushl	$0
	.endif
	pushl	$\n
	jmp	mt_common
	.endm

	.altmacro
	.set	i, 0
	.rept	NVECTORS
	stub	%i
	.set	i, i + 1
	.endr

	.macro	stubaddr n
	.long	mt_stub_\n
	.endm
	.section .rodata
	.globl	mt_stubs
mt_stubs:
	.set	i, 0
	.rept	NVECTORS
	stubaddr %i
	.set	i, i + 1
	.endr
	.noaltmacro

	.text
/* Every segment register is already flat ring 0: only the GPRs to save. */
mt_common:
	pusha
	cld
	push	%esp
	call	mt_trap
	add	$4, %esp
	popa
	add	$8, %esp		/* the vector and the error code */
	iret

/* Accessed bits set, so that the CPU never writes to the descriptors. */
	.section .rodata
	.align	8
mt_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* KCODE: flat, execute/read */
	.quad	0x00cf93000000ffff	/* KDATA: flat, read/write */
mt_gdtr:
	.word	3 * 8 - 1
	.long	mt_gdt

	.section .bss
	.align	4096
	.skip	16384
mt_stack_top:
