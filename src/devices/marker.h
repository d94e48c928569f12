/*
 * marker.h - phase marks: a benchmark tells the VMM where its phases begin.
 *
 * The guest writes a phase number to port 0xe0 (PORT_MARKER) as it starts each phase of
 * a measurement (0: none).  --stats then reports the VMM's own work -
 * exits, and in shadow mode traps - phase by phase, so that a benchmark
 * can divide the interventions of its phase by its own iteration count
 * (tools/bench).  No such device exists on a PC: under plain QEMU the
 * write goes to an unused port and nothing happens, which is all the
 * guest needs.
 */
#ifndef KVMSHADOW_MARKER_H
#define KVMSHADOW_MARKER_H

#include <stdbool.h>
#include <stdint.h>

#define MARKER_PHASES 32

struct stats;

struct marker_phase {
	bool seen;
	uint64_t exits, traps; /* the VMM's work while this phase was current */
};

struct marker {
	const struct stats *st; /* the counters to take differences of; NULL: inert */
	unsigned current;	/* 0: no phase */
	uint64_t exits_at, traps_at;
	struct marker_phase phase[MARKER_PHASES];
};

void marker_write(void *dev, uint16_t port, int size, uint32_t value);

/* Close the current phase (at the end of the run). */
void marker_finish(struct marker *mk);

#endif
