/*
 * ptwalk.h - walk the guest's own page tables, as the CPU would.
 *
 * The first half of Figure B.1: virtual address to guest-"physical"
 * address, through the 2-level, non-PAE, 32-bit page tables the guest
 * kernel built.  The guest's page tables are only data in guest memory, so
 * the walker reads them through a pair of callbacks and never touches
 * memory it was not given.
 */
#ifndef KVMSHADOW_PTWALK_H
#define KVMSHADOW_PTWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

/*
 * Guest-physical memory, as the walker sees it: aligned 32-bit reads and
 * writes, each returning 0, or -1 if gpa is not guest RAM.
 */
struct ptwalk_mem {
	void *ctx;
	int (*read32)(void *ctx, uint32_t gpa, uint32_t *value);
	int (*write32)(void *ctx, uint32_t gpa, uint32_t value);
};

enum ptwalk_status {
	PTWALK_OK,	    /* translated: gpa is valid */
	PTWALK_FAULT,	    /* the CPU would raise #PF(error_code) with CR2 = va */
	PTWALK_BAD_TABLE,   /* a page-table entry lies outside guest memory: bad_gpa */
	PTWALK_UNSUPPORTED, /* paging mode not modelled (CR4.PAE with CR0.PG) */
};

/* The access flag that asks the walker to set accessed and dirty bits. */
#define PTWALK_SET_AD 0x100

struct ptwalk_result {
	enum ptwalk_status status;
	uint32_t gpa;	     /* PTWALK_OK: the guest-physical address */
	uint32_t pde;	     /* the PDE, with any A/D bits the walk set */
	uint32_t pte;	     /* the leaf: the PTE, or the PDE of a 4 MiB page */
	uint32_t pde_gpa;    /* where the PDE lives */
	uint32_t pte_gpa;    /* where the PTE lives; 0 for a 4 MiB page */
	bool large;	     /* a 4 MiB page (CR4.PSE and PDE.PS) */
	bool user;	     /* U/S is set at every level */
	bool writable;	     /* R/W is set at every level (as user mode sees it) */
	bool global;	     /* the leaf's G bit, and CR4.PGE is on */
	uint32_t error_code; /* PTWALK_FAULT: PF_P, PF_W, PF_U, PF_RSVD */
	uint32_t cr2;	     /* PTWALK_FAULT: the faulting address, va */
	uint32_t bad_gpa;    /* PTWALK_BAD_TABLE: the entry's guest-physical address */
};

/*
 * Translate va as the CPU would with these control registers, for an
 * access described by PF_W (a write), PF_U (from CPL 3) and PF_I (an
 * instruction fetch), plus PTWALK_SET_AD to write the accessed and dirty
 * bits back into the guest's tables when the access succeeds; other bits
 * of access are ignored.  Fills *res and returns res->status.  On a fault,
 * pde and pte hold the entries read before it, and nothing was written.
 */
enum ptwalk_status ptwalk(const struct ptwalk_mem *mem, uint32_t cr0, uint32_t cr3, uint32_t cr4,
			  uint32_t va, unsigned int access, struct ptwalk_result *res);

/*
 * Guest memory that is one flat host buffer of 'size' bytes.  Use
 * &flat->mem as the walker's memory; flat must outlive it.
 */
struct ptwalk_flat {
	struct ptwalk_mem mem;
	uint8_t *bytes;
	uint64_t size;
};

void ptwalk_flat_init(struct ptwalk_flat *flat, uint8_t *bytes, uint64_t size);

#endif
