/*
 * syscall.c - system calls: int $0x80 with the number in EAX.
 *
 * This is the far end of Table B.1 ("handle system call; return from
 * trap").  The arguments are the user's EBX, ECX and EDX, read from the
 * trap frame; the result goes into the trap frame's EAX, which is what
 * the user program finds in EAX when trap_return's iret takes it back.
 * Numbers and error codes are in include/guest_abi.h.
 *
 * The system-call gate is a trap gate, so unlike interrupts and
 * exceptions, system calls run with interrupts enabled: the timer keeps
 * ticking during a long fork or a long write.
 */
#include "guest_abi.h"
#include "memlayout.h"
#include "exec.h"
#include "ktest.h"
#include "ktest_abi.h"
#include "pit.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "uart.h"
#include "vm.h"

static int sys_exit(struct trapframe *tf)
{
	proc_exit((int)tf->ebx);
}

static int sys_fork(struct trapframe *tf)
{
	return proc_fork(tf);
}

/* write(fd, buf, len): fd 1 and 2 are the console. */
static int sys_write(struct trapframe *tf)
{
	uint32_t fd = tf->ebx, buf = tf->ecx;
	int len = (int)tf->edx;

	if (fd != 1 && fd != 2)
		return -GUEST_EBADF;
	if (len < 0)
		return -GUEST_EINVAL;
	if (uaccess_check(buf, (uint32_t)len, UACCESS_READ) < 0)
		return -GUEST_EFAULT;
	uart_write((const char *)buf, (uint32_t)len);
	return len;
}

static int sys_getpid(struct trapframe *tf)
{
	(void)tf;
	return proc_current->pid;
}

static int sys_yield(struct trapframe *tf)
{
	(void)tf;
	sched_yield();
	return 0;
}

static int sys_wait(struct trapframe *tf)
{
	return proc_wait(tf->ebx);
}

/*
 * sbrk(increment): move the break, return the old one.  Growing only
 * moves the number - pages appear when touched (fault.c).  Shrinking
 * frees the pages above the new break at once; those were present
 * mappings, so vm_unmap flushes them from the TLB with invlpg.
 */
static int sys_sbrk(struct trapframe *tf)
{
	struct proc *p = proc_current;
	int incr = (int)tf->ebx;
	uint32_t old = p->brk, new = old + (uint32_t)incr;

	if (incr > 0 && (new < old || new > USER_HEAP_LIMIT))
		return -GUEST_ENOMEM;
	if (incr < 0 && (new > old || new < p->heap_start))
		return -GUEST_EINVAL;
	if (incr < 0)
		vm_unmap(p->pgdir, PAGE_ROUND_UP(new), PAGE_ROUND_UP(old));
	p->brk = new;
	return (int)old;
}

static int sys_ticks(struct trapframe *tf)
{
	(void)tf;
	return (int)pit_ticks();
}

static int sys_sleep(struct trapframe *tf)
{
	sched_sleep_ticks(tf->ebx);
	return 0;
}

/* exec(name, arg): arg may be 0, meaning "". */
static int sys_exec(struct trapframe *tf)
{
	char name[PROC_NAME_MAX], arg[EXEC_ARG_MAX];
	int err = uaccess_copy_string(name, tf->ebx, sizeof(name));

	if (err < 0)
		return err == -GUEST_ENAMETOOLONG ? -GUEST_ENOENT : err;
	arg[0] = '\0';
	if (tf->ecx && (err = uaccess_copy_string(arg, tf->ecx, sizeof(arg))) < 0)
		return err;
	return exec_program(proc_current, name, arg);
}

static int (*const syscall_table[SYS_COUNT])(struct trapframe *) = {
	[SYS_exit] = sys_exit,
	[SYS_fork] = sys_fork,
	[SYS_write] = sys_write,
	[SYS_getpid] = sys_getpid,
	[SYS_yield] = sys_yield,
	[SYS_wait] = sys_wait,
	[SYS_sbrk] = sys_sbrk,
	[SYS_ticks] = sys_ticks,
	[SYS_sleep] = sys_sleep,
	[SYS_exec] = sys_exec,
};

void syscall_dispatch(struct trapframe *tf)
{
	uint32_t n = tf->eax;

	if (n < SYS_COUNT && syscall_table[n])
		tf->eax = (uint32_t)syscall_table[n](tf);
	else if (n == SYS_ktest)	/* the self-tests: ktest.c */
		tf->eax = (uint32_t)ktest_syscall(tf->ebx, tf->ecx, tf->edx);
	else
		tf->eax = (uint32_t)-GUEST_ENOSYS;
}
