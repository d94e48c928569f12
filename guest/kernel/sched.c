/*
 * sched.c - the scheduler: who gets the CPU next, and the ways of giving
 * it up.
 *
 * As in xv6, the scheduler is a loop of its own, running on the boot
 * stack: pick the next runnable process in round-robin order, make its
 * world current (its page directory in CR3, its kernel stack in the TSS),
 * switch to its kernel stack, and wait for it to switch back.  A process
 * gives the CPU back by calling sched_switch with its state already
 * changed: RUNNABLE when it yields or is preempted, SLEEPING when it
 * waits, ZOMBIE when it exits.
 *
 * Preemption: every timer tick (pit.c) counts down the running process's
 * time slice; when it runs out, the process is marked need_resched and
 * gives up the CPU just before it next returns to user mode
 * (sched_preempt, at the end of trap()).  The kernel itself is never
 * preempted, which is what keeps it simple: kernel code only has to
 * guard against interrupt handlers, by disabling interrupts
 * (irq_save/irq_restore), never against other processes.
 *
 * The rule that makes this safe: a process's state changes only with
 * interrupts off, and the scheduler loop runs with interrupts off except
 * while it halts in the idle loop - "sti; hlt", waiting for the next
 * interrupt when nobody can run.  (That halt is the chapter's idle loop
 * in B.5: a VMM that sees it knows this guest has nothing to do.)
 */
#include "cpu.h"
#include "pit.h"
#include "printk.h"
#include "proc.h"
#include "sched.h"
#include "segments.h"
#include "vm.h"

static struct context *sched_context;	/* the scheduler loop's, while a process runs */
static int sched_last;			/* slot of the last process picked */
static int sched_clock;			/* the channel sleepers on time wait on */

static struct proc *sched_pick(void)
{
	for (int i = 1; i <= NPROC; i++) {
		int slot = (sched_last + i) % NPROC;

		if (proc_table[slot].state == PROC_RUNNABLE) {
			sched_last = slot;
			return &proc_table[slot];
		}
	}
	return 0;
}

static void sched_run(struct proc *p)
{
	p->state = PROC_RUNNING;
	p->slice = SCHED_SLICE;
	p->need_resched = 0;
	proc_current = p;
	segments_set_kernel_stack((uint32_t)p->kstack + KSTACK_SIZE);
	vm_switch(p->pgdir);
	switch_to(&sched_context, p->context);
	proc_current = 0;
}

void sched_loop(void)
{
	cli();
	for (;;) {
		struct proc *p = sched_pick();

		if (p) {
			sched_run(p);
			continue;
		}
		sti_hlt();	/* idle: nothing can run until an interrupt */
		cli();
	}
}

/* Back to the scheduler loop.  Interrupts off; the caller set our state. */
void sched_switch(void)
{
	struct proc *p = proc_current;

	if (read_eflags() & FL_IF)
		panic("sched_switch: interrupts are enabled");
	if (p->state == PROC_RUNNING)
		panic("sched_switch: pid %d is still running", p->pid);
	proc_check_stack(p);
	switch_to(&p->context, sched_context);
}

void sched_yield(void)
{
	uint32_t flags = irq_save();

	proc_current->state = PROC_RUNNABLE;
	sched_switch();
	irq_restore(flags);
}

/* At the end of a trap from user mode: give up the CPU if our slice is over. */
void sched_preempt(void)
{
	if (proc_current && proc_current->need_resched)
		sched_yield();
}

/*
 * Sleep until someone calls sched_wakeup(chan).  Interrupts must be off,
 * and must have been since the caller checked the condition it waits
 * for: otherwise the wakeup could come in between and be lost.  Callers
 * loop, because a wakeup only says "look again".
 */
void sched_sleep(const void *chan)
{
	struct proc *p = proc_current;

	p->chan = chan;
	p->state = PROC_SLEEPING;
	sched_switch();
	p->chan = 0;
}

void sched_wakeup(const void *chan)
{
	uint32_t flags = irq_save();

	for (int i = 0; i < NPROC; i++)
		if (proc_table[i].state == PROC_SLEEPING && proc_table[i].chan == chan)
			proc_table[i].state = PROC_RUNNABLE;
	irq_restore(flags);
}

/* From the timer interrupt, interrupts off. */
void sched_tick(void)
{
	struct proc *p = proc_current;

	if (p && p->state == PROC_RUNNING && --p->slice <= 0)
		p->need_resched = 1;
	sched_wakeup(&sched_clock);
}

void sched_sleep_ticks(uint32_t n)
{
	uint32_t flags = irq_save();
	uint32_t start = pit_ticks();

	while (pit_ticks() - start < n)
		sched_sleep(&sched_clock);
	irq_restore(flags);
}
