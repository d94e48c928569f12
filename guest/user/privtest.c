/*
 * privtest.c - the kernel's privileged instructions, each checked.
 *
 * Every instruction a VMM has to trap and emulate for a deprivileged
 * kernel, executed by the kernel on purpose with its result checked
 * (guest/kernel/ktest_cpu.c, ktest_irq.c, ktest_mm.c), one line each:
 *
 *  - descriptor tables: lgdt/sgdt and lidt/sidt through a copy (int3
 *    must reach the copy's handler), str/ltr (a busy TSS is refused with
 *    #GP), lldt/sldt;
 *  - control registers: CR0.TS by mov, clts and lmsw, as smsw sees it;
 *    CR2; CR3; CR4.PGE; the debug registers DR0-DR3;
 *  - the interrupt flag: pushf after cli and sti, popf setting and
 *    clearing it, irq_save/irq_restore nested, IOPL; and the two ways a
 *    pending interrupt gets in: sti (one instruction later) and popf;
 *  - I/O: the PICs' mask registers, the UART's scratch register by in,
 *    out, ins and outs;
 *  - the TLB: invlpg and a CR3 reload after a page table entry changed;
 *  - MSRs (sysenter's three), wbinvd, and hlt.
 *
 * The lines do not depend on the CPU's features: where a CPU may lack
 * one (PGE, SEP), the check accepts either the feature working or the
 * #GP a CPU without it raises.  A failing check names the step that
 * failed, which the kernel's source numbers.
 */
#include "ulib.h"

static const struct ktest_case cases[] = {
	{ KTEST_GDT, "lgdt/sgdt through a copy of the GDT" },
	{ KTEST_IDT, "lidt/sidt through a copy of the IDT, int3 reaches the copy" },
	{ KTEST_TR, "str, ltr of the busy TSS faults, ltr marks it busy" },
	{ KTEST_LDT, "lldt/sldt of the null selector, lldt of a data segment faults" },
	{ KTEST_CR0, "CR0.TS by mov, clts and lmsw, seen by mov and smsw" },
	{ KTEST_CR2, "CR2 written and read back" },
	{ KTEST_CR3, "CR3 reloaded, switched and read back" },
	{ KTEST_CR4, "CR4.PGE toggled, or refused without PGE" },
	{ KTEST_DR, "DR0-DR3 written and read back" },
	{ KTEST_PUSHF, "pushf after cli and after sti" },
	{ KTEST_POPF, "popf sets and clears IF" },
	{ KTEST_IRQ_NEST, "irq_save/irq_restore nested 3 deep" },
	{ KTEST_IOPL, "pushf shows IOPL 0" },
	{ KTEST_STI_PENDING, "a pending interrupt waits for sti and one more instruction" },
	{ KTEST_POPF_PENDING, "a pending interrupt comes in when popf sets IF" },
	{ KTEST_PIC_MASK, "PIC mask registers written and read back" },
	{ KTEST_UART_SCRATCH, "UART scratch register by in/out and ins/outs" },
	{ KTEST_INVLPG, "invlpg and a CR3 reload flush a changed PTE" },
	{ KTEST_SYSENTER_MSRS, "sysenter MSRs round trip, or #GP without them" },
	{ KTEST_WBINVD, "wbinvd" },
	{ KTEST_HLT, "hlt returns after the next timer tick" },
};

int main(const char *arg)
{
	(void)arg;
	return ktest_checks("privtest", cases, sizeof(cases) / sizeof(cases[0])) ? 1 : 0;
}
