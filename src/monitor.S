/*
 * monitor.S - the only code that ever runs in ring 0 of the machine.
 *
 * Assembled for 32-bit x86, linked to run at MONITOR_BASE (the top 4 MiB
 * of every address space) and carried inside the kvmshadow binary as a
 * flat image (src/monitor_image.S); src/machine.c copies it into machine
 * memory and maps it into every shadow page directory.
 *
 * The monitor is deliberately dumb, like lguest's Switcher: it knows how
 * to save the guest's registers and how to put them back, and nothing
 * else.  Every decision - is this page fault hidden or true, which guest
 * handler gets this system call, what does this cli mean - is made by
 * the host VMM, in C, between the `out` below and the next instruction.
 *
 * A trap arrives here from ring 1 (the guest kernel) or ring 3 (a guest
 * program).  Both are outer rings, so the CPU has already switched to the
 * monitor stack (TSS.ss0:esp0) and pushed ss, esp, eflags, cs, eip and
 * perhaps an error code.  The stub for the vector evens out the error
 * code and pushes the vector number; the common path pushes the rest of
 * struct monitor_frame (include/monitor.h) and exits to the host.
 */
#include "monitor.h"

	.code32
	.text
	.globl	monitor_start
monitor_start:

/*
 * 256 entry stubs, 16 bytes apart, so the host can compute the address of
 * stub n (MONITOR_BASE + 16 * n) when it builds the IDT.  Vectors 8, 10-14,
 * 17, 21, 29 and 30 come with an error code from the CPU; the others get
 * a zero in its place, so that every frame has the same shape.
 */
	vector = 0
	.rept	256
	.balign	16
	.if !((vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30))
	pushl	$0
	.endif
	pushl	$vector
	jmp	monitor_common
	vector = vector + 1
	.endr

	.org	0x1000
monitor_common:
	pushal
	pushl	%ds
	pushl	%es
	movl	%cr2, %eax	/* for a page fault: the address */
	pushl	%eax
	movw	$MONITOR_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movl	%esp, MONITOR_CTL_VA + CTL_FRAME

	/*
	 * The machine switch to the host VMM: one KVM exit.  When KVM_RUN
	 * resumes us, the frame holds the state to return to - which may be
	 * the interrupted instruction, the next one, or a guest trap handler
	 * on a freshly built guest stack frame.
	 */
	outb	%al, $MONITOR_PORT

	/* The guest changed CR0.TS, EM or MP: the FPU must see it. */
	movl	MONITOR_CTL_VA + CTL_CR0, %eax
	testl	%eax, %eax
	jz	0f
	movl	%eax, %cr0
0:
	/* The guest changed CR4.OSFXSR or OSXMMEXCPT: SSE must see it. */
	movl	MONITOR_CTL_VA + CTL_CR4, %eax
	btrl	$31, %eax
	jnc	3f
	movl	%eax, %cr4
3:
	/* A new shadow page directory, or the same one to flush the TLB. */
	movl	MONITOR_CTL_VA + CTL_CR3, %eax
	testl	%eax, %eax
	jz	1f
	movl	%eax, %cr3
1:
	/* One page to flush.  The host sets bit 0 so that page 0 can be
	 * named too; the address is still within the same page. */
	movl	MONITOR_CTL_VA + CTL_INVLPG, %eax
	testl	%eax, %eax
	jz	2f
	invlpg	(%eax)
2:
	addl	$4, %esp	/* cr2 */
	popl	%es
	popl	%ds
	popal
	addl	$8, %esp	/* vector and error code */
	iret

	.globl	monitor_end
monitor_end:
