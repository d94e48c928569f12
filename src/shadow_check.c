/*
 * shadow_check.c - --check-shadow: audit the shadow against the truth.
 *
 * A shadow that persists is only as good as its coherence: one missed
 * page-table write and the guest runs on a translation it removed.  This
 * audit recomputes, from scratch, what every present entry of the shadow
 * the CPU is about to use may say, and stops at the first that says more:
 *
 *   - the root must shadow the guest's CR3 in the current paging mode;
 *   - each linked page table must be the one the guest's PDE names now
 *     (its frame, or its 4 MiB page) with the PDE's rights;
 *   - each present entry must map the machine frame behind the
 *     guest-physical page that a fresh walk of the guest's tables finds
 *     (the all-ones page where there is no memory), with U only where the
 *     guest allows user access, and W only where the guest allows the
 *     write (or CR0.WP is clear and the entry is supervisor-only), its
 *     accessed and dirty bits are set, and the frame is neither a page
 *     table we shadow nor kernel code we patched.
 *
 * The audit reads the guest's tables itself (not through ptwalk), sets no
 * bits, and trusts nothing the shadow code computed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow.h"
#include "vm.h"

__attribute__((format(printf, 3, 4))) static int shadow_check_fail(char *why, size_t size,
								   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

static int shadow_check_root(const struct vm *vm, char *why, size_t size)
{
	const struct shadow_page *root = &vm->shadow.page[vm->shadow.root];
	bool paging = vm->sys.cr0 & CR0_PG;

	if (!(root->role & SHADOW_ROLE_PD) ||
	    (paging
		 ? root->gfn != vm->sys.cr3 >> PAGE_SHIFT || (root->role & SHADOW_ROLE_NOPAGING) ||
		       !(root->role & SHADOW_ROLE_WP) != !(vm->sys.cr0 & CR0_WP) ||
		       !(root->role & SHADOW_ROLE_PSE) != !(vm->sys.cr4 & CR4_PSE)
		 : !(root->role & SHADOW_ROLE_NOPAGING)))
		return shadow_check_fail(
		    why, size,
		    "the shadow root (guest frame 0x%x, role 0x%x) is not that "
		    "of cr0=0x%08x cr3=0x%08x cr4=0x%08x",
		    root->gfn, root->role, vm->sys.cr0, vm->sys.cr3, vm->sys.cr4);
	return 0;
}

/*
 * What the guest's tables say about one 4 MiB slot (its PDE) and then one
 * page in it: read straight from guest memory, as the CPU's walker would,
 * without ptwalk() and without setting any bit.  One PDE read per slot
 * and one PTE read per entry keeps the audit fast enough to run at every
 * trap.
 */
struct shadow_check_walk {
	bool paging, large;
	uint32_t pde, pte; /* pte: the leaf (the PDE of a 4 MiB page) */
	uint32_t gpa;
	bool user, writable, accessed, dirty;
};

static int shadow_check_read(const struct vm *vm, uint32_t gpa, uint32_t *v)
{
	const uint8_t *p = (gpa & 3) ? NULL : vm_phys_resident(vm, gpa);

	if (!p)
		return -1;
	memcpy(v, p, 4);
	return 0;
}

/* The slot's PDE; -1 if it does not map the slot at all. */
static int shadow_check_pde(const struct vm *vm, unsigned slot, struct shadow_check_walk *w)
{
	*w = (struct shadow_check_walk){.paging = vm->sys.cr0 & CR0_PG};
	if (!w->paging)
		return 0;
	if (shadow_check_read(vm, (vm->sys.cr3 & PAGE_MASK) + 4 * slot, &w->pde) ||
	    !(w->pde & PTE_P))
		return -1;
	w->large = (vm->sys.cr4 & CR4_PSE) && (w->pde & PTE_PS);
	if (w->large && (w->pde & 0x003fe000u)) /* reserved bits of a 4 MiB PDE */
		return -1;
	return 0;
}

/* Page e of the slot; -1 if the guest maps nothing there. */
static int shadow_check_page(const struct vm *vm, unsigned slot, unsigned e,
			     struct shadow_check_walk *w)
{
	uint32_t va = slot << 22 | e << PAGE_SHIFT;

	if (!w->paging) {
		w->gpa = va;
		w->user = w->writable = w->accessed = w->dirty = true;
		return 0;
	}
	if (w->large) {
		w->pte = w->pde;
		w->gpa = (w->pde & 0xffc00000u) | (va & 0x003ff000u);
	} else {
		if (shadow_check_read(vm, (w->pde & PAGE_MASK) + 4 * e, &w->pte) ||
		    !(w->pte & PTE_P))
			return -1;
		w->gpa = w->pte & PAGE_MASK;
	}
	w->user = (w->pde & PTE_U) && (w->pte & PTE_U);
	w->writable = (w->pde & PTE_W) && (w->pte & PTE_W);
	w->accessed = (w->pde & PTE_A) && (w->pte & PTE_A);
	w->dirty = w->pte & PTE_D;
	return 0;
}

/* The slot's link against the guest's PDE. */
static int shadow_check_link(const struct shadow_page *pt, const struct shadow_check_walk *w,
			     unsigned slot, char *why, size_t size)
{
	bool direct = !w->paging || w->large;
	uint32_t gfn = !w->paging ? slot << 10
		       : w->large ? (w->pde & 0xffc00000u) >> PAGE_SHIFT
				  : w->pde >> PAGE_SHIFT;
	bool user = !w->paging || (w->pde & PTE_U);
	bool write = !w->paging || (w->pde & PTE_W);
	bool dirty = !w->paging || (w->pde & PTE_D);

	/* Fewer rights than the PDE's are fine (a 4 MiB page whose D bit the
	 * VMM set since is relinked at its next write fault); more are not. */
	if (pt->gfn != gfn || !(pt->role & SHADOW_ROLE_DIRECT) != !direct ||
	    ((pt->role & SHADOW_ROLE_USER) && !user) ||
	    ((pt->role & SHADOW_ROLE_WRITE) && !write) ||
	    (direct && (pt->role & SHADOW_ROLE_DIRTY) && !dirty))
		return shadow_check_fail(
		    why, size,
		    "va 0x%08x: the shadow links page table (guest frame 0x%x, "
		    "role 0x%x), but the guest's pde is 0x%08x",
		    slot << 22, pt->gfn, pt->role, w->pde);
	return 0;
}

/* One present shadow entry, against the guest's page w. */
static int shadow_check_entry(const struct vm *vm, uint32_t va, uint32_t spte,
			      const struct shadow_check_walk *w, char *why, size_t size)
{
	uint32_t gfn = w->gpa >> PAGE_SHIFT, want = p2m_lookup(&vm->p2m, gfn);
	bool may_write;

	if (!want)
		want = vm->shadow.ones;
	if (spte >> PAGE_SHIFT != want)
		return shadow_check_fail(
		    why, size,
		    "va 0x%08x: shadow pte 0x%08x maps machine frame 0x%x; the "
		    "guest maps pa 0x%08x, machine frame 0x%x",
		    va, spte, spte >> PAGE_SHIFT, w->gpa, want);
	if ((spte & PTE_U) && !w->user)
		return shadow_check_fail(why, size,
					 "va 0x%08x: shadow pte 0x%08x allows user access; the "
					 "guest's pde 0x%08x / pte 0x%08x do not",
					 va, spte, w->pde, w->pte);
	if (!w->accessed)
		return shadow_check_fail(why, size,
					 "va 0x%08x: shadow pte 0x%08x present, but the guest's "
					 "accessed bit is clear (pde 0x%08x, pte 0x%08x)",
					 va, spte, w->pde, w->pte);
	if (!(spte & PTE_W))
		return 0;
	may_write = w->dirty && (w->writable || (!(vm->sys.cr0 & CR0_WP) && !(spte & PTE_U)));
	if (!may_write || want == vm->shadow.ones || !shadow_may_write(vm, gfn))
		return shadow_check_fail(why, size,
					 "va 0x%08x: shadow pte 0x%08x is writable, but pa 0x%08x "
					 "may not be written directly (guest pte 0x%08x, %s)",
					 va, spte, w->gpa, w->pte,
					 shadow_protected(vm, gfn)		? "a shadowed page table"
					 : patch_in_frame(&vm->patch, gfn) ? "patched kernel code"
									   : "guest rights");
	return 0;
}

/* Every present entry under one slot of the root. */
static int shadow_check_slot(struct vm *vm, unsigned slot, const struct shadow_page *pt, char *why,
			     size_t size)
{
	const uint32_t *e = (const uint32_t *)machine_frame_mem(vm->m, pt->mfn);
	struct shadow_check_walk w;
	bool mapped = !shadow_check_pde(vm, slot, &w);

	if (mapped && shadow_check_link(pt, &w, slot, why, size))
		return -1;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint32_t va = slot << 22 | i << PAGE_SHIFT;

		if (!(e[i] & PTE_P))
			continue;
		if (!mapped || shadow_check_page(vm, slot, i, &w))
			return shadow_check_fail(why, size,
						 "va 0x%08x: shadow pte 0x%08x, but the guest's "
						 "tables do not map it (pde 0x%08x, pte 0x%08x)",
						 va, e[i], w.pde, w.pte);
		if (shadow_check_entry(vm, va, e[i], &w, why, size))
			return -1;
	}
	return 0;
}

/*
 * Checking 16,000 entries at each of 100,000 traps would take hours, so
 * the audit remembers what it verified.  A page table whose shadow bytes,
 * guest bytes (or, for a 4 MiB page, guest PDE) and context are exactly
 * as they were when it last passed cannot have gone wrong since, and is
 * skipped; anything else is checked entry by entry.  The context includes
 * a generation that changes whenever any frame becomes or stops being a
 * protected page table: that changes which entries may be writable
 * without changing a byte of either table.
 */
struct shadow_check_snap {
	bool valid;
	uint32_t mfn, gfn, role; /* which shadow page it was */
	uint32_t pde, cr0, cr4;
	uint64_t gen;
	uint32_t shadow[PT_ENTRIES];
	uint32_t guest[PT_ENTRIES];
};

void shadow_check_free(struct shadow *sh)
{
	free(sh->check_snap);
	sh->check_snap = NULL;
}

/* The guest table behind a non-direct shadow page table, or NULL. */
static const uint32_t *shadow_check_guest_table(const struct vm *vm, const struct shadow_page *pt)
{
	if (pt->role & SHADOW_ROLE_DIRECT)
		return NULL;
	return (const uint32_t *)vm_phys_resident(vm, pt->gfn << PAGE_SHIFT);
}

static bool shadow_check_unchanged(const struct vm *vm, const struct shadow_check_snap *snap,
				   const struct shadow_page *pt, uint32_t pde)
{
	const uint32_t *g = shadow_check_guest_table(vm, pt);

	return snap->valid && snap->mfn == pt->mfn && snap->gfn == pt->gfn &&
	       snap->role == pt->role && snap->pde == pde && snap->cr0 == vm->sys.cr0 &&
	       snap->cr4 == vm->sys.cr4 && snap->gen == vm->shadow.protect_gen &&
	       !memcmp(snap->shadow, machine_frame_mem(vm->m, pt->mfn), PAGE_SIZE) &&
	       (!g || !memcmp(snap->guest, g, PAGE_SIZE));
}

static void shadow_check_remember(const struct vm *vm, struct shadow_check_snap *snap,
				  const struct shadow_page *pt, uint32_t pde)
{
	const uint32_t *g = shadow_check_guest_table(vm, pt);

	*snap = (struct shadow_check_snap){.valid = true,
					   .mfn = pt->mfn,
					   .gfn = pt->gfn,
					   .role = pt->role,
					   .pde = pde,
					   .cr0 = vm->sys.cr0,
					   .cr4 = vm->sys.cr4,
					   .gen = vm->shadow.protect_gen};
	memcpy(snap->shadow, machine_frame_mem(vm->m, pt->mfn), PAGE_SIZE);
	if (g)
		memcpy(snap->guest, g, PAGE_SIZE);
}

/* The root's own entries: each what its bookkeeping says, the last the monitor's. */
static int shadow_check_root_entries(const struct vm *vm, char *why, size_t size)
{
	const struct shadow *sh = &vm->shadow;
	const struct shadow_page *root = &sh->page[sh->root];
	const uint32_t *pd = (const uint32_t *)machine_frame_mem(vm->m, root->mfn);

	for (unsigned slot = 0; slot < PT_ENTRIES; slot++) {
		uint32_t want = 0;

		if (slot == SHADOW_GUEST_PDES)
			want = vm->m->monitor_pt << PAGE_SHIFT | PTE_P | PTE_W;
		else if (root->child[slot] != SHADOW_NONE)
			want =
			    sh->page[root->child[slot]].mfn << PAGE_SHIFT | PTE_P | PTE_W | PTE_U;
		if ((pd[slot] & ~(PTE_A | PTE_D)) != want) /* the CPU sets A in them */
			return shadow_check_fail(
			    why, size, "shadow pde %u of the root is 0x%08x, should be 0x%08x",
			    slot, pd[slot], want);
	}
	return 0;
}

int shadow_check(struct vm *vm, char *why, size_t size)
{
	struct shadow *sh = &vm->shadow;
	const struct shadow_page *root = &sh->page[sh->root];
	uint32_t pde;

	/*
	 * While one instruction runs a single step with a page table exempt
	 * from write protection (trap.c's fallback for stores we cannot
	 * emulate), the shadow of that page may lag behind it, as a TLB may
	 * lag behind a page table until invlpg; the entries are brought up
	 * to date when the step ends (shadow_exempt_end), and the next audit
	 * checks them.  A rep store traps after every iteration, so this
	 * audit would otherwise catch the lag in the middle of the step
	 * (found by the guest fuzzer, seed 9).
	 */
	if (sh->exempt)
		return 0;
	if (shadow_check_root(vm, why, size) || shadow_check_root_entries(vm, why, size))
		return -1;
	if (!sh->check_snap &&
	    !(sh->check_snap = calloc(SHADOW_MAX_PAGES, sizeof(*sh->check_snap))))
		return shadow_check_fail(why, size, "out of memory for the audit");
	for (unsigned slot = 0; slot < SHADOW_GUEST_PDES; slot++) {
		int32_t c = root->child[slot];
		struct shadow_check_snap *snap;

		if (c == SHADOW_NONE)
			continue;
		snap = &sh->check_snap[c];
		pde = 0;
		if (vm->sys.cr0 & CR0_PG)
			shadow_check_read(vm, (vm->sys.cr3 & PAGE_MASK) + 4 * slot, &pde);
		if (shadow_check_unchanged(vm, snap, &sh->page[c], pde))
			continue;
		if (shadow_check_slot(vm, slot, &sh->page[c], why, size)) {
			snap->valid = false;
			return -1;
		}
		shadow_check_remember(vm, snap, &sh->page[c], pde);
	}
	return 0;
}
