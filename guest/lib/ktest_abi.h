/*
 * ktest_abi.h - the guest kernel's test-only system call, ktest(test, a, b).
 *
 * Some of what a VMM must get right can only be seen from kernel mode:
 * whether lgdt really loaded a new table, whether popf really restored
 * the interrupt flag, whether invlpg really dropped a translation.  So
 * the test programs privtest, inttest, wptest, bigpage, kspy, ptshadow
 * and ptupdate (guest/user/) ask the kernel to run such a check for them, with
 *
 *	int $0x80, EAX = SYS_ktest, EBX = test, ECX = a, EDX = b
 *
 * and print the answer.  The kernel half is guest/kernel/ktest*.c.  The
 * benchmark program bench uses the same door for the few things it must
 * time in the kernel.
 *
 * Two kinds of test:
 *  - a *check* runs a whole self-test in the kernel and returns 0 if it
 *    passed, or the number (1, 2, ...) of the step that failed;
 *  - a *tool* does one thing a user program cannot do for itself (map a
 *    4 MiB page, clear a page's dirty bit, touch an address from kernel
 *    mode) and returns a value, or minus a GUEST_E* error number.
 * An unknown test number returns -GUEST_EINVAL.
 *
 * The call number lies outside the ordinary system calls of
 * include/guest_abi.h (1 to SYS_COUNT - 1) so that it can never be
 * mistaken for one of them.  This header sits in guest/lib because both
 * the kernel and the user programs include it; the host never needs it.
 */
#ifndef GUEST_LIB_KTEST_ABI_H
#define GUEST_LIB_KTEST_ABI_H

#include <stdint.h>

#define SYS_ktest		100

/* Checks of the privileged instructions (privtest). */
#define KTEST_GDT		1	/* lgdt/sgdt round trip through a copy */
#define KTEST_IDT		2	/* lidt/sidt round trip; int3 goes through the copy */
#define KTEST_TR		3	/* str; ltr of a busy TSS faults; ltr after clearing busy */
#define KTEST_LDT		4	/* lldt/sldt with the null selector; lldt of a data segment */
#define KTEST_CR0		5	/* CR0.TS by mov, clts and lmsw, seen by mov and smsw */
#define KTEST_CR2		6	/* CR2 written and read back */
#define KTEST_CR3		7	/* CR3 reloaded, switched and read back */
#define KTEST_CR4		8	/* CR4.PGE toggled, or refused by a CPU without PGE */
#define KTEST_DR		9	/* DR0-DR3 written and read back */
#define KTEST_PUSHF		10	/* pushf after cli and after sti */
#define KTEST_POPF		11	/* popf sets and clears IF */
#define KTEST_IRQ_NEST		12	/* irq_save/irq_restore three deep */
#define KTEST_IOPL		13	/* pushf shows IOPL 0 */
#define KTEST_STI_PENDING	14	/* a pending IRQ waits for sti plus one instruction */
#define KTEST_POPF_PENDING	15	/* a pending IRQ is let in by popf */
#define KTEST_PIC_MASK		16	/* PIC mask registers written and read back */
#define KTEST_UART_SCRATCH	17	/* UART scratch register, by in/out and ins/outs */
#define KTEST_INVLPG		18	/* invlpg and a CR3 reload flush a changed PTE */
#define KTEST_SYSENTER_MSRS	19	/* rdmsr/wrmsr of 0x174-0x176, or #GP without them */
#define KTEST_WBINVD		20	/* wbinvd returns, memory intact */
#define KTEST_HLT		21	/* sti; hlt returns after a timer tick */

/* Interrupts and faults inside system calls (inttest). */
#define KTEST_SYSCALL_IF	22	/* syscall: IF on; exception handler: IF off */
#define KTEST_KERNEL_IRQ	23	/* timer interrupts arrive while the kernel spins */
#define KTEST_FAULT_FILLS	24	/* tool: kernel-mode faults resolved by demand-zero so far */
#define KTEST_USER_STORE	25	/* tool: store b at user address a, unchecked; 0 or -EFAULT */
#define KTEST_USER_LOAD		26	/* tool: load from user address a, unchecked; 0 if it is b */

/* CR0.WP and the accessed and dirty bits (wptest). */
#define KTEST_WP_USER		27	/* WP=1: a kernel store to read-only user page a faults */
#define KTEST_WP_CLEAR_STORE	28	/* WP=0: a kernel store of b to user page a works */
#define KTEST_WP_KERNEL_TEXT	29	/* WP=1: a kernel store to its own code faults */
#define KTEST_PTE_FLAGS		30	/* tool: the low 12 bits of a's page table entry */
#define KTEST_PTE_CLEAR_AD	31	/* tool: clear a's accessed and dirty bits (and invlpg) */

/* 4 MiB pages (bigpage). */
#define KTEST_BIG_MAP		32	/* tool: map the reserved 4 MiB region at user address a */
#define KTEST_BIG_CHECK		33	/* the region holds ktest_pattern(offset, a), seen from the kernel */
#define KTEST_BIG_ALIAS		34	/* tool: map frame b of the region as a 4 KiB page at a */
#define KTEST_PDE_FLAGS		35	/* tool: the low 12 bits of a's page directory entry */
#define KTEST_BIG_UNMAP		36	/* tool: unmap the 4 MiB page at a and the alias at b */

/* Where user programs may not look (kspy). */
#define KTEST_PROBE		37	/* tool: load from any address a in kernel mode */
#define KTEST_KERNEL_PGDIR	38	/* tool: the kernel's page directory, a kernel address */

/*
 * Page tables as a shadow MMU finds them hard to follow (ptshadow): a page
 * table in two directories, a directory that maps itself, a frame mapped
 * in two address spaces, stale and fresh translations, a 4 MiB and a
 * 4 KiB mapping of one frame, CR0.WP and CR4.PGE, stores of 1, 2 and 4
 * misaligned bytes to entries, and a page table recycled as data.
 */
#define KTEST_SHADOW_SHARED_PT	39	/* one page table in two directories, changed once */
#define KTEST_SHADOW_RECURSIVE	40	/* a directory mapping itself; entries written through it */
#define KTEST_SHADOW_REMAP	41	/* a frame remapped in one of two address spaces */
#define KTEST_SHADOW_STALE	42	/* without invlpg: old or new; with it: new only */
#define KTEST_SHADOW_BIG_ALIAS	43	/* a frame of the 4 MiB direct map as a 4 KiB page */
#define KTEST_SHADOW_WP		44	/* CR0.WP set, cleared, set: fault, store, fault */
#define KTEST_SHADOW_PGE	45	/* global pages: invlpg and a CR4.PGE toggle flush them */
#define KTEST_SHADOW_PARTIAL	46	/* 1-, 2- and misaligned 4-byte stores to entries */
#define KTEST_SHADOW_RECYCLE	47	/* a page table freed and reused as data, and back */

/* One user page switched between two frames, one store each (ptupdate). */
#define KTEST_FLIP_BEGIN	48	/* tool: a second frame for the page at a */
#define KTEST_FLIP		49	/* tool: page a to frame b: 0 its own, 1 the second */
#define KTEST_FLIP_END		50	/* tool: back to its own frame; free the second */

/*
 * The benchmarks (bench): one privileged instruction per call, for
 * comparison with a null system call; the phase marks; and a resume
 * point for divide errors, this kernel's stand-in for a signal handler.
 */
#define KTEST_BENCH_MARK	51	/* tool: outb(PORT_MARKER, a): benchmark a begins, 0: none */
#define KTEST_BENCH_IN		52	/* tool: one inb of the UART's line status; returns it */
#define KTEST_BENCH_CRWR	53	/* tool: CR0 written with its own value */
#define KTEST_BENCH_DE_RESUME	54	/* tool: a user #DE resumes at eip a (0: kills again) */

#define KTEST_COUNT		55

/*
 * KTEST_PROBE's answer when the load raised an exception: the vector and
 * the low byte of the error code.  0 means the load completed (its value
 * is never returned).
 */
#define KTEST_FAULTED(trapno, err)	(0x10000 | (trapno) << 8 | ((err) & 0xff))

/* The second frame of KTEST_FLIP_BEGIN holds ktest_pattern(offset, KTEST_FLIP_SALT). */
#define KTEST_FLIP_SALT		0xf11bf11bu

/* What bigpage writes and the kernel checks: one word per offset. */
static inline uint32_t ktest_pattern(uint32_t offset, uint32_t salt)
{
	return (offset * 2654435761u) ^ salt;
}

#endif
