/*
 * sched.c - several guests on one machine (see sched.h).
 *
 * The policy is round robin with weights: the guests take turns in
 * command-line order, each for --slice times its weight, skipping those
 * that are halted or done.  So among guests that always want the CPU,
 * each gets a share proportional to its weight; a guest that halts gives
 * the rest of its turn to the others.
 *
 * Time is charged to a guest from the moment its state is on the machine
 * to the moment we take it off; the switch itself (a few ioctls) and the
 * time with every guest idle are the machine's, and --stats shows both.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sched.h"

#define NSEC_PER_SEC 1000000000ull

/* A lone guest has nobody to share with: no switches, nothing to trace. */
static bool sched_tracing(const struct sched *s, const struct sched_guest *sg)
{
	return s->n > 1 && trace_on(&sg->trace, TRACE_SCHED);
}

/* How a turn ended, and how long it was. */
static void sched_trace_turn(const struct sched *s, const struct sched_guest *sg, const char *what,
			     uint64_t ns)
{
	if (sched_tracing(s, sg))
		trace_line(&sg->trace, "%s (%.3f ms)", what, (double)ns / 1e6);
}

int sched_save_built(struct sched_guest *sg, struct error *err)
{
	sg->saved = calloc(1, sizeof(*sg->saved));
	if (!sg->saved)
		return error_set(err, "out of memory for %s's machine state", sg->g.name);
	return switch_save(sg->vm.m, sg->saved, err);
}

/* A guest is done: its memory goes back to the pool, scrubbed, at once,
 * for the guests still running. */
static void sched_retire(struct sched *s, struct sched_guest *sg, uint64_t now)
{
	sg->state = SCHED_DONE;
	sg->ended = now;
	vm_release(&sg->vm);
	if (s->swap)
		swap_release_vm(s->swap, &sg->vm);
	if (sched_tracing(s, sg))
		trace_line(&sg->trace, "stopped: %s; its frames are scrubbed and back in the pool",
			   sg->stop.detail);
}

/* Stop every guest with a machine-level failure (a switch failed). */
static void sched_fail_all(struct sched *s, const char *why)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct sched_guest *sg = &s->guest[i];

		if (sg->state == SCHED_DONE)
			continue;
		sg->stop.reason = VCPU_STOP_VMM_ERROR;
		sg->stop.eip_known = false;
		snprintf(sg->stop.detail, sizeof(sg->stop.detail), "%.200s", why);
		sg->state = SCHED_DONE;
	}
}

/*
 * The machine switch: off with the guest on the machine (whether it is
 * still running or done: KVM's half-finished exit must be completed
 * either way), on with 'next'.
 */
static int sched_switch(struct sched *s, int next)
{
	struct sched_guest *to = &s->guest[next];
	uint64_t t0 = pit_host_clock();
	struct error err;

	if (s->current == next)
		return 0;
	if (s->current >= 0 && switch_save(s->m, s->guest[s->current].saved, &err)) {
		sched_fail_all(s, err.msg);
		return -1;
	}
	if (switch_load(s->m, to->saved, &err)) {
		sched_fail_all(s, err.msg);
		return -1;
	}
	s->current = next;
	s->switches++;
	to->st.switches_in++;
	s->switch_ns += pit_host_clock() - t0;
	if (sched_tracing(s, to))
		trace_line(&to->trace,
			   "machine switch: its registers, segments, CR3 (its shadow), "
			   "FPU and monitor pages are on the CPU, eip 0x%08llx",
			   (unsigned long long)to->saved->regs.rip);
	return 0;
}

/* The next guest to run after 'after' in turn, or -1 if none can run now. */
static int sched_pick(const struct sched *s, int after, uint64_t now)
{
	for (unsigned k = 1; k <= s->n; k++) {
		unsigned i = (unsigned)(after + (int)k) % s->n;
		const struct sched_guest *sg = &s->guest[i];

		if (sg->state == SCHED_READY ||
		    (sg->state == SCHED_HALTED &&
		     (now >= sg->wake_at || (s->timeout_at && now >= s->timeout_at))))
			return (int)i;
	}
	return -1;
}

/* Nobody can run: sleep until the first halted guest is due. */
static void sched_idle(struct sched *s, uint64_t now)
{
	uint64_t until = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (s->guest[i].state == SCHED_HALTED && (!until || s->guest[i].wake_at < until))
			until = s->guest[i].wake_at;
	if (s->timeout_at && (!until || s->timeout_at < until))
		until = s->timeout_at;
	if (until <= now)
		return;
	vcpu_wait_until(until);
	s->idle_ns += pit_host_clock() - now;
}

static bool sched_all_done(const struct sched *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->guest[i].state != SCHED_DONE)
			return false;
	return true;
}

/* One turn of guest i on the CPU. */
static void sched_turn(struct sched *s, int i)
{
	struct sched_guest *sg = &s->guest[i];
	uint64_t start = pit_host_clock(), end;
	enum vcpu_slice r;

	/* Alone, a guest has no one to give its turn to: no slices at all
	 * (and no host-timer exits for them). */
	r = vcpu_run_slice(&sg->loop, s->n > 1 ? start + s->slice_ns * sg->weight : UINT64_MAX);
	end = pit_host_clock();
	sg->cpu_ns += end - start;
	switch (r) {
	case VCPU_SLICE_OVER:
		sg->state = SCHED_READY;
		sched_trace_turn(s, sg, "slice over: preempted by the host timer", end - start);
		break;
	case VCPU_SLICE_HALTED:
		sg->state = SCHED_HALTED;
		sg->wake_at = vcpu_wake_time(&sg->loop);
		sched_trace_turn(s, sg, "hlt: gives up the rest of its slice", end - start);
		break;
	case VCPU_SLICE_STOPPED:
		sched_retire(s, sg, end);
		break;
	}
}

void sched_run(struct sched *s, double timeout_sec)
{
	struct error err;
	int last = (int)s->n - 1;

	s->current = -1;
	s->started = pit_host_clock();
	if (timeout_sec > 0)
		s->timeout_at = s->started + (uint64_t)(timeout_sec * NSEC_PER_SEC);
	if (vcpu_timer_init(&s->timer, &s->m->kvm, &err)) {
		sched_fail_all(s, err.msg);
		return;
	}
	for (unsigned i = 0; i < s->n; i++) {
		struct sched_guest *sg = &s->guest[i];

		vcpu_loop_init(&sg->loop, &s->m->kvm, &sg->g, &sg->vm, &sg->trace, &sg->st,
			       &sg->stop, &s->timer, s->timeout_at);
		sg->loop.started = s->started;
		sg->state = SCHED_READY;
	}
	while (!sched_all_done(s)) {
		uint64_t now = pit_host_clock();
		int next = sched_pick(s, last, now);

		if (next < 0) {
			sched_idle(s, now);
			continue;
		}
		if (sched_switch(s, next))
			break;
		sched_turn(s, next);
		last = next;
	}
	vcpu_timer_fini(&s->timer);
	s->finished = pit_host_clock();
	for (unsigned i = 0; i < s->n; i++) {
		struct sched_guest *sg = &s->guest[i];
		uint64_t wall = s->finished - s->started;

		sg->st.seconds =
		    (double)((sg->ended ? sg->ended : s->finished) - s->started) / NSEC_PER_SEC;
		sg->st.cpu_seconds = (double)sg->cpu_ns / NSEC_PER_SEC;
		sg->st.cpu_share = wall ? (double)sg->cpu_ns / (double)wall : 0;
	}
}

void sched_print_stats(FILE *out, const struct sched *s)
{
	uint64_t wall = s->finished - s->started;

	fprintf(out, "kvmshadow: stats for the machine (%u guests, %.3f s)\n", s->n,
		(double)wall / NSEC_PER_SEC);
	fprintf(out, "  %-22s %12llu\n", "sched.switches", (unsigned long long)s->switches);
	fprintf(out, "  %-22s %12llu\n", "sched.switch-us",
		(unsigned long long)(s->switch_ns / 1000));
	fprintf(out, "  %-22s %12llu\n", "sched.idle-us", (unsigned long long)(s->idle_ns / 1000));
	for (unsigned i = 0; i < s->n; i++)
		fprintf(out, "  %-22s %11.1f%%\n", s->guest[i].g.name,
			100.0 * s->guest[i].st.cpu_share);
}
