/*
 * segments.h - the guest's segments, as the real GDT shows them.
 *
 * The guest kernel builds a GDT of its own, with DPL 0 code and data for
 * itself.  That table never reaches the CPU: the real GDT is the
 * monitor's, and it mirrors the guest's descriptors at the same indices,
 * with DPL 0 changed to 1, so the guest's selectors keep working in
 * ring 1.  Guest-visible selectors have RPL 0 where the real ones have
 * RPL 1: we translate at every boundary the guest can see (trap frames
 * we build, frames its iret pops).
 */
#ifndef KVMSHADOW_SEGMENTS_H
#define KVMSHADOW_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Rebuild the guest's part of the real GDT from its current GDTR.
 * Returns -1 after stopping the vm if the guest's table is unusable. */
int segments_mirror(struct vm *vm);

/* Guest selector -> real selector (RPL 0 -> 1), and back. */
uint16_t segments_to_real(uint16_t sel);
uint16_t segments_to_guest(uint16_t sel);

/* Does real selector sel name a present code segment, or a writable data
 * segment, whose DPL equals its RPL?  (What iret and interrupt delivery
 * require of CS and SS.) */
bool segments_code_ok(const struct vm *vm, uint16_t sel);
bool segments_stack_ok(const struct vm *vm, uint16_t sel);

/* Would real selector sel pass segments_stack_ok if it were present?  (A
 * mov to SS checks type and privilege, #GP, before presence, #SS.) */
bool segments_stack_absent(const struct vm *vm, uint16_t sel);

/* Why the guest's descriptor for guest selector sel, which a CPU at ring
 * cpl (0 or 3, as the guest sees it) would accept for this use, is not in
 * the real GDT; NULL if it is there as the guest made it, or if a CPU
 * would refuse it too. */
enum segments_use {
	SEGMENTS_USE_CODE,  /* far jmp or call */
	SEGMENTS_USE_DATA,  /* DS, ES, FS, GS */
	SEGMENTS_USE_STACK, /* SS */
};
const char *segments_refused(struct vm *vm, uint16_t sel, unsigned cpl, enum segments_use use);

/* The base of real selector sel's segment; 0 if it has none. */
uint32_t segments_base_of(const struct vm *vm, uint16_t sel);

/* The byte limit of real selector sel's segment; 0 if it has none. */
uint32_t segments_limit(const struct vm *vm, uint16_t sel);

/* A data segment register value the monitor may pop at ring 0: sel if it
 * names a present data or readable code segment, else the null selector. */
uint16_t segments_data_or_null(const struct vm *vm, uint16_t sel);

#endif
