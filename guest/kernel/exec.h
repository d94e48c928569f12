/* exec.h - running a built-in program. */
#ifndef GUEST_EXEC_H
#define GUEST_EXEC_H

#include "proc.h"

#define EXEC_ARG_MAX	256	/* the longest argument string, with its NUL */

int exec_program(struct proc *p, const char *name, const char *arg);

#endif
