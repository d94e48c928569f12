/*
 * test_ptwalk.c - the page-table walker follows the SDM's rules for 32-bit
 * paging, case by case on hand-built tables, then against a second,
 * independently written walker on thousands of random tables.
 *
 * Guest memory is a 64 KiB array: the page directory at 0x1000, one page
 * table at 0x2000.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ptwalk.h"

#define MEM_SIZE 0x10000u
#define PD	 0x1000u
#define PT	 0x2000u

#define PG     (CR0_PE | CR0_PG)
#define WP     (CR0_PE | CR0_PG | CR0_WP)
#define SET_AD PTWALK_SET_AD

static uint8_t mem[MEM_SIZE];
static struct ptwalk_flat flat;
static struct ptwalk_result res;

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	ptwalk_flat_init(&flat, mem, sizeof(mem));
}

static uint32_t get(uint32_t gpa)
{
	uint32_t v;

	memcpy(&v, mem + gpa, 4);
	return v;
}

static void put(uint32_t gpa, uint32_t v)
{
	memcpy(mem + gpa, &v, 4);
}

static uint32_t pde_at(uint32_t va)
{
	return PD + 4 * PDE_INDEX(va);
}

static uint32_t pte_at(uint32_t va)
{
	return PT + 4 * PTE_INDEX(va);
}

/* Map va to frame through the one page table, with these flags at each level. */
static void map(uint32_t va, uint32_t pde_flags, uint32_t frame, uint32_t pte_flags)
{
	put(pde_at(va), PT | pde_flags);
	put(pte_at(va), frame | pte_flags);
}

static enum ptwalk_status walk(uint32_t cr0, uint32_t cr4, uint32_t va, unsigned int access)
{
	return ptwalk(&flat.mem, cr0, PD, cr4, va, access, &res);
}

static void expect_fault(uint32_t va, uint32_t error_code)
{
	cr_assert_eq(res.status, PTWALK_FAULT, "va 0x%08x: status %d, expected a fault", va,
		     res.status);
	cr_assert_eq(res.error_code, error_code, "va 0x%08x: error code 0x%x, expected 0x%x", va,
		     res.error_code, error_code);
	cr_assert_eq(res.cr2, va);
}

TestSuite(ptwalk, .init = setup);

Test(ptwalk, paging_off_is_the_identity)
{
	/* CR3 points nowhere, and does not matter. */
	cr_assert_eq(ptwalk(&flat.mem, CR0_PE, 0xfffff000, CR4_PSE, 0xdeadbeef, PF_W | PF_U, &res),
		     PTWALK_OK);
	cr_assert_eq(res.gpa, 0xdeadbeef);
	cr_assert(res.user && res.writable);
}

Test(ptwalk, small_page_translates)
{
	uint32_t va = 0xc0403123;

	map(va, PTE_P | PTE_W | PTE_U, 0x5000, PTE_P | PTE_W | PTE_U);
	cr_assert_eq(walk(WP, 0, va, PF_W | PF_U), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x5123);
	cr_assert_eq(res.pde_gpa, pde_at(va));
	cr_assert_eq(res.pte_gpa, pte_at(va));
	cr_assert_eq(res.pde, get(pde_at(va)));
	cr_assert_eq(res.pte, get(pte_at(va)));
	cr_assert(res.user && res.writable && !res.large && !res.global);
}

Test(ptwalk, cr3_low_bits_are_ignored)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P, 0x7000, PTE_P);
	cr_assert_eq(ptwalk(&flat.mem, PG, PD | 0xfff, 0, va, 0, &res), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x7000);
}

Test(ptwalk, not_present_pde_faults)
{
	uint32_t va = 0x00800000;

	put(pde_at(va), PT | PTE_W | PTE_U);
	walk(PG, 0, va, 0);
	expect_fault(va, 0);
	walk(PG, 0, va, PF_W | PF_U);
	expect_fault(va, PF_W | PF_U);
}

Test(ptwalk, not_present_pte_faults)
{
	uint32_t va = 0x00805000;

	map(va, PTE_P | PTE_W | PTE_U, 0x5000, PTE_W | PTE_U);
	walk(PG, 0, va, PF_U);
	expect_fault(va, PF_U);
	walk(PG, 0, va, PF_W);
	expect_fault(va, PF_W);
}

Test(ptwalk, user_read_of_supervisor_page)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_W | PTE_U, 0x5000, PTE_P | PTE_W);
	walk(PG, 0, va, PF_U);
	expect_fault(va, PF_P | PF_U);
	cr_assert_eq(walk(PG, 0, va, 0), PTWALK_OK, "the supervisor may read it");
}

Test(ptwalk, user_write_to_read_only_page)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_W | PTE_U, 0x5000, PTE_P | PTE_U);
	walk(PG, 0, va, PF_W | PF_U);
	expect_fault(va, PF_P | PF_W | PF_U);
	cr_assert_eq(walk(PG, 0, va, PF_U), PTWALK_OK, "user mode may read it");
}

Test(ptwalk, supervisor_write_to_read_only_page_obeys_cr0_wp)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_U, 0x5000, PTE_P | PTE_U);
	cr_assert_eq(walk(PG, 0, va, PF_W), PTWALK_OK, "WP=0: the supervisor writes anything");
	cr_assert_eq(res.gpa, 0x5000);
	walk(WP, 0, va, PF_W);
	expect_fault(va, PF_P | PF_W);
	walk(PG, 0, va, PF_W | PF_U);
	expect_fault(va, PF_P | PF_W | PF_U);
}

Test(ptwalk, rights_are_the_and_of_both_levels)
{
	uint32_t va = 0x00401000;

	/* Read-only directory entry, writable PTE: read-only. */
	map(va, PTE_P | PTE_U, 0x5000, PTE_P | PTE_W | PTE_U);
	cr_assert_eq(walk(WP, 0, va, PF_U), PTWALK_OK);
	cr_assert(res.user && !res.writable);
	walk(WP, 0, va, PF_W | PF_U);
	expect_fault(va, PF_P | PF_W | PF_U);
	walk(WP, 0, va, PF_W);
	expect_fault(va, PF_P | PF_W);

	/* Supervisor directory entry, user PTE: supervisor only. */
	map(va, PTE_P | PTE_W, 0x5000, PTE_P | PTE_W | PTE_U);
	cr_assert_eq(walk(WP, 0, va, PF_W), PTWALK_OK);
	cr_assert(!res.user && res.writable);
	walk(WP, 0, va, PF_U);
	expect_fault(va, PF_P | PF_U);
}

Test(ptwalk, instruction_fetch_is_a_read_and_never_sets_pf_i)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_U, 0x5000, PTE_P);
	cr_assert_eq(walk(WP, 0, va, PF_I), PTWALK_OK);
	walk(WP, 0, va, PF_I | PF_U);
	expect_fault(va, PF_P | PF_U);
	walk(WP, 0, 0x00402000, PF_I);
	expect_fault(0x00402000, 0);
}

Test(ptwalk, global_needs_cr4_pge)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P, 0x5000, PTE_P | PTE_G);
	walk(PG, 0, va, 0);
	cr_assert(!res.global);
	walk(PG, CR4_PGE, va, 0);
	cr_assert(res.global);
	/* The PDE's G bit means nothing for a 4 KiB page. */
	map(va, PTE_P | PTE_G, 0x5000, PTE_P);
	walk(PG, CR4_PGE, va, 0);
	cr_assert(!res.global);
}

Test(ptwalk, large_page_with_pse)
{
	uint32_t va = 0x00812345;

	put(pde_at(va), 0x00c00000 | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_G);
	cr_assert_eq(walk(WP, CR4_PSE | CR4_PGE, va, PF_W | PF_U | SET_AD), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x00c12345);
	cr_assert(res.large && res.user && res.writable && res.global);
	cr_assert_eq(res.pte_gpa, 0);
	cr_assert_eq(res.pde_gpa, pde_at(va));
	cr_assert_eq(get(pde_at(va)) & (PTE_A | PTE_D), PTE_A | PTE_D, "A and D go in the PDE");
	cr_assert_eq(res.pte, get(pde_at(va)));
	cr_assert_eq(res.pde, get(pde_at(va)));
}

Test(ptwalk, large_page_pat_bit_is_not_address)
{
	uint32_t va = 0x00812345;

	put(pde_at(va), 0x00c00000 | 0x1000 | PTE_P | PTE_PS);
	cr_assert_eq(walk(PG, CR4_PSE, va, 0), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x00c12345);
}

Test(ptwalk, large_page_rights)
{
	uint32_t va = 0x00812345;

	put(pde_at(va), 0x00c00000 | PTE_P | PTE_U | PTE_PS);
	walk(WP, CR4_PSE, va, PF_W | PF_U);
	expect_fault(va, PF_P | PF_W | PF_U);
	put(pde_at(va), 0x00c00000 | PTE_P | PTE_W | PTE_PS);
	walk(WP, CR4_PSE, va, PF_U);
	expect_fault(va, PF_P | PF_U);
}

Test(ptwalk, ps_is_ignored_without_cr4_pse)
{
	uint32_t va = 0x00803123;

	map(va, PTE_P | PTE_W | PTE_PS, 0x6000, PTE_P | PTE_W);
	cr_assert_eq(walk(PG, 0, va, PF_W | SET_AD), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x6123, "walked the page table at 0x%x", PT);
	cr_assert(!res.large);
	cr_assert_eq(get(pde_at(va)) & (PTE_A | PTE_D), PTE_A, "a non-leaf PDE never gets D");
	cr_assert_eq(get(pte_at(va)) & (PTE_A | PTE_D), PTE_A | PTE_D);
}

Test(ptwalk, large_page_reserved_bits)
{
	uint32_t va = 0x00812345;

	for (int bit = 13; bit <= 21; bit++) {
		put(pde_at(va), 0x00c00000 | (1u << bit) | PTE_P | PTE_PS | PTE_W);
		walk(PG, CR4_PSE, va, PF_U | SET_AD);
		expect_fault(va, PF_P | PF_RSVD | PF_U);
		cr_assert_eq(get(pde_at(va)) & PTE_A, 0, "bit %d: A set on a faulting walk", bit);
	}
}

Test(ptwalk, reserved_bits_are_an_address_without_cr4_pse)
{
	uint32_t va = 0x00803000;

	/* A page table at 0x4000: bit 14 set, reserved if PS meant a 4 MiB page. */
	put(pde_at(va), 0x4000 | PTE_P | PTE_PS);
	put(0x4000 + 4 * PTE_INDEX(va), 0x9000 | PTE_P);
	cr_assert_eq(walk(PG, 0, va, 0), PTWALK_OK);
	cr_assert_eq(res.gpa, 0x9000);
	walk(PG, CR4_PSE, va, 0);
	expect_fault(va, PF_P | PF_RSVD);
}

Test(ptwalk, accessed_and_dirty_only_when_asked)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_W, 0x5000, PTE_P | PTE_W);
	cr_assert_eq(walk(PG, 0, va, PF_W), PTWALK_OK);
	cr_assert_eq(get(pde_at(va)) & (PTE_A | PTE_D), 0);
	cr_assert_eq(get(pte_at(va)) & (PTE_A | PTE_D), 0);
}

Test(ptwalk, accessed_on_read_dirty_on_write)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_W, 0x5000, PTE_P | PTE_W);
	cr_assert_eq(walk(PG, 0, va, SET_AD), PTWALK_OK);
	cr_assert_eq(get(pde_at(va)) & (PTE_A | PTE_D), PTE_A);
	cr_assert_eq(get(pte_at(va)) & (PTE_A | PTE_D), PTE_A, "a read sets no D");
	cr_assert_eq(res.pte, get(pte_at(va)), "the result shows the bits set");
	cr_assert_eq(walk(PG, 0, va, PF_W | SET_AD), PTWALK_OK);
	cr_assert_eq(get(pde_at(va)) & (PTE_A | PTE_D), PTE_A, "a non-leaf PDE never gets D");
	cr_assert_eq(get(pte_at(va)) & (PTE_A | PTE_D), PTE_A | PTE_D);
	cr_assert_eq(res.pte, get(pte_at(va)));
	cr_assert_eq(res.pde, get(pde_at(va)));
}

Test(ptwalk, no_accessed_or_dirty_on_fault)
{
	uint32_t va = 0x00401000;

	map(va, PTE_P | PTE_U, 0x5000, PTE_P | PTE_U);
	walk(WP, 0, va, PF_W | PF_U | SET_AD);
	expect_fault(va, PF_P | PF_W | PF_U);
	cr_assert_eq(get(pde_at(va)), PT | PTE_P | PTE_U);
	cr_assert_eq(get(pte_at(va)), 0x5000 | PTE_P | PTE_U);

	/* Not present at the second level: the PDE stays untouched too. */
	map(va, PTE_P | PTE_U, 0x5000, PTE_U);
	walk(WP, 0, va, SET_AD);
	expect_fault(va, 0);
	cr_assert_eq(get(pde_at(va)), PT | PTE_P | PTE_U);
}

Test(ptwalk, page_table_outside_guest_memory)
{
	uint32_t va = 0x00401000;

	put(pde_at(va), 0x00100000 | PTE_P | PTE_W);
	cr_assert_eq(walk(PG, 0, va, 0), PTWALK_BAD_TABLE);
	cr_assert_eq(res.bad_gpa, 0x00100000 + 4 * PTE_INDEX(va));

	/* A table in the last page: its last entry is the last word of memory. */
	va = 0x007ff000;
	put(pde_at(va), (MEM_SIZE - PAGE_SIZE) | PTE_P);
	walk(PG, 0, va, 0);
	expect_fault(va, 0);
}

Test(ptwalk, cr3_outside_guest_memory)
{
	uint32_t va = 0xc0000000;

	cr_assert_eq(ptwalk(&flat.mem, PG, 0xfffff000, 0, va, 0, &res), PTWALK_BAD_TABLE);
	cr_assert_eq(res.bad_gpa, 0xfffff000 + 4 * PDE_INDEX(va));
	/* A directory just past the end of memory. */
	cr_assert_eq(ptwalk(&flat.mem, PG, MEM_SIZE, 0, 0, 0, &res), PTWALK_BAD_TABLE);
	cr_assert_eq(res.bad_gpa, MEM_SIZE);
}

Test(ptwalk, recursive_mapping)
{
	uint32_t self = 0x300, va;

	/* PD[0x300] points at the directory itself: the tables appear at 0xc0000000. */
	put(PD + 4 * self, PD | PTE_P | PTE_W);
	map(0x00401000, PTE_P | PTE_W, 0x5000, PTE_P | PTE_W);

	/* Page table 1 (for va 0x00400000-0x007fffff) shows up at 0xc0001000. */
	va = (self << 22) | (PDE_INDEX(0x00401000) << 12) | 4 * PTE_INDEX(0x00401000);
	cr_assert_eq(walk(WP, 0, va, 0), PTWALK_OK);
	cr_assert_eq(res.gpa, pte_at(0x00401000));

	/* And the directory itself at 0xc0300000, where a write dirties PD[0x300]. */
	va = (self << 22) | (self << 12) | 0x10;
	cr_assert_eq(walk(WP, 0, va, PF_W | SET_AD), PTWALK_OK);
	cr_assert_eq(res.gpa, PD + 0x10);
	cr_assert_eq(res.pde_gpa, res.pte_gpa);
	cr_assert_eq(get(PD + 4 * self), PD | PTE_P | PTE_W | PTE_A | PTE_D);
	cr_assert_eq(res.pde, get(PD + 4 * self));
	cr_assert_eq(res.pte, get(PD + 4 * self));
}

Test(ptwalk, pae_is_not_modelled)
{
	cr_assert_eq(walk(PG, CR4_PAE, 0x1000, 0), PTWALK_UNSUPPORTED);
	cr_assert_eq(walk(CR0_PE, CR4_PAE, 0x1000, 0), PTWALK_OK, "without paging PAE is moot");
}

Test(ptwalk, flat_memory_is_bounds_checked_and_aligned)
{
	uint32_t v = 0;

	cr_assert_eq(flat.mem.read32(flat.mem.ctx, MEM_SIZE - 4, &v), 0);
	cr_assert_eq(flat.mem.read32(flat.mem.ctx, MEM_SIZE, &v), -1);
	cr_assert_eq(flat.mem.read32(flat.mem.ctx, 0xfffffffc, &v), -1);
	cr_assert_eq(flat.mem.read32(flat.mem.ctx, 2, &v), -1);
	cr_assert_eq(flat.mem.write32(flat.mem.ctx, 0x101, 1), -1);
	cr_assert_eq(flat.mem.write32(flat.mem.ctx, MEM_SIZE, 1), -1);
	cr_assert_eq(flat.mem.write32(flat.mem.ctx, 0x100, 0x12345678), 0);
	cr_assert_eq(mem[0x100], 0x78, "guest words are little-endian");
}

/*
 * The differential test.  spec_walk() is a second walker, written from the
 * SDM's text without looking at ptwalk.c: it keeps the entries of the walk
 * in an array, folds the rights over it, and sets A/D by re-reading each
 * entry from memory.  Both must agree on every field that means something
 * for the outcome, and leave guest memory byte for byte the same.
 */
#define SPEC_PAGES 8u
#define SPEC_MEM   (SPEC_PAGES * PAGE_SIZE)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: unrelated to the pool's xorshift, and good enough here. */
static uint32_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static bool chance(unsigned int percent)
{
	return rnd() % 100 < percent;
}

static bool spec_read(const uint8_t *m, uint32_t a, uint32_t *v)
{
	if (a >= SPEC_MEM || SPEC_MEM - a < 4)
		return false;
	*v = m[a] | m[a + 1] << 8 | m[a + 2] << 16 | (uint32_t)m[a + 3] << 24;
	return true;
}

static void spec_write(uint8_t *m, uint32_t a, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m[a + i] = (uint8_t)(v >> (8 * i));
}

static bool bit(uint32_t v, int n)
{
	return (v >> n) & 1;
}

static void spec_walk(uint8_t *m, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint32_t va,
		      unsigned int acc, struct ptwalk_result *r)
{
	uint32_t e[2], at[2], pa;
	bool write = bit(acc, 1), user = bit(acc, 2), u = true, w = true, ok;
	int n;

	memset(r, 0, sizeof(*r));
	if (!bit(cr0, 31)) {
		r->status = PTWALK_OK;
		r->gpa = va;
		r->user = r->writable = true;
		return;
	}
	if (bit(cr4, 5)) {
		r->status = PTWALK_UNSUPPORTED;
		return;
	}
	for (n = 0; n < 2; n++) {
		uint32_t base = n == 0 ? cr3 : e[0];
		uint32_t index = n == 0 ? va >> 22 : (va >> 12) & 1023;

		at[n] = (base >> 12 << 12) + index * 4;
		if (!spec_read(m, at[n], &e[n])) {
			r->status = PTWALK_BAD_TABLE;
			r->bad_gpa = at[n];
			return;
		}
		if (!bit(e[n], 0)) {
			r->status = PTWALK_FAULT;
			r->error_code = (write ? 2 : 0) | (user ? 4 : 0);
			r->cr2 = va;
			return;
		}
		if (n == 0 && bit(cr4, 4) && bit(e[0], 7)) {
			if ((e[0] >> 13) & 0x1ff) {
				r->status = PTWALK_FAULT;
				r->error_code = 1 | 8 | (write ? 2 : 0) | (user ? 4 : 0);
				r->cr2 = va;
				return;
			}
			n++;
			break;
		}
	}
	/* n is now the number of levels used. */
	pa = n == 1 ? (e[0] >> 22 << 22) | (va & 0x3fffff) : (e[1] >> 12 << 12) | (va & 0xfff);
	for (int i = 0; i < n; i++) {
		u = u && bit(e[i], 2);
		w = w && bit(e[i], 1);
	}
	if (user)
		ok = u && (w || !write);
	else
		ok = w || !write || !bit(cr0, 16);
	if (!ok) {
		r->status = PTWALK_FAULT;
		r->error_code = 1 | (write ? 2 : 0) | (user ? 4 : 0);
		r->cr2 = va;
		return;
	}
	if (acc & 0x100) {
		for (int i = 0; i < n; i++) {
			uint32_t cur;

			spec_read(m, at[i], &cur);
			cur |= 0x20;
			if (i == n - 1 && write)
				cur |= 0x40;
			spec_write(m, at[i], cur);
		}
	}
	r->status = PTWALK_OK;
	r->gpa = pa;
	r->large = n == 1;
	r->user = u;
	r->writable = w;
	r->global = bit(cr4, 7) && bit(e[n - 1], 8);
	spec_read(m, at[0], &r->pde);
	spec_read(m, at[n - 1], &r->pte);
}

/* An entry that is often present and usually points into (or just past) memory. */
static uint32_t random_entry(void)
{
	uint32_t flags = rnd() & 0xfff, frame;

	if (chance(75))
		flags |= PTE_P;
	if (chance(60))
		frame = (rnd() % (SPEC_PAGES + 2)) << PAGE_SHIFT;
	else if (chance(50))
		frame = (rnd() & PDE_LARGE_FRAME) | (rnd() & 0x1000);
	else
		frame = rnd() & PTE_FRAME;
	return frame | flags;
}

static uint32_t random_access(void)
{
	uint32_t acc = 0;

	if (chance(50))
		acc |= PF_W;
	if (chance(50))
		acc |= PF_U;
	if (chance(20))
		acc |= PF_I;
	if (chance(50))
		acc |= PTWALK_SET_AD;
	if (chance(10))
		acc |= PF_P | PF_RSVD; /* meaningless in an access: must be ignored */
	return acc;
}

/* An address whose PDE and PTE index are equal: a recursive entry maps it to the directory. */
static uint32_t random_self_map_va(void)
{
	uint32_t index = rnd() % PT_ENTRIES;

	return index << 22 | index << 12 | (rnd() & (PAGE_SIZE - 1));
}

static void compare(const struct ptwalk_result *got, const struct ptwalk_result *want,
		    const char *what)
{
	cr_assert_eq(got->status, want->status, "%s: status %d, spec says %d", what, got->status,
		     want->status);
	switch (want->status) {
	case PTWALK_OK:
		cr_assert_eq(got->gpa, want->gpa, "%s: gpa", what);
		cr_assert_eq(got->large, want->large, "%s: large", what);
		cr_assert_eq(got->user, want->user, "%s: user", what);
		cr_assert_eq(got->writable, want->writable, "%s: writable", what);
		cr_assert_eq(got->global, want->global, "%s: global", what);
		cr_assert_eq(got->pde, want->pde, "%s: pde 0x%08x, spec 0x%08x", what, got->pde,
			     want->pde);
		cr_assert_eq(got->pte, want->pte, "%s: pte 0x%08x, spec 0x%08x", what, got->pte,
			     want->pte);
		break;
	case PTWALK_FAULT:
		cr_assert_eq(got->error_code, want->error_code, "%s: error 0x%x, spec 0x%x", what,
			     got->error_code, want->error_code);
		cr_assert_eq(got->cr2, want->cr2, "%s: cr2", what);
		break;
	case PTWALK_BAD_TABLE:
		cr_assert_eq(got->bad_gpa, want->bad_gpa, "%s: bad_gpa", what);
		break;
	case PTWALK_UNSUPPORTED:
		break;
	}
}

/* One walk's inputs: registers, address and access, all random. */
struct walk_in {
	uint32_t cr0, cr3, cr4, va, access;
};

static struct walk_in random_walk(void)
{
	struct walk_in in = {.cr0 = CR0_PE, .access = random_access()};

	if (chance(95))
		in.cr0 |= CR0_PG;
	if (chance(50))
		in.cr0 |= CR0_WP;
	if (chance(50))
		in.cr4 |= CR4_PSE;
	if (chance(50))
		in.cr4 |= CR4_PGE;
	if (chance(2))
		in.cr4 |= CR4_PAE;
	in.cr3 = chance(95) ? (rnd() % (SPEC_PAGES + 1)) << PAGE_SHIFT : rnd();
	in.va = chance(90) ? rnd() : random_self_map_va();
	return in;
}

static void random_tables(uint8_t *m)
{
	for (uint32_t off = 0; off < SPEC_MEM; off += 4) {
		uint32_t v = random_entry();

		memcpy(m + off, &v, 4);
	}
}

Test(ptwalk, agrees_with_the_spec_on_random_tables)
{
	static uint8_t a[SPEC_MEM], b[SPEC_MEM];
	unsigned int counts[4] = {0}, large = 0, rsvd = 0, alias = 0;
	struct ptwalk_flat fa;
	struct ptwalk_result want;

	ptwalk_flat_init(&fa, a, sizeof(a));
	for (int table = 0; table < 1000; table++) {
		random_tables(a);
		memcpy(b, a, sizeof(a));
		for (int i = 0; i < 40; i++) {
			struct walk_in in = random_walk();
			char what[128];

			snprintf(what, sizeof(what),
				 "table %d walk %d: cr0 %#x cr3 %#x cr4 %#x va %#x access %#x",
				 table, i, in.cr0, in.cr3, in.cr4, in.va, in.access);
			ptwalk(&fa.mem, in.cr0, in.cr3, in.cr4, in.va, in.access, &res);
			spec_walk(b, in.cr0, in.cr3, in.cr4, in.va, in.access, &want);
			compare(&res, &want, what);
			cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "%s: guest memory differs", what);
			counts[res.status]++;
			large += res.status == PTWALK_OK && res.large;
			rsvd += res.status == PTWALK_FAULT && (res.error_code & PF_RSVD);
			alias +=
			    res.status == PTWALK_OK && !res.large && res.pde_gpa == res.pte_gpa;
		}
	}
	/* The random tables must exercise every outcome, or the test proves little. */
	for (int s = 0; s < 4; s++)
		cr_assert_gt(counts[s], 100, "only %u walks ended with status %d", counts[s], s);
	cr_assert_gt(large, 100, "only %u walks through 4 MiB pages", large);
	cr_assert_gt(rsvd, 100, "only %u reserved-bit faults", rsvd);
	cr_assert_gt(alias, 10, "only %u walks where the PDE was its own PTE", alias);
}
