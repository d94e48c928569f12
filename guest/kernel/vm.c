/*
 * vm.c - virtual memory: the kernel's direct map, and each process's page
 * directory.
 *
 * x86 translates through two levels: the page directory (1024 entries,
 * 4 MiB each) points to page tables (1024 entries, 4 KiB each) - or, with
 * CR4.PSE and the PS bit, a directory entry maps a whole 4 MiB page by
 * itself.  CR3 holds the directory's physical address.  The hardware
 * walks these tables on a TLB miss, which is why a VMM with shadow page
 * tables must follow every change we make to them (the chapter's "Aside:
 * hypervisors and hardware-managed TLBs").
 *
 * The kernel half, from KERNEL_BASE up, is the same in every address
 * space: a direct map of physical memory, built once by vm_init in
 * vm_kernel_pgdir, and copied - the directory entries, not the tables -
 * into every new page directory.  The first 4 MiB, which hold the kernel
 * image, use a page table so that the kernel's code and read-only data
 * can be mapped read-only; the rest uses 4 MiB pages.  The last of those
 * may reach past the end of RAM; nothing ever touches the part that does.
 * Directory entry 1023 (0xffc00000 up) is left empty for the VMM.
 *
 * The user half belongs to one process.  Its page tables and pages are
 * allocated one by one (palloc) and freed when the process exits or
 * execs, so page-table pages are recycled all the time.  Two exceptions,
 * made only by the bigpage self-test (ktest_mm.c): a user directory entry
 * may be a 4 MiB page, and a user page may be memory the allocator does
 * not own.  Neither is ever freed here, and a 4 MiB page is not walked,
 * copied by fork, or mistaken for a page table.
 *
 * TLB rules we follow: a new mapping where nothing was mapped needs no
 * flush (the TLB never caches "not present"); removing or changing a
 * present mapping in the active address space needs invlpg; a new CR3
 * flushes everything (we use no global pages).
 */
#include "cpu.h"
#include "memlayout.h"
#include "palloc.h"
#include "printk.h"
#include "str.h"
#include "vm.h"

#define VM_USER_PDES	PDE_INDEX(KERNEL_BASE)	/* directory entries 0..767 */
#define VM_PTE_FLAGS	0xfffu

static uint32_t vm_kernel_dir[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t vm_kernel_low_pt[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
uint32_t *vm_kernel_pgdir = vm_kernel_dir;
static uint32_t *vm_active;	/* the directory in CR3 */

uint32_t vm_direct_map_end(uint32_t mem_end)
{
	return mem_end < DIRECT_MAP_LIMIT ? mem_end : DIRECT_MAP_LIMIT;
}

/* Physical 0-4 MiB: 4 KiB pages, kernel code and rodata read-only. */
static void vm_map_kernel_low(void)
{
	uint32_t ro_start = V2P(kernel_start), ro_end = V2P(kernel_text_end);

	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint32_t pa = i * PAGE_SIZE;
		int ro = pa >= ro_start && pa < ro_end;

		vm_kernel_low_pt[i] = pa | PTE_P | (ro ? 0 : PTE_W);
	}
	vm_kernel_dir[PDE_INDEX(KERNEL_BASE)] = V2P(vm_kernel_low_pt) | PTE_P | PTE_W;
}

void vm_init(uint32_t mem_end)
{
	uint32_t map_end = vm_direct_map_end(mem_end);

	vm_map_kernel_low();
	for (uint32_t pa = LARGE_PAGE_SIZE; pa < map_end; pa += LARGE_PAGE_SIZE)
		vm_kernel_dir[PDE_INDEX(KERNEL_BASE + pa)] = pa | PTE_P | PTE_W | PTE_PS;

	lcr4(rcr4() | CR4_PSE);
	vm_switch(vm_kernel_dir);
	/* Make the kernel obey read-only pages too: copy-to-user into a
	 * read-only user page must fail, and our own code is read-only. */
	lcr0(rcr0() | CR0_WP);
}

void vm_switch(uint32_t *pgdir)
{
	vm_active = pgdir;
	lcr3(V2P(pgdir));
}

/* A new address space: nothing in the user half, the shared kernel half. */
uint32_t *vm_create(void)
{
	uint32_t *pgdir = palloc_zalloc();

	if (pgdir)
		memcpy(&pgdir[VM_USER_PDES], &vm_kernel_dir[VM_USER_PDES],
		       (PT_ENTRIES - VM_USER_PDES) * sizeof(uint32_t));
	return pgdir;
}

/*
 * The page table entry for user address va, or 0.  With create, a
 * missing page table is allocated (zeroed: nothing mapped yet).  The
 * directory entry allows everything; the page table entries decide.
 */
uint32_t *vm_walk(uint32_t *pgdir, uint32_t va, int create)
{
	uint32_t *pde = &pgdir[PDE_INDEX(va)];
	uint32_t *pt;

	if (va >= KERNEL_BASE)
		panic("vm_walk: 0x%08x is not a user address", va);
	if (*pde & PTE_PS)
		return 0;	/* a 4 MiB page: there is no page table entry */
	if (!(*pde & PTE_P)) {
		if (!create || !(pt = palloc_zalloc()))
			return 0;
		*pde = V2P(pt) | PTE_USER_RW;
	}
	pt = P2V(*pde & PTE_FRAME);
	return &pt[PTE_INDEX(va)];
}

/*
 * Give va a fresh zeroed page, unless one is mapped there already (two
 * ELF segments can share a page), in which case only widen its rights.
 */
int vm_map_zeroed(uint32_t *pgdir, uint32_t va, uint32_t flags)
{
	uint32_t *pte = vm_walk(pgdir, va, 1);
	void *page;

	if (!pte)
		return -1;
	if (*pte & PTE_P) {
		*pte |= flags & PTE_W;
		if (pgdir == vm_active)
			invlpg(va);
		return 0;
	}
	if (!(page = palloc_zalloc()))
		return -1;
	*pte = V2P(page) | flags;
	return 0;
}

int vm_populate(uint32_t *pgdir, uint32_t start, uint32_t end, uint32_t flags)
{
	for (uint32_t va = PAGE_ROUND_DOWN(start); va < end; va += PAGE_SIZE)
		if (vm_map_zeroed(pgdir, va, flags) < 0)
			return -1;
	return 0;
}

/* Unmap and free the pages of [start, end); the page tables stay. */
void vm_unmap(uint32_t *pgdir, uint32_t start, uint32_t end)
{
	for (uint32_t va = PAGE_ROUND_DOWN(start); va < end; va += PAGE_SIZE) {
		uint32_t *pte = vm_walk(pgdir, va, 0);

		if (!pte || !(*pte & PTE_P))
			continue;
		palloc_free(P2V(*pte & PTE_FRAME));
		*pte = 0;
		if (pgdir == vm_active)
			invlpg(va);
	}
}

/* Free every user page, every user page table, and the directory. */
void vm_free(uint32_t *pgdir)
{
	if (pgdir == vm_active)
		panic("vm_free: freeing the active page directory");
	for (uint32_t i = 0; i < VM_USER_PDES; i++) {
		uint32_t *pt;

		if (!(pgdir[i] & PTE_P) || (pgdir[i] & PTE_PS))
			continue;
		pt = P2V(pgdir[i] & PTE_FRAME);
		for (uint32_t j = 0; j < PT_ENTRIES; j++)
			if ((pt[j] & PTE_P) && palloc_owns(pt[j] & PTE_FRAME))
				palloc_free(P2V(pt[j] & PTE_FRAME));
		palloc_free(pt);
	}
	palloc_free(pgdir);
}

/*
 * fork: give dst a copy of every page of src's user half, same addresses,
 * same rights.  Eager copying, no copy-on-write: simple and obviously
 * correct.  On failure the caller frees dst, partial copy and all.
 */
int vm_copy(uint32_t *dst, const uint32_t *src)
{
	for (uint32_t i = 0; i < VM_USER_PDES; i++) {
		const uint32_t *pt;

		if (!(src[i] & PTE_P) || (src[i] & PTE_PS))
			continue;
		pt = P2V(src[i] & PTE_FRAME);
		for (uint32_t j = 0; j < PT_ENTRIES; j++) {
			uint32_t va = i << 22 | j << 12;
			uint32_t *pte;
			void *page;

			if (!(pt[j] & PTE_P))
				continue;
			if (!(pte = vm_walk(dst, va, 1)) || !(page = palloc_alloc()))
				return -1;
			memcpy(page, P2V(pt[j] & PTE_FRAME), PAGE_SIZE);
			*pte = V2P(page) | (pt[j] & VM_PTE_FLAGS & ~(PTE_A | PTE_D));
		}
	}
	return 0;
}

/*
 * Copy len bytes to user address va of pgdir, which need not be the
 * active one: we write through the direct map.  The pages must be mapped.
 */
void vm_copy_out(uint32_t *pgdir, uint32_t va, const void *src, size_t len)
{
	const uint8_t *s = src;

	while (len) {
		uint32_t *pte = vm_walk(pgdir, va, 0);
		uint32_t off = va % PAGE_SIZE;
		size_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;

		if (!pte || !(*pte & PTE_P))
			panic("vm_copy_out: 0x%08x is not mapped", va);
		memcpy((uint8_t *)P2V(*pte & PTE_FRAME) + off, s, n);
		va += n;
		s += n;
		len -= n;
	}
}
