/* traps.h - the trap frame, and the interrupt descriptor table. */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <stdbool.h>
#include <stdint.h>

#define IRQ_BASE	0x20	/* the PICs deliver IRQ n at vector 0x20 + n */
#define IRQ_COUNT	16
#define TRAP_VECTORS	(IRQ_BASE + IRQ_COUNT)	/* vectors trapentry.S provides */

/*
 * The registers of whatever was interrupted, as trapentry.S and the CPU
 * leave them on the kernel stack, lowest address first.  Changing a field
 * changes what the interrupted code sees when we return: that is how a
 * system call returns its result (eax) and how exec starts a new program
 * (eip, esp).
 */
struct trapframe {
	/* pushal */
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	/* trapentry.S */
	uint32_t gs, fs, es, ds;
	uint32_t trapno;
	uint32_t err;		/* the CPU's error code, or 0 */
	/* the CPU */
	uint32_t eip, cs, eflags;
	uint32_t esp, ss;	/* only when coming from ring 3 */
};

void traps_init(void);
void trap(struct trapframe *tf);
void trap_return(void);	/* trapentry.S: pop a trapframe and iret */

static inline bool trap_from_user(const struct trapframe *tf)
{
	return (tf->cs & 3) == 3;
}

#endif
