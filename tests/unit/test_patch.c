/*
 * test_patch.c - the scanner that makes pushf, popf and iret trap: it
 * patches exactly those instructions, only in executable segments, never
 * bytes that merely look like them inside other instructions, and skips
 * the Multiboot header; patch_find and patch_in_frame find what it did.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "multiboot.h"
#include "patch.h"
#include "x86.h"

#define MEM_SIZE (16 * PAGE_SIZE)
#define CODE_PA	 0x1000u
#define DATA_PA	 0x3000u

static uint8_t mem[MEM_SIZE];
static struct patch_set ps;
static struct loader_image img;
static struct error err;

/* A Multiboot header whose checksum bytes are 0x9c-free, then code. */
static const uint8_t code[] = {
    0x02, 0xb0, 0xad, 0x1b,	  /* MULTIBOOT_HEADER_MAGIC */
    0x00, 0x00, 0x00, 0x00,	  /* flags */
    0xfe, 0x4f, 0x52, 0xe4,	  /* checksum */
    0x9c,			  /* 0x100c: pushfd */
    0xfa,			  /* 0x100d: cli */
    0x9d,			  /* 0x100e: popfd */
    0xb8, 0x9c, 0x9d, 0xcf, 0x00, /* 0x100f: mov eax, 0xcf9d9c: not an instruction of ours */
    0x66, 0x9c,			  /* 0x1014: pushfw (a prefix, then the opcode) */
    0xcf,			  /* 0x1016: iretd */
    0xc3,			  /* 0x1017: ret */
};

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	memcpy(mem + CODE_PA, code, sizeof(code));
	memset(mem + DATA_PA, 0x9c, 64); /* data: never patched */
	img = (struct loader_image){.nsegments = 2};
	img.seg[0] = (struct loader_segment){.paddr = CODE_PA,
					     .filesz = sizeof(code),
					     .memsz = sizeof(code),
					     .flags = LOADER_SEG_X | LOADER_SEG_R};
	img.seg[1] = (struct loader_segment){
	    .paddr = DATA_PA, .filesz = 64, .memsz = 64, .flags = LOADER_SEG_R | LOADER_SEG_W};
	cr_assert_eq(patch_scan(&ps, mem, MEM_SIZE, &img, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	patch_free(&ps);
}

TestSuite(patch, .init = setup, .fini = teardown);

static void assert_patched(uint32_t gpa, uint8_t len, uint8_t orig, const char *name)
{
	const struct patch *p = patch_find(&ps, gpa);

	cr_assert(p, "no patch at 0x%x", gpa);
	cr_assert_eq(p->len, len, "length at 0x%x", gpa);
	cr_assert_eq(p->orig, orig, "original byte at 0x%x", gpa);
	cr_assert_str_eq(p->name, name);
	cr_assert_eq(mem[gpa + len - 1], PATCH_OPCODE, "opcode at 0x%x not replaced", gpa);
}

Test(patch, patches_pushf_popf_iret_and_nothing_else)
{
	cr_assert_eq(ps.n, 4);
	assert_patched(0x100c, 1, 0x9c, "pushf");
	assert_patched(0x100e, 1, 0x9d, "popf");
	assert_patched(0x1014, 2, 0x9c, "pushf");
	assert_patched(0x1016, 1, 0xcf, "iret");
	cr_assert_eq(mem[0x100d], 0xfa, "cli is left alone (it traps by itself)");
	cr_assert_eq(mem[0x1014], 0x66, "the prefix is left alone");
	cr_assert_eq(memcmp(mem + 0x100f, "\xb8\x9c\x9d\xcf\x00", 5), 0,
		     "bytes inside another instruction were changed");
	cr_assert_eq(memcmp(mem + CODE_PA, code, 12), 0, "the Multiboot header was changed");
}

Test(patch, leaves_data_segments_alone)
{
	for (int i = 0; i < 64; i++)
		cr_assert_eq(mem[DATA_PA + i], 0x9c);
	cr_assert_not(patch_in_frame(&ps, DATA_PA >> PAGE_SHIFT));
}

Test(patch, finds_only_instruction_starts)
{
	cr_assert_null(patch_find(&ps, 0x100d));
	cr_assert_null(patch_find(&ps, 0x1015), "the opcode byte of a prefixed pushf");
	cr_assert_null(patch_find(&ps, 0x1010), "a 0x9c inside the mov");
	cr_assert_null(patch_find(&ps, 0));
}

Test(patch, knows_the_frames_that_hold_patches)
{
	cr_assert(patch_in_frame(&ps, CODE_PA >> PAGE_SHIFT));
	cr_assert_not(patch_in_frame(&ps, 0));
	cr_assert_not(patch_in_frame(&ps, (CODE_PA >> PAGE_SHIFT) + 1));
}

/* An instruction that straddles two pages puts both frames on the list. */
Test(patch, an_instruction_across_a_page_boundary_marks_both_frames)
{
	struct patch_set two;

	memset(mem, 0x90, sizeof(mem)); /* nop */
	mem[0x1fff] = 0x66;		/* pushfw: 0x1fff-0x2000 */
	mem[0x2000] = 0x9c;
	img.nsegments = 1;
	img.seg[0] = (struct loader_segment){
	    .paddr = 0x1000, .filesz = 0x2000, .memsz = 0x2000, .flags = LOADER_SEG_X};
	cr_assert_eq(patch_scan(&two, mem, MEM_SIZE, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(two.n, 1);
	cr_assert_eq(two.v[0].gpa, 0x1fff);
	cr_assert(patch_in_frame(&two, 1));
	cr_assert(patch_in_frame(&two, 2));
	cr_assert_eq(mem[0x2000], PATCH_OPCODE);
	patch_free(&two);
}

Test(patch, no_code_no_patches)
{
	struct patch_set none;

	img.nsegments = 0;
	cr_assert_eq(patch_scan(&none, mem, MEM_SIZE, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(none.n, 0);
	cr_assert_null(patch_find(&none, 0x100c));
	cr_assert_not(patch_in_frame(&none, 1));
	patch_free(&none);
}
