/*
 * machine.h - the machine of shadow mode: one KVM VM that kvmshadow owns,
 * its machine memory, and the monitor in the top 4 MiB of every address
 * space.
 *
 * In hw mode the KVM VM *is* the guest's PC.  In shadow mode it is the
 * bare machine underneath: its "physical" memory is machine memory, handed
 * out frame by frame (p2m.c) to guests and to the VMM's own structures
 * (the monitor, shadow page tables).  Nothing the guest builds - page
 * tables, descriptor tables - ever reaches the CPU; the machine runs on
 * tables the VMM builds.
 */
#ifndef KVMSHADOW_MACHINE_H
#define KVMSHADOW_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "kvm.h"
#include "monitor.h"
#include "p2m.h"

struct machine {
	struct kvm kvm;
	uint8_t *mem; /* machine memory, machine address 0 */
	uint64_t mem_bytes;
	struct p2m_pool pool;
	uint32_t monitor_pt;		     /* MFN of the page table of the top 4 MiB */
	uint32_t monitor_mfn[MONITOR_PAGES]; /* the monitor's pages, in order */
};

/* What the CPU should hold the first time the machine enters the guest. */
struct machine_entry {
	uint32_t cr3; /* machine address of the first shadow page directory */
	uint32_t eip, esp, eflags, eax, ebx;
	uint16_t cs, ds; /* real selectors; ds also for es, fs, gs and ss */
};

/*
 * Open KVM, create machine memory of nframes 4 KiB frames and put the
 * monitor into it.  On failure everything is undone.
 */
int machine_init(struct machine *m, uint32_t nframes, struct error *err);
void machine_destroy(struct machine *m);

/* Host pointers into machine memory: a frame, or one of the monitor's
 * pages by virtual address (NULL outside them). */
uint8_t *machine_frame_mem(const struct machine *m, uint32_t mfn);
void *machine_monitor_ptr(const struct machine *m, uint32_t va);

/* The frame the last trap left on the monitor stack, and the control block. */
struct monitor_frame *machine_frame(const struct machine *m);
struct monitor_ctl *machine_ctl(const struct machine *m);

/* The real GDT, MONITOR_GDT_ENTRIES descriptors. */
uint64_t *machine_gdt(const struct machine *m);

/* Whether the monitor's code pages still hold exactly the monitor. */
bool machine_monitor_intact(const struct machine *m);

/* Set the vCPU's registers once, before the first KVM_RUN. */
int machine_enter(struct machine *m, const struct machine_entry *e, struct error *err);

#endif
