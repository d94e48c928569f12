/*
 * machine.c - build the machine of shadow mode (see machine.h).
 *
 * The monitor's five pages come from machine memory like everything else,
 * at scattered frames, and one page table maps them at MONITOR_BASE.  That
 * page table is shared: every shadow page directory points its last entry
 * at it, so the monitor is at the same place in every address space, the
 * way a trap needs it to be (a trap cannot switch address spaces on x86).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "machine.h"
#include "x86.h"

_Static_assert(MONITOR_CR0 == (CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE), "MONITOR_CR0");

extern const uint8_t monitor_image[], monitor_image_end[];

uint8_t *machine_frame_mem(const struct machine *m, uint32_t mfn)
{
	return p2m_pool_frame_mem(&m->pool, mfn);
}

void *machine_monitor_ptr(const struct machine *m, uint32_t va)
{
	uint32_t off = va - MONITOR_BASE;

	if (va < MONITOR_BASE || off >= MONITOR_PAGES * PAGE_SIZE)
		return NULL;
	return machine_frame_mem(m, m->monitor_mfn[off >> PAGE_SHIFT]) + (off & ~PAGE_MASK);
}

struct monitor_frame *machine_frame(const struct machine *m)
{
	return machine_monitor_ptr(m, MONITOR_FRAME_VA);
}

struct monitor_ctl *machine_ctl(const struct machine *m)
{
	return machine_monitor_ptr(m, MONITOR_CTL_VA);
}

uint64_t *machine_gdt(const struct machine *m)
{
	return machine_monitor_ptr(m, MONITOR_GDT_VA);
}

/* A descriptor as the CPU reads it: base, limit, access byte, flags. */
static uint64_t machine_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf0) << 48 | (uint64_t)(base >> 24) << 56;
}

/*
 * The monitor's own descriptors, at the top of the real GDT.  Their
 * accessed bits are set in advance: the GDT page is read-only even to
 * ring 0, and the CPU would otherwise fault trying to set them.
 */
static void machine_build_gdt(struct machine *m)
{
	uint64_t *gdt = machine_gdt(m);
	uint8_t code = DESC_P | DESC_DPL(0) | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED;
	uint8_t data = DESC_P | DESC_DPL(0) | DESC_S | DESC_RW | DESC_ACCESSED;

	gdt[MONITOR_CS >> 3] = machine_desc(0, 0xfffff, code, DESC_G | DESC_DB);
	gdt[MONITOR_DS >> 3] = machine_desc(0, 0xfffff, data, DESC_G | DESC_DB);
	gdt[MONITOR_TSS_SEL >> 3] = machine_desc(MONITOR_TSS_VA, sizeof(struct x86_tss) - 1,
						 DESC_P | DESC_DPL(0) | DESC_TSS32, 0);
}

/*
 * Every vector enters its monitor stub through an interrupt gate (so the
 * monitor runs with interrupts off).  Gate DPL decides who may reach a
 * vector with an `int` instruction: int3, into and int 0x80 start out for
 * everyone, as on any PC, and then follow the DPL of the guest's own gates
 * (reflect.c's reflect_sync_user_gates); any other `int n` from ring 1 or
 * 3 raises #GP with n in the error code, and the VMM then looks at the
 * guest's own IDT to decide what that int should have done.
 */
static void machine_build_idt(struct machine *m)
{
	struct x86_gate *idt = machine_monitor_ptr(m, MONITOR_IDT_VA);

	for (unsigned v = 0; v < 256; v++) {
		uint32_t stub = MONITOR_BASE + 16 * v;
		int dpl = (v == T_BP || v == T_OF || v == 0x80) ? 3 : 0;

		idt[v] = (struct x86_gate){
		    .offset_lo = stub & 0xffff,
		    .selector = MONITOR_CS,
		    .type_attr = (uint8_t)(DESC_P | DESC_DPL(dpl) | DESC_INTGATE32),
		    .offset_hi = stub >> 16,
		};
	}
}

/* The TSS holds the monitor stack, and no I/O bitmap (its offset is past
 * the limit), so in and out fault in rings 1 and 3 whatever the port. */
static void machine_build_tss(struct machine *m)
{
	struct x86_tss *tss = machine_monitor_ptr(m, MONITOR_TSS_VA);

	*tss = (struct x86_tss){
	    .ss0 = MONITOR_DS,
	    .esp0 = MONITOR_STACK_TOP,
	    .iomap_base = sizeof(struct x86_tss),
	};
}

/* Pages 0-3 read-only, page 4 writable; none of them user-accessible. */
static void machine_map_monitor(struct machine *m)
{
	uint32_t *pt = (uint32_t *)machine_frame_mem(m, m->monitor_pt);

	for (unsigned i = 0; i < MONITOR_PAGES; i++) {
		uint32_t flags = PTE_P | PTE_A;

		if (i >= MONITOR_RO_PAGES)
			flags |= PTE_W | PTE_D;
		pt[i] = m->monitor_mfn[i] << PAGE_SHIFT | flags;
	}
}

static int machine_build_monitor(struct machine *m, struct error *err)
{
	size_t size = (size_t)(monitor_image_end - monitor_image);

	if (size > MONITOR_CODE_PAGES * PAGE_SIZE)
		return error_set(err, "internal error: the monitor (%zu bytes) outgrew its pages",
				 size);
	for (unsigned i = 0; i < MONITOR_PAGES; i++) {
		m->monitor_mfn[i] = p2m_pool_alloc(&m->pool, NULL, 0);
		if (!m->monitor_mfn[i])
			return error_set(err, "machine memory too small for the monitor");
	}
	m->monitor_pt = p2m_pool_alloc(&m->pool, NULL, 0);
	if (!m->monitor_pt)
		return error_set(err, "machine memory too small for the monitor");
	for (unsigned i = 0; i < MONITOR_CODE_PAGES; i++) {
		size_t off = i * PAGE_SIZE, n = size > off ? size - off : 0;

		memcpy(machine_frame_mem(m, m->monitor_mfn[i]), monitor_image + off,
		       n < PAGE_SIZE ? n : PAGE_SIZE);
	}
	machine_build_gdt(m);
	machine_build_idt(m);
	machine_build_tss(m);
	machine_map_monitor(m);
	return 0;
}

bool machine_monitor_intact(const struct machine *m)
{
	size_t size = (size_t)(monitor_image_end - monitor_image);

	for (unsigned i = 0; i < MONITOR_CODE_PAGES; i++) {
		const uint8_t *page = machine_frame_mem(m, m->monitor_mfn[i]);
		size_t off = i * PAGE_SIZE, n = size > off ? size - off : 0;

		if (n > PAGE_SIZE)
			n = PAGE_SIZE;
		if (memcmp(page, monitor_image + off, n))
			return false;
		for (size_t b = n; b < PAGE_SIZE; b++)
			if (page[b])
				return false;
	}
	return true;
}

int machine_init(struct machine *m, uint32_t nframes, struct error *err)
{
	*m = (struct machine){.kvm = {.sys_fd = -1, .vm_fd = -1, .vcpu_fd = -1}};
	m->mem_bytes = (uint64_t)nframes * PAGE_SIZE;
	m->mem = mmap(NULL, m->mem_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->mem == MAP_FAILED) {
		m->mem = NULL;
		return error_errno(err, "cannot allocate %llu MiB of machine memory",
				   (unsigned long long)(m->mem_bytes >> 20));
	}
	if (p2m_pool_init(&m->pool, nframes, m->mem, 0, err) || machine_build_monitor(m, err) ||
	    kvm_open(&m->kvm, err) || kvm_add_memory(&m->kvm, 0, 0, m->mem, m->mem_bytes, err) ||
	    kvm_create_vcpu(&m->kvm, true, err)) {
		machine_destroy(m);
		return -1;
	}
	return 0;
}

void machine_destroy(struct machine *m)
{
	kvm_close(&m->kvm);
	p2m_pool_destroy(&m->pool);
	if (m->mem)
		munmap(m->mem, m->mem_bytes);
	m->mem = NULL;
}

/*
 * The only KVM_SET_SREGS of a shadow-mode run: protected mode with paging
 * on shadow tables, the monitor's GDT, IDT and TSS, and CR0.WP so that the
 * read-only monitor pages are read-only to ring 0 as well.  From here on,
 * every change of privileged state goes through the monitor.
 *
 * TR is described as an available TSS (type 9): this KVM-under-QEMU
 * refuses the busy type that KVM_GET_SREGS itself reports.  No task
 * switch ever happens, so the busy bit has no other meaning here.
 */
static void machine_set_sregs(const struct machine *m, const struct machine_entry *e,
			      struct kvm_sregs *s)
{
	struct kvm_segment data = kvm_flat_segment(e->ds, 0x3);

	s->cs = kvm_flat_segment(e->cs, 0xb);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt.base = MONITOR_GDT_VA;
	s->gdt.limit = MONITOR_GDT_ENTRIES * 8 - 1;
	s->idt.base = MONITOR_IDT_VA;
	s->idt.limit = 256 * 8 - 1;
	s->tr = (struct kvm_segment){.base = MONITOR_TSS_VA,
				     .limit = sizeof(struct x86_tss) - 1,
				     .selector = MONITOR_TSS_SEL,
				     .type = DESC_TSS32,
				     .present = 1};
	s->ldt = (struct kvm_segment){.unusable = 1};
	s->cr0 = MONITOR_CR0;
	s->cr3 = e->cr3;
	s->cr4 = m->kvm.umip ? CR4_UMIP : 0; /* vm.c's real_cr4 starts the same */
	s->efer = 0;
	/* Nothing of another guest's may be queued for this one. */
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

int machine_enter(struct machine *m, const struct machine_entry *e, struct error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
	    .rip = e->eip, .rsp = e->esp, .rflags = e->eflags, .rax = e->eax, .rbx = e->ebx};

	if (ioctl(m->kvm.vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return error_errno(err, "KVM_GET_SREGS failed");
	machine_set_sregs(m, e, &sregs);
	if (ioctl(m->kvm.vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return error_errno(err, "KVM_SET_SREGS failed");
	if (ioctl(m->kvm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return error_errno(err, "KVM_SET_REGS failed");
	return 0;
}
