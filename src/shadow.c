/*
 * shadow.c - shadow page tables that persist (see shadow.h).
 *
 * A hidden page fault is the VMM's TLB miss.  The CPU faulted because the
 * shadow has no entry (or too weak an entry) for the address; if the
 * guest's own tables allow the access, we do what a hardware page walker
 * does on a TLB miss - walk the guest's tables, set their accessed and
 * dirty bits - and then what only a VMM does: translate the guest's
 * "physical" frame to a machine frame and install the result.  If the
 * guest's tables do not allow the access, the fault is true and goes to
 * the guest, as on hardware.
 *
 * What makes the result worth keeping is coherence.  Every guest table a
 * shadow table is built from is write-protected: the moment a shadow page
 * for guest frame F exists, every shadow entry that maps F (the reverse
 * map finds them) loses its W bit, and entries installed later never get
 * it.  So a guest store to a page table faults; trap.c emulates it
 * (ptwrite) and tells us which bytes changed, and we update the shadow
 * entries built from them.  Between those writes the shadow cannot go
 * stale, so a CR3 load can install the shadow it had last time.
 *
 * The shadow is a cache and may drop anything at any time: a page table
 * nobody seems to use any more (write flooding), the least recently used
 * shadow page when the pool is full.  Dropping only costs hidden faults.
 */
#include <stdlib.h>
#include <string.h>

#include "shadow.h"
#include "vm.h"

/* --- Shadow pages ---------------------------------------------------------- */

uint32_t shadow_cr3(const struct shadow *sh)
{
	return sh->page[sh->root].mfn << PAGE_SHIFT;
}

static uint32_t *shadow_table(const struct vm *vm, uint32_t mfn)
{
	return (uint32_t *)machine_frame_mem(vm->m, mfn);
}

static uint32_t shadow_hash(uint32_t gfn)
{
	return (gfn * 2654435761u) >> 22; /* SHADOW_HASH_SIZE buckets */
}

static int32_t shadow_find(const struct shadow *sh, uint32_t gfn, uint32_t role)
{
	for (int32_t i = sh->hash[shadow_hash(gfn)]; i != SHADOW_NONE; i = sh->page[i].hash_next)
		if (sh->page[i].gfn == gfn && sh->page[i].role == role)
			return i;
	return SHADOW_NONE;
}

static void shadow_touch(struct shadow *sh, int32_t i)
{
	sh->page[i].last_used = ++sh->clock;
	sh->page[i].writes = 0;
}

bool shadow_protected(const struct vm *vm, uint32_t gfn)
{
	return gfn < vm->shadow.nframes && vm->shadow.protect[gfn] && gfn + 1 != vm->shadow.exempt;
}

bool shadow_may_write(const struct vm *vm, uint32_t gfn)
{
	if (gfn + 1 == vm->shadow.exempt)
		return true;
	return !shadow_protected(vm, gfn) && !patch_in_frame(&vm->patch, gfn);
}

/* One page for the monitor's invlpg; two in one trap flush everything. */
static void shadow_tlb_invlpg(struct shadow *sh, uint32_t va)
{
	if (sh->tlb_invlpg && (sh->tlb_invlpg & PAGE_MASK) != (va & PAGE_MASK))
		sh->tlb_flush = true;
	sh->tlb_invlpg = (va & PAGE_MASK) | 1;
}

/* The guest frame a shadow entry maps, or -1 (the all-ones page). */
static int64_t shadow_entry_gfn(const struct vm *vm, uint32_t spte)
{
	const struct p2m_frame *f = p2m_pool_frame(&vm->m->pool, spte >> PAGE_SHIFT);

	if (!f || !f->used || f->owner != &vm->p2m)
		return -1;
	return f->pfn;
}

/* The one place a shadow page-table entry changes: the reverse map
 * follows.  -1 if the reverse map ran out of memory (entry left empty). */
static int shadow_set_entry(struct vm *vm, int32_t i, unsigned e, uint32_t spte)
{
	struct shadow *sh = &vm->shadow;
	uint32_t *pt = shadow_table(vm, sh->page[i].mfn), ref = (uint32_t)i << 10 | e;
	int64_t gfn;

	if ((pt[e] & PTE_P) && (gfn = shadow_entry_gfn(vm, pt[e])) >= 0)
		rmap_remove(&sh->rmap, (uint32_t)gfn, ref);
	pt[e] = 0;
	if (!(spte & PTE_P))
		return 0;
	gfn = shadow_entry_gfn(vm, spte);
	if (gfn >= 0 && rmap_add(&sh->rmap, (uint32_t)gfn, ref))
		return -1;
	pt[e] = spte;
	return 0;
}

/* Take slot 'slot' of page directory p away from its page table. */
static void shadow_unlink(struct vm *vm, int32_t p, unsigned slot)
{
	struct shadow *sh = &vm->shadow;
	struct shadow_page *child;
	int32_t c = sh->page[p].child[slot];
	uint32_t ref = (uint32_t)p << 10 | slot;

	if (c == SHADOW_NONE)
		return;
	child = &sh->page[c];
	for (uint32_t k = 0; k < child->nparents; k++)
		if (child->parents[k] == ref) {
			child->parents[k] = child->parents[--child->nparents];
			break;
		}
	shadow_table(vm, sh->page[p].mfn)[slot] = 0;
	sh->page[p].child[slot] = SHADOW_NONE;
	if (p == sh->root) /* up to 1024 of the CPU's TLB entries came through it */
		sh->tlb_flush = true;
}

static int shadow_link(struct vm *vm, int32_t p, unsigned slot, int32_t c)
{
	struct shadow *sh = &vm->shadow;
	struct shadow_page *child = &sh->page[c];

	if (child->nparents == child->parents_cap) {
		uint32_t cap = child->parents_cap ? 2 * child->parents_cap : 4;
		uint32_t *grown = realloc(child->parents, cap * sizeof(*grown));

		if (!grown)
			return -1;
		child->parents = grown;
		child->parents_cap = cap;
	}
	child->parents[child->nparents++] = (uint32_t)p << 10 | slot;
	sh->page[p].child[slot] = (int16_t)c;
	/* The PDE allows everything; the PTEs decide. */
	shadow_table(vm, sh->page[p].mfn)[slot] = child->mfn << PAGE_SHIFT | PTE_P | PTE_W | PTE_U;
	return 0;
}

static void shadow_hash_remove(struct shadow *sh, int32_t i)
{
	int32_t *link = &sh->hash[shadow_hash(sh->page[i].gfn)];

	while (*link != i)
		link = &sh->page[*link].hash_next;
	*link = sh->page[i].hash_next;
}

/* Forget shadow page i entirely: its links, its entries, its frame. */
static void shadow_zap(struct vm *vm, int32_t i)
{
	struct shadow *sh = &vm->shadow;
	struct shadow_page *sp = &sh->page[i];

	if (sp->role & SHADOW_ROLE_PD) {
		for (unsigned slot = 0; slot < SHADOW_GUEST_PDES; slot++)
			shadow_unlink(vm, i, slot);
		free(sp->child);
	} else {
		while (sp->nparents) {
			uint32_t ref = sp->parents[0];

			shadow_unlink(vm, (int32_t)(ref >> 10), ref & 0x3ff);
		}
		for (unsigned e = 0; e < PT_ENTRIES; e++)
			shadow_set_entry(vm, i, e, 0);
		free(sp->parents);
	}
	shadow_hash_remove(sh, i);
	if (!(sp->role & SHADOW_ROLE_DIRECT) && sp->gfn < sh->nframes && !--sh->protect[sp->gfn])
		sh->protect_gen++;
	p2m_pool_free(&vm->m->pool, sp->mfn);
	*sp = (struct shadow_page){0};
	sh->npages--;
	/* No TLB flush of our own: the CPU's TLB holds only what the root
	 * maps, and unlinking from the root flushed that. */
}

/* Make room: drop the least recently used page that is not the root. */
static bool shadow_reclaim(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;
	int32_t victim = SHADOW_NONE;

	for (int32_t i = 0; i < (int32_t)SHADOW_MAX_PAGES; i++)
		if (sh->page[i].mfn && i != sh->root &&
		    (victim == SHADOW_NONE || sh->page[i].last_used < sh->page[victim].last_used))
			victim = i;
	if (victim == SHADOW_NONE)
		return false;
	shadow_zap(vm, victim);
	vm->st->shadow_evictions++;
	return true;
}

/*
 * The CPU's TLB holds translations of the current root only (a CR3 load
 * flushes it), so entry e of page table i is cached, if at all, at the
 * addresses where the root links i.
 */
static void shadow_tlb_forget(struct vm *vm, int32_t i, unsigned e)
{
	struct shadow *sh = &vm->shadow;
	const struct shadow_page *sp = &sh->page[i];

	for (uint32_t k = 0; k < sp->nparents; k++)
		if ((int32_t)(sp->parents[k] >> 10) == sh->root)
			shadow_tlb_invlpg(sh, (sp->parents[k] & 0x3ff) << 22 | e << PAGE_SHIFT);
}

/*
 * Frame gfn is becoming a page table in the shadow's eyes: no shadow
 * entry may map it writable any more, wherever it is.
 */
static void shadow_write_protect(struct vm *vm, uint32_t gfn)
{
	struct shadow *sh = &vm->shadow;
	const struct rmap_set *s = rmap_of(&sh->rmap, gfn);

	for (uint32_t k = 0; s && k < s->n; k++) {
		uint32_t ref = s->ref[k];
		uint32_t *pt = shadow_table(vm, sh->page[ref >> 10].mfn);

		if (pt[ref & 0x3ff] & PTE_W) {
			pt[ref & 0x3ff] &= ~(PTE_W | PTE_D);
			shadow_tlb_forget(vm, (int32_t)(ref >> 10), ref & 0x3ff);
		}
	}
}

/* A free slot and a zeroed machine frame for a new shadow page. */
static int32_t shadow_alloc(struct vm *vm, uint32_t *mfn)
{
	struct shadow *sh = &vm->shadow;

	for (;;) {
		if (sh->npages < SHADOW_MAX_PAGES && (*mfn = p2m_pool_alloc(&vm->m->pool, NULL, 0)))
			break;
		if (!shadow_reclaim(vm))
			return SHADOW_NONE;
	}
	for (int32_t i = 0; i < (int32_t)SHADOW_MAX_PAGES; i++)
		if (!sh->page[i].mfn)
			return i;
	p2m_pool_free(&vm->m->pool, *mfn); /* not reached: npages counts the used slots */
	return SHADOW_NONE;
}

/* The shadow page for (gfn, role), built empty if there is none. */
static int32_t shadow_get(struct vm *vm, uint32_t gfn, uint32_t role)
{
	struct shadow *sh = &vm->shadow;
	int32_t i = shadow_find(sh, gfn, role);
	struct shadow_page *sp;
	uint32_t mfn;

	if (i != SHADOW_NONE)
		return i;
	i = shadow_alloc(vm, &mfn);
	if (i == SHADOW_NONE)
		return SHADOW_NONE;
	sp = &sh->page[i];
	*sp = (struct shadow_page){.mfn = mfn, .gfn = gfn, .role = role};
	if (role & SHADOW_ROLE_PD) {
		sp->child = malloc(SHADOW_GUEST_PDES * sizeof(*sp->child));
		if (!sp->child) {
			p2m_pool_free(&vm->m->pool, mfn);
			*sp = (struct shadow_page){0};
			return SHADOW_NONE;
		}
		for (unsigned slot = 0; slot < SHADOW_GUEST_PDES; slot++)
			sp->child[slot] = SHADOW_NONE;
		/* The monitor's page table, in the last slot of every directory. */
		shadow_table(vm, mfn)[PT_ENTRIES - 1] =
		    vm->m->monitor_pt << PAGE_SHIFT | PTE_P | PTE_W;
	}
	sp->hash_next = sh->hash[shadow_hash(gfn)];
	sh->hash[shadow_hash(gfn)] = i;
	sh->npages++;
	shadow_touch(sh, i);
	if (!(role & SHADOW_ROLE_DIRECT) && gfn < sh->nframes && !sh->protect[gfn]++) {
		sh->protect_gen++;
		shadow_write_protect(vm, gfn);
	}
	return i;
}

/* --- The root: one shadow page directory per address space --------------- */

/* The role bits every shadow page of the current paging mode carries. */
static uint32_t shadow_mode_role(const struct vm *vm)
{
	uint32_t role = 0;

	if (!(vm->sys.cr0 & CR0_PG))
		return SHADOW_ROLE_NOPAGING;
	if (vm->sys.cr0 & CR0_WP)
		role |= SHADOW_ROLE_WP;
	if (vm->sys.cr4 & CR4_PSE)
		role |= SHADOW_ROLE_PSE;
	return role;
}

bool shadow_load_root(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;
	uint32_t role = shadow_mode_role(vm) | SHADOW_ROLE_PD, gfn = vm->sys.cr3 >> PAGE_SHIFT;
	int32_t i;
	bool hit;

	if (role & SHADOW_ROLE_NOPAGING) { /* one identity map, no guest table */
		role |= SHADOW_ROLE_DIRECT;
		gfn = 0;
	}
	i = shadow_find(sh, gfn, role);
	hit = i != SHADOW_NONE;
	if (!hit)
		i = shadow_get(vm, gfn, role); /* may reclaim anything but the old root */
	if (i == SHADOW_NONE) {
		vm_stop(vm, VCPU_STOP_VMM_ERROR,
			"no machine frame left for a shadow page directory");
		return false;
	}
	sh->root = i;
	shadow_touch(sh, i);
	sh->tlb_flush = true;
	if (hit)
		vm->st->shadow_root_hits++;
	else
		vm->st->shadow_roots_built++;
	return hit;
}

int shadow_init(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;

	memset(sh, 0, sizeof(*sh));
	sh->root = SHADOW_NONE;
	for (unsigned b = 0; b < SHADOW_HASH_SIZE; b++)
		sh->hash[b] = SHADOW_NONE;
	sh->nframes = vm->p2m.nr_pfns;
	sh->protect = calloc(sh->nframes ? sh->nframes : 1, sizeof(*sh->protect));
	sh->ones = p2m_pool_alloc(&vm->m->pool, NULL, 0);
	if (!sh->protect || !sh->ones || rmap_init(&sh->rmap, sh->nframes))
		return -1;
	memset(machine_frame_mem(vm->m, sh->ones), 0xff, PAGE_SIZE);
	shadow_load_root(vm);
	return sh->root == SHADOW_NONE ? -1 : 0;
}

void shadow_destroy(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;

	for (int32_t i = 0; i < (int32_t)SHADOW_MAX_PAGES; i++)
		if (sh->page[i].mfn && (sh->page[i].role & SHADOW_ROLE_PD))
			shadow_zap(vm, i);
	for (int32_t i = 0; i < (int32_t)SHADOW_MAX_PAGES; i++)
		if (sh->page[i].mfn)
			shadow_zap(vm, i);
	if (sh->ones)
		p2m_pool_free(&vm->m->pool, sh->ones);
	free(sh->protect);
	rmap_destroy(&sh->rmap);
	shadow_check_free(sh);
	memset(sh, 0, sizeof(*sh));
	sh->root = SHADOW_NONE;
}

void shadow_flush(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;

	for (int32_t i = 0; i < (int32_t)SHADOW_MAX_PAGES; i++)
		if (sh->page[i].mfn && i != sh->root)
			shadow_zap(vm, i);
	for (unsigned slot = 0; slot < SHADOW_GUEST_PDES; slot++)
		shadow_unlink(vm, sh->root, slot);
	sh->tlb_flush = true;
	vm->st->shadow_flushes++;
}

void shadow_invlpg(struct vm *vm, uint32_t va)
{
	struct shadow *sh = &vm->shadow;
	int32_t c;

	shadow_touch(sh, sh->root);
	if (PDE_INDEX(va) < SHADOW_GUEST_PDES &&
	    (c = sh->page[sh->root].child[PDE_INDEX(va)]) != SHADOW_NONE)
		shadow_touch(sh, c);
}

uint32_t shadow_lookup(const struct vm *vm, uint32_t va)
{
	const struct shadow *sh = &vm->shadow;
	int32_t c;

	if (PDE_INDEX(va) >= SHADOW_GUEST_PDES ||
	    (c = sh->page[sh->root].child[PDE_INDEX(va)]) == SHADOW_NONE)
		return 0;
	return shadow_table(vm, sh->page[c].mfn)[PTE_INDEX(va)];
}

/* --- Filling: the hidden fault --------------------------------------------- */

/*
 * The shadow entry for a guest translation to machine frame mfn.
 * Writable only if the guest allows writes *and* its dirty bit is set
 * (for a write, the walk just set it) *and* the frame is not a page
 * table we shadow.  One subtlety, from KVM's shadow MMU: with CR0.WP
 * clear, the guest kernel may write pages that are read-only to user
 * mode.  The real CR0.WP is always set, so for such a write we install
 * the page writable but supervisor-only; a later user access faults and
 * gets the read-only user view back.
 */
static uint32_t shadow_pte(const struct vm *vm, uint32_t gfn, uint32_t mfn, bool user,
			   bool writable, bool dirty, uint32_t error)
{
	uint32_t pte = mfn << PAGE_SHIFT | PTE_P | PTE_A;

	if (user)
		pte |= PTE_U;
	if (writable && dirty)
		pte |= PTE_W | PTE_D;
	else if ((error & PF_W) && !(error & PF_U) && !(vm->sys.cr0 & CR0_WP))
		pte = (pte & ~PTE_U) | PTE_W | PTE_D;
	if (!shadow_may_write(vm, gfn))
		pte &= ~(PTE_W | PTE_D); /* patched code, or a page table: keep it intact */
	return pte;
}

/*
 * The shadow page table that va's slot of the root must point at: for a
 * guest page table, (its frame, the PDE's U and W); for a 4 MiB page or
 * paging off, a "direct" table keyed by the first frame it maps.
 */
static void shadow_child_key(const struct vm *vm, const struct ptwalk_result *w, uint32_t *gfn,
			     uint32_t *role)
{
	uint32_t mode = shadow_mode_role(vm);

	if ((mode & SHADOW_ROLE_NOPAGING) || w->large) {
		/* A 4 MiB page's D bit is in its PDE: directories whose PDEs
		 * differ in D must not share entries made writable for one. */
		bool paging = !(mode & SHADOW_ROLE_NOPAGING);
		bool user = !paging || (w->pde & PTE_U);
		bool write = !paging || (w->pde & PTE_W);
		bool dirty = !paging || (w->pde & PTE_D);

		*gfn = (w->gpa >> PAGE_SHIFT) & ~(PT_ENTRIES - 1);
		*role = mode | SHADOW_ROLE_DIRECT | (user ? SHADOW_ROLE_USER : 0) |
			(write ? SHADOW_ROLE_WRITE : 0) | (dirty ? SHADOW_ROLE_DIRTY : 0);
		return;
	}
	*gfn = w->pde >> PAGE_SHIFT;
	*role = mode | (w->pde & PTE_U ? SHADOW_ROLE_USER : 0) |
		(w->pde & PTE_W ? SHADOW_ROLE_WRITE : 0);
}

/* The shadow page table for va, linked into the root; SHADOW_NONE if no
 * machine frame is left. */
static int32_t shadow_child(struct vm *vm, uint32_t va, const struct ptwalk_result *w)
{
	struct shadow *sh = &vm->shadow;
	unsigned slot = PDE_INDEX(va);
	int32_t root = sh->root, c = sh->page[root].child[slot];
	uint32_t gfn, role;

	shadow_child_key(vm, w, &gfn, &role);
	shadow_touch(sh, root);
	if (c != SHADOW_NONE && sh->page[c].gfn == gfn && sh->page[c].role == role) {
		shadow_touch(sh, c);
		return c;
	}
	shadow_unlink(vm, root, slot);
	c = shadow_get(vm, gfn, role);
	if (c == SHADOW_NONE || shadow_link(vm, root, slot, c))
		return SHADOW_NONE;
	shadow_touch(sh, c);
	return c;
}

static void shadow_refuse(struct vm *vm, struct shadow_fault *res, const char *what)
{
	vm_stop(vm, VCPU_STOP_VMM_ERROR, "%s", what);
	res->kind = SHADOW_STOP;
}

/* The guest's walk says yes: install VA -> MA. */
static void shadow_fill(struct vm *vm, uint32_t va, uint32_t error, const struct ptwalk_result *w,
			struct shadow_fault *res)
{
	uint32_t gfn = w->gpa >> PAGE_SHIFT, mfn;
	bool paging = vm->sys.cr0 & CR0_PG, failed;
	int32_t c;

	res->gpa = w->gpa;
	/* A frame swapped out, or never touched, comes in now: the guest
	 * never knows (a hidden fault that also reads the swap file). */
	mfn = p2m_get(&vm->p2m, gfn, &failed);
	if (failed)
		return shadow_refuse(vm, res,
				     "no machine frame left for guest memory: machine "
				     "memory is exhausted and nothing could be swapped out");
	if (!mfn) {
		/* No memory there.  On a PC nothing answers: reads float to all
		 * ones and writes vanish.  Reads get a read-only page of 0xff;
		 * writes are for the caller to skip. */
		if (error & PF_W) {
			res->kind = SHADOW_DISCARD;
			return;
		}
		mfn = vm->shadow.ones;
		res->unbacked = true;
	}
	if ((error & PF_W) && !shadow_may_write(vm, gfn)) {
		/* The guest may write, but a page table or the page of an
		 * instruction we patched must not change behind our back: the
		 * VMM does the write (trap.c), and refuses one over our patch. */
		res->kind = SHADOW_PTWRITE;
		return;
	}
	c = shadow_child(vm, va, w);
	if (c == SHADOW_NONE)
		return shadow_refuse(vm, res, "no machine frame left for a shadow page table");
	/* shadow_child may have write-protected gfn itself (a table mapping itself). */
	if ((error & PF_W) && !shadow_may_write(vm, gfn)) {
		res->kind = SHADOW_PTWRITE;
		return;
	}
	res->kind = SHADOW_HIDDEN;
	res->spte = shadow_pte(vm, gfn, mfn, !paging || w->user, !paging || w->writable,
			       !paging || (w->pte & PTE_D), error);
	if (res->unbacked)
		res->spte &= ~(PTE_W | PTE_D);
	if (shadow_set_entry(vm, c, PTE_INDEX(va), res->spte))
		return shadow_refuse(vm, res, "out of memory for the shadow's reverse map");
	/* The CPU may still hold the old, weaker entry. */
	shadow_tlb_invlpg(&vm->shadow, va);
}

/* The top 4 MiB: the monitor is there, whatever the guest's tables say. */
static void shadow_monitor_fault(struct vm *vm, uint32_t va, const struct ptwalk_result *w,
				 struct shadow_fault *res)
{
	if (w->status == PTWALK_FAULT) { /* the guest has nothing there either */
		res->kind = SHADOW_TRUE;
		res->error = w->error_code;
		return;
	}
	if (!(vm->sys.cr0 & CR0_PG))
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest touched 0x%08x with paging off; 0xffc00000-0xffffffff is "
			"reserved for kvmshadow's monitor",
			va);
	else
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest page tables map va 0x%08x, in 0xffc00000-0xffffffff, which "
			"kvmshadow reserves for its monitor",
			va);
	res->kind = SHADOW_STOP;
}

void shadow_fault(struct vm *vm, uint32_t va, uint32_t error, struct shadow_fault *res)
{
	struct ptwalk_result w;
	unsigned access = (error & (PF_W | PF_U)) | PTWALK_SET_AD;

	*res = (struct shadow_fault){.kind = SHADOW_STOP};
	ptwalk(&vm->walk_mem, vm->sys.cr0, vm->sys.cr3, vm->sys.cr4, va, access, &w);
	switch (w.status) {
	case PTWALK_BAD_TABLE:
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest page table entry for va 0x%08x lies at guest-physical 0x%08x, "
			"outside its memory",
			va, w.bad_gpa);
		return;
	case PTWALK_UNSUPPORTED:
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest enabled PAE paging, which shadow mode does not support yet");
		return;
	case PTWALK_OK:
	case PTWALK_FAULT:
		break;
	}
	if (va >= VMM_RESERVED_VA)
		shadow_monitor_fault(vm, va, &w, res);
	else if (w.status == PTWALK_OK)
		shadow_fill(vm, va, error, &w, res);
	else
		*res = (struct shadow_fault){.kind = SHADOW_TRUE, .error = w.error_code};
}

/* --- Swapping: what the pager (swap.c) needs from the shadow ------------- */

bool shadow_frame_busy(const struct vm *vm, uint32_t gfn)
{
	const struct shadow *sh = &vm->shadow;

	return gfn < sh->nframes && (sh->protect[gfn] || gfn + 1 == sh->exempt);
}

/*
 * The clock's question, "was gfn used since I last looked?", asked of the
 * accessed bits the CPU sets in our shadow entries.  Clearing them lets
 * the CPU say it again; it can only do so once its TLB forgets the entry,
 * so we have the TLB forget it too (the current address space only: the
 * others' entries left the TLB at their last CR3 switch).
 */
bool shadow_test_and_clear_accessed(struct vm *vm, uint32_t gfn)
{
	struct shadow *sh = &vm->shadow;
	const struct rmap_set *set = rmap_of(&sh->rmap, gfn);
	bool accessed = false;

	for (uint32_t k = 0; set && k < set->n; k++) {
		uint32_t ref = set->ref[k];
		uint32_t *pt = shadow_table(vm, sh->page[ref >> 10].mfn);

		if (pt[ref & 0x3ff] & PTE_A) {
			pt[ref & 0x3ff] &= ~PTE_A;
			shadow_tlb_forget(vm, (int32_t)(ref >> 10), ref & 0x3ff);
			accessed = true;
		}
	}
	return accessed;
}

/* gfn is leaving machine memory: no shadow entry may map it any more. */
void shadow_drop_frame(struct vm *vm, uint32_t gfn)
{
	struct shadow *sh = &vm->shadow;
	const struct rmap_set *set;

	while ((set = rmap_of(&sh->rmap, gfn)) && set->n) {
		uint32_t ref = set->ref[set->n - 1];
		int32_t i = (int32_t)(ref >> 10);
		uint32_t spte = shadow_table(vm, sh->page[i].mfn)[ref & 0x3ff];

		if (!(spte & PTE_P) || shadow_entry_gfn(vm, spte) != gfn) {
			rmap_remove(&sh->rmap, gfn, ref); /* cannot happen; never loop on it */
			continue;
		}
		shadow_set_entry(vm, i, ref & 0x3ff, 0);
		shadow_tlb_forget(vm, i, ref & 0x3ff);
	}
}

/* --- Coherence: the guest wrote one of its page tables ---------------------- */

/*
 * What entry e of page table i should now be, from the guest's new PTE,
 * when no access is pending: only what is certain without a walk (the
 * guest already set A, and D for a writable entry); anything else is
 * left empty, for a hidden fault to fill when it is used.
 */
static uint32_t shadow_prefetch(const struct vm *vm, const struct shadow_page *sp, uint32_t gpte)
{
	uint32_t gfn = gpte >> PAGE_SHIFT, mfn;

	/* Bit 7 of a PTE is PAT, which we leave for a walk to judge. */
	if ((gpte & (PTE_P | PTE_A)) != (PTE_P | PTE_A) || (gpte & PTE_PS))
		return 0;
	mfn = p2m_lookup(&vm->p2m, gfn);
	if (!mfn)
		return 0;
	return shadow_pte(vm, gfn, mfn, (sp->role & SHADOW_ROLE_USER) && (gpte & PTE_U),
			  (sp->role & SHADOW_ROLE_WRITE) && (gpte & PTE_W), gpte & PTE_D, 0);
}

static void shadow_update_entry(struct vm *vm, int32_t i, unsigned e)
{
	struct shadow_page *sp = &vm->shadow.page[i];
	uint32_t gpte = 0;

	if (sp->role & SHADOW_ROLE_PD) {
		/* A directory entry: let the next access through it relink. */
		if (e < SHADOW_GUEST_PDES)
			shadow_unlink(vm, i, e);
		return;
	}
	vm->walk_mem.read32(vm->walk_mem.ctx, sp->gfn << PAGE_SHIFT | e * 4, &gpte);
	if (shadow_set_entry(vm, i, e, shadow_prefetch(vm, sp, gpte)))
		shadow_set_entry(vm, i, e, 0);
	shadow_tlb_forget(vm, i, e);
}

void shadow_guest_wrote(struct vm *vm, uint32_t gpa, unsigned len)
{
	struct shadow *sh = &vm->shadow;
	uint32_t gfn = gpa >> PAGE_SHIFT, first, last;
	int32_t found[64];
	unsigned n = 0;

	if (!len || !shadow_protected(vm, gfn))
		return;
	first = (gpa & ~PAGE_MASK) / 4;
	last = ((gpa & ~PAGE_MASK) + len - 1) / 4;
	if (last >= PT_ENTRIES)
		last = PT_ENTRIES - 1;
	for (int32_t i = sh->hash[shadow_hash(gfn)]; i != SHADOW_NONE && n < 64;
	     i = sh->page[i].hash_next)
		if (sh->page[i].gfn == gfn && !(sh->page[i].role & SHADOW_ROLE_DIRECT))
			found[n++] = i;
	for (unsigned k = 0; k < n; k++) {
		int32_t i = found[k];

		if (++sh->page[i].writes > SHADOW_FLOOD_WRITES && i != sh->root) {
			if (trace_on(vm->trace, TRACE_PAGEFAULT))
				trace_line(vm->trace,
					   "page table at pa 0x%08x written %u times with no use "
					   "between: data again, stop shadowing it",
					   gfn << PAGE_SHIFT, sh->page[i].writes);
			shadow_zap(vm, i); /* written, never used: data again */
			vm->st->shadow_unshadowed++;
			continue;
		}
		for (unsigned e = first; e <= last; e++)
			shadow_update_entry(vm, i, e);
	}
}

bool shadow_unprotect(struct vm *vm, uint32_t gfn)
{
	struct shadow *sh = &vm->shadow;
	int32_t i = sh->hash[shadow_hash(gfn)], next;

	for (int32_t j = i; j != SHADOW_NONE; j = sh->page[j].hash_next)
		if (sh->page[j].gfn == gfn && !(sh->page[j].role & SHADOW_ROLE_DIRECT) &&
		    j == sh->root)
			return false;
	for (; i != SHADOW_NONE; i = next) {
		next = sh->page[i].hash_next;
		if (sh->page[i].gfn == gfn && !(sh->page[i].role & SHADOW_ROLE_DIRECT)) {
			shadow_zap(vm, i);
			vm->st->shadow_unshadowed++;
		}
	}
	return true;
}

void shadow_exempt(struct vm *vm, uint32_t gfn)
{
	vm->shadow.exempt = gfn + 1;
}

void shadow_exempt_end(struct vm *vm, const uint32_t *before)
{
	struct shadow *sh = &vm->shadow;
	uint32_t gfn = sh->exempt - 1;
	const uint32_t *now;

	if (!sh->exempt)
		return;
	sh->exempt = 0;
	if (!shadow_may_write(vm, gfn))
		shadow_write_protect(vm, gfn); /* what the step made writable */
	now = (const uint32_t *)vm_phys(vm, gfn << PAGE_SHIFT);
	for (unsigned e = 0; now && e < PT_ENTRIES; e++)
		if (now[e] != before[e])
			shadow_guest_wrote(vm, gfn << PAGE_SHIFT | e * 4, 4);
}
