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


/*
 * Rewrite frame f so that the monitor's iret enters the guest's handler
 * for vector, with the guest's frame on the guest's stack: f's eip is the
 * return address the guest will see (the faulting instruction for a
 * fault, the next one for a trap, int n or interrupt).  Returns 0, or -1
 * after stopping the vm (a guest IDT or stack the CPU could not use: on
 * hardware, a double and then a triple fault).
 */
int reflect_trap(struct vm *vm, struct monitor_frame *f, unsigned vector, bool has_error,
		 uint32_t error);

/*
 * int n of len bytes (eip is after it): as reflect_trap, but from user
 * mode the guest's gate must have DPL 3, else the guest gets #GP(n*8+2)
 * at the instruction, as the CPU would give it.
 */
int reflect_int(struct vm *vm, struct monitor_frame *f, unsigned vector, unsigned len);

/* Give the real gates of int3, into and int 0x80 the DPL of the guest's
 * own (after lidt): see reflect.c. */
void reflect_sync_user_gates(struct vm *vm);

/*
 * The guest kernel's iret popped 'iret' (emulate.c), leaving its stack at
 * esp.  Check it as the CPU would and point f at the return.  Returns 0,
 * or the #GP error code (selector) the guest must see instead, plus 1 so
 * that 0 stays "no fault": the caller reflects #GP(ret - 1).
 */
uint32_t reflect_iret(struct vm *vm, struct monitor_frame *f, const struct emulate_result *res,
		      uint32_t esp);

#endif
