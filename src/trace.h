/*
 * trace.h - one line per VMM intervention, for people learning how a VMM
 * works (--trace=LIST).
 */
#ifndef KVMSHADOW_TRACE_H
#define KVMSHADOW_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

enum trace_category {
	TRACE_IO = 1u << 0,   /* in/out handled by a device model */
	TRACE_IRQ = 1u << 1,  /* interrupts raised, held and injected */
	TRACE_HLT = 1u << 2,  /* the guest halted; the host slept */
	TRACE_EXIT = 1u << 3, /* every other return from KVM_RUN */
	/* shadow mode */
	TRACE_SYSCALL = 1u << 4,   /* int 0x80 (and other int n) reflected */
	TRACE_IRET = 1u << 5,	   /* the guest kernel's iret, performed by the VMM */
	TRACE_CR3 = 1u << 6,	   /* address-space switches and shadow flushes */
	TRACE_PAGEFAULT = 1u << 7, /* hidden and true page faults */
	TRACE_PRIV = 1u << 8,	   /* other privileged instructions emulated */
	TRACE_EXCEPTION = 1u << 9, /* exceptions reflected to the guest */
	/* several guests on one machine */
	TRACE_SCHED = 1u << 10, /* machine switches and idle guests giving up the CPU */
	TRACE_SWAP = 1u << 11,	/* guest frames swapped out and in */
	TRACE_ALL = (1u << 12) - 1,
};

struct trace {
	unsigned mask; /* the categories switched on */
	FILE *out;
	const char *name; /* the guest's name, "vm0" */
};

/* Parse "io,irq" or "all" into a mask of trace_category bits. */
int trace_parse(const char *list, unsigned *mask, struct error *err);

/* Cheap enough to call on every exit: a test of one bit. */
static inline bool trace_on(const struct trace *t, enum trace_category category)
{
	return t && (t->mask & category);
}

/* Print "[vm0] <text>\n"; callers test trace_on() first, so that with
 * tracing off no formatting happens at all. */
void trace_line(const struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
