/*
 * fuzz_descriptors.c - libFuzzer harness: the guest's GDT, IDT and TSS,
 * and one trap that uses them.
 *
 * In shadow mode the guest's descriptor tables never reach the CPU, but
 * the VMM reads them all the time: segments_mirror copies the guest's GDT
 * into the real one (segments.c), reflect.c looks up the IDT gate and the
 * TSS's ss0:esp0 to deliver a trap, trap.c checks the selectors of ltr,
 * mov to ss/ds/es and iret against the mirrored GDT, and trap_resume
 * vets the frame the monitor will pop.  Here all of that takes a guest
 * made of fuzzer bytes: no KVM, the machine is an array (as in
 * tests/unit/test_shadow.c), and the monitor's pages are filled with a
 * pattern instead of the monitor.
 *
 * The input: a header (struct fuzz_header: the guest's GDTR, IDTR, CR3,
 * CR4, TSS, virtual IF, and the frame of one trap the monitor handed
 * over - vector, error code, registers and selectors), then the guest's
 * physical memory from 0 (tests/fuzz/mkseeds.py writes such inputs).
 * The harness mirrors the GDT (as the guest's lgdt would), runs
 * trap_handle on the frame and, unless the guest was stopped,
 * trap_resume - the VMM's whole handling of one exit.
 * FUZZ_VERBOSE=1 in the environment prints what became of each trap.
 * Checked, besides "no crash, no sanitizer report":
 *
 *  - every descriptor of the real GDT the guest can name (1 to
 *    MONITOR_GDT_GUEST_MAX) is empty or a non-conforming code or
 *    non-expand-down data segment (never a TSS, LDT or gate) of DPL 1 or
 *    3 (never 0: ring 0 is the monitor's; never 2), with its accessed bit
 *    set (the GDT page is read-only), whose last byte lies below the
 *    monitor at MONITOR_BASE (segments.c);
 *  - the mirror is faithful: each of those is the guest's descriptor at
 *    the same index with DPL 0 turned into 1, the limit cut only where
 *    the segment would reach the monitor, and then by less than a page;
 *  - nothing but the guest's part of the GDT and the monitor's data page
 *    (frame, control block) changed in the monitor's pages;
 *  - the frame trap_resume leaves is one the monitor's iret can pop at
 *    ring 0 without faulting (trap.c's trap_frame_ok): CS a code segment
 *    of the guest's part of the GDT with DPL = RPL = 1 or 3, EIP within
 *    its limit, SS a writable data segment of the same ring, DS and ES
 *    null or a data (or readable code) segment with DPL >= RPL; EFLAGS
 *    with IF set and IOPL 0, VM and NT clear;
 *  - the control block asks only for what the guest may have: CR0 with
 *    PG, WP, PE always (only TS, EM, MP follow the guest), CR4 only UMIP,
 *    OSFXSR, OSXMMEXCPT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segments.h"
#include "trap.h"
#include "vm.h"

#define FRAMES	  64u
#define GUEST_MEM (16u * PAGE_SIZE)

#define FUZZ_PAGING  0x01 /* CR0.PG, with the header's CR3 and CR4 */
#define FUZZ_TSS     0x02 /* the guest loaded a TSS at tss_base */
#define FUZZ_VIF     0x04 /* its virtual IF is set */
#define FUZZ_IRQ     0x08 /* IRQ 0 is pending at the PIC, at vector (flags >> 8) & 0xf8 */
#define FUZZ_MIRROR2 0x10 /* lgdt again after the trap: the guest changed its GDT */

struct fuzz_header {
	uint32_t flags;
	uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
	uint32_t cr3, cr4, tss_base;
	/* the frame */
	uint32_t vector, error, cr2, eip, cs, eflags, esp, ss, ds, es;
	uint32_t eax, ecx, edx, ebx;
};

static uint8_t machine_mem[FRAMES * PAGE_SIZE];
static uint8_t monitor_before[MONITOR_PAGES][PAGE_SIZE];
static struct machine m;
static struct vm vm;
static struct guest g;
static struct stats st;
static struct vcpu_stop stop;
static struct emulator em;

/* A broken invariant: say which, then abort (libFuzzer keeps the input). */
#define fuzz_check(ok)                                                                             \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #ok); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint32_t desc_base(uint64_t d)
{
	return (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)(d >> 56) << 24;
}

static uint64_t desc_limit(uint64_t d)
{
	uint64_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	return (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
}

static uint8_t desc_access(uint64_t d)
{
	return (uint8_t)(d >> 40);
}

static unsigned desc_dpl(uint64_t d)
{
	return (desc_access(d) >> 5) & 3;
}

/* One descriptor of the real GDT the guest can name: empty or safe. */
static void check_real_desc(uint64_t d)
{
	uint8_t a = desc_access(d);

	if (!d)
		return;
	/* Present or not: the guest may be let see the CPU's #NP on a
	 * not-present one, so it must be as safe as if it were present. */
	fuzz_check(a & DESC_S);	 /* never a TSS, LDT or gate */
	fuzz_check(!(a & 0x04)); /* never conforming code, never expand-down */
	fuzz_check(desc_dpl(d) == 1 || desc_dpl(d) == 3);
	fuzz_check(a & DESC_ACCESSED); /* the GDT page is read-only */
	fuzz_check((uint64_t)desc_base(d) + desc_limit(d) < MONITOR_BASE);
}

/* The real descriptor is the guest's own, as segments.h promises. */
static void check_faithful(uint64_t guest, uint64_t real)
{
	uint64_t mask = ~(0xffffull | 0xf000000000000ull | (0x60ull << 40) /* DPL */ |
			  (1ull << 40) /* accessed */ | (1ull << 55) /* G */);
	uint64_t end = (uint64_t)desc_base(guest) + desc_limit(guest);

	if (!real)
		return;
	fuzz_check((real & mask) == (guest & mask));
	fuzz_check(desc_dpl(real) == (desc_dpl(guest) == 0 ? 1 : desc_dpl(guest)));
	if (end < MONITOR_BASE) {
		fuzz_check(desc_limit(real) == desc_limit(guest));
		fuzz_check(((real ^ guest) & (1ull << 55)) == 0);
	} else { /* cut just below the monitor */
		fuzz_check((uint64_t)desc_base(real) + desc_limit(real) >=
			   MONITOR_BASE - PAGE_SIZE);
	}
}

static void check_gdt(void)
{
	const uint64_t *gdt = machine_gdt(&m);

	for (unsigned i = 1; i <= MONITOR_GDT_GUEST_MAX; i++)
		check_real_desc(gdt[i]);
}

/* Mirror the GDT, and check the mirror against the guest's bytes, read
 * here straight from guest-physical memory (paging off only). */
static int mirror(void)
{
	const uint64_t *gdt = machine_gdt(&m);
	unsigned n = (vm.sys.gdtr.limit + 1u) / 8;

	if (segments_mirror(&vm)) {
		fuzz_check(vm.stopped);
		return -1;
	}
	check_gdt();
	for (unsigned i = 1; i <= MONITOR_GDT_GUEST_MAX; i++) {
		uint32_t gpa = vm.sys.gdtr.base + 8 * i;
		uint64_t d;

		if (i >= n) {
			fuzz_check(!gdt[i]);
			continue;
		}
		if ((vm.sys.cr0 & CR0_PG) || gpa / PAGE_SIZE != (gpa + 7) / PAGE_SIZE ||
		    !vm_phys(&vm, gpa))
			continue;
		memcpy(&d, vm_phys(&vm, gpa), 8);
		check_faithful(d, gdt[i]);
	}
	return 0;
}

/* What the monitor's pages may not see change: everything but the
 * guest's part of the GDT and the data page. */
static void snapshot_monitor(void)
{
	for (unsigned i = 0; i < MONITOR_PAGES; i++)
		memcpy(monitor_before[i], machine_frame_mem(&m, m.monitor_mfn[i]), PAGE_SIZE);
}

static void check_monitor(void)
{
	const uint64_t *gdt = machine_gdt(&m), *gdt_before = (const uint64_t *)monitor_before[2];

	static const unsigned user_gates[] = {3, 4, 0x80};
	uint8_t idt_page[PAGE_SIZE];

	for (unsigned i = 0; i < MONITOR_RO_PAGES; i++)
		if (i != 2 && i != 3)
			fuzz_check(!memcmp(monitor_before[i],
					   machine_frame_mem(&m, m.monitor_mfn[i]), PAGE_SIZE));
	/* The IDT and TSS page: only the DPL of the gates ring 3 may use
	 * changes, following the guest's (reflect_sync_user_gates). */
	memcpy(idt_page, machine_frame_mem(&m, m.monitor_mfn[3]), PAGE_SIZE);
	for (unsigned i = 0; i < 3; i++) {
		unsigned at = user_gates[i] * 8 + 5;

		fuzz_check(idt_page[at] == monitor_before[3][at] || (idt_page[at] & 0x60) == 0 ||
			   (idt_page[at] & 0x60) == 0x60);
		idt_page[at] = (uint8_t)((idt_page[at] & ~0x60) | (monitor_before[3][at] & 0x60));
	}
	fuzz_check(!memcmp(monitor_before[3], idt_page, PAGE_SIZE));
	fuzz_check(gdt[0] == gdt_before[0]);
	for (unsigned i = MONITOR_GDT_GUEST_MAX + 1; i < MONITOR_GDT_ENTRIES; i++)
		fuzz_check(gdt[i] == gdt_before[i]);
}

/* The real descriptor a selector names, from the guest's part only. */
static uint64_t real_desc(uint16_t sel)
{
	unsigned index = sel >> 3;

	fuzz_check(!(sel & SEL_TI) && index >= 1 && index <= MONITOR_GDT_GUEST_MAX);
	return machine_gdt(&m)[index];
}

/* The frame the monitor's iret will pop, and the control block. */
static void check_resume(void)
{
	const struct monitor_frame *f = machine_frame(&m);
	const struct monitor_ctl *ctl = machine_ctl(&m);
	uint16_t cs = f->cs & 0xffff, ss = f->ss & 0xffff;
	unsigned rpl = cs & SEL_RPL_MASK;
	uint64_t d;

	fuzz_check(rpl == 1 || rpl == 3);
	d = real_desc(cs);
	fuzz_check((desc_access(d) & (DESC_P | DESC_S | DESC_CODE)) ==
		   (DESC_P | DESC_S | DESC_CODE));
	fuzz_check(desc_dpl(d) == rpl);
	fuzz_check(f->eip <= desc_limit(d));
	fuzz_check((ss & SEL_RPL_MASK) == rpl);
	d = real_desc(ss);
	fuzz_check((desc_access(d) & (DESC_P | DESC_S | DESC_CODE | DESC_RW)) ==
		   (DESC_P | DESC_S | DESC_RW));
	fuzz_check(desc_dpl(d) == rpl);
	for (int i = 0; i < 2; i++) {
		uint16_t sel = (i ? f->es : f->ds) & 0xffff;

		if (!(sel & ~SEL_RPL_MASK))
			continue;
		d = real_desc(sel);
		fuzz_check((desc_access(d) & (DESC_P | DESC_S)) == (DESC_P | DESC_S));
		fuzz_check(!(desc_access(d) & DESC_CODE) || (desc_access(d) & DESC_RW));
		fuzz_check((sel & SEL_RPL_MASK) <= desc_dpl(d));
	}
	fuzz_check((f->eflags & (FL_IF | FL_FIXED)) == (FL_IF | FL_FIXED));
	fuzz_check(!(f->eflags & (FL_IOPL_MASK | FL_VM | FL_NT)));
	fuzz_check(!ctl->cr0 || (ctl->cr0 & ~(CR0_TS | CR0_EM | CR0_MP)) == MONITOR_CR0);
	fuzz_check(!ctl->cr4 || !(ctl->cr4 & ~(CTL_LOAD | CR4_UMIP | CR4_OSFXSR | CR4_OSXMMEXCPT)));
}

static int setup(const struct fuzz_header *h, const uint8_t *mem, size_t len)
{
	struct error err;

	memset(machine_mem, 0, sizeof(machine_mem));
	m = (struct machine){.mem = machine_mem, .mem_bytes = sizeof(machine_mem)};
	if (p2m_pool_init(&m.pool, FRAMES, machine_mem, 0, &err))
		abort();
	for (unsigned i = 0; i < MONITOR_PAGES; i++) {
		m.monitor_mfn[i] = p2m_pool_alloc(&m.pool, NULL, 0);
		memset(machine_frame_mem(&m, m.monitor_mfn[i]), 0xa5 + i, PAGE_SIZE);
	}
	m.monitor_pt = p2m_pool_alloc(&m.pool, NULL, 0);
	g = (struct guest){.name = "vm0", .mem_bytes = GUEST_MEM};
	pic_init(&g.pic);
	stop = (struct vcpu_stop){0};
	st = (struct stats){0};
	vm = (struct vm){.name = "vm0", .g = &g, .st = &st, .stop = &stop, .em = em};
	if (vm_init_memory(&vm, &m, GUEST_MEM, &err))
		abort();
	for (uint32_t gpa = 0; gpa < len; gpa += PAGE_SIZE)
		memcpy(vm_phys(&vm, gpa), mem + gpa, len - gpa < PAGE_SIZE ? len - gpa : PAGE_SIZE);

	vm.sys.cr0 = CR0_PE | CR0_ET;
	if (h->flags & FUZZ_PAGING) {
		const uint8_t *pd = vm_phys(&vm, h->cr3 & PAGE_MASK);
		uint32_t pde;

		if (!pd)
			return -1;
		memcpy(&pde, pd + 4 * (PT_ENTRIES - 1), 4);
		if (pde & PTE_P)
			return -1; /* refused at the guest's mov to cr3 (trap_check_pd) */
		vm.sys.cr0 |= CR0_PG | CR0_WP;
		vm.sys.cr3 = h->cr3;
		vm.sys.cr4 = h->cr4 & (CR4_PSE | CR4_OSFXSR | CR4_OSXMMEXCPT);
	}
	vm.sys.gdtr.base = h->gdt_base;
	vm.sys.gdtr.limit = (uint16_t)h->gdt_limit;
	vm.sys.idtr.base = h->idt_base;
	vm.sys.idtr.limit = (uint16_t)h->idt_limit;
	vm.tss_loaded = h->flags & FUZZ_TSS;
	vm.tss_base = h->tss_base;
	vm.vif = h->flags & FUZZ_VIF;
	vm.real_cr0 = MONITOR_CR0;
	if (h->flags & FUZZ_IRQ) {
		g.pic.chip[0].vector_base = (h->flags >> 8) & 0xf8;
		g.pic.chip[0].imr = 0;
		pic_raise_irq(&g.pic, 0);
	}
	if (shadow_init(&vm))
		abort();
	return 0;
}

static void teardown(void)
{
	shadow_destroy(&vm);
	p2m_destroy(&vm.p2m);
	p2m_pool_destroy(&m.pool);
}

/* The frame as the monitor's stub leaves it: the CPU pushed eflags with
 * the real IF set and IOPL 0 (trap_resume saw to it), from ring 1 or 3. */
static void set_frame(const struct fuzz_header *h)
{
	struct monitor_frame *f = machine_frame(&m);

	*f = (struct monitor_frame){
	    .cr2 = h->cr2,
	    .es = h->es & 0xffff,
	    .ds = h->ds & 0xffff,
	    .ebx = h->ebx,
	    .edx = h->edx,
	    .ecx = h->ecx,
	    .eax = h->eax,
	    .esp_monitor = MONITOR_FRAME_VA + FRAME_EDI - 4,
	    .vector = h->vector & 0xff,
	    .error = h->error,
	    .eip = h->eip,
	    .cs = h->cs & 0xffff,
	    .eflags = (h->eflags | FL_IF | FL_FIXED) & ~(FL_IOPL_MASK | FL_VM | FL_NT),
	    .esp = h->esp,
	    .ss = h->ss & 0xffff,
	};
	machine_ctl(&m)->frame = MONITOR_FRAME_VA;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_header h;
	struct error err;
	size_t len;

	if (!em.cs && emulate_init(&em, &err))
		abort();
	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	len = size - sizeof(h) < GUEST_MEM ? size - sizeof(h) : GUEST_MEM;
	if (setup(&h, data + sizeof(h), len))
		goto out;
	snapshot_monitor();
	if (mirror())
		goto out;
	set_frame(&h);
	if (trap_handle(&vm) == TRAP_HALT && vm.vif && pic_has_interrupt(&g.pic))
		trap_deliver_irq(&vm, false);
	if (!vm.stopped && (h.flags & FUZZ_MIRROR2))
		mirror();
	if (!vm.stopped)
		trap_resume(&vm);
	check_gdt();
	check_monitor();
	if (!vm.stopped)
		check_resume();
	if (getenv("FUZZ_VERBOSE")) /* what became of the trap */
		fprintf(stderr, "%s; cs:eip %04x:%08x ss:esp %04x:%08x\n",
			vm.stopped ? stop.detail : "resumed", machine_frame(&m)->cs,
			machine_frame(&m)->eip, machine_frame(&m)->ss, machine_frame(&m)->esp);
out:
	teardown();
	return 0;
}
