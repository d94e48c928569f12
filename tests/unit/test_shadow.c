/*
 * test_shadow.c - the persistent shadow page tables, checked against a
 * reference walk of the guest's own tables (ptwalk) and the guest's
 * PFN-to-MFN map: every entry the shadow holds must translate to the
 * machine frame of the guest-physical page the guest maps there, with no
 * more rights than the guest gives, and no write right before the guest's
 * dirty bit is set - and must stay so while the guest rewrites its page
 * tables, switches address spaces and flushes its TLB.
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
	shadow_load_root(&vm);
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
			  "0x%08x: writable before the guest's dirty bit is set (spte 0x%08x, pde "
			  "0x%08x, pte 0x%08x, large %d)",
			  va, spte, w.pde, w.pte, w.large);
		cr_assert_not(shadow_protected(&vm, w.gpa >> PAGE_SHIFT),
			      "0x%08x: writable, but pa 0x%08x is a shadowed page table", va,
			      w.gpa);
	}
	cr_assert((w.pde & PTE_A) && (w.pte & PTE_A), "0x%08x: present before the guest's A bit",
		  va);
}

/* A guest store to one of its own page tables, as trap.c's ptwrite does it. */
static void guest_wrote(uint32_t gpa, uint32_t v)
{
	put32(gpa, v);
	shadow_guest_wrote(&vm, gpa, 4);
}

Test(shadow, an_empty_shadow_maps_only_the_monitor)
{
	uint32_t *pd = (uint32_t *)machine_frame_mem(&m, shadow_cr3(&vm.shadow) >> PAGE_SHIFT);

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

Test(shadow, a_large_page_is_split_and_a_pde_write_drops_its_whole_slot)
{
	for (uint32_t off = 0x10000; off < GUEST_MEM; off += 0x41000) {
		cr_assert_eq(fault_at(VA_LARGE + off, PF_W | PF_U).kind, SHADOW_HIDDEN);
		cr_assert_eq(shadow_lookup(&vm, VA_LARGE + off) >> PAGE_SHIFT,
			     p2m_lookup(&vm.p2m, off >> PAGE_SHIFT), "4 KiB piece 0x%x", off);
		assert_agrees(VA_LARGE + off);
	}
	cr_assert(get32(PD_PA + 4 * PDE_INDEX(VA_LARGE)) & PTE_D, "the PDE is dirty");
	/* invlpg drops nothing: the shadow already follows the guest's tables. */
	shadow_invlpg(&vm, VA_LARGE + 0x123456);
	cr_assert_neq(shadow_lookup(&vm, VA_LARGE + 0x10000), 0);
	/* The guest unmaps the 4 MiB page: the slot goes, whole. */
	guest_wrote(PD_PA + 4 * PDE_INDEX(VA_LARGE), 0);
	cr_assert_eq(shadow_lookup(&vm, VA_LARGE + 0x10000), 0);
	cr_assert_eq(shadow_lookup(&vm, VA_LARGE + 0x51000), 0);
	cr_assert(vm.shadow.tlb_flush);
}

Test(shadow, a_pte_write_updates_exactly_its_entry)
{
	fault_at(VA_USER_DIRTY, PF_U);
	fault_at(VA_USER_CLEAN, PF_U);
	/* Remap VA_USER_DIRTY to pa 0x9000, accessed and dirty: the new
	 * translation is installed at once, no hidden fault needed. */
	guest_wrote(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY),
		    0x9000 | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY) >> PAGE_SHIFT, p2m_lookup(&vm.p2m, 9));
	cr_assert(shadow_lookup(&vm, VA_USER_DIRTY) & PTE_W);
	assert_agrees(VA_USER_DIRTY);
	cr_assert_eq(vm.shadow.tlb_invlpg, VA_USER_DIRTY | 1, "the CPU forgets the old one");
	/* Without the accessed bit the entry waits for an access to set it. */
	guest_wrote(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 0x9000 | PTE_P | PTE_W | PTE_U);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	cr_assert_neq(shadow_lookup(&vm, VA_USER_CLEAN), 0, "its neighbour stays");
}

Test(shadow, page_tables_are_write_protected_wherever_they_are_mapped)
{
	uint32_t pt_alias = VA_LARGE + PT_PA; /* the 4 MiB page maps pa 0 up: PT_PA too */
	struct shadow_fault res;

	/* Before any shadow is built from PT_PA's entries... */
	shadow_flush(&vm);
	guest_wrote(PD_PA + 4 * PDE_INDEX(VA_USER_CLEAN), 0);
	cr_assert_not(shadow_protected(&vm, PT_PA >> PAGE_SHIFT));
	cr_assert_eq(fault_at(pt_alias, PF_W).kind, SHADOW_HIDDEN);
	cr_assert(shadow_lookup(&vm, pt_alias) & PTE_W, "plain data so far");
	/* ...then it becomes a page table: the writable alias turns read-only. */
	put32(PD_PA + 4 * PDE_INDEX(VA_USER_CLEAN), PT_PA | PTE_P | PTE_W | PTE_U);
	cr_assert_eq(fault_at(VA_USER_DIRTY, PF_U).kind, SHADOW_HIDDEN);
	cr_assert(shadow_protected(&vm, PT_PA >> PAGE_SHIFT));
	cr_assert_eq(shadow_lookup(&vm, pt_alias) & PTE_W, 0);
	cr_assert(vm.shadow.tlb_flush, "the CPU may hold the writable one");
	/* A write through it is for the VMM to emulate. */
	res = fault_at(pt_alias, PF_P | PF_W);
	cr_assert_eq(res.kind, SHADOW_PTWRITE);
	cr_assert_eq(res.gpa, PT_PA);
	/* The page directory in CR3 is protected too. */
	cr_assert(shadow_protected(&vm, PD_PA >> PAGE_SHIFT));
	cr_assert_eq(fault_at(VA_LARGE + PD_PA, PF_W).kind, SHADOW_PTWRITE);
}

Test(shadow, a_page_table_reused_as_data_is_unshadowed)
{
	uint64_t before = st.shadow_unshadowed;

	fault_at(VA_USER_DIRTY, PF_U);
	cr_assert(shadow_protected(&vm, PT_PA >> PAGE_SHIFT));
	/* Written again and again, never used in between: data again. */
	for (unsigned i = 0; i <= SHADOW_FLOOD_WRITES; i++)
		guest_wrote(PT_PA + 4 * (100 + i), 0x12345678);
	cr_assert_not(shadow_protected(&vm, PT_PA >> PAGE_SHIFT));
	cr_assert_eq(st.shadow_unshadowed, before + 1);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	/* The page directory in use is never dropped, and cannot be unprotected. */
	for (unsigned i = 0; i <= 2 * SHADOW_FLOOD_WRITES; i++)
		guest_wrote(PD_PA + 4 * (300 + i), 0);
	cr_assert(shadow_protected(&vm, PD_PA >> PAGE_SHIFT));
	cr_assert_not(shadow_unprotect(&vm, PD_PA >> PAGE_SHIFT));
	cr_assert_eq(shadow_check(&vm, stop.detail, sizeof(stop.detail)), 0, "%s", stop.detail);
}

Test(shadow, a_cr3_load_installs_the_cached_shadow)
{
	const uint32_t pd2 = 0x3000;
	uint32_t root1 = shadow_cr3(&vm.shadow), hits = (uint32_t)st.shadow_root_hits;

	fault_at(VA_USER_DIRTY, PF_U);
	fault_at(VA_LARGE, PF_U);
	/* A second address space sharing the first's page table. */
	put32(pd2 + 4 * PDE_INDEX(VA_USER_DIRTY), PT_PA | PTE_P | PTE_W | PTE_U);
	vm.sys.cr3 = pd2;
	cr_assert_not(shadow_load_root(&vm), "built");
	cr_assert_neq(shadow_cr3(&vm.shadow), root1);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0, "not filled in this one yet");
	cr_assert_eq(fault_at(VA_USER_DIRTY, PF_U).kind, SHADOW_HIDDEN);
	/* Back to the first: everything still there, nothing to refill. */
	vm.sys.cr3 = PD_PA;
	cr_assert(shadow_load_root(&vm), "cached");
	cr_assert_eq(shadow_cr3(&vm.shadow), root1);
	cr_assert_eq(st.shadow_root_hits, hits + 1);
	cr_assert_neq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	cr_assert_neq(shadow_lookup(&vm, VA_LARGE), 0);
	cr_assert(vm.shadow.tlb_flush, "the monitor must reload CR3");
	/* A write to the shared page table reaches both address spaces. */
	guest_wrote(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 0);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	vm.sys.cr3 = pd2;
	shadow_load_root(&vm);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_DIRTY), 0);
	/* shadow_flush still empties everything. */
	fault_at(VA_USER_CLEAN, PF_U);
	shadow_flush(&vm);
	cr_assert_eq(shadow_lookup(&vm, VA_USER_CLEAN), 0);
	cr_assert_eq(vm.shadow.npages, 1, "only the root is left");
}

Test(shadow, the_audit_finds_a_write_that_bypassed_the_shadow)
{
	char why[256];

	fault_at(VA_USER_DIRTY, PF_U);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), 0, "%s", why);
	/* A page-table store the VMM never saw: the shadow is stale. */
	put32(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 0x9000 | PTE_P | PTE_U | PTE_A);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), -1);
	cr_assert(strstr(why, "va 0x00402000") && strstr(why, "machine frame"), "%s", why);
	/* A shadow entry with more rights than the guest gives. */
	shadow_guest_wrote(&vm, PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 4);
	fault_at(VA_USER_DIRTY, PF_U);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), 0, "%s", why);
	put32(PT_PA + 4 * PTE_INDEX(VA_USER_DIRTY), 0x9000 | PTE_P | PTE_A);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), -1);
	cr_assert(strstr(why, "user access"), "%s", why);
	/* A root that is not the guest's CR3. */
	vm.sys.cr3 = 0x3000;
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), -1);
	cr_assert(strstr(why, "shadow root"), "%s", why);
}

Test(shadow, paging_off_maps_guest_physical_memory)
{
	vm.sys.cr0 = CR0_PE;
	shadow_load_root(&vm);
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
		if ((rng >> 24) % 16 == 0) { /* mov cr0: trap.c installs that mode's shadow */
			vm.sys.cr0 ^= CR0_WP;
			shadow_load_root(&vm);
		}
		if ((rng >> 24) % 50 == 1)
			shadow_flush(&vm);
		fault_at(va, error);
		cr_assert_not(vm.stopped, "%s", stop.detail);
		for (size_t k = 0; k < sizeof(vas) / sizeof(vas[0]); k++)
			assert_agrees(vas[k] + ((rng >> 8) & 0xffc));
	}
}

/*
 * 150 address spaces, each a directory that maps itself as its own page
 * table: 300 shadow pages, more than this machine's pool holds.  The
 * least recently used go; the current root never does; what is left
 * still agrees with the guest.
 */
Test(shadow, a_full_pool_reclaims_the_least_recently_used)
{
	char why[256];

	for (uint32_t i = 0; i < 150; i++) {
		uint32_t pd = (0x40 + i) << PAGE_SHIFT;

		put32(pd + 4 * 1, pd | PTE_P | PTE_W | PTE_U);
		vm.sys.cr3 = pd;
		shadow_load_root(&vm);
		cr_assert_eq(fault_at(0x00401000, PF_U).kind, SHADOW_HIDDEN, "pd %u: %s", i,
			     stop.detail);
		assert_agrees(0x00401000);
		cr_assert_eq(shadow_check(&vm, why, sizeof(why)), 0, "%s", why);
	}
	cr_assert_gt(st.shadow_evictions, 0);
	cr_assert_not(vm.stopped, "%s", stop.detail);
	/* The first address space was reclaimed: built again, and it works. */
	vm.sys.cr3 = 0x40 << PAGE_SHIFT;
	cr_assert_not(shadow_load_root(&vm));
	cr_assert_eq(fault_at(0x00401000, PF_U).kind, SHADOW_HIDDEN);
	assert_agrees(0x00401000);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), 0, "%s", why);
}

/*
 * The randomized differential test.  A small guest with three page
 * directories and five page tables, all reachable through a 4 MiB
 * "direct map" at 0xc0000000 (as a real kernel has), runs a random
 * program: stores of random entries into its page tables and
 * directories (any frame, its own page tables included; any flags),
 * CR3 loads, invlpg, CR0.WP flips, and loads and stores at random
 * addresses.  The CPU is modelled faithfully: an access the shadow
 * allows goes straight to machine memory, without the VMM - so a page
 * table the shadow forgot to protect goes stale - and any other access
 * is a page fault handled as trap.c handles it.  After every step, every
 * shadow entry of every address the guest can use must agree with the
 * reference walk, and the audit (shadow_check) must agree too.
 */
#define RND_DIRECT  0xc0000000u /* guest-physical 0 up, supervisor, writable */
#define RND_PD(i)   (0x10000u + (i)*PAGE_SIZE)
#define RND_PT(i)   (0x13000u + (i)*PAGE_SIZE)
#define RND_NPD	    3u
#define RND_NPT	    5u
#define RND_SLOTS   4u	/* user slots 0-3 */
#define RND_ENTRIES 16u /* entries 0-15 of each table */

static uint32_t rnd_state = 0x9e3779b9u;
static unsigned rnd_ptwrites; /* stores the shadow made us emulate */

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 17, rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

static uint32_t rnd_flags(void)
{
	static const uint32_t bits[] = {PTE_P, PTE_W, PTE_U, PTE_A, PTE_D};
	uint32_t f = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (rnd(4))
			f |= bits[i];
	return f;
}

/* A frame for an entry to point at: data, a page table or a directory.
 * (Every frame is inside the guest's memory: a page table outside it
 * stops the guest, which other tests check.) */
static uint32_t rnd_frame(void)
{
	switch (rnd(8)) {
	case 0:
		return RND_PT(rnd(RND_NPT));
	case 1:
		return RND_PD(rnd(RND_NPD));
	default:
		return 0x20000u + rnd(32) * PAGE_SIZE;
	}
}

static uint32_t rnd_va(void)
{
	if (!rnd(8)) /* the guest's own page tables, through the direct map */
		return RND_DIRECT + (rnd(2) ? RND_PT(rnd(RND_NPT)) : RND_PD(rnd(RND_NPD))) +
		       4 * rnd(RND_ENTRIES);
	return rnd(RND_SLOTS) << 22 | rnd(RND_ENTRIES) << PAGE_SHIFT | 4 * rnd(1024);
}

/*
 * One guest access, as the CPU and trap.c would do it: through the shadow
 * if it allows the access, else a page fault: filled and retried, a store
 * to a page table emulated, or a true fault (the guest's handler would
 * run; we drop the access).
 */
static void rnd_access(uint32_t va, uint32_t error, uint32_t value)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t spte = shadow_lookup(&vm, va), need = PTE_P;
		struct shadow_fault res;
		struct emulate_fault fault;

		need |= error & PF_W ? PTE_W : 0;
		need |= error & PF_U ? PTE_U : 0;
		if ((spte & need) == need) { /* the CPU, no VMM */
			uint8_t *p = machine_frame_mem(&m, spte >> PAGE_SHIFT) + (va & ~PAGE_MASK);

			if (error & PF_W)
				memcpy(p, &value, 4);
			return;
		}
		res = fault_at(va, error | (spte & PTE_P ? PF_P : 0));
		cr_assert_neq(res.kind, SHADOW_STOP, "%s", stop.detail);
		if (res.kind == SHADOW_PTWRITE) {
			rnd_ptwrites++;
			cr_assert_eq(vm_write_virt(&vm, va, &value, 4, error & PF_U, &fault), 0);
			return;
		}
		if (res.kind != SHADOW_HIDDEN)
			return;
	}
	cr_assert_fail("0x%08x: still faulting after a fill", va);
}

static void rnd_build(void)
{
	for (uint32_t d = 0; d < RND_NPD; d++) {
		put32(RND_PD(d) + 4 * PDE_INDEX(RND_DIRECT), 0 | PTE_P | PTE_W | PTE_PS);
		for (uint32_t s = 0; s < RND_SLOTS; s++)
			put32(RND_PD(d) + 4 * s, RND_PT((d + s) % RND_NPT) | PTE_P | PTE_W | PTE_U);
	}
	vm.sys.cr3 = RND_PD(0);
	shadow_load_root(&vm);
}

static void rnd_step(void)
{
	uint32_t at;

	switch (rnd(10)) {
	case 0: /* a page-table entry */
		at = RND_PT(rnd(RND_NPT)) + 4 * rnd(RND_ENTRIES);
		rnd_access(RND_DIRECT + at, PF_W, rnd_frame() | rnd_flags());
		break;
	case 1: /* a page-directory entry: a table, a 4 MiB page, or nothing */
		at = RND_PD(rnd(RND_NPD)) + 4 * rnd(RND_SLOTS);
		rnd_access(RND_DIRECT + at, PF_W,
			   rnd(4) ? RND_PT(rnd(RND_NPT)) | rnd_flags()
				  : (rnd(2) ? 0 : 0x00400000u) | PTE_PS | rnd_flags());
		break;
	case 2:
		vm.sys.cr3 = RND_PD(rnd(RND_NPD));
		shadow_load_root(&vm);
		break;
	case 3:
		shadow_invlpg(&vm, rnd_va());
		break;
	case 4:
		if (!rnd(4)) {
			vm.sys.cr0 ^= CR0_WP;
			shadow_load_root(&vm);
		}
		break;
	default:
		/* Data stores too look like entries: through an alias they may
		 * land in a page table. */
		rnd_access(rnd_va(), rnd(2) * PF_W | rnd(2) * PF_U, rnd_frame() | rnd_flags());
		break;
	}
}

static void rnd_assert_all_agree(void)
{
	char why[256];

	for (uint32_t s = 0; s < RND_SLOTS; s++)
		for (uint32_t e = 0; e < RND_ENTRIES; e++)
			assert_agrees(s << 22 | e << PAGE_SHIFT);
	for (uint32_t off = 0; off < 0x20000u; off += PAGE_SIZE)
		assert_agrees(RND_DIRECT + off);
	cr_assert_eq(shadow_check(&vm, why, sizeof(why)), 0, "%s", why);
}

Test(shadow, random_programs_agree_with_the_reference_walk)
{
	rnd_build();
	for (int step = 0; step < 20000; step++) {
		rnd_step();
		cr_assert_not(vm.stopped, "step %d: %s", step, stop.detail);
		rnd_assert_all_agree();
	}
	/* The program exercised what it is about. */
	cr_assert_gt(rnd_ptwrites, 1000, "%u page-table stores", rnd_ptwrites);
	cr_assert_gt(st.shadow_unshadowed, 10);
	cr_assert_gt(st.shadow_root_hits, 1000);
}
