/*
 * vcpu.h - run the guest's virtual CPU until the guest stops.
 */
#ifndef KVMSHADOW_VCPU_H
#define KVMSHADOW_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "guest.h"
#include "kvm.h"
#include "stats.h"

enum vcpu_stop_reason {
	VCPU_STOP_DEBUG_EXIT, /* the guest wrote to the debug-exit port */
	VCPU_STOP_TRIPLE_FAULT,
	VCPU_STOP_SHUTDOWN, /* halted for good, or powered off */
	VCPU_STOP_TIMEOUT,
	VCPU_STOP_VMM_ERROR,   /* KVM or the host failed */
	VCPU_STOP_GUEST_ERROR, /* the guest did something KVM cannot run */
};

struct vcpu_stop {
	enum vcpu_stop_reason reason;
	uint32_t value;	  /* the debug-exit value */
	uint32_t eip;	  /* where the guest was */
	bool eip_known;	  /* false when KVM reset the vCPU first */
	bool regs_failed; /* KVM_GET_REGS failed: eip unknown */
	char detail[256]; /* one line for the user */
};

struct trace;
struct vm;

/* The host timer that takes the CPU back from KVM_RUN (one per machine). */
struct vcpu_timer {
	timer_t id;
	bool created;
	uint64_t armed; /* the deadline it is set for (ns, pit_host_clock) */
};

int vcpu_timer_init(struct vcpu_timer *t, struct kvm *kvm, struct error *err);
void vcpu_timer_fini(struct vcpu_timer *t);

/* One guest's run loop: what vcpu_run_slice needs between slices. */
struct vcpu_loop {
	struct kvm *kvm;
	struct guest *g;
	struct stats *st;
	struct vcpu_stop *stop;
	const struct trace *trace;
	struct vm *vm; /* shadow mode; NULL in hw mode */
	int stopped;
	bool waiting;	     /* shadow mode: in hlt, its trap open until an interrupt */
	uint64_t started;    /* ns, when the run began */
	uint64_t timeout_at; /* ns; 0 for none */
	struct vcpu_timer *timer;
	int mmio_warned;
};

enum vcpu_slice {
	VCPU_SLICE_OVER,    /* 'until' came: the guest can go on later */
	VCPU_SLICE_HALTED,  /* shadow mode: the guest halted; see vcpu_wake_time */
	VCPU_SLICE_STOPPED, /* the guest is done: *stop says how */
};

void vcpu_loop_init(struct vcpu_loop *l, struct kvm *kvm, struct guest *g, struct vm *vm,
		    const struct trace *trace, struct stats *st, struct vcpu_stop *stop,
		    struct vcpu_timer *timer, uint64_t timeout_at);

/*
 * Run the guest that is on the machine until 'until' (ns, pit_host_clock;
 * UINT64_MAX: no end), until it halts with nothing to do (shadow mode),
 * or until it stops.  A host timer takes the CPU back at 'until' whatever
 * the guest does.
 */
enum vcpu_slice vcpu_run_slice(struct vcpu_loop *l, uint64_t until);

/* A halted guest: when it must next have the CPU (1: at once). */
uint64_t vcpu_wake_time(const struct vcpu_loop *l);

/* Sleep until deadline (ns, pit_host_clock). */
void vcpu_wait_until(uint64_t deadline);

/*
 * hw mode: run the one guest until it stops; timeout_sec 0 means no
 * limit; trace may be NULL.  The caller zeroes *stop first.  (Shadow mode
 * runs its guests slice by slice, through sched.c.)
 */
void vcpu_run(struct kvm *kvm, struct guest *g, double timeout_sec, const struct trace *trace,
	      struct stats *st, struct vcpu_stop *stop);

#endif
