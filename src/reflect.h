/*
 * reflect.h - the way into the guest kernel and back out: delivering a
 * trap through the guest's own IDT, and carrying out its iret.
 *
 * This is the chapter's Table B.3.  The CPU delivers every trap to the
 * monitor, never to the guest.  The VMM then does for the guest what the
 * CPU would have done had the guest been running alone in ring 0: look up
 * the handler in the guest's (virtual) IDT, switch to the guest kernel's
 * stack from its (virtual) TSS, push the frame the hardware pushes, clear
 * the (virtual) interrupt flag, and jump - at ring 1.  When the guest
 * kernel's iret traps, the VMM pops that frame and performs the real
 * return from trap.
 */
#ifndef KVMSHADOW_REFLECT_H
#define KVMSHADOW_REFLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate.h"
#include "monitor.h"

struct vm;

enum reflect_kind {
	REFLECT_FAULT, /* an exception: eip is where it happened (or after, for traps) */
	REFLECT_SOFT,  /* int n: eip is after the instruction; the gate's DPL is checked */
	REFLECT_IRQ,   /* an external interrupt */
};

/*
 * Rewrite frame f so that the monitor's iret enters the guest's handler
 * for vector, with the guest's frame on the guest's stack.  Returns 0, or
 * -1 after stopping the vm (a guest IDT or stack the CPU could not use:
 * on hardware that would end in a double or triple fault).
 */
int reflect_trap(struct vm *vm, struct monitor_frame *f, unsigned vector, bool has_error,
		 uint32_t error, enum reflect_kind kind);

/*
 * The guest kernel's iret popped 'iret' (emulate.c), leaving its stack at
 * esp.  Check it as the CPU would and point f at the return.  Returns 0,
 * or the #GP error code (selector) the guest must see instead, plus 1 so
 * that 0 stays "no fault": the caller reflects #GP(ret - 1).
 */
uint32_t reflect_iret(struct vm *vm, struct monitor_frame *f, const struct emulate_result *res,
		      uint32_t esp);

#endif
