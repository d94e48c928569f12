/*
 * trapentry.S - the way into the kernel, and the way back out.
 *
 * Every interrupt, exception and system call enters through one of the
 * small stubs below.  By the time a stub runs, the CPU has already
 * switched to the kernel stack (from the TSS, if we came from ring 3) and
 * pushed EFLAGS, CS, EIP - and the old SS and ESP too when it changed
 * privilege - plus, for some exceptions, an error code.  The stub evens
 * out the error code, pushes its vector number, and everything meets in
 * trap_common, which saves the rest of the registers as a struct
 * trapframe (traps.h) and calls trap() in C.
 *
 * trap_return is the reverse, ending in iret: back to the interrupted
 * code, or - for a process that has never run - into user mode for the
 * first time.  This is the "return from trap" of the chapter's tables;
 * under a VMM, this iret is one of the instructions it must catch.
 */
#include "segments.h"

/* A stub for an exception without an error code: push a zero instead. */
.macro	VECTOR num
	.text
vector_\num:
	pushl	$0
	pushl	$\num
	jmp	trap_common
	.pushsection .rodata
	.long	vector_\num
	.popsection
.endm

/* A stub for an exception that comes with an error code. */
.macro	VECTOR_ERR num
	.text
vector_\num:
	pushl	$\num
	jmp	trap_common
	.pushsection .rodata
	.long	vector_\num
	.popsection
.endm

/* trap_vectors[n] is the stub for vector n, 0 <= n < TRAP_VECTORS. */
	.section .rodata
	.balign	4
	.globl	trap_vectors
trap_vectors:
	VECTOR	0		/* divide error */
	VECTOR	1		/* debug */
	VECTOR	2		/* NMI */
	VECTOR	3		/* breakpoint (int3) */
	VECTOR	4		/* overflow (into) */
	VECTOR	5		/* bound range exceeded */
	VECTOR	6		/* invalid opcode */
	VECTOR	7		/* device not available */
	VECTOR_ERR 8		/* double fault */
	VECTOR	9		/* coprocessor segment overrun */
	VECTOR_ERR 10		/* invalid TSS */
	VECTOR_ERR 11		/* segment not present */
	VECTOR_ERR 12		/* stack-segment fault */
	VECTOR_ERR 13		/* general protection */
	VECTOR_ERR 14		/* page fault */
	VECTOR	15
	VECTOR	16		/* x87 floating-point error */
	VECTOR_ERR 17		/* alignment check */
	VECTOR	18		/* machine check */
	VECTOR	19		/* SIMD floating-point */
	VECTOR	20
	VECTOR_ERR 21		/* control protection */
	VECTOR	22
	VECTOR	23
	VECTOR	24
	VECTOR	25
	VECTOR	26
	VECTOR	27
	VECTOR	28
	VECTOR_ERR 29
	VECTOR_ERR 30
	VECTOR	31
	/* 32-47: the sixteen IRQs, as the PICs are programmed (pic.c) */
	VECTOR	32
	VECTOR	33
	VECTOR	34
	VECTOR	35
	VECTOR	36
	VECTOR	37
	VECTOR	38
	VECTOR	39
	VECTOR	40
	VECTOR	41
	VECTOR	42
	VECTOR	43
	VECTOR	44
	VECTOR	45
	VECTOR	46
	VECTOR	47

	/* int $0x80: the system call. */
	.text
	.globl	trap_syscall_entry
trap_syscall_entry:
	pushl	$0
	pushl	$0x80
	jmp	trap_common

trap_common:
	pushl	%ds
	pushl	%es
	pushl	%fs
	pushl	%gs
	pushal
	movw	$KERNEL_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	cld			/* C code expects the direction flag clear */
	pushl	%esp		/* trap(struct trapframe *tf) */
	call	trap
	addl	$4, %esp

	.globl	trap_return
trap_return:
	popal
	popl	%gs
	popl	%fs
	popl	%es
	popl	%ds
	addl	$8, %esp	/* the vector number and error code */
	iret

	.section .note.GNU-stack, "", @progbits
