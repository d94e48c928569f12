/*
 * bigpage.c - a 4 MiB page in a user address space.
 *
 * The kernel keeps one 4 MiB-aligned region of physical memory for this
 * test (at boot, when there are at least 16 MiB) and maps it for us with
 * a single page directory entry (PS set, no page table):
 *
 *  1. it reads as zero, and its directory entry says "4 MiB page";
 *  2. a pattern written through it from user mode reads back;
 *  3. the kernel finds the same bytes through its direct map, i.e. the
 *     4 MiB page really maps the 1024 physical frames in order;
 *  4. the CPU set the accessed and dirty bits in the directory entry;
 *  5. one of its frames, mapped again as an ordinary 4 KiB page at
 *     another address, agrees with it both ways: a write through either
 *     mapping is seen through the other;
 *  6. unmapped (one invlpg for the 4 MiB page, one for the alias), both
 *     mappings are gone at once - even a kernel read finds nothing.
 *
 * A VMM with shadow page tables must handle a guest's 4 MiB page, most
 * simply by shadowing it with 1024 small ones, and keep every shadow of
 * the same guest frame pointing at the same machine frame.
 */
#include "ulib.h"
#include "x86.h"

#define BIG_VA		0x00400000u	/* below the program: nothing else is ever here */
#define ALIAS_VA	0x00800000u
#define ALIAS_FRAME	513		/* a frame in the middle of the 4 MiB */
#define WORDS		(LARGE_PAGE_SIZE / 4)
#define FRAME_WORDS	(PAGE_SIZE / 4)
#define SALT		0x5eed1234u

static int failures;

static void check(const char *what, int ok)
{
	printf("bigpage: %s: %s\n", what, ok ? "PASS" : "FAIL");
	failures += !ok;
}

static int reads_as_zero(const uint32_t *words)
{
	for (uint32_t i = 0; i < WORDS; i++)
		if (words[i])
			return 0;
	return (ktest(KTEST_PDE_FLAGS, BIG_VA, 0) & (PTE_P | PTE_U | PTE_PS)) ==
	       (PTE_P | PTE_U | PTE_PS);
}

static int pattern_reads_back(uint32_t *words)
{
	for (uint32_t i = 0; i < WORDS; i++)
		words[i] = ktest_pattern(i * 4, SALT);
	for (uint32_t i = 0; i < WORDS; i++)
		if (words[i] != ktest_pattern(i * 4, SALT))
			return 0;
	return 1;
}

static int aliases_agree(uint32_t *frame, uint32_t *alias)
{
	if (ktest(KTEST_BIG_ALIAS, ALIAS_VA, ALIAS_FRAME) != 0)
		return 0;
	for (uint32_t i = 0; i < FRAME_WORDS; i++)
		if (alias[i] != frame[i])
			return 0;
	for (uint32_t i = 0; i < FRAME_WORDS; i++)
		alias[i] = ~frame[i];
	for (uint32_t i = 0; i < FRAME_WORDS; i++)
		if (frame[i] != ~ktest_pattern((ALIAS_FRAME * FRAME_WORDS + i) * 4, SALT))
			return 0;
	for (uint32_t i = 0; i < FRAME_WORDS; i++)
		frame[i] = i;
	for (uint32_t i = 0; i < FRAME_WORDS; i++)
		if (alias[i] != i)
			return 0;
	return 1;
}

/* Kernel reads of the start and end of the 4 MiB page, and of the alias: 0 or fault codes. */
static int probes_all(int expected)
{
	return ktest(KTEST_PROBE, BIG_VA, 0) == expected &&
	       ktest(KTEST_PROBE, BIG_VA + LARGE_PAGE_SIZE - 4, 0) == expected &&
	       ktest(KTEST_PROBE, ALIAS_VA, 0) == expected;
}

/*
 * The kernel reads each mapping first, so that its translation is in the
 * TLB (an emulator may keep separate TLBs for user and kernel accesses);
 * after the unmap, the same reads must fault: not present, supervisor.
 */
static int gone(void)
{
	return probes_all(0) && ktest(KTEST_BIG_UNMAP, BIG_VA, ALIAS_VA) == 0 &&
	       probes_all(KTEST_FAULTED(T_PF, 0));
}

int main(const char *arg)
{
	uint32_t *words = (uint32_t *)BIG_VA;
	int mapped = ktest(KTEST_BIG_MAP, BIG_VA, 0);

	(void)arg;
	if (mapped == -GUEST_ENOMEM) {
		printf("bigpage: no 4 MiB region (less than 16 MiB of memory): SKIP\n");
		return 0;
	}
	check("a 4 MiB user page is mapped and reads as zero", mapped == 0 && reads_as_zero(words));
	if (mapped != 0)
		return 1;
	check("a pattern written through it reads back", pattern_reads_back(words));
	check("the kernel sees the same bytes through its direct map",
	      ktest(KTEST_BIG_CHECK, SALT, 0) == 0);
	check("the CPU set the accessed and dirty bits of its directory entry",
	      (ktest(KTEST_PDE_FLAGS, BIG_VA, 0) & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
	check("a 4 KiB alias of one of its frames agrees with it both ways",
	      aliases_agree(words + ALIAS_FRAME * FRAME_WORDS, (uint32_t *)ALIAS_VA));
	check("unmapped, both mappings are gone at once", gone());
	return failures ? 1 : 0;
}
