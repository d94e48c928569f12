/*
 * traps.c - the interrupt descriptor table, and where every trap goes.
 *
 * The IDT tells the CPU, for each of 256 vectors, where to go and who may
 * go there.  We fill in:
 *   0-31    the CPU's exceptions: interrupt gates, DPL 0 - except
 *           breakpoint (int3) and overflow (into), DPL 3 so that a user
 *           program's int3 arrives as a breakpoint, not as a #GP;
 *   32-47   the sixteen PIC interrupt lines (pic.c): interrupt gates;
 *   0x80    the system call: a trap gate with DPL 3, the one door a user
 *           program may open on purpose.
 * An interrupt gate clears IF on entry, so interrupt and exception
 * handlers run with interrupts off; the trap gate leaves IF alone, so
 * system calls run with interrupts on.
 *
 * trap() is the C half of every entry (trapentry.S is the assembly half):
 * system call, IRQ, page fault, or another exception - which kills a user
 * process and panics the kernel, unless the kernel's instruction is one
 * that is allowed to fault (extable.c).  On the way out to user mode, the
 * process gives up the CPU if its time slice has run out.
 */
#include "cpu.h"
#include "extable.h"
#include "fault.h"
#include "guest_abi.h"
#include "pic.h"
#include "pit.h"
#include "printk.h"
#include "proc.h"
#include "sched.h"
#include "segments.h"
#include "syscall.h"
#include "traps.h"

#define IDT_ENTRIES	256

static struct x86_gate traps_idt[IDT_ENTRIES];

/* trapentry.S */
extern const uint32_t trap_vectors[TRAP_VECTORS];
extern char trap_syscall_entry[];

static const char *const traps_names[32] = {
	[T_DE] = "divide error",
	[T_DB] = "debug exception",
	[T_NMI] = "non-maskable interrupt",
	[T_BP] = "breakpoint",
	[T_OF] = "overflow",
	[T_BR] = "bound range exceeded",
	[T_UD] = "invalid opcode",
	[T_NM] = "device not available",
	[T_DF] = "double fault",
	[T_TS] = "invalid TSS",
	[T_NP] = "segment not present",
	[T_SS] = "stack-segment fault",
	[T_GP] = "general protection fault",
	[T_PF] = "page fault",
	[T_MF] = "x87 floating-point error",
	[T_AC] = "alignment check",
	[T_MC] = "machine check",
	[19] = "SIMD floating-point exception",
};

static struct x86_gate traps_gate(uint32_t handler, uint8_t type, int dpl)
{
	return (struct x86_gate){
		.offset_lo = handler & 0xffff,
		.selector = KERNEL_CS,
		.type_attr = (uint8_t)(DESC_P | DESC_DPL(dpl) | type),
		.offset_hi = handler >> 16,
	};
}

void traps_init(void)
{
	struct x86_dtr idtr = { .limit = sizeof(traps_idt) - 1, .base = (uint32_t)traps_idt };

	for (int v = 0; v < TRAP_VECTORS; v++)
		traps_idt[v] = traps_gate(trap_vectors[v], DESC_INTGATE32, 0);
	traps_idt[T_BP] = traps_gate(trap_vectors[T_BP], DESC_INTGATE32, 3);
	traps_idt[T_OF] = traps_gate(trap_vectors[T_OF], DESC_INTGATE32, 3);
	traps_idt[GUEST_SYSCALL_VECTOR] =
		traps_gate((uint32_t)trap_syscall_entry, DESC_TRAPGATE32, 3);
	lidt(&idtr);
}

static const char *traps_name(uint32_t trapno)
{
	if (trapno < 32 && traps_names[trapno])
		return traps_names[trapno];
	return "unknown exception";
}

static int traps_has_error_code(uint32_t trapno)
{
	return trapno == T_DF || (trapno >= T_TS && trapno <= T_PF) || trapno == T_AC;
}

/*
 * Any exception but a page fault: fatal for a process, a bug in the
 * kernel - unless the kernel instruction is one that is allowed to fault
 * (extable.c).  An NMI or a machine check is the hardware's trouble, not
 * the process's: those stop the machine wherever they arrive.
 */
static void traps_exception(struct trapframe *tf)
{
	const char *name = traps_name(tf->trapno);
	bool hardware = tf->trapno == T_NMI || tf->trapno == T_MC;

	if (!trap_from_user(tf) && !hardware && extable_fixup(tf, 0))
		return;
	if (trap_from_user(tf) && tf->trapno == T_DE && proc_current->de_resume) {
		tf->eip = proc_current->de_resume;	/* bench's divzero (ktest_bench.c) */
		return;
	}
	if (!trap_from_user(tf) || hardware)
		panic("%s in kernel (vector %u, eip 0x%08x, error 0x%x, cr2 0x%08x)", name,
		      tf->trapno, tf->eip, tf->err, rcr2());
	if (traps_has_error_code(tf->trapno))
		proc_kill("%s (eip 0x%08x, error 0x%x)", name, tf->eip, tf->err);
	proc_kill("%s (eip 0x%08x)", name, tf->eip);
}

static void traps_irq(int irq)
{
	if (pic_spurious(irq))
		return;
	if (irq == PIT_IRQ)
		pit_interrupt();
	/* Acknowledge before we might switch away (sched_preempt), or the PIC
	 * would hold back the next tick until this process runs again. */
	pic_eoi(irq);
}

void trap(struct trapframe *tf)
{
	if (tf->trapno == GUEST_SYSCALL_VECTOR)
		syscall_dispatch(tf);
	else if (tf->trapno >= IRQ_BASE && tf->trapno < IRQ_BASE + IRQ_COUNT)
		traps_irq((int)tf->trapno - IRQ_BASE);
	else if (tf->trapno == T_PF)
		fault_page(tf);
	else
		traps_exception(tf);

	if (trap_from_user(tf))
		sched_preempt();
}
