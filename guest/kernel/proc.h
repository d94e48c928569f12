/* proc.h - processes. */
#ifndef GUEST_PROC_H
#define GUEST_PROC_H

#include <stdint.h>

#include "traps.h"

#define NPROC		64
#define KSTACK_SIZE	8192
#define PROC_NAME_MAX	16

enum proc_state {
	PROC_UNUSED,	/* a free slot */
	PROC_EMBRYO,	/* being built by fork, not yet runnable */
	PROC_RUNNABLE,	/* waiting for the CPU */
	PROC_RUNNING,	/* on the CPU: proc_current */
	PROC_SLEEPING,	/* waiting for an event (chan) */
	PROC_ZOMBIE,	/* exited, waiting for its parent's wait() */
};

/* The kernel registers switch_to() saves; see switch.S. */
struct context {
	uint32_t edi, esi, ebx, ebp, eip;
};

struct proc {
	enum proc_state state;
	int pid;
	char name[PROC_NAME_MAX];
	struct proc *parent;
	uint32_t *pgdir;	/* its address space (kernel virtual address) */
	uint32_t heap_start;	/* the heap: [heap_start, brk), zero-filled on demand */
	uint32_t brk;
	uint8_t *kstack;	/* lowest address of its kernel stack */
	struct trapframe *tf;	/* user registers, at the top of the kernel stack */
	struct context *context; /* kernel registers, while it is not running */
	const void *chan;	/* what it sleeps on */
	int slice;		/* timer ticks left before preemption */
	int need_resched;	/* its slice is used up: yield before user mode */
	int exit_status;
	uint32_t de_resume;	/* test-only: where a divide error resumes, or 0 (ktest_bench.c) */
};

extern struct proc proc_table[NPROC];
extern struct proc *proc_current;

void proc_create_init(const char *cmdline);
int proc_fork(const struct trapframe *tf);
void proc_exit(int status) __attribute__((noreturn));
int proc_wait(uint32_t ustatus);
void proc_kill(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void proc_check_stack(const struct proc *p);

#endif
