/*
 * marker.c - phase marks for benchmarks (see marker.h).
 *
 * Each mark closes the current phase - adding the exits and traps counted
 * since it began - and opens the next.  The mark's own port write is
 * counted in the phase it closes, and the guest's way to the port (in our
 * guest, a system call) is split between the two phases; over the
 * thousands of iterations of a benchmark phase that is noise, and
 * tools/bench subtracts nothing.
 */
#include "marker.h"
#include "stats.h"

static void marker_close(struct marker *mk)
{
	uint64_t exits = stats_total_exits(mk->st), traps = mk->st->traps;
	struct marker_phase *p = &mk->phase[mk->current];

	if (mk->current) {
		p->seen = true;
		p->exits += exits - mk->exits_at;
		p->traps += traps - mk->traps_at;
	}
	mk->exits_at = exits;
	mk->traps_at = traps;
}

void marker_write(void *dev, uint16_t port, int size, uint32_t value)
{
	struct marker *mk = dev;

	(void)port;
	(void)size;
	if (!mk->st)
		return;
	marker_close(mk);
	/* A number we have no room for ends the phase without opening one. */
	mk->current = value < MARKER_PHASES ? value : 0;
}

void marker_finish(struct marker *mk)
{
	if (!mk->st)
		return;
	marker_close(mk);
	mk->current = 0;
}
