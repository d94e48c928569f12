/*
 * canary.h - marks in memory that is nobody's, for the isolation checks.
 *
 * With --canary, every machine frame that no guest owns (the free frames
 * of the pool) is filled with a recognisable pattern, and filled again
 * whenever a frame comes back to the pool.  Two things are then checked:
 *
 *   - the guest never sees the pattern: a guest that reads it has read
 *     memory that is not its own (the guest fuzzer, tests/guests/fuzz,
 *     scans everything it can reach for it);
 *   - the pattern never changes: a frame that is taken from the pool, or
 *     checked at the end of the run, must still hold it exactly, or
 *     something wrote to memory that belonged to no one.
 *
 * The pattern is 8-byte units: the word CANARY_WORD ("CNRY") and the
 * frame's own number, so that a canary seen in the wrong place also says
 * where it came from.
 */
#ifndef KVMSHADOW_CANARY_H
#define KVMSHADOW_CANARY_H

#include <stdbool.h>
#include <stdint.h>

#define CANARY_WORD 0x59524e43u /* "CNRY", little-endian */

/* Fill the 4 KiB frame at mem, machine frame mfn, with the pattern. */
void canary_fill(uint8_t *mem, uint32_t mfn);

/* Whether it still holds the pattern; if not, *off is the first changed byte. */
bool canary_intact(const uint8_t *mem, uint32_t mfn, uint32_t *off);

#endif
