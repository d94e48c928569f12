/*
 * syscall.c - the system-call wrappers: the user side of Table B.1.
 *
 * Each is one trap instruction, int $0x80, with the call number in EAX
 * and the arguments in EBX, ECX, EDX.  The kernel's answer comes back in
 * EAX.
 */
#include "ulib.h"

int syscall(int n, uint32_t a, uint32_t b, uint32_t c)
{
	int ret;

	asm volatile("int %[vector]"
		     : "=a"(ret)
		     : [vector] "i"(GUEST_SYSCALL_VECTOR), "a"(n), "b"(a), "c"(b), "d"(c)
		     : "memory");
	return ret;
}

void exit(int status)
{
	syscall(SYS_exit, (uint32_t)status, 0, 0);
	for (;;)
		;	/* not reached */
}

int fork(void)
{
	return syscall(SYS_fork, 0, 0, 0);
}

int write(int fd, const void *buf, int len)
{
	return syscall(SYS_write, (uint32_t)fd, (uint32_t)buf, (uint32_t)len);
}

int getpid(void)
{
	return syscall(SYS_getpid, 0, 0, 0);
}

int yield(void)
{
	return syscall(SYS_yield, 0, 0, 0);
}

int wait(int *status)
{
	return syscall(SYS_wait, (uint32_t)status, 0, 0);
}

/* The kernel returns the old break, or -errno; no break is that high. */
void *sbrk(int increment)
{
	uint32_t ret = (uint32_t)syscall(SYS_sbrk, (uint32_t)increment, 0, 0);

	return ret > (uint32_t)-4096 ? (void *)-1 : (void *)ret;
}

unsigned ticks(void)
{
	return (unsigned)syscall(SYS_ticks, 0, 0, 0);
}

int sleep(unsigned nticks)
{
	return syscall(SYS_sleep, nticks, 0, 0);
}

int exec(const char *name, const char *arg)
{
	return syscall(SYS_exec, (uint32_t)name, (uint32_t)arg, 0);
}

/* The kernel's self-tests (guest/lib/ktest_abi.h). */
int ktest(int test, uint32_t a, uint32_t b)
{
	return syscall(SYS_ktest, (uint32_t)test, a, b);
}
