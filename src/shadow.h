/*
 * shadow.h - shadow page tables, first version: the shadow as a virtual
 * TLB.
 *
 * The CPU's CR3 always points at a page directory the VMM built.  It maps
 * guest-virtual addresses straight to machine addresses (Figure B.1's
 * VA -> MA), filled in on demand from the guest's own page tables (VA ->
 * PA) and the guest's PFN-to-MFN map (PA -> MA).  Like a hardware TLB it
 * holds only what was used since the last flush, and like a TLB it is
 * flushed by the guest's invlpg and CR3 loads.  Documentation/memory.md
 * walks through it.
 *
 * The structures are per guest and keyed by the shadow page directory
 * slot, so that the next version can keep one shadow per guest page
 * directory and find the entries a page-table write affects.
 */
#ifndef KVMSHADOW_SHADOW_H
#define KVMSHADOW_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

/* The PDE slots the guest may use: the last belongs to the monitor. */
#define SHADOW_GUEST_PDES (PT_ENTRIES - 1)

struct vm;

struct shadow {
	uint32_t pd;			   /* MFN of the shadow page directory */
	uint32_t pt[SHADOW_GUEST_PDES];	   /* MFN of each slot's shadow page table, 0: none */
	bool from_large[SHADOW_GUEST_PDES]; /* filled from a guest 4 MiB page */
	uint32_t *spare;		   /* page-table frames kept for reuse */
	uint32_t nspare;
	/* What the CPU's TLB must forget before the guest runs again. */
	uint32_t ones;	     /* MFN of a page of 0xff bytes: what unbacked memory reads as */
	bool tlb_flush;	     /* everything: the monitor reloads CR3 */
	uint32_t tlb_invlpg; /* one page, va | 1; 0 for none */
};

enum shadow_fault_kind {
	SHADOW_HIDDEN, /* the guest's tables allow it: filled, resume */
	SHADOW_TRUE,   /* the guest's tables fault: reflect #PF(error) */
	SHADOW_STOP,   /* the guest did something we refuse: vm stopped */
	SHADOW_DISCARD, /* a write to guest-physical memory that does not exist: skip it */
};

struct shadow_fault {
	enum shadow_fault_kind kind;
	uint32_t error; /* SHADOW_TRUE: the error code the guest must see */
	uint32_t spte;	/* SHADOW_HIDDEN: the entry installed */
	uint32_t gpa;	/* SHADOW_HIDDEN, SHADOW_DISCARD: the guest-physical address */
	bool unbacked;	/* SHADOW_HIDDEN: mapped to the all-ones page (no memory there) */
};

/* The machine address the real CR3 must hold. */
uint32_t shadow_cr3(const struct shadow *sh);

int shadow_init(struct vm *vm);
void shadow_destroy(struct vm *vm);

/* A page fault at va with the CPU's error code: fill, or say why not. */
void shadow_fault(struct vm *vm, uint32_t va, uint32_t error, struct shadow_fault *res);

/* Forget every translation (a guest CR3 load, or a paging-mode change). */
void shadow_flush(struct vm *vm);

/* Forget the translations of one page (the guest's invlpg).  Returns true
 * if a whole 4 MiB slot went, so the caller flushes the TLB entirely. */
bool shadow_invlpg(struct vm *vm, uint32_t va);

/* The shadow entry for va, 0 if none: for tests and --check-shadow. */
uint32_t shadow_lookup(const struct vm *vm, uint32_t va);

#endif
