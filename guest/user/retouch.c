/*
 * retouch.c - the same working set, touched again and again.
 *
 * RETOUCH_PAGES pages of heap are touched once (demand-zero fills them
 * in), then read, checked and written again RETOUCH_ROUNDS times.  Only
 * the first touch of a page needs the kernel.  Under a VMM, once the
 * pages are in the shadow page tables, the re-touches should cost no VMM
 * intervention at all - no hidden faults - which the VMM's statistics
 * over this program can show.
 *
 * With the argument "quiet" (forkchurn execs it so) it prints nothing,
 * and only its exit status says whether it passed.
 * Not in init's default list: run it with run=retouch.
 */
#include "ulib.h"
#include "x86.h"

#define RETOUCH_PAGES	64
#define RETOUCH_ROUNDS	100
#define RETOUCH_WORDS	(PAGE_SIZE / 4)
#define RETOUCH_LAST	(RETOUCH_WORDS - 1)
#define RETOUCH_MIDDLE	(RETOUCH_WORDS / 2)	/* never written: stays zero */

/* What page p holds in its first word after round r; its last word holds the complement. */
static uint32_t retouch_value(uint32_t p, uint32_t r)
{
	return ktest_pattern(p * PAGE_SIZE, r);
}

static volatile uint32_t *retouch_page(uint32_t *base, uint32_t p)
{
	return base + p * RETOUCH_WORDS;
}

static void retouch_write(uint32_t *base, uint32_t p, uint32_t r)
{
	volatile uint32_t *w = retouch_page(base, p);

	w[0] = retouch_value(p, r);
	w[RETOUCH_LAST] = ~retouch_value(p, r);
}

/* Does page p hold what round r wrote? */
static int retouch_holds(uint32_t *base, uint32_t p, uint32_t r)
{
	volatile uint32_t *w = retouch_page(base, p);

	return w[0] == retouch_value(p, r) && w[RETOUCH_LAST] == ~retouch_value(p, r) &&
	       w[RETOUCH_MIDDLE] == 0;
}

/* The pages, page-aligned, or 0. */
static uint32_t *retouch_alloc(void)
{
	uint8_t *heap = sbrk((int)((RETOUCH_PAGES + 1) * PAGE_SIZE));

	if (heap == (void *)-1)
		return 0;
	return (uint32_t *)(((uint32_t)heap + PAGE_SIZE - 1) & PAGE_MASK);
}

int main(const char *arg)
{
	uint32_t *base = retouch_alloc();
	int quiet = !strcmp(arg, "quiet"), wrong = 0;

	if (!base) {
		if (!quiet)
			printf("retouch: sbrk failed: FAIL\n");
		return 1;
	}
	for (uint32_t p = 0; p < RETOUCH_PAGES; p++)
		retouch_write(base, p, 0);
	for (uint32_t r = 1; r <= RETOUCH_ROUNDS; r++)
		for (uint32_t p = 0; p < RETOUCH_PAGES; p++) {
			wrong += !retouch_holds(base, p, r - 1);
			retouch_write(base, p, r);
		}
	for (uint32_t p = 0; p < RETOUCH_PAGES; p++)
		wrong += !retouch_holds(base, p, RETOUCH_ROUNDS);
	if (!quiet)
		printf("retouch: %d pages touched, then %d times again: %s\n", RETOUCH_PAGES,
		       RETOUCH_ROUNDS, wrong ? "FAIL" : "PASS");
	return wrong ? 1 : 0;
}
