/*
 * pingpong.c - two processes handing the CPU to each other.
 *
 * A parent and its child each call yield PINGPONG_YIELDS times.  With
 * nobody else runnable, every yield is a context switch to the other
 * one: a CR3 load, from one address space to the other, and back.  This
 * is for measuring context switches under a VMM: once both address
 * spaces are shadowed (after the first few rounds), a VMM whose shadows
 * survive CR3 loads should see exactly one CR3 load per switch and no
 * hidden page faults - a virtual TLB, which forgets everything at each
 * CR3 load, takes a fault for every page each side touches again.
 *
 * The count is a constant: init runs programs without an argument.
 * Not in init's default list: run it with run=pingpong.
 */
#include "ulib.h"

#define PINGPONG_YIELDS	1000

static void pingpong_yield(void)
{
	for (int i = 0; i < PINGPONG_YIELDS; i++)
		yield();
}

int main(const char *arg)
{
	int status = -1, pid;

	(void)arg;
	pid = fork();
	if (pid == 0) {
		pingpong_yield();
		exit(0);
	}
	if (pid < 0) {
		printf("pingpong: fork failed with %d: FAIL\n", pid);
		return 1;
	}
	pingpong_yield();
	if (wait(&status) != pid || status != 0) {
		printf("pingpong: the child did not exit 0: FAIL\n");
		return 1;
	}
	printf("pingpong: 2 processes, %d yields each: PASS\n", PINGPONG_YIELDS);
	return 0;
}
