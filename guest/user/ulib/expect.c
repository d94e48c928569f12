/*
 * expect.c - run a piece of code that must get its process killed.
 *
 * faulter and kspy both check that the kernel kills a process that does
 * something forbidden, and kills only that process: each attempt runs in a
 * child, and the parent checks that wait() reports GUEST_EXIT_KILLED.  The
 * kernel prints the "killed:" line itself; we add the verdict.
 */
#include "guest_abi.h"
#include "ulib.h"

int expect_killed(const char *prog, const char *what, void (*attempt)(void))
{
	int status, pid = fork();

	if (pid == 0) {
		attempt();
		exit(0);	/* survived: wrong */
	}
	if (pid < 0 || wait(&status) != pid) {
		printf("%s: %s: fork or wait failed: FAIL\n", prog, what);
		return 1;
	}
	if (status != GUEST_EXIT_KILLED) {
		printf("%s: %s: exit status %d, expected %d: FAIL\n", prog, what, status,
		       GUEST_EXIT_KILLED);
		return 1;
	}
	printf("%s: %s: killed as expected\n", prog, what);
	return 0;
}
