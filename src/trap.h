/*
 * trap.h - what the VMM does with each trap the monitor hands it.
 *
 * Every trap of a shadow-mode guest - system call, exception, page fault,
 * privileged instruction, interrupt - arrives as one KVM exit at the
 * monitor's `out`.  trap_handle decides, from the frame, which of the
 * chapter's mechanisms it is: reflect it to the guest kernel (reflect.c),
 * fill the shadow (shadow.c), or emulate an instruction (emulate.c).
 */
#ifndef KVMSHADOW_TRAP_H
#define KVMSHADOW_TRAP_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

enum trap_outcome {
	TRAP_RESUME,  /* call trap_resume, then KVM_RUN */
	TRAP_HALT,    /* the guest executed hlt: wait for an interrupt, then trap_deliver_irq */
	TRAP_STOPPED, /* vm_stop was called */
};

enum trap_outcome trap_handle(struct vm *vm);

/*
 * How long the guest runs, after returning from an interrupt handler,
 * before the next interrupt is delivered (see trap_deliver_irq).
 */
#define TRAP_IRQ_HOLD_NS 1000000ull

/* Deliver a pending virtual interrupt if the guest's IF allows it and,
 * with paced set, if the pacing hold has passed. */
void trap_deliver_irq(struct vm *vm, bool paced);

/* May an interrupt be delivered now?  (the virtual IF, and pacing) */
bool trap_irq_deliverable(const struct vm *vm, uint64_t now);
/* ...and whether the host may inject the monitor's vector to get a frame. */
bool trap_irq_injectable(const struct vm *vm, uint64_t now);

/* Before the next KVM_RUN: fill the monitor's control block and make the
 * frame safe for the monitor to pop. */
void trap_resume(struct vm *vm);

#endif
