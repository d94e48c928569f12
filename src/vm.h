/*
 * vm.h - one guest operating system in shadow mode: the virtual CPU it
 * believes it has, and the VMM's private view of it.
 *
 * The guest's general registers live in the CPU (or, while the VMM
 * handles a trap, in the monitor frame).  Everything privileged lives
 * here, because the guest only believes it has it: its control
 * registers, its descriptor-table registers, its interrupt flag.  Its
 * memory is a PFN-to-MFN map over machine memory, and its address spaces
 * reach the CPU only as shadow page tables.
 */
#ifndef KVMSHADOW_VM_H
#define KVMSHADOW_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate.h"
#include "guest.h"
#include "loader.h"
#include "machine.h"
#include "p2m.h"
#include "patch.h"
#include "ptwalk.h"
#include "shadow.h"
#include "stats.h"
#include "trace.h"
#include "vcpu.h"

struct vm {
	const char *name; /* "vm0" */
	struct guest *g;  /* its devices */
	struct machine *m;
	struct p2m p2m;
	struct ptwalk_mem walk_mem; /* guest-physical memory, through p2m */

	/* The virtual CPU's privileged state. */
	struct emulate_sys sys;
	bool vif;	   /* the virtual interrupt flag */
	uint32_t viopl;	   /* the virtual EFLAGS.IOPL bits */
	uint32_t tss_base; /* linear address of the TSS the guest loaded with ltr */
	bool tss_loaded;

	struct shadow shadow;
	struct patch_set patch;
	struct emulator em;

	struct stats *st;
	const struct trace *trace;
	struct vcpu_stop *stop;
	bool stopped;
	bool check_shadow;	/* --check-shadow: audit the shadow before every resume */
	bool halted;		/* the guest executed hlt: wait for an interrupt */
	bool irq_injected;	/* MONITOR_IRQ_VECTOR queued with KVM_INTERRUPT, not yet taken */
	bool sti_shadow;	/* the trap just handled was an sti that set IF */
	uint32_t sti_eip;	/* where the guest resumed after it: the shadowed instruction */
	bool sti_next_traps;	/* ...which traps anyway (hlt, our patch byte) */
	bool single_step;	/* we set TF to let one instruction run first (trap.c) */
	bool step_guest_tf;	/* ...and the guest had set TF itself: its #DB is due too */
	bool hold_after_step;	/* then hold interrupts for TRAP_IRQ_HOLD_NS */
	uint32_t real_cr0;	/* what the CPU's CR0 holds */
	uint32_t real_cr4;	/* and its CR4 */
	bool unbacked_reported; /* the first access to missing memory was reported */
	const char *swap_error; /* why the last swap-out failed, for the report */
	/* A page-table store we cannot emulate (trap.c's trap_ptwrite_native):
	 * the store we last unshadowed a page for, and the one running
	 * natively, one step, with its page exempt from protection (the
	 * page is shadow.exempt; nonzero while the step runs). */
	uint32_t ptwrite_retry_eip, ptwrite_retry_gfn;
	uint32_t ptstep_eip;
	uint32_t ptstep_before[PT_ENTRIES]; /* the page before the step */
	/* Interrupt pacing (trap.c): the guest stack frame of the last
	 * interrupt delivered, and until when the next one waits. */
	uint32_t irq_frame_esp;
	uint64_t irq_hold_until; /* ns, pit_host_clock() */
};

/*
 * Build the guest from g, whose flat memory holds the loaded image and
 * the Multiboot information: patch its kernel code (img says where), move
 * its memory into scattered machine frames (g->mem is unmapped), and
 * prepare the shadow of its paging-off start.  vm->st, trace and stop
 * must be set.
 */
int vm_init(struct vm *vm, struct machine *m, struct guest *g, const struct loader_image *img,
	    struct error *err);
void vm_destroy(struct vm *vm);

/* The memory part of vm_init alone: back mem_bytes of guest memory with
 * machine frames and set up the page walker's view of it (unit tests
 * build a vm from this). */
int vm_init_memory(struct vm *vm, struct machine *m, uint64_t mem_bytes, struct error *err);

/* The first entry into the guest, at the Multiboot entry point. */
int vm_enter(struct vm *vm, uint32_t entry, struct error *err);

/* Stop the guest with a one-line report; the first call wins. */
void vm_stop(struct vm *vm, enum vcpu_stop_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Guest-physical memory: a host pointer to gpa, valid to the end of its
 * page, or NULL if the guest has no memory there.  The page is made
 * resident if it was not (p2m_get), and stays so until the trap ends.
 * NULL also when no machine frame could be had; the vm is stopped then.
 */
uint8_t *vm_phys(struct vm *vm, uint32_t gpa);

/* The same, but only if the page is resident now: no side effect at all
 * (for the --check-shadow audit). */
const uint8_t *vm_phys_resident(const struct vm *vm, uint32_t gpa);

/* The guest is done: give back its shadow and every frame (scrubbed). */
void vm_release(struct vm *vm);

/*
 * Guest-virtual memory, through the guest's own page tables, as the guest
 * would access it (vm_virt_to_phys: one address, to guest-physical):
 * 'access' is PF_W and/or PF_U.  Accessed and dirty bits are set as the
 * CPU would.  A write is all or nothing.  Returns 0, or -1 with *fault set
 * to the page fault the guest would take (vector T_PF), or with
 * fault->vector set to 0xff if a page table lies outside guest memory.
 */
int vm_virt_to_phys(struct vm *vm, uint32_t va, unsigned access, uint32_t *gpa,
		    struct emulate_fault *fault);
int vm_read_virt(struct vm *vm, uint32_t va, void *buf, unsigned len, unsigned access,
		 struct emulate_fault *fault);
int vm_write_virt(struct vm *vm, uint32_t va, const void *buf, unsigned len, unsigned access,
		  struct emulate_fault *fault);

/* The guest's view of EFLAGS, from the real one. */
uint32_t vm_guest_eflags(const struct vm *vm, uint32_t real);
/* Take IF and IOPL from a guest EFLAGS value; return the real one. */
uint32_t vm_set_eflags(struct vm *vm, uint32_t guest);

#endif
