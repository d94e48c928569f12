/*
 * shadow.h - shadow page tables that persist: one shadow per guest page
 * table, kept coherent by write-protecting the guest's page tables.
 *
 * The CPU's CR3 always points at a page directory the VMM built.  It maps
 * guest-virtual addresses straight to machine addresses (Figure B.1's
 * VA -> MA), filled in on demand from the guest's own page tables (VA ->
 * PA) and the guest's PFN-to-MFN map (PA -> MA).
 *
 * Part 1 of shadow mode threw the whole shadow away at every CR3 load,
 * because it could not know what the guest had changed meanwhile.  This
 * version knows: every guest frame that a shadow was built from is
 * write-protected in every shadow that maps it, so each change the guest
 * makes to its page tables traps, and the VMM updates exactly the shadow
 * entries built from the entries written.  Shadows can then be kept
 * across address-space switches, as KVM's shadow MMU keeps them: a CR3
 * load installs the shadow cached for that page directory.
 *
 * A shadow page is one machine frame holding a shadow page directory or
 * page table, keyed like KVM's by (guest frame, role): the role holds
 * what changes the meaning of its entries.  Documentation/memory.md
 * tells the whole story.
 */
#ifndef KVMSHADOW_SHADOW_H
#define KVMSHADOW_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rmap.h"
#include "x86.h"

/* The PDE slots the guest may use: the last belongs to the monitor. */
#define SHADOW_GUEST_PDES (PT_ENTRIES - 1)

/*
 * At most this many shadow pages (4 MiB of machine memory), whatever the
 * guest's memory size: past it, the least recently used is reclaimed.
 * Enough for the working sets of about a hundred small processes.
 */
#define SHADOW_MAX_PAGES 1024u
#define SHADOW_HASH_SIZE 1024u

/*
 * A page-table page written this many times in a row with no sign of use
 * in between (no fill through it, no invlpg under it) is taken to be data
 * again - the guest freed it and reuses the frame - and is unshadowed, as
 * KVM's "write flooding" detection does.
 */
#define SHADOW_FLOOD_WRITES 4u

/* The role of a shadow page: what its entries mean, besides its frame. */
#define SHADOW_ROLE_PD	     0x01 /* a page directory; else a page table */
#define SHADOW_ROLE_DIRECT   0x02 /* no guest table behind it: a 4 MiB page, or paging off */
#define SHADOW_ROLE_WP	     0x04 /* CR0.WP */
#define SHADOW_ROLE_PSE	     0x08 /* CR4.PSE */
#define SHADOW_ROLE_NOPAGING 0x10 /* CR0.PG clear: virtual = guest-physical */
#define SHADOW_ROLE_USER     0x20 /* page tables: the guest PDE allows user access */
#define SHADOW_ROLE_WRITE    0x40 /* page tables: ... and writes */
#define SHADOW_ROLE_DIRTY    0x80 /* a 4 MiB page's D bit (it lives in the PDE) */

#define SHADOW_NONE (-1)

struct vm;
struct shadow_check_snap;

struct shadow_page {
	uint32_t mfn;	    /* the machine frame holding the table; 0: slot unused */
	uint32_t gfn;	    /* the guest frame it shadows (DIRECT: first frame it maps) */
	uint32_t role;	    /* SHADOW_ROLE_* */
	uint64_t last_used; /* for reclaim: the shadow's clock when last used */
	uint32_t writes;    /* intercepted writes since last used */
	int32_t hash_next;  /* the next page in the same hash bucket */
	int16_t *child;	    /* page directories: the page table in each slot, or SHADOW_NONE */
	uint32_t *parents;  /* page tables: parent index << 10 | slot, one per link */
	uint32_t nparents, parents_cap;
};

struct shadow {
	struct shadow_page page[SHADOW_MAX_PAGES];
	int32_t hash[SHADOW_HASH_SIZE]; /* by guest frame: first page, or SHADOW_NONE */
	int32_t root;			/* the page directory in the CPU's CR3 */
	uint32_t npages;		/* pages in use */
	uint64_t clock;
	uint16_t *protect; /* by guest frame: how many shadow tables were built from it */
	uint32_t nframes;
	struct rmap rmap;     /* guest frame -> shadow entries mapping it */
	uint64_t protect_gen; /* bumped whenever a frame starts or stops being protected */
	uint32_t exempt;      /* gfn + 1 of a page table left writable for one step; 0: none */
	struct shadow_check_snap *check_snap; /* --check-shadow's memory (shadow_check.c) */
	uint32_t ones; /* MFN of a page of 0xff bytes: what unbacked memory reads as */
	/* What the CPU's TLB must forget before the guest runs again. */
	bool tlb_flush;	     /* everything: the monitor reloads CR3 */
	uint32_t tlb_invlpg; /* one page, va | 1; 0 for none */
};

enum shadow_fault_kind {
	SHADOW_HIDDEN,	/* the guest's tables allow it: filled, resume */
	SHADOW_TRUE,	/* the guest's tables fault: reflect #PF(error) */
	SHADOW_STOP,	/* the guest did something we refuse: vm stopped */
	SHADOW_DISCARD, /* a write to guest-physical memory that does not exist: skip it */
	/* An allowed write to a page table, or near patched code: the VMM
	 * makes it (trap.c). */
	SHADOW_PTWRITE,
};

struct shadow_fault {
	enum shadow_fault_kind kind;
	uint32_t error; /* SHADOW_TRUE: the error code the guest must see */
	uint32_t spte;	/* SHADOW_HIDDEN: the entry installed */
	uint32_t gpa;	/* HIDDEN, DISCARD, PTWRITE: the guest-physical address */
	bool unbacked;	/* SHADOW_HIDDEN: mapped to the all-ones page (no memory there) */
};

/* The machine address the real CR3 must hold. */
uint32_t shadow_cr3(const struct shadow *sh);

/* Set up, with the shadow of the current paging mode installed. */
int shadow_init(struct vm *vm);
void shadow_destroy(struct vm *vm);

/* A page fault at va with the CPU's error code: fill, or say why not. */
void shadow_fault(struct vm *vm, uint32_t va, uint32_t error, struct shadow_fault *res);

/*
 * A guest CR3 load or paging-mode change: install the shadow cached for
 * the new (page directory, mode), or build an empty one.  Returns true if
 * one was cached.
 */
bool shadow_load_root(struct vm *vm);

/* Drop every shadow page; the current root stays, emptied. */
void shadow_flush(struct vm *vm);

/* The guest's invlpg.  The shadow is already coherent (every page-table
 * write was seen), so this only counts the page table as in use. */
void shadow_invlpg(struct vm *vm, uint32_t va);

/*
 * The VMM just wrote [gpa, gpa+len) of guest memory, within one page, on
 * the guest's behalf: update every shadow entry built from the bytes
 * written.  Cheap when the frame is not a page table.
 */
void shadow_guest_wrote(struct vm *vm, uint32_t gpa, unsigned len);

/* Is guest frame gfn write-protected (some shadow was built from it)? */
bool shadow_protected(const struct vm *vm, uint32_t gfn);

/* May a shadow entry map gfn writable?  Not a protected page table, nor
 * a frame holding an instruction we patched (unless exempt for a step). */
bool shadow_may_write(const struct vm *vm, uint32_t gfn);

/*
 * Stop shadowing gfn, so that the guest may write it freely: drop every
 * shadow page built from it.  False (nothing done) if one of them is the
 * page directory the CPU is using.
 */
bool shadow_unprotect(struct vm *vm, uint32_t gfn);

/*
 * For a store we cannot emulate to a page table we cannot stop shadowing
 * (trap.c): leave gfn writable for one instruction, then protect it again
 * and update the shadow entries of whatever it changed (before: the page
 * as it was).
 */
void shadow_exempt(struct vm *vm, uint32_t gfn);
void shadow_exempt_end(struct vm *vm, const uint32_t *before);

/*
 * For the pager (swap.c): a frame the shadow is built from (a page table)
 * must stay resident; whether the CPU used gfn since the last ask (the
 * accessed bits of every shadow entry mapping it, cleared as they are
 * read); and removing every shadow entry that maps gfn.
 */
bool shadow_frame_busy(const struct vm *vm, uint32_t gfn);
bool shadow_test_and_clear_accessed(struct vm *vm, uint32_t gfn);
void shadow_drop_frame(struct vm *vm, uint32_t gfn);

/* The current shadow's entry for va, 0 if none: for tests. */
uint32_t shadow_lookup(const struct vm *vm, uint32_t va);

/*
 * --check-shadow (shadow_check.c): compare every present entry of the
 * current shadow with a fresh walk of the guest's tables and the
 * PFN-to-MFN map.  0 if they agree, else -1 with the first difference in
 * why.
 */
int shadow_check(struct vm *vm, char *why, size_t size);
void shadow_check_free(struct shadow *sh);

#endif
