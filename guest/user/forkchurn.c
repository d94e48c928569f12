/*
 * forkchurn.c - address spaces made and thrown away, one after another.
 *
 * FORKCHURN_ROUNDS times: fork a child, which grows its heap by a few
 * pages, touches them, checks them and exits - or, every
 * FORKCHURN_EXEC_EVERY-th time, execs retouch (quietly), which throws
 * the forked address space away at once for a new one - and wait for
 * it.  Each round frees a page directory and its page tables, and the
 * allocator hands the very same pages out again in the next round (last
 * freed, first reused), as directory, page table or data, in whatever
 * role comes first.  A shadow MMU that keeps shadows across CR3 loads
 * must notice each time a page stops being a page table, or becomes one.
 *
 * Not in init's default list: run it with run=forkchurn.
 */
#include "ulib.h"
#include "x86.h"

#define FORKCHURN_ROUNDS	40
#define FORKCHURN_EXEC_EVERY	4
#define FORKCHURN_MAX_PAGES	5

/* The child's work when it does not exec: 1 to 5 pages, each checked. */
static int forkchurn_child(int round)
{
	int pages = round % FORKCHURN_MAX_PAGES + 1;
	uint8_t *heap = sbrk(pages * (int)PAGE_SIZE);
	int wrong = 0;

	if (heap == (void *)-1)
		return 1;
	for (int p = 0; p < pages; p++)
		*(volatile uint32_t *)(heap + p * PAGE_SIZE) = ktest_pattern((uint32_t)p, round);
	for (int p = 0; p < pages; p++)
		wrong += *(volatile uint32_t *)(heap + p * PAGE_SIZE) !=
			 ktest_pattern((uint32_t)p, round);
	return wrong ? 1 : 0;
}

static int forkchurn_execs(int round)
{
	return round % FORKCHURN_EXEC_EVERY == FORKCHURN_EXEC_EVERY - 1;
}

/* One round: 0 if the child exited 0. */
static int forkchurn_round(int round)
{
	int status, pid = fork();

	if (pid == 0) {
		if (forkchurn_execs(round)) {
			exec("retouch", "quiet");
			exit(127);	/* exec returns only if it failed */
		}
		exit(forkchurn_child(round));
	}
	if (pid < 0) {
		printf("forkchurn: fork %d failed with %d\n", round, pid);
		return 1;
	}
	if (wait(&status) != pid || status != 0) {
		printf("forkchurn: child %d exited with status %d\n", round, status);
		return 1;
	}
	return 0;
}

int main(const char *arg)
{
	int failed = 0;

	(void)arg;
	for (int round = 0; round < FORKCHURN_ROUNDS; round++)
		failed += forkchurn_round(round);
	printf("forkchurn: %d forks, %d of them exec retouch, %d children failed: %s\n",
	       FORKCHURN_ROUNDS, FORKCHURN_ROUNDS / FORKCHURN_EXEC_EVERY, failed,
	       failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
