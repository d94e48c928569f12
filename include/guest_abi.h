/*
 * guest_abi.h - the system-call interface of kvmshadow's guest kernel.
 *
 * A user program asks the guest kernel for a service with `int $0x80`:
 * the call number in EAX, up to three arguments in EBX, ECX and EDX, the
 * result back in EAX.  A negative result is an error, minus one of the
 * GUEST_E* numbers below (the Linux convention).
 *
 * This is the trap of Table B.1 in the chapter.  Under kvmshadow the same
 * `int $0x80` first lands in the VMM, which reflects it into the guest
 * kernel's handler (Table B.3); the numbers live here, in the shared
 * include directory, so that host-side tools and tests can decode a
 * guest's system calls without copying them.
 *
 * Plain numbers without C types or suffixes, so that assembly, C and
 * host tools can all use them.
 */
#ifndef KVMSHADOW_GUEST_ABI_H
#define KVMSHADOW_GUEST_ABI_H

#define GUEST_SYSCALL_VECTOR	0x80

/*	   number	   name		   arguments -> result */
#define SYS_exit	1	/* (int status) -> does not return */
#define SYS_fork	2	/* () -> child pid in the parent, 0 in the child */
#define SYS_write	3	/* (int fd, const void *buf, int len) -> bytes written */
#define SYS_getpid	4	/* () -> pid */
#define SYS_yield	5	/* () -> 0, after other runnable processes had a turn */
#define SYS_wait	6	/* (int *status or 0) -> pid of a child that exited */
#define SYS_sbrk	7	/* (int increment) -> the old break */
#define SYS_ticks	8	/* () -> timer ticks since boot (GUEST_HZ per second) */
#define SYS_sleep	9	/* (unsigned ticks) -> 0, at least that many ticks later */
#define SYS_exec	10	/* (const char *program, const char *arg) -> only on error */
#define SYS_COUNT	11	/* one more than the highest number */

/* The timer rate the guest kernel programs into the PIT. */
#define GUEST_HZ		100

/* Error numbers: a failing call returns -GUEST_Exxx (Linux's values). */
#define GUEST_ENOENT	2	/* exec: no built-in program of that name */
#define GUEST_EBADF	9	/* write: fd is not 1 or 2 */
#define GUEST_ECHILD	10	/* wait: no children */
#define GUEST_EAGAIN	11	/* fork: process table full */
#define GUEST_ENOMEM	12	/* out of memory, or sbrk past the heap limit */
#define GUEST_EFAULT	14	/* a pointer argument is not valid user memory */
#define GUEST_EINVAL	22	/* an argument is out of range */
#define GUEST_ENAMETOOLONG 36	/* exec: a string argument is too long */
#define GUEST_ENOSYS	38	/* no such system call */

/*
 * The exit status a parent's wait() reports for a child the kernel killed
 * because of an exception (page fault, divide error, general protection
 * fault, invalid opcode, breakpoint...): 128 + 11, what a Unix shell shows
 * for a process killed by SIGSEGV.
 */
#define GUEST_EXIT_KILLED	139

#endif
