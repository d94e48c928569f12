/*
 * switch.S - the context switch: from one kernel stack to another.
 *
 *	void switch_to(struct context **save, struct context *load);
 *
 * Push the registers C expects a call to preserve (EBP, EBX, ESI, EDI;
 * the return address is already on the stack), remember the stack
 * pointer in *save, load the other stack pointer, pop the same registers
 * from there and return - into whatever code called switch_to on that
 * stack, long ago.  The pushed registers form a struct context (proc.h).
 *
 * A process's user registers are not here: they were saved in its trap
 * frame, higher up the same kernel stack, when it entered the kernel.
 * Nor is CR3 or the TSS's ESP0: the scheduler (sched.c) changes those
 * before calling us.  Called with interrupts off, which the caller
 * restores with popf once it is running again (cpu.h, irq_restore).
 */
	.text
	.globl	switch_to
switch_to:
	movl	4(%esp), %eax	/* save */
	movl	8(%esp), %edx	/* load */

	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, (%eax)

	movl	%edx, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

	.section .note.GNU-stack, "", @progbits
