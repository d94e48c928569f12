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

#define STATS_MAX_EMULATED 48

struct stats {
	uint64_t exits[STATS_EXIT_COUNT];
	uint64_t irqs_injected; /* KVM_INTERRUPT calls */
	uint64_t timer_edges;	/* IRQ 0 edges raised by the PIT model */
	uint64_t halt_sleeps;	/* times a halted guest gave up the CPU (or the host slept) */
	double seconds;		/* wall-clock time the guest ran */

	/* Shadow mode: the machine shared with other guests (sched.c, swap.c). */
	double cpu_seconds;	/* time the real CPU was this guest's */
	double cpu_share;	/* cpu_seconds / the whole run's wall-clock time */
	uint64_t switches_in;	/* machine switches that gave it the CPU */
	uint64_t first_touches; /* zero frames given on first touch */
	uint64_t swap_outs;	/* its pages written to the swap file */
	uint64_t swap_zero;	/* its pages found all zero: dropped, not written */
	uint64_t swap_ins;	/* its pages read back */

	/* Shadow mode: every trap into the VMM, by what it was for. */
	uint64_t traps;		     /* monitor exits */
	uint64_t syscalls;	     /* int 0x80 reflected to the guest kernel */
	uint64_t soft_ints;	     /* other int n reflected */
	uint64_t exceptions;	     /* exceptions reflected (true page faults counted apart) */
	uint64_t irqs_delivered;     /* virtual interrupts delivered through the guest's IDT */
	uint64_t iret_user;	     /* guest kernel iret -> real return to user */
	uint64_t iret_kernel;	     /* guest kernel iret back into the kernel */
	uint64_t hidden_faults;	     /* shadow fills the guest never sees */
	uint64_t true_faults;	     /* page faults reflected to the guest */
	uint64_t shadow_flushes;     /* the whole shadow dropped */
	uint64_t invlpgs;	     /* guest invlpg instructions */
	uint64_t shadow_roots_built; /* CR3 loads that found no cached shadow */
	uint64_t shadow_root_hits;   /* CR3 loads that installed a cached one */
	uint64_t pt_writes;	     /* guest page-table writes intercepted and emulated */
	uint64_t shadow_unshadowed;  /* shadow pages dropped because the guest reused the frame */
	uint64_t shadow_evictions;   /* shadow pages reclaimed because the pool was full */
	uint64_t patch_sites;	     /* pushf/popf/iret patched in the guest kernel */
	uint64_t emulated_total;
	struct {
		char name[16];
		uint64_t count;
	} emulated[STATS_MAX_EMULATED]; /* by mnemonic, in order of first use */
	unsigned nemulated;
};

struct guest;

/* Count one emulated instruction under its mnemonic. */
void stats_count_emulated(struct stats *st, const char *mnemonic);

uint64_t stats_total_exits(const struct stats *st);
/* Print "name value" lines, one counter each, stable for scripts. */
void stats_print(FILE *out, const struct stats *st, const struct guest *g, const char *mode);

#endif
