/* fault.h - page faults, and demand-zero memory. */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

#include <stdint.h>

#include "proc.h"
#include "traps.h"

enum fault_result {
	FAULT_OK,		/* the access can go ahead (now) */
	FAULT_BAD_ADDRESS,	/* nothing may be there */
	FAULT_PROTECTION,	/* something is there, but not for this access */
	FAULT_NO_MEMORY,	/* it may be there, but we ran out of pages */
};

enum fault_result fault_resolve(struct proc *p, uint32_t va, int write);
void fault_page(struct trapframe *tf);
uint32_t fault_kernel_fills(void);

#endif
