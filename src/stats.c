/*
 * stats.c - print the counters (see stats.h).
 *
 * One counter a line, "  name  value", so that a test or a benchmark
 * script can pick a counter with grep or awk; the names are documented in
 * Documentation/stats.md.
 */
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

static void stats_print_shadow(FILE *out, const struct stats *st)
{
	char name[64];

	stats_line(out, "trap.total", st->traps);
	stats_line(out, "reflect.syscall", st->syscalls);
	stats_line(out, "reflect.int", st->soft_ints);
	stats_line(out, "reflect.exception", st->exceptions);
	stats_line(out, "reflect.irq", st->irqs_delivered);
	stats_line(out, "iret.to-user", st->iret_user);
	stats_line(out, "iret.to-kernel", st->iret_kernel);
	stats_line(out, "shadow.hidden-faults", st->hidden_faults);
	stats_line(out, "shadow.true-faults", st->true_faults);
	stats_line(out, "shadow.flushes", st->shadow_flushes);
	stats_line(out, "shadow.invlpg", st->invlpgs);
	stats_line(out, "patch.sites", st->patch_sites);
	stats_line(out, "emulate.total", st->emulated_total);
	for (unsigned i = 0; i < st->nemulated; i++) {
		snprintf(name, sizeof(name), "emulate.%s", st->emulated[i].name);
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '-';
		stats_line(out, name, st->emulated[i].count);
	}
}

void stats_print(FILE *out, const struct stats *st, const struct guest *g, const char *mode)
{
	fprintf(out, "kvmshadow: stats for %s (mode %s, %.3f s)\n", g->name, mode, st->seconds);
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
}
