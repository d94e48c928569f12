/*
 * shadow.c - the shadow page tables as a virtual TLB (see shadow.h).
 *
 * A hidden page fault is the VMM's TLB miss.  The CPU faulted because the
 * shadow has no entry (or too weak an entry) for the address; if the
 * guest's own tables allow the access, we do what a hardware page walker
 * does on a TLB miss - walk the guest's tables, set their accessed and
 * dirty bits - and then what only a VMM does: translate the guest's
 * "physical" frame to a machine frame and install the result.  The guest
 * never learns it happened.  If the guest's tables do not allow the
 * access, the fault is true and goes to the guest, as on hardware.
 *
 * The guest's dirty bits are emulated the way a TLB needs them: a page
 * whose D bit is still clear is installed read-only, even if the guest
 * allows writes, so that its first write faults and we can set D.
 */
#include <stdlib.h>
#include <string.h>

#include "shadow.h"
#include "vm.h"

uint32_t shadow_cr3(const struct shadow *sh)
{
	return sh->pd << PAGE_SHIFT;
}

static uint32_t *shadow_table(const struct vm *vm, uint32_t mfn)
{
	return (uint32_t *)machine_frame_mem(vm->m, mfn);
}

int shadow_init(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;

	*sh = (struct shadow){0};
	sh->spare = calloc(SHADOW_GUEST_PDES, sizeof(*sh->spare));
	sh->pd = p2m_pool_alloc(&vm->m->pool, NULL, 0);
	sh->ones = p2m_pool_alloc(&vm->m->pool, NULL, 0);
	if (!sh->spare || !sh->pd || !sh->ones)
		return -1;
	memset(machine_frame_mem(vm->m, sh->ones), 0xff, PAGE_SIZE);
	/* The monitor's page table, in the last slot of every shadow. */
	shadow_table(vm, sh->pd)[PT_ENTRIES - 1] = vm->m->monitor_pt << PAGE_SHIFT | PTE_P | PTE_W;
	return 0;
}

void shadow_destroy(struct vm *vm)
{
	struct shadow *sh = &vm->shadow;

	shadow_flush(vm);
	for (uint32_t i = 0; i < sh->nspare; i++)
		p2m_pool_free(&vm->m->pool, sh->spare[i]);
	if (sh->pd)
		p2m_pool_free(&vm->m->pool, sh->pd);
	if (sh->ones)
		p2m_pool_free(&vm->m->pool, sh->ones);
	free(sh->spare);
	*sh = (struct shadow){0};
}

/* One page for the monitor's invlpg; two in one trap flush everything. */
static void shadow_tlb_invlpg(struct shadow *sh, uint32_t va)
{
	if (sh->tlb_invlpg && (sh->tlb_invlpg & PAGE_MASK) != (va & PAGE_MASK))
		sh->tlb_flush = true;
	sh->tlb_invlpg = (va & PAGE_MASK) | 1;
}

/* Drop one slot's page table and keep its frame for the next fill. */
static void shadow_drop_slot(struct vm *vm, unsigned slot)
{
	struct shadow *sh = &vm->shadow;

	if (!sh->pt[slot])
		return;
	shadow_table(vm, sh->pd)[slot] = 0;
	sh->spare[sh->nspare++] = sh->pt[slot];
	sh->pt[slot] = 0;
	sh->from_large[slot] = false;
}

void shadow_flush(struct vm *vm)
{
	for (unsigned slot = 0; slot < SHADOW_GUEST_PDES; slot++)
		shadow_drop_slot(vm, slot);
	vm->shadow.tlb_flush = true;
	vm->st->shadow_flushes++;
}

bool shadow_invlpg(struct vm *vm, uint32_t va)
{
	struct shadow *sh = &vm->shadow;
	unsigned slot = PDE_INDEX(va);

	if (slot >= SHADOW_GUEST_PDES || !sh->pt[slot])
		return false;
	if (sh->from_large[slot]) { /* one guest PDE covered the whole slot */
		shadow_drop_slot(vm, slot);
		sh->tlb_flush = true;
		return true;
	}
	shadow_table(vm, sh->pt[slot])[PTE_INDEX(va)] = 0;
	shadow_tlb_invlpg(sh, va);
	return false;
}

uint32_t shadow_lookup(const struct vm *vm, uint32_t va)
{
	const struct shadow *sh = &vm->shadow;
	unsigned slot = PDE_INDEX(va);

	if (slot >= SHADOW_GUEST_PDES || !sh->pt[slot])
		return 0;
	return shadow_table(vm, sh->pt[slot])[PTE_INDEX(va)];
}

/* The shadow page table for va's slot, made if need be; NULL if machine
 * memory has no frame left even after a flush. */
static uint32_t *shadow_slot_table(struct vm *vm, uint32_t va, bool large)
{
	struct shadow *sh = &vm->shadow;
	unsigned slot = PDE_INDEX(va);
	uint32_t mfn = sh->pt[slot];

	if (!mfn) {
		mfn = sh->nspare ? sh->spare[--sh->nspare] : p2m_pool_alloc(&vm->m->pool, NULL, 0);
		if (!mfn)
			return NULL;
		memset(shadow_table(vm, mfn), 0, PAGE_SIZE);
		sh->pt[slot] = mfn;
		/* The PDE allows everything; the PTEs decide. */
		shadow_table(vm, sh->pd)[slot] = mfn << PAGE_SHIFT | PTE_P | PTE_W | PTE_U;
	}
	sh->from_large[slot] |= large;
	return shadow_table(vm, mfn);
}

/*
 * The shadow entry for an access the guest's walk allowed.  Writable only
 * if the guest allows writes *and* its dirty bit is set (for a write, the
 * walk just set it).  One subtlety, from KVM's shadow MMU: with CR0.WP
 * clear, the guest kernel may write pages that are read-only to user
 * mode.  The real CR0.WP is always set, so for such a write we install
 * the page writable but supervisor-only; a later user access faults and
 * gets the read-only user view back.
 */
static uint32_t shadow_pte(const struct vm *vm, const struct ptwalk_result *w, uint32_t mfn,
			   uint32_t error)
{
	uint32_t pte = mfn << PAGE_SHIFT | PTE_P | PTE_A;
	bool paging = vm->sys.cr0 & CR0_PG;
	bool user = !paging || w->user;
	bool dirty = !paging || (w->pte & PTE_D);
	bool writable = !paging || w->writable;

	if (user)
		pte |= PTE_U;
	if (writable && dirty)
		pte |= PTE_W | PTE_D;
	else if ((error & PF_W) && !(error & PF_U) && !(vm->sys.cr0 & CR0_WP))
		pte = (pte & ~PTE_U) | PTE_W | PTE_D;
	if (patch_in_frame(&vm->patch, w->gpa >> PAGE_SHIFT))
		pte &= ~(PTE_W | PTE_D); /* patched code: keep it intact */
	return pte;
}

/* The guest's walk says yes: install VA -> MA. */
static void shadow_fill(struct vm *vm, uint32_t va, uint32_t error, const struct ptwalk_result *w,
			struct shadow_fault *res)
{
	uint32_t mfn = p2m_lookup(&vm->p2m, w->gpa >> PAGE_SHIFT);
	uint32_t *pt;

	res->gpa = w->gpa;
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
	if ((error & PF_W) && patch_in_frame(&vm->patch, w->gpa >> PAGE_SHIFT)) {
		vm_stop(vm, VCPU_STOP_GUEST_ERROR,
			"guest wrote to its kernel code at va 0x%08x (guest-physical 0x%08x), "
			"which kvmshadow patched: self-modifying kernel code is not supported",
			va, w->gpa);
		res->kind = SHADOW_STOP;
		return;
	}
	pt = shadow_slot_table(vm, va, w->large);
	if (!pt) { /* out of machine frames: start over with an empty shadow */
		shadow_flush(vm);
		pt = shadow_slot_table(vm, va, w->large);
	}
	if (!pt) {
		vm_stop(vm, VCPU_STOP_VMM_ERROR, "no machine frame left for a shadow page table");
		res->kind = SHADOW_STOP;
		return;
	}
	res->kind = SHADOW_HIDDEN;
	res->spte = shadow_pte(vm, w, mfn, error);
	if (res->unbacked)
		res->spte &= ~(PTE_W | PTE_D);
	pt[PTE_INDEX(va)] = res->spte;
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
