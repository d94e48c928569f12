/*
 * sysinfo.c - the system calls' edges, and the clock.
 *
 *  - The tick count advances while we compute: the timer interrupts user
 *    code (and under a VMM, the virtual timer reaches the guest).
 *  - sleep(5) comes back at least 5 ticks later; with everyone else
 *    waiting, the kernel idles in hlt meanwhile.
 *  - A process that computes without ever yielding still loses the CPU
 *    when its time slice is up.
 *  - Bad arguments get error returns, not crashes: pointers to nowhere,
 *    to the kernel, running off the end of user space; a bad file
 *    descriptor; an unknown system call; an unknown program.
 *  - The kernel can store into a heap page the program never touched.
 *
 * Only PASS or FAIL is printed, never a tick count: how many ticks pass
 * depends on the machine, and the output must not.
 */
#include "ulib.h"

#define SPIN_LIMIT	2000000u	/* ticks() calls: many ticks' worth */
#define BUSY_TICKS	20

static int failures;

static void check(const char *what, int ok)
{
	printf("sysinfo: %s: %s\n", what, ok ? "PASS" : "FAIL");
	failures += !ok;
}

static int ticks_advance(void)
{
	unsigned start = ticks();

	for (unsigned i = 0; i < SPIN_LIMIT; i++)
		if (ticks() != start)
			return 1;
	return 0;
}

static int sleep_waits(void)
{
	unsigned start = ticks();

	return sleep(5) == 0 && ticks() - start >= 5;
}

/*
 * A child computes without ever yielding until 20 ticks have passed,
 * while we sleep 2 ticks.  If we wake and get the CPU while it still
 * computes, the timer took the CPU away from it: preemption works.
 */
static int busy_child_is_preempted(void)
{
	unsigned start = ticks();
	int status, pid = fork(), ran_early;

	if (pid == 0) {
		while (ticks() - start < BUSY_TICKS)
			;
		exit(0);
	}
	sleep(2);
	ran_early = ticks() - start < BUSY_TICKS;
	return pid > 0 && ran_early && wait(&status) == pid && status == 0;
}

static int child_pid_matches(void)
{
	int status, pid = fork();

	if (pid == 0)
		exit(getpid());
	return pid > 0 && wait(&status) == pid && status == pid;
}

static int bad_pointers_fail(void)
{
	return write(1, 0, 4) == -GUEST_EFAULT &&
	       write(1, (void *)0xc0000000, 4) == -GUEST_EFAULT &&
	       write(1, (void *)0xbffffffe, 4) == -GUEST_EFAULT &&
	       write(1, (void *)0x40000000, 1) == -GUEST_EFAULT &&
	       exec((const char *)0, 0) == -GUEST_EFAULT;
}

static int bad_arguments_fail(void)
{
	return write(3, "x", 1) == -GUEST_EBADF && write(1, "x", -1) == -GUEST_EINVAL &&
	       syscall(0, 0, 0, 0) == -GUEST_ENOSYS && syscall(999, 0, 0, 0) == -GUEST_ENOSYS &&
	       exec("nosuchprogram", 0) == -GUEST_ENOENT && wait(0) == -GUEST_ECHILD;
}

/* wait() stores the status into a fresh heap page; a bad pointer loses nothing. */
static int wait_stores_status(void)
{
	int *page = sbrk(8192);
	int pid = fork();

	if (pid == 0)
		exit(7);
	if (page == (void *)-1 || pid < 0)
		return 0;
	if (wait((int *)0xc0000000) != -GUEST_EFAULT)
		return 0;
	return wait(&page[1024]) == pid && page[1024] == 7 && page[0] == 0;
}

int main(const char *arg)
{
	(void)arg;
	check("the tick count advances", ticks_advance());
	check("sleep(5) lasts at least 5 ticks", sleep_waits());
	check("a busy process is preempted", busy_child_is_preempted());
	check("a child's getpid() is what fork() returned", child_pid_matches());
	check("bad pointers give -EFAULT", bad_pointers_fail());
	check("bad arguments give errors", bad_arguments_fail());
	check("the kernel writes wait()'s status into a new heap page", wait_stores_status());
	return failures ? 1 : 0;
}
