/*
 * emulate.c - trap and emulate: the guest kernel's privileged instructions,
 * carried out on its virtual CPU.
 *
 * In shadow mode the guest kernel runs in ring 1, believing it runs in
 * ring 0.  Most of what it does runs at full speed on the real CPU, but an
 * instruction that would let it control the machine - load CR3, mask
 * interrupts, point the CPU at a new IDT, talk to a port - faults instead,
 * with #GP (or #UD), and the monitor hands it to us.  This is the chapter's
 * Table B.5 on x86: "unprivileged code trying to update the TLB" becomes
 * "ring-1 code trying to load CR3", and the VMM does what the instruction
 * asked to a *virtual* copy of the machine's state, then resumes the guest
 * after the instruction.  The guest never learns the difference; a small
 * delay is the only sign that its mov to CR3 went through us.
 *
 * The flow of one call:
 *
 *   1. Decode the bytes with capstone.  Bytes that do not make an
 *      instruction earn the #UD (or #PF, #GP) the CPU would raise.
 *   2. Find the instruction in emulate_handlers[] at the bottom of this
 *      file; anything not there is EMULATE_UNSUPPORTED, for the caller to
 *      stop the guest with a message naming the instruction.
 *   3. Run the handler on *copies* of the registers and the virtual
 *      state.  Handlers read all their memory first and write last, so a
 *      fault can happen before any side effect; and because they work on
 *      copies, a fault leaves the guest exactly as it was, ready to
 *      restart the instruction once its page-fault handler has run.
 *   4. Commit the copies and advance eip only if the handler succeeded,
 *      and hand back the effects the caller must act on.
 *
 * Everything here comes from the guest and is hostile: the bytes, the
 * registers that form addresses, the values loaded into CR0, the stack an
 * iret pops.  Nothing a guest can do makes us touch memory other than
 * through the callbacks, with ranges that stay below 4 GiB, or loop for
 * more than EMULATE_REP_MAX elements.
 *
 * The guest kernel's segments are assumed flat: base 0, limit 4 GiB.  That
 * is what every 32-bit kernel we care about uses for CS, DS, ES and SS, so
 * an effective address *is* the linear address.  FS and GS are the
 * segments kernels give non-zero bases (per-CPU data, TLS), so an operand
 * that names them is refused rather than silently misplaced.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emulate.h"
#include "x86.h"

/* Bits x86.h does not name: the arithmetic flags PF, AF, SF and OF. */
#define EMULATE_FL_ARITH (FL_CF | 0x0004u | 0x0010u | FL_ZF | 0x0080u | 0x0800u)

/* What popf at CPL 0 may change; VM, RF, VIF and VIP it may not. */
#define EMULATE_POPF_MASK                                                                          \
	(EMULATE_FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL_MASK | FL_NT | FL_AC | FL_ID)

/* The CR0 bits a 32-bit CPU keeps; writes to the others are ignored. */
#define EMULATE_CR0_BITS                                                                           \
	(CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | \
	 CR0_PG)
#define EMULATE_CR0_PAGING (CR0_PG | CR0_WP)

/*
 * The CR4 features our virtual CPU offers.  The others (VME, PVI, PAE,
 * SMEP, ...) change how the CPU behaves in ways the monitor does not
 * reproduce, so setting them gets #GP(0), as on a CPU without them.
 */
#define EMULATE_CR4_MCE	       0x0040u
#define EMULATE_CR4_PCE	       0x0100u
#define EMULATE_CR4_OSFXSR     0x0200u
#define EMULATE_CR4_OSXMMEXCPT 0x0400u
#define EMULATE_CR4_ALLOWED                                                                        \
	(CR4_TSD | CR4_DE | CR4_PSE | EMULATE_CR4_MCE | CR4_PGE | EMULATE_CR4_PCE |                \
	 EMULATE_CR4_OSFXSR | EMULATE_CR4_OSXMMEXCPT)
#define EMULATE_CR4_PAGING (CR4_PSE | CR4_PGE | CR4_PAE)

/* DR6 and DR7 bits that read as fixed values whatever is written. */
#define EMULATE_DR6_WRITABLE 0x0000e00fu /* B0-B3, BD, BS, BT */
#define EMULATE_DR6_ONES     0xffff0ff0u
#define EMULATE_DR7_ZEROS    0x0000d800u
#define EMULATE_DR7_ONES     0x00000400u

/* The virtual MSRs: the three that sysenter uses. */
#define EMULATE_MSR_SYSENTER_CS	 0x174
#define EMULATE_MSR_SYSENTER_ESP 0x175
#define EMULATE_MSR_SYSENTER_EIP 0x176

/* Prefix bytes as capstone's detail reports them. */
#define EMULATE_PREFIX_LOCK  0xf0
#define EMULATE_PREFIX_REPNE 0xf2
#define EMULATE_PREFIX_REP   0xf3
#define EMULATE_PREFIX_OPSZ  0x66

/* One instruction in flight. */
struct emulate_ctx {
	const cs_insn *insn;
	const cs_x86 *x86;
	struct emulate_regs regs; /* working copies, committed on success */
	struct emulate_sys sys;
	const struct emulate_ops *ops;
	struct emulate_result *res;
	bool keep_eip;	    /* iret, an unfinished rep: eip stays */
	bool keep_progress; /* rep ins/outs: completed elements survive a fault */
};

/* --- Results -------------------------------------------------------------- */

static enum emulate_status emulate_raise(struct emulate_ctx *c, uint8_t vector, bool has_error)
{
	c->res->fault = (struct emulate_fault){.vector = vector, .has_error = has_error};
	return EMULATE_FAULT;
}

static enum emulate_status emulate_fault_ud(struct emulate_ctx *c)
{
	return emulate_raise(c, T_UD, false);
}

static enum emulate_status emulate_fault_gp(struct emulate_ctx *c)
{
	return emulate_raise(c, T_GP, true);
}

/*
 * Our names and texts may be cut short on purpose: capstone's operand
 * strings can be long.  Going through vsnprintf keeps GCC's
 * -Wformat-truncation, which cannot know that, quiet.
 */
__attribute__((format(printf, 3, 4))) static void emulate_format(char *buf, size_t size,
								 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The instruction as capstone prints it: "mov cr3, eax". */
static void emulate_insn_text(const cs_insn *insn, struct emulate_result *res)
{
	emulate_format(res->text, sizeof(res->text), "%s%s%s", insn->mnemonic,
		       insn->op_str[0] ? " " : "", insn->op_str);
}

/* Not ours: say what it was, where, and why we stop. */
static enum emulate_status emulate_unsupported(struct emulate_ctx *c, const char *why)
{
	const cs_insn *insn = c->insn;

	emulate_format(c->res->text, sizeof(c->res->text), "%s%s%s at 0x%08x: %s", insn->mnemonic,
		       insn->op_str[0] ? " " : "", insn->op_str, c->regs.eip, why);
	return EMULATE_UNSUPPORTED;
}

/*
 * A 0x66 prefix: 16-bit operands.  We ask the prefix, not the operand
 * sizes capstone reports, because capstone 4 forgets the 0x66 when it
 * comes before an f2/f3 prefix ("66 f3 ed" decodes as in eax, dx; the CPU
 * reads a word) - while still listing it in prefix[2].
 */
static bool emulate_opsize16(const struct emulate_ctx *c)
{
	return c->x86->prefix[2] == EMULATE_PREFIX_OPSZ;
}

static unsigned emulate_opsize(const struct emulate_ctx *c)
{
	return emulate_opsize16(c) ? 2 : 4;
}

/* --- Registers ------------------------------------------------------------ */

/* The general registers in encoding order (eax = 0 ... edi = 7). */
static uint32_t *emulate_gpr(struct emulate_regs *r, unsigned index)
{
	switch (index) {
	case 0:
		return &r->eax;
	case 1:
		return &r->ecx;
	case 2:
		return &r->edx;
	case 3:
		return &r->ebx;
	case 4:
		return &r->esp;
	case 5:
		return &r->ebp;
	case 6:
		return &r->esi;
	default:
		return &r->edi;
	}
}

/*
 * Where a capstone register lives: which general register, how much of
 * it.  Operands only ever name 32-bit registers (addresses, CR and DR
 * moves) and 16-bit ones (lldt ax, smsw ax; dx for ports); the
 * accumulator of in and out we find ourselves (emulate_io_size).
 */
struct emulate_reg_slot {
	x86_reg reg;
	uint8_t index; /* emulate_gpr() */
	uint8_t size;  /* bytes */
};

/* clang-format off */
static const struct emulate_reg_slot emulate_reg_slots[] = {
	{ X86_REG_EAX, 0, 4 }, { X86_REG_ECX, 1, 4 }, { X86_REG_EDX, 2, 4 }, { X86_REG_EBX, 3, 4 },
	{ X86_REG_ESP, 4, 4 }, { X86_REG_EBP, 5, 4 }, { X86_REG_ESI, 6, 4 }, { X86_REG_EDI, 7, 4 },
	{ X86_REG_AX, 0, 2 },  { X86_REG_CX, 1, 2 },  { X86_REG_DX, 2, 2 },  { X86_REG_BX, 3, 2 },
	{ X86_REG_SP, 4, 2 },  { X86_REG_BP, 5, 2 },  { X86_REG_SI, 6, 2 },  { X86_REG_DI, 7, 2 },
};
/* clang-format on */

static const struct emulate_reg_slot *emulate_reg_slot(x86_reg reg)
{
	for (size_t i = 0; i < sizeof(emulate_reg_slots) / sizeof(emulate_reg_slots[0]); i++)
		if (emulate_reg_slots[i].reg == reg)
			return &emulate_reg_slots[i];
	return NULL;
}

static uint32_t emulate_size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* Read a 16- or 32-bit general register; false if 'reg' is not one. */
static bool emulate_reg_get(struct emulate_ctx *c, x86_reg reg, uint32_t *val)
{
	const struct emulate_reg_slot *s = emulate_reg_slot(reg);

	if (!s)
		return false;
	*val = *emulate_gpr(&c->regs, s->index) & emulate_size_mask(s->size);
	return true;
}

/* A 32-bit general register, as a source of addresses and CR values. */
static bool emulate_reg32(struct emulate_ctx *c, x86_reg reg, uint32_t *val)
{
	const struct emulate_reg_slot *s = emulate_reg_slot(reg);

	return s && s->size == 4 && emulate_reg_get(c, reg, val);
}

/* Write the low 'size' bytes of general register 'index', keeping the rest. */
static void emulate_gpr_set(struct emulate_ctx *c, unsigned index, unsigned size, uint32_t val)
{
	uint32_t mask = emulate_size_mask(size), *r = emulate_gpr(&c->regs, index);

	*r = (*r & ~mask) | (val & mask);
}

/* Write a whole 32-bit register that emulate_reg32() accepted. */
static void emulate_reg32_set(struct emulate_ctx *c, x86_reg reg, uint32_t val)
{
	emulate_gpr_set(c, emulate_reg_slot(reg)->index, 4, val);
}

/* --- Memory --------------------------------------------------------------- */

static uint16_t emulate_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t emulate_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void emulate_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * An access that runs past the 4 GiB limit of a flat segment: the CPU
 * raises #SS(0) for the stack and #GP(0) for any other segment.  Checking
 * here also means the callbacks never see a range that wraps around.
 */
static bool emulate_beyond_limit(uint32_t va, unsigned len)
{
	return (uint64_t)va + len > 0x100000000ull;
}

static enum emulate_status emulate_read(struct emulate_ctx *c, uint32_t va, void *buf, unsigned len,
					uint8_t limit_vector)
{
	if (emulate_beyond_limit(va, len))
		return emulate_raise(c, limit_vector, true);
	if (c->ops->read(c->ops->ctx, va, buf, len, &c->res->fault) != 0)
		return EMULATE_FAULT;
	return EMULATE_DONE;
}

static enum emulate_status emulate_write(struct emulate_ctx *c, uint32_t va, const void *buf,
					 unsigned len, uint8_t limit_vector)
{
	if (emulate_beyond_limit(va, len))
		return emulate_raise(c, limit_vector, true);
	if (c->ops->write(c->ops->ctx, va, buf, len, &c->res->fault) != 0)
		return EMULATE_FAULT;
	return EMULATE_DONE;
}

/* The n-th dword above the stack pointer; each pop is its own access. */
static enum emulate_status emulate_stack_read(struct emulate_ctx *c, unsigned n, uint32_t *val)
{
	uint8_t b[4] = {0};
	enum emulate_status st = emulate_read(c, c->regs.esp + 4 * n, b, 4, T_SS);

	*val = emulate_get32(b);
	return st;
}

/*
 * A memory operand must be one we can place: 32-bit addressing (with a
 * 0x67 prefix the CPU would wrap addresses at 64 KiB) and a segment we
 * know to be flat.
 */
static enum emulate_status emulate_check_flat(struct emulate_ctx *c, const cs_x86_op *op)
{
	if (c->x86->addr_size != 4)
		return emulate_unsupported(c, "16-bit addressing");
	if (op->mem.segment == X86_REG_FS || op->mem.segment == X86_REG_GS)
		return emulate_unsupported(c, "fs/gs override (flat segments only)");
	return EMULATE_DONE;
}

/*
 * The effective address of a memory operand: base + index * scale + disp,
 * modulo 2^32, from the guest's registers.  With flat segments it is also
 * the linear address.
 */
static enum emulate_status emulate_ea(struct emulate_ctx *c, const cs_x86_op *op, uint32_t *va)
{
	uint32_t ea = (uint32_t)op->mem.disp, v;
	enum emulate_status st = emulate_check_flat(c, op);

	if (st != EMULATE_DONE)
		return st;
	if (op->mem.base != X86_REG_INVALID) {
		if (!emulate_reg32(c, op->mem.base, &v))
			return emulate_unsupported(c, "unexpected base register");
		ea += v;
	}
	if (op->mem.index != X86_REG_INVALID && op->mem.index != X86_REG_EIZ) {
		if (!emulate_reg32(c, op->mem.index, &v))
			return emulate_unsupported(c, "unexpected index register");
		ea += v * (uint32_t)op->mem.scale;
	}
	*va = ea;
	return EMULATE_DONE;
}

/* A 16-bit source operand: a register or a word in memory. */
static enum emulate_status emulate_operand16(struct emulate_ctx *c, const cs_x86_op *op,
					     uint16_t *val)
{
	enum emulate_status st;
	uint8_t b[2] = {0};
	uint32_t v, va;

	if (op->type == X86_OP_REG) {
		if (!emulate_reg_get(c, op->reg, &v))
			return emulate_unsupported(c, "unexpected register");
		*val = (uint16_t)v;
		return EMULATE_DONE;
	}
	if (op->type != X86_OP_MEM)
		return emulate_unsupported(c, "unexpected operand");
	st = emulate_ea(c, op, &va);
	if (st == EMULATE_DONE)
		st = emulate_read(c, va, b, 2, T_GP);
	*val = emulate_get16(b);
	return st;
}

/* The 16-bit source of lldt, ltr, lmsw: their only operand. */
static enum emulate_status emulate_src16(struct emulate_ctx *c, uint16_t *val)
{
	if (c->x86->op_count != 1)
		return emulate_unsupported(c, "unexpected operands");
	return emulate_operand16(c, &c->x86->operands[0], val);
}

/*
 * The destination of sldt, str, smsw.  A 32-bit register receives the
 * whole value (zero-extended selectors, all of CR0: what every CPU since
 * the P6 does), a 16-bit register (0x66) its low word, memory a word.
 */
static enum emulate_status emulate_dst16(struct emulate_ctx *c, uint32_t val)
{
	const cs_x86_op *op = &c->x86->operands[0];
	const struct emulate_reg_slot *slot = emulate_reg_slot(op->reg);
	enum emulate_status st;
	uint8_t b[2] = {(uint8_t)val, (uint8_t)(val >> 8)};
	uint32_t va;

	if (c->x86->op_count != 1)
		return emulate_unsupported(c, "unexpected operands");
	if (op->type == X86_OP_REG) {
		if (!slot)
			return emulate_unsupported(c, "unexpected register");
		emulate_gpr_set(c, slot->index, emulate_opsize(c), val);
		return EMULATE_DONE;
	}
	if (op->type != X86_OP_MEM)
		return emulate_unsupported(c, "unexpected operand");
	st = emulate_ea(c, op, &va);
	if (st != EMULATE_DONE)
		return st;
	return emulate_write(c, va, b, 2, T_GP);
}

/* The single memory operand of lgdt, sidt, invlpg, ... */
static enum emulate_status emulate_mem_operand(struct emulate_ctx *c, uint32_t *va)
{
	if (c->x86->op_count != 1 || c->x86->operands[0].type != X86_OP_MEM)
		return emulate_unsupported(c, "unexpected operands");
	return emulate_ea(c, &c->x86->operands[0], va);
}

/* --- The interrupt flag and the stack ------------------------------------- */

/*
 * cli and sti fault in ring 1 (CPL > IOPL), so the virtual IF is simply
 * regs->eflags.IF.  An sti that turns interrupts on delays them by one
 * instruction on real hardware (the interrupt shadow); the caller, who
 * delivers them, must honour that.
 */
static enum emulate_status emulate_cli(struct emulate_ctx *c)
{
	c->regs.eflags &= ~FL_IF;
	return EMULATE_DONE;
}

static enum emulate_status emulate_sti(struct emulate_ctx *c)
{
	if (!(c->regs.eflags & FL_IF))
		c->res->effects |= EMULATE_EFFECT_IF_ON;
	c->regs.eflags |= FL_IF;
	return EMULATE_DONE;
}

/* eip moves past hlt, as on the CPU: the interrupt that wakes it returns there. */
static enum emulate_status emulate_hlt(struct emulate_ctx *c)
{
	c->sys.halted = true;
	c->res->effects |= EMULATE_EFFECT_HALT;
	return EMULATE_DONE;
}

/*
 * pushf and popf are the classic "sensitive but not privileged" pair: in
 * ring 1 they do not fault, pushf shows the real IF and IOPL, and popf
 * silently ignores IF.  The monitor patches them to a trapping byte and
 * hands us the original, so here we are.
 */
static enum emulate_status emulate_pushf(struct emulate_ctx *c)
{
	uint32_t esp = c->regs.esp - 4;
	uint8_t b[4];
	enum emulate_status st;

	if (emulate_opsize16(c))
		return emulate_unsupported(c, "16-bit operand size");
	emulate_put32(b, (c->regs.eflags | FL_FIXED) & ~(FL_VM | FL_RF));
	st = emulate_write(c, esp, b, 4, T_SS);
	if (st != EMULATE_DONE)
		return st;
	c->regs.esp = esp;
	return EMULATE_DONE;
}

/* The flags a CPL-0 popf leaves: 'popped' where it may, bit 1 set. */
static uint32_t emulate_popf_value(uint32_t old, uint32_t popped)
{
	return (popped & EMULATE_POPF_MASK) | (old & (FL_VIF | FL_VIP)) | FL_FIXED;
}

static void emulate_note_if(struct emulate_ctx *c, uint32_t before, uint32_t after)
{
	if (!(before & FL_IF) && (after & FL_IF))
		c->res->effects |= EMULATE_EFFECT_IF_ON;
}

/* popf never creates an interrupt shadow: unlike sti, IF_ON means "now". */
static enum emulate_status emulate_popf(struct emulate_ctx *c)
{
	uint32_t popped, flags;
	enum emulate_status st;

	if (emulate_opsize16(c))
		return emulate_unsupported(c, "16-bit operand size");
	st = emulate_stack_read(c, 0, &popped);
	if (st != EMULATE_DONE)
		return st;
	flags = emulate_popf_value(c->regs.eflags, popped);
	emulate_note_if(c, c->regs.eflags, flags);
	c->regs.eflags = flags;
	c->regs.esp += 4;
	return EMULATE_DONE;
}

/*
 * iret: the guest kernel returns from an interrupt or enters user mode.
 * We only read the frame.  The real return - loading CS and SS, checking
 * the selectors, switching to the shadow of the user's address space -
 * is the caller's, because it needs the monitor.  So regs->esp moves past
 * the frame, res->iret says where to go, and eip and eflags stay as they
 * were until the caller applies res->iret.
 */
static enum emulate_status emulate_iret(struct emulate_ctx *c)
{
	uint32_t frame[5];
	unsigned words = 3;
	enum emulate_status st;

	if (emulate_opsize16(c))
		return emulate_unsupported(c, "16-bit operand size");
	if (c->regs.eflags & FL_NT)
		return emulate_unsupported(c, "nested-task iret (task switch)");
	for (unsigned i = 0; i < words; i++) {
		st = emulate_stack_read(c, i, &frame[i]);
		if (st != EMULATE_DONE)
			return st;
		/* An outer ring: esp and ss follow.  RPL 1 is not one: under
		 * kvmshadow the guest kernel's own CS has RPL 1. */
		if (i == 2 && (frame[1] & SEL_RPL_MASK) >= 2)
			words = 5;
	}
	if (frame[2] & FL_VM)
		return emulate_unsupported(c, "iret to virtual-8086 mode");
	c->res->iret.eip = frame[0];
	c->res->iret.cs = frame[1] & 0xffff;
	c->res->iret.eflags = emulate_popf_value(0, frame[2]) | (frame[2] & FL_RF);
	c->res->iret.to_outer = words == 5;
	if (words == 5) {
		c->res->iret.esp = frame[3];
		c->res->iret.ss = frame[4] & 0xffff;
	}
	emulate_note_if(c, c->regs.eflags, c->res->iret.eflags);
	c->regs.esp += 4 * words;
	c->res->effects |= EMULATE_EFFECT_IRET;
	c->keep_eip = true;
	return EMULATE_DONE;
}

/* --- Control and debug registers ------------------------------------------ */

/*
 * CR0.  We check what hardware checks (PG needs PE, NW needs CD), drop
 * what hardware drops (reserved bits; ET reads as 1), and refuse what we
 * cannot do: leaving protected mode.
 */
static enum emulate_status emulate_write_cr0(struct emulate_ctx *c, uint32_t val)
{
	val = (val & EMULATE_CR0_BITS) | CR0_ET;
	if ((val & CR0_PG) && !(val & CR0_PE))
		return emulate_fault_gp(c);
	if ((val & CR0_NW) && !(val & CR0_CD))
		return emulate_fault_gp(c);
	if (!(val & CR0_PE))
		return emulate_unsupported(c, "clears CR0.PE: real mode is not supported");
	if ((val ^ c->sys.cr0) & EMULATE_CR0_PAGING)
		c->res->effects |= EMULATE_EFFECT_PAGING;
	c->sys.cr0 = val;
	return EMULATE_DONE;
}

/* CR4.  PAE guests are not supported yet: PAE is a reserved bit to them. */
static enum emulate_status emulate_write_cr4(struct emulate_ctx *c, uint32_t val)
{
	if (val & ~EMULATE_CR4_ALLOWED)
		return emulate_fault_gp(c);
	if ((val ^ c->sys.cr4) & EMULATE_CR4_PAGING)
		c->res->effects |= EMULATE_EFFECT_PAGING;
	c->sys.cr4 = val;
	return EMULATE_DONE;
}

/* A CR3 load flushes the TLB even when the value is the same. */
static enum emulate_status emulate_write_cr(struct emulate_ctx *c, unsigned cr, uint32_t val)
{
	switch (cr) {
	case 0:
		return emulate_write_cr0(c, val);
	case 2:
		c->sys.cr2 = val;
		return EMULATE_DONE;
	case 3:
		c->sys.cr3 = val;
		c->res->effects |= EMULATE_EFFECT_CR3;
		return EMULATE_DONE;
	default:
		return emulate_write_cr4(c, val);
	}
}

static uint32_t emulate_read_cr(const struct emulate_ctx *c, unsigned cr)
{
	switch (cr) {
	case 0:
		return c->sys.cr0;
	case 2:
		return c->sys.cr2;
	case 3:
		return c->sys.cr3;
	default:
		return c->sys.cr4;
	}
}

/* mov crN, r32 and mov r32, crN.  CR1, CR5-7 and CR8 do not exist: #UD. */
static enum emulate_status emulate_mov_cr(struct emulate_ctx *c, bool to_cr, x86_reg crreg,
					  x86_reg gpr)
{
	unsigned cr = (unsigned)(crreg - X86_REG_CR0);
	bool valid = cr == 0 || cr == 2 || cr == 3 || cr == 4;
	uint32_t val;

	if (!valid) {
		emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "mov %scr",
			       to_cr ? "" : "from ");
		return emulate_fault_ud(c);
	}
	emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "mov %scr%u",
		       to_cr ? "" : "from ", cr);
	if (!emulate_reg32(c, gpr, &val))
		return emulate_unsupported(c, "unexpected register");
	if (to_cr)
		return emulate_write_cr(c, cr, val);
	emulate_reg32_set(c, gpr, emulate_read_cr(c, cr));
	return EMULATE_DONE;
}

/*
 * Debug registers are kept, not used: the guest's hardware breakpoints
 * never fire.  DR4 and DR5 are DR6 and DR7 unless CR4.DE forbids them.
 */
static enum emulate_status emulate_mov_dr(struct emulate_ctx *c, bool to_dr, x86_reg drreg,
					  x86_reg gpr)
{
	unsigned dr = (unsigned)(drreg - X86_REG_DR0);
	uint32_t val;

	emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "%s",
		       to_dr ? "mov dr" : "mov from dr");
	if (dr >= 8 || ((dr == 4 || dr == 5) && (c->sys.cr4 & CR4_DE)))
		return emulate_fault_ud(c);
	if (dr == 4 || dr == 5)
		dr += 2;
	if (!emulate_reg32(c, gpr, &val))
		return emulate_unsupported(c, "unexpected register");
	if (!to_dr) {
		emulate_reg32_set(c, gpr, c->sys.dr[dr]);
		return EMULATE_DONE;
	}
	if (dr == 6)
		val = (val & EMULATE_DR6_WRITABLE) | EMULATE_DR6_ONES;
	else if (dr == 7)
		val = (val & ~EMULATE_DR7_ZEROS) | EMULATE_DR7_ONES;
	c->sys.dr[dr] = val;
	return EMULATE_DONE;
}

static bool emulate_reg_in(x86_reg reg, x86_reg first, x86_reg last)
{
	return reg >= first && reg <= last;
}

/*
 * mov to SS, DS or ES with a selector of RPL 0: at CPL 0 that is fine, in
 * ring 1 the CPU refuses an SS whose RPL is not the CPL.  We hand the
 * selector to the caller, which checks it against the real GDT and loads
 * it with the RPL the ring needs.
 */
static enum emulate_status emulate_mov_sreg(struct emulate_ctx *c, x86_reg reg)
{
	uint16_t sel;
	enum emulate_status st;

	if (reg != X86_REG_SS && reg != X86_REG_DS && reg != X86_REG_ES)
		return emulate_unsupported(c, "only ss, ds and es loads are emulated");
	st = emulate_operand16(c, &c->x86->operands[1], &sel);
	if (st != EMULATE_DONE)
		return st;
	c->res->sreg.reg = reg == X86_REG_SS   ? EMULATE_SREG_SS
			   : reg == X86_REG_DS ? EMULATE_SREG_DS
					       : EMULATE_SREG_ES;
	c->res->sreg.sel = sel;
	c->res->effects |= EMULATE_EFFECT_SREG;
	emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "mov sreg");
	return EMULATE_DONE;
}

/* capstone calls every mov X86_INS_MOV: keep the control and debug ones. */
static enum emulate_status emulate_mov(struct emulate_ctx *c)
{
	const cs_x86_op *dst = &c->x86->operands[0], *src = &c->x86->operands[1];

	if (c->x86->op_count == 2 && dst->type == X86_OP_REG &&
	    (dst->reg == X86_REG_SS || dst->reg == X86_REG_DS || dst->reg == X86_REG_ES ||
	     dst->reg == X86_REG_FS || dst->reg == X86_REG_GS))
		return emulate_mov_sreg(c, dst->reg);

	if (c->x86->op_count != 2 || dst->type != X86_OP_REG || src->type != X86_OP_REG)
		return emulate_unsupported(c, "not a control or debug register move");
	if (emulate_reg_in(dst->reg, X86_REG_CR0, X86_REG_CR15))
		return emulate_mov_cr(c, true, dst->reg, src->reg);
	if (emulate_reg_in(src->reg, X86_REG_CR0, X86_REG_CR15))
		return emulate_mov_cr(c, false, src->reg, dst->reg);
	if (emulate_reg_in(dst->reg, X86_REG_DR0, X86_REG_DR15))
		return emulate_mov_dr(c, true, dst->reg, src->reg);
	if (emulate_reg_in(src->reg, X86_REG_DR0, X86_REG_DR15))
		return emulate_mov_dr(c, false, src->reg, dst->reg);
	return emulate_unsupported(c, "not a control or debug register move");
}

static enum emulate_status emulate_clts(struct emulate_ctx *c)
{
	c->sys.cr0 &= ~CR0_TS;
	return EMULATE_DONE;
}

/* lmsw loads PE, MP, EM and TS - and can set PE but never clear it. */
static enum emulate_status emulate_lmsw(struct emulate_ctx *c)
{
	uint16_t msw;
	enum emulate_status st = emulate_src16(c, &msw);

	if (st != EMULATE_DONE)
		return st;
	c->sys.cr0 = (c->sys.cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) |
		     (msw & (CR0_PE | CR0_MP | CR0_EM | CR0_TS));
	return EMULATE_DONE;
}

static enum emulate_status emulate_smsw(struct emulate_ctx *c)
{
	return emulate_dst16(c, c->sys.cr0);
}

/* --- Descriptor tables ---------------------------------------------------- */

/*
 * lgdt, lidt, lldt and ltr only record: the guest's tables stay where the
 * guest put them, and the caller reads (and validates) descriptors from
 * them when it needs one.  ltr does not mark the TSS busy here either.
 */
static enum emulate_status emulate_load_dtr(struct emulate_ctx *c, uint32_t *base, uint16_t *limit,
					    unsigned effect)
{
	uint8_t b[6];
	uint32_t va;
	enum emulate_status st;

	if (emulate_opsize16(c))
		return emulate_unsupported(c, "16-bit operand size (24-bit base)");
	st = emulate_mem_operand(c, &va);
	if (st == EMULATE_DONE)
		st = emulate_read(c, va, b, 6, T_GP);
	if (st != EMULATE_DONE)
		return st;
	*limit = emulate_get16(b);
	*base = emulate_get32(b + 2);
	c->res->effects |= effect;
	return EMULATE_DONE;
}

static enum emulate_status emulate_store_dtr(struct emulate_ctx *c, uint32_t base, uint16_t limit)
{
	uint8_t b[6] = {(uint8_t)limit, (uint8_t)(limit >> 8)};
	uint32_t va;
	enum emulate_status st;

	if (emulate_opsize16(c))
		return emulate_unsupported(c, "16-bit operand size (24-bit base)");
	st = emulate_mem_operand(c, &va);
	if (st != EMULATE_DONE)
		return st;
	emulate_put32(b + 2, base);
	return emulate_write(c, va, b, 6, T_GP);
}

static enum emulate_status emulate_lgdt(struct emulate_ctx *c)
{
	return emulate_load_dtr(c, &c->sys.gdtr.base, &c->sys.gdtr.limit, EMULATE_EFFECT_GDT);
}

static enum emulate_status emulate_lidt(struct emulate_ctx *c)
{
	return emulate_load_dtr(c, &c->sys.idtr.base, &c->sys.idtr.limit, EMULATE_EFFECT_IDT);
}

static enum emulate_status emulate_sgdt(struct emulate_ctx *c)
{
	return emulate_store_dtr(c, c->sys.gdtr.base, c->sys.gdtr.limit);
}

static enum emulate_status emulate_sidt(struct emulate_ctx *c)
{
	return emulate_store_dtr(c, c->sys.idtr.base, c->sys.idtr.limit);
}

static enum emulate_status emulate_load_selector(struct emulate_ctx *c, uint16_t *sel)
{
	enum emulate_status st = emulate_src16(c, sel);

	if (st == EMULATE_DONE)
		c->res->effects |= EMULATE_EFFECT_GDT;
	return st;
}

static enum emulate_status emulate_lldt(struct emulate_ctx *c)
{
	return emulate_load_selector(c, &c->sys.ldtr);
}

static enum emulate_status emulate_ltr(struct emulate_ctx *c)
{
	return emulate_load_selector(c, &c->sys.tr);
}

static enum emulate_status emulate_sldt(struct emulate_ctx *c)
{
	return emulate_dst16(c, c->sys.ldtr);
}

static enum emulate_status emulate_str(struct emulate_ctx *c)
{
	return emulate_dst16(c, c->sys.tr);
}

/* --- Ports ---------------------------------------------------------------- */

/*
 * The guest kernel is at CPL 0 as far as it knows, so every port is open
 * to it: no IOPL or I/O bitmap check.  The port is an imm8 or DX.
 */
static bool emulate_port(struct emulate_ctx *c, const cs_x86_op *op, uint16_t *port)
{
	uint32_t dx;

	if (op->type == X86_OP_IMM) {
		*port = (uint16_t)(op->imm & 0xff);
		return true;
	}
	if (op->type != X86_OP_REG || op->reg != X86_REG_DX || !emulate_reg_get(c, op->reg, &dx))
		return false;
	*port = (uint16_t)dx;
	return true;
}

/*
 * Even opcodes (e4, e6, ec, ee, 6c, 6e) move a byte, odd ones a word or a
 * dword; the accumulator is always (part of) eax.
 */
static unsigned emulate_io_size(const struct emulate_ctx *c)
{
	return (c->x86->opcode[0] & 1) ? emulate_opsize(c) : 1;
}

static enum emulate_status emulate_in(struct emulate_ctx *c)
{
	unsigned size = emulate_io_size(c);
	uint16_t port;

	if (c->x86->op_count != 2 || !emulate_port(c, &c->x86->operands[1], &port))
		return emulate_unsupported(c, "unexpected operands");
	emulate_gpr_set(c, 0, size, c->ops->in(c->ops->ctx, port, (int)size));
	return EMULATE_DONE;
}

static enum emulate_status emulate_out(struct emulate_ctx *c)
{
	unsigned size = emulate_io_size(c);
	uint16_t port;

	if (c->x86->op_count != 2 || !emulate_port(c, &c->x86->operands[0], &port))
		return emulate_unsupported(c, "unexpected operands");
	c->ops->out(c->ops->ctx, port, (int)size, c->regs.eax & emulate_size_mask(size));
	return EMULATE_DONE;
}

/*
 * One element of ins: port to ES:[edi].  A port read cannot be undone, so
 * we first prove the destination writable (reading it and writing the
 * same bytes back) and only then touch the port.
 */
static enum emulate_status emulate_ins_one(struct emulate_ctx *c, uint16_t port, unsigned size)
{
	uint8_t b[4];
	uint32_t val;
	enum emulate_status st = emulate_read(c, c->regs.edi, b, size, T_GP);

	if (st == EMULATE_DONE)
		st = emulate_write(c, c->regs.edi, b, size, T_GP);
	if (st != EMULATE_DONE)
		return st;
	val = c->ops->in(c->ops->ctx, port, (int)size);
	emulate_put32(b, val);
	return emulate_write(c, c->regs.edi, b, size, T_GP);
}

/* One element of outs: DS:[esi] (or CS, ES, SS: all flat) to the port. */
static enum emulate_status emulate_outs_one(struct emulate_ctx *c, uint16_t port, unsigned size)
{
	uint8_t b[4] = {0};
	enum emulate_status st = emulate_read(c, c->regs.esi, b, size, T_GP);

	if (st != EMULATE_DONE)
		return st;
	c->ops->out(c->ops->ctx, port, (int)size, emulate_get32(b) & emulate_size_mask(size));
	return EMULATE_DONE;
}

/*
 * ins and outs, with or without rep.  Each element goes through the
 * callbacks and moves edi or esi by its size (down if DF is set); a rep
 * counts ECX down to zero.  Like the CPU, which lets interrupts in
 * between iterations, we stop after EMULATE_REP_MAX elements with eip
 * still on the instruction: the guest runs, traps on it again, and we
 * carry on.  A fault keeps the elements already done, as on hardware.
 */
static enum emulate_status emulate_string_io(struct emulate_ctx *c, bool in)
{
	uint8_t rep = c->x86->prefix[0];
	bool repeat = rep == EMULATE_PREFIX_REP || rep == EMULATE_PREFIX_REPNE;
	unsigned size = emulate_io_size(c);
	uint32_t step = (c->regs.eflags & FL_DF) ? 0u - size : size;
	uint16_t port = (uint16_t)c->regs.edx;
	enum emulate_status st;

	for (unsigned i = 0; i < c->x86->op_count; i++) {
		if (c->x86->operands[i].type != X86_OP_MEM)
			continue;
		st = emulate_check_flat(c, &c->x86->operands[i]);
		if (st != EMULATE_DONE)
			return st;
	}
	c->keep_progress = true;
	for (unsigned done = 0; !repeat || c->regs.ecx != 0; done++) {
		if (done == EMULATE_REP_MAX) {
			c->keep_eip = true;
			break;
		}
		st = in ? emulate_ins_one(c, port, size) : emulate_outs_one(c, port, size);
		if (st != EMULATE_DONE)
			return st;
		if (in)
			c->regs.edi += step;
		else
			c->regs.esi += step;
		if (!repeat)
			break;
		c->regs.ecx--;
	}
	return EMULATE_DONE;
}

static enum emulate_status emulate_ins(struct emulate_ctx *c)
{
	return emulate_string_io(c, true);
}

static enum emulate_status emulate_outs(struct emulate_ctx *c)
{
	return emulate_string_io(c, false);
}

/* --- TLB, MSRs, caches ---------------------------------------------------- */

/* invlpg names an address; it never accesses it. */
static enum emulate_status emulate_invlpg(struct emulate_ctx *c)
{
	uint32_t va;
	enum emulate_status st = emulate_mem_operand(c, &va);

	if (st != EMULATE_DONE)
		return st;
	c->res->invlpg_va = va;
	c->res->effects |= EMULATE_EFFECT_INVLPG;
	return EMULATE_DONE;
}

/* SYSENTER_ESP and _EIP hold addresses: a non-canonical one is #GP(0). */
static bool emulate_canonical(uint64_t v)
{
	return (v >> 47) == 0 || (v >> 47) == 0x1ffff;
}

static enum emulate_status emulate_rdmsr(struct emulate_ctx *c)
{
	uint64_t v;

	switch (c->regs.ecx) {
	case EMULATE_MSR_SYSENTER_CS:
		v = c->sys.msr_sysenter_cs;
		break;
	case EMULATE_MSR_SYSENTER_ESP:
		v = c->sys.msr_sysenter_esp;
		break;
	case EMULATE_MSR_SYSENTER_EIP:
		v = c->sys.msr_sysenter_eip;
		break;
	default:
		return emulate_fault_gp(c);
	}
	c->regs.eax = (uint32_t)v;
	c->regs.edx = (uint32_t)(v >> 32);
	return EMULATE_DONE;
}

static enum emulate_status emulate_wrmsr(struct emulate_ctx *c)
{
	uint64_t v = (uint64_t)c->regs.edx << 32 | c->regs.eax;

	switch (c->regs.ecx) {
	case EMULATE_MSR_SYSENTER_CS:
		c->sys.msr_sysenter_cs = (uint32_t)v; /* a 32-bit MSR */
		break;
	case EMULATE_MSR_SYSENTER_ESP:
		if (!emulate_canonical(v))
			return emulate_fault_gp(c);
		c->sys.msr_sysenter_esp = v;
		break;
	case EMULATE_MSR_SYSENTER_EIP:
		if (!emulate_canonical(v))
			return emulate_fault_gp(c);
		c->sys.msr_sysenter_eip = v;
		break;
	default:
		return emulate_fault_gp(c);
	}
	c->res->effects |= EMULATE_EFFECT_MSR;
	return EMULATE_DONE;
}

/* The guest's caches are the host's: nothing to write back or drop. */
static enum emulate_status emulate_nop(struct emulate_ctx *c)
{
	(void)c;
	return EMULATE_DONE;
}

/*
 * Instructions whose whole purpose is #UD (Linux's BUG() is a ud2).  The
 * monitor may hand us every #UD the guest kernel takes, so these must
 * reach the guest as the #UD they are, not stop it.  capstone also
 * decodes swapgs in 32-bit mode, where the CPU knows no such thing.
 */
static enum emulate_status emulate_undefined(struct emulate_ctx *c)
{
	return emulate_fault_ud(c);
}

/* --- Decoding and dispatch ------------------------------------------------ */

typedef enum emulate_status (*emulate_fn)(struct emulate_ctx *c);

/* Every instruction we emulate, with its name for --stats. */
/* clang-format off */
static const struct emulate_handler {
	unsigned id;
	const char *mnemonic;
	emulate_fn fn;
} emulate_handlers[] = {
	{ X86_INS_CLI, "cli", emulate_cli },
	{ X86_INS_STI, "sti", emulate_sti },
	{ X86_INS_HLT, "hlt", emulate_hlt },
	{ X86_INS_PUSHF, "pushf", emulate_pushf },
	{ X86_INS_PUSHFD, "pushf", emulate_pushf },
	{ X86_INS_POPF, "popf", emulate_popf },
	{ X86_INS_POPFD, "popf", emulate_popf },
	{ X86_INS_IRET, "iret", emulate_iret },
	{ X86_INS_IRETD, "iret", emulate_iret },
	{ X86_INS_MOV, "mov", emulate_mov },	/* renamed "mov cr3", "mov dr", ... */
	{ X86_INS_CLTS, "clts", emulate_clts },
	{ X86_INS_LMSW, "lmsw", emulate_lmsw },
	{ X86_INS_SMSW, "smsw", emulate_smsw },
	{ X86_INS_LGDT, "lgdt", emulate_lgdt },
	{ X86_INS_LIDT, "lidt", emulate_lidt },
	{ X86_INS_SGDT, "sgdt", emulate_sgdt },
	{ X86_INS_SIDT, "sidt", emulate_sidt },
	{ X86_INS_LLDT, "lldt", emulate_lldt },
	{ X86_INS_LTR, "ltr", emulate_ltr },
	{ X86_INS_SLDT, "sldt", emulate_sldt },
	{ X86_INS_STR, "str", emulate_str },
	{ X86_INS_IN, "in", emulate_in },
	{ X86_INS_OUT, "out", emulate_out },
	{ X86_INS_INSB, "ins", emulate_ins },
	{ X86_INS_INSW, "ins", emulate_ins },
	{ X86_INS_INSD, "ins", emulate_ins },
	{ X86_INS_OUTSB, "outs", emulate_outs },
	{ X86_INS_OUTSW, "outs", emulate_outs },
	{ X86_INS_OUTSD, "outs", emulate_outs },
	{ X86_INS_INVLPG, "invlpg", emulate_invlpg },
	{ X86_INS_RDMSR, "rdmsr", emulate_rdmsr },
	{ X86_INS_WRMSR, "wrmsr", emulate_wrmsr },
	{ X86_INS_WBINVD, "wbinvd", emulate_nop },
	{ X86_INS_INVD, "invd", emulate_nop },
	{ X86_INS_UD2, "ud", emulate_undefined },
	{ X86_INS_UD2B, "ud", emulate_undefined },
	{ X86_INS_UD0, "ud", emulate_undefined },
	{ X86_INS_SWAPGS, "ud", emulate_undefined },
};
/* clang-format on */

static const struct emulate_handler *emulate_find(unsigned id)
{
	for (size_t i = 0; i < sizeof(emulate_handlers) / sizeof(emulate_handlers[0]); i++)
		if (emulate_handlers[i].id == id)
			return &emulate_handlers[i];
	return NULL;
}

static enum emulate_status emulate_dispatch(struct emulate_ctx *c)
{
	const struct emulate_handler *h = emulate_find(c->insn->id);

	if (!h) {
		emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "%s", c->insn->mnemonic);
		return emulate_unsupported(c, "not an instruction we emulate");
	}
	emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "%s", h->mnemonic);
	if (c->x86->prefix[0] == EMULATE_PREFIX_LOCK)
		return emulate_fault_ud(c); /* none of these may be locked */
	return h->fn(c);
}

static bool emulate_is_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	default:
		return false;
	}
}

/*
 * Decode one instruction into em->insn.  cs_disasm_iter fills the buffer
 * cs_malloc gave us once, where cs_disasm would allocate and free one per
 * call - on the path of every trap.
 */
static bool emulate_decode(struct emulator *em, const uint8_t *bytes, size_t len, uint32_t eip)
{
	uint64_t address = eip;

	return len > 0 && cs_disasm_iter(em->cs, &bytes, &len, &address, em->insn);
}

/* Does 'buf' (of 'size' bytes) start with an instruction of more than 'len' bytes? */
static bool emulate_longer_than(struct emulator *em, const uint8_t *buf, size_t size, size_t len)
{
	return emulate_decode(em, buf, size, 0) && em->insn->size > len;
}

/*
 * The fetch stopped at a page that faults, and capstone cannot decode what
 * came before.  The CPU would have raised that page fault if the
 * instruction goes on into the missing page, and #UD if the bytes are
 * undefined before it gets there.  We ask capstone whether some
 * continuation (zeros, or a register ModRM) makes a longer instruction.
 */
static bool emulate_needs_more(struct emulator *em, const uint8_t *bytes, size_t len)
{
	static const uint8_t fills[] = {0x00, 0xc0};
	uint8_t buf[EMULATE_MAX_INSN];

	for (size_t f = 0; f < sizeof(fills); f++) {
		memset(buf, fills[f], sizeof(buf));
		if (len)
			memcpy(buf, bytes, len);
		if (emulate_longer_than(em, buf, sizeof(buf), len))
			return true;
	}
	return false;
}

/*
 * Fifteen bytes that capstone cannot decode may be an instruction longer
 * than the 15-byte limit (prefixes repeated), which is #GP(0).  capstone
 * refuses those outright, so skip the prefixes and measure the rest.
 */
static bool emulate_too_long(struct emulator *em, const uint8_t *bytes)
{
	uint8_t buf[2 * EMULATE_MAX_INSN] = {0};
	size_t p = 0;

	while (p < EMULATE_MAX_INSN && emulate_is_prefix(bytes[p]))
		p++;
	if (p == EMULATE_MAX_INSN)
		return true;
	memcpy(buf, bytes + p, EMULATE_MAX_INSN - p);
	return p > 0 && emulate_longer_than(em, buf, sizeof(buf), EMULATE_MAX_INSN - p);
}

/* "(bad): 0f ff" - the bytes we could not make sense of, for the trace. */
static void emulate_describe_bytes(struct emulate_result *res, const char *what,
				   const uint8_t *bytes, size_t len)
{
	size_t n = (size_t)snprintf(res->text, sizeof(res->text), "%s:", what);

	for (size_t i = 0; i < len && n + 4 < sizeof(res->text); i++)
		n += (size_t)snprintf(res->text + n, sizeof(res->text) - n, " %02x", bytes[i]);
	emulate_format(res->mnemonic, sizeof(res->mnemonic), "%s", what);
}

/* Bytes capstone cannot decode: the fault the CPU would raise for them. */
static void emulate_undecodable(struct emulator *em, const uint8_t *bytes, size_t len,
				const struct emulate_fault *fetch_fault, struct emulate_result *res)
{
	res->status = EMULATE_FAULT;
	if (fetch_fault && len < EMULATE_MAX_INSN && emulate_needs_more(em, bytes, len)) {
		res->fault = *fetch_fault;
		emulate_describe_bytes(res, "(fetch)", bytes, len);
	} else if (len == EMULATE_MAX_INSN && emulate_too_long(em, bytes)) {
		res->fault = (struct emulate_fault){.vector = T_GP, .has_error = true};
		emulate_describe_bytes(res, "(too long)", bytes, len);
	} else {
		res->fault = (struct emulate_fault){.vector = T_UD};
		emulate_describe_bytes(res, "(bad)", bytes, len);
	}
}

int emulate_init(struct emulator *em, struct error *err)
{
	cs_err e = cs_open(CS_ARCH_X86, CS_MODE_32, &em->cs);

	if (e != CS_ERR_OK)
		return error_set(err, "capstone: cannot open an x86-32 decoder: %s",
				 cs_strerror(e));
	e = cs_option(em->cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (e != CS_ERR_OK) {
		cs_close(&em->cs);
		return error_set(err, "capstone: cannot enable operand details: %s",
				 cs_strerror(e));
	}
	em->insn = cs_malloc(em->cs);
	if (!em->insn) {
		cs_close(&em->cs);
		return error_set(err, "capstone: out of memory");
	}
	return 0;
}

/* Also for an emulator never set up (a vm whose building failed earlier). */
void emulate_fini(struct emulator *em)
{
	if (em->insn)
		cs_free(em->insn, 1);
	if (em->cs)
		cs_close(&em->cs);
	*em = (struct emulator){0};
}

/* Make the handler's work the guest's state - or, on failure, don't. */
static void emulate_commit(struct emulate_ctx *c, struct emulate_regs *regs,
			   struct emulate_sys *sys)
{
	switch (c->res->status) {
	case EMULATE_DONE:
		if (!c->keep_eip)
			c->regs.eip += c->insn->size;
		*regs = c->regs;
		*sys = c->sys;
		break;
	case EMULATE_FAULT:
		if (c->keep_progress)
			*regs = c->regs; /* eip still on the instruction */
		c->res->effects = 0;
		break;
	case EMULATE_UNSUPPORTED:
		c->res->effects = 0;
		break;
	}
}

/* Decode, run one of the two dispatchers, commit: emulate_insn and emulate_store. */
static void emulate_run(struct emulator *em, const uint8_t *bytes, size_t len,
			const struct emulate_fault *fetch_fault, struct emulate_regs *regs,
			struct emulate_sys *sys, const struct emulate_ops *ops,
			struct emulate_result *res,
			enum emulate_status (*dispatch)(struct emulate_ctx *))
{
	struct emulate_ctx c = {.regs = *regs, .sys = *sys, .ops = ops, .res = res};

	memset(res, 0, sizeof(*res));
	if (len > EMULATE_MAX_INSN)
		len = EMULATE_MAX_INSN;
	if (!emulate_decode(em, bytes, len, regs->eip)) {
		emulate_undecodable(em, bytes, len, fetch_fault, res);
		return;
	}
	c.insn = em->insn;
	c.x86 = &em->insn->detail->x86;
	emulate_insn_text(c.insn, res);
	res->status = dispatch(&c);
	emulate_commit(&c, regs, sys);
}

void emulate_insn(struct emulator *em, const uint8_t *bytes, size_t len,
		  const struct emulate_fault *fetch_fault, struct emulate_regs *regs,
		  struct emulate_sys *sys, const struct emulate_ops *ops,
		  struct emulate_result *res)
{
	emulate_run(em, bytes, len, fetch_fault, regs, sys, ops, res, emulate_dispatch);
}

/* --- Ordinary stores: the guest writing one of its page tables ------------ */

/*
 * With shadow page tables, a guest page table is write-protected and an
 * ordinary store to it faults: the VMM does the store for the guest and
 * updates its shadows (trap.c's ptwrite).  Kernels write page-table
 * entries with a handful of instructions - mov, and the read-modify-write
 * or/and that set and clear flag bits, xchg and cmpxchg to swap an entry
 * out atomically - so those are what we emulate; anything else makes the caller stop
 * write-protecting the page and let the instruction run natively.
 */

#define EMULATE_ARITH_FLAGS                                                                        \
	(FL_CF | 0x4u | 0x10u | FL_ZF | 0x80u | 0x800u) /* CF PF AF ZF SF OF                       \
							 */

/* al, cl, dl, bl are bits 0-7 of eax..ebx; ah, ch, dh, bh bits 8-15. */
static const x86_reg emulate_reg8s[8] = {X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL,
					 X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH};

static int emulate_reg8_index(x86_reg reg)
{
	for (int i = 0; i < 8; i++)
		if (emulate_reg8s[i] == reg)
			return i;
	return -1;
}

/* A general register of any size: its value, or false. */
static bool emulate_reg_value(struct emulate_ctx *c, x86_reg reg, uint32_t *val)
{
	int i = emulate_reg8_index(reg);

	if (i < 0)
		return emulate_reg_get(c, reg, val);
	*val = (*emulate_gpr(&c->regs, (unsigned)i & 3) >> (i & 4 ? 8 : 0)) & 0xff;
	return true;
}

/* Set a register emulate_reg_value() accepted. */
static void emulate_reg_value_set(struct emulate_ctx *c, x86_reg reg, uint32_t val)
{
	int i = emulate_reg8_index(reg);
	uint32_t *r;

	if (i < 0)
		return emulate_gpr_set(c, emulate_reg_slot(reg)->index, emulate_reg_slot(reg)->size,
				       val);
	r = emulate_gpr(&c->regs, (unsigned)i & 3);
	if (i & 4)
		*r = (*r & ~0xff00u) | (val & 0xff) << 8;
	else
		*r = (*r & ~0xffu) | (val & 0xff);
}

static bool emulate_parity_even(uint32_t v)
{
	return !__builtin_parity(v & 0xff);
}

/* EFLAGS' arithmetic bits after r = a op b, in 'size' bytes. */
static uint32_t emulate_arith_flags(unsigned id, uint32_t a, uint32_t b, uint32_t r, unsigned size)
{
	uint32_t mask = emulate_size_mask(size), sign = 1u << (8 * size - 1), fl = 0;

	a &= mask, b &= mask, r &= mask;
	if (!r)
		fl |= FL_ZF;
	if (r & sign)
		fl |= 0x80u; /* SF */
	if (emulate_parity_even(r))
		fl |= 0x4u; /* PF */
	if (id == X86_INS_ADD || id == X86_INS_SUB) {
		if ((a ^ b ^ r) & 0x10)
			fl |= 0x10u; /* AF */
		if (id == X86_INS_ADD ? (uint64_t)a + b > mask : a < b)
			fl |= FL_CF;
		if (id == X86_INS_ADD ? (~(a ^ b) & (a ^ r) & sign) : ((a ^ b) & (a ^ r) & sign))
			fl |= 0x800u; /* OF */
	}
	return fl;
}

static uint32_t emulate_alu(unsigned id, uint32_t a, uint32_t b)
{
	switch (id) {
	case X86_INS_OR:
		return a | b;
	case X86_INS_AND:
		return a & b;
	case X86_INS_XOR:
		return a ^ b;
	case X86_INS_ADD:
		return a + b;
	case X86_INS_SUB:
		return a - b;
	default: /* mov */
		return b;
	}
}

static enum emulate_status emulate_load_n(struct emulate_ctx *c, uint32_t va, unsigned size,
					  uint32_t *val)
{
	uint8_t b[4] = {0};
	enum emulate_status st = emulate_read(c, va, b, size, T_GP);

	*val = emulate_get32(b);
	return st;
}

static enum emulate_status emulate_store_n(struct emulate_ctx *c, uint32_t va, unsigned size,
					   uint32_t val)
{
	uint8_t b[4];

	emulate_put32(b, val);
	return emulate_write(c, va, b, size, T_GP);
}

/* mov, or, and, xor, add, sub with a memory destination. */
static enum emulate_status emulate_store_alu(struct emulate_ctx *c)
{
	const cs_x86_op *dst = &c->x86->operands[0], *src = &c->x86->operands[1];
	unsigned id = c->insn->id, size = dst->size;
	uint32_t va, b, a = 0, r;
	enum emulate_status st;

	if (c->x86->op_count != 2 || dst->type != X86_OP_MEM ||
	    (size != 1 && size != 2 && size != 4))
		return emulate_unsupported(c, "not a store to memory");
	if (src->type == X86_OP_IMM)
		b = (uint32_t)src->imm;
	else if (src->type != X86_OP_REG || !emulate_reg_value(c, src->reg, &b))
		return emulate_unsupported(c, "unexpected source operand");
	if ((st = emulate_ea(c, dst, &va)) != EMULATE_DONE)
		return st;
	if (id != X86_INS_MOV && (st = emulate_load_n(c, va, size, &a)) != EMULATE_DONE)
		return st;
	r = emulate_alu(id, a, b);
	if ((st = emulate_store_n(c, va, size, r)) != EMULATE_DONE)
		return st;
	if (id != X86_INS_MOV)
		c->regs.eflags = (c->regs.eflags & ~EMULATE_ARITH_FLAGS) |
				 emulate_arith_flags(id, a, b, r, size);
	return EMULATE_DONE;
}

/* xchg of a register with memory, either way round. */
static enum emulate_status emulate_store_xchg(struct emulate_ctx *c)
{
	const cs_x86_op *m = &c->x86->operands[0], *reg = &c->x86->operands[1];
	uint32_t va, old, val;
	enum emulate_status st;

	if (c->x86->op_count == 2 && m->type == X86_OP_REG) {
		const cs_x86_op *t = m;

		m = reg, reg = t;
	}
	if (c->x86->op_count != 2 || m->type != X86_OP_MEM || reg->type != X86_OP_REG ||
	    !emulate_reg_value(c, reg->reg, &val))
		return emulate_unsupported(c, "not an exchange with memory");
	if ((st = emulate_ea(c, m, &va)) != EMULATE_DONE ||
	    (st = emulate_load_n(c, va, m->size, &old)) != EMULATE_DONE ||
	    (st = emulate_store_n(c, va, m->size, val)) != EMULATE_DONE)
		return st;
	emulate_reg_value_set(c, reg->reg, old);
	return EMULATE_DONE;
}

/*
 * cmpxchg with memory: compare the accumulator with it (flags as cmp); if
 * equal, store the source, else load it into the accumulator.  The CPU
 * writes the destination either way, and so do we.
 */
static enum emulate_status emulate_store_cmpxchg(struct emulate_ctx *c)
{
	const cs_x86_op *m = &c->x86->operands[0], *reg = &c->x86->operands[1];
	uint32_t va, old, src, acc;
	enum emulate_status st;
	unsigned size = m->size;

	if (c->x86->op_count != 2 || m->type != X86_OP_MEM || reg->type != X86_OP_REG ||
	    !emulate_reg_value(c, reg->reg, &src) || (size != 1 && size != 2 && size != 4))
		return emulate_unsupported(c, "not a compare-exchange with memory");
	acc = c->regs.eax & emulate_size_mask(size);
	if ((st = emulate_ea(c, m, &va)) != EMULATE_DONE ||
	    (st = emulate_load_n(c, va, size, &old)) != EMULATE_DONE)
		return st;
	old &= emulate_size_mask(size);
	if ((st = emulate_store_n(c, va, size, acc == old ? src : old)) != EMULATE_DONE)
		return st;
	c->regs.eflags = (c->regs.eflags & ~EMULATE_ARITH_FLAGS) |
			 emulate_arith_flags(X86_INS_SUB, acc, old, acc - old, size);
	if (acc != old)
		emulate_gpr_set(c, 0, size, old);
	return EMULATE_DONE;
}

/* One stos (no rep: a rep stos is a memset, and the caller unshadows). */
static enum emulate_status emulate_store_stos(struct emulate_ctx *c)
{
	unsigned size = c->insn->id == X86_INS_STOSB ? 1 : c->insn->id == X86_INS_STOSW ? 2 : 4;
	enum emulate_status st;

	if (c->x86->prefix[0] == EMULATE_PREFIX_REP || c->x86->prefix[0] == EMULATE_PREFIX_REPNE)
		return emulate_unsupported(c, "rep stos");
	if (c->x86->addr_size != 4)
		return emulate_unsupported(c, "16-bit addressing");
	st = emulate_store_n(c, c->regs.edi, size, c->regs.eax);
	if (st == EMULATE_DONE)
		c->regs.edi += c->regs.eflags & FL_DF ? -size : size;
	return st;
}

/* clang-format off */
static const struct emulate_handler emulate_store_handlers[] = {
	{ X86_INS_MOV, "mov", emulate_store_alu },
	{ X86_INS_OR, "or", emulate_store_alu },
	{ X86_INS_AND, "and", emulate_store_alu },
	{ X86_INS_XOR, "xor", emulate_store_alu },
	{ X86_INS_ADD, "add", emulate_store_alu },
	{ X86_INS_SUB, "sub", emulate_store_alu },
	{ X86_INS_XCHG, "xchg", emulate_store_xchg },
	{ X86_INS_CMPXCHG, "cmpxchg", emulate_store_cmpxchg },
	{ X86_INS_STOSB, "stos", emulate_store_stos },
	{ X86_INS_STOSW, "stos", emulate_store_stos },
	{ X86_INS_STOSD, "stos", emulate_store_stos },
};
/* clang-format on */

static enum emulate_status emulate_store_dispatch(struct emulate_ctx *c)
{
	for (size_t i = 0; i < sizeof(emulate_store_handlers) / sizeof(emulate_store_handlers[0]);
	     i++)
		if (emulate_store_handlers[i].id == c->insn->id) {
			emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "%s",
				       emulate_store_handlers[i].mnemonic);
			return emulate_store_handlers[i].fn(c);
		}
	emulate_format(c->res->mnemonic, sizeof(c->res->mnemonic), "%s", c->insn->mnemonic);
	return emulate_unsupported(c, "not a store we emulate");
}

void emulate_store(struct emulator *em, const uint8_t *bytes, size_t len,
		   const struct emulate_fault *fetch_fault, struct emulate_regs *regs,
		   const struct emulate_ops *ops, struct emulate_result *res)
{
	struct emulate_sys unused = {0}; /* stores touch no privileged state */

	emulate_run(em, bytes, len, fetch_fault, regs, &unused, ops, res, emulate_store_dispatch);
}

unsigned emulate_mem_operands(struct emulator *em, const struct emulate_regs *regs,
			      struct emulate_mem_operand *out, unsigned max)
{
	struct emulate_result res;
	struct emulate_ctx c = {
	    .insn = em->insn, .x86 = &em->insn->detail->x86, .regs = *regs, .res = &res};
	unsigned n = 0;

	for (int i = 0; i < c.x86->op_count && n < max; i++) {
		const cs_x86_op *op = &c.x86->operands[i];

		if (op->type != X86_OP_MEM || emulate_ea(&c, op, &out[n].va) != EMULATE_DONE)
			continue;
		out[n].size = op->size;
		out[n].write = op->access & CS_AC_WRITE;
		n++;
	}
	return n;
}
