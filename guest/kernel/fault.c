/*
 * fault.c - the page-fault handler: x86's version of the chapter's TLB
 * miss flow (Table B.4).
 *
 * On x86 the hardware walks the page tables on a TLB miss by itself; the
 * kernel hears about a miss only when the walk fails - nothing mapped, or
 * mapped without the right to do this - as a page fault (vector 14), with
 * the address in CR2 and what went wrong in the error code: present or
 * not, read or write, user or kernel.
 *
 * A fault is not always an error.  A process's heap (from sbrk) and its
 * stack are promised but not allocated: their pages appear, filled with
 * zeroes, the first time they are touched ("demand-zero").  So a user
 * fault on a not-present page inside the heap [heap_start, brk) or the
 * stack region gets a fresh zeroed page, and the faulting instruction
 * runs again - the "instruction is retried" of Table B.4.  Any other
 * user fault kills the process (proc_kill), with one line saying where
 * and why.
 *
 * The kernel itself does not take page faults: it checks user pointers
 * before using them (uaccess.c, which resolves demand-zero pages by
 * calling fault_resolve the way the MMU would), and its own memory is
 * always mapped.  So a fault in kernel mode is a bug, and a panic -
 * except at the few instructions of the exception table (extable.c),
 * which the kernel's self-tests use to touch memory that may not be
 * there.  For those, a page the current process is owed is filled in
 * just as for the process itself, and the instruction retried: a fault
 * taken in kernel mode, inside a system call, on a user address - which
 * a VMM must deliver to the guest kernel with the error code saying
 * "supervisor".  Any other fault there goes to the instruction's fixup.
 */
#include <stdbool.h>

#include "cpu.h"
#include "extable.h"
#include "fault.h"
#include "memlayout.h"
#include "printk.h"
#include "vm.h"

static bool fault_demand_zero(const struct proc *p, uint32_t va)
{
	if (va >= p->heap_start && va < p->brk)
		return true;
	return va >= USER_STACK_BOTTOM && va < USER_STACK_TOP;
}

/*
 * May process p access user address va (for writing, if write)?  If it
 * may but the page is not there yet, put a zeroed page there.
 */
enum fault_result fault_resolve(struct proc *p, uint32_t va, int write)
{
	uint32_t *pte;

	if (va >= KERNEL_BASE)
		return FAULT_PROTECTION;
	pte = vm_walk(p->pgdir, va, 0);
	if (pte && (*pte & PTE_P)) {
		if (!(*pte & PTE_U) || (write && !(*pte & PTE_W)))
			return FAULT_PROTECTION;
		return FAULT_OK;
	}
	if (!fault_demand_zero(p, va))
		return FAULT_BAD_ADDRESS;
	if (vm_map_zeroed(p->pgdir, PAGE_ROUND_DOWN(va), PTE_USER_RW) < 0)
		return FAULT_NO_MEMORY;
	return FAULT_OK;
}

/* Kernel-mode faults that demand-zero resolved: the self-tests count them. */
static uint32_t fault_kernel_fill_count;

uint32_t fault_kernel_fills(void)
{
	return fault_kernel_fill_count;
}

/* Kernel mode: a bug, unless the instruction is in the exception table. */
static void fault_in_kernel(struct trapframe *tf, uint32_t va, int write)
{
	if (!extable_find(tf->eip))
		panic("page fault in kernel at 0x%08x (eip 0x%08x, error 0x%x)", va, tf->eip,
		      tf->err);
	if (!(tf->err & PF_P) && va < KERNEL_BASE && proc_current &&
	    fault_resolve(proc_current, va, write) == FAULT_OK) {
		fault_kernel_fill_count++;
		return;
	}
	extable_fixup(tf, va);
}

/* Vector 14.  Interrupts are off, so CR2 is still this fault's address. */
void fault_page(struct trapframe *tf)
{
	uint32_t va = rcr2();
	int write = (tf->err & PF_W) != 0;

	if (!trap_from_user(tf)) {
		fault_in_kernel(tf, va, write);
		return;
	}
	if (!(tf->err & PF_P)) {
		switch (fault_resolve(proc_current, va, write)) {
		case FAULT_OK:
			return;
		case FAULT_NO_MEMORY:
			proc_kill("out of memory at 0x%08x (eip 0x%08x)", va, tf->eip);
		default:
			break;
		}
	}
	proc_kill("page fault at 0x%08x (eip 0x%08x, %s, %s)", va, tf->eip,
		  write ? "write" : "read", tf->err & PF_P ? "protection" : "not present");
}
