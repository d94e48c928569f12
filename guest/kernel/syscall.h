/* syscall.h - the system-call dispatcher. */
#ifndef GUEST_SYSCALL_H
#define GUEST_SYSCALL_H

#include "traps.h"

void syscall_dispatch(struct trapframe *tf);

#endif
