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

struct vm;

enum trap_outcome {
	TRAP_RESUME,  /* call trap_resume, then KVM_RUN */
	TRAP_HALT,    /* the guest executed hlt: wait for an interrupt, then trap_deliver_irq */
	TRAP_STOPPED, /* vm_stop was called */
};

enum trap_outcome trap_handle(struct vm *vm);

/* Deliver a pending virtual interrupt if the guest's IF allows it. */
void trap_deliver_irq(struct vm *vm);

/* Before the next KVM_RUN: fill the monitor's control block and make the
 * frame safe for the monitor to pop. */
void trap_resume(struct vm *vm);

#endif
