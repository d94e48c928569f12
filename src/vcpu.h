/*
 * vcpu.h - run the guest's virtual CPU until the guest stops.
 */
#ifndef KVMSHADOW_VCPU_H
#define KVMSHADOW_VCPU_H

#include <stdbool.h>
#include <stdint.h>

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

/*
 * Run until the guest stops; timeout_sec 0 means no limit; trace may be
 * NULL.  vm is the guest's shadow-mode state, NULL in hw mode.  The
 * caller zeroes *stop first (in shadow mode, vm_stop fills it).
 */
void vcpu_run(struct kvm *kvm, struct guest *g, struct vm *vm, double timeout_sec,
	      const struct trace *trace, struct stats *st, struct vcpu_stop *stop);

#endif
