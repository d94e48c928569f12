/*
 * ptwalk.c - the reference walk of the guest's page tables.
 *
 * In Figure B.1 of the chapter, the guest OS maps virtual pages to
 * "physical" frames with its page tables, and the VMM maps those frames to
 * machine frames with its own.  On x86 the first map is walked by the
 * hardware, and when the VMM takes that job over (the shadow MMU: Table
 * B.5's "VMM TLB miss handler") it must walk the guest's tables exactly as
 * the CPU would.  Not roughly: a guest kernel relies on every rule, on the
 * page fault it gets for a user write to a read-only page as much as on the
 * translation it gets for a good address.  So this file is the one place
 * that knows those rules, and everything else asks it: the shadow's fault
 * handler when it fills an entry, the emulator when it reads guest-virtual
 * memory, the --check-shadow audit, and a randomized test that compares it
 * with a second, independent implementation.
 *
 * The rules are those of the Intel SDM, volume 3: section 4.3 (32-bit
 * paging), 4.6 (access rights), 4.7 (the page-fault error code) and 4.8
 * (accessed and dirty flags), for the CPU that kvmshadow presents to its
 * guests: it has PSE (4 MiB pages) and PGE (global pages) and PAT, but not
 * PSE-36, PAE, SMEP, SMAP or protection keys.
 */
#include <string.h>

#include "ptwalk.h"

/*
 * A 4 MiB PDE holds the page's address in bits 31:22.  On a CPU with
 * PSE-36, bits 20:13 would hold physical address bits 39:32; ours has no
 * PSE-36, and then the SDM (4.3) says bits 21:13 are reserved.  Bit 12 is
 * PAT, not part of the address either.
 */
#define PTWALK_LARGE_RSVD 0x003fe000u

/* What the walk needs to know about the access and the CPU state. */
struct ptwalk_ctx {
	const struct ptwalk_mem *mem;
	uint32_t cr0, cr4;
	uint32_t va;
	unsigned int access;
	struct ptwalk_result *res;
};

static enum ptwalk_status ptwalk_fault(struct ptwalk_ctx *w, uint32_t code)
{
	/*
	 * PF_W and PF_U describe the access, not the page.  PF_I stays
	 * clear: the SDM (4.7) sets it only with SMEP or with PAE and NXE,
	 * and 32-bit paging without SMEP has neither.
	 */
	w->res->error_code = code | (w->access & (PF_W | PF_U));
	w->res->cr2 = w->va;
	return w->res->status = PTWALK_FAULT;
}

static enum ptwalk_status ptwalk_bad_table(struct ptwalk_ctx *w, uint32_t gpa)
{
	w->res->bad_gpa = gpa;
	return w->res->status = PTWALK_BAD_TABLE;
}

/*
 * Access rights (SDM 4.6), with no SMEP and no SMAP.  Both levels must
 * allow the access: the effective U/S and R/W are the AND of the PDE's and
 * the PTE's.  User mode needs U/S, and R/W to write.  The supervisor may
 * read, fetch from and (before the 486 added CR0.WP, and still when WP is
 * clear) write any present page.  A fetch is a read: only NX, which 32-bit
 * paging lacks, could forbid it.
 */
static bool ptwalk_allowed(const struct ptwalk_ctx *w)
{
	const struct ptwalk_result *res = w->res;

	if ((w->access & PF_U) && !res->user)
		return false;
	if (!(w->access & PF_W) || res->writable)
		return true;
	return !(w->access & PF_U) && !(w->cr0 & CR0_WP);
}

/* Set bits in one entry, writing it back only if that changes it. */
static int ptwalk_set_bits(struct ptwalk_ctx *w, uint32_t gpa, uint32_t *entry, uint32_t bits)
{
	if ((*entry & bits) == bits)
		return 0;
	*entry |= bits;
	return w->mem->write32(w->mem->ctx, gpa, *entry);
}

/*
 * Write back what the CPU would have set (SDM 4.8): A in every entry used,
 * D in the leaf on a write, each "if it is not already set".  A PDE that
 * points to a page table never gets D.
 *
 * The SDM's wording ("whenever the processor uses a paging-structure entry
 * as part of linear-address translation") lets a CPU set A in a PDE it has
 * read even when the walk then faults at the PTE, and speculative walks can
 * set A bits too; a guest cannot rely on either.  We set nothing unless the
 * access succeeds, as KVM's own walker does: a faulting access then has no
 * side effect at all, which is what the shadow's fault handler wants when
 * it reflects the fault to the guest.
 */
static enum ptwalk_status ptwalk_update_ad(struct ptwalk_ctx *w)
{
	struct ptwalk_result *res = w->res;
	uint32_t leaf_bits = PTE_A | ((w->access & PF_W) ? PTE_D : 0);

	if (res->large) {
		if (ptwalk_set_bits(w, res->pde_gpa, &res->pde, leaf_bits))
			return ptwalk_bad_table(w, res->pde_gpa);
		res->pte = res->pde;
		return PTWALK_OK;
	}
	if (ptwalk_set_bits(w, res->pde_gpa, &res->pde, PTE_A))
		return ptwalk_bad_table(w, res->pde_gpa);
	if (ptwalk_set_bits(w, res->pte_gpa, &res->pte, leaf_bits))
		return ptwalk_bad_table(w, res->pte_gpa);
	/*
	 * A recursive mapping can make the PTE and the PDE one entry (the
	 * directory mapped as a page through itself); then the leaf's update
	 * is the PDE's too.
	 */
	if (res->pte_gpa == res->pde_gpa)
		res->pde = res->pte;
	return PTWALK_OK;
}

/* The last step, once the leaf is known: rights, A/D, the address. */
static enum ptwalk_status ptwalk_finish(struct ptwalk_ctx *w, uint32_t frame, uint32_t offset)
{
	struct ptwalk_result *res = w->res;

	res->user = res->pde & res->pte & PTE_U;
	res->writable = res->pde & res->pte & PTE_W;
	res->global = (res->pte & PTE_G) && (w->cr4 & CR4_PGE);
	if (!ptwalk_allowed(w))
		return ptwalk_fault(w, PF_P);
	if ((w->access & PTWALK_SET_AD) && ptwalk_update_ad(w) != PTWALK_OK)
		return res->status;
	res->gpa = frame | offset;
	return res->status = PTWALK_OK;
}

/* A 4 MiB page: the PDE is the leaf, and the only level. */
static enum ptwalk_status ptwalk_large(struct ptwalk_ctx *w)
{
	struct ptwalk_result *res = w->res;

	if (res->pde & PTWALK_LARGE_RSVD)
		return ptwalk_fault(w, PF_P | PF_RSVD);
	res->large = true;
	res->pte = res->pde;
	return ptwalk_finish(w, res->pde & PDE_LARGE_FRAME, w->va & (LARGE_PAGE_SIZE - 1));
}

static enum ptwalk_status ptwalk_small(struct ptwalk_ctx *w)
{
	struct ptwalk_result *res = w->res;

	res->pte_gpa = (res->pde & PTE_FRAME) + 4 * PTE_INDEX(w->va);
	if (w->mem->read32(w->mem->ctx, res->pte_gpa, &res->pte))
		return ptwalk_bad_table(w, res->pte_gpa);
	if (!(res->pte & PTE_P))
		return ptwalk_fault(w, 0);
	return ptwalk_finish(w, res->pte & PTE_FRAME, w->va & (PAGE_SIZE - 1));
}

/*
 * Paging off: the address is physical and every access is allowed.  The
 * VMM still has work to do (the second half of Figure B.1), but not here.
 */
static enum ptwalk_status ptwalk_identity(struct ptwalk_result *res, uint32_t va)
{
	res->gpa = va;
	res->user = res->writable = true;
	return res->status = PTWALK_OK;
}

/*
 * The walk itself, SDM 4.3: CR3 gives the page directory, the top ten bits
 * of va pick a PDE in it; with CR4.PSE a PDE with PS set maps a 4 MiB page,
 * otherwise it gives a page table, where the next ten bits pick the PTE.
 * Without CR4.PSE the PS bit means nothing.  A hostile guest can point
 * any entry anywhere: every read goes through mem, which refuses
 * addresses outside guest memory, and we stop there with
 * PTWALK_BAD_TABLE.  Real hardware would read whatever the bus returns
 * there (all ones, or a machine check); a VMM must never read outside the
 * guest, and it is the caller's choice what the guest sees next.  Two
 * levels mean at most two reads, so even cyclic tables end the walk.
 */
enum ptwalk_status ptwalk(const struct ptwalk_mem *mem, uint32_t cr0, uint32_t cr3, uint32_t cr4,
			  uint32_t va, unsigned int access, struct ptwalk_result *res)
{
	struct ptwalk_ctx w = {
	    .mem = mem,
	    .cr0 = cr0,
	    .cr4 = cr4,
	    .va = va,
	    .access = access,
	    .res = res,
	};

	*res = (struct ptwalk_result){.status = PTWALK_OK};
	if (!(cr0 & CR0_PG))
		return ptwalk_identity(res, va);
	if (cr4 & CR4_PAE)
		return res->status = PTWALK_UNSUPPORTED;
	res->pde_gpa = (cr3 & PTE_FRAME) + 4 * PDE_INDEX(va);
	if (mem->read32(mem->ctx, res->pde_gpa, &res->pde))
		return ptwalk_bad_table(&w, res->pde_gpa);
	if (!(res->pde & PTE_P))
		return ptwalk_fault(&w, 0);
	if ((cr4 & CR4_PSE) && (res->pde & PTE_PS))
		return ptwalk_large(&w);
	return ptwalk_small(&w);
}

/*
 * Flat guest memory: bounds-checked, and aligned, as every page-table
 * entry is.  The host is x86 too, so a guest's little-endian word is ours.
 */
static int ptwalk_flat_check(const struct ptwalk_flat *flat, uint32_t gpa)
{
	if (gpa & 3 || (uint64_t)gpa + 4 > flat->size)
		return -1;
	return 0;
}

static int ptwalk_flat_read32(void *ctx, uint32_t gpa, uint32_t *value)
{
	struct ptwalk_flat *flat = ctx;

	if (ptwalk_flat_check(flat, gpa))
		return -1;
	memcpy(value, flat->bytes + gpa, 4);
	return 0;
}

static int ptwalk_flat_write32(void *ctx, uint32_t gpa, uint32_t value)
{
	struct ptwalk_flat *flat = ctx;

	if (ptwalk_flat_check(flat, gpa))
		return -1;
	memcpy(flat->bytes + gpa, &value, 4);
	return 0;
}

void ptwalk_flat_init(struct ptwalk_flat *flat, uint8_t *bytes, uint64_t size)
{
	*flat = (struct ptwalk_flat){
	    .mem = {.ctx = flat, .read32 = ptwalk_flat_read32, .write32 = ptwalk_flat_write32},
	    .bytes = bytes,
	    .size = size,
	};
}
