/*
 * stats.h - counting what the VMM did, for --stats.
 *
 * Inside the sandbox one exit to userspace costs ~40 us instead of a
 * couple of microseconds, so kvmshadow's performance is judged first by
 * these counts: how often did the VMM have to intervene?
 */
#ifndef KVMSHADOW_STATS_H
#define KVMSHADOW_STATS_H

#include <stdint.h>
#include <stdio.h>

enum stats_exit {
	STATS_EXIT_IO,	       /* in/out to a device model */
	STATS_EXIT_MMIO,       /* access to unbacked guest-physical memory */
	STATS_EXIT_HLT,	       /* the guest halted */
	STATS_EXIT_IRQ_WINDOW, /* the guest became ready for an interrupt */
	STATS_EXIT_INTR,       /* a host signal (our timer) interrupted KVM_RUN */
	STATS_EXIT_SHUTDOWN,   /* triple fault */
	STATS_EXIT_OTHER,
	STATS_EXIT_COUNT
};

struct stats {
	uint64_t exits[STATS_EXIT_COUNT];
	uint64_t irqs_injected; /* KVM_INTERRUPT calls */
	uint64_t timer_edges;	/* IRQ 0 edges raised by the PIT model */
	uint64_t halt_sleeps;	/* times the host slept for a halted guest */
	double seconds;		/* wall-clock time the guest ran */
};

struct guest;

uint64_t stats_total_exits(const struct stats *st);
/* Print "name value" lines, one counter each, stable for scripts. */
void stats_print(FILE *out, const struct stats *st, const struct guest *g, const char *mode);

#endif
