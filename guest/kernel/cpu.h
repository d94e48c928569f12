/*
 * cpu.h - the privileged x86 instructions the kernel uses, one inline
 * function each.
 *
 * These are the instructions a VMM has to care about.  Run at its real
 * privilege level (ring 0) the kernel simply executes them.  Run
 * deprivileged under kvmshadow, most of them trap (in, out, hlt, lgdt,
 * mov to CR3...) and are emulated - and a few, notoriously popf, do not
 * trap but quietly behave differently.  The kernel is written as for a
 * real PC and does not know which case it is in.
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

#include "x86.h"

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

/*
 * Save the interrupt flag and disable interrupts; irq_restore puts the
 * flag back as it was.  Pairs nest, which a plain cli/sti could not do.
 * popf restores IF only at sufficient privilege: a kernel moved to ring 1
 * by a VMM would find its popf silently ignored, which is why a VMM must
 * deal with this instruction.
 */
static inline uint32_t irq_save(void)
{
	uint32_t flags;

	asm volatile("pushfl; popl %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void irq_restore(uint32_t flags)
{
	asm volatile("pushl %0; popfl" : : "g"(flags) : "memory", "cc");
}

static inline uint32_t read_eflags(void)
{
	uint32_t flags;

	asm volatile("pushfl; popl %0" : "=r"(flags));
	return flags;
}

/* Wait for an interrupt with interrupts enabled.  sti takes effect only
 * after the next instruction, so no interrupt can slip in between and
 * leave us halted with its wake-up already gone. */
static inline void sti_hlt(void)
{
	asm volatile("sti; hlt" : : : "memory");
}

static inline uint32_t rcr0(void)
{
	uint32_t v;

	asm volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static inline void lcr0(uint32_t v)
{
	asm volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint32_t rcr2(void)
{
	uint32_t v;

	asm volatile("movl %%cr2, %0" : "=r"(v));
	return v;
}

static inline void lcr3(uint32_t pa)
{
	asm volatile("movl %0, %%cr3" : : "r"(pa) : "memory");
}

static inline void lcr2(uint32_t v)
{
	asm volatile("movl %0, %%cr2" : : "r"(v));
}

static inline uint32_t rcr3(void)
{
	uint32_t v;

	asm volatile("movl %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint32_t rcr4(void)
{
	uint32_t v;

	asm volatile("movl %%cr4, %0" : "=r"(v));
	return v;
}

static inline void lcr4(uint32_t v)
{
	asm volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

static inline void invlpg(uint32_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void lgdt(const struct x86_dtr *dtr)
{
	asm volatile("lgdt %0" : : "m"(*dtr));
}

static inline void lidt(const struct x86_dtr *dtr)
{
	asm volatile("lidt %0" : : "m"(*dtr));
}

static inline void ltr(uint16_t sel)
{
	asm volatile("ltr %0" : : "r"(sel));
}

/*
 * The rest are used by the kernel's self-tests (ktest*.c), which check
 * that each of these instructions does what the manual says - the
 * question a VMM that emulates them has to answer too.
 */
static inline void sgdt(struct x86_dtr *dtr)
{
	asm volatile("sgdt %0" : "=m"(*dtr));
}

static inline void sidt(struct x86_dtr *dtr)
{
	asm volatile("sidt %0" : "=m"(*dtr));
}

static inline uint16_t str(void)
{
	uint16_t sel;

	asm volatile("str %0" : "=r"(sel));
	return sel;
}

static inline uint16_t sldt(void)
{
	uint16_t sel;

	asm volatile("sldt %0" : "=r"(sel));
	return sel;
}

/*
 * smsw reads the low 16 bits of CR0 and, unlike mov from CR0, is allowed
 * at any privilege level: a deprivileged kernel's smsw does not trap, so
 * a VMM cannot intercept it and must keep the real CR0.TS in step with
 * the virtual one instead.
 */
static inline uint16_t smsw(void)
{
	uint16_t v;

	asm volatile("smsw %0" : "=r"(v));
	return v;
}

static inline void clts(void)
{
	asm volatile("clts");
}

/* lmsw loads CR0's PE, MP, EM and TS; it can set PE but never clear it. */
static inline void lmsw(uint16_t v)
{
	asm volatile("lmsw %0" : : "r"(v));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void wbinvd(void)
{
	asm volatile("wbinvd" : : : "memory");
}

#endif
