/*
 * reflect.c - deliver traps to the guest kernel, and return from them
 * (see reflect.h).
 */
#include "reflect.h"
#include "segments.h"
#include "vm.h"

#define GATE_TYPE_MASK 0x1f

/* The guest's gate for vector, checked; -1 after stopping the vm. */
static int reflect_gate(struct vm *vm, unsigned vector, struct x86_gate *gate)
{
	struct emulate_fault fault;
	unsigned type;

	if (vector * 8 + 7 > vm->sys.idtr.limit) {
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: vector 0x%02x is beyond its IDT (limit 0x%x)", vector,
			vm->sys.idtr.limit);
		return -1;
	}
	if (vm_read_virt(vm, vm->sys.idtr.base + vector * 8, gate, sizeof(*gate), 0, &fault)) {
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: its IDT entry 0x%02x at 0x%08x is not mapped", vector,
			vm->sys.idtr.base + vector * 8);
		return -1;
	}
	type = gate->type_attr & GATE_TYPE_MASK;
	if (!(gate->type_attr & DESC_P) ||
	    (type != DESC_INTGATE32 && type != DESC_TRAPGATE32)) {
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: its IDT entry 0x%02x (attributes 0x%02x) is not a "
			"present 32-bit interrupt or trap gate",
			vector, gate->type_attr);
		return -1;
	}
	return 0;
}

/* Is the gate's handler past the end of its code segment?  (Every guest
 * segment ends below the monitor.) */
static bool reflect_gate_past_limit(const struct vm *vm, const struct x86_gate *gate)
{
	uint32_t offset = (uint32_t)gate->offset_hi << 16 | gate->offset_lo;

	return offset > segments_limit(vm, segments_to_real(gate->selector));
}

/* The stack the handler runs on: the TSS's ss0:esp0 when coming from
 * user mode, the current one otherwise. */
static int reflect_stack(struct vm *vm, const struct monitor_frame *f, uint32_t *ss,
			 uint32_t *esp)
{
	struct emulate_fault fault;
	uint32_t esp0_ss0[2];

	if ((f->cs & SEL_RPL_MASK) != 3) {
		*ss = f->ss;
		*esp = f->esp;
		return 0;
	}
	if (!vm->tss_loaded) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"trap from user mode before the guest loaded a TSS with ltr");
		return -1;
	}
	/* A CPU that cannot read esp0 and ss0 faults, and delivering that
	 * fault (and then #DF) from ring 3 needs them again: a triple fault. */
	if (vm_read_virt(vm, vm->tss_base + 4, esp0_ss0, sizeof(esp0_ss0), 0, &fault)) {
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: its TSS at 0x%08x is not mapped", vm->tss_base);
		return -1;
	}
	*esp = esp0_ss0[0];
	*ss = segments_to_real(esp0_ss0[1] & 0xffff);
	if ((*ss & SEL_RPL_MASK) != 1 || !segments_stack_ok(vm, (uint16_t)*ss)) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest TSS ss0 0x%04x is not a ring-0 writable data segment",
			esp0_ss0[1] & 0xffff);
		return -1;
	}
	return 0;
}

/* Push the hardware's frame: [error,] eip, cs, eflags [, esp, ss]. */
static int reflect_push(struct vm *vm, const struct monitor_frame *f, uint32_t *esp,
			bool has_error, uint32_t error, unsigned vector)
{
	uint32_t words[6];
	unsigned n = 0;
	struct emulate_fault fault;

	if (has_error)
		words[n++] = error;
	words[n++] = f->eip;
	words[n++] = segments_to_guest(f->cs & 0xffff);
	words[n++] = vm_guest_eflags(vm, f->eflags);
	if ((f->cs & SEL_RPL_MASK) == 3) {
		words[n++] = f->esp;
		words[n++] = f->ss & 0xffff;
	}
	if (vm_write_virt(vm, *esp - 4 * n, words, 4 * n, 0, &fault)) {
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: cannot push the frame for vector 0x%02x on its "
			"kernel stack at 0x%08x",
			vector, *esp - 4 * n);
		return -1;
	}
	*esp -= 4 * n;
	return 0;
}

int reflect_trap(struct vm *vm, struct monitor_frame *f, unsigned vector, bool has_error,
		 uint32_t error)
{
	struct x86_gate gate;
	uint32_t ss, esp, eflags;
	uint16_t cs;

	if (reflect_gate(vm, vector, &gate))
		return -1;
	cs = segments_to_real(gate.selector);
	if ((cs & SEL_RPL_MASK) != 1 || !segments_code_ok(vm, cs)) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest IDT entry 0x%02x points at selector 0x%04x, which is not the "
			"guest kernel's code",
			vector, gate.selector);
		return -1;
	}
	/* A handler past the end of its segment (every guest segment ends
	 * below the monitor): the CPU raises #GP(0) instead. */
	if (reflect_gate_past_limit(vm, &gate)) {
		if (vector != T_GP && vector != T_DF)
			return reflect_trap(vm, f, T_GP, true, 0);
		vm_stop(vm, VCPU_STOP_TRIPLE_FAULT,
			"guest triple fault: its IDT entry 0x%02x points past the end of its code "
			"segment",
			vector);
		return -1;
	}
	if (reflect_stack(vm, f, &ss, &esp) || reflect_push(vm, f, &esp, has_error, error, vector))
		return -1;
	eflags = vm_guest_eflags(vm, f->eflags) & ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if ((gate.type_attr & GATE_TYPE_MASK) == DESC_INTGATE32)
		eflags &= ~FL_IF;
	f->eip = (uint32_t)gate.offset_hi << 16 | gate.offset_lo;
	f->cs = cs;
	f->ss = ss;
	f->esp = esp;
	f->eflags = vm_set_eflags(vm, eflags);
	return 0;
}

/*
 * int3, into and int 0x80 enter the monitor through real gates that ring
 * 3 may use, so that a system call costs one exit.  But it is the guest's
 * gate that decides whether ring 3 may: where it may not, a CPU raises
 * #GP at the int instruction - at its first prefix, which only the CPU
 * knows (the trap leaves eip after the instruction).  So these real gates
 * take the DPL of the guest's own: where the guest's is below 3, the CPU
 * raises that #GP itself, and trap.c's #GP path delivers it, or the int
 * for the guest kernel (found by the guest fuzzer's differential check,
 * seed 2: "ss int 0x80" from ring 3 with a DPL-0 gate).  They follow the
 * guest's IDT at each lidt, and when a ring-3 int is refused; a guest
 * that lowers a gate's DPL with a plain store and then runs a prefixed
 * int from ring 3 gets one #GP at the int's opcode instead of its prefix.
 */
void reflect_sync_user_gates(struct vm *vm)
{
	static const unsigned vectors[] = {T_BP, T_OF, 0x80};
	struct x86_gate *idt = machine_monitor_ptr(vm->m, MONITOR_IDT_VA);

	for (unsigned i = 0; idt && i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned v = vectors[i], dpl = 0;
		struct emulate_fault fault;
		struct x86_gate g;

		if (v * 8 + 7 <= vm->sys.idtr.limit &&
		    !vm_read_virt(vm, vm->sys.idtr.base + v * 8, &g, sizeof(g), 0, &fault) &&
		    (g.type_attr & DESC_P) && ((g.type_attr >> 5) & 3) == 3)
			dpl = 3;
		idt[v].type_attr = (uint8_t)((idt[v].type_attr & ~DESC_DPL(3)) | DESC_DPL(dpl));
	}
}

int reflect_int(struct vm *vm, struct monitor_frame *f, unsigned vector, unsigned len)
{
	struct x86_gate gate;

	if (reflect_gate(vm, vector, &gate))
		return -1;
	/* From user mode the gate must allow it; if not, the #GP points at
	 * the int instruction (its opcode, if the gate changed since the
	 * last sync: see above). */
	if ((f->cs & SEL_RPL_MASK) == 3 && ((gate.type_attr >> 5) & 3) < 3) {
		reflect_sync_user_gates(vm);
		f->eip -= len;
		return reflect_trap(vm, f, T_GP, true, vector * 8 + 2);
	}
	/* Any fault while delivering an int n points at the int. */
	if (reflect_gate_past_limit(vm, &gate)) {
		f->eip -= len;
		return reflect_trap(vm, f, T_GP, true, 0);
	}
	return reflect_trap(vm, f, vector, false, 0);
}

uint32_t reflect_iret(struct vm *vm, struct monitor_frame *f, const struct emulate_result *res,
		      uint32_t esp)
{
	uint16_t cs = segments_to_real((uint16_t)res->iret.cs);
	uint16_t ss = (uint16_t)res->iret.ss;

	unsigned rpl = cs & SEL_RPL_MASK;

	/* In the CPU's order: the selectors, then eip against CS's limit. */
	if ((rpl != 1 && rpl != 3) || !segments_code_ok(vm, cs))
		return (cs & ~SEL_RPL_MASK) + 1; /* the guest's rings 1 and 2 do not exist */
	if (rpl == 3 && ((ss & SEL_RPL_MASK) != 3 || !segments_stack_ok(vm, ss)))
		return (ss & ~SEL_RPL_MASK) + 1;
	if (res->iret.eip > segments_limit(vm, cs))
		return 0 + 1; /* #GP(0): past the end of the code segment */
	if (rpl == 1) { /* back into the guest kernel, on the same stack */
		f->esp = esp;
		vm->st->iret_kernel++;
	} else { /* the real return to user mode */
		f->esp = res->iret.esp;
		f->ss = ss;
		vm->st->iret_user++;
	}
	f->eip = res->iret.eip;
	f->cs = cs;
	f->eflags = vm_set_eflags(vm, res->iret.eflags);
	return 0;
}
