/*
 * ktest_shadow.c - page tables as a shadow MMU finds them hard to follow.
 *
 * A VMM with shadow page tables (the chapter's "Aside: hypervisors and
 * hardware-managed TLBs") shows the CPU tables of its own, built from
 * ours.  The simplest one is a virtual TLB: it forgets everything on a
 * CR3 load and refills entry by entry, on faults.  A faster one keeps its
 * shadows across CR3 loads, and so must notice every store to one of our
 * page tables - typically by write-protecting them and emulating the
 * stores that fault.  That is where it goes wrong, and each check here is
 * one way it can:
 *
 *  - a page table shared by two directories: a store to it changes both
 *    address spaces, also the one not active at the time;
 *  - a directory that maps itself: the same page is a directory, a page
 *    table and data, and entries are written through that window;
 *  - a frame remapped in one address space stays mapped in the other;
 *  - a changed entry: without invlpg the CPU may keep the old translation
 *    (or not), after invlpg it must not;
 *  - one frame mapped by a 4 MiB page (the kernel's direct map) and by a
 *    4 KiB page: two shadows of one frame, which must agree;
 *  - CR0.WP cleared and set again, and CR4.PGE with global pages;
 *  - entries written one byte, two bytes, or four bytes straddling two
 *    entries at a time;
 *  - a page table freed and handed out again as data, and data as a page
 *    table.
 *
 * Each check builds its own address spaces - directories from vm_create,
 * page tables and frames from the allocator - at scratch addresses far
 * above any test program's heap, switches CR3 to them with interrupts
 * off, and before returning switches back to the process's directory and
 * frees everything.  Every frame is filled with a word of its own, so a
 * load through a test address says which frame it reached: the expected
 * one, the one the CPU may still remember, or - a failure - anything
 * else, such as the allocator's poison.  Loads and stores through test
 * addresses go through the exception table (ktest_mm_load/_store), so a
 * wrong translation is a FAIL, not a panic.  Step 1 of every check means
 * the scratch addresses were not free, step 2 that memory ran out; the
 * rest are numbered in the code.
 *
 * The tools at the end (KTEST_FLIP*) switch one page of the calling
 * process between two frames, one page table store each, for ptupdate.
 */
#include <stdbool.h>

#include "cpu.h"
#include "extable.h"
#include "guest_abi.h"
#include "ktest.h"
#include "ktest_abi.h"
#include "memlayout.h"
#include "palloc.h"
#include "proc.h"
#include "str.h"
#include "vm.h"

/*
 * Scratch addresses: two page tables' worth at KTEST_SHADOW_VA, and the
 * recursive window at KTEST_SHADOW_SELF.  A not-present fault there is
 * offered to the process's demand-zero first (fault.c), so they must lie
 * outside its heap and stack - which ktest_shadow_scratch_free checks.
 */
#define KTEST_SHADOW_VA		0x50000000u
#define KTEST_SHADOW_VA2	(KTEST_SHADOW_VA + LARGE_PAGE_SIZE)
#define KTEST_SHADOW_SELF	0x70000000u
#define KTEST_SHADOW_SCRATCH_END (KTEST_SHADOW_SELF + LARGE_PAGE_SIZE)

#define KTEST_SHADOW_MAX_PAGES	8
#define KTEST_SHADOW_MAX_DIRS	2
#define KTEST_SHADOW_BIG_TRIES	64	/* pages to try for one in a 4 MiB mapping */
#define KTEST_SHADOW_ROUNDS	64	/* times a recycled page table is rewritten */
#define KTEST_SHADOW_KERNEL_RW	(PTE_P | PTE_W)
#define KTEST_SHADOW_USER_RO	(PTE_P | PTE_U)
#define KTEST_SHADOW_AD		(PTE_A | PTE_D)	/* bits the CPU may set on its own */
#define KTEST_SHADOW_CPUID_PGE	(1u << 13)	/* CPUID leaf 1, EDX */

/* What each frame holds, so that a load tells which frame it reached. */
#define KTEST_SHADOW_F		0xf0f0f0f0u
#define KTEST_SHADOW_G		0x96969696u
#define KTEST_SHADOW_H		0x3c3c3c3cu
#define KTEST_SHADOW_STORED	0x5709ed00u

/*
 * What one check allocated: its directories and its other pages, all
 * given back by ktest_shadow_release.  Page tables and frames are freed
 * from here, never by walking a directory, so one frame may sit in any
 * number of page tables, and a directory may map itself.
 */
struct ktest_shadow_pool {
	uint32_t *dir[KTEST_SHADOW_MAX_DIRS];
	void *page[KTEST_SHADOW_MAX_PAGES];
	int dirs, pages;
};

/* --- Building and tearing down ------------------------------------------- */

_Static_assert(KTEST_SHADOW_SCRATCH_END <= USER_STACK_BOTTOM, "scratch addresses in the stack");

static bool ktest_shadow_scratch_free(void)
{
	return proc_current->brk <= KTEST_SHADOW_VA;
}

/* A page whose every word is fill (0: a page table with nothing in it). */
static uint32_t *ktest_shadow_page(struct ktest_shadow_pool *pool, uint32_t fill)
{
	uint32_t *page;

	if (pool->pages == KTEST_SHADOW_MAX_PAGES || !(page = palloc_alloc()))
		return 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		page[i] = fill;
	pool->page[pool->pages++] = page;
	return page;
}

/* A directory with the kernel half and nothing else. */
static uint32_t *ktest_shadow_dir(struct ktest_shadow_pool *pool)
{
	uint32_t *dir;

	if (pool->dirs == KTEST_SHADOW_MAX_DIRS || !(dir = vm_create()))
		return 0;
	pool->dir[pool->dirs++] = dir;
	return dir;
}

/* Back to the process's own address space, with its CR3 load. */
static void ktest_shadow_leave(void)
{
	vm_switch(proc_current->pgdir);
}

/*
 * Everything the check allocated goes back.  The directories' user
 * halves point at our own pages (or at the directory itself), so they are
 * emptied first and vm_free finds nothing of ours to free twice.
 */
static void ktest_shadow_release(struct ktest_shadow_pool *pool)
{
	ktest_shadow_leave();
	for (int i = 0; i < pool->dirs; i++) {
		memset(pool->dir[i], 0, PDE_INDEX(KERNEL_BASE) * sizeof(uint32_t));
		vm_free(pool->dir[i]);
	}
	for (int i = 0; i < pool->pages; i++)
		palloc_free(pool->page[i]);
	pool->dirs = pool->pages = 0;
}

/*
 * One store to a page table or directory entry, exactly as written: the
 * store a shadow MMU must notice.  volatile, so that the compiler neither
 * drops nor merges it.
 */
static void ktest_shadow_set(uint32_t *entry, uint32_t value)
{
	*(volatile uint32_t *)entry = value;
}

/* Install page table pt for the 4 MiB around va. */
static void ktest_shadow_use_pt(uint32_t *dir, uint32_t va, const uint32_t *pt)
{
	ktest_shadow_set(&dir[PDE_INDEX(va)], V2P(pt) | PTE_USER_RW);
}

static uint32_t *ktest_shadow_pte(uint32_t *pt, uint32_t va)
{
	return &pt[PTE_INDEX(va)];
}

/* --- Looking through the test addresses ---------------------------------- */

/* The word at va is want, in the active address space. */
static bool ktest_shadow_reads(uint32_t va, uint32_t want)
{
	uint32_t v;

	return !ktest_mm_load(va, &v) && v == want;
}

/* ...or either of two words: where the CPU may still use an old translation. */
static bool ktest_shadow_reads_either(uint32_t va, uint32_t old, uint32_t new)
{
	uint32_t v;

	return !ktest_mm_load(va, &v) && (v == old || v == new);
}

/* The word at va is want, seen from directory dir (switched to). */
static bool ktest_shadow_sees(uint32_t *dir, uint32_t va, uint32_t want)
{
	vm_switch(dir);
	return ktest_shadow_reads(va, want);
}

/* A load at va faults: not present, a read, in supervisor mode. */
static bool ktest_shadow_load_faults(uint32_t va)
{
	uint32_t v;

	return ktest_mm_load(va, &v) && ktest_mm_faulted(va, 0);
}

/* A store at va faults: present but read-only, a write, supervisor. */
static bool ktest_shadow_store_faults(uint32_t va, uint32_t v)
{
	return ktest_mm_store(va, v) && ktest_mm_faulted(va, PF_P | PF_W);
}

/*
 * Run one check: interrupts off while CR3 holds one of its directories,
 * and whatever it allocated freed however it ended.
 */
static int ktest_shadow_run(int (*steps)(struct ktest_shadow_pool *))
{
	struct ktest_shadow_pool pool = { .dirs = 0, .pages = 0 };
	uint32_t flags;
	int step;

	if (!ktest_shadow_scratch_free())
		return 1;
	flags = irq_save();
	step = steps(&pool);
	ktest_shadow_release(&pool);
	irq_restore(flags);
	return step;
}

/* --- One page table, two directories ------------------------------------- */

/*
 * Directories a and b share one page table.  A change to it must reach
 * both: the active one after invlpg, the other at its next CR3 load -
 * even though it was not active when the store happened, and even when
 * neither was.
 */
static int ktest_shadow_shared_pt_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *a = ktest_shadow_dir(pool), *b = ktest_shadow_dir(pool);
	uint32_t *pt = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t va = KTEST_SHADOW_VA + 5 * PAGE_SIZE, *pte;

	if (!a || !b || !pt || !f || !g)
		return 2;
	pte = ktest_shadow_pte(pt, va);
	ktest_shadow_use_pt(a, va, pt);
	ktest_shadow_use_pt(b, va, pt);
	ktest_shadow_set(pte, V2P(f) | KTEST_SHADOW_KERNEL_RW);
	if (!ktest_shadow_sees(a, va, KTEST_SHADOW_F))
		return 3;
	if (!ktest_shadow_sees(b, va, KTEST_SHADOW_F))
		return 4;
	/* Changed while b is active. */
	ktest_shadow_set(pte, V2P(g) | KTEST_SHADOW_KERNEL_RW);
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G))
		return 5;
	if (!ktest_shadow_sees(a, va, KTEST_SHADOW_G))
		return 6;
	/* A store through a lands in g, for b to see. */
	if (ktest_mm_store(va, KTEST_SHADOW_STORED) || g[0] != KTEST_SHADOW_STORED)
		return 7;
	if (!ktest_shadow_sees(b, va, KTEST_SHADOW_STORED))
		return 8;
	/* Changed while neither is active. */
	ktest_shadow_leave();
	ktest_shadow_set(pte, V2P(f) | KTEST_SHADOW_KERNEL_RW);
	if (!ktest_shadow_sees(a, va, KTEST_SHADOW_F))
		return 9;
	if (!ktest_shadow_sees(b, va, KTEST_SHADOW_F))
		return 10;
	/* Removed while b is active: gone from both. */
	ktest_shadow_set(pte, 0);
	invlpg(va);
	if (!ktest_shadow_load_faults(va))
		return 11;
	vm_switch(a);
	return ktest_shadow_load_faults(va) ? 0 : 12;
}

int ktest_shadow_shared_pt(void)
{
	return ktest_shadow_run(ktest_shadow_shared_pt_steps);
}

/* --- A directory that maps itself ---------------------------------------- */

/*
 * Directory entry `self` points at the directory: walking through it, the
 * CPU takes the directory for a page table, so the 4 MiB at
 * KTEST_SHADOW_SELF becomes a window onto the page tables, page i of it
 * being the page table of directory entry i - and page `self` the
 * directory itself.  Operating systems map their page tables this way;
 * for a shadow MMU one page is a directory, a page table and data at
 * once, and its entries change by ordinary stores through the window.
 */
static uint32_t ktest_shadow_window(uint32_t pde_index)
{
	return KTEST_SHADOW_SELF | pde_index << PAGE_SHIFT;
}

/* The entry for va as seen through the window: the address to store to. */
static uint32_t ktest_shadow_window_pte(uint32_t va)
{
	return ktest_shadow_window(PDE_INDEX(va)) + PTE_INDEX(va) * 4;
}

/* Does the entry at window address wva hold frame pa?  (The CPU may have set A or D.) */
static bool ktest_shadow_window_holds(uint32_t wva, uint32_t pa)
{
	uint32_t v;

	return !ktest_mm_load(wva, &v) && (v & PTE_FRAME) == pa;
}

static int ktest_shadow_recursive_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool);
	uint32_t *pt = ktest_shadow_page(pool, 0), *pt2 = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t self = PDE_INDEX(KTEST_SHADOW_SELF);
	uint32_t va = KTEST_SHADOW_VA + 3 * PAGE_SIZE, va2 = KTEST_SHADOW_VA2 + 7 * PAGE_SIZE;
	uint32_t dir_view = ktest_shadow_window(self);

	if (!dir || !pt || !pt2 || !f || !g)
		return 2;
	ktest_shadow_set(&dir[self], V2P(dir) | KTEST_SHADOW_KERNEL_RW);
	ktest_shadow_use_pt(dir, va, pt);
	pt2[PTE_INDEX(va2)] = V2P(f) | KTEST_SHADOW_KERNEL_RW;
	vm_switch(dir);
	/* The window shows the directory, and itself in it. */
	if (!ktest_shadow_window_holds(dir_view + PDE_INDEX(va) * 4, V2P(pt)) ||
	    !ktest_shadow_window_holds(dir_view + self * 4, V2P(dir)))
		return 3;
	/* A page table entry written through the window: a new mapping. */
	if (ktest_mm_store(ktest_shadow_window_pte(va), V2P(f) | KTEST_SHADOW_KERNEL_RW))
		return 4;
	if ((*ktest_shadow_pte(pt, va) & PTE_FRAME) != V2P(f))
		return 5;
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 6;
	/* Changed through the window: seen after invlpg. */
	if (ktest_mm_store(ktest_shadow_window_pte(va), V2P(g) | KTEST_SHADOW_KERNEL_RW))
		return 7;
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G))
		return 8;
	/* A directory entry written through the window onto the directory. */
	if (ktest_mm_store(dir_view + PDE_INDEX(va2) * 4, V2P(pt2) | PTE_USER_RW))
		return 9;
	if (!ktest_shadow_reads(va2, KTEST_SHADOW_F))
		return 10;
	/* ...and at once the new page table is in the window too. */
	if (!ktest_shadow_window_holds(ktest_shadow_window_pte(va2), V2P(f)))
		return 11;
	/* Removed through the window: both translations gone after invlpg. */
	if (ktest_mm_store(dir_view + PDE_INDEX(va2) * 4, 0))
		return 12;
	invlpg(va2);
	invlpg(ktest_shadow_window(PDE_INDEX(va2)));
	if (!ktest_shadow_load_faults(va2))
		return 13;
	if (!ktest_shadow_load_faults(ktest_shadow_window_pte(va2)))
		return 14;
	/* A CR3 reload: the window and what it changed are still right. */
	lcr3(rcr3());
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G) ||
	    !ktest_shadow_window_holds(ktest_shadow_window_pte(va), V2P(g)))
		return 15;
	return 0;
}

int ktest_shadow_recursive(void)
{
	return ktest_shadow_run(ktest_shadow_recursive_steps);
}

/* --- A frame remapped in one of two address spaces ----------------------- */

/*
 * Directories a and b map frame f at the same address through page
 * tables of their own.  a moves its page to g: a sees g, b still sees f.
 * Then b unmaps its page: a keeps g.  A shadow MMU that keys what it
 * knows by frame, or by address alone, mixes the two up.
 */
static int ktest_shadow_remap_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *a = ktest_shadow_dir(pool), *b = ktest_shadow_dir(pool);
	uint32_t *pta = ktest_shadow_page(pool, 0), *ptb = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t va = KTEST_SHADOW_VA + 9 * PAGE_SIZE;

	if (!a || !b || !pta || !ptb || !f || !g)
		return 2;
	ktest_shadow_use_pt(a, va, pta);
	ktest_shadow_use_pt(b, va, ptb);
	ktest_shadow_set(ktest_shadow_pte(pta, va), V2P(f) | PTE_USER_RW);
	ktest_shadow_set(ktest_shadow_pte(ptb, va), V2P(f) | PTE_USER_RW);
	if (!ktest_shadow_sees(a, va, KTEST_SHADOW_F))
		return 3;
	if (!ktest_shadow_sees(b, va, KTEST_SHADOW_F))
		return 4;
	vm_switch(a);
	ktest_shadow_set(ktest_shadow_pte(pta, va), V2P(g) | PTE_USER_RW);
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G))
		return 5;
	if (ktest_mm_store(va, KTEST_SHADOW_STORED) || f[0] != KTEST_SHADOW_F)
		return 6;
	if (!ktest_shadow_sees(b, va, KTEST_SHADOW_F))
		return 7;
	if (!ktest_shadow_sees(a, va, KTEST_SHADOW_STORED))
		return 8;
	vm_switch(b);
	ktest_shadow_set(ktest_shadow_pte(ptb, va), 0);
	invlpg(va);
	if (!ktest_shadow_load_faults(va))
		return 9;
	return ktest_shadow_sees(a, va, KTEST_SHADOW_STORED) ? 0 : 10;
}

int ktest_shadow_remap(void)
{
	return ktest_shadow_run(ktest_shadow_remap_steps);
}

/* --- Stale and fresh translations ---------------------------------------- */

/*
 * x86 lets the CPU go on using a translation after its entry changed,
 * until invlpg or a CR3 load - or not: it may have dropped it already.
 * So between the store and the flush either answer is right (the old
 * frame or the new, the old rights or the new, the page or a fault), and
 * only something else is wrong; after the flush only the new answer is.
 */
static int ktest_shadow_stale_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool), *pt = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t va = KTEST_SHADOW_VA + 17 * PAGE_SIZE, *pte, v;

	if (!dir || !pt || !f || !g)
		return 2;
	pte = ktest_shadow_pte(pt, va);
	ktest_shadow_use_pt(dir, va, pt);
	ktest_shadow_set(pte, V2P(f) | KTEST_SHADOW_KERNEL_RW);
	vm_switch(dir);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 3;
	/* Another frame. */
	ktest_shadow_set(pte, V2P(g) | KTEST_SHADOW_KERNEL_RW);
	if (!ktest_shadow_reads_either(va, KTEST_SHADOW_F, KTEST_SHADOW_G))
		return 4;
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G))
		return 5;
	ktest_shadow_set(pte, V2P(f) | KTEST_SHADOW_KERNEL_RW);
	lcr3(rcr3());
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 6;
	/* Fewer rights: a store may still get through, to f, until invlpg. */
	if (ktest_mm_store(va, KTEST_SHADOW_STORED))
		return 7;
	ktest_shadow_set(pte, V2P(f) | PTE_P);
	if (ktest_mm_store(va, KTEST_SHADOW_F) && !ktest_mm_faulted(va, PF_P | PF_W))
		return 8;
	if (f[0] != KTEST_SHADOW_F && f[0] != KTEST_SHADOW_STORED)
		return 9;
	invlpg(va);
	if (!ktest_shadow_store_faults(va, KTEST_SHADOW_G))
		return 10;
	/* Not present: the old page or a fault, until invlpg; then a fault. */
	ktest_shadow_set(pte, 0);
	if (ktest_mm_load(va, &v) ? !ktest_mm_faulted(va, 0) : v != f[0])
		return 11;
	invlpg(va);
	return ktest_shadow_load_faults(va) ? 0 : 12;
}

int ktest_shadow_stale(void)
{
	return ktest_shadow_run(ktest_shadow_stale_steps);
}

/* --- A 4 MiB page and a 4 KiB page on one frame -------------------------- */

/* Is the kernel's direct-map address of page mapped by a 4 MiB page? */
static bool ktest_shadow_in_big_page(const void *page)
{
	return (vm_kernel_pgdir[PDE_INDEX((uint32_t)page)] & PTE_PS) != 0;
}

/*
 * A page of the allocator that the kernel's direct map reaches through a
 * 4 MiB page (not the first 4 MiB, which has a page table).  The pages
 * passed over are held until the end, or the allocator would hand the
 * same one out again; in practice the first page tried is the one.
 */
static uint32_t *ktest_shadow_big_frame(struct ktest_shadow_pool *pool, uint32_t fill)
{
	void *passed[KTEST_SHADOW_BIG_TRIES];
	uint32_t *found = 0;
	int n = 0;

	while (n < KTEST_SHADOW_BIG_TRIES && pool->pages < KTEST_SHADOW_MAX_PAGES) {
		uint32_t *page = palloc_alloc();

		if (!page)
			break;
		if (ktest_shadow_in_big_page(page)) {
			for (uint32_t j = 0; j < PT_ENTRIES; j++)
				page[j] = fill;
			pool->page[pool->pages++] = found = page;
			break;
		}
		passed[n++] = page;
	}
	while (n)
		palloc_free(passed[--n]);
	return found;
}

/*
 * Frame x, mapped by the kernel's 4 MiB direct-map page and by a 4 KiB
 * page at va.  Every word written through one is read back through the
 * other, both ways round.  A shadow MMU splits the 4 MiB page into small
 * shadow pages; both shadows must lead to the same machine frame.
 */
static int ktest_shadow_big_alias_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool), *pt = ktest_shadow_page(pool, 0);
	uint32_t *x = ktest_shadow_big_frame(pool, KTEST_SHADOW_H);
	uint32_t va = KTEST_SHADOW_VA + 33 * PAGE_SIZE;

	if (!dir || !pt || !x)
		return 2;
	ktest_shadow_use_pt(dir, va, pt);
	ktest_shadow_set(ktest_shadow_pte(pt, va), V2P(x) | PTE_USER_RW);
	vm_switch(dir);
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (!ktest_shadow_reads(va + i * 4, KTEST_SHADOW_H))
			return 3;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (ktest_mm_store(va + i * 4, ktest_pattern(i * 4, KTEST_SHADOW_F)))
			return 4;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (((volatile uint32_t *)x)[i] != ktest_pattern(i * 4, KTEST_SHADOW_F))
			return 5;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		((volatile uint32_t *)x)[i] = ktest_pattern(i * 4, KTEST_SHADOW_G);
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (!ktest_shadow_reads(va + i * 4, ktest_pattern(i * 4, KTEST_SHADOW_G)))
			return 6;
	return 0;
}

int ktest_shadow_big_alias(void)
{
	return ktest_shadow_run(ktest_shadow_big_alias_steps);
}

/* --- CR0.WP -------------------------------------------------------------- */

/*
 * A read-only user page, read first so that its translation is cached.
 * WP set: a kernel store faults.  WP clear: it succeeds.  WP set again:
 * it faults again - a shadow MMU that made the page writable to let the
 * kernel store through under WP=0 must take that back.
 */
static int ktest_shadow_wp_steps(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool), *pt = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t va = KTEST_SHADOW_VA + 65 * PAGE_SIZE, cr0 = rcr0();
	bool fault;

	if (!dir || !pt || !f)
		return 2;
	if (!(cr0 & CR0_WP))
		return 3;
	ktest_shadow_use_pt(dir, va, pt);
	ktest_shadow_set(ktest_shadow_pte(pt, va), V2P(f) | KTEST_SHADOW_USER_RO);
	vm_switch(dir);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 4;
	if (!ktest_shadow_store_faults(va, KTEST_SHADOW_G) || f[0] != KTEST_SHADOW_F)
		return 5;
	lcr0(cr0 & ~CR0_WP);
	fault = ktest_mm_store(va, KTEST_SHADOW_STORED);
	lcr0(cr0);
	if (fault || f[0] != KTEST_SHADOW_STORED)
		return 6;
	if (!ktest_shadow_reads(va, KTEST_SHADOW_STORED))
		return 7;
	if (!ktest_shadow_store_faults(va, KTEST_SHADOW_G) || f[0] != KTEST_SHADOW_STORED)
		return 8;
	return rcr0() == cr0 ? 0 : 9;
}

int ktest_shadow_wp(void)
{
	return ktest_shadow_run(ktest_shadow_wp_steps);
}

/* --- CR4.PGE and global pages -------------------------------------------- */

static bool ktest_shadow_has_pge(void)
{
	uint32_t a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return (d & KTEST_SHADOW_CPUID_PGE) != 0;
}

static bool ktest_shadow_lcr4(uint32_t v)
{
	int fault;

	asm volatile(EXTABLE_TRY("movl %[v], %%cr4") : [fault] "=&r"(fault) : [v] "r"(v) : "memory");
	return fault;
}

/*
 * With CR4.PGE, a page marked global may outlive a CR3 load - so after a
 * change, a CR3 reload may or may not show it - but invlpg drops it, and
 * so does turning PGE off.  The kernel uses no global pages otherwise;
 * the one made here is unmapped and flushed, and CR4 restored, before
 * the check returns (ktest_shadow_pge).
 */
static int ktest_shadow_pge_steps(uint32_t *pte, uint32_t va, uint32_t *f, uint32_t *g,
				  uint32_t cr4)
{
	uint32_t global = KTEST_SHADOW_KERNEL_RW | PTE_G;

	if (ktest_shadow_lcr4(cr4 | CR4_PGE) || !(rcr4() & CR4_PGE))
		return 3;
	ktest_shadow_set(pte, V2P(f) | global);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 4;
	ktest_shadow_set(pte, V2P(g) | global);
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G))
		return 5;
	ktest_shadow_set(pte, V2P(f) | global);
	lcr3(rcr3());
	if (!ktest_shadow_reads_either(va, KTEST_SHADOW_G, KTEST_SHADOW_F))
		return 6;
	if (ktest_shadow_lcr4(cr4 & ~CR4_PGE) || ktest_shadow_lcr4(cr4 | CR4_PGE))
		return 7;
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 8;
	ktest_shadow_set(pte, V2P(g) | global);
	lcr3(rcr3());
	if (ktest_shadow_lcr4(cr4 & ~CR4_PGE))
		return 9;
	return ktest_shadow_reads(va, KTEST_SHADOW_G) ? 0 : 10;
}

/*
 * Without PGE (CPUID says so) there is nothing to check: PASS, the same
 * line as with it, so that the output does not depend on the CPU.
 */
static int ktest_shadow_pge_check(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool), *pt = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t va = KTEST_SHADOW_VA + 129 * PAGE_SIZE, cr4 = rcr4(), *pte;
	int step;

	if (!ktest_shadow_has_pge())
		return 0;
	if (!dir || !pt || !f || !g)
		return 2;
	pte = ktest_shadow_pte(pt, va);
	ktest_shadow_use_pt(dir, va, pt);
	vm_switch(dir);
	step = ktest_shadow_pge_steps(pte, va, f, g, cr4);
	ktest_shadow_set(pte, 0);
	invlpg(va);
	ktest_shadow_lcr4(cr4);
	if (!step && rcr4() != cr4)
		step = 11;
	return step;
}

int ktest_shadow_pge(void)
{
	return ktest_shadow_run(ktest_shadow_pge_check);
}

/* --- Entries written in pieces ------------------------------------------- */

/*
 * Stores of 1, 2 and 4 bytes to page table entries, at any alignment:
 * x86 allows them all, and a shadow MMU that emulates stores to page
 * tables must handle each - a byte of flags, half an entry, and a 4-byte
 * store at entry + 2 that ends one entry and begins the next.
 */
static void ktest_shadow_set8(void *p, uint8_t v)
{
	asm volatile("movb %b1, (%0)" : : "r"(p), "q"(v) : "memory");
}

static void ktest_shadow_set16(void *p, uint16_t v)
{
	asm volatile("movw %w1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static void ktest_shadow_set32(void *p, uint32_t v)
{
	asm volatile("movl %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static uint16_t ktest_shadow_lo16(uint32_t v)
{
	return (uint16_t)(v & 0xffff);
}

static uint16_t ktest_shadow_hi16(uint32_t v)
{
	return (uint16_t)(v >> 16);
}

/*
 * pte[0] maps va, pte[1] maps va + PAGE_SIZE.  Entries at each stage:
 *   start            f, writable          g, writable
 *   1-byte store     f, read-only         g, writable
 *   two 2-byte       g, read-only         g, writable
 *   2 + 2 + 4 bytes  f, writable          h, read-only
 * where the last 4-byte store, at pte + 2, writes the frame's top half of
 * pte[0] and the flags and frame bottom of pte[1]: until it, both entries
 * are half old, half new, and nothing touches them.
 */
static int ktest_shadow_partial_steps(uint32_t *pte, uint32_t va, uint32_t f, uint32_t g,
				      uint32_t h)
{
	uint8_t *bytes = (uint8_t *)pte;
	uint32_t va1 = va + PAGE_SIZE;

	if (!ktest_shadow_reads(va, KTEST_SHADOW_F) || ktest_mm_store(va, KTEST_SHADOW_F))
		return 3;
	if (!ktest_shadow_reads(va1, KTEST_SHADOW_G) || ktest_mm_store(va1, KTEST_SHADOW_G))
		return 4;
	ktest_shadow_set8(bytes, (uint8_t)(*(volatile uint8_t *)bytes & ~PTE_W));
	invlpg(va);
	if (!ktest_shadow_store_faults(va, KTEST_SHADOW_STORED))
		return 5;
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F))
		return 6;
	ktest_shadow_set16(bytes, ktest_shadow_lo16(g | PTE_P));
	ktest_shadow_set16(bytes + 2, ktest_shadow_hi16(g));
	invlpg(va);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_G) || !ktest_shadow_store_faults(va, 0))
		return 7;
	ktest_shadow_set16(bytes, ktest_shadow_lo16(f | KTEST_SHADOW_KERNEL_RW));
	ktest_shadow_set16(bytes + 6, ktest_shadow_hi16(h));
	ktest_shadow_set32(bytes + 2, (uint32_t)ktest_shadow_hi16(f) |
					      (uint32_t)ktest_shadow_lo16(h | PTE_P) << 16);
	invlpg(va);
	invlpg(va1);
	if ((pte[0] & ~KTEST_SHADOW_AD) != (f | KTEST_SHADOW_KERNEL_RW) ||
	    (pte[1] & ~KTEST_SHADOW_AD) != (h | PTE_P))
		return 8;
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F) || ktest_mm_store(va, KTEST_SHADOW_STORED))
		return 9;
	if (!ktest_shadow_reads(va1, KTEST_SHADOW_H) || !ktest_shadow_store_faults(va1, 0))
		return 10;
	return 0;
}

static int ktest_shadow_partial_check(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool), *pt = ktest_shadow_page(pool, 0);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	uint32_t *g = ktest_shadow_page(pool, KTEST_SHADOW_G);
	uint32_t *h = ktest_shadow_page(pool, KTEST_SHADOW_H);
	uint32_t va = KTEST_SHADOW_VA + 257 * PAGE_SIZE, *pte;

	if (!dir || !pt || !f || !g || !h)
		return 2;
	pte = ktest_shadow_pte(pt, va);
	ktest_shadow_use_pt(dir, va, pt);
	ktest_shadow_set(&pte[0], V2P(f) | KTEST_SHADOW_KERNEL_RW);
	ktest_shadow_set(&pte[1], V2P(g) | KTEST_SHADOW_KERNEL_RW);
	vm_switch(dir);
	return ktest_shadow_partial_steps(pte, va, V2P(f), V2P(g), V2P(h));
}

int ktest_shadow_partial(void)
{
	return ktest_shadow_run(ktest_shadow_partial_check);
}

/* --- A page table recycled as data, and data as a page table ------------- */

/* Fill page with round's pattern, and check it. */
static bool ktest_shadow_scribble(uint32_t *page, uint32_t round)
{
	volatile uint32_t *words = page;

	memset(page, (int)round, PAGE_SIZE);
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		words[i] = ktest_pattern(i * 4, round);
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (words[i] != ktest_pattern(i * 4, round))
			return false;
	return true;
}

/*
 * A page table, used and then freed, comes straight back from the
 * allocator (last freed, first reused) - here as data, written over and
 * over with the directory that used it still in CR3.  A shadow MMU that
 * still takes it for a page table must stop intercepting those stores
 * (or at least let them all land), and must not keep mapping va through
 * what is now data.  Then the other way round: the data page becomes a
 * page table again.  The steps own the page between allocations; *spare
 * says which page to free at the end.
 */
static int ktest_shadow_recycle_steps(uint32_t *dir, uint32_t *f, void **spare)
{
	uint32_t va = KTEST_SHADOW_VA + 513 * PAGE_SIZE, *pt = *spare, *data;

	ktest_shadow_use_pt(dir, va, pt);
	ktest_shadow_set(ktest_shadow_pte(pt, va), V2P(f) | KTEST_SHADOW_KERNEL_RW);
	vm_switch(dir);
	if (!ktest_shadow_reads(va, KTEST_SHADOW_F) || ktest_mm_store(va, KTEST_SHADOW_STORED))
		return 3;
	ktest_shadow_set(&dir[PDE_INDEX(va)], 0);
	invlpg(va);
	palloc_free(pt);
	*spare = data = palloc_alloc();
	if (!data)
		return 4;
	for (uint32_t round = 0; round < KTEST_SHADOW_ROUNDS; round++)
		if (!ktest_shadow_scribble(data, round))
			return 5;
	if (!ktest_shadow_load_faults(va))
		return 6;
	lcr3(rcr3());
	if (!ktest_shadow_scribble(data, KTEST_SHADOW_ROUNDS) || !ktest_shadow_load_faults(va))
		return 7;
	/* And back: data turned page table. */
	palloc_free(data);
	*spare = pt = palloc_zalloc();
	if (!pt)
		return 8;
	ktest_shadow_set(ktest_shadow_pte(pt, va), V2P(f) | KTEST_SHADOW_KERNEL_RW);
	ktest_shadow_use_pt(dir, va, pt);
	return ktest_shadow_reads(va, KTEST_SHADOW_STORED) ? 0 : 9;
}

static int ktest_shadow_recycle_check(struct ktest_shadow_pool *pool)
{
	uint32_t *dir = ktest_shadow_dir(pool);
	uint32_t *f = ktest_shadow_page(pool, KTEST_SHADOW_F);
	void *spare = palloc_zalloc();
	int step;

	if (!dir || !f || !spare) {
		if (spare)
			palloc_free(spare);
		return 2;
	}
	step = ktest_shadow_recycle_steps(dir, f, &spare);
	/* The directory may still use spare as its page table: out of CR3 first. */
	ktest_shadow_set(&dir[PDE_INDEX(KTEST_SHADOW_VA)], 0);
	ktest_shadow_leave();
	if (spare)
		palloc_free(spare);
	return step;
}

int ktest_shadow_recycle(void)
{
	return ktest_shadow_run(ktest_shadow_recycle_check);
}

/* --- One page, two frames (ptupdate) ------------------------------------- */

/*
 * KTEST_FLIP_BEGIN gives a present, writable page of the calling process
 * a second frame, filled with ktest_pattern(offset, KTEST_FLIP_SALT);
 * KTEST_FLIP points the page at one frame or the other - one store to
 * its page table entry, one invlpg, nothing else, so that a shadow MMU
 * that intercepts page table writes sees exactly one per call; and
 * KTEST_FLIP_END puts the page's own frame back and frees the second.
 * One page at a time, for one process: a program that dies in between
 * leaves a frame behind, which the kernel's final check reports.
 */
static struct {
	int pid;		/* the process, or 0 */
	uint32_t uva;
	uint32_t own;		/* the page's own frame */
	uint32_t *second;	/* the other one */
} ktest_flip;

/* The caller's present, writable user page at uva, or 0. */
static uint32_t *ktest_shadow_user_page(uint32_t uva)
{
	uint32_t *pte;

	if (uva % PAGE_SIZE || uva >= KERNEL_BASE)
		return 0;
	pte = vm_walk(proc_current->pgdir, uva, 0);
	return pte && (*pte & PTE_USER_RW) == PTE_USER_RW ? pte : 0;
}

/* The entry of the page being flipped, pointing at either of its frames; or 0. */
static uint32_t *ktest_shadow_flip_pte(uint32_t uva)
{
	uint32_t *pte;
	uint32_t frame;

	if (ktest_flip.pid != proc_current->pid || ktest_flip.uva != uva)
		return 0;
	if (!(pte = ktest_shadow_user_page(uva)))
		return 0;
	frame = *pte & PTE_FRAME;
	return frame == ktest_flip.own || frame == V2P(ktest_flip.second) ? pte : 0;
}

int ktest_shadow_flip_begin(uint32_t uva, uint32_t b)
{
	uint32_t *pte = ktest_shadow_user_page(uva), *second;

	(void)b;
	if (ktest_flip.pid || !pte)
		return -GUEST_EINVAL;
	if (!(second = palloc_alloc()))
		return -GUEST_ENOMEM;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		second[i] = ktest_pattern(i * 4, KTEST_FLIP_SALT);
	ktest_flip.pid = proc_current->pid;
	ktest_flip.uva = uva;
	ktest_flip.own = *pte & PTE_FRAME;
	ktest_flip.second = second;
	return 0;
}

int ktest_shadow_flip(uint32_t uva, uint32_t which)
{
	uint32_t *pte = ktest_shadow_flip_pte(uva), frame;

	if (!pte || which > 1)
		return -GUEST_EINVAL;
	frame = which ? V2P(ktest_flip.second) : ktest_flip.own;
	ktest_shadow_set(pte, frame | (*pte & ~PTE_FRAME));
	invlpg(uva);
	return 0;
}

int ktest_shadow_flip_end(uint32_t uva, uint32_t b)
{
	int err = ktest_shadow_flip(uva, 0);

	(void)b;
	if (err)
		return err;
	palloc_free(ktest_flip.second);
	ktest_flip.pid = 0;
	ktest_flip.second = 0;
	return 0;
}
