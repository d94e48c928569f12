/*
 * ptupdate.c - one page of ours, switched between two frames again and
 * again by the kernel.
 *
 * A page of our heap has its own frame, which we fill; the kernel gives
 * it a second one, holding ktest_pattern(offset, KTEST_FLIP_SALT).  Then
 * PTUPDATE_FLIPS times the kernel points the page at the other frame
 * (KTEST_FLIP: one store to our page table entry and one invlpg), and we
 * check that we read that frame - and that what we wrote into each frame
 * while it was mapped is still there when it comes back.
 *
 * This is for measuring a shadow MMU's cost per guest page table write:
 * with the page tables write-protected, each flip is exactly one
 * intercepted page table write (and one invlpg), PTUPDATE_FLIPS in all.
 * Not in init's default list: run it with run=ptupdate.
 */
#include "ulib.h"
#include "x86.h"

#define PTUPDATE_FLIPS	200
#define PTUPDATE_WORDS	(PAGE_SIZE / 4)
#define PTUPDATE_OWN	0x0e0e0000u	/* our frame's words: this | index */
#define PTUPDATE_COUNT	1		/* the word each side counts its visits in */

/* Our page, page-aligned and touched (so that it is mapped), or 0. */
static uint32_t *ptupdate_page(void)
{
	uint8_t *heap = sbrk((int)(2 * PAGE_SIZE));
	uint32_t *page;

	if (heap == (void *)-1)
		return 0;
	page = (uint32_t *)(((uint32_t)heap + PAGE_SIZE - 1) & PAGE_MASK);
	for (uint32_t i = 0; i < PTUPDATE_WORDS; i++)
		page[i] = PTUPDATE_OWN | i;
	page[PTUPDATE_COUNT] = 0;
	return page;
}

/* Word i of frame which (0 ours, 1 the kernel's), but for the visit counter. */
static uint32_t ptupdate_expected(uint32_t which, uint32_t i)
{
	return which ? ktest_pattern(i * 4, KTEST_FLIP_SALT) : PTUPDATE_OWN | i;
}

/*
 * The page now shows frame which, visited visits times before: its first
 * word, last word and counter are right.  Then count this visit.
 */
static int ptupdate_visit(volatile uint32_t *page, uint32_t which, uint32_t visits)
{
	uint32_t last = PTUPDATE_WORDS - 1;
	uint32_t count0 = which ? ptupdate_expected(1, PTUPDATE_COUNT) : 0;
	int ok = page[0] == ptupdate_expected(which, 0) &&
		 page[last] == ptupdate_expected(which, last) &&
		 page[PTUPDATE_COUNT] == count0 + visits;

	page[PTUPDATE_COUNT]++;
	return ok;
}

int main(const char *arg)
{
	uint32_t *page = ptupdate_page(), visits[2] = { 1, 0 };
	int wrong = 0;

	(void)arg;
	if (!page || ktest(KTEST_FLIP_BEGIN, (uint32_t)page, 0) != 0) {
		printf("ptupdate: no page to flip: FAIL\n");
		return 1;
	}
	page[PTUPDATE_COUNT] = 1;	/* our frame's first visit: now */
	for (uint32_t i = 1; i <= PTUPDATE_FLIPS; i++) {
		uint32_t which = i % 2;

		if (ktest(KTEST_FLIP, (uint32_t)page, which) != 0)
			wrong++;
		wrong += !ptupdate_visit(page, which, visits[which]++);
	}
	if (ktest(KTEST_FLIP_END, (uint32_t)page, 0) != 0)
		wrong++;
	wrong += !ptupdate_visit(page, 0, visits[0]);
	printf("ptupdate: one page switched between two frames %d times: %s\n", PTUPDATE_FLIPS,
	       wrong ? "FAIL" : "PASS");
	return wrong ? 1 : 0;
}
