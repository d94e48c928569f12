/*
 * forkstress.c - many processes at once.
 *
 * Eight children run side by side, each summing Collatz step counts over
 * its own range of numbers and yielding now and then; the timer preempts
 * them too, so they interleave in a different order on every run.  Each
 * child exits with its sum as its status.  The parent waits for all of
 * them, in whatever order they finish, files each result under the
 * child's index, and only then prints - in index order, so the output is
 * the same every time - and checks every sum against its own.
 *
 * Then an orphan: a child forks a grandchild and exits at once; the
 * grandchild keeps running, is handed to init, and init reaps it.  The
 * kernel's final checks (no process left, no page leaked) catch it if
 * that goes wrong.
 */
#include "ulib.h"

#define NCHILD		8
#define RANGE		20000	/* numbers per child */
#define YIELD_EVERY	2500

static int collatz_steps(uint32_t n)
{
	int steps = 0;

	while (n != 1) {
		n = n & 1 ? 3 * n + 1 : n / 2;
		steps++;
	}
	return steps;
}

static int child_work(int index)
{
	uint32_t first = (uint32_t)index * RANGE + 1;
	int sum = 0;

	for (uint32_t n = first; n < first + RANGE; n++) {
		sum += collatz_steps(n);
		if (n % YIELD_EVERY == 0)
			yield();
	}
	return sum;
}

static int expected(int index)
{
	uint32_t first = (uint32_t)index * RANGE + 1;
	int sum = 0;

	for (uint32_t n = first; n < first + RANGE; n++)
		sum += collatz_steps(n);
	return sum;
}

static int find(const int *pids, int pid)
{
	for (int i = 0; i < NCHILD; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

static int run_children(void)
{
	int pids[NCHILD], result[NCHILD], done[NCHILD] = { 0 };
	int failed = 0;

	for (int i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			exit(child_work(i));
		if (pids[i] < 0) {
			printf("forkstress: fork %d failed with %d\n", i, pids[i]);
			return 1;
		}
	}
	for (int n = 0; n < NCHILD; n++) {
		int status, pid = wait(&status), i = find(pids, pid);

		if (i < 0 || done[i]) {
			printf("forkstress: wait returned %d, not a child: FAIL\n", pid);
			return 1;
		}
		result[i] = status;
		done[i] = 1;
	}
	for (int i = 0; i < NCHILD; i++) {
		int ok = result[i] == expected(i);

		printf("forkstress: child %d (pid %d) summed %d: %s\n", i, pids[i], result[i],
		       ok ? "ok" : "WRONG");
		failed += !ok;
	}
	if (wait(0) != -GUEST_ECHILD) {
		printf("forkstress: wait with no children left did not fail: FAIL\n");
		failed++;
	}
	return failed;
}

/* A child that leaves behind a running grandchild. */
static int orphan(void)
{
	int status, pid = fork();

	if (pid == 0) {
		if (fork() == 0) {
			for (int i = 0; i < 20; i++)
				yield();
			exit(0);
		}
		exit(42);
	}
	if (pid < 0 || wait(&status) != pid || status != 42) {
		printf("forkstress: orphan test: FAIL\n");
		return 1;
	}
	printf("forkstress: a child exited before its own child: ok\n");
	return 0;
}

int main(const char *arg)
{
	int failed;

	(void)arg;
	printf("forkstress: %d children, %d numbers each\n", NCHILD, RANGE);
	failed = run_children();
	failed += orphan();
	printf("forkstress: %s\n", failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
