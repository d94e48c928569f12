/*
 * trap.c - the VMM's side of every trap in shadow mode (see trap.h).
 *
 * The monitor left a struct monitor_frame on its stack and exited.  The
 * frame's vector says what happened; the frame's CS says who was running
 * (RPL 1: the guest kernel, RPL 3: one of its programs).  Between them
 * they pick one of the chapter's mechanisms:
 *
 *	int 0x80, int3, into	reflect to the guest's handler (Table B.3)
 *	#PF			a hidden fault (fill the shadow) or a true one
 *	#GP from ring 1		a privileged instruction: emulate it
 *	#GP from ring 3		reflect, as the hardware would
 *	MONITOR_IRQ_VECTOR	we interrupted the guest to deliver an interrupt
 *	anything else		an exception: reflect it
 *
 * Whatever we did, the frame now describes where the guest continues, and
 * trap_resume makes it safe for the monitor to pop.
 */
#include <string.h>

#include "reflect.h"
#include "segments.h"
#include "trap.h"
#include "vm.h"

/* --- Small helpers ---------------------------------------------------------- */

static bool trap_from_user(const struct monitor_frame *f)
{
	return (f->cs & SEL_RPL_MASK) == 3;
}

static const char *trap_ring_name(const struct monitor_frame *f)
{
	return trap_from_user(f) ? "user" : "kernel";
}

/* "0x%08x" as a value, for trace lines that mention it only sometimes. */
struct trap_hex_buf {
	char s[12];
};

static struct trap_hex_buf trap_hex(uint32_t v)
{
	struct trap_hex_buf b;

	snprintf(b.s, sizeof(b.s), "0x%08x", v);
	return b;
}

/* Reflect an exception that emulation or a walk produced. */
static void trap_reflect_fault(struct vm *vm, struct monitor_frame *f,
			       const struct emulate_fault *fault)
{
	if (fault->vector == 0xff) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest page tables for va 0x%08x lie outside its memory", fault->cr2);
		return;
	}
	if (fault->vector == T_PF) {
		vm->sys.cr2 = fault->cr2;
		vm->st->true_faults++;
	} else {
		vm->st->exceptions++;
	}
	if (trace_on(vm->trace, fault->vector == T_PF ? TRACE_PAGEFAULT : TRACE_EXCEPTION))
		trace_line(vm->trace,
			   "reflect exception %u (error 0x%x%s%s) at eip=0x%08x to the guest",
			   fault->vector, fault->error_code, fault->vector == T_PF ? ", cr2=" : "",
			   fault->vector == T_PF ? trap_hex(fault->cr2).s : "", f->eip);
	reflect_trap(vm, f, fault->vector, fault->has_error, fault->error_code);
}

static void trap_reflect_gp(struct vm *vm, struct monitor_frame *f, uint32_t error)
{
	struct emulate_fault gp = {.vector = T_GP, .has_error = true, .error_code = error};

	trap_reflect_fault(vm, f, &gp);
}

/* --- System calls and other int n ------------------------------------------ */

/* An instruction's bytes, as trap_fetch found them. */
struct trap_insn {
	uint8_t bytes[EMULATE_MAX_INSN];
	size_t len;
	uint32_t gpa;
	bool partial;
	struct emulate_fault fetch_fault;
};

/*
 * Fetch the instruction at f->eip, as the CPU would (ring 1 or 3): up to 15
 * bytes, fewer (partial, with fetch_fault) where the next page faults; gpa
 * is where its first byte is, from the one walk of that page.  Returns -1,
 * with fetch_fault, if not even the first byte can be fetched.
 */
static int trap_fetch(struct vm *vm, const struct monitor_frame *f, struct trap_insn *in)
{
	unsigned access = trap_from_user(f) ? PF_U : 0;
	size_t first = PAGE_SIZE - (f->eip & ~PAGE_MASK);

	if (first > EMULATE_MAX_INSN)
		first = EMULATE_MAX_INSN;
	in->partial = false;
	if (vm_virt_to_phys(vm, f->eip, access, &in->gpa, &in->fetch_fault))
		return -1;
	memcpy(in->bytes, vm_phys(vm, in->gpa), first);
	in->len = first;
	if (first == EMULATE_MAX_INSN)
		return 0;
	if (vm_read_virt(vm, f->eip + (uint32_t)first, in->bytes + first, EMULATE_MAX_INSN - first,
			 access, &in->fetch_fault))
		in->partial = true;
	else
		in->len = EMULATE_MAX_INSN;
	return 0;
}

/* int n, len bytes long, eip already after it. */
static void trap_soft_int(struct vm *vm, struct monitor_frame *f, unsigned vector, unsigned len)
{
	uint32_t from = f->eip - len;
	bool user = trap_from_user(f);

	if (vector == 0x80)
		vm->st->syscalls++;
	else
		vm->st->soft_ints++;
	if (reflect_int(vm, f, vector, len))
		return;
	if (trace_on(vm->trace, TRACE_SYSCALL))
		trace_line(vm->trace,
			   "int 0x%02x from %s eip=0x%08x -> guest handler 0x%08x at ring 1",
			   vector, user ? "user" : "kernel", from, f->eip);
}

/* How many prefix bytes start b[0..len)? */
static size_t trap_prefixes(const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len && b[i] && strchr("\x26\x2e\x36\x3e\x64\x65\x66\x67\xf2\xf3", b[i]))
		i++;
	return i;
}

/* int3 (cc) and into (ce) are one byte; int 3 / int 4 as cd 03 / cd 04 two. */
static unsigned trap_int_len(struct vm *vm, const struct monitor_frame *f, unsigned vector)
{
	struct emulate_fault fault;
	uint8_t b;

	if (vector == 0x80)
		return 2;
	if (!vm_read_virt(vm, f->eip - 1, &b, 1, trap_from_user(f) ? PF_U : 0, &fault) &&
	    (b == 0xcc || b == 0xce))
		return 1;
	return 2;
}

/*
 * int n through a gate of DPL 0 in the real IDT raises #GP(n * 8 + 2):
 * the error code names the vector and the IDT.  Whether the guest's own
 * gate would have allowed it is for reflect_trap to decide.
 */
static void trap_int_via_gp(struct vm *vm, struct monitor_frame *f)
{
	unsigned vector = (f->error >> 3) & 0xff, len = 2;
	struct trap_insn in;
	size_t p;

	/* The #GP points at the int, prefixes and all.  Anything else there
	 * (the guest changed its code under us) gets the #GP itself. */
	if (trap_fetch(vm, f, &in))
		return trap_reflect_gp(vm, f, f->error);
	p = trap_prefixes(in.bytes, in.len);
	if (p < in.len && ((in.bytes[p] == 0xcc && vector == T_BP) ||
			   (in.bytes[p] == 0xce && vector == T_OF))) {
		/* int3 and into: their real gates follow the guest's DPL
		 * (reflect_sync_user_gates), so they come this way too. */
		len = 1;
	} else if (p + 2 > in.len || in.bytes[p] != 0xcd || in.bytes[p + 1] != vector) {
		return trap_reflect_gp(vm, f, f->error);
	}
	f->eip += (uint32_t)p + len;
	trap_soft_int(vm, f, vector, (unsigned)p + len);
}

/* --- Page faults -------------------------------------------------------------- */

/* The size of the memory operand of the instruction at f->eip, 0 if unknown. */
static unsigned trap_operand_size(struct vm *vm, const struct monitor_frame *f, size_t *insn_len)
{
	struct trap_insn in;
	const uint8_t *p = in.bytes;
	uint64_t addr = f->eip;

	*insn_len = 0;
	if (trap_fetch(vm, f, &in) || !cs_disasm_iter(vm->em.cs, &p, &in.len, &addr, vm->em.insn))
		return 0;
	*insn_len = vm->em.insn->size;
	for (int i = 0; i < vm->em.insn->detail->x86.op_count; i++)
		if (vm->em.insn->detail->x86.operands[i].type == X86_OP_MEM)
			return vm->em.insn->detail->x86.operands[i].size;
	return 0;
}

/* Missing memory, reported once as in hw mode: it is probably a bug. */
static void trap_report_unbacked(struct vm *vm, const struct monitor_frame *f, uint32_t gpa,
				 bool write)
{
	size_t len;
	unsigned size = trap_operand_size(vm, f, &len);

	if (vm->unbacked_reported)
		return;
	vm->unbacked_reported = true;
	fprintf(stderr,
		"kvmshadow: %s: guest %s unbacked physical address 0x%x (%u bytes); %s "
		"(reported once)\n",
		vm->name, write ? "wrote" : "read", gpa, size,
		write ? "ignored" : "reads as all ones");
}

/* A write to missing memory vanishes: step over the instruction. */
static void trap_discard_write(struct vm *vm, struct monitor_frame *f, uint32_t gpa)
{
	size_t len;

	trap_report_unbacked(vm, f, gpa, true);
	trap_operand_size(vm, f, &len);
	if (!len) {
		vm_stop(
		    vm, VCPU_STOP_GUEST_ERROR,
		    "guest wrote to unbacked guest-physical 0x%08x with an instruction kvmshadow "
		    "cannot decode",
		    gpa);
		return;
	}
	f->eip += (uint32_t)len;
}

/* A page fault at va with this error code, as the CPU reported it or as
 * segment truncation implies it (trap_truncated). */
static void trap_ptwrite(struct vm *vm, struct monitor_frame *f, uint32_t va, uint32_t gpa);

static void trap_page_fault_at(struct vm *vm, struct monitor_frame *f, uint32_t va, uint32_t error)
{
	struct shadow_fault res;

	shadow_fault(vm, va, error, &res);
	if (res.kind == SHADOW_DISCARD)
		return trap_discard_write(vm, f, res.gpa);
	if (res.kind == SHADOW_PTWRITE)
		return trap_ptwrite(vm, f, va, res.gpa);
	if (res.kind == SHADOW_HIDDEN) {
		vm->st->hidden_faults++;
		if (res.unbacked)
			trap_report_unbacked(vm, f, res.gpa, false);
		if (trace_on(vm->trace, TRACE_PAGEFAULT))
			trace_line(vm->trace,
				   "hidden page fault: %s %s va 0x%08x at eip=0x%08x; guest maps "
				   "it to pa 0x%08x -> install shadow pte 0x%08x",
				   trap_ring_name(f), error & PF_W ? "write" : "read", va, f->eip,
				   res.gpa, res.spte);
		return;
	}
	if (res.kind == SHADOW_TRUE) {
		if (trace_on(vm->trace, TRACE_PAGEFAULT))
			trace_line(vm->trace,
				   "true page fault: %s %s va 0x%08x at eip=0x%08x (error 0x%x) -> "
				   "reflect to the guest with cr2=0x%08x",
				   trap_ring_name(f), error & PF_W ? "write" : "read", va, f->eip,
				   res.error, va);
		vm->sys.cr2 = va;
		vm->st->true_faults++;
		reflect_trap(vm, f, T_PF, true, res.error);
	}
}

static void trap_page_fault(struct vm *vm, struct monitor_frame *f)
{
	trap_page_fault_at(vm, f, f->cr2, f->error);
}

/*
 * Segment truncation.  Every guest segment in the real GDT ends below the
 * monitor (segments.c), so on hardware that checks segment limits a
 * ring-1 access to the monitor's 4 MiB is #GP(0) instead of a read of the
 * monitor.  The guest expects what its own page tables say there: a page
 * fault.  So an ordinary instruction (not one we emulate) that took
 * #GP(0) with a memory operand reaching 0xffc00000 becomes that page
 * fault.  (QEMU's TCG, which runs our sandbox, checks no limits: there the
 * access simply reads the monitor; Documentation/privilege.md.)
 */
static bool trap_truncated(struct vm *vm, struct monitor_frame *f, const struct emulate_regs *r)
{
	struct emulate_mem_operand ops[4];
	unsigned n = emulate_mem_operands(&vm->em, r, ops, 4);

	for (unsigned i = 0; i < n; i++) {
		uint64_t last = (uint64_t)ops[i].va + (ops[i].size ? ops[i].size - 1 : 0);

		if (last < VMM_RESERVED_VA)
			continue;
		trap_page_fault_at(vm, f,
				   ops[i].va >= VMM_RESERVED_VA ? ops[i].va : VMM_RESERVED_VA,
				   ops[i].write ? PF_W : 0);
		return true;
	}
	return false;
}

/* --- Interrupt pacing ------------------------------------------------------------ */

/*
 * Interrupt pacing.  Our PIT ticks in host time, and in the sandbox a
 * guest's timer handler can take longer than a tick: every privileged
 * instruction in it is a trap, and after the context switch at its end
 * every page touched is a hidden fault.  Delivered the moment the handler
 * returns, the next tick would find the interrupted program exactly where
 * it was, again and again, forever.  Two rules make sure it moves:
 *
 *  - if an interrupt is already pending when the guest returns from an
 *    interrupt handler (its iret pops the frame we built), the interrupted
 *    instruction runs first: we set the trap flag and deliver at the
 *    single-step trap (hidden page faults on the way do not count);
 *  - after that instruction, the next interrupt waits TRAP_IRQ_HOLD_NS.
 *
 * The guest cannot tell a held interrupt from a late one.  A halted guest
 * is never held: it has nothing to run.
 */
bool trap_irq_deliverable(const struct vm *vm, uint64_t now)
{
	return trap_irq_injectable(vm, now) && !vm->sti_shadow;
}

/*
 * For the host's injection of the monitor's vector, the sti shadow does
 * not count: the shadow ends with the instruction after sti, which the
 * guest may have run long ago without trapping (sti, then a spin loop:
 * found by the multi-guest tests' idle-spin guest, which never got
 * another interrupt).  The trap that the injection brings tells: if the
 * guest is still at the instruction after sti, trap_handle lets it run
 * first.
 */
bool trap_irq_injectable(const struct vm *vm, uint64_t now)
{
	/* sti; hlt: the hlt traps anyway, and ends the shadow then.  An
	 * interrupt brought in before it would run the handler first and
	 * leave the hlt to sleep through the wakeup. */
	if (vm->sti_shadow && vm->sti_next_traps)
		return false;
	return vm->vif && !vm->single_step && now >= vm->irq_hold_until;
}

/* We set TF: the pending interrupt waits for one instruction to finish. */
static void trap_step_one(struct vm *vm, struct monitor_frame *f, bool then_hold)
{
	vm->single_step = true;
	vm->step_guest_tf = f->eflags & FL_TF;
	vm->hold_after_step = then_hold;
	f->eflags |= FL_TF;
}

static void trap_irq_returned(struct vm *vm, struct monitor_frame *f, uint32_t esp)
{
	if (!vm->irq_frame_esp || esp != vm->irq_frame_esp)
		return;
	vm->irq_frame_esp = 0;
	if (pic_has_interrupt(&vm->g->pic))
		trap_step_one(vm, f, true);
}

/*
 * At the start of every trap: if we were single-stepping, take our TF off
 * before anything looks at the flags.  Returns true if the step is over -
 * unless this trap turns out to be a hidden page fault, which the caller
 * checks and undoes with trap_step_resume.
 */
static bool trap_step_begin(struct vm *vm, struct monitor_frame *f)
{
	if (!vm->single_step)
		return false;
	vm->single_step = false;
	/* The guest's own TF stays (the guest fuzzer's differential check
	 * saw it vanish from a user program's flags, seed 11). */
	if (!vm->step_guest_tf)
		f->eflags &= ~FL_TF;
	return true;
}

static void trap_ptwrite_step_end(struct vm *vm);

static void trap_step_done(struct vm *vm)
{
	trap_ptwrite_step_end(vm);
	if (vm->hold_after_step)
		vm->irq_hold_until = pit_host_clock() + TRAP_IRQ_HOLD_NS;
	vm->hold_after_step = false;
}

/* --- Emulating privileged instructions ------------------------------------------ */

struct trap_mem {
	struct vm *vm;
	unsigned access; /* PF_U for an instruction from user mode */
};

static int trap_op_read(void *ctx, uint32_t va, void *buf, unsigned len,
			struct emulate_fault *fault)
{
	struct trap_mem *t = ctx;

	return vm_read_virt(t->vm, va, buf, len, t->access, fault);
}

static int trap_op_write(void *ctx, uint32_t va, const void *buf, unsigned len,
			 struct emulate_fault *fault)
{
	struct trap_mem *t = ctx;

	return vm_write_virt(t->vm, va, buf, len, t->access, fault);
}

static uint32_t trap_op_in(void *ctx, uint16_t port, int size)
{
	struct trap_mem *t = ctx;
	uint32_t value = portio_read(&t->vm->g->bus, port, size);

	if (trace_on(t->vm->trace, TRACE_IO))
		trace_line(t->vm->trace, "in port 0x%03x -> 0x%0*x: %s", port, 2 * size, value,
			   portio_name(&t->vm->g->bus, port));
	return value;
}

static void trap_op_out(void *ctx, uint16_t port, int size, uint32_t value)
{
	struct trap_mem *t = ctx;

	portio_write(&t->vm->g->bus, port, size, value);
	if (trace_on(t->vm->trace, TRACE_IO))
		trace_line(t->vm->trace, "out port 0x%03x <- 0x%0*x: %s", port, 2 * size, value,
			   portio_name(&t->vm->g->bus, port));
}

static struct emulate_ops trap_ops(struct trap_mem *mem)
{
	return (struct emulate_ops){.ctx = mem,
				    .read = trap_op_read,
				    .write = trap_op_write,
				    .in = trap_op_in,
				    .out = trap_op_out};
}

/* The guest's registers as the emulator takes them, from the monitor frame. */
static struct emulate_regs trap_regs(const struct vm *vm, const struct monitor_frame *f)
{
	return (struct emulate_regs){
	    f->eax, f->ecx, f->edx, f->ebx, f->esp,
	    f->ebp, f->esi, f->edi, f->eip, vm_guest_eflags(vm, f->eflags)};
}

/* Undo our patch in the fetched bytes, so the emulator sees the guest's own. */
static void trap_unpatch(struct vm *vm, struct trap_insn *in)
{
	const struct patch *p = patch_find(&vm->patch, in->gpa);

	if (p && p->len <= in->len && in->bytes[p->len - 1] == PATCH_OPCODE)
		in->bytes[p->len - 1] = p->orig;
}

/* Is this sgdt, sidt, sldt, str or smsw (0f 00 /0-1, 0f 01 /0-1 or /4)? */
static bool trap_is_umip(const uint8_t *b, size_t len)
{
	size_t i = trap_prefixes(b, len);
	unsigned reg;

	if (i + 2 >= len || b[i] != 0x0f || b[i + 1] > 1)
		return false;
	reg = (b[i + 2] >> 3) & 7;
	return reg <= 1 || (b[i + 1] == 1 && reg == 4);
}

/*
 * An emulated mov to SS, DS or ES: load the real selector, or give the
 * guest the fault a CPU would, with eip still at the mov (so this runs
 * before trap_commit).  Returns false if the load did not happen.
 */
static bool trap_load_sreg(struct vm *vm, struct monitor_frame *f, const struct emulate_result *res)
{
	uint16_t sel = segments_to_real(res->sreg.sel), error = res->sreg.sel & ~SEL_RPL_MASK;
	bool ss = res->sreg.reg == EMULATE_SREG_SS;
	const char *name = ss ? "ss" : res->sreg.reg == EMULATE_SREG_DS ? "ds" : "es";
	const char *why =
	    segments_refused(vm, res->sreg.sel, 0, ss ? SEGMENTS_USE_STACK : SEGMENTS_USE_DATA);

	if (why) { /* a segment the CPU would load, which the real GDT lacks */
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest kernel loaded %s with selector 0x%04x, %s", name, res->sreg.sel,
			why);
		return false;
	}
	if (ss) {
		if ((sel & SEL_RPL_MASK) == 1 && segments_stack_absent(vm, sel)) {
			struct emulate_fault np = {
			    .vector = T_SS, .has_error = true, .error_code = error};

			trap_reflect_fault(vm, f, &np); /* checked, then found not present */
			return false;
		}
		if ((sel & SEL_RPL_MASK) != 1 || !segments_stack_ok(vm, sel)) {
			trap_reflect_gp(vm, f, error);
			return false;
		}
		f->ss = sel;
		return true;
	}
	if ((sel & ~SEL_RPL_MASK) && segments_data_or_null(vm, sel) != sel) {
		trap_reflect_gp(vm, f, error);
		return false;
	}
	if (res->sreg.reg == EMULATE_SREG_DS)
		f->ds = sel;
	else
		f->es = sel;
	return true;
}

/*
 * A #GP with a selector in its error code, from an instruction we do not
 * emulate (a far jmp, call or ret, a segment load).  Where the guest's
 * descriptor is one we leave out of the real GDT but a CPU would have
 * used, shadow mode cannot do what the guest asked: stop, saying why.
 * Returns false if that is not the case.
 */
static bool trap_refused_selector(struct vm *vm, const struct monitor_frame *f, const char *insn)
{
	uint16_t sel = (uint16_t)(f->error & ~3u);
	const char *why;

	if (!sel || (f->error & 3))
		return false;
	why = segments_refused(vm, sel, trap_from_user(f) ? 3 : 0,
			       f->error & SEL_TI ? SEGMENTS_USE_DATA : SEGMENTS_USE_CODE);
	/* (Which use it was, capstone could say; the CPU's #GP does not.  A
	 * selector that some use would accept is reported.) */
	if (!why)
		why = segments_refused(vm, sel, trap_from_user(f) ? 3 : 0, SEGMENTS_USE_DATA);
	if (!why)
		return false;
	vm_stop(vm, VCPU_STOP_GUEST_ERROR, "guest %s %s%s used selector 0x%04x, %s",
		trap_ring_name(f), insn ? "executed " : "", insn ? insn : "", sel, why);
	return true;
}

/*
 * ltr and lldt check the descriptor they load, as the CPU does: a
 * selector in the GDT, of the right system type (an available TSS for
 * ltr, an LDT for lldt), present.  ltr then marks the guest's TSS
 * descriptor busy - in the guest's own GDT, where the guest can see it.
 * Returns 0, or fills *fault.
 */
static int trap_check_system_desc(struct vm *vm, uint16_t sel, bool ltr,
				  struct emulate_fault *fault)
{
	uint32_t at = vm->sys.gdtr.base + (sel & ~7u);
	uint8_t type, want = ltr ? DESC_TSS32 : 0x02;
	uint64_t d;

	*fault = (struct emulate_fault){.vector = T_GP, .has_error = true, .error_code = sel & ~3u};
	if (!(sel & ~3u))
		return ltr ? (fault->error_code = 0, -1) : 0; /* lldt 0: no LDT */
	if ((sel & SEL_TI) || (sel & ~7u) + 7 > vm->sys.gdtr.limit)
		return -1;
	if (vm_read_virt(vm, at, &d, 8, 0, fault))
		return -1;
	type = (uint8_t)(d >> 40);
	if ((type & (DESC_S | 0x0f)) != want)
		return -1;
	if (!(type & DESC_P)) {
		fault->vector = T_NP;
		return -1;
	}
	if (!ltr)
		return 0;
	d |= (uint64_t)(DESC_TSS32_BUSY ^ DESC_TSS32) << 40;
	if (vm_write_virt(vm, at, &d, 8, 0, fault))
		return -1;
	vm->tss_base = (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)(d >> 56) << 24;
	vm->tss_loaded = true;
	return 0;
}

/* A new address space, or paging switched on: the guest's page directory
 * must be in its memory, and must leave the monitor's 4 MiB alone. */
static void trap_check_pd(struct vm *vm)
{
	const uint8_t *pd;
	uint32_t pde;

	if (!(vm->sys.cr0 & CR0_PG))
		return;
	pd = vm_phys(vm, vm->sys.cr3 & PAGE_MASK);
	if (!pd) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest loaded cr3=0x%08x, outside its %llu MiB of memory", vm->sys.cr3,
			(unsigned long long)(vm->g->mem_bytes >> 20));
		return;
	}
	memcpy(&pde, pd + 4 * (PT_ENTRIES - 1), 4);
	if (pde & PTE_P)
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest page directory at 0x%08x maps 0xffc00000-0xffffffff (pde 0x%08x), "
			"which kvmshadow reserves for its monitor",
			vm->sys.cr3 & PAGE_MASK, pde);
}

static void trap_effect_cr3(struct vm *vm, uint32_t eip, const struct emulate_result *res)
{
	bool cached;

	trap_check_pd(vm);
	if (vm->stopped)
		return;
	cached = shadow_load_root(vm);
	if (!trace_on(vm->trace, TRACE_CR3))
		return;
	if (res->effects & EMULATE_EFFECT_CR3)
		trace_line(vm->trace, "%s at 0x%08x: guest cr3=0x%08x -> %s shadow 0x%08x",
			   res->text, eip, vm->sys.cr3, cached ? "its cached" : "a new, empty",
			   shadow_cr3(&vm->shadow));
	else
		trace_line(vm->trace,
			   "%s at 0x%08x: paging mode now cr0=0x%08x cr4=0x%08x -> %s shadow "
			   "0x%08x for it",
			   res->text, eip, vm->sys.cr0, vm->sys.cr4,
			   cached ? "the cached" : "a new", shadow_cr3(&vm->shadow));
}

/*
 * invlpg.  The shadow already follows every write the guest made to its
 * page tables, so there is nothing stale to drop; invlpg only tells us
 * the page table under va is still in use (shadow_invlpg).
 */
static void trap_effect_invlpg(struct vm *vm, uint32_t eip, const struct emulate_result *res)
{
	shadow_invlpg(vm, res->invlpg_va);
	vm->st->invlpgs++;
	if (trace_on(vm->trace, TRACE_CR3))
		trace_line(vm->trace,
			   "%s at 0x%08x: the shadow of 0x%08x is already up to date; nothing to "
			   "drop",
			   res->text, eip, res->invlpg_va);
}

/* After EMULATE_DONE: do what the instruction (at eip) calls for. */
static void trap_effects(struct vm *vm, uint32_t eip, const struct emulate_result *res)
{
	unsigned e = res->effects;

	if (e & (EMULATE_EFFECT_CR3 | EMULATE_EFFECT_PAGING))
		trap_effect_cr3(vm, eip, res);
	if (e & EMULATE_EFFECT_INVLPG)
		trap_effect_invlpg(vm, eip, res);
	if (e & EMULATE_EFFECT_GDT)
		segments_mirror(vm);
	if (e & EMULATE_EFFECT_IDT)
		reflect_sync_user_gates(vm);
	if (e & EMULATE_EFFECT_HALT)
		vm->halted = true;
}

static void trap_commit(struct vm *vm, struct monitor_frame *f, const struct emulate_regs *r)
{
	f->eax = r->eax, f->ecx = r->ecx, f->edx = r->edx, f->ebx = r->ebx;
	f->esp = r->esp, f->ebp = r->ebp, f->esi = r->esi, f->edi = r->edi;
	f->eip = r->eip;
	f->eflags = vm_set_eflags(vm, r->eflags);
}

static void trap_iret(struct vm *vm, struct monitor_frame *f, const struct emulate_result *res,
		      const struct emulate_regs *r)
{
	uint32_t at = f->eip, frame = f->esp;
	uint32_t gp = reflect_iret(vm, f, res, r->esp);

	if (gp)
		return trap_reflect_gp(vm, f, gp - 1);
	trap_irq_returned(vm, f, frame);
	if (trace_on(vm->trace, TRACE_IRET))
		trace_line(vm->trace, "guest kernel iret at 0x%08x -> %s eip=0x%08x", at,
			   trap_from_user(f) ? "real return to user"
					     : "return within the kernel to",
			   f->eip);
}

static void trap_trace_priv(struct vm *vm, const struct emulate_result *res, uint32_t eip,
			    bool vif_before)
{
	if (res->effects & (EMULATE_EFFECT_CR3 | EMULATE_EFFECT_PAGING | EMULATE_EFFECT_INVLPG |
			    EMULATE_EFFECT_IRET))
		return; /* traced under cr3 and iret */
	if (vif_before != vm->vif)
		trace_line(vm->trace, "%s at 0x%08x: virtual IF %d -> %d", res->text, eip,
			   vif_before, vm->vif);
	else if (res->effects & EMULATE_EFFECT_IDT)
		trace_line(vm->trace,
			   "%s at 0x%08x: guest IDT recorded (base 0x%08x, limit 0x%x); the real "
			   "IDT stays the monitor's",
			   res->text, eip, vm->sys.idtr.base, vm->sys.idtr.limit);
	else if (!strcmp(res->mnemonic, "lgdt"))
		trace_line(vm->trace,
			   "%s at 0x%08x: guest GDT (base 0x%08x, limit 0x%x) mirrored into the "
			   "real GDT, DPL 0 -> 1",
			   res->text, eip, vm->sys.gdtr.base, vm->sys.gdtr.limit);
	else if (!strcmp(res->mnemonic, "ltr"))
		trace_line(vm->trace, "%s at 0x%08x: guest TSS 0x%04x at 0x%08x, marked busy",
			   res->text, eip, vm->sys.tr, vm->tss_base);
	else
		trace_line(vm->trace, "%s at 0x%08x: emulated", res->text, eip);
}

static void trap_emulate(struct vm *vm, struct monitor_frame *f, unsigned access)
{
	struct trap_mem mem = {.vm = vm, .access = access};
	struct emulate_ops ops = trap_ops(&mem);
	struct emulate_regs r = trap_regs(vm, f);
	struct emulate_result res;
	struct trap_insn in;
	bool vif_before = vm->vif;
	struct emulate_sys saved = vm->sys;
	uint32_t eip = f->eip;

	if (trap_fetch(vm, f, &in))
		return trap_reflect_fault(vm, f, &in.fetch_fault);
	if (access & PF_U) {
		/* User mode reaches here only for what UMIP made fault. */
		if (!trap_is_umip(in.bytes, in.len) || (vm->sys.cr4 & CR4_UMIP))
			return trap_reflect_gp(vm, f, f->error);
	} else {
		trap_unpatch(vm, &in);
	}
	emulate_insn(&vm->em, in.bytes, in.len, in.partial ? &in.fetch_fault : NULL, &r, &vm->sys,
		     &ops, &res);
	switch (res.status) {
	case EMULATE_DONE:
		stats_count_emulated(vm->st, res.mnemonic);
		if ((!strcmp(res.mnemonic, "ltr") || !strcmp(res.mnemonic, "lldt")) &&
		    trap_check_system_desc(vm, res.mnemonic[1] == 't' ? vm->sys.tr : vm->sys.ldtr,
					   res.mnemonic[1] == 't', &res.fault)) {
			vm->sys = saved; /* the instruction faults: nothing changed */
			return trap_reflect_fault(vm, f, &res.fault);
		}
		vm->sti_shadow = !strcmp(res.mnemonic, "sti") && !vif_before;
		if (res.effects & EMULATE_EFFECT_IRET)
			trap_iret(vm, f, &res, &r);
		else if (!(res.effects & EMULATE_EFFECT_SREG) || trap_load_sreg(vm, f, &res))
			trap_commit(vm, f, &r);
		trap_effects(vm, eip, &res);
		if (trace_on(vm->trace, TRACE_PRIV))
			trap_trace_priv(vm, &res, eip, vif_before);
		break;
	case EMULATE_FAULT:
		trap_reflect_fault(vm, f, &res.fault);
		break;
	case EMULATE_UNSUPPORTED:
		if (access & PF_U) /* a form of sgdt... we do not emulate: the CPU's #GP */
			return trap_reflect_gp(vm, f, 0);
		if (f->error == 0 && trap_truncated(vm, f, &r))
			break;
		if (trap_refused_selector(vm, f, res.text))
			break;
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest %s executed %s, which kvmshadow does not emulate", trap_ring_name(f),
			res.text);
		break;
	}
}

/* What the trace calls a write the shadow made the VMM do. */
static const char *trap_write_kind(const struct vm *vm, uint32_t gfn)
{
	return patch_in_frame(&vm->patch, gfn) && !shadow_protected(vm, gfn)
		   ? "write near patched code"
		   : "page-table write";
}

/*
 * A store to a page table that we do not emulate (rep stos, bts, an
 * instruction through a based segment...) must run natively, on a page
 * the shadow lets it write.  The cheap way: stop shadowing the page - a
 * recycled page table being cleared is the usual case - and let the
 * instruction run again.  That cannot work for the page directory in use,
 * and it loops when the retry itself needs the page shadowed again (the
 * page table maps the instruction's own code, or itself): the same store
 * at the same place comes back.  Then we let the instruction run one step
 * with the trap flag set and the page exempt from protection, and at the
 * end of the step protect it again and update the shadow entries built
 * from whatever it changed (trap_ptwrite_step_end).
 */
static void trap_ptwrite_native(struct vm *vm, struct monitor_frame *f, uint32_t gpa,
				const char *insn)
{
	uint32_t gfn = gpa >> PAGE_SHIFT;
	bool again = vm->ptwrite_retry_eip == f->eip && vm->ptwrite_retry_gfn == gfn;

	/* (A frame of patched code is no page table: unshadowing cannot help.) */
	if (!again && !patch_in_frame(&vm->patch, gfn) && shadow_unprotect(vm, gfn)) {
		vm->ptwrite_retry_eip = f->eip;
		vm->ptwrite_retry_gfn = gfn;
		if (trace_on(vm->trace, TRACE_PAGEFAULT))
			trace_line(vm->trace,
				   "%s: %s %s, to pa 0x%08x -> not a store we emulate: stop "
				   "shadowing that page, run it natively",
				   trap_write_kind(vm, gfn), trap_ring_name(f), insn, gpa);
		return;
	}
	vm->ptwrite_retry_eip = vm->ptwrite_retry_gfn = 0;
	vm->ptstep_eip = f->eip;
	memcpy(vm->ptstep_before, vm_phys(vm, gfn << PAGE_SHIFT), PAGE_SIZE);
	shadow_exempt(vm, gfn);
	trap_step_one(vm, f, vm->hold_after_step);
	if (trace_on(vm->trace, TRACE_PAGEFAULT))
		trace_line(vm->trace,
			   "%s: %s %s, to pa 0x%08x -> not a store we emulate, and the page "
			   "must stay protected: run it one step with the page writable",
			   trap_write_kind(vm, gfn), trap_ring_name(f), insn, gpa);
}

/* Did the step change a byte we patched?  Then the guest rewrote its code. */
static bool trap_ptwrite_step_hit_patch(struct vm *vm, uint32_t gfn)
{
	uint32_t base = gfn << PAGE_SHIFT;
	const uint8_t *now = vm_phys(vm, base), *before = (const uint8_t *)vm->ptstep_before;

	for (uint32_t i = 0; now && i < PAGE_SIZE; i++)
		if (now[i] != before[i] && patch_overlaps(&vm->patch, base + i, 1)) {
			vm_stop(vm, VCPU_STOP_GUEST_ERROR,
				"guest wrote to its kernel code at guest-physical 0x%08x, which "
				"kvmshadow patched: self-modifying kernel code is not supported",
				base + i);
			return true;
		}
	return false;
}

/* The step is over (or the instruction faulted): protect the page again. */
static void trap_ptwrite_step_end(struct vm *vm)
{
	uint32_t gfn = vm->shadow.exempt - 1;

	if (!vm->shadow.exempt) /* no step of ours is running */
		return;
	if (gfn < vm->shadow.nframes &&
	    vm->shadow.protect[gfn]) /* a page table, not only patched code */
		vm->st->pt_writes++;
	trap_ptwrite_step_hit_patch(vm, gfn);
	shadow_exempt_end(vm, vm->ptstep_before);
	if (trace_on(vm->trace, TRACE_PAGEFAULT))
		trace_line(vm->trace,
			   "%s: the step at 0x%08x is over: pa 0x%08x protected again, shadow "
			   "entries of what changed updated",
			   trap_write_kind(vm, gfn), vm->ptstep_eip, gfn << PAGE_SHIFT);
}

/*
 * The guest stored to one of its page tables, which the shadow keeps
 * write-protected: do the store for it (the write hook in vm.c then
 * updates every shadow entry built from the bytes written) and step over
 * the instruction.  A store we cannot emulate makes us stop shadowing
 * the page instead, and the instruction runs again natively.
 */
static void trap_ptwrite(struct vm *vm, struct monitor_frame *f, uint32_t va, uint32_t gpa)
{
	bool user = trap_from_user(f);
	struct trap_mem mem = {.vm = vm, .access = user ? PF_U : 0};
	struct emulate_ops ops = trap_ops(&mem);
	struct emulate_regs r = trap_regs(vm, f);
	struct emulate_result res;
	struct trap_insn in;

	if (trap_fetch(vm, f, &in))
		return trap_reflect_fault(vm, f, &in.fetch_fault);
	if (!user)
		trap_unpatch(vm, &in);
	/* The emulator takes offsets for linear addresses: only with DS, ES
	 * and SS based at 0 (as every kernel we know has them). */
	if (segments_base_of(vm, (uint16_t)f->ds) || segments_base_of(vm, (uint16_t)f->es) ||
	    segments_base_of(vm, (uint16_t)f->ss))
		return trap_ptwrite_native(vm, f, gpa,
					   "(a store through a segment not based at 0)");
	emulate_store(&vm->em, in.bytes, in.len, in.partial ? &in.fetch_fault : NULL, &r, &ops,
		      &res);
	if (res.status == EMULATE_FAULT)
		return trap_reflect_fault(vm, f, &res.fault);
	if (res.status == EMULATE_DONE) {
		if (shadow_protected(vm, gpa >> PAGE_SHIFT)) /* not just near patched code */
			vm->st->pt_writes++;
		if (trace_on(vm->trace, TRACE_PAGEFAULT))
			trace_line(vm->trace,
				   "%s: %s %s at eip=0x%08x to va 0x%08x (pa 0x%08x) -> emulated%s",
				   trap_write_kind(vm, gpa >> PAGE_SHIFT), trap_ring_name(f),
				   res.text, f->eip, va, gpa,
				   shadow_protected(vm, gpa >> PAGE_SHIFT)
				       ? ", shadow entries updated"
				       : "");
		trap_commit(vm, f, &r);
		return;
	}
	trap_ptwrite_native(vm, f, gpa, res.text);
}

static void trap_gp(struct vm *vm, struct monitor_frame *f)
{
	if (f->error & 2) /* the IDT flag: an int n the real IDT refused */
		return trap_int_via_gp(vm, f);
	if (trap_from_user(f)) {
		if (f->error == 0 && vm->m->kvm.umip)
			return trap_emulate(vm, f, PF_U);
		if (trap_refused_selector(vm, f, NULL))
			return;
		return trap_reflect_gp(vm, f, f->error);
	}
	trap_emulate(vm, f, 0);
}

/* --- Interrupts ----------------------------------------------------------------- */

void trap_deliver_irq(struct vm *vm, bool paced)
{
	struct monitor_frame *f = machine_frame(vm->m);
	uint32_t from = f->eip;
	bool user = trap_from_user(f);
	int vector;

	if (vm->stopped || !vm->vif || !pic_has_interrupt(&vm->g->pic))
		return;
	if (paced && !trap_irq_deliverable(vm, pit_host_clock()))
		return; /* the vcpu loop has a host timer set for the hold's end */
	vector = pic_acknowledge(&vm->g->pic);
	vm->st->irqs_delivered++;
	vm->irq_hold_until = 0;
	if (reflect_trap(vm, f, (unsigned)vector, false, 0))
		return;
	vm->irq_frame_esp = f->esp;
	if (trace_on(vm->trace, TRACE_IRQ))
		trace_line(vm->trace,
			   "deliver vector 0x%02x (virtual IF is 1) at %s eip=0x%08x -> guest "
			   "handler 0x%08x",
			   vector, user ? "user" : "kernel", from, f->eip);
}

/*
 * sti enables interrupts only after the next instruction: `sti; hlt`
 * must not lose a wakeup, and `sti; mov` runs the mov first.  If that next
 * instruction traps anyway (hlt, or one we patched), we deliver then.
 * Otherwise we let exactly one instruction run with the trap flag set,
 * and deliver at the single-step trap.
 */
static void trap_sti_shadow(struct vm *vm, struct monitor_frame *f);

/* Would the next instruction trap anyway?  Our patch byte and hlt do. */
static bool trap_next_traps(struct vm *vm, const struct monitor_frame *f)
{
	struct emulate_fault fault;
	uint8_t b;

	return !trap_from_user(f) && !vm_read_virt(vm, f->eip, &b, 1, 0, &fault) &&
	       b == PATCH_OPCODE;
}

static void trap_sti_shadow(struct vm *vm, struct monitor_frame *f)
{
	if (trap_next_traps(vm, f))
		return;
	trap_step_one(vm, f, false);
	if (trace_on(vm->trace, TRACE_IRQ))
		trace_line(vm->trace,
			   "interrupt pending after sti: single-step one more "
			   "instruction at 0x%08x first",
			   f->eip);
}

/* --- The entry point ------------------------------------------------------------- */

/* The exceptions for which the CPU pushes an error code (as the stubs in
 * monitor.S know too): 8, 10-14, 17, 21, 29, 30. */
static bool trap_has_error(unsigned vector)
{
	return vector == T_DF || (vector >= T_TS && vector <= T_PF) || vector == T_AC ||
	       vector == 21 || vector == 29 || vector == 30;
}

static void trap_dispatch(struct vm *vm, struct monitor_frame *f, unsigned vector)
{
	switch (vector) {
	case MONITOR_IRQ_VECTOR:
		vm->irq_injected = false; /* delivered below, if still due */
		break;
	case 0x80:
	case T_BP:
	case T_OF:
		trap_soft_int(vm, f, vector, trap_int_len(vm, f, vector));
		break;
	case T_PF:
		trap_page_fault(vm, f);
		break;
	case T_GP:
		trap_gp(vm, f);
		break;
	case T_DF:
	case T_MC:
		vm_stop(vm, VCPU_STOP_VMM_ERROR, "machine exception %u in the guest", vector);
		break;
	default:
		if (vector >= 32) {
			vm_stop(vm, VCPU_STOP_VMM_ERROR, "unexpected vector 0x%02x at the monitor",
				vector);
			break;
		}
		vm->st->exceptions++;
		if (trace_on(vm->trace, TRACE_EXCEPTION))
			trace_line(vm->trace,
				   "exception %u from %s eip=0x%08x -> reflect to the guest",
				   vector, trap_ring_name(f), f->eip);
		reflect_trap(vm, f, vector, trap_has_error(vector), f->error);
		break;
	}
}

enum trap_outcome trap_handle(struct vm *vm)
{
	struct monitor_frame *f = machine_frame(vm->m);
	const struct monitor_ctl *ctl = machine_ctl(vm->m);
	unsigned vector = f->vector & 0xff;
	unsigned rpl = f->cs & SEL_RPL_MASK;
	uint32_t eip = f->eip, cs = f->cs;
	bool stepping;

	vm->st->traps++;
	/* A new trap: pointers the VMM held into guest frames during the last
	 * one are dead, so those frames may be swapped out again (swap.c). */
	vm->m->pool.epoch++;
	vm->halted = false;
	/* Still in the shadow of an sti only if it has not run a single
	 * instruction since (we came for its interrupt at once). */
	vm->sti_shadow = vm->sti_shadow && vector == MONITOR_IRQ_VECTOR && eip == vm->sti_eip;
	if (ctl->frame != MONITOR_FRAME_VA || (rpl != 1 && rpl != 3)) {
		vm_stop(vm, VCPU_STOP_VMM_ERROR,
			"the monitor trapped in ring 0 (vector 0x%02x, cs 0x%04x, eflags 0x%08x, "
			"frame at 0x%08x)",
			vector, f->cs & 0xffff, f->eflags, ctl->frame);
		return TRAP_STOPPED;
	}
	stepping = trap_step_begin(vm, f);
	if (stepping && vector == T_DB && vm->shadow.exempt && f->eip == vm->ptstep_eip) {
		/* A rep store between two iterations: the step goes on. */
		trap_step_one(vm, f, vm->hold_after_step);
		return TRAP_RESUME;
	}
	/* Our single step, not the guest's: just deliver the interrupt.  If
	 * the guest had set TF too, the #DB is also its own, and it comes
	 * first, as on a CPU (a trap of the instruction before an external
	 * interrupt); the interrupt stays pending. */
	if (stepping && vector == T_DB && !vm->step_guest_tf)
		vector = MONITOR_IRQ_VECTOR;
	trap_dispatch(vm, f, vector);
	if (stepping && vector == T_PF && f->eip == eip && f->cs == cs)
		trap_step_one(vm, f, vm->hold_after_step); /* hidden: the step goes on */
	else if (stepping)
		trap_step_done(vm);
	if (vm->stopped)
		return TRAP_STOPPED;
	if (vm->halted)
		return TRAP_HALT;
	if (vm->sti_shadow && pic_has_interrupt(&vm->g->pic))
		trap_sti_shadow(vm, f);
	else
		trap_deliver_irq(vm, true);
	vm->sti_eip = f->eip;
	vm->sti_next_traps = vm->sti_shadow && trap_next_traps(vm, f);
	return vm->stopped ? TRAP_STOPPED : TRAP_RESUME;
}

/*
 * The frame must be one the monitor's iret can pop at ring 0 without
 * faulting - a #GP there would be the VMM's failure, not the guest's.
 * CS and SS: of the ring they claim, and the same ring.  EIP: within CS's
 * limit (every guest segment ends below the monitor); hardware would
 * fault on fetching past it, so the guest gets that #GP.
 */
static bool trap_frame_ok(struct vm *vm, struct monitor_frame *f)
{
	uint16_t cs = f->cs & 0xffff, ss = f->ss & 0xffff;

	if (!segments_code_ok(vm, cs) || !segments_stack_ok(vm, ss) ||
	    (cs & SEL_RPL_MASK) != (ss & SEL_RPL_MASK)) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"the guest's GDT no longer describes its running code (cs 0x%04x) or "
			"stack (ss 0x%04x) segment",
			segments_to_guest(cs), segments_to_guest(ss));
		return false;
	}
	if (f->eip > segments_limit(vm, cs)) {
		trap_reflect_gp(vm, f, 0);
		return !vm->stopped;
	}
	return true;
}

/* The real CR0 and CR4 bits that follow the guest's: the FPU's TS, EM and
 * MP, and SSE's OSFXSR and OSXMMEXCPT.  A value the monitor must load, or
 * 0 (CR4: bit 31 marks a load, since CR4 may be 0). */
static uint32_t trap_real_cr0(struct vm *vm)
{
	uint32_t want = MONITOR_CR0 | (vm->sys.cr0 & (CR0_TS | CR0_EM | CR0_MP));

	if (want == vm->real_cr0)
		return 0;
	return vm->real_cr0 = want;
}

static uint32_t trap_real_cr4(struct vm *vm)
{
	uint32_t want =
	    (vm->m->kvm.umip ? CR4_UMIP : 0) | (vm->sys.cr4 & (CR4_OSFXSR | CR4_OSXMMEXCPT));

	if (want == vm->real_cr4)
		return 0;
	vm->real_cr4 = want;
	return want | CTL_LOAD;
}

/* --check-shadow: the shadow the CPU is about to use must agree with the
 * guest's tables (shadow_check.c). */
static bool trap_check_shadow(struct vm *vm)
{
	char why[256];

	if (!shadow_check(vm, why, sizeof(why)))
		return false;
	vm_stop(vm, VCPU_STOP_VMM_ERROR, "check-shadow: %s", why);
	return true;
}

void trap_resume(struct vm *vm)
{
	struct monitor_frame *f = machine_frame(vm->m);
	struct monitor_ctl *ctl = machine_ctl(vm->m);
	struct shadow *sh = &vm->shadow;

	if (!trap_frame_ok(vm, f))
		return;
	if (vm->check_shadow && trap_check_shadow(vm))
		return;
	f->ds = segments_data_or_null(vm, f->ds & 0xffff);
	f->es = segments_data_or_null(vm, f->es & 0xffff);
	f->eflags = (f->eflags | FL_IF | FL_FIXED) & ~(FL_IOPL_MASK | FL_VM | FL_NT);
	/* The control block is in a page the guest kernel can write: every
	 * field the monitor reads is set here, every time. */
	ctl->cr3 = sh->tlb_flush ? shadow_cr3(sh) : 0;
	ctl->invlpg = sh->tlb_flush ? 0 : sh->tlb_invlpg;
	sh->tlb_flush = false;
	sh->tlb_invlpg = 0;
	ctl->cr0 = trap_real_cr0(vm);
	ctl->cr4 = trap_real_cr4(vm);
}
