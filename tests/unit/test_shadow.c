/*
 * test_shadow.c - the shadow page tables as a virtual TLB, checked against
 * a reference walk of the guest's own tables (ptwalk) and the guest's
 * PFN-to-MFN map: every entry the shadow installs must translate to the
 * machine frame of the guest-physical page the guest maps there, with no
 * more rights than the guest gives, and no write right before the guest's
 * dirty bit is set.
 *
 * No KVM here: the machine is a 2 MiB array, the guest has 1 MiB of
 * "physical" memory scattered over it, and we write its page tables by
 * hand.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "shadow.h"
#include "vm.h"

#define FRAMES	  512u
#define GUEST_MEM (1u << 20)
#define PD_PA	  0x1000u
#define PT_PA	  0x2000u

/* The guest's mappings. */
#define VA_USER_CLEAN 0x00400000u /* user, writable, D clear -> pa 0x5000 */
#define VA_KERNEL_RO  0x00401000u /* supervisor, read-only -> pa 0x6000 */
#define VA_USER_DIRTY 0x00402000u /* user, writable, D set -> pa 0x7000 */
#define VA_USER_RO    0x00403000u /* user, read-only -> pa 0x8000 */
#define VA_MISSING    0x00404000u /* not present */
#define VA_UNBACKED   0x00405000u /* -> pa 0x00f00000, beyond the guest's memory */
#define VA_LARGE      0x00800000u /* a 4 MiB page at pa 0, user, writable */

static uint8_t machine_mem[FRAMES * PAGE_SIZE];
static struct machine m;
static struct vm vm;
static struct guest g;
static struct stats st;
static struct vcpu_stop stop;
static struct error err;

static void put32(uint32_t gpa, uint32_t v)
{
	memcpy(vm_phys(&vm, gpa), &v, 4);
}

static uint32_t get32(uint32_t gpa)
{
	uint32_t v;

	memcpy(&v, vm_phys(&vm, gpa), 4);
	return v;
}

static void build_guest_tables(void)
{
	put32(PD_PA + 4 * PDE_INDEX(VA_USER_CLEAN), PT_PA | PTE_P | PTE_W | PTE_U);
	put32(PT_PA + 4 * PTE_INDEX(VA_USER_CLEAN), 0x5000 | PTE_P | PTE_W | PTE_U);
	put32(PT_PA + 4 * PTE_INDEX(VA_KERNEL_RO), 0x6000 | PTE_P);
	put32(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 0x7000 | PTE_P | PTE_W | PTE_U | PTE_D);
	put32(PT_PA + 4 * PTE_INDEX(VA_USER_RO), 0x8000 | PTE_P | PTE_U);
	put32(PT_PA + 4 * PTE_INDEX(VA_UNBACKED), 0x00f00000 | PTE_P | PTE_W | PTE_U);
	put32(PD_PA + 4 * PDE_INDEX(VA_LARGE), 0 | PTE_P | PTE_W | PTE_U | PTE_PS);
}

static void setup(void)
{
	memset(machine_mem, 0, sizeof(machine_mem));
	m = (struct machine){.mem = machine_mem, .mem_bytes = sizeof(machine_mem)};
	cr_assert_eq(p2m_pool_init(&m.pool, FRAMES, machine_mem, 0, &err), 0, "%s", err.msg);
	for (unsigned i = 0; i < MONITOR_PAGES; i++)
		m.monitor_mfn[i] = p2m_pool_alloc(&m.pool, NULL, 0);
	m.monitor_pt = p2m_pool_alloc(&m.pool, NULL, 0);
	g = (struct guest){.name = "vm0", .mem_bytes = GUEST_MEM};
	vm = (struct vm){.name = "vm0", .g = &g, .st = &st, .stop = &stop};
	cr_assert_eq(vm_init_memory(&vm, &m, GUEST_MEM, &err), 0, "%s", err.msg);
	cr_assert_eq(shadow_init(&vm), 0);
	vm.sys.cr0 = CR0_PE | CR0_PG | CR0_WP;
	vm.sys.cr3 = PD_PA;
	vm.sys.cr4 = CR4_PSE;
	build_guest_tables();
}

static void teardown(void)
{
	shadow_destroy(&vm);
	p2m_destroy(&vm.p2m);
	p2m_pool_destroy(&m.pool);
}

TestSuite(shadow, .init = setup, .fini = teardown);

static struct shadow_fault fault_at(uint32_t va, uint32_t error)
{
	struct shadow_fault res;

	shadow_fault(&vm, va, error, &res);
	return res;
}

/*
 * The reference: what the guest's tables say about va (without touching
 * its A/D bits), and the machine frame behind it.  Returns the MFN, 0 if
 * the guest maps nothing there.
 */
static uint32_t reference(uint32_t va, struct ptwalk_result *w)
{
	ptwalk(&vm.walk_mem, vm.sys.cr0, vm.sys.cr3, vm.sys.cr4, va, 0, w);
	if (w->status != PTWALK_OK)
		return 0;
	return p2m_lookup(&vm.p2m, w->gpa >> PAGE_SHIFT);
}

/* Every present shadow entry of va agrees with the reference walk. */
static void assert_agrees(uint32_t va)
{
	uint32_t spte = shadow_lookup(&vm, va), mfn;
	struct ptwalk_result w;

	if (!(spte & PTE_P))
		return;
	mfn = reference(va, &w);
	cr_assert_eq(w.status, PTWALK_OK, "shadow maps 0x%08x, the guest does not", va);
	if (!mfn) { /* guest-physical memory that does not exist: all ones */
		cr_assert_eq(spte >> PAGE_SHIFT, vm.shadow.ones, "0x%08x: unbacked", va);
		cr_assert_eq(spte & PTE_W, 0, "0x%08x: unbacked but writable", va);
		return;
	}
	cr_assert_eq(spte >> PAGE_SHIFT, mfn, "0x%08x: shadow frame 0x%x, guest's 0x%x", va,
		     spte >> PAGE_SHIFT, mfn);
	if (spte & PTE_U)
		cr_assert(w.user, "0x%08x: user access the guest forbids", va);
	if (spte & PTE_W) {
		cr_assert(w.writable || !(vm.sys.cr0 & CR0_WP), "0x%08x: writable, guest says no",
			  va);
		cr_assert(w.large ? (w.pde & PTE_D) : (w.pte & PTE_D),
			  "0x%08x: writable before the guest's dirty bit is set", va);
	}
}

Test(shadow, an_empty_shadow_maps_only_the_monitor)
{
	uint32_t *pd = (uint32_t *)machine_frame_mem(&m, vm.shadow.pd);

	for (unsigned i = 0; i < SHADOW_GUEST_PDES; i++)
		cr_assert_eq(pd[i], 0, "slot %u", i);
	cr_assert_eq(pd[1023] >> PAGE_SHIFT, m.monitor_pt);
	cr_assert_eq(pd[1023] & PTE_U, 0, "the monitor is not for ring 3");
}

Test(shadow, a_hidden_fault_installs_the_guest_translation)
{
	struct shadow_fault res = fault_at(VA_USER_DIRTY + 0x10, PF_U);
	uint32_t spte = shadow_lookup(&vm, VA_USER_DIRTY);

	cr_assert_eq(res.kind, SHADOW_HIDDEN);
	cr_assert_eq(spte >> PAGE_SHIFT, p2m_lookup(&vm.p2m, 7));
	cr_assert_eq(spte & (PTE_P | PTE_U | PTE_W), PTE_P | PTE_U | PTE_W);
	cr_assert_neq(spte >> PAGE_SHIFT, 7, "the machine frame is not the guest's frame number");
	assert_agrees(VA_USER_DIRTY);
	cr_assert_eq(vm.shadow.tlb_invlpg, VA_USER_DIRTY | 1, "the old entry leaves the TLB");
}

Test(shadow, a_clean_page_is_read_only_until_its_first_write)
{
	cr_assert_eq(fault_at(VA_USER_CLEAN, PF_U).kind, SHADOW_HIDDEN);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_CLEAN) & PTE_W, 0);
	cr_assert(get32(PT_PA + 4 * PTE_INDEX(VA_USER_CLEAN)) & PTE_A, "accessed bit set");
	cr_assert_eq(get32(PT_PA + 4 * PTE_INDEX(VA_USER_CLEAN)) & PTE_D, 0, "dirty too early");
	/* The first write faults (P, W, U) and sets the guest's dirty bit. */
	cr_assert_eq(fault_at(VA_USER_CLEAN, PF_P | PF_W | PF_U).kind, SHADOW_HIDDEN);
	cr_assert(get32(PT_PA + 4 * PTE_INDEX(VA_USER_CLEAN)) & PTE_D);
	cr_assert(shadow_lookup(&vm, VA_USER_CLEAN) & PTE_W);
	assert_agrees(VA_USER_CLEAN);
}

Test(shadow, true_faults_carry_the_guests_error_code)
{
	struct shadow_fault res = fault_at(VA_KERNEL_RO, PF_U);

	cr_assert_eq(res.kind, SHADOW_TRUE);
	cr_assert_eq(res.error, PF_P | PF_U, "protection, user read");
	res = fault_at(VA_MISSING, PF_W);
	cr_assert_eq(res.kind, SHADOW_TRUE);
	cr_assert_eq(res.error, PF_W, "not present, supervisor write");
	res = fault_at(VA_USER_RO, PF_W | PF_U);
	cr_assert_eq(res.error, PF_P | PF_W | PF_U);
	cr_assert_eq(shadow_lookup(&vm, VA_KERNEL_RO), 0, "nothing installed");
	cr_assert_eq(shadow_lookup(&vm, VA_MISSING), 0);
}

Test(shadow, supervisor_writes_obey_cr0_wp)
{
	/* WP set: the kernel may not write a read-only page. */
	cr_assert_eq(fault_at(VA_USER_RO, PF_W).kind, SHADOW_TRUE);
	/* WP clear: it may; the page becomes writable but supervisor-only,
	 * so that user mode still cannot write it. */
	vm.sys.cr0 &= ~CR0_WP;
	cr_assert_eq(fault_at(VA_USER_RO, PF_W).kind, SHADOW_HIDDEN);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_RO) & (PTE_W | PTE_U), PTE_W);
	assert_agrees(VA_USER_RO);
	/* A user read then faults and gets the read-only user view back. */
	cr_assert_eq(fault_at(VA_USER_RO, PF_P | PF_U).kind, SHADOW_HIDDEN);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_RO) & (PTE_W | PTE_U), PTE_U);
}

Test(shadow, a_large_page_is_split_and_invlpg_drops_its_whole_slot)
{
	for (uint32_t off = 0; off < GUEST_MEM; off += 0x41000) {
		cr_assert_eq(fault_at(VA_LARGE + off, PF_W | PF_U).kind, SHADOW_HIDDEN);
		cr_assert_eq(shadow_lookup(&vm, VA_LARGE + off) >> PAGE_SHIFT,
			     p2m_lookup(&vm.p2m, off >> PAGE_SHIFT), "4 KiB piece 0x%x", off);
		assert_agrees(VA_LARGE + off);
	}
	cr_assert(get32(PD_PA + 4 * PDE_INDEX(VA_LARGE)) & PTE_D, "the PDE is dirty");
	cr_assert(shadow_invlpg(&vm, VA_LARGE + 0x123456), "one invlpg, the whole 4 MiB");
	cr_assert_eq(shadow_lookup(&vm, VA_LARGE), 0);
	cr_assert_eq(shadow_lookup(&vm, VA_LARGE + 0x41000), 0);
	cr_assert(vm.shadow.tlb_flush);
}

Test(shadow, invlpg_drops_one_entry)
{
	fault_at(VA_USER_DIRTY, PF_U);
	fault_at(VA_USER_CLEAN, PF_U);
	cr_assert_not(shadow_invlpg(&vm, VA_USER_DIRTY + 0x800));
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	cr_assert_neq(shadow_lookup(&vm, VA_USER_CLEAN), 0, "its neighbour stays");
}

Test(shadow, a_cr3_load_empties_it)
{
	uint64_t flushes = st.shadow_flushes;

	fault_at(VA_USER_DIRTY, PF_U);
	fault_at(VA_LARGE, PF_U);
	shadow_flush(&vm);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	cr_assert_eq(shadow_lookup(&vm, VA_LARGE), 0);
	cr_assert_eq(st.shadow_flushes, flushes + 1);
	cr_assert(vm.shadow.tlb_flush, "the monitor must reload CR3");
	/* The frames are kept and reused: no pool frame is lost. */
	fault_at(VA_USER_DIRTY, PF_U);
	assert_agrees(VA_USER_DIRTY);
}

Test(shadow, paging_off_maps_guest_physical_memory)
{
	vm.sys.cr0 = CR0_PE;
	cr_assert_eq(fault_at(0x5123, PF_W).kind, SHADOW_HIDDEN);
	cr_assert_eq(shadow_lookup(&vm, 0x5000) >> PAGE_SHIFT, p2m_lookup(&vm.p2m, 5));
	cr_assert_eq(shadow_lookup(&vm, 0x5000) & (PTE_W | PTE_U), PTE_W | PTE_U);
}

Test(shadow, unbacked_memory_reads_as_ones_and_writes_are_discarded)
{
	struct shadow_fault res = fault_at(VA_UNBACKED, PF_U);
	uint32_t spte = shadow_lookup(&vm, VA_UNBACKED);

	cr_assert_eq(res.kind, SHADOW_HIDDEN);
	cr_assert(res.unbacked);
	cr_assert_eq(spte >> PAGE_SHIFT, vm.shadow.ones);
	cr_assert_eq(spte & PTE_W, 0);
	cr_assert_eq(machine_frame_mem(&m, vm.shadow.ones)[123], 0xff);
	res = fault_at(VA_UNBACKED, PF_P | PF_W | PF_U);
	cr_assert_eq(res.kind, SHADOW_DISCARD);
	cr_assert_eq(res.gpa, 0x00f00000);
}

Test(shadow, the_monitors_area_is_never_the_guests)
{
	/* The guest maps nothing there: its own fault. */
	struct shadow_fault res = fault_at(VMM_RESERVED_VA + 0x10, PF_P | PF_U);

	cr_assert_eq(res.kind, SHADOW_TRUE);
	cr_assert_eq(res.error, PF_U);
	/* The guest maps it: refused, with a report. */
	put32(PD_PA + 4 * 1023, 0 | PTE_P | PTE_W | PTE_PS);
	res = fault_at(VMM_RESERVED_VA, PF_W);
	cr_assert_eq(res.kind, SHADOW_STOP);
	cr_assert(vm.stopped);
	cr_assert(strstr(stop.detail, "reserves for its monitor"), "%s", stop.detail);
}

Test(shadow, a_page_table_outside_memory_stops_the_guest)
{
	put32(PD_PA + 4 * PDE_INDEX(0x00c00000), 0x00f00000 | PTE_P | PTE_W | PTE_U);
	cr_assert_eq(fault_at(0x00c00000, PF_U).kind, SHADOW_STOP);
	cr_assert(strstr(stop.detail, "outside its memory"), "%s", stop.detail);
}

Test(shadow, a_bad_table_in_the_monitors_area_is_named_as_such)
{
	put32(PD_PA + 4 * 1023, 0x00f00000 | PTE_P | PTE_W);
	cr_assert_eq(fault_at(VMM_RESERVED_VA + 0x1000, 0).kind, SHADOW_STOP);
	cr_assert(strstr(stop.detail, "outside its memory"), "%s", stop.detail);
}

/* Many accesses of every kind, then every shadow entry against the reference. */
Test(shadow, random_accesses_agree_with_the_reference_walk)
{
	static const uint32_t vas[] = {VA_USER_CLEAN, VA_KERNEL_RO, VA_USER_DIRTY,	VA_USER_RO,
				       VA_MISSING,    VA_LARGE,	    VA_LARGE + 0x3ff000};
	uint32_t rng = 12345;

	for (int i = 0; i < 2000; i++) {
		uint32_t va, error;

		rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
		va = vas[rng % (sizeof(vas) / sizeof(vas[0]))] + ((rng >> 8) & 0xffc);
		error = (rng >> 20) & (PF_W | PF_U);
		if (shadow_lookup(&vm, va) & PTE_P)
			error |= PF_P;
		if ((rng >> 24) % 16 == 0) { /* mov cr0: trap.c empties the shadow too */
			vm.sys.cr0 ^= CR0_WP;
			shadow_flush(&vm);
		}
		if ((rng >> 24) % 50 == 1)
			shadow_flush(&vm);
		fault_at(va, error);
		cr_assert_not(vm.stopped, "%s", stop.detail);
		for (size_t k = 0; k < sizeof(vas) / sizeof(vas[0]); k++)
			assert_agrees(vas[k] + ((rng >> 8) & 0xffc));
	}
}
