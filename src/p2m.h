/*
 * p2m.h - the VMM's map from a guest's "physical" frames to machine frames.
 *
 * The second half of Figure B.1: each guest OS believes it owns physical
 * memory from address 0; the VMM backs every one of its page frames (PFN)
 * with a machine frame (MFN) taken from a pool it owns.
 */
#ifndef KVMSHADOW_P2M_H
#define KVMSHADOW_P2M_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define P2M_MAX_FRAMES	 (1u << 20) /* 4 GiB of 4 KiB frames */
#define P2M_DEFAULT_SEED 0x2545f491u

struct p2m;

/* The reverse map: who holds one machine frame. */
struct p2m_frame {
	const struct p2m *owner; /* the guest, or NULL for the VMM's own use */
	uint32_t pfn;		 /* the owner's page frame number */
	bool used;		 /* false: on the free stack */
	bool referenced;	 /* the VMM touched it since the clock hand last passed */
	uint32_t pinned;	 /* == the pool's epoch: in use by the trap being handled */
};

/*
 * Who makes room when the pool is empty, and brings swapped frames back
 * (swap.c): the pool knows frames, not guests or files.
 */
struct p2m_pager {
	/* Free one guest frame by swapping it out; 0 if one was freed. */
	int (*evict)(void *ctx);
	/* Read owner's swapped-out pfn into mem (4 KiB); 0 on success. */
	int (*read)(void *ctx, const struct p2m *owner, uint32_t pfn, uint8_t *mem);
	void *ctx;
};

/*
 * Machine memory: frames 1 .. nframes-1 (frame 0 is never handed out, so
 * an MFN of 0 can mean "none").  Frame n lives at machine_mem + n * 4 KiB
 * in our address space, if machine_mem is not NULL.
 */
struct p2m_pool {
	uint8_t *machine_mem;
	uint32_t nframes;
	uint32_t *free; /* stack of free MFNs */
	uint32_t nfree;
	struct p2m_frame *frame; /* indexed by MFN */
	uint32_t rng;		 /* xorshift32 state: the order frames come out in */
	/* --canary (canary.h): free frames hold the pattern, and the
	 * first frame found changed is remembered here (0: none). */
	bool canary;
	uint32_t canary_broken_mfn, canary_broken_off;
	const struct p2m_pager *pager; /* NULL: no swapping, an empty pool is the end */
	uint32_t epoch; /* bumped at every trap: frames pinned in the last one are free game */
};

/*
 * One guest's map: PFN -> MFN, 0 where the PFN is not resident.  A PFN
 * that is not resident is either swapped out (its contents are in the
 * swap file, at slot swap_base + pfn) or was never written: zero, backed
 * the moment the guest first touches it.
 */
struct p2m {
	struct p2m_pool *pool;
	uint32_t *mfn;
	uint8_t *swapped; /* per PFN: 1 if its contents are in the swap file */
	uint32_t nr_pfns;
	uint64_t swap_base; /* its first slot in the swap file */
	/* What the pool did for this guest (--stats). */
	uint64_t first_touches; /* zero frames given on first touch */
	uint64_t swap_outs;	/* frames written to the swap file */
	uint64_t swap_zero;	/* victims found all zero: dropped, not written */
	uint64_t swap_ins;	/* frames read back */
};

/*
 * A pool of nframes machine frames (2 .. P2M_MAX_FRAMES, frame 0 included)
 * at machine_mem, which must hold nframes * PAGE_SIZE bytes; NULL means the
 * pool does not zero frames and the caller must.  seed picks the
 * scattering; 0 means P2M_DEFAULT_SEED.
 */
int p2m_pool_init(struct p2m_pool *pool, uint32_t nframes, uint8_t *machine_mem, uint32_t seed,
		  struct error *err);
void p2m_pool_destroy(struct p2m_pool *pool);

/*
 * Take a free frame, chosen at random, zero it and record it as owner's
 * pfn.  Returns its MFN, or 0 when no frame is left.
 */
uint32_t p2m_pool_alloc(struct p2m_pool *pool, const struct p2m *owner, uint32_t pfn);

/* Give a frame back.  Returns -1, changing nothing, if it was not in use. */
int p2m_pool_free(struct p2m_pool *pool, uint32_t mfn);

uint32_t p2m_pool_free_count(const struct p2m_pool *pool);

/*
 * --canary: fill every free frame with the canary pattern, now and each
 * time a frame is freed; check it each time a frame is taken.
 * p2m_pool_canary_check then checks every free frame, and returns -1
 * with a one-line message in err if any frame, now or before, was found
 * changed.  The pool must have machine_mem.
 */
void p2m_pool_canary_on(struct p2m_pool *pool);
int p2m_pool_canary_check(struct p2m_pool *pool, struct error *err);

/* The reverse map entry of mfn, or NULL if mfn is 0 or beyond the pool. */
const struct p2m_frame *p2m_pool_frame(const struct p2m_pool *pool, uint32_t mfn);

/* Where machine frame mfn is in our address space, or NULL. */
uint8_t *p2m_pool_frame_mem(const struct p2m_pool *pool, uint32_t mfn);

/* An empty map for a guest of mem_bytes (a multiple of 4 KiB, up to 4 GiB). */
int p2m_init(struct p2m *p2m, struct p2m_pool *pool, uint64_t mem_bytes, struct error *err);

/* Back every PFN of the guest with a zeroed machine frame, or none if the
 * pool cannot back them all. */
int p2m_populate(struct p2m *p2m, struct error *err);

/* The MFN backing pfn; 0 if pfn is beyond the guest or not resident. */
uint32_t p2m_lookup(const struct p2m *p2m, uint32_t pfn);

/*
 * The MFN backing pfn, made resident if it is not: a zeroed frame on
 * first touch, or the swapped-out contents read back.  Either may take a
 * frame from another guest or the same one (the pager evicts).  The
 * frame is pinned until the pool's epoch moves on.  0 if pfn is beyond
 * the guest, or if no frame could be had (*failed is set then).
 */
uint32_t p2m_get(struct p2m *p2m, uint32_t pfn, bool *failed);

/* Whether a page (4 KiB) is all zero: such a page needs no frame on
 * load, and no swap-file write on the way out. */
bool p2m_page_is_zero(const uint8_t *page);

/*
 * The pager's side: pfn's frame is gone from every shadow and its
 * contents are safe (in the swap file if 'swapped', else all zero).
 * Free the frame, which is scrubbed.
 */
void p2m_evict(struct p2m *p2m, uint32_t pfn, bool swapped);

/* Return every frame to the pool; the map stays, empty. */
void p2m_release(struct p2m *p2m);

/* Release, and free the map itself. */
void p2m_destroy(struct p2m *p2m);

#endif
