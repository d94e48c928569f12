/*
 * ktest_cpu.c - self-tests of the privileged instructions: descriptor
 * tables, control and debug registers, model-specific registers, the
 * cache, I/O ports.
 *
 * Each check is the kernel doing, on purpose and with its result checked,
 * something a deprivileged kernel cannot do by itself.  On a real CPU or
 * under KVM they simply work.  In ring 1 under kvmshadow's monitor every
 * one of them traps (all but smsw, which cannot) and is carried out on a
 * virtual CPU instead (src/emulate.c) - the chapter's trap and emulate,
 * Table B.5's "unprivileged code trying to update the TLB", one
 * instruction at a time.  These checks are how we know the emulation is
 * faithful: what sgdt shows after lgdt, which #GP ltr raises, what smsw
 * says after clts.
 *
 * Checks that change the machine's tables or registers do so with
 * interrupts off, so that no interrupt ever runs on a half-changed
 * machine, and put everything back before they return.  Instructions
 * that may fault run under EXTABLE_TRY (extable.h), so a check that finds
 * a fault where there should be none - or none where there should be
 * one - fails instead of panicking.
 */
#include <stdbool.h>

#include "cpu.h"
#include "extable.h"
#include "ktest.h"
#include "memlayout.h"
#include "ports.h"
#include "proc.h"
#include "segments.h"
#include "str.h"
#include "vm.h"

#define KTEST_CPU_IDT_BYTES	(256 * sizeof(struct x86_gate))
#define KTEST_CPU_DESC_TYPE	0x0f	/* the type field of a descriptor's access byte */

/* CPUID leaf 1, EDX */
#define KTEST_CPUID_MSR		(1u << 5)
#define KTEST_CPUID_SEP		(1u << 11)	/* sysenter, and its three MSRs */
#define KTEST_CPUID_PGE		(1u << 13)

#define KTEST_MSR_SYSENTER_CS	0x174
#define KTEST_MSR_SYSENTER_ESP	0x175
#define KTEST_MSR_SYSENTER_EIP	0x176

/* Room for a copy of the GDT or of the IDT. */
static uint8_t ktest_cpu_table[KTEST_CPU_IDT_BYTES] __attribute__((aligned(8)));

static uint32_t ktest_cpu_features(void)
{
	uint32_t a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return d;
}

/* --- GDT and IDT ---------------------------------------------------------- */

/* Load DS and ES again: their descriptors come from the current GDT. */
static void ktest_cpu_reload_data_segments(void)
{
	asm volatile("movw %w0, %%ds\n\t"
		     "movw %w0, %%es" : : "r"(KERNEL_DS) : "memory");
}

static bool ktest_cpu_dtr_equal(const struct x86_dtr *a, const struct x86_dtr *b)
{
	return a->base == b->base && a->limit == b->limit;
}

/* sgdt shows the GDT; a copy loaded with lgdt is used and shown; the original comes back. */
static int ktest_cpu_gdt_steps(void)
{
	struct x86_dtr orig, copy, seen;

	sgdt(&orig);
	if (orig.limit != GDT_ENTRIES * sizeof(struct x86_desc) - 1)
		return 1;
	memcpy(ktest_cpu_table, (const void *)orig.base, orig.limit + 1u);
	copy = (struct x86_dtr){ .limit = orig.limit, .base = (uint32_t)ktest_cpu_table };
	lgdt(&copy);
	ktest_cpu_reload_data_segments();
	sgdt(&seen);
	lgdt(&orig);
	ktest_cpu_reload_data_segments();
	if (!ktest_cpu_dtr_equal(&seen, &copy))
		return 2;
	sgdt(&seen);
	return ktest_cpu_dtr_equal(&seen, &orig) ? 0 : 3;
}

int ktest_cpu_gdt(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_gdt_steps();

	irq_restore(flags);
	return step;
}

/*
 * int3 in kernel mode; extable_last.trapno says which handler caught it.
 * int3 is a trap: the CPU reports the address after it, so that is the
 * address in the exception table.
 */
static bool ktest_cpu_int3(void)
{
	int fault;

	asm volatile("movl $0, %[fault]\n\t"
		     "int3\n"
		     "1:\tjmp 3f\n"
		     "2:\tmovl $1, %[fault]\n"
		     "3:\n\t" EXTABLE_ENTRY(1b, 2b)
		     : [fault] "=&r"(fault)
		     :
		     : "memory");
	return fault;
}

/*
 * A copy of the IDT whose breakpoint entry is the divide-error entry:
 * after lidt of the copy, int3 must arrive at the divide-error handler -
 * proof that the CPU (or the VMM reflecting the trap) uses the table it
 * was last given, not the one it saw at boot.
 */
static int ktest_cpu_idt_steps(void)
{
	struct x86_gate *gates = (struct x86_gate *)ktest_cpu_table;
	struct x86_dtr orig, copy, seen;
	bool caught_by_copy;
	uint32_t copy_trapno;

	sidt(&orig);
	if (orig.limit != KTEST_CPU_IDT_BYTES - 1)
		return 1;
	memcpy(gates, (const void *)orig.base, KTEST_CPU_IDT_BYTES);
	gates[T_BP] = gates[T_DE];
	copy = (struct x86_dtr){ .limit = orig.limit, .base = (uint32_t)gates };
	lidt(&copy);
	sidt(&seen);
	caught_by_copy = ktest_cpu_int3();
	copy_trapno = extable_last.trapno;
	lidt(&orig);
	if (!ktest_cpu_dtr_equal(&seen, &copy))
		return 2;
	if (!caught_by_copy || copy_trapno != T_DE)
		return 3;
	if (!ktest_cpu_int3() || extable_last.trapno != T_BP)
		return 4;
	sidt(&seen);
	return ktest_cpu_dtr_equal(&seen, &orig) ? 0 : 5;
}

int ktest_cpu_idt(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_idt_steps();

	irq_restore(flags);
	return step;
}

/* --- Task register and LDT ------------------------------------------------ */

static bool ktest_cpu_ltr(uint16_t sel)
{
	int fault;

	asm volatile(EXTABLE_TRY("ltr %w[sel]") : [fault] "=&r"(fault) : [sel] "r"(sel) : "memory");
	return fault;
}

static bool ktest_cpu_lldt(uint16_t sel)
{
	int fault;

	asm volatile(EXTABLE_TRY("lldt %w[sel]") : [fault] "=&r"(fault) : [sel] "r"(sel) : "memory");
	return fault;
}

static void ktest_cpu_set_desc_type(struct x86_desc *d, uint8_t type)
{
	d->access = (uint8_t)((d->access & ~KTEST_CPU_DESC_TYPE) | type);
}

/*
 * ltr marks the TSS descriptor busy, and refuses a busy one with
 * #GP(selector): that is what stops two tasks sharing a TSS.  A VMM that
 * emulates ltr must do both to the guest's own GDT.  Loading our TSS
 * again after marking it available is safe: it is the same TSS.
 */
static int ktest_cpu_tr_steps(void)
{
	struct x86_dtr gdtr;
	struct x86_desc *tss;
	bool fault, busy;

	sgdt(&gdtr);
	tss = (struct x86_desc *)(gdtr.base + TSS_SEL);
	if (str() != TSS_SEL)
		return 1;
	if ((tss->access & KTEST_CPU_DESC_TYPE) != DESC_TSS32_BUSY)
		return 2;
	if (!ktest_cpu_ltr(TSS_SEL) || extable_last.trapno != T_GP || extable_last.err != TSS_SEL)
		return 3;
	ktest_cpu_set_desc_type(tss, DESC_TSS32);
	fault = ktest_cpu_ltr(TSS_SEL);
	busy = (tss->access & KTEST_CPU_DESC_TYPE) == DESC_TSS32_BUSY;
	ktest_cpu_set_desc_type(tss, DESC_TSS32_BUSY);	/* as it must be, whatever happened */
	if (fault)
		return 4;
	if (!busy)
		return 5;
	return str() == TSS_SEL ? 0 : 6;
}

int ktest_cpu_tr(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_tr_steps();

	irq_restore(flags);
	return step;
}

/* The kernel uses no LDT: lldt of the null selector, and of a selector that is no LDT. */
static int ktest_cpu_ldt_steps(void)
{
	if (ktest_cpu_lldt(0))
		return 1;
	if (sldt() != 0)
		return 2;
	if (!ktest_cpu_lldt(KERNEL_DS)) {
		ktest_cpu_lldt(0);
		return 3;
	}
	if (extable_last.trapno != T_GP || extable_last.err != KERNEL_DS)
		return 4;
	return sldt() == 0 ? 0 : 5;
}

int ktest_cpu_ldt(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_ldt_steps();

	irq_restore(flags);
	return step;
}

/* --- Control registers ---------------------------------------------------- */

/*
 * CR0.TS set by mov, cleared by clts, set again by lmsw, and seen each
 * time by both mov from CR0 and smsw - which a deprivileged kernel runs
 * without trapping, so it sees the real CR0.  No other bit may change.
 */
static int ktest_cpu_cr0_steps(uint32_t cr0)
{
	uint32_t set, cleared, by_lmsw;
	uint16_t msw_set, msw_cleared;

	lcr0(cr0 | CR0_TS);
	set = rcr0();
	msw_set = smsw();
	clts();
	cleared = rcr0();
	msw_cleared = smsw();
	lmsw((uint16_t)(cleared | CR0_TS));
	by_lmsw = rcr0();
	lcr0(cr0);
	if (set != (cr0 | CR0_TS))
		return 1;
	if (!(msw_set & CR0_TS))
		return 2;
	if (cleared != (cr0 & ~CR0_TS))
		return 3;
	if (msw_cleared & CR0_TS)
		return 4;
	if (by_lmsw != (cleared | CR0_TS))
		return 5;
	return rcr0() == cr0 ? 0 : 6;
}

int ktest_cpu_cr0(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_cr0_steps(rcr0());

	irq_restore(flags);
	return step;
}

/* CR2 is only written by page faults - and by mov; none can happen here. */
int ktest_cpu_cr2(void)
{
	uint32_t flags = irq_save();
	uint32_t old = rcr2(), first, second;

	lcr2(0x5a5a1234);
	first = rcr2();
	lcr2(0xc0ffee00);
	second = rcr2();
	lcr2(old);
	irq_restore(flags);
	if (first != 0x5a5a1234 || second != 0xc0ffee00)
		return 1;
	return 0;
}

/*
 * CR3 holds our process's page directory (the scheduler put it there);
 * reloading it, and switching to the kernel's directory and back, reads
 * back what was written - and the kernel keeps running, because the
 * kernel half is the same in every directory.
 */
static int ktest_cpu_cr3_steps(uint32_t cr3)
{
	uint32_t reloaded, kernel;

	if (cr3 != V2P(proc_current->pgdir))
		return 1;
	lcr3(cr3);
	reloaded = rcr3();
	lcr3(V2P(vm_kernel_pgdir));
	kernel = rcr3();
	lcr3(cr3);
	if (reloaded != cr3)
		return 2;
	if (kernel != V2P(vm_kernel_pgdir))
		return 3;
	return rcr3() == cr3 ? 0 : 4;
}

int ktest_cpu_cr3(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_cr3_steps(rcr3());

	irq_restore(flags);
	return step;
}

static bool ktest_cpu_lcr4(uint32_t v)
{
	int fault;

	asm volatile(EXTABLE_TRY("movl %[v], %%cr4") : [fault] "=&r"(fault) : [v] "r"(v) : "memory");
	return fault;
}

/*
 * Toggle CR4.PGE (which also flushes the whole TLB).  A CPU that has PGE
 * must take it and show it; one that has not must refuse it with #GP - or
 * may take it anyway, as emulators do.  The answer is the same line on
 * every CPU, so the output does not reveal the CPU's features.
 */
static int ktest_cpu_cr4_steps(uint32_t cr4, bool has_pge)
{
	uint32_t toggled = cr4 ^ CR4_PGE;

	if (!(cr4 & CR4_PSE))
		return 1;
	if (ktest_cpu_lcr4(toggled)) {
		if (has_pge)
			return 2;
		if (extable_last.trapno != T_GP)
			return 3;
	} else if (rcr4() != toggled) {
		ktest_cpu_lcr4(cr4);
		return 4;
	}
	if (ktest_cpu_lcr4(cr4))
		return 5;
	return rcr4() == cr4 ? 0 : 6;
}

int ktest_cpu_cr4(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_cr4_steps(rcr4(), ktest_cpu_features() & KTEST_CPUID_PGE);

	irq_restore(flags);
	return step;
}

/* --- Debug registers ------------------------------------------------------ */

#define KTEST_CPU_DR_CASE(n)                                                                       \
	case n:                                                                                    \
		if (write)                                                                         \
			asm volatile(EXTABLE_TRY("movl %[v], %%dr" #n)                             \
				     : [fault] "=&r"(fault)                                        \
				     : [v] "r"(*v));                                               \
		else                                                                               \
			asm volatile(EXTABLE_TRY("movl %%dr" #n ", %[v]")                          \
				     : [fault] "=&r"(fault), [v] "=r"(*v));                        \
		break;

/* mov to (write) or from debug register n, 0 to 3; true if it faulted. */
static bool ktest_cpu_mov_dr(int n, uint32_t *v, bool write)
{
	int fault = 1;

	switch (n) {
		KTEST_CPU_DR_CASE(0)
		KTEST_CPU_DR_CASE(1)
		KTEST_CPU_DR_CASE(2)
		KTEST_CPU_DR_CASE(3)
	}
	return fault;
}

/*
 * The breakpoint addresses DR0-DR3, written and read back.  DR7 stays as
 * it is - no breakpoint is enabled - so the values are only numbers.
 */
int ktest_cpu_dr(void)
{
	uint32_t saved[4], v;
	int step = 0;

	for (int n = 0; n < 4; n++)
		if (ktest_cpu_mov_dr(n, &saved[n], false))
			return 1;
	for (int n = 0; n < 4 && !step; n++) {
		v = 0xc0de0000u + (uint32_t)n * 0x1111u;
		if (ktest_cpu_mov_dr(n, &v, true))
			step = 2;
		else if (ktest_cpu_mov_dr(n, &v, false) || v != 0xc0de0000u + (uint32_t)n * 0x1111u)
			step = 3;
	}
	for (int n = 0; n < 4; n++)
		if (ktest_cpu_mov_dr(n, &saved[n], true) && !step)
			step = 4;
	return step;
}

/* --- Model-specific registers and the cache ------------------------------ */

static bool ktest_cpu_rdmsr(uint32_t msr, uint64_t *v)
{
	uint32_t lo, hi;
	int fault;

	asm volatile(EXTABLE_TRY("rdmsr") : [fault] "=&r"(fault), "=a"(lo), "=d"(hi) : "c"(msr));
	*v = (uint64_t)hi << 32 | lo;
	return fault;
}

static bool ktest_cpu_wrmsr(uint32_t msr, uint64_t v)
{
	int fault;

	asm volatile(EXTABLE_TRY("wrmsr")
		     : [fault] "=&r"(fault)
		     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "memory");
	return fault;
}

/* Write value to msr, read it back, put the old value back. */
static int ktest_cpu_msr_round_trip(uint32_t msr, uint64_t value)
{
	uint64_t saved, seen;
	int step = 0;

	if (ktest_cpu_rdmsr(msr, &saved))
		return 1;
	if (ktest_cpu_wrmsr(msr, value))
		return 2;
	if (ktest_cpu_rdmsr(msr, &seen) || seen != value)
		step = 3;
	if (ktest_cpu_wrmsr(msr, saved) && !step)
		step = 4;
	return step;
}

/*
 * The three MSRs of sysenter: a CPU with SEP keeps what is written to
 * them; one without must answer rdmsr with #GP - or may keep them anyway,
 * as emulators do.  Either way the same line is printed.  The values are
 * a 16-bit selector and two 32-bit addresses, which every CPU keeps whole.
 */
static int ktest_cpu_sysenter_steps(bool has_sep)
{
	static const struct {
		uint32_t msr;
		uint64_t value;
	} msrs[] = {
		{ KTEST_MSR_SYSENTER_CS, 0x1234 },
		{ KTEST_MSR_SYSENTER_ESP, 0xc0ffee00 },
		{ KTEST_MSR_SYSENTER_EIP, 0xc0de1000 },
	};
	uint64_t v;
	int step;

	if (ktest_cpu_rdmsr(KTEST_MSR_SYSENTER_CS, &v)) {
		if (has_sep)
			return 1;
		return extable_last.trapno == T_GP ? 0 : 2;
	}
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		if ((step = ktest_cpu_msr_round_trip(msrs[i].msr, msrs[i].value)))
			return 2 + 4 * (int)i + step;
	return 0;
}

int ktest_cpu_sysenter_msrs(void)
{
	uint32_t features = ktest_cpu_features();
	uint32_t flags = irq_save();
	int step = ktest_cpu_sysenter_steps((features & (KTEST_CPUID_MSR | KTEST_CPUID_SEP)) ==
					    (KTEST_CPUID_MSR | KTEST_CPUID_SEP));

	irq_restore(flags);
	return step;
}

/* wbinvd writes back and empties the caches: it must return, memory intact. */
int ktest_cpu_wbinvd(void)
{
	static volatile uint32_t word;
	int fault;

	word = 0x600dcafe;
	asm volatile(EXTABLE_TRY("wbinvd") : [fault] "=&r"(fault) : : "memory");
	if (fault)
		return 1;
	return word == 0x600dcafe ? 0 : 2;
}

/* --- I/O ports ------------------------------------------------------------ */

/*
 * The PICs' mask registers read back what pic.c and pit.c wrote (only
 * the timer unmasked), then two patterns each, then the old masks again.
 */
static int ktest_cpu_pic_mask_steps(void)
{
	static const uint8_t patterns[] = { 0x5a, 0xa5 };
	uint8_t master = inb(PORT_PIC1_DATA), slave = inb(PORT_PIC2_DATA);
	int step = 0;

	if (master != 0xfe || slave != 0xff)
		return 1;
	for (size_t i = 0; i < sizeof(patterns) && !step; i++) {
		uint8_t inverse = (uint8_t)~patterns[i];

		outb(PORT_PIC1_DATA, patterns[i]);
		outb(PORT_PIC2_DATA, inverse);
		if (inb(PORT_PIC1_DATA) != patterns[i])
			step = 2;
		else if (inb(PORT_PIC2_DATA) != inverse)
			step = 3;
	}
	outb(PORT_PIC1_DATA, master);
	outb(PORT_PIC2_DATA, slave);
	if (!step && (inb(PORT_PIC1_DATA) != master || inb(PORT_PIC2_DATA) != slave))
		step = 4;
	return step;
}

int ktest_cpu_pic_mask(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_pic_mask_steps();

	irq_restore(flags);
	return step;
}

static void ktest_cpu_outsb(uint16_t port, const void *src, uint32_t n)
{
	asm volatile("rep outsb" : "+S"(src), "+c"(n) : "d"(port) : "memory");
}

static void ktest_cpu_insb(uint16_t port, void *dst, uint32_t n)
{
	asm volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
}

/*
 * The UART's scratch register keeps the last byte written to it: by
 * outb, by rep outsb (three bytes, so the last one stays), read by inb
 * and by rep insb.  The string forms make a VMM read and write guest
 * memory, through the guest's page tables, for each byte.
 */
static int ktest_cpu_uart_scratch_steps(void)
{
	const uint16_t port = PORT_COM1 + UART_SCR;
	uint8_t old = inb(port), in[2] = { 0, 0 };
	int step = 0;

	outb(port, 0x5a);
	if (inb(port) != 0x5a)
		step = 1;
	outb(port, 0xa5);
	if (!step && inb(port) != 0xa5)
		step = 2;
	ktest_cpu_outsb(port, "kvm", 3);
	if (!step && inb(port) != 'm')
		step = 3;
	ktest_cpu_insb(port, in, 2);
	if (!step && (in[0] != 'm' || in[1] != 'm'))
		step = 4;
	outb(port, old);
	if (!step && inb(port) != old)
		step = 5;
	return step;
}

int ktest_cpu_uart_scratch(void)
{
	uint32_t flags = irq_save();
	int step = ktest_cpu_uart_scratch_steps();

	irq_restore(flags);
	return step;
}
