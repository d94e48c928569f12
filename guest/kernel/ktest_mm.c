/*
 * ktest_mm.c - self-tests of paging: TLB flushes, CR0.WP, the accessed
 * and dirty bits, 4 MiB pages, and kernel-mode faults on user addresses.
 *
 * On x86 the hardware walks the page tables and caches what it finds in
 * the TLB.  A VMM with shadow page tables (the chapter's "Aside:
 * hypervisors and hardware-managed TLBs") has the hardware walk *its*
 * tables instead, and must make the guest see the semantics of the
 * guest's own: a changed entry stays invisible until invlpg or a CR3
 * reload, and is visible after; a kernel store to a read-only page
 * faults exactly when CR0.WP is set; the CPU marks entries accessed and
 * dirty; a 4 MiB page maps 1024 frames at once and may alias a 4 KiB
 * mapping of one of them; and a fault on a user page taken in kernel
 * mode, inside a system call, reaches the guest kernel with an error
 * code that says "supervisor".  These tools and checks let the test
 * programs see each of those from both sides.
 *
 * Loads and stores that may fault go through ktest_mm_load and
 * ktest_mm_store, which are in the exception table (extable.c), as are
 * those of the shadow-MMU tests (ktest_shadow.c).  On a user address, a
 * not-present fault there is first offered to demand-zero, as the
 * process's own fault would be (fault.c); what demand-zero cannot
 * resolve comes back as "faulted".
 */
#include <stdbool.h>

#include "cpu.h"
#include "extable.h"
#include "fault.h"
#include "guest_abi.h"
#include "ktest.h"
#include "ktest_abi.h"
#include "memlayout.h"
#include "palloc.h"
#include "proc.h"
#include "str.h"
#include "vm.h"

#define KTEST_MM_SCRATCH_VA	0x7fe00000u	/* invlpg's test page: far above privtest's heap */
/* 16 MiB as the banner rounds it (firmware keeps a little at the top): enough to spare 4. */
#define KTEST_MM_BIG_MIN_MEMORY	0x00f80000u
#define KTEST_MM_FLAGS		0xfffu		/* the flag bits of an entry */

/* The 4 MiB region kept for bigpage, or 0. */
static uint32_t ktest_mm_big_pa;

bool ktest_mm_load(uint32_t va, uint32_t *v)
{
	int fault;

	asm volatile(EXTABLE_TRY("movl (%[va]), %[v]")
		     : [fault] "=&r"(fault), [v] "=r"(*v)
		     : [va] "r"(va)
		     : "memory");
	return fault;
}

bool ktest_mm_store(uint32_t va, uint32_t v)
{
	int fault;

	asm volatile(EXTABLE_TRY("movl %[v], (%[va])")
		     : [fault] "=&r"(fault)
		     : [va] "r"(va), [v] "r"(v)
		     : "memory");
	return fault;
}

/* Was the last caught exception a page fault at va, with this error code? */
bool ktest_mm_faulted(uint32_t va, uint32_t err)
{
	return extable_last.trapno == T_PF && extable_last.err == err && extable_last.cr2 == va;
}

/* A user word address the kernel may try: below the kernel, all four bytes. */
static bool ktest_mm_user_word(uint32_t uva)
{
	return uva < USER_STACK_TOP && uva <= USER_STACK_TOP - 4 && uva % 4 == 0;
}

/* --- invlpg and CR3 ------------------------------------------------------- */

/*
 * Kernel-only page at va: frame a, then b.  Without invlpg the old
 * translation may survive - allowed, so not checked - but after invlpg
 * the new one must be seen, and after a CR3 reload too.  Unmapped and
 * flushed, the page must be gone.
 */
static int ktest_mm_invlpg_steps(uint32_t *pte, uint32_t va, void *a, void *b)
{
	uint32_t seen;

	*pte = V2P(a) | PTE_P | PTE_W;
	if (ktest_mm_load(va, &seen) || seen != 0xa1a1a1a1)
		return 4;
	*pte = V2P(b) | PTE_P | PTE_W;
	invlpg(va);
	if (ktest_mm_load(va, &seen) || seen != 0xb2b2b2b2)
		return 5;
	*pte = V2P(a) | PTE_P | PTE_W;
	lcr3(rcr3());
	if (ktest_mm_load(va, &seen) || seen != 0xa1a1a1a1)
		return 6;
	*pte = 0;
	invlpg(va);
	if (!ktest_mm_load(va, &seen))
		return 7;
	return ktest_mm_faulted(va, 0) ? 0 : 8;
}

int ktest_mm_invlpg(void)
{
	struct proc *p = proc_current;
	uint32_t va = KTEST_MM_SCRATCH_VA, *pte;
	uint32_t *a, *b;
	int step;

	if (p->brk > va)
		return 1;
	pte = vm_walk(p->pgdir, va, 1);
	if (!pte || (*pte & PTE_P))
		return 2;
	a = palloc_alloc();
	b = palloc_alloc();
	if (!a || !b) {
		step = 3;
	} else {
		a[0] = 0xa1a1a1a1;
		b[0] = 0xb2b2b2b2;
		step = ktest_mm_invlpg_steps(pte, va, a, b);
	}
	*pte = 0;
	invlpg(va);
	if (a)
		palloc_free(a);
	if (b)
		palloc_free(b);
	return step;
}

/* --- Kernel-mode faults on user addresses --------------------------------- */

int ktest_mm_fault_fills(uint32_t a, uint32_t b)
{
	(void)a;
	(void)b;
	return (int)fault_kernel_fills();
}

/*
 * Store to a user address with no check first, as a copy_to_user built
 * on the exception table would: a page the process is owed is filled in
 * by the fault, anything else is -EFAULT.
 */
int ktest_mm_user_store(uint32_t uva, uint32_t value)
{
	if (!ktest_mm_user_word(uva) || ktest_mm_store(uva, value))
		return -GUEST_EFAULT;
	return 0;
}

/* The same for a load: 0 if the word there is expected, 1 if not. */
int ktest_mm_user_load(uint32_t uva, uint32_t expected)
{
	uint32_t v;

	if (!ktest_mm_user_word(uva) || ktest_mm_load(uva, &v))
		return -GUEST_EFAULT;
	return v == expected ? 0 : 1;
}

/* --- CR0.WP --------------------------------------------------------------- */

/*
 * A kernel store to a present, read-only page, CR0.WP set: a page fault,
 * "present, write, supervisor".  The word stored is the one already
 * there, so a store that wrongly succeeds changes nothing.
 */
static int ktest_mm_wp_fault(uint32_t va)
{
	uint32_t word;

	if (!(rcr0() & CR0_WP))
		return 1;
	if (ktest_mm_load(va, &word))
		return 2;
	if (!ktest_mm_store(va, word))
		return 3;
	return ktest_mm_faulted(va, PF_P | PF_W) ? 0 : 4;
}

int ktest_mm_wp_user(uint32_t uva, uint32_t b)
{
	(void)b;
	if (!ktest_mm_user_word(uva))
		return -GUEST_EFAULT;
	return ktest_mm_wp_fault(uva);
}

int ktest_mm_wp_kernel_text(void)
{
	return ktest_mm_wp_fault((uint32_t)kernel_start);
}

/* With CR0.WP clear, the kernel may write a read-only user page; then WP is set again. */
int ktest_mm_wp_clear_store(uint32_t uva, uint32_t value)
{
	uint32_t flags, cr0;
	bool fault;

	if (!ktest_mm_user_word(uva))
		return -GUEST_EFAULT;
	flags = irq_save();
	cr0 = rcr0();
	lcr0(cr0 & ~CR0_WP);
	fault = ktest_mm_store(uva, value);
	lcr0(cr0);
	irq_restore(flags);
	if (!(cr0 & CR0_WP))
		return 1;
	if (fault)
		return 2;
	return rcr0() & CR0_WP ? 0 : 3;
}

/* --- Accessed and dirty bits ---------------------------------------------- */

static uint32_t *ktest_mm_user_pte(uint32_t uva)
{
	uint32_t *pte;

	if (uva >= KERNEL_BASE)
		return 0;
	pte = vm_walk(proc_current->pgdir, uva, 0);
	return pte && (*pte & PTE_P) ? pte : 0;
}

int ktest_mm_pte_flags(uint32_t uva, uint32_t b)
{
	uint32_t *pte = ktest_mm_user_pte(uva);

	(void)b;
	return pte ? (int)(*pte & KTEST_MM_FLAGS) : -GUEST_EFAULT;
}

/* Clear the bits the CPU sets, and flush: the next access must set them again. */
int ktest_mm_pte_clear_ad(uint32_t uva, uint32_t b)
{
	uint32_t *pte = ktest_mm_user_pte(uva);

	(void)b;
	if (!pte)
		return -GUEST_EFAULT;
	*pte &= ~(uint32_t)(PTE_A | PTE_D);
	invlpg(uva);
	return 0;
}

/* --- 4 MiB pages ---------------------------------------------------------- */

/*
 * Called at boot, before the page allocator exists: keep physical 4-8 MiB
 * - the first 4 MiB-aligned region above the kernel image, which ends
 * below 4 MiB (guest/kernel.ld) - for bigpage, if memory is big enough to
 * spare it.  That depends on the memory size only, never on timing.
 */
uint32_t ktest_mm_reserve(uint32_t mem_end)
{
	if (mem_end >= KTEST_MM_BIG_MIN_MEMORY && V2P(kernel_end) <= LARGE_PAGE_SIZE)
		ktest_mm_big_pa = LARGE_PAGE_SIZE;
	return ktest_mm_big_pa;
}

/*
 * Map the region, zeroed, as one user-writable 4 MiB page at uva: a page
 * directory entry with PS set, no page table.  uva must lie below the
 * program, where nothing else can ever be (vm.c knows to leave such an
 * entry alone).  A new mapping needs no flush.
 */
int ktest_mm_big_map(uint32_t uva, uint32_t b)
{
	struct proc *p = proc_current;
	uint32_t *pde = &p->pgdir[PDE_INDEX(uva)];

	(void)b;
	if (!ktest_mm_big_pa)
		return -GUEST_ENOMEM;
	if (uva % LARGE_PAGE_SIZE || uva >= KERNEL_BASE || uva + LARGE_PAGE_SIZE > p->heap_start ||
	    (*pde & PTE_P))
		return -GUEST_EINVAL;
	memset(P2V(ktest_mm_big_pa), 0, LARGE_PAGE_SIZE);
	*pde = ktest_mm_big_pa | PTE_USER_RW | PTE_PS;
	return 0;
}

/* The region seen through the kernel's direct map: 0 if it holds the pattern. */
int ktest_mm_big_check(uint32_t salt, uint32_t b)
{
	const uint32_t *words = P2V(ktest_mm_big_pa);

	(void)b;
	if (!ktest_mm_big_pa)
		return -GUEST_ENOMEM;
	for (uint32_t i = 0; i < LARGE_PAGE_SIZE / 4; i++)
		if (words[i] != ktest_pattern(i * 4, salt))
			return 1;
	return 0;
}

static bool ktest_mm_in_big(uint32_t pa)
{
	return ktest_mm_big_pa && pa - ktest_mm_big_pa < LARGE_PAGE_SIZE;
}

/* Map frame index of the region as an ordinary 4 KiB user page at uva. */
int ktest_mm_big_alias(uint32_t uva, uint32_t index)
{
	struct proc *p = proc_current;
	uint32_t *pte;

	if (!ktest_mm_big_pa)
		return -GUEST_ENOMEM;
	if (index >= PT_ENTRIES || uva % PAGE_SIZE || uva + PAGE_SIZE > p->heap_start)
		return -GUEST_EINVAL;
	pte = vm_walk(p->pgdir, uva, 1);
	if (!pte)
		return -GUEST_ENOMEM;
	if (*pte & PTE_P)
		return -GUEST_EINVAL;
	*pte = (ktest_mm_big_pa + index * PAGE_SIZE) | PTE_USER_RW;
	return 0;
}

int ktest_mm_pde_flags(uint32_t uva, uint32_t b)
{
	(void)b;
	if (uva >= KERNEL_BASE)
		return -GUEST_EFAULT;
	return (int)(proc_current->pgdir[PDE_INDEX(uva)] & KTEST_MM_FLAGS);
}

/*
 * Remove the 4 MiB page at big_va and the alias at alias_va, if they are
 * ours, and flush both: one invlpg anywhere in a 4 MiB page drops all of
 * its translations.
 */
int ktest_mm_big_unmap(uint32_t big_va, uint32_t alias_va)
{
	uint32_t *pgdir = proc_current->pgdir, *pde, *pte;

	if (big_va >= KERNEL_BASE || alias_va >= KERNEL_BASE)
		return -GUEST_EINVAL;
	pde = &pgdir[PDE_INDEX(big_va)];
	if ((*pde & PTE_P) && (*pde & PTE_PS) && ktest_mm_in_big(*pde & PDE_LARGE_FRAME)) {
		*pde = 0;
		invlpg(big_va);
	}
	pte = vm_walk(pgdir, alias_va, 0);
	if (pte && (*pte & PTE_P) && ktest_mm_in_big(*pte & PTE_FRAME)) {
		*pte = 0;
		invlpg(alias_va);
	}
	return 0;
}

/* --- Where programs may not look ------------------------------------------ */

/*
 * Load a word from va in kernel mode: 0 if it could be read, else which
 * exception stopped it (KTEST_FAULTED).  The value is never returned.
 */
int ktest_mm_probe(uint32_t va, uint32_t b)
{
	uint32_t v;

	(void)b;
	if (!ktest_mm_load(va, &v))
		return 0;
	return KTEST_FAULTED((int)extable_last.trapno, (int)extable_last.err);
}

/* The kernel's own page directory, whose kernel half every process shares. */
int ktest_mm_kernel_pgdir(uint32_t a, uint32_t b)
{
	(void)a;
	(void)b;
	return (int)(uint32_t)vm_kernel_pgdir;
}
