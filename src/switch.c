/*
 * switch.c - the machine switch (see switch.h).
 *
 * Saving is "ask KVM for every piece of the vCPU" plus three memcpy of
 * the monitor's per-guest pages; loading is the reverse.  Two details
 * make it exact:
 *
 *   - An exit to us is not always finished.  When the monitor's `out`
 *     exits, KVM has not yet moved EIP past the instruction: it does
 *     that on the next KVM_RUN.  KVM's API document gives the remedy:
 *     re-enter with immediate_exit set, and KVM completes the pending
 *     operation and returns at once, before any guest instruction.
 *   - KVM_GET_SREGS reports TR as a busy TSS (type 11), but this KVM
 *     refuses to be given one back (machine.c says more).  No task switch
 *     ever happens on our machine, so we hand it back as available.
 *
 * The debug registers are not switched: a guest's are virtual (emulate.c
 * keeps them in its struct vm) and kvmshadow never sets the real ones.
 *
 * The TLB needs nothing from us: a new CR3 through KVM_SET_SREGS makes
 * KVM flush the vCPU's translations, as a mov to CR3 would.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "switch.h"
#include "x86.h"

/* Let KVM finish the last exit, running no guest instruction. */
static int switch_complete_exit(struct machine *m, struct error *err)
{
	struct kvm_run *run = m->kvm.run;
	int ret;

	/* Only port and MMIO exits leave work for the next KVM_RUN; after a
	 * signal (the slice's timer) there is nothing to finish. */
	if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO)
		return 0;
	run->immediate_exit = 1;
	ret = ioctl(m->kvm.vcpu_fd, KVM_RUN, 0);
	run->immediate_exit = 0;
	run->exit_reason = KVM_EXIT_INTR;
	if (ret == 0 || errno != EINTR)
		return error_set(err, "KVM_RUN with immediate_exit did not return EINTR (%s)",
				 ret == 0 ? "it ran" : strerror(errno));
	return 0;
}

void switch_save_monitor(const struct machine *m, struct switch_state *s)
{
	for (unsigned i = 0; i < SWITCH_MONITOR_PAGES; i++)
		memcpy(
		    s->monitor[i],
		    machine_monitor_ptr(m, MONITOR_BASE + (SWITCH_MONITOR_FIRST + i) * PAGE_SIZE),
		    PAGE_SIZE);
}

void switch_load_monitor(struct machine *m, const struct switch_state *s)
{
	for (unsigned i = 0; i < SWITCH_MONITOR_PAGES; i++)
		memcpy(
		    machine_monitor_ptr(m, MONITOR_BASE + (SWITCH_MONITOR_FIRST + i) * PAGE_SIZE),
		    s->monitor[i], PAGE_SIZE);
}

int switch_save(struct machine *m, struct switch_state *s, struct error *err)
{
	int fd = m->kvm.vcpu_fd;

	if (switch_complete_exit(m, err))
		return -1;
	if (ioctl(fd, KVM_GET_REGS, &s->regs) < 0 || ioctl(fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &s->fpu) < 0 || ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return error_errno(err, "cannot save the vCPU for a machine switch");
	switch_save_monitor(m, s);
	s->valid = true;
	return 0;
}

int switch_load(struct machine *m, const struct switch_state *s, struct error *err)
{
	struct kvm_sregs sregs = s->sregs;
	struct kvm_vcpu_events events = s->events;
	int fd = m->kvm.vcpu_fd;

	if (!s->valid)
		return error_set(err, "internal error: machine switch to a guest never saved");
	sregs.tr.type = DESC_TSS32;
	/* A queued interrupt comes back once, with the events below. */
	memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	switch_load_monitor(m, s);
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(fd, KVM_SET_REGS, &s->regs) < 0 ||
	    ioctl(fd, KVM_SET_FPU, &s->fpu) < 0 || ioctl(fd, KVM_SET_VCPU_EVENTS, &events) < 0)
		return error_errno(err, "cannot load the vCPU for a machine switch");
	/* kvm_run still describes the last exit, of the other guest: whether
	 * the CPU could take an interrupt now must be this guest's answer,
	 * or vcpu.c would inject into a monitor that runs with IF clear. */
	m->kvm.run->if_flag = (s->regs.rflags & FL_IF) != 0;
	m->kvm.run->ready_for_interrupt_injection =
	    m->kvm.run->if_flag && !s->events.interrupt.shadow && !s->events.interrupt.injected;
	return 0;
}
