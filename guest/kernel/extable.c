/*
 * extable.c - the exception table: the few kernel instructions that are
 * allowed to fault.
 *
 * The kernel does not take exceptions on purpose: it checks user pointers
 * before using them (uaccess.c), so an exception in kernel mode is a bug,
 * and a panic (traps.c, fault.c).  The kernel's self-tests (ktest*.c) are
 * the exception to that rule.  Their job is to find out whether something
 * faults - whether rdmsr of a register the CPU lacks raises #GP, whether
 * ltr of a busy TSS does, whether a store to a read-only page with CR0.WP
 * set does - and a test that finds the wrong answer must say FAIL, not
 * bring the kernel down.
 *
 * So each such instruction is listed, with the address to go on at
 * instead, in a table the linker gathers from section .extable
 * (guest/kernel.ld) - Linux's exception table, which is how its
 * copy_from_user survives a bad pointer.  When an exception hits kernel
 * code, trap() asks extable_fixup: if the instruction is in the table,
 * the exception is recorded in extable_last, the trap frame's eip is
 * moved to the fixup, and the handler's iret lands there.
 *
 * The address to list is the one the CPU reports in the trap frame: the
 * faulting instruction itself for a fault (#GP, #PF, #UD), but the next
 * instruction for a trap such as int3.
 *
 * Under a VMM, each of these exceptions must arrive in the guest exactly
 * as the CPU would deliver it - vector, error code, CR2, and the address
 * of the right instruction - or the fixup is not found and the guest
 * panics.
 */
#include "cpu.h"
#include "extable.h"

struct extable_entry {
	uint32_t insn;
	uint32_t fixup;
};

/* guest/kernel.ld */
extern const struct extable_entry extable_start[], extable_end[];

struct extable_record extable_last;

static const struct extable_entry *extable_lookup(uint32_t eip)
{
	for (const struct extable_entry *e = extable_start; e < extable_end; e++)
		if (e->insn == eip)
			return e;
	return 0;
}

bool extable_find(uint32_t eip)
{
	return extable_lookup(eip) != 0;
}

/* An exception in kernel mode: resume at the fixup, if there is one. */
bool extable_fixup(struct trapframe *tf, uint32_t cr2)
{
	const struct extable_entry *e = extable_lookup(tf->eip);

	if (!e)
		return false;
	extable_last = (struct extable_record){
		.trapno = tf->trapno,
		.err = tf->err,
		.cr2 = cr2,
		.handler_eflags = read_eflags(),
	};
	tf->eip = e->fixup;
	return true;
}
