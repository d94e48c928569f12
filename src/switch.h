/*
 * switch.h - the machine switch: take the real machine away from one guest
 * and give it to another.
 *
 * The chapter's first scenario is one processor multiplexed between two
 * operating systems.  Each believes it has the machine to itself, so the
 * VMM must save everything the machine holds for one of them - far more
 * than a process switch saves - and put back everything of the next.
 * In kvmshadow that is:
 *
 *   - the vCPU: general registers, EIP, EFLAGS, segment registers with
 *     their hidden parts, the real CR0/CR3/CR4 (CR3 is the guest's
 *     current shadow page directory), the FPU and SSE registers, and
 *     KVM's pending events (an interrupt queued with
 *     KVM_INTERRUPT, an interrupt shadow after sti or mov ss);
 *   - the monitor's per-guest pages: the real GDT (the guest's mirrored
 *     descriptors), the real IDT (its user gates' DPLs) and TSS, and the
 *     monitor's stack and control block.  The CPU may have stopped
 *     anywhere - in the guest, or halfway through a monitor stub with a
 *     half-built frame on the monitor stack - so the stack goes too.
 *
 * The guest's *virtual* privileged state (its CR0-CR4, IDTR, GDTR, TR,
 * virtual IF) needs no saving: it never reaches the CPU, and lives in its
 * struct vm all along.  Its devices and its memory map are its own too.
 */
#ifndef KVMSHADOW_SWITCH_H
#define KVMSHADOW_SWITCH_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "machine.h"
#include "monitor.h"

/* The monitor pages that belong to one guest: GDT, IDT and TSS, stack. */
#define SWITCH_MONITOR_FIRST 2
#define SWITCH_MONITOR_PAGES (MONITOR_PAGES - SWITCH_MONITOR_FIRST)

struct switch_state {
	bool valid; /* saved at least once */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	uint8_t monitor[SWITCH_MONITOR_PAGES][4096];
};

/*
 * Save the machine as it is into s.  First lets KVM finish an exit it
 * left half-done (the monitor's `out`: KVM moves EIP past it only on the
 * next KVM_RUN), without running a single guest instruction.
 */
int switch_save(struct machine *m, struct switch_state *s, struct error *err);

/* Put s back on the machine: from here on, KVM_RUN runs that guest. */
int switch_load(struct machine *m, const struct switch_state *s, struct error *err);

/* Just the monitor's per-guest pages (while building a guest). */
void switch_save_monitor(const struct machine *m, struct switch_state *s);
void switch_load_monitor(struct machine *m, const struct switch_state *s);

#endif
