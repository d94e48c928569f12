/*
 * vcpu.c - the loop at the heart of every KVM-based VMM.
 *
 * KVM_RUN runs guest code on the real CPU until something happens that the
 * kernel cannot handle alone; it then returns and kvm_run->exit_reason
 * says why.  In hw mode that is: the guest touched an I/O port (a device
 * model answers), halted (we wait for its next interrupt), became ready
 * for an interrupt we were holding, or died.  We also interrupt it
 * ourselves: a host timer fires when the guest's PIT is due to tick, so a
 * guest that never exits still gets its timer interrupts.
 *
 * Interrupts: with no in-kernel interrupt controller, we own the PIC, and
 * deliver with KVM_INTERRUPT, which is allowed only when the guest can take
 * one (IF set, no interrupt shadow).  When it cannot, we set
 * request_interrupt_window and KVM returns to us the moment it can.
 *
 * The loop runs in slices (vcpu_run_slice): until a deadline, until the
 * guest halts, or until it stops.  hw mode runs one slice with no end
 * (vcpu_run).  Shadow mode's scheduler (sched.c) strings slices of several
 * guests together, a machine switch between each two; there a guest's hlt
 * ends its slice at once, and the next slice of that guest begins by
 * delivering the interrupt that wakes it (vcpu_wake).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "trace.h"
#include "trap.h"
#include "vcpu.h"
#include "vm.h"

#define NSEC_PER_SEC 1000000000ull

/*
 * The signal handler's whole job: make the current or next KVM_RUN return
 * at once.  Setting immediate_exit (rather than relying on the signal
 * interrupting the ioctl) closes the race where the timer fires just
 * before we enter KVM_RUN.
 */
static struct kvm_run *volatile vcpu_signal_run;

static void vcpu_on_timer(int sig)
{
	(void)sig;
	if (vcpu_signal_run)
		vcpu_signal_run->immediate_exit = 1;
}

static void vcpu_stop(struct vcpu_loop *l, enum vcpu_stop_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * KVM on AMD reinitialises the vCPU when the guest shuts down (the VMCB is
 * undefined after a shutdown intercept), so after a triple fault we find
 * the CPU at the reset vector f000:fff0 and the guest's last eip is gone.
 * On Intel the registers survive.  Say which it is rather than print the
 * reset vector as if the guest had been there.
 */
static bool vcpu_in_reset_state(struct vcpu_loop *l, const struct kvm_regs *regs)
{
	struct kvm_sregs sregs;

	if (regs->rip != 0xfff0 || ioctl(l->kvm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	return sregs.cs.selector == 0xf000 && !(sregs.cr0 & 1);
}

static void vcpu_stop(struct vcpu_loop *l, enum vcpu_stop_reason reason, const char *fmt, ...)
{
	struct kvm_regs regs;
	va_list ap;

	if (l->stopped)
		return;
	l->stopped = 1;
	l->stop->reason = reason;
	l->stop->eip_known = false;
	if (ioctl(l->kvm->vcpu_fd, KVM_GET_REGS, &regs) < 0) {
		l->stop->regs_failed = true;
	} else {
		l->stop->eip = (uint32_t)regs.rip;
		l->stop->eip_known = !vcpu_in_reset_state(l, &regs);
		if (l->vm && l->stop->eip >= MONITOR_BASE) /* the guest's eip is in the frame */
			l->stop->eip = machine_frame(l->vm->m)->eip;
	}
	va_start(ap, fmt);
	vsnprintf(l->stop->detail, sizeof(l->stop->detail), fmt, ap);
	va_end(ap);
}

int vcpu_timer_init(struct vcpu_timer *t, struct kvm *kvm, struct error *err)
{
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
	/* SA_RESTART: the timer also fires while we write the console to a
	 * slow pipe, and that write must not fail with EINTR.  KVM_RUN still
	 * returns to us: KVM answers a signal with -EINTR, never a restart. */
	struct sigaction sa = {.sa_handler = vcpu_on_timer, .sa_flags = SA_RESTART};

	*t = (struct vcpu_timer){0};
	sigemptyset(&sa.sa_mask);
	vcpu_signal_run = kvm->run;
	if (sigaction(SIGRTMIN, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &sev, &t->id) < 0)
		return error_errno(err, "cannot create a host timer");
	t->created = true;
	return 0;
}

void vcpu_timer_fini(struct vcpu_timer *t)
{
	if (t->created)
		timer_delete(t->id);
	t->created = false;
	vcpu_signal_run = NULL;
}

/*
 * The timer is one-shot: once a deadline has passed it has fired, and the
 * same deadline must be armed again (it then fires at once) - else a guest
 * that never exits would keep the CPU with no timer left to take it back.
 */
static void vcpu_timer_arm(struct vcpu_loop *l, uint64_t deadline, uint64_t now)
{
	struct vcpu_timer *t = l->timer;
	struct itimerspec its = {0};

	if (deadline == t->armed && (deadline == 0 || deadline > now))
		return;
	its.it_value.tv_sec = (time_t)(deadline / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(deadline % NSEC_PER_SEC);
	timer_settime(t->id, TIMER_ABSTIME, &its, NULL); /* 0 disarms */
	t->armed = deadline;
}

/*
 * The earliest moment we must have control back: a tick, the end of an
 * interrupt-pacing hold (trap.c), or the timeout.  A hold counts only
 * while it is ahead of us and the guest can take the interrupt: one left
 * over from before a cli would otherwise be a deadline in the past,
 * standing in for the tick and the timeout (a guest that then loops with
 * interrupts off was never stopped by --timeout: found by review).
 */
static uint64_t vcpu_next_deadline(const struct vcpu_loop *l, uint64_t now)
{
	uint64_t tick = pit_next_deadline(&l->g->pit);

	if (l->vm && l->vm->vif && l->vm->irq_hold_until > now && pic_has_interrupt(&l->g->pic) &&
	    (!tick || l->vm->irq_hold_until < tick))
		tick = l->vm->irq_hold_until;

	if (!tick || (l->timeout_at && l->timeout_at < tick))
		return l->timeout_at;
	return tick;
}

/* Turn PIT periods that have passed into an edge on IRQ 0. */
static void vcpu_tick(struct vcpu_loop *l, uint64_t now)
{
	uint64_t edges = pit_edges_due(&l->g->pit, now);

	if (!edges)
		return;
	l->st->timer_edges += edges;
	pic_raise_irq(&l->g->pic, 0);
	if (trace_on(l->trace, TRACE_IRQ))
		trace_line(l->trace, "IRQ 0 raised on the PIC: %llu PIT period%s passed",
			   (unsigned long long)edges, edges == 1 ? " has" : "s have");
}

/*
 * Shadow mode: the guest's interrupt flag is virtual, and its handlers are
 * reached through its own IDT, which only the VMM reads.  So we never
 * inject the guest's vector.  When an interrupt is due and the guest's
 * virtual IF allows it, we inject the monitor's vector: that brings the
 * guest into the monitor and us a frame, and trap.c delivers the real
 * vector the way the guest's IDT says.  With the virtual IF clear there is
 * nothing to do: the guest's sti, popf or iret will trap, and trap.c
 * delivers then.
 */
static void vcpu_inject_shadow(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;
	struct kvm_interrupt irq = {.irq = MONITOR_IRQ_VECTOR};

	if (!trap_irq_injectable(l->vm, pit_host_clock()) || !pic_has_interrupt(&l->g->pic) ||
	    l->vm->irq_injected) {
		run->request_interrupt_window = 0;
		return;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		run->request_interrupt_window = 1; /* we are in the monitor: wait */
		return;
	}
	if (ioctl(l->kvm->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "KVM_INTERRUPT failed: %s", strerror(errno));
		return;
	}
	l->vm->irq_injected = true;
	run->request_interrupt_window = 0;
	l->st->irqs_injected++;
	if (trace_on(l->trace, TRACE_IRQ))
		trace_line(l->trace,
			   "interrupt due and virtual IF is 1: inject the monitor's "
			   "vector 0x%02x to get a frame",
			   MONITOR_IRQ_VECTOR);
}

static void vcpu_inject(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;
	struct kvm_interrupt irq;

	if (l->vm)
		return vcpu_inject_shadow(l);

	if (!pic_has_interrupt(&l->g->pic)) {
		run->request_interrupt_window = 0;
		return;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		if (!run->request_interrupt_window && trace_on(l->trace, TRACE_IRQ))
			trace_line(l->trace,
				   "interrupt pending but the guest cannot take it "
				   "(IF=0 or after sti/mov ss): request an interrupt window");
		run->request_interrupt_window = 1;
		return;
	}
	irq.irq = pic_acknowledge(&l->g->pic);
	if (ioctl(l->kvm->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "KVM_INTERRUPT failed: %s", strerror(errno));
		return;
	}
	l->st->irqs_injected++;
	if (trace_on(l->trace, TRACE_IRQ))
		trace_line(l->trace, "inject vector 0x%02x with KVM_INTERRUPT", irq.irq);
	/* Another one waiting?  Have KVM tell us when the guest can take it. */
	run->request_interrupt_window = pic_has_interrupt(&l->g->pic);
}

static uint32_t vcpu_io_get(const uint8_t *p, int size)
{
	uint32_t value = 0;

	memcpy(&value, p, (size_t)size);
	return value;
}

static void vcpu_trace_io(struct vcpu_loop *l, uint32_t value)
{
	struct kvm_run *run = l->kvm->run;
	int out = run->io.direction == KVM_EXIT_IO_OUT;

	trace_line(l->trace, "%s port 0x%03x %s 0x%0*x: %s", out ? "out" : "in", run->io.port,
		   out ? "<-" : "->", 2 * run->io.size, value,
		   portio_name(&l->g->bus, run->io.port));
}

static void vcpu_handle_io(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	int size = run->io.size;

	if (size != 1 && size != 2 && size != 4) {
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "KVM reported port I/O of size %d", size);
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++, p += size) {
		uint32_t value;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			value = vcpu_io_get(p, size);
			portio_write(&l->g->bus, run->io.port, size, value);
		} else {
			value = portio_read(&l->g->bus, run->io.port, size);
			memcpy(p, &value, (size_t)size);
		}
		if (trace_on(l->trace, TRACE_IO))
			vcpu_trace_io(l, value);
	}
}

/*
 * Guest-physical addresses beyond its RAM: on a PC, nothing answers there
 * and reads float to all ones.  Reported once, as for unknown ports.
 */
static void vcpu_handle_mmio(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;

	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (l->mmio_warned++)
		return;
	fprintf(stderr,
		"kvmshadow: %s: guest %s unbacked physical address 0x%llx (%u bytes); "
		"%s (reported once)\n",
		l->g->name, run->mmio.is_write ? "wrote" : "read",
		(unsigned long long)run->mmio.phys_addr, run->mmio.len,
		run->mmio.is_write ? "ignored" : "reads as all ones");
}

/* Can anything ever interrupt a halted guest?  Only the PIT is wired to
 * an interrupt, so: is it running, is IRQ 0 unmasked, and has the last
 * IRQ 0 been acknowledged (EOI), since with fixed priority an IRQ 0 still
 * in service blocks the next? */
static int vcpu_can_wake(const struct guest *g)
{
	const struct pic_chip *master = &g->pic.chip[0];

	return pit_next_deadline(&g->pit) && !(master->imr & 1) && !(master->isr & 1);
}

/*
 * The guest executed hlt: it has nothing to do until an interrupt.  If its
 * interrupts are off, or nothing is set to interrupt it, it never will:
 * a real PC would sit there forever, we stop and say so.  Otherwise we
 * sleep until its timer is next due, rather than spin.
 */
static void vcpu_idle(struct vcpu_loop *l)
{
	struct timespec ts;
	uint64_t now, deadline;

	/* We sleep to the deadline ourselves: a timer signal on top would
	 * only make the next KVM_RUN return at once, for nothing. */
	vcpu_timer_arm(l, 0, 0);
	for (;;) {
		now = pit_host_clock();
		vcpu_tick(l, now);
		if (pic_has_interrupt(&l->g->pic))
			return;
		if (l->timeout_at && now >= l->timeout_at)
			return; /* the main loop reports it */
		if (!vcpu_can_wake(l->g)) {
			vcpu_stop(l, VCPU_STOP_SHUTDOWN,
				  "guest halted with no interrupt source that could wake it");
			return;
		}
		deadline = vcpu_next_deadline(l, now);
		if (trace_on(l->trace, TRACE_HLT))
			trace_line(l->trace,
				   "hlt: the guest is idle; sleep %.3f ms until the PIT's "
				   "next period",
				   (double)(deadline - now) / 1e6);
		ts.tv_sec = (time_t)(deadline / NSEC_PER_SEC);
		ts.tv_nsec = (long)(deadline % NSEC_PER_SEC);
		l->st->halt_sleeps++;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void vcpu_handle_hlt(struct vcpu_loop *l)
{
	if (l->vm) { /* the monitor never halts, and the guest's hlt traps */
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "the machine halted in shadow mode");
		return;
	}
	if (!l->kvm->run->if_flag) {
		vcpu_stop(l, VCPU_STOP_SHUTDOWN, "guest halted with interrupts disabled");
		return;
	}
	vcpu_idle(l);
}

/*
 * Shadow mode: the guest's hlt trapped and was emulated.  This is the
 * chapter's "information gap" closed by a hint the guest gives without
 * meaning to: a guest that halts has nothing to do until its next
 * interrupt.  So it gives up the real CPU at once - the scheduler
 * (sched.c) runs another guest, or sleeps if none is ready - and its trap
 * stays open, the frame untouched, until vcpu_wake delivers the
 * interrupt that ends the hlt.
 */
static void vcpu_shadow_halt(struct vcpu_loop *l)
{
	if (!l->vm->vif) {
		vm_stop(l->vm, VCPU_STOP_SHUTDOWN, "guest halted with interrupts disabled");
		return;
	}
	l->waiting = true;
	l->st->halt_sleeps++;
	if (trace_on(l->trace, TRACE_HLT)) {
		uint64_t now = pit_host_clock(), next = pit_next_deadline(&l->g->pit);

		trace_line(l->trace,
			   "hlt: the guest is idle; it gives up the CPU until its PIT's next "
			   "period (%.3f ms)",
			   next > now ? (double)(next - now) / 1e6 : 0.0);
	}
}

/*
 * Shadow mode's one exit per trap: the monitor's `out`.  The guest's own
 * in and out never get here (they trap in rings 1 and 3 and are emulated).
 */
static void vcpu_handle_trap(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;

	if (run->io.port != MONITOR_PORT || run->io.direction != KVM_EXIT_IO_OUT) {
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "unexpected port %s 0x%x in shadow mode",
			  run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read", run->io.port);
		return;
	}
	if (trap_handle(l->vm) == TRAP_HALT)
		vcpu_shadow_halt(l);
	if (!l->vm->stopped && !l->waiting)
		trap_resume(l->vm);
}

static void vcpu_handle_exit(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		l->st->exits[STATS_EXIT_IO]++;
		if (l->vm)
			vcpu_handle_trap(l);
		else
			vcpu_handle_io(l);
		break;
	case KVM_EXIT_MMIO:
		l->st->exits[STATS_EXIT_MMIO]++;
		vcpu_handle_mmio(l);
		break;
	case KVM_EXIT_HLT:
		l->st->exits[STATS_EXIT_HLT]++;
		vcpu_handle_hlt(l);
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		l->st->exits[STATS_EXIT_IRQ_WINDOW]++;
		if (trace_on(l->trace, TRACE_EXIT))
			trace_line(l->trace, "interrupt window open: the guest can take an "
					     "interrupt now");
		break;
	case KVM_EXIT_SHUTDOWN:
		/* On x86 this is a triple fault: an exception while
		 * delivering a double fault.  The machine resets. */
		l->st->exits[STATS_EXIT_SHUTDOWN]++;
		vcpu_stop(l, VCPU_STOP_TRIPLE_FAULT, "guest triple fault");
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		l->st->exits[STATS_EXIT_OTHER]++;
		vcpu_stop(l, VCPU_STOP_SHUTDOWN, "guest asked for system event %u (shutdown/reset)",
			  run->system_event.type);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		l->st->exits[STATS_EXIT_OTHER]++;
		vcpu_stop(l, VCPU_STOP_VMM_ERROR,
			  "KVM could not enter the guest (hardware reason "
			  "0x%llx)",
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		l->st->exits[STATS_EXIT_OTHER]++;
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			vcpu_stop(l, VCPU_STOP_GUEST_ERROR,
				  "KVM could not emulate a guest instruction (for example one "
				  "fetched from unbacked memory)");
		else
			vcpu_stop(l, VCPU_STOP_VMM_ERROR, "KVM internal error (suberror %u)",
				  run->internal.suberror);
		break;
	default:
		l->st->exits[STATS_EXIT_OTHER]++;
		vcpu_stop(l, VCPU_STOP_VMM_ERROR, "unexpected KVM exit reason %u",
			  run->exit_reason);
		break;
	}
}

static void vcpu_enter(struct vcpu_loop *l)
{
	struct kvm_run *run = l->kvm->run;

	if (ioctl(l->kvm->vcpu_fd, KVM_RUN, 0) == 0) {
		vcpu_handle_exit(l);
		return;
	}
	if (errno == EINTR || errno == EAGAIN) {
		run->immediate_exit = 0;
		l->st->exits[STATS_EXIT_INTR]++;
		if (trace_on(l->trace, TRACE_EXIT))
			trace_line(l->trace, "host timer: KVM_RUN interrupted (a PIT period or "
					     "the timeout is due)");
		return;
	}
	vcpu_stop(l, VCPU_STOP_VMM_ERROR, "KVM_RUN failed: %s", strerror(errno));
}

void vcpu_loop_init(struct vcpu_loop *l, struct kvm *kvm, struct guest *g, struct vm *vm,
		    const struct trace *trace, struct stats *st, struct vcpu_stop *stop,
		    struct vcpu_timer *timer, uint64_t timeout_at)
{
	*l = (struct vcpu_loop){.kvm = kvm,
				.g = g,
				.st = st,
				.stop = stop,
				.trace = trace,
				.vm = vm,
				.timer = timer,
				.timeout_at = timeout_at};
}

/* After each exit: did the guest stop, by itself or by our hand? */
static void vcpu_check_stopped(struct vcpu_loop *l)
{
	if (l->vm && l->vm->stopped)
		l->stopped = 1;
	if (l->g->debugexit.fired) {
		l->stop->value = l->g->debugexit.value;
		vcpu_stop(l, VCPU_STOP_DEBUG_EXIT, "guest wrote 0x%x to the debug-exit port",
			  l->g->debugexit.value);
	}
}

/*
 * A guest waiting in hlt (shadow mode) whose CPU is back: if its
 * interrupt is due, deliver it, which ends the hlt, and finish the trap.
 * If nothing can ever wake it, a real PC would sit there forever: we stop
 * it and say so.
 */
static bool vcpu_wake(struct vcpu_loop *l, uint64_t now)
{
	vcpu_tick(l, now);
	if (pic_has_interrupt(&l->g->pic)) {
		l->waiting = false;
		trap_deliver_irq(l->vm, false);
		if (!l->vm->stopped)
			trap_resume(l->vm);
		return true;
	}
	if (!vcpu_can_wake(l->g))
		vm_stop(l->vm, VCPU_STOP_SHUTDOWN,
			"guest halted with no interrupt source that could wake it");
	return false;
}

uint64_t vcpu_wake_time(const struct vcpu_loop *l)
{
	if (!vcpu_can_wake(l->g) || pic_has_interrupt(&l->g->pic))
		return 1; /* now: to be woken, or stopped */
	return vcpu_next_deadline(l, pit_host_clock());
}

enum vcpu_slice vcpu_run_slice(struct vcpu_loop *l, uint64_t until)
{
	while (!l->stopped) {
		uint64_t now = pit_host_clock(), deadline;

		if (l->timeout_at && now >= l->timeout_at) {
			vcpu_stop(l, VCPU_STOP_TIMEOUT, "timeout after %g s",
				  (double)(l->timeout_at - l->started) / NSEC_PER_SEC);
			break;
		}
		if (l->waiting && !vcpu_wake(l, now)) {
			vcpu_check_stopped(l);
			return l->stopped ? VCPU_SLICE_STOPPED : VCPU_SLICE_HALTED;
		}
		if (now >= until)
			return VCPU_SLICE_OVER;
		vcpu_tick(l, now);
		vcpu_inject(l);
		if (l->stopped)
			break;
		deadline = vcpu_next_deadline(l, now);
		if (until != UINT64_MAX && (!deadline || deadline > until))
			deadline = until;
		vcpu_timer_arm(l, deadline, now);
		vcpu_enter(l);
		vcpu_check_stopped(l);
		if (l->waiting && !l->stopped)
			return VCPU_SLICE_HALTED;
	}
	return VCPU_SLICE_STOPPED;
}

void vcpu_run(struct kvm *kvm, struct guest *g, double timeout_sec, const struct trace *trace,
	      struct stats *st, struct vcpu_stop *stop)
{
	struct vcpu_timer timer;
	struct vcpu_loop l;
	struct error err;
	uint64_t start = pit_host_clock(), timeout_at = 0;

	if (timeout_sec > 0) /* options.c caps it at OPTIONS_MAX_TIMEOUT */
		timeout_at = start + (uint64_t)(timeout_sec * NSEC_PER_SEC);
	vcpu_loop_init(&l, kvm, g, NULL, trace, st, stop, &timer, timeout_at);
	l.started = start;
	/* One slice with no end: a halted guest sleeps inside it (vcpu_idle). */
	if (vcpu_timer_init(&timer, kvm, &err) == 0)
		vcpu_run_slice(&l, UINT64_MAX);
	else
		vcpu_stop(&l, VCPU_STOP_VMM_ERROR, "%s", err.msg);
	vcpu_timer_fini(&timer);
	st->seconds = (double)(pit_host_clock() - start) / NSEC_PER_SEC;
}

void vcpu_wait_until(uint64_t deadline)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline / NSEC_PER_SEC),
			      .tv_nsec = (long)(deadline % NSEC_PER_SEC)};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}
