/*
 * segments.c - mirror the guest's GDT into the real one (see segments.h).
 *
 * Every guest descriptor is hostile input: it could describe a segment
 * that reaches the monitor, a conforming code segment that would run at
 * the caller's privilege, a call gate into ring 0.  We copy only what the
 * guest kernel can be given safely - flat or based code and data segments
 * for ring 0 (run in ring 1) and ring 3, cut off below the monitor - and
 * leave everything else not present, so that using it faults.
 */
#include <string.h>

#include "monitor.h"
#include "segments.h"
#include "vm.h"

#define SEG_TYPE_CONFORMING 0x04 /* code: conforming; data: expand-down */

uint16_t segments_to_real(uint16_t sel)
{
	return (sel & SEL_RPL_MASK) == 0 && (sel & ~7) ? sel | 1 : sel;
}

uint16_t segments_to_guest(uint16_t sel)
{
	return (sel & SEL_RPL_MASK) == 1 ? sel & ~SEL_RPL_MASK : sel;
}

static uint32_t segments_base(uint64_t d)
{
	return (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)(d >> 56) << 24;
}

static uint64_t segments_limit_bytes(uint64_t d)
{
	uint64_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	return (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
}

static uint64_t segments_set_limit(uint64_t d, uint32_t limit)
{
	d &= ~(0xffffull | 0xf000000000000ull);
	return d | (limit & 0xffff) | (uint64_t)((limit >> 16) & 0xf) << 48;
}

/* One guest descriptor as the real GDT may hold it; 0 if it may not. */
static uint64_t segments_convert(uint64_t d)
{
	uint8_t access = (uint8_t)(d >> 40);
	unsigned dpl = (access >> 5) & 3;
	uint32_t base = segments_base(d);
	uint64_t end;

	/* A not-present code or data segment is mirrored not present: the CPU
	 * then makes its type and privilege checks and raises #NP or #SS
	 * itself, as on hardware (an empty entry would be #GP instead). */
	if (!(access & DESC_S))
		return 0; /* a system descriptor (TSS, LDT, gate) */
	if (access & SEG_TYPE_CONFORMING)
		return 0; /* conforming code, expand-down data: not supported */
	if (dpl == 1 || dpl == 2)
		return 0; /* rings 1 and 2 are the VMM's to use */
	if (base >= MONITOR_BASE)
		return 0;
	end = (uint64_t)base + segments_limit_bytes(d);
	if (end >= MONITOR_BASE) { /* stop the segment below the monitor */
		uint64_t bytes = MONITOR_BASE - (uint64_t)base;

		if (bytes < PAGE_SIZE) /* less than one 4 KiB unit: byte granular */
			d &= ~((uint64_t)DESC_G << 48);
		d = (d >> 55) & 1 ? segments_set_limit(d, (uint32_t)(bytes >> 12) - 1)
				  : segments_set_limit(d, (uint32_t)bytes - 1);
	}
	if (dpl == 0)
		d |= (uint64_t)DESC_DPL(1) << 40;
	return d | (uint64_t)DESC_ACCESSED << 40;
}

int segments_mirror(struct vm *vm)
{
	uint64_t *gdt = machine_gdt(vm->m);
	uint64_t desc[MONITOR_GDT_GUEST_MAX + 1];
	unsigned n = (vm->sys.gdtr.limit + 1u) / 8;
	struct emulate_fault fault;

	if (n > MONITOR_GDT_GUEST_MAX + 1) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest GDT has %u entries; kvmshadow mirrors at most %d (the rest of the "
			"real GDT is the monitor's)",
			n, MONITOR_GDT_GUEST_MAX + 1);
		return -1;
	}
	if (n && vm_read_virt(vm, vm->sys.gdtr.base, desc, n * 8, 0, &fault)) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest GDT at 0x%08x (%u entries) is not mapped in guest memory",
			vm->sys.gdtr.base, n);
		return -1;
	}
	for (unsigned i = 1; i <= MONITOR_GDT_GUEST_MAX; i++)
		gdt[i] = i < n ? segments_convert(desc[i]) : 0;
	return 0;
}

static bool segments_desc(const struct vm *vm, uint16_t sel, uint64_t *d)
{
	unsigned index = sel >> 3;

	if ((sel & SEL_TI) || index == 0 || index > MONITOR_GDT_GUEST_MAX)
		return false;
	*d = machine_gdt(vm->m)[index];
	return (*d >> 40) & DESC_P;
}

static bool segments_check_desc(uint64_t d, uint16_t sel, bool code)
{
	uint8_t access = (uint8_t)(d >> 40);

	if (((access >> 5) & 3) != (sel & SEL_RPL_MASK))
		return false;
	if (code)
		return access & DESC_CODE;
	return !(access & DESC_CODE) && (access & DESC_RW);
}

static bool segments_check(const struct vm *vm, uint16_t sel, bool code)
{
	uint64_t d;

	return segments_desc(vm, sel, &d) && segments_check_desc(d, sel, code);
}

bool segments_stack_absent(const struct vm *vm, uint16_t sel)
{
	unsigned index = sel >> 3;
	uint64_t d;

	if ((sel & SEL_TI) || index == 0 || index > MONITOR_GDT_GUEST_MAX)
		return false;
	d = machine_gdt(vm->m)[index];
	if (!d || ((d >> 40) & DESC_P))
		return false;
	return segments_check_desc(d, sel, false);
}

/*
 * Would a CPU at the guest's ring (0 or 3) accept the guest's own
 * descriptor for guest selector sel, for this use, where the real GDT
 * leaves it out (segments_convert)?  Then the fault the CPU raised is
 * ours, not the guest's: the reason, for a report.  NULL where the real
 * GDT shows what the guest's table does, or where a CPU would refuse the
 * selector too, so that the guest must see the fault.
 */
const char *segments_refused(struct vm *vm, uint16_t sel, unsigned cpl, enum segments_use use)
{
	struct emulate_fault fault;
	unsigned dpl, rpl = sel & SEL_RPL_MASK, type;
	uint8_t access;
	uint64_t d;

	if (sel & SEL_TI)
		return vm->sys.ldtr & ~3u ? "a selector in the guest's LDT, which kvmshadow does "
					    "not mirror"
					  : NULL;
	if (!(sel & ~7u) || (sel | 7u) > vm->sys.gdtr.limit ||
	    vm_read_virt(vm, vm->sys.gdtr.base + (sel & ~7u), &d, 8, 0, &fault))
		return NULL;
	access = (uint8_t)(d >> 40);
	dpl = (access >> 5) & 3;
	type = access & 0x0f;
	if (!(access & DESC_S)) { /* far jmp or call through a gate, or to a TSS */
		if (use != SEGMENTS_USE_CODE || dpl < cpl || dpl < rpl)
			return NULL;
		if (type == 0x04 || type == 0x0c)
			return "a call gate, which kvmshadow does not mirror";
		if (type == 0x01 || type == 0x05 || type == 0x09)
			return "a task gate or TSS: task switches are not supported";
		return NULL;
	}
	if (access & DESC_CODE) {
		if (use == SEGMENTS_USE_STACK || (use == SEGMENTS_USE_DATA && !(access & DESC_RW)))
			return NULL;
		if (access & SEG_TYPE_CONFORMING) /* no privilege check as data */
			return use == SEGMENTS_USE_DATA || dpl <= cpl
				   ? "a conforming code segment, which kvmshadow does not mirror"
				   : NULL;
		if (use == SEGMENTS_USE_CODE ? dpl != cpl || rpl > cpl : dpl < cpl || dpl < rpl)
			return NULL;
	} else {
		if (use == SEGMENTS_USE_CODE)
			return NULL;
		if (use == SEGMENTS_USE_STACK ? dpl != cpl || rpl != cpl || !(access & DESC_RW)
					      : dpl < cpl || dpl < rpl)
			return NULL;
		if (access & SEG_TYPE_CONFORMING)
			return "an expand-down data segment, which kvmshadow does not mirror";
	}
	if (dpl == 1 || dpl == 2)
		return "a DPL-1 or DPL-2 segment; kvmshadow runs the guest kernel in ring 1 and "
		       "keeps rings 1 and 2 for itself";
	if (segments_base(d) >= MONITOR_BASE)
		return "a segment based in 0xffc00000-0xffffffff, kvmshadow's monitor";
	return NULL;
}

uint32_t segments_base_of(const struct vm *vm, uint16_t sel)
{
	uint64_t d;

	if (!segments_desc(vm, sel, &d))
		return 0;
	return segments_base(d);
}

uint32_t segments_limit(const struct vm *vm, uint16_t sel)
{
	uint64_t d;

	if (!segments_desc(vm, sel, &d))
		return 0;
	return (uint32_t)segments_limit_bytes(d);
}

bool segments_code_ok(const struct vm *vm, uint16_t sel)
{
	return segments_check(vm, sel, true);
}

bool segments_stack_ok(const struct vm *vm, uint16_t sel)
{
	return segments_check(vm, sel, false);
}

uint16_t segments_data_or_null(const struct vm *vm, uint16_t sel)
{
	uint64_t d;
	uint8_t access;

	if (!segments_desc(vm, sel, &d))
		return 0;
	access = (uint8_t)(d >> 40);
	if ((access & DESC_CODE) && !(access & DESC_RW))
		return 0; /* execute-only code cannot be a data segment */
	if ((sel & SEL_RPL_MASK) > ((access >> 5) & 3))
		return 0; /* the monitor's pop would fault */
	return sel;
}
