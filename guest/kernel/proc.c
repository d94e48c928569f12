/*
 * proc.c - processes: the table, and their life cycle.
 *
 * A process is a slot in proc_table: an address space (pgdir), a kernel
 * stack, and the bookkeeping around them.  The kernel makes exactly one
 * process by hand, init (pid 1), from the built-in program "init".
 * Every other process is a copy made by fork(), and becomes a different
 * program by exec() (exec.c).
 *
 *   proc_alloc:  UNUSED -> EMBRYO, with a kernel stack set up so that the
 *                first switch to it "returns" through trap_return into
 *                user mode with the registers in its trap frame.
 *   fork:        EMBRYO -> RUNNABLE, a copy of the parent's memory and
 *                registers (its fork() returns 0).
 *   exit:        -> ZOMBIE, its memory freed at once; its children go to
 *                init.  The slot stays until the parent's wait() reaps it
 *                and learns its exit status.
 *
 * Kernel stacks are 8 KiB each, one per slot, in the kernel's .bss.  The
 * lowest word of each holds a magic number: if it changes, a kernel stack
 * overflowed into it, and we panic before anything worse happens.
 */
#include <stdarg.h>

#include "cpu.h"
#include "exec.h"
#include "fmt.h"
#include "guest_abi.h"
#include "main.h"
#include "memlayout.h"
#include "printk.h"
#include "proc.h"
#include "sched.h"
#include "segments.h"
#include "str.h"
#include "uaccess.h"
#include "vm.h"

#define KSTACK_MAGIC	0x57ac4a11u

struct proc proc_table[NPROC];
struct proc *proc_current;
static struct proc *proc_initproc;
static int proc_next_pid = 1;
static uint8_t proc_kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(PAGE_SIZE)));

void proc_check_stack(const struct proc *p)
{
	if (*(const uint32_t *)p->kstack != KSTACK_MAGIC)
		panic("kernel stack overflow in pid %d (%s)", p->pid, p->name);
}

static struct proc *proc_alloc(void)
{
	uint32_t flags = irq_save();
	struct proc *p = 0;
	int slot;

	for (slot = 0; slot < NPROC; slot++)
		if (proc_table[slot].state == PROC_UNUSED) {
			p = &proc_table[slot];
			break;
		}
	if (p) {
		*p = (struct proc){ .state = PROC_EMBRYO, .pid = proc_next_pid++ };
		p->kstack = proc_kstacks[slot];
	}
	irq_restore(flags);
	if (!p)
		return 0;

	*(uint32_t *)p->kstack = KSTACK_MAGIC;
	p->tf = (struct trapframe *)(p->kstack + KSTACK_SIZE) - 1;
	p->context = (struct context *)p->tf - 1;
	*p->context = (struct context){ .eip = (uint32_t)trap_return };
	return p;
}

static void proc_make_runnable(struct proc *p)
{
	uint32_t flags = irq_save();

	p->state = PROC_RUNNABLE;
	irq_restore(flags);
}

/* pid 1: the built-in program "init", given the kernel command line. */
void proc_create_init(const char *cmdline)
{
	struct proc *p = proc_alloc();
	int err;

	if (!p)
		panic("no process slot for init");
	*p->tf = (struct trapframe){
		.cs = USER_CS, .ds = USER_DS, .es = USER_DS, .fs = USER_DS, .gs = USER_DS,
		.ss = USER_DS, .eflags = FL_IF | FL_FIXED,
	};
	err = exec_program(p, "init", cmdline);
	if (err < 0)
		panic("cannot start init: error %d", err);
	proc_initproc = p;
	proc_make_runnable(p);
}

/* fork: the child gets a copy of our memory, and our registers but EAX = 0. */
int proc_fork(const struct trapframe *tf)
{
	struct proc *parent = proc_current, *child = proc_alloc();

	if (!child)
		return -GUEST_EAGAIN;
	child->pgdir = vm_create();
	if (!child->pgdir || vm_copy(child->pgdir, parent->pgdir) < 0) {
		if (child->pgdir)
			vm_free(child->pgdir);
		child->state = PROC_UNUSED;
		return -GUEST_ENOMEM;
	}
	memcpy(child->name, parent->name, sizeof(child->name));
	child->heap_start = parent->heap_start;
	child->brk = parent->brk;
	child->parent = parent;
	*child->tf = *tf;
	child->tf->eax = 0;
	proc_make_runnable(child);
	return child->pid;
}

/* Hand our children to init; wake init if one of them is already dead. */
static void proc_reparent_children(struct proc *p)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *c = &proc_table[i];

		if (c->state == PROC_UNUSED || c->parent != p)
			continue;
		c->parent = proc_initproc;
		if (c->state == PROC_ZOMBIE)
			sched_wakeup(proc_initproc);
	}
}

void proc_exit(int status)
{
	struct proc *p = proc_current;

	/* Leave our address space before freeing it. */
	vm_switch(vm_kernel_pgdir);
	vm_free(p->pgdir);
	p->pgdir = vm_kernel_pgdir;	/* what the scheduler loads for a zombie: nothing */
	if (p == proc_initproc)
		main_shutdown(status);

	cli();
	proc_reparent_children(p);
	p->exit_status = status;
	p->state = PROC_ZOMBIE;
	sched_wakeup(p->parent);	/* a parent waits on itself */
	sched_switch();
	panic("zombie pid %d ran again", p->pid);
}

/* The caller holds interrupts off; c is a zombie child of the caller. */
static int proc_reap(struct proc *c, int *status)
{
	int pid = c->pid;

	*status = c->exit_status;
	c->state = PROC_UNUSED;
	return pid;
}

/*
 * wait: sleep until a child is a zombie, reap it, and store its exit
 * status at user address ustatus (unless 0).  The pointer is checked
 * before anything happens, so a bad one loses no child.
 */
int proc_wait(uint32_t ustatus)
{
	struct proc *p = proc_current;
	uint32_t flags;
	int status;

	if (ustatus && uaccess_check(ustatus, sizeof(int), UACCESS_WRITE) < 0)
		return -GUEST_EFAULT;
	flags = irq_save();
	for (;;) {
		int children = 0;

		for (int i = 0; i < NPROC; i++) {
			struct proc *c = &proc_table[i];
			int pid;

			if (c->state == PROC_UNUSED || c->parent != p)
				continue;
			children++;
			if (c->state != PROC_ZOMBIE)
				continue;
			pid = proc_reap(c, &status);
			irq_restore(flags);
			if (ustatus && uaccess_copy_out(ustatus, &status, sizeof(status)) < 0)
				return -GUEST_EFAULT;
			return pid;
		}
		if (!children) {
			irq_restore(flags);
			return -GUEST_ECHILD;
		}
		sched_sleep(p);
	}
}

/*
 * The current process did something no process may do - touched memory
 * it does not have, divided by zero, ran a privileged instruction.  Say
 * so in one line and end it as if it had called exit(GUEST_EXIT_KILLED).
 */
void proc_kill(const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	printk("%s: killed: %s\n", proc_current->name, why);
	proc_exit(GUEST_EXIT_KILLED);
}
