/*
 * extable.h - kernel instructions that are allowed to raise an exception.
 *
 * Use EXTABLE_TRY in an asm statement with an output operand named
 * [fault] ("=&r"): it runs one instruction and leaves 0 in [fault] if the
 * instruction completed, 1 if it raised an exception - whose vector,
 * error code and CR2 are then in extable_last.
 *
 *	asm volatile(EXTABLE_TRY("rdmsr")
 *		     : [fault] "=&r"(fault), "=a"(lo), "=d"(hi) : "c"(msr));
 */
#ifndef GUEST_EXTABLE_H
#define GUEST_EXTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "traps.h"

/* "If the instruction at insn raises an exception, go on at fixup." */
#define EXTABLE_ENTRY(insn, fixup)                                                                 \
	".pushsection .extable, \"a\"\n\t"                                                         \
	".balign 4\n\t"                                                                            \
	".long " #insn ", " #fixup "\n\t"                                                          \
	".popsection\n\t"

#define EXTABLE_TRY(insn)                                                                          \
	"movl $0, %[fault]\n"                                                                      \
	"1:\t" insn "\n\t"                                                                         \
	"jmp 3f\n"                                                                                 \
	"2:\tmovl $1, %[fault]\n"                                                                  \
	"3:\n\t" EXTABLE_ENTRY(1b, 2b)

/* The last exception that extable_fixup caught. */
struct extable_record {
	uint32_t trapno;
	uint32_t err;		/* the CPU's error code, or 0 */
	uint32_t cr2;		/* for a page fault: the address */
	uint32_t handler_eflags; /* EFLAGS inside the handler (interrupt gate: IF clear) */
};

extern struct extable_record extable_last;

bool extable_find(uint32_t eip);
bool extable_fixup(struct trapframe *tf, uint32_t cr2);

#endif
