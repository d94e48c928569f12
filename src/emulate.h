/*
 * emulate.h - trap and emulate: carry out one privileged instruction of the
 * guest kernel on its virtual CPU.
 *
 * In shadow mode the guest kernel runs in ring 1.  Its privileged
 * instructions fault into the monitor, the monitor exits to us, and this
 * module does what the real instruction would have done - to the guest's
 * virtual state, never to the hardware - then says what the caller must
 * do about it (flush the shadow page tables, deliver a pending interrupt,
 * perform the real iret...).  It makes no KVM calls: the caller hands in
 * the instruction bytes, the registers, the virtual privileged state and
 * callbacks for memory and ports, so every case can be unit-tested.
 *
 * Documentation/emulate.md has the table of instructions and effects.
 */
#ifndef KVMSHADOW_EMULATE_H
#define KVMSHADOW_EMULATE_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The architectural limit: a longer instruction raises #GP(0). */
#define EMULATE_MAX_INSN 15

/* Elements one call moves for a rep ins/outs before it lets the guest
 * run again (and take interrupts); the instruction then traps again. */
#define EMULATE_REP_MAX 4096

/* The guest's general registers, as the monitor saved them. */
struct emulate_regs {
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t eip;
	uint32_t eflags; /* what the guest should see: virtual IF, its own IOPL */
};

/* The guest's virtual privileged state: it never reaches the hardware. */
struct emulate_sys {
	uint32_t cr0, cr2, cr3, cr4;
	struct {
		uint32_t base;
		uint16_t limit;
	} gdtr, idtr;
	uint16_t ldtr, tr; /* selectors loaded by lldt / ltr */
	uint32_t dr[8];	   /* DR0-3, DR6, DR7; 4 and 5 are aliases, unused */
	uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip;
	bool halted;
};

/* An exception the guest must see, as the CPU would have raised it. */
struct emulate_fault {
	uint8_t vector; /* T_UD, T_GP, T_SS, T_PF, ... (x86.h) */
	bool has_error;
	uint32_t error_code;
	uint32_t cr2; /* for T_PF: the faulting address */
};

/*
 * The caller's callbacks, all four required; ctx is passed back to each.
 *
 * read/write access guest-VIRTUAL memory through the guest's own page
 * tables, as the guest kernel (virtually at CPL 0) would.  They return 0,
 * or -1 after filling *fault with the page fault the guest must see.  A
 * write must be all or nothing: check every page it touches before
 * storing a byte.  The emulator never passes a range that wraps past
 * 4 GiB, and never more than 6 bytes.
 */
struct emulate_ops {
	void *ctx;
	int (*read)(void *ctx, uint32_t va, void *buf, unsigned len, struct emulate_fault *fault);
	int (*write)(void *ctx, uint32_t va, const void *buf, unsigned len,
		     struct emulate_fault *fault);
	uint32_t (*in)(void *ctx, uint16_t port, int size);
	void (*out)(void *ctx, uint16_t port, int size, uint32_t value);
};

enum emulate_status {
	EMULATE_DONE,	     /* state updated, eip advanced (not by iret, nor an unfinished rep) */
	EMULATE_FAULT,	     /* the guest must see 'fault'; regs, eip and sys unchanged */
	EMULATE_UNSUPPORTED, /* not an instruction we emulate: stop the guest with 'text' */
};

/* What the caller must do after EMULATE_DONE (a bit mask). */
#define EMULATE_EFFECT_CR3    0x001 /* cr3 written: new address space */
#define EMULATE_EFFECT_PAGING 0x002 /* CR0.PG/WP or CR4.PSE/PGE/PAE changed */
#define EMULATE_EFFECT_INVLPG 0x004 /* flush 'invlpg_va' */
#define EMULATE_EFFECT_IDT    0x008 /* lidt: the virtual IDT moved */
#define EMULATE_EFFECT_GDT    0x010 /* lgdt, lldt or ltr: descriptor tables changed */
#define EMULATE_EFFECT_IF_ON  0x020 /* virtual IF went 0 -> 1: deliver pending interrupts */
#define EMULATE_EFFECT_HALT   0x040 /* hlt: wait for the next virtual interrupt */
#define EMULATE_EFFECT_IRET   0x080 /* iret: perform the return described by 'iret' */
#define EMULATE_EFFECT_MSR    0x100 /* wrmsr changed a virtual MSR (sysenter) */
#define EMULATE_EFFECT_SREG   0x200 /* mov to ss/ds/es: load 'sreg' */

enum emulate_sreg { EMULATE_SREG_SS, EMULATE_SREG_DS, EMULATE_SREG_ES };

struct emulate_result {
	enum emulate_status status;
	unsigned effects;
	uint32_t invlpg_va;
	struct emulate_fault fault;
	/*
	 * The frame an iret popped.  eflags is already reduced to what a
	 * CPL-0 iret may load (as popf, plus RF).  esp and ss are valid only
	 * if to_outer: the popped cs has RPL 2 or 3 (RPL 1 is the guest
	 * kernel's own CS as the CPU shows it in shadow mode).
	 */
	struct {
		uint32_t eip, cs, eflags, esp, ss;
		bool to_outer;
	} iret;
	struct {
		enum emulate_sreg reg;
		uint16_t sel; /* as the guest wrote it */
	} sreg;
	char mnemonic[16]; /* short, stable name for --stats: "mov cr3", "cli", ... */
	char text[96]; /* the instruction as capstone prints it; if UNSUPPORTED, where and why */
};

struct emulator {
	csh cs;	       /* capstone, 32-bit mode, with operand details */
	cs_insn *insn; /* its one instruction buffer, reused by every call */
};

/* One-time setup of the decoder, and its teardown. */
int emulate_init(struct emulator *em, struct error *err);
void emulate_fini(struct emulator *em);

/*
 * Emulate the instruction at regs->eip, whose first 'len' bytes are
 * 'bytes' (the caller fetches up to EMULATE_MAX_INSN; for a patched
 * pushf/popf it passes the ORIGINAL byte).  If the fetch stopped short
 * because the next byte lies on a page that faults, fetch_fault is that
 * fault; otherwise it is NULL.  An instruction that needs bytes beyond
 * 'len' then ends as EMULATE_FAULT with *fetch_fault.
 *
 * On EMULATE_DONE, regs and sys hold the new state; on anything else they
 * are untouched - except that a rep ins/outs keeps the elements it
 * completed before a fault, as the CPU does.
 */
void emulate_insn(struct emulator *em, const uint8_t *bytes, size_t len,
		  const struct emulate_fault *fetch_fault, struct emulate_regs *regs,
		  struct emulate_sys *sys, const struct emulate_ops *ops,
		  struct emulate_result *res);

/*
 * Emulate an ordinary store at regs->eip - mov, or, and, xor, add or sub
 * with a memory destination, xchg or cmpxchg with memory, a single stos - the way
 * the guest writes its page tables.  The same contract as emulate_insn,
 * without privileged state; EMULATE_UNSUPPORTED for anything else.
 */
void emulate_store(struct emulator *em, const uint8_t *bytes, size_t len,
		   const struct emulate_fault *fetch_fault, struct emulate_regs *regs,
		   const struct emulate_ops *ops, struct emulate_result *res);

/* A memory operand of a decoded instruction. */
struct emulate_mem_operand {
	uint32_t va; /* linear address: base + index * scale + disp, flat segments */
	unsigned size;
	bool write;
};

/*
 * The memory operands of the instruction the last emulate_insn call
 * decoded, as the CPU would address them with these registers - whatever
 * that call's status, as long as the bytes decoded (EMULATE_DONE or
 * EMULATE_UNSUPPORTED).  Operands through FS or GS, or with registers we
 * do not model, are left out.  Returns how many were stored (at most max).
 */
unsigned emulate_mem_operands(struct emulator *em, const struct emulate_regs *regs,
			      struct emulate_mem_operand *out, unsigned max);

#endif
