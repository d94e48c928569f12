/* pit.h - the 8254 timer: the kernel's clock. */
#ifndef GUEST_PIT_H
#define GUEST_PIT_H

#include <stdint.h>

#define PIT_IRQ		0

extern volatile uint32_t pit_tick_count;

void pit_init(unsigned hz);
uint32_t pit_ticks(void);
void pit_interrupt(void);

#endif
