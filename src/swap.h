/*
 * swap.h - the VMM's own swapping, for machine memory overcommitted
 * between several guests.
 *
 * Section B.4 of the chapter: the VMM maps each guest's "physical" pages
 * onto machine memory, and nothing forces it to keep all of them there.
 * With --machine-mem smaller than the guests' memory together, the pool
 * runs out, and the pager takes a frame back from some guest: it writes
 * the page to the swap file, removes every shadow entry that maps it
 * (the reverse map names them), and frees the frame.  The guest never
 * knows: its next touch of the page is a hidden fault, and the page
 * comes back from the file into whatever frame is free.
 *
 * Victims are chosen by a clock (second chance) over machine frames, on
 * the accessed bits the CPU sets in our shadow entries.  A page found all
 * zero is not written: it comes back as a fresh zero page.  The guest's
 * page tables are never victims while a shadow is built from them.
 * Documentation/multiplexing.md tells the whole story, with figures.
 */
#ifndef KVMSHADOW_SWAP_H
#define KVMSHADOW_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "p2m.h"
#include "trace.h"

#define SWAP_MAX_VMS 8

struct vm;

struct swap {
	struct p2m_pool *pool;
	struct p2m_pager pager;
	const char *path; /* --swap FILE, or NULL: a temporary file */
	int fd;		  /* -1 until the first page goes out */
	uint32_t hand;	  /* the clock hand: the next machine frame to look at */
	uint64_t slots;	  /* pages of swap file handed out to guests */
	struct vm *vm[SWAP_MAX_VMS];
	unsigned nvms;
	char error[200]; /* why the last swap-out failed */
};

/*
 * Become the pool's pager.  A --swap path is checked now (it must not
 * exist, or be an empty regular file: kvmshadow overwrites nobody's
 * data) and created; the temporary file waits for the first swap-out.
 */
int swap_init(struct swap *sw, struct p2m_pool *pool, const char *path, struct error *err);

/* Empty the swap file (a temporary one is already gone) and close it. */
void swap_fini(struct swap *sw);

/* A guest whose frames may be swapped: its slots in the file. */
int swap_add_vm(struct swap *sw, struct vm *vm, struct error *err);

/* The guest is done: forget its slots, and free their disk blocks. */
void swap_release_vm(struct swap *sw, struct vm *vm);

#endif
