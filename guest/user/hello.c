/*
 * hello.c - the smallest program: one system call to write, one to ask
 * who we are.  If this works, the kernel can load a program, enter user
 * mode with iret, and take system calls.
 */
#include "ulib.h"

int main(const char *arg)
{
	(void)arg;
	printf("hello: hello, world, from pid %d\n", getpid());
	return 0;
}
