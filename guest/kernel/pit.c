/*
 * pit.c - the 8254 programmable interval timer: the heartbeat that makes
 * scheduling preemptive.
 *
 * Counter 0 divides the 1.193182 MHz input clock by a divisor we load,
 * and in mode 2 (rate generator) raises IRQ 0 each time the count runs
 * out: at GUEST_HZ (100 Hz) the divisor is 11932, one tick every 10 ms.
 * Each tick counts in pit_ticks() and tells the scheduler (sched_tick),
 * which takes the CPU away from a process whose time slice is used up.
 *
 * The tick count is for measuring, never for printing: how many ticks a
 * run takes depends on the machine, and the guest's console output must
 * be the same on every machine.
 */
#include "cpu.h"
#include "pic.h"
#include "pit.h"
#include "ports.h"
#include "sched.h"

#define PIT_CH0_LOHI_MODE2	0x34	/* counter 0, low byte then high, mode 2, binary */

/* Global only so that a self-test can read it in one instruction (ktest_irq.c). */
volatile uint32_t pit_tick_count;

void pit_init(unsigned hz)
{
	uint32_t divisor = (PIT_HZ + hz / 2) / hz;

	outb(PORT_PIT_MODE, PIT_CH0_LOHI_MODE2);
	outb(PORT_PIT_CH0, divisor & 0xff);
	outb(PORT_PIT_CH0, (divisor >> 8) & 0xff);
	pic_unmask(PIT_IRQ);
}

uint32_t pit_ticks(void)
{
	return pit_tick_count;
}

/* IRQ 0, with interrupts off. */
void pit_interrupt(void)
{
	pit_tick_count++;
	sched_tick();
}
