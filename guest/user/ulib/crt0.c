/*
 * crt0.c - where a user program starts.
 *
 * exec (guest/kernel/exec.c) sets up the stack as if _start had been
 * called with one argument, the argument string, and jumps here.  The
 * linker script puts _start first in the text.
 */
#include "ulib.h"

void _start(const char *arg) __attribute__((noreturn, section(".text.start")));

void _start(const char *arg)
{
	exit(main(arg));
}
