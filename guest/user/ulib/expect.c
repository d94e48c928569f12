/*
 * expect.c - run a piece of code that must get its process killed, or a
 * list of the kernel's self-checks.
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

/* privtest and ptshadow: each kernel self-check answers 0 or the step that failed. */
int ktest_checks(const char *prog, const struct ktest_case *cases, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int step = ktest(cases[i].test, 0, 0);

		if (step == 0) {
			printf("%s: %s: PASS\n", prog, cases[i].what);
		} else {
			printf("%s: %s: FAIL (step %d)\n", prog, cases[i].what, step);
			failed++;
		}
	}
	return failed;
}
