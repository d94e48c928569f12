/*
 * test_p2m.c - the physical-to-machine map: frames scattered, never
 * shared, zeroed when handed out, all returned, and a reverse map that
 * agrees with the forward one.
 *
 * The machine memory is a 1 MiB array: a pool of 256 frames, frame 0
 * reserved.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "canary.h"
#include "p2m.h"
#include "x86.h"

#define FRAMES	    256u
#define GUEST_PAGES 64u

static uint8_t machine[FRAMES * PAGE_SIZE];
static struct p2m_pool pool;
static struct p2m g1, g2;
static struct error err;

static void setup(void)
{
	memset(machine, 0, sizeof(machine));
	cr_assert_eq(p2m_pool_init(&pool, FRAMES, machine, 0, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	p2m_destroy(&g1);
	p2m_destroy(&g2);
	p2m_pool_destroy(&pool);
}

static void guest(struct p2m *g, uint32_t pages)
{
	cr_assert_eq(p2m_init(g, &pool, (uint64_t)pages * PAGE_SIZE, &err), 0, "%s", err.msg);
	cr_assert_eq(p2m_populate(g, &err), 0, "%s", err.msg);
}

TestSuite(p2m, .init = setup, .fini = teardown);

Test(p2m, populate_scatters_distinct_frames)
{
	bool seen[FRAMES] = {false};
	unsigned int identity = 0, runs = 0;

	guest(&g1, GUEST_PAGES);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++) {
		uint32_t mfn = p2m_lookup(&g1, pfn);

		cr_assert(mfn >= 1 && mfn < FRAMES, "pfn %u -> mfn %u out of the pool", pfn, mfn);
		cr_assert(!seen[mfn], "mfn %u backs two pfns", mfn);
		seen[mfn] = true;
		identity += mfn == pfn;
		if (pfn > 0)
			runs += mfn == p2m_lookup(&g1, pfn - 1) + 1;
	}
	cr_assert_lt(identity, GUEST_PAGES / 4, "%u of %u pfns map to themselves", identity,
		     GUEST_PAGES);
	cr_assert_lt(runs, GUEST_PAGES / 4, "%u neighbours are contiguous in machine memory", runs);
	cr_assert_eq(p2m_pool_free_count(&pool), FRAMES - 1 - GUEST_PAGES);
}

Test(p2m, scattering_is_deterministic)
{
	static uint8_t other_machine[FRAMES * PAGE_SIZE];
	struct p2m_pool other;
	struct p2m h;
	unsigned int same = 0;

	guest(&g1, GUEST_PAGES);
	cr_assert_eq(p2m_pool_init(&other, FRAMES, other_machine, P2M_DEFAULT_SEED, &err), 0);
	cr_assert_eq(p2m_init(&h, &other, GUEST_PAGES * PAGE_SIZE, &err), 0);
	cr_assert_eq(p2m_populate(&h, &err), 0);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++)
		cr_assert_eq(p2m_lookup(&h, pfn), p2m_lookup(&g1, pfn), "seed 0 is the default");
	p2m_destroy(&h);
	p2m_pool_destroy(&other);

	cr_assert_eq(p2m_pool_init(&other, FRAMES, other_machine, 12345, &err), 0);
	cr_assert_eq(p2m_init(&h, &other, GUEST_PAGES * PAGE_SIZE, &err), 0);
	cr_assert_eq(p2m_populate(&h, &err), 0);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++)
		same += p2m_lookup(&h, pfn) == p2m_lookup(&g1, pfn);
	cr_assert_lt(same, GUEST_PAGES / 4, "another seed gave nearly the same layout");
	p2m_destroy(&h);
	p2m_pool_destroy(&other);
}

Test(p2m, lookup_of_anything_outside_is_zero)
{
	cr_assert_eq(p2m_init(&g1, &pool, GUEST_PAGES * PAGE_SIZE, &err), 0);
	cr_assert_eq(p2m_lookup(&g1, 0), 0, "not populated yet");
	cr_assert_eq(p2m_populate(&g1, &err), 0);
	cr_assert_neq(p2m_lookup(&g1, GUEST_PAGES - 1), 0);
	cr_assert_eq(p2m_lookup(&g1, GUEST_PAGES), 0);
	cr_assert_eq(p2m_lookup(&g1, 0x000fffff), 0);
	cr_assert_eq(p2m_lookup(&g1, 0xffffffff), 0);
}

Test(p2m, release_returns_every_frame)
{
	guest(&g1, GUEST_PAGES);
	guest(&g2, 10);
	p2m_release(&g1);
	cr_assert_eq(p2m_pool_free_count(&pool), FRAMES - 1 - 10);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++)
		cr_assert_eq(p2m_lookup(&g1, pfn), 0);
	p2m_release(&g2);
	cr_assert_eq(p2m_pool_free_count(&pool), FRAMES - 1);
	cr_assert_eq(p2m_populate(&g1, &err), 0, "a released map can be populated again");
}

Test(p2m, exhaustion_fails_cleanly)
{
	uint32_t mfn, n = 0;

	guest(&g1, FRAMES - 11);
	cr_assert_eq(p2m_init(&g2, &pool, 11 * PAGE_SIZE, &err), 0);
	cr_assert_eq(p2m_populate(&g2, &err), -1);
	cr_assert(strstr(err.msg, "not enough machine memory"), "%s", err.msg);
	cr_assert_eq(p2m_pool_free_count(&pool), 10, "a failed populate took frames");
	cr_assert_eq(p2m_lookup(&g2, 0), 0);

	while ((mfn = p2m_pool_alloc(&pool, NULL, 0)) != 0)
		n++;
	cr_assert_eq(n, 10);
	cr_assert_eq(p2m_pool_alloc(&pool, NULL, 0), 0, "still empty");
	cr_assert_eq(p2m_pool_free_count(&pool), 0);
}

Test(p2m, two_guests_never_share_a_frame)
{
	bool owned[FRAMES] = {false};

	guest(&g1, 120);
	guest(&g2, 120);
	for (uint32_t pfn = 0; pfn < 120; pfn++) {
		owned[p2m_lookup(&g1, pfn)] = true;
	}
	for (uint32_t pfn = 0; pfn < 120; pfn++)
		cr_assert(!owned[p2m_lookup(&g2, pfn)], "mfn %u is in both guests",
			  p2m_lookup(&g2, pfn));
}

Test(p2m, frames_are_zeroed_when_handed_out)
{
	guest(&g1, FRAMES - 1);
	/* The guest fills all of machine memory with its secrets... */
	for (uint32_t pfn = 0; pfn < FRAMES - 1; pfn++)
		memset(p2m_pool_frame_mem(&pool, p2m_lookup(&g1, pfn)), 0xaa, PAGE_SIZE);
	p2m_release(&g1);
	/* ...and the next guest, on the same frames, sees none of them. */
	guest(&g2, FRAMES - 1);
	for (size_t i = PAGE_SIZE; i < sizeof(machine); i++)
		cr_assert_eq(machine[i], 0, "machine byte 0x%zx not zeroed", i);
}

Test(p2m, frame_zero_is_never_handed_out)
{
	guest(&g1, FRAMES - 1);
	for (uint32_t pfn = 0; pfn < FRAMES - 1; pfn++)
		cr_assert_neq(p2m_lookup(&g1, pfn), 0);
	cr_assert_null(p2m_pool_frame(&pool, 0));
	cr_assert_null(p2m_pool_frame(&pool, FRAMES));
	cr_assert_null(p2m_pool_frame_mem(&pool, 0));
	cr_assert_null(p2m_pool_frame_mem(&pool, FRAMES));
	cr_assert_eq(p2m_pool_frame_mem(&pool, 3), machine + 3 * PAGE_SIZE);
}

Test(p2m, reverse_map_agrees)
{
	uint32_t used = 0;

	guest(&g1, GUEST_PAGES);
	guest(&g2, 20);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++) {
		const struct p2m_frame *f = p2m_pool_frame(&pool, p2m_lookup(&g1, pfn));

		cr_assert(f && f->used && f->owner == &g1 && f->pfn == pfn, "pfn %u", pfn);
	}
	for (uint32_t mfn = 1; mfn < FRAMES; mfn++) {
		const struct p2m_frame *f = p2m_pool_frame(&pool, mfn);

		if (!f->used)
			continue;
		used++;
		cr_assert_eq(p2m_lookup(f->owner, f->pfn), mfn, "mfn %u: forward map disagrees",
			     mfn);
	}
	cr_assert_eq(used, GUEST_PAGES + 20);
	p2m_release(&g1);
	for (uint32_t mfn = 1; mfn < FRAMES; mfn++) {
		const struct p2m_frame *f = p2m_pool_frame(&pool, mfn);

		cr_assert(!f->used || f->owner == &g2, "mfn %u still names g1", mfn);
	}
}

Test(p2m, pool_free_refuses_frames_not_in_use)
{
	uint32_t mfn = p2m_pool_alloc(&pool, NULL, 7);

	cr_assert_neq(mfn, 0);
	cr_assert_eq(p2m_pool_frame(&pool, mfn)->pfn, 7);
	cr_assert_eq(p2m_pool_free(&pool, 0), -1);
	cr_assert_eq(p2m_pool_free(&pool, FRAMES), -1);
	cr_assert_eq(p2m_pool_free(&pool, 0xffffffff), -1);
	cr_assert_eq(p2m_pool_free(&pool, mfn), 0);
	cr_assert_eq(p2m_pool_free(&pool, mfn), -1, "double free accepted");
	cr_assert_eq(p2m_pool_free_count(&pool), FRAMES - 1);
}

Test(p2m, limits)
{
	struct p2m_pool big;
	struct p2m h;

	cr_assert_eq(p2m_pool_init(&big, 0, NULL, 0, &err), -1);
	cr_assert_eq(p2m_pool_init(&big, 1, NULL, 0, &err), -1);
	cr_assert_eq(p2m_pool_init(&big, P2M_MAX_FRAMES + 1, NULL, 0, &err), -1);
	cr_assert(strstr(err.msg, "frames"), "%s", err.msg);
	/* 4 GiB of machine memory, without the memory: the pool need not zero. */
	cr_assert_eq(p2m_pool_init(&big, P2M_MAX_FRAMES, NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(p2m_pool_free_count(&big), P2M_MAX_FRAMES - 1);
	cr_assert_null(p2m_pool_frame_mem(&big, 1));

	cr_assert_eq(p2m_init(&h, &big, 0, &err), -1);
	cr_assert_eq(p2m_init(&h, &big, PAGE_SIZE + 1, &err), -1);
	cr_assert_eq(p2m_init(&h, &big, (4ull << 30) + PAGE_SIZE, &err), -1);
	cr_assert(strstr(err.msg, "multiple of 4 KiB"), "%s", err.msg);
	cr_assert_eq(p2m_init(&h, &big, 4ull << 30, &err), 0, "%s", err.msg);
	cr_assert_eq(h.nr_pfns, P2M_MAX_FRAMES);
	cr_assert_eq(p2m_populate(&h, &err), -1, "frame 0 is reserved: one frame short");
	p2m_destroy(&h);
	p2m_pool_destroy(&big);
}

/*
 * --canary: free frames hold the mark, taken frames are zeroed, freed
 * frames get it back, and a store to a free frame is caught - at the
 * check, or when the frame is handed out.
 */
Test(p2m, canary_marks_free_frames_and_catches_a_store_to_one)
{
	uint32_t mfn, off;

	p2m_pool_canary_on(&pool);
	cr_assert_eq(p2m_pool_canary_check(&pool, &err), 0, "%s", err.msg);
	mfn = p2m_pool_alloc(&pool, NULL, 0);
	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		cr_assert_eq(machine[mfn * PAGE_SIZE + i], 0, "a taken frame is zeroed");
	cr_assert_eq(p2m_pool_free(&pool, mfn), 0);
	cr_assert(canary_intact(&machine[mfn * PAGE_SIZE], mfn, &off), "a freed frame is marked");
	cr_assert_eq(p2m_pool_canary_check(&pool, &err), 0, "%s", err.msg);
	machine[mfn * PAGE_SIZE + 0x123] ^= 1; /* what a leaky VMM would let a guest do */
	cr_assert_eq(p2m_pool_canary_check(&pool, &err), -1);
	cr_assert(strstr(err.msg, "isolation broken") && strstr(err.msg, "offset 0x123"), "%s",
		  err.msg);
}

Test(p2m, canary_catches_a_store_when_the_frame_is_taken)
{
	uint32_t taken = 0;

	p2m_pool_canary_on(&pool);
	for (uint32_t mfn = 1; mfn < FRAMES; mfn++)
		machine[mfn * PAGE_SIZE + 8] = 0xee; /* every free frame, in its second unit */
	while (p2m_pool_alloc(&pool, NULL, 0))
		taken++;
	cr_assert_eq(taken, FRAMES - 1);
	cr_assert_eq(p2m_pool_canary_check(&pool, &err), -1, "the first changed frame is kept");
	cr_assert(strstr(err.msg, "offset 0x8"), "%s", err.msg);
}

/* --- On demand, and the pager's side (swap.c does the rest) ---------------- */

/* A pager that keeps one page per PFN in an array, and evicts g1's
 * lowest resident page. */
static uint8_t paged[GUEST_PAGES][PAGE_SIZE];
static unsigned evictions, reads;

static int fake_evict(void *ctx)
{
	(void)ctx;
	for (uint32_t pfn = 0; pfn < g1.nr_pfns; pfn++) {
		uint32_t mfn = p2m_lookup(&g1, pfn);

		if (mfn && pool.frame[mfn].pinned != pool.epoch) {
			memcpy(paged[pfn], p2m_pool_frame_mem(&pool, mfn), PAGE_SIZE);
			p2m_evict(&g1, pfn, true);
			evictions++;
			return 0;
		}
	}
	return -1;
}

static int fake_read(void *ctx, const struct p2m *owner, uint32_t pfn, uint8_t *mem)
{
	(void)ctx;
	cr_assert_eq(owner, &g1);
	memcpy(mem, paged[pfn], PAGE_SIZE);
	reads++;
	return 0;
}

static const struct p2m_pager fake_pager = {.evict = fake_evict, .read = fake_read};

Test(p2m, get_backs_on_first_touch_with_zeroes)
{
	bool failed;
	uint32_t mfn;

	cr_assert_eq(p2m_init(&g1, &pool, GUEST_PAGES * PAGE_SIZE, &err), 0, "%s", err.msg);
	cr_assert_eq(p2m_lookup(&g1, 5), 0, "nothing is resident before a touch");
	memset(machine, 0x77, sizeof(machine)); /* old data in every frame */
	mfn = p2m_get(&g1, 5, &failed);
	cr_assert(mfn && !failed);
	cr_assert_eq(p2m_lookup(&g1, 5), mfn);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		cr_assert_eq(p2m_pool_frame_mem(&pool, mfn)[i], 0, "byte %u not zeroed", i);
	cr_assert_eq(g1.first_touches, 1);
	cr_assert_eq(p2m_get(&g1, 5, &failed), mfn, "a second touch finds it");
	cr_assert_eq(g1.first_touches, 1);
	cr_assert_eq(p2m_get(&g1, GUEST_PAGES, &failed), 0, "beyond the guest: no frame");
	cr_assert_not(failed, "...and that is not a failure");
}

Test(p2m, evicted_pages_come_back_through_the_pager)
{
	bool failed;
	uint32_t mfn, all = FRAMES - 1;

	pool.pager = &fake_pager;
	/* A guest as big as the pool: the pool must give frames back. */
	cr_assert_eq(p2m_init(&g1, &pool, GUEST_PAGES * PAGE_SIZE, &err), 0, "%s", err.msg);
	cr_assert_eq(p2m_init(&g2, &pool, (uint64_t)(all - GUEST_PAGES / 2) * PAGE_SIZE, &err), 0);
	cr_assert_eq(p2m_populate(&g2, &err), 0, "%s", err.msg);
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++) {
		pool.epoch++;
		mfn = p2m_get(&g1, pfn, &failed);
		cr_assert(mfn && !failed, "pfn %u", pfn);
		memset(p2m_pool_frame_mem(&pool, mfn), (int)pfn + 1, PAGE_SIZE);
	}
	cr_assert_eq(g1.swap_outs, evictions);
	cr_assert_geq(evictions, GUEST_PAGES / 2, "half of g1 had to go out");
	for (uint32_t pfn = 0; pfn < GUEST_PAGES; pfn++) {
		pool.epoch++;
		mfn = p2m_get(&g1, pfn, &failed);
		cr_assert(mfn && !failed);
		cr_assert_eq(p2m_pool_frame_mem(&pool, mfn)[100], pfn + 1, "pfn %u's data", pfn);
		cr_assert_eq(p2m_pool_frame_mem(&pool, mfn)[PAGE_SIZE - 1], pfn + 1);
	}
	cr_assert_eq(g1.swap_ins, reads);
	cr_assert_gt(reads, 0);
	pool.pager = NULL;
}

Test(p2m, freed_frames_are_scrubbed_at_once)
{
	uint32_t mfn;

	guest(&g1, GUEST_PAGES);
	mfn = p2m_lookup(&g1, 3);
	memset(p2m_pool_frame_mem(&pool, mfn), 0x5a, PAGE_SIZE);
	p2m_release(&g1);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		cr_assert_eq(p2m_pool_frame_mem(&pool, mfn)[i], 0, "byte %u left behind", i);
}
