/*
 * rmap.h - the reverse map: for each guest frame, the shadow entries that
 * map it.
 *
 * The shadow page tables map guest-virtual pages to machine frames; the
 * reverse map answers the opposite question, "who maps this guest
 * frame?".  The shadow needs it the moment a frame becomes a page table:
 * every writable mapping of that frame must turn read-only, wherever it
 * is.  Swapping a frame out (a later issue) needs the same answer.
 *
 * An entry is an opaque 32-bit reference chosen by the caller (shadow.c
 * uses shadow page index << 10 | entry index).  Sets are small - a frame
 * is mapped once per address space that touched it - so they are plain
 * arrays, searched linearly on removal.
 */
#ifndef KVMSHADOW_RMAP_H
#define KVMSHADOW_RMAP_H

#include <stdint.h>

struct rmap_set {
	uint32_t *ref;
	uint32_t n, cap;
};

struct rmap {
	struct rmap_set *frame; /* indexed by guest frame number */
	uint32_t nframes;
	uint64_t entries; /* in all sets */
};

int rmap_init(struct rmap *r, uint32_t nframes);
void rmap_destroy(struct rmap *r);

/* Record that ref maps gfn.  -1 if memory ran out (nothing changed). */
int rmap_add(struct rmap *r, uint32_t gfn, uint32_t ref);

/* Forget it; a ref that is not there is ignored. */
void rmap_remove(struct rmap *r, uint32_t gfn, uint32_t ref);

/* The set of gfn, or NULL if gfn is beyond the guest. */
const struct rmap_set *rmap_of(const struct rmap *r, uint32_t gfn);

#endif
