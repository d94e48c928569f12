/*
 * wptest.c - who may write a read-only page, and the record the CPU
 * keeps of reads and writes.
 *
 *  - CR0.WP set (as the kernel runs): a kernel store to one of our
 *    read-only pages faults - "present, write, supervisor" - and the
 *    kernel catches it (its exception table).
 *  - CR0.WP cleared for a moment: the same store succeeds, and we see
 *    the new value in our "constant"; with WP set again it faults again.
 *  - The kernel cannot write its own code either.
 *  - Reading a page sets the accessed bit of its page table entry, and
 *    only writing it sets the dirty bit.
 *
 * A user program's own store to a read-only page is faulter's business.
 *
 * These are shadow-paging questions: a VMM whose guest kernel runs in
 * ring 1 must make ring 1's stores to read-only pages obey the guest's
 * CR0.WP, not its own; and because the hardware walks the VMM's shadow
 * tables, not the guest's, the VMM must set the accessed and dirty bits
 * in the guest's tables itself, at the right moment.
 */
#include "ulib.h"
#include "x86.h"

#define PAGE	4096u

/* A page of read-only data, and no other data in its page. */
static const uint32_t rodata_page[PAGE / 4] __attribute__((aligned(PAGE))) = { 0x600dc0de };

static int failures;

static void check(const char *what, int ok)
{
	printf("wptest: %s: %s\n", what, ok ? "PASS" : "FAIL");
	failures += !ok;
}

/* Read through volatile: the compiler would rather use the constant. */
static uint32_t peek(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

static int kernel_store_allowed_without_wp(void)
{
	uint32_t word = (uint32_t)&rodata_page[1];
	int stored = ktest(KTEST_WP_CLEAR_STORE, word, 0x12345678) == 0;
	int seen = peek(&rodata_page[1]) == 0x12345678;
	int restored = ktest(KTEST_WP_CLEAR_STORE, word, 0) == 0 && peek(&rodata_page[1]) == 0;

	return stored && seen && restored && ktest(KTEST_WP_USER, word, 0) == 0;
}

static int ad_bits(const void *p)
{
	return ktest(KTEST_PTE_FLAGS, (uint32_t)p, 0) & (PTE_A | PTE_D);
}

/* A page we have written; its A and D bits cleared; then read; then written. */
static int accessed_and_dirty(int *dirty_ok)
{
	uint32_t *page = sbrk((int)(2 * PAGE));
	int read_ok;

	*dirty_ok = 0;
	if (page == (void *)-1)
		return 0;
	page = (uint32_t *)(((uint32_t)page + PAGE - 1) & ~(PAGE - 1));
	page[0] = 1;
	if (ktest(KTEST_PTE_CLEAR_AD, (uint32_t)page, 0) != 0 || ad_bits(page) != 0)
		return 0;
	read_ok = peek(page) == 1 && ad_bits(page) == PTE_A;
	*(volatile uint32_t *)page = 2;
	*dirty_ok = ad_bits(page) == (PTE_A | PTE_D);
	return read_ok;
}

int main(const char *arg)
{
	int dirty_ok, accessed_ok;

	(void)arg;
	check("with CR0.WP set, a kernel store to a read-only user page faults",
	      ktest(KTEST_WP_USER, (uint32_t)&rodata_page[0], 0) == 0 &&
		      peek(&rodata_page[0]) == 0x600dc0de);
	check("with CR0.WP clear, it succeeds and the program sees it",
	      kernel_store_allowed_without_wp());
	check("with CR0.WP set, the kernel cannot write its own code",
	      ktest(KTEST_WP_KERNEL_TEXT, 0, 0) == 0);
	accessed_ok = accessed_and_dirty(&dirty_ok);
	check("reading a page sets its accessed bit, not its dirty bit", accessed_ok);
	check("writing it sets the dirty bit", dirty_ok);
	return failures ? 1 : 0;
}
