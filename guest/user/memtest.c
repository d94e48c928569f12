/*
 * memtest.c - the memory a process is promised, and that it is its own.
 *
 *  1. sbrk a few MiB: every word must read as zero (demand-zero pages).
 *  2. Fill every word with a pattern computed from its address; read it
 *     all back.
 *  3. fork: the child must see the same data, then overwrite it all; the
 *     parent's copy must not change (fork copies the address space).
 *  4. Shrink the heap and grow it back: the regrown part must be zero
 *     again, not the old data (the kernel freed the pages, and flushed
 *     their translations from the TLB).
 *  5. Use a few hundred KiB of stack: the stack grows on demand too.
 *  6. The heap cannot grow into the stack region, nor shrink below its
 *     start.
 */
#include "ulib.h"

#define HEAP_BYTES	(4 << 20)
#define SHRINK_BYTES	(1 << 20)
#define STACK_BYTES	(256 << 10)
#define PAGE		4096
#define HUGE_STEP	0x10000000	/* 256 MiB */
#define STACK_REGION	0x00100000	/* the 1 MiB below 0xc0000000 */

static uint32_t pattern(const uint32_t *p, uint32_t salt)
{
	return ((uint32_t)p * 2654435761u) ^ salt;
}

static void fill(uint32_t *start, uint32_t *end, uint32_t salt)
{
	for (uint32_t *p = start; p < end; p++)
		*p = pattern(p, salt);
}

static int verify(const uint32_t *start, const uint32_t *end, uint32_t salt)
{
	for (const uint32_t *p = start; p < end; p++)
		if (*p != pattern(p, salt))
			return 0;
	return 1;
}

static int all_zero(const uint32_t *start, const uint32_t *end)
{
	for (const uint32_t *p = start; p < end; p++)
		if (*p)
			return 0;
	return 1;
}

static int report(const char *what, int ok)
{
	printf("memtest: %s: %s\n", what, ok ? "PASS" : "FAIL");
	return !ok;
}

static int test_fork(uint32_t *start, uint32_t *end)
{
	int status, pid = fork();

	if (pid == 0) {
		int ok = verify(start, end, 0x5a5a5a5a);

		fill(start, end, 0xc3c3c3c3);
		ok = ok && verify(start, end, 0xc3c3c3c3);
		exit(ok ? 0 : 1);
	}
	if (pid < 0 || wait(&status) != pid)
		return 0;
	return status == 0 && verify(start, end, 0x5a5a5a5a);
}

static int test_shrink(uint32_t *start, uint32_t *end)
{
	uint32_t *cut = end - SHRINK_BYTES / 4;

	if (sbrk(-SHRINK_BYTES) == (void *)-1 || sbrk(0) != cut)
		return 0;
	if (sbrk(SHRINK_BYTES) != cut)
		return 0;
	return all_zero(cut, end) && verify(start, cut, 0x5a5a5a5a);
}

/* noinline, so the big frame exists only while this runs. */
static __attribute__((noinline)) int test_stack(void)
{
	volatile uint8_t big[STACK_BYTES];
	uint32_t sum = 0;

	for (uint32_t i = 0; i < sizeof(big); i += PAGE)
		big[i] = (uint8_t)(i / PAGE);
	for (uint32_t i = 0; i < sizeof(big); i += PAGE)
		sum += big[i];
	return sum == (STACK_BYTES / PAGE) * (STACK_BYTES / PAGE - 1) / 2;
}

/*
 * Grow the heap 256 MiB at a time until the kernel says no - which must
 * happen before the heap reaches the stack - then give it all back.
 * Nothing is touched, so none of this costs memory.
 */
static int test_limits(void)
{
	char *brk = sbrk(0);
	int steps = 0;

	while (sbrk(HUGE_STEP) != (void *)-1)
		steps++;
	if (steps == 0 || (uint32_t)sbrk(0) > 0xc0000000u - STACK_REGION)
		return 0;
	while (steps--)
		if (sbrk(-HUGE_STEP) == (void *)-1)
			return 0;
	return sbrk(0) == brk && sbrk(-(int)(uint32_t)brk) == (void *)-1 && sbrk(0) == brk;
}

int main(const char *arg)
{
	uint32_t *start = sbrk(HEAP_BYTES);
	uint32_t *end = start + HEAP_BYTES / 4;
	int failed = 0;

	(void)arg;
	if (start == (void *)-1) {
		printf("memtest: sbrk(%d) failed: FAIL\n", HEAP_BYTES);
		return 1;
	}
	failed += report("4 MiB of new heap reads as zero", all_zero(start, end));
	fill(start, end, 0x5a5a5a5a);
	failed += report("address pattern written and read back", verify(start, end, 0x5a5a5a5a));
	failed += report("forked child's copy is its own", test_fork(start, end));
	failed += report("shrunk and regrown heap is zero again", test_shrink(start, end));
	failed += report("stack grows on demand", test_stack());
	failed += report("sbrk past the limits fails", test_limits());
	return failed ? 1 : 0;
}
