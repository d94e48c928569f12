/*
 * p2m.c - physical-to-machine: the VMM's own page tables, one per guest.
 *
 * Section B.4 of the chapter adds a layer under the guest OS: its
 * "physical" memory is a virtualization on top of machine memory, the real
 * memory that the VMM owns.  The guest translates virtual to physical with
 * its page tables (ptwalk.c); the VMM translates physical to machine with
 * the map in this file, and the shadow page tables it builds for the CPU
 * compose the two (Figure B.1, Table B.5).
 *
 * Machine memory is one block that kvmshadow owns (in the shadow modes, one
 * KVM memory slot), cut into 4 KiB frames and kept in a pool.  A guest's
 * map is then an array indexed by its page frame number (PFN) holding the
 * machine frame number (MFN) that backs it, with 0 for "not backed": frame
 * 0 of the pool is never handed out, so no real frame is ever called 0.
 *
 * The pool also keeps the reverse map, MFN to (owner, PFN).  Swapping
 * (swap.c) uses it to find whose page a frame holds, and isolation checks
 * to prove that no frame belongs to two guests.
 *
 * Why not simply back PFN n with MFN n?  Because then a place where the VMM
 * forgot to translate a guest-physical address would still work, and the
 * bug would hide until two guests shared the machine.  So the pool hands
 * frames out in a scattered order: a guest's contiguous PFNs land on
 * unrelated MFNs, and a missing translation reads the wrong data at once.
 * The order comes from a small PRNG with a fixed seed, so every run, and
 * every failure, is reproducible.
 *
 * Backing is on demand: a PFN gets a frame the first time the guest (or
 * the VMM on its behalf) touches it, p2m_get.  Several guests share one
 * pool, which may be smaller than all their memory together: then the
 * pager (swap.c) frees a frame by writing a guest page to the swap file,
 * and p2m_get reads it back when it is touched again.  (p2m_populate
 * still backs everything at once, for the unit tests.)
 */
#include <stdlib.h>
#include <string.h>

#include "canary.h"
#include "p2m.h"
#include "x86.h"

/* Marsaglia's xorshift32: tiny, deterministic, never 0 from a non-0 seed. */
static uint32_t p2m_random(struct p2m_pool *pool)
{
	uint32_t x = pool->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return pool->rng = x;
}

int p2m_pool_init(struct p2m_pool *pool, uint32_t nframes, uint8_t *machine_mem, uint32_t seed,
		  struct error *err)
{
	*pool = (struct p2m_pool){.machine_mem = machine_mem, .nframes = nframes};
	if (nframes < 2 || nframes > P2M_MAX_FRAMES)
		return error_set(err, "machine memory of %u frames: kvmshadow needs 2 to %u",
				 nframes, P2M_MAX_FRAMES);
	pool->rng = seed ? seed : P2M_DEFAULT_SEED;
	pool->free = calloc(nframes - 1, sizeof(*pool->free));
	pool->frame = calloc(nframes, sizeof(*pool->frame));
	if (!pool->free || !pool->frame) {
		p2m_pool_destroy(pool);
		return error_set(err, "out of memory for the map of %u MiB of machine memory",
				 nframes >> (20 - PAGE_SHIFT));
	}
	/* Any order will do: allocation picks a random slot. */
	for (uint32_t mfn = nframes - 1; mfn >= 1; mfn--)
		pool->free[pool->nfree++] = mfn;
	return 0;
}

void p2m_pool_destroy(struct p2m_pool *pool)
{
	free(pool->free);
	free(pool->frame);
	*pool = (struct p2m_pool){0};
}

/*
 * Machine frames are recycled between guests, so the previous owner's data
 * is still in them.  The pool zeroes a frame as it hands it out: that is
 * the one moment after which no other guest can have written it, and so
 * every frame a guest first sees is zero, as RAM is after a reset.
 */
static void p2m_pool_zero(struct p2m_pool *pool, uint32_t mfn)
{
	uint8_t *mem = p2m_pool_frame_mem(pool, mfn);

	if (mem)
		memset(mem, 0, PAGE_SIZE);
}

/* A free frame that no longer holds its canary: remember the first. */
static void p2m_pool_canary_test(struct p2m_pool *pool, uint32_t mfn)
{
	uint8_t *mem = p2m_pool_frame_mem(pool, mfn);
	uint32_t off;

	if (!pool->canary || !mem || pool->canary_broken_mfn || canary_intact(mem, mfn, &off))
		return;
	pool->canary_broken_mfn = mfn;
	pool->canary_broken_off = off;
}

void p2m_pool_canary_on(struct p2m_pool *pool)
{
	pool->canary = true;
	for (uint32_t i = 0; i < pool->nfree; i++) {
		uint8_t *mem = p2m_pool_frame_mem(pool, pool->free[i]);

		if (mem)
			canary_fill(mem, pool->free[i]);
	}
}

int p2m_pool_canary_check(struct p2m_pool *pool, struct error *err)
{
	for (uint32_t i = 0; i < pool->nfree; i++)
		p2m_pool_canary_test(pool, pool->free[i]);
	if (!pool->canary_broken_mfn)
		return 0;
	return error_set(err,
			 "isolation broken: free machine frame 0x%x (owned by no guest) was "
			 "changed at offset 0x%x",
			 pool->canary_broken_mfn, pool->canary_broken_off);
}

/*
 * Pick a free frame at a random place in the free stack and move the top
 * one into its slot: O(1), and frames keep coming out scattered however
 * many times they have been freed and taken again.
 */
uint32_t p2m_pool_alloc(struct p2m_pool *pool, const struct p2m *owner, uint32_t pfn)
{
	uint32_t slot, mfn;

	if (pool->nfree == 0 && pool->pager)
		pool->pager->evict(pool->pager->ctx);
	if (pool->nfree == 0)
		return 0;
	slot = p2m_random(pool) % pool->nfree;
	mfn = pool->free[slot];
	pool->free[slot] = pool->free[--pool->nfree];
	pool->frame[mfn] = (struct p2m_frame){
	    .owner = owner, .pfn = pfn, .used = true, .referenced = true, .pinned = pool->epoch};
	p2m_pool_canary_test(pool, mfn);
	p2m_pool_zero(pool, mfn);
	return mfn;
}

/*
 * A frame coming back is scrubbed at once, not only when it is next handed
 * out: a guest that ends leaves nothing of itself in machine memory (or,
 * with --canary, the frame gets its mark back).
 */
int p2m_pool_free(struct p2m_pool *pool, uint32_t mfn)
{
	uint8_t *mem = p2m_pool_frame_mem(pool, mfn);

	if (mfn == 0 || mfn >= pool->nframes || !pool->frame[mfn].used)
		return -1;
	pool->frame[mfn] = (struct p2m_frame){0};
	pool->free[pool->nfree++] = mfn;
	if (mem && pool->canary)
		canary_fill(mem, mfn);
	else if (mem)
		memset(mem, 0, PAGE_SIZE);
	return 0;
}

uint32_t p2m_pool_free_count(const struct p2m_pool *pool)
{
	return pool->nfree;
}

const struct p2m_frame *p2m_pool_frame(const struct p2m_pool *pool, uint32_t mfn)
{
	if (mfn == 0 || mfn >= pool->nframes)
		return NULL;
	return &pool->frame[mfn];
}

uint8_t *p2m_pool_frame_mem(const struct p2m_pool *pool, uint32_t mfn)
{
	if (!pool->machine_mem || mfn == 0 || mfn >= pool->nframes)
		return NULL;
	return pool->machine_mem + (size_t)mfn * PAGE_SIZE;
}

int p2m_init(struct p2m *p2m, struct p2m_pool *pool, uint64_t mem_bytes, struct error *err)
{
	*p2m = (struct p2m){.pool = pool};
	if (mem_bytes == 0 || mem_bytes % PAGE_SIZE ||
	    mem_bytes > (uint64_t)P2M_MAX_FRAMES * PAGE_SIZE)
		return error_set(err,
				 "guest memory of %llu bytes: must be a multiple of 4 KiB, "
				 "from 4 KiB to 4 GiB",
				 (unsigned long long)mem_bytes);
	p2m->nr_pfns = (uint32_t)(mem_bytes / PAGE_SIZE);
	p2m->mfn = calloc(p2m->nr_pfns, sizeof(*p2m->mfn));
	p2m->swapped = calloc(p2m->nr_pfns, sizeof(*p2m->swapped));
	if (!p2m->mfn || !p2m->swapped) {
		free(p2m->mfn);
		free(p2m->swapped);
		p2m->mfn = NULL;
		p2m->swapped = NULL;
		p2m->nr_pfns = 0;
		return error_set(err, "out of memory for the map of %llu MiB of guest memory",
				 (unsigned long long)(mem_bytes >> 20));
	}
	return 0;
}

static uint32_t p2m_unbacked(const struct p2m *p2m)
{
	uint32_t n = 0;

	for (uint32_t pfn = 0; pfn < p2m->nr_pfns; pfn++)
		n += p2m->mfn[pfn] == 0;
	return n;
}

/* Count first, so that running out leaves the guest as it was. */
int p2m_populate(struct p2m *p2m, struct error *err)
{
	uint32_t need = p2m_unbacked(p2m);
	uint32_t have = p2m_pool_free_count(p2m->pool);

	if (need > have)
		return error_set(err,
				 "not enough machine memory: the guest needs %u more frames "
				 "(%u KiB), %u are free; try a smaller --mem",
				 need, need * (PAGE_SIZE / 1024), have);
	for (uint32_t pfn = 0; pfn < p2m->nr_pfns; pfn++)
		if (p2m->mfn[pfn] == 0)
			p2m->mfn[pfn] = p2m_pool_alloc(p2m->pool, p2m, pfn);
	return 0;
}

/* pfn comes from the guest, directly or through its page tables: any value. */
uint32_t p2m_lookup(const struct p2m *p2m, uint32_t pfn)
{
	if (pfn >= p2m->nr_pfns)
		return 0;
	return p2m->mfn[pfn];
}

bool p2m_page_is_zero(const uint8_t *page)
{
	static const uint8_t zero[PAGE_SIZE];

	return !memcmp(page, zero, PAGE_SIZE);
}

/* The frame is the trap's now: the clock hand must pass it by. */
static uint32_t p2m_pin(struct p2m *p2m, uint32_t mfn)
{
	struct p2m_frame *f = &p2m->pool->frame[mfn];

	f->referenced = true;
	f->pinned = p2m->pool->epoch;
	return mfn;
}

uint32_t p2m_get(struct p2m *p2m, uint32_t pfn, bool *failed)
{
	struct p2m_pool *pool = p2m->pool;
	uint32_t mfn;

	*failed = false;
	if (pfn >= p2m->nr_pfns)
		return 0;
	if (p2m->mfn[pfn])
		return p2m_pin(p2m, p2m->mfn[pfn]);
	mfn = p2m_pool_alloc(pool, p2m, pfn);
	if (!mfn) {
		*failed = true;
		return 0;
	}
	if (p2m->swapped[pfn]) {
		if (!pool->pager ||
		    pool->pager->read(pool->pager->ctx, p2m, pfn, p2m_pool_frame_mem(pool, mfn))) {
			p2m_pool_free(pool, mfn);
			*failed = true;
			return 0;
		}
		p2m->swapped[pfn] = 0;
		p2m->swap_ins++;
	} else {
		p2m->first_touches++;
	}
	p2m->mfn[pfn] = mfn;
	return mfn;
}

void p2m_evict(struct p2m *p2m, uint32_t pfn, bool swapped)
{
	uint32_t mfn = p2m->mfn[pfn];

	p2m->mfn[pfn] = 0;
	p2m->swapped[pfn] = swapped;
	if (swapped)
		p2m->swap_outs++;
	else
		p2m->swap_zero++;
	p2m_pool_free(p2m->pool, mfn);
}

void p2m_release(struct p2m *p2m)
{
	for (uint32_t pfn = 0; pfn < p2m->nr_pfns; pfn++) {
		if (p2m->mfn[pfn])
			p2m_pool_free(p2m->pool, p2m->mfn[pfn]);
		p2m->mfn[pfn] = 0;
		p2m->swapped[pfn] = 0;
	}
}

void p2m_destroy(struct p2m *p2m)
{
	if (p2m->mfn)
		p2m_release(p2m);
	free(p2m->mfn);
	free(p2m->swapped);
	*p2m = (struct p2m){0};
}
