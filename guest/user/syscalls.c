/*
 * syscalls.c - a thousand null system calls in a row.
 *
 * getpid does nothing but return a number, so all a getpid costs is the
 * way into the kernel and back out.  Under kvmshadow's shadow mode that
 * is the chapter's Table B.3: the int 0x80 traps into the VMM, which
 * reflects it to the kernel's handler; the kernel's iret traps into the
 * VMM, which performs the real return.  Exactly two VMM interventions per
 * call, once the pages involved are in the shadow - which the VMM's
 * tests check with --trace, call by call.
 *
 * Not in init's default list: run it with run=syscalls.
 */
#include "ulib.h"

#define SYSCALLS_CALLS 1000

int main(const char *arg)
{
	int pid = getpid(), wrong = 0;

	(void)arg;
	for (int i = 0; i < SYSCALLS_CALLS; i++)
		if (getpid() != pid)
			wrong++;
	printf("syscalls: %d getpid calls, %d wrong answers: %s\n", SYSCALLS_CALLS, wrong,
	       wrong ? "FAIL" : "PASS");
	return wrong ? 1 : 0;
}
