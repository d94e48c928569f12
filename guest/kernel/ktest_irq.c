/*
 * ktest_irq.c - self-tests of the interrupt flag, and of interrupts that
 * arrive while the kernel runs.
 *
 * A kernel trusts a few rules about EFLAGS.IF without thinking: cli
 * holds interrupts off until sti or popf lets them in; pushf shows the
 * flag as it is; popf puts back whatever was saved (irq_save and
 * irq_restore, nested); sti waits one more instruction, so that "sti;
 * hlt" cannot lose its wake-up; a trap gate (our system call) leaves
 * interrupts on, an interrupt gate (every exception and IRQ) turns them
 * off.  A kernel run in ring 1 under a VMM has none of this for real:
 * cli and sti trap, popf silently leaves IF alone, and the VMM keeps a
 * *virtual* IF, delivering a pending interrupt only when that flag
 * allows.  These checks watch the virtual IF through the one thing a
 * kernel can see: when the timer interrupt arrives.
 *
 * To know that an interrupt is waiting, we ask the master PIC: with IF
 * clear, the timer's request sits in its interrupt request register
 * (IRR, read after OCW3 0x0a) until the CPU accepts it.  Waits are
 * bounded, so a check that never sees what it waits for fails instead of
 * hanging - except hlt, whose job is to wait.  The wait for a request is
 * bounded in timer periods, counted on the PIT's own counter: a bound in
 * loop iterations would depend on how fast the CPU runs the loop, and an
 * emulator that charges 1 ns per instruction runs it very fast indeed.
 * No tick count is ever returned: only whether the ticks moved.
 */
#include <stdbool.h>

#include "cpu.h"
#include "extable.h"
#include "ktest.h"
#include "pit.h"
#include "ports.h"

#define KTEST_IRQ_OCW3_READ_IRR	0x0a
#define KTEST_IRQ_TIMER_BIT	0x01	/* IRQ 0 */
#define KTEST_IRQ_PIT_LATCH_CH0	0x00	/* control word: latch counter 0's count */
#define KTEST_IRQ_PERIODS	3		/* timer periods to wait for a request */
#define KTEST_IRQ_WAITS		1000000u	/* looks at the tick count once IF is set */
#define KTEST_IRQ_SPINS		200000000u	/* kernel_irq's loop: seconds, at worst */

/* pushf: IF clear after cli, set after sti, clear after cli again. */
int ktest_irq_pushf(void)
{
	uint32_t flags = irq_save();
	uint32_t off = read_eflags(), on, off_again;

	sti();
	on = read_eflags();
	cli();
	off_again = read_eflags();
	irq_restore(flags);
	if (off & FL_IF)
		return 1;
	if (!(on & FL_IF))
		return 2;
	return off_again & FL_IF ? 3 : 0;
}

/* popf sets IF, then clears it: the instruction a ring-1 kernel's popf ignores. */
int ktest_irq_popf(void)
{
	uint32_t flags = irq_save();
	uint32_t on, off;

	irq_restore(flags | FL_IF);
	on = read_eflags();
	irq_restore(flags & ~FL_IF);
	off = read_eflags();
	irq_restore(flags);
	if (!(on & FL_IF))
		return 1;
	return off & FL_IF ? 2 : 0;
}

/* irq_save three deep from IF set: off inside, off until the outermost restore, on after. */
int ktest_irq_nest(void)
{
	uint32_t flags = irq_save(), f1, f2, f3, inner, after3, after2, after1;

	sti();
	f1 = irq_save();
	f2 = irq_save();
	f3 = irq_save();
	inner = read_eflags();
	irq_restore(f3);
	after3 = read_eflags();
	irq_restore(f2);
	after2 = read_eflags();
	irq_restore(f1);
	after1 = read_eflags();
	irq_restore(flags);
	if (!(f1 & FL_IF) || (f2 & FL_IF) || (f3 & FL_IF))
		return 1;
	if ((inner | after3 | after2) & FL_IF)
		return 2;
	return after1 & FL_IF ? 0 : 3;
}

/*
 * A system call runs with the EFLAGS the program had, as int $0x80 left
 * them: IOPL 0, set by the kernel when it made the process.  A VMM that
 * raised the real IOPL to let the kernel use ports must not let pushf
 * show it.
 */
int ktest_irq_iopl(void)
{
	return read_eflags() & FL_IOPL_MASK ? 1 : 0;
}

static bool ktest_irq_timer_pending(void)
{
	outb(PORT_PIC1_CMD, KTEST_IRQ_OCW3_READ_IRR);
	return inb(PORT_PIC1_CMD) & KTEST_IRQ_TIMER_BIT;
}

/* Counter 0's count; latched first, so that its two bytes belong together. */
static uint16_t ktest_irq_pit_count(void)
{
	uint8_t lo, hi;

	outb(PORT_PIT_MODE, KTEST_IRQ_PIT_LATCH_CH0);
	lo = inb(PORT_PIT_CH0);
	hi = inb(PORT_PIT_CH0);
	return (uint16_t)(hi << 8 | lo);
}

/*
 * With interrupts off: wait until the timer's next request is waiting -
 * for at most a few periods.  The counter counts down and reloads once a
 * period (mode 2), so a count higher than the last one is a new period.
 */
static bool ktest_irq_wait_pending(void)
{
	uint16_t last = ktest_irq_pit_count(), now;
	int periods = 0;

	while (periods < KTEST_IRQ_PERIODS) {
		if (ktest_irq_timer_pending())
			return true;
		now = ktest_irq_pit_count();
		if (now > last)
			periods++;
		last = now;
	}
	return false;
}

/* Wait until the tick count moves from before. */
static bool ktest_irq_wait_tick(uint32_t before)
{
	for (uint32_t i = 0; i < KTEST_IRQ_WAITS; i++)
		if (pit_tick_count != before)
			return true;
	return false;
}

/* A pending tick stays pending while IF is clear. */
static bool ktest_irq_held(uint32_t before)
{
	for (volatile int i = 0; i < 1000; i++)
		;
	return pit_tick_count == before;
}

/*
 * With a tick pending and IF clear, sti: the instruction right after sti
 * still runs before the interrupt (it still reads the old tick count),
 * and the interrupt comes right after.
 */
static int ktest_irq_sti_pending_steps(void)
{
	uint32_t before, in_shadow;

	if (!ktest_irq_wait_pending())
		return 1;
	before = pit_tick_count;
	if (!ktest_irq_held(before))
		return 2;
	asm volatile("sti\n\t"
		     "movl %1, %0" : "=r"(in_shadow) : "m"(pit_tick_count) : "memory");
	if (!ktest_irq_wait_tick(before))
		return 3;
	return in_shadow == before ? 0 : 4;
}

int ktest_irq_sti_pending(void)
{
	uint32_t flags = irq_save();
	int step = ktest_irq_sti_pending_steps();

	irq_restore(flags);
	return step;
}

/* The same, but popf sets IF: the pending interrupt must come in. */
static int ktest_irq_popf_pending_steps(uint32_t flags)
{
	uint32_t before;

	if (!ktest_irq_wait_pending())
		return 1;
	before = pit_tick_count;
	if (!ktest_irq_held(before))
		return 2;
	irq_restore(flags | FL_IF);
	return ktest_irq_wait_tick(before) ? 0 : 3;
}

int ktest_irq_popf_pending(void)
{
	uint32_t flags = irq_save();
	int step = ktest_irq_popf_pending_steps(flags);

	irq_restore(flags);
	return step;
}

/*
 * sti; hlt sleeps until an interrupt: the tick count has moved when it
 * returns.  The timer is the only unmasked interrupt, but a spurious
 * IRQ 7 could wake us too, so allow a few halts.
 */
int ktest_irq_hlt(void)
{
	uint32_t flags = irq_save(), before = pit_tick_count;
	bool ticked;

	for (int i = 0; i < 3 && pit_tick_count == before; i++) {
		sti_hlt();
		cli();
	}
	ticked = pit_tick_count != before;
	irq_restore(flags);
	return ticked ? 0 : 1;
}

/*
 * Our system-call gate is a trap gate: interrupts stay on in a system
 * call.  Exceptions come through interrupt gates: their handlers run with
 * interrupts off (extable_last.handler_eflags, seen by a ud2 here), and
 * iret turns them back on.
 */
int ktest_irq_syscall_if(void)
{
	int fault;

	if (!(read_eflags() & FL_IF))
		return 1;
	asm volatile(EXTABLE_TRY("ud2") : [fault] "=&r"(fault) : : "memory");
	if (!fault || extable_last.trapno != T_UD)
		return 2;
	if (extable_last.handler_eflags & FL_IF)
		return 3;
	return read_eflags() & FL_IF ? 0 : 4;
}

static uint32_t ktest_irq_xorshift(uint32_t x)
{
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/*
 * Spin in the kernel, interrupts on, until two ticks have come: timer
 * interrupts that arrive in kernel mode, and return to it with iret, no
 * privilege change.  Nothing else runs meanwhile (the kernel is not
 * preempted), so the ticks can only have interrupted this loop.  The
 * loop computes as it goes; computed again with interrupts off, the
 * result must be the same - the interrupts left its registers alone.
 */
int ktest_irq_kernel(void)
{
	uint32_t start = pit_ticks(), x = 1, y = 1, n = 0, flags;

	if (!(read_eflags() & FL_IF))
		return 1;
	while (pit_ticks() - start < 2 && n < KTEST_IRQ_SPINS) {
		x = ktest_irq_xorshift(x);
		n++;
	}
	if (pit_ticks() - start < 2)
		return 2;
	flags = irq_save();
	for (uint32_t i = 0; i < n; i++)
		y = ktest_irq_xorshift(y);
	irq_restore(flags);
	return x == y ? 0 : 3;
}
