/*
 * palloc.c - the physical page allocator: a free list of 4 KiB pages.
 *
 * Every page of RAM from the end of the kernel image to the end of the
 * direct map is free at boot - except a hole the caller may keep for
 * itself (main.c keeps a 4 MiB-aligned region for the bigpage test,
 * ktest_mm.c, because a free list of single pages cannot produce 1024
 * contiguous, aligned ones).  A free page holds, in its first word, the
 * address of the next free page, so the list costs no memory of its own.
 * Pages are handed out by their kernel virtual address in the direct map
 * (P2V of the physical address); a page table entry wants V2P of that.
 *
 * Last freed is first reused, so a page that was a page table a moment
 * ago is soon someone's stack or data: a VMM that shadows our page tables
 * must notice when a page stops being one.  Freed pages are filled with
 * 0x6b bytes first, so that anything still reading one - a stale TLB
 * entry, a stale shadow mapping - sees garbage instead of plausible data.
 */
#include "cpu.h"
#include "memlayout.h"
#include "palloc.h"
#include "printk.h"
#include "str.h"

#define PALLOC_POISON	0x6b

struct palloc_page {
	struct palloc_page *next;
};

static struct palloc_page *palloc_list;
static uint32_t palloc_count;
static uint32_t palloc_start, palloc_end;	/* physical range we manage */
static uint32_t palloc_hole_start, palloc_hole_end;	/* ...but for this */

/* Is pa one of our pages?  Page tables may also map memory that is not. */
bool palloc_owns(uint32_t pa)
{
	return pa >= palloc_start && pa < palloc_end &&
	       !(pa >= palloc_hole_start && pa < palloc_hole_end);
}

/* [start_pa, end_pa) is ours, but for the hole (hole_len may be 0). */
void palloc_init(uint32_t start_pa, uint32_t end_pa, uint32_t hole_pa, uint32_t hole_len)
{
	palloc_start = PAGE_ROUND_UP(start_pa);
	palloc_end = PAGE_ROUND_DOWN(end_pa);
	palloc_hole_start = hole_pa;
	palloc_hole_end = hole_pa + hole_len;
	for (uint32_t pa = palloc_start; pa < palloc_end; pa += PAGE_SIZE)
		if (palloc_owns(pa))
			palloc_free(P2V(pa));
}

/* A page, or 0 when memory is exhausted.  Its contents are garbage. */
void *palloc_alloc(void)
{
	uint32_t flags = irq_save();
	struct palloc_page *page = palloc_list;

	if (page) {
		palloc_list = page->next;
		palloc_count--;
	}
	irq_restore(flags);
	return page;
}

void *palloc_zalloc(void)
{
	void *page = palloc_alloc();

	if (page)
		memset(page, 0, PAGE_SIZE);
	return page;
}

void palloc_free(void *page)
{
	uint32_t pa = V2P(page);
	struct palloc_page *p = page;
	uint32_t flags;

	if (pa % PAGE_SIZE || !palloc_owns(pa))
		panic("palloc_free: 0x%08x is not an allocatable page", pa);
	memset(page, PALLOC_POISON, PAGE_SIZE);
	flags = irq_save();
	p->next = palloc_list;
	palloc_list = p;
	palloc_count++;
	irq_restore(flags);
}

uint32_t palloc_free_pages(void)
{
	return palloc_count;
}
