/*
 * ptshadow.c - page tables as a shadow MMU finds them hard to follow.
 *
 * The kernel builds small address spaces of its own and checks, from
 * kernel mode, that the CPU translates through them exactly as the page
 * tables say (guest/kernel/ktest_shadow.c), one line each:
 *
 *  - one page table in two directories, changed while one, the other or
 *    neither is in CR3;
 *  - a directory that maps itself, with entries written through it;
 *  - a frame remapped in one address space and not the other;
 *  - a changed entry before and after invlpg: old or new, then new;
 *  - a frame seen through a 4 MiB page and a 4 KiB page at once;
 *  - CR0.WP cleared and set again; global pages and CR4.PGE;
 *  - entries written a byte, two bytes, or four bytes across two;
 *  - a page table freed and reused as data, and data as a page table.
 *
 * On a CPU, or under a VMM whose guest page tables are its own (hw
 * mode), these hold by construction; a shadow MMU has to earn each one.
 * The lines do not depend on the CPU's features: without PGE the global
 * page check has nothing to do, and says PASS all the same.  A failing
 * check names the step that failed, which the kernel's source numbers.
 *
 * Not in init's default list: run it with run=ptshadow.
 */
#include "ulib.h"

static const struct ktest_case cases[] = {
	{ KTEST_SHADOW_SHARED_PT, "one page table in two directories" },
	{ KTEST_SHADOW_RECURSIVE, "a directory that maps itself, written through itself" },
	{ KTEST_SHADOW_REMAP, "a frame remapped in one of two address spaces" },
	{ KTEST_SHADOW_STALE, "a changed entry: old or new before invlpg, new after" },
	{ KTEST_SHADOW_BIG_ALIAS, "a frame through a 4 MiB page and a 4 KiB page" },
	{ KTEST_SHADOW_WP, "CR0.WP set, cleared and set again" },
	{ KTEST_SHADOW_PGE, "global pages flushed by invlpg and by CR4.PGE" },
	{ KTEST_SHADOW_PARTIAL, "entries written by 1, 2 and misaligned 4-byte stores" },
	{ KTEST_SHADOW_RECYCLE, "a page table recycled as data, and data as a page table" },
};

int main(const char *arg)
{
	(void)arg;
	return ktest_checks("ptshadow", cases, sizeof(cases) / sizeof(cases[0])) ? 1 : 0;
}
