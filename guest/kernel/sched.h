/* sched.h - the scheduler, sleep and wakeup. */
#ifndef GUEST_SCHED_H
#define GUEST_SCHED_H

#include <stdint.h>

#define SCHED_SLICE	2	/* timer ticks a process runs before preemption */

struct context;

void sched_loop(void) __attribute__((noreturn));
void sched_switch(void);
void sched_yield(void);
void sched_preempt(void);
void sched_sleep(const void *chan);
void sched_wakeup(const void *chan);
void sched_tick(void);
void sched_sleep_ticks(uint32_t n);

/* switch.S */
void switch_to(struct context **save, struct context *load);

#endif
