/*
 * stats.c - print the counters (see stats.h).
 *
 * One counter a line, "  name  value", so that a test or a benchmark
 * script can pick a counter with grep or awk; the names are documented in
 * Documentation/stats.md.
 */
#include <stddef.h>
#include <string.h>

#include "guest.h"
#include "stats.h"

static const char *const stats_exit_names[STATS_EXIT_COUNT] = {
    [STATS_EXIT_IO] = "exit.io",       [STATS_EXIT_MMIO] = "exit.mmio",
    [STATS_EXIT_HLT] = "exit.hlt",     [STATS_EXIT_IRQ_WINDOW] = "exit.irq-window",
    [STATS_EXIT_INTR] = "exit.intr",   [STATS_EXIT_SHUTDOWN] = "exit.shutdown",
    [STATS_EXIT_OTHER] = "exit.other",
};

uint64_t stats_total_exits(const struct stats *st)
{
	uint64_t total = 0;

	for (int i = 0; i < STATS_EXIT_COUNT; i++)
		total += st->exits[i];
	return total;
}

static void stats_line(FILE *out, const char *name, uint64_t value)
{
	fprintf(out, "  %-22s %12llu\n", name, (unsigned long long)value);
}

static void stats_print_ports(FILE *out, const struct guest *g)
{
	char name[64];

	for (int i = 0; i < g->bus.nranges; i++) {
		const struct portio_range *r = &g->bus.ranges[i];

		snprintf(name, sizeof(name), "io.%s.0x%x", r->name, r->base);
		stats_line(out, name, r->accesses);
	}
	stats_line(out, "io.unknown", g->bus.unknown_accesses);
}

void stats_count_emulated(struct stats *st, const char *mnemonic)
{
	unsigned i;

	st->emulated_total++;
	for (i = 0; i < st->nemulated; i++)
		if (!strcmp(st->emulated[i].name, mnemonic))
			break;
	if (i == st->nemulated) {
		if (i == STATS_MAX_EMULATED)
			i--; /* full: the last row collects the rest */
		else
			st->nemulated++;
		snprintf(st->emulated[i].name, sizeof(st->emulated[i].name), "%s", mnemonic);
	}
	st->emulated[i].count++;
}

/* Shadow mode's counters, in the order --stats prints them. */
static const struct {
	const char *name;
	size_t offset;
} stats_shadow_counters[] = {
    {"trap.total", offsetof(struct stats, traps)},
    {"reflect.syscall", offsetof(struct stats, syscalls)},
    {"reflect.int", offsetof(struct stats, soft_ints)},
    {"reflect.exception", offsetof(struct stats, exceptions)},
    {"reflect.irq", offsetof(struct stats, irqs_delivered)},
    {"iret.to-user", offsetof(struct stats, iret_user)},
    {"iret.to-kernel", offsetof(struct stats, iret_kernel)},
    {"shadow.hidden-faults", offsetof(struct stats, hidden_faults)},
    {"shadow.true-faults", offsetof(struct stats, true_faults)},
    {"shadow.flushes", offsetof(struct stats, shadow_flushes)},
    {"shadow.invlpg", offsetof(struct stats, invlpgs)},
    {"shadow.roots-built", offsetof(struct stats, shadow_roots_built)},
    {"shadow.root-hits", offsetof(struct stats, shadow_root_hits)},
    {"shadow.pt-writes", offsetof(struct stats, pt_writes)},
    {"shadow.unshadowed", offsetof(struct stats, shadow_unshadowed)},
    {"shadow.evictions", offsetof(struct stats, shadow_evictions)},
    {"patch.sites", offsetof(struct stats, patch_sites)},
    {"emulate.total", offsetof(struct stats, emulated_total)},
    {"sched.switches-in", offsetof(struct stats, switches_in)},
    {"mem.first-touch", offsetof(struct stats, first_touches)},
    {"swap.out", offsetof(struct stats, swap_outs)},
    {"swap.out-zero", offsetof(struct stats, swap_zero)},
    {"swap.in", offsetof(struct stats, swap_ins)},
};

static void stats_print_shadow(FILE *out, const struct stats *st)
{
	char name[64];

	for (size_t i = 0; i < sizeof(stats_shadow_counters) / sizeof(stats_shadow_counters[0]);
	     i++) {
		const uint64_t *v =
		    (const uint64_t *)((const char *)st + stats_shadow_counters[i].offset);

		stats_line(out, stats_shadow_counters[i].name, *v);
	}
	for (unsigned i = 0; i < st->nemulated; i++) {
		snprintf(name, sizeof(name), "emulate.%s", st->emulated[i].name);
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '-';
		stats_line(out, name, st->emulated[i].count);
	}
}

/* The benchmark phases the guest marked (devices/marker.h), if any. */
static void stats_print_phases(FILE *out, const struct guest *g, bool traps)
{
	char name[64];

	for (unsigned i = 1; i < MARKER_PHASES; i++) {
		const struct marker_phase *p = &g->marker.phase[i];

		if (!p->seen)
			continue;
		snprintf(name, sizeof(name), "phase.%u.exits", i);
		stats_line(out, name, p->exits);
		if (traps) {
			snprintf(name, sizeof(name), "phase.%u.traps", i);
			stats_line(out, name, p->traps);
		}
	}
}

void stats_print(FILE *out, const struct stats *st, const struct guest *g, const char *mode)
{
	fprintf(out, "kvmshadow: stats for %s (mode %s, %.3f s)\n", g->name, mode, st->seconds);
	if (!strcmp(mode, "shadow")) {
		/* The CPU time in microseconds, and its share in tenths of a percent. */
		stats_line(out, "sched.cpu-us", (uint64_t)(st->cpu_seconds * 1e6 + 0.5));
		stats_line(out, "sched.cpu-permille", (uint64_t)(st->cpu_share * 1000 + 0.5));
	}
	stats_line(out, "exit.total", stats_total_exits(st));
	for (int i = 0; i < STATS_EXIT_COUNT; i++)
		stats_line(out, stats_exit_names[i], st->exits[i]);
	stats_print_ports(out, g);
	stats_line(out, "irq.timer-edges", st->timer_edges);
	stats_line(out, "irq.injected", st->irqs_injected);
	stats_line(out, "halt.sleeps", st->halt_sleeps);
	stats_line(out, "console.bytes", g->com1.bytes);
	if (!strcmp(mode, "shadow"))
		stats_print_shadow(out, st);
	stats_print_phases(out, g, !strcmp(mode, "shadow"));
}
