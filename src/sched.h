/*
 * sched.h - several guest operating systems on one machine.
 *
 * One KVM VM, one vCPU, and kvmshadow decides who has it: the chapter's
 * first scenario, a single processor multiplexed between operating
 * systems.  Each guest runs for a time slice (--slice, times its
 * --weight); a host timer takes the CPU back when the slice ends,
 * whatever the guest is doing - even looping with its interrupts off,
 * since those are only virtual.  Then a machine switch (switch.c) saves
 * everything the machine holds for it and loads the next guest's.
 *
 * A guest that executes hlt with nothing to do gives its slice up at
 * once (vcpu.c): it is idle until its next timer interrupt, and the
 * others get the time.  With every guest idle, the host sleeps.
 *
 * A guest that ends leaves the others running; its memory is scrubbed
 * and goes back to the pool.
 */
#ifndef KVMSHADOW_SCHED_H
#define KVMSHADOW_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "machine.h"
#include "stats.h"
#include "swap.h"
#include "switch.h"
#include "trace.h"
#include "vcpu.h"
#include "vm.h"

enum sched_state {
	SCHED_READY,  /* can run */
	SCHED_HALTED, /* in hlt, until wake_at */
	SCHED_DONE,   /* stopped for good */
};

/* One guest as the scheduler sees it; main.c builds g and vm. */
struct sched_guest {
	struct guest g;
	struct vm vm;
	struct stats st;
	struct vcpu_stop stop;
	struct trace trace;
	struct vcpu_loop loop;
	struct switch_state *saved; /* its machine state while another runs */
	unsigned weight;
	enum sched_state state;
	uint64_t wake_at; /* SCHED_HALTED: ns, pit_host_clock */
	uint64_t cpu_ns;  /* time it had the real CPU */
	uint64_t ended;	  /* ns: when it stopped */
};

struct sched {
	struct machine *m;
	struct swap *swap;
	struct sched_guest *guest;
	unsigned n;
	int current; /* whose state is on the machine; -1: nobody's */
	uint64_t slice_ns;
	uint64_t timeout_at; /* ns; 0: none */
	struct vcpu_timer timer;
	/* For --stats. */
	uint64_t started, finished;
	uint64_t switches, idle_ns, switch_ns;
};

/*
 * Every guest was built (vm_init, vm_enter) with its own monitor pages
 * on the machine: save each one's state right after, so that the next
 * can be built.  The first guest to run is loaded by sched_run.
 */
int sched_save_built(struct sched_guest *sg, struct error *err);

/* Run every guest until all have stopped (or the timeout). */
void sched_run(struct sched *s, double timeout_sec);

/* The machine's part of --stats: switches, idle time, shares. */
void sched_print_stats(FILE *out, const struct sched *s);

#endif
