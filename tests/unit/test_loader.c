/*
 * test_loader.c - the image loader refuses every malformed image with a
 * message naming the problem, and loads a good one exactly.
 *
 * Each test starts from a small, valid Multiboot ELF built in memory by
 * image_build() and breaks one thing.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <string.h>

#include "layout.h"
#include "loader.h"
#include "multiboot.h"

#define MEM	  (16u << 20)
#define CODE_OFF  0x1000u
#define CODE_SIZE 0x100u

struct image {
	uint8_t buf[0x3000];
	size_t size;
	Elf32_Ehdr *eh;
	Elf32_Phdr *ph; /* two program headers: text, bss */
	uint32_t *mb;	/* the Multiboot header */
};

static struct image img;
static struct loader_image out;
static struct error err;

static void image_build(void)
{
	memset(&img, 0, sizeof(img));
	img.size = CODE_OFF + CODE_SIZE;
	img.eh = (Elf32_Ehdr *)img.buf;
	img.ph = (Elf32_Phdr *)(img.buf + sizeof(Elf32_Ehdr));
	memcpy(img.eh->e_ident, ELFMAG, SELFMAG);
	img.eh->e_ident[EI_CLASS] = ELFCLASS32;
	img.eh->e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh->e_ident[EI_VERSION] = EV_CURRENT;
	img.eh->e_type = ET_EXEC;
	img.eh->e_machine = EM_386;
	img.eh->e_version = EV_CURRENT;
	img.eh->e_entry = 0x100000;
	img.eh->e_phoff = sizeof(Elf32_Ehdr);
	img.eh->e_ehsize = sizeof(Elf32_Ehdr);
	img.eh->e_phentsize = sizeof(Elf32_Phdr);
	img.eh->e_phnum = 2;
	img.ph[0] = (Elf32_Phdr){.p_type = PT_LOAD,
				 .p_offset = CODE_OFF,
				 .p_vaddr = 0xc0100000,
				 .p_paddr = 0x100000,
				 .p_filesz = CODE_SIZE,
				 .p_memsz = CODE_SIZE,
				 .p_flags = PF_R | PF_X,
				 .p_align = 0x1000};
	img.ph[1] = (Elf32_Phdr){.p_type = PT_LOAD,
				 .p_offset = CODE_OFF + CODE_SIZE,
				 .p_vaddr = 0xc0101000,
				 .p_paddr = 0x101000,
				 .p_filesz = 0,
				 .p_memsz = 0x2000,
				 .p_flags = PF_R | PF_W,
				 .p_align = 0x1000};
	img.mb = (uint32_t *)(img.buf + CODE_OFF);
	img.mb[0] = MULTIBOOT_HEADER_MAGIC;
	img.mb[1] = MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO;
	img.mb[2] = -(img.mb[0] + img.mb[1]);
	for (unsigned i = 16; i < CODE_SIZE; i++)
		img.buf[CODE_OFF + i] = (uint8_t)i;
}

static int parse(void)
{
	return loader_parse("k.img", img.buf, img.size, MEM, &out, &err);
}

static void expect_error(const char *fragment)
{
	cr_assert_eq(parse(), -1, "image was accepted; expected an error containing '%s'",
		     fragment);
	cr_assert(strstr(err.msg, fragment), "error '%s' lacks '%s'", err.msg, fragment);
	cr_assert(strncmp(err.msg, "k.img", 5) == 0, "error '%s' does not name the image", err.msg);
	cr_assert(!strchr(err.msg, '\n'), "error is more than one line: '%s'", err.msg);
}

static void fix_checksum(void)
{
	img.mb[2] = -(img.mb[0] + img.mb[1]);
}

TestSuite(loader, .init = image_build);

Test(loader, accepts_a_good_image)
{
	cr_assert_eq(parse(), 0, "%s", err.msg);
	cr_assert_eq(out.entry, 0x100000);
	cr_assert_eq(out.nsegments, 2);
	cr_assert_eq(out.seg[1].memsz, 0x2000);
}

Test(loader, copies_segments_and_zeroes_bss)
{
	static uint8_t mem[0x104000];

	memset(mem, 0xaa, sizeof(mem));
	cr_assert_eq(parse(), 0, "%s", err.msg);
	loader_copy(&out, mem);
	cr_assert_eq(memcmp(mem + 0x100000, img.buf + CODE_OFF, CODE_SIZE), 0);
	for (unsigned i = 0; i < 0x2000; i++)
		cr_assert_eq(mem[0x101000 + i], 0, "bss byte %u not zeroed", i);
	cr_assert_eq(mem[0x100000 - 1], 0xaa, "byte below the image was touched");
	cr_assert_eq(mem[0x103000], 0xaa, "byte above the bss was touched");
}

Test(loader, refuses_empty_file)
{
	img.size = 0;
	expect_error("not an ELF file");
}

Test(loader, refuses_non_elf)
{
	memcpy(img.buf, "#!/bin/sh\n", 10);
	expect_error("not an ELF file");
}

Test(loader, refuses_elf64)
{
	img.buf[EI_CLASS] = ELFCLASS64;
	expect_error("64-bit");
}

Test(loader, refuses_big_endian)
{
	img.buf[EI_DATA] = ELFDATA2MSB;
	expect_error("little-endian");
}

Test(loader, refuses_truncated_header)
{
	img.size = 20;
	expect_error("truncated ELF header");
}

Test(loader, refuses_wrong_machine)
{
	img.eh->e_machine = EM_X86_64;
	expect_error("not i386");
}

Test(loader, refuses_non_executable)
{
	img.eh->e_type = ET_DYN;
	expect_error("not an executable");
}

Test(loader, refuses_program_headers_past_end)
{
	img.eh->e_phoff = (uint32_t)img.size - 8;
	expect_error("program headers");
}

Test(loader, refuses_huge_phnum)
{
	img.eh->e_phnum = 0xffff;
	expect_error("run past the end");
}

Test(loader, refuses_no_program_headers)
{
	img.eh->e_phnum = 0;
	expect_error("no program headers");
}

Test(loader, refuses_missing_multiboot_header)
{
	img.mb[0] = 0;
	expect_error("no Multiboot header");
}

Test(loader, refuses_multiboot_header_beyond_8k)
{
	uint8_t big[0x3000];

	/* Move the header to 8 KiB: too far for a boot loader to look. */
	memcpy(big, img.buf, sizeof(big));
	memset(big + CODE_OFF, 0, 12);
	memcpy(big + 0x2000, img.mb, 12);
	cr_assert_eq(loader_parse("k.img", big, sizeof(big), MEM, &out, &err), -1);
	cr_assert(strstr(err.msg, "no Multiboot header"), "%s", err.msg);
}

Test(loader, refuses_bad_checksum)
{
	img.mb[2]++;
	expect_error("checksum");
}

Test(loader, refuses_aout_kludge)
{
	img.mb[1] |= MULTIBOOT_AOUT_KLUDGE;
	fix_checksum();
	expect_error("a.out kludge");
}

Test(loader, refuses_video_mode_requirement)
{
	img.mb[1] |= MULTIBOOT_VIDEO_MODE;
	fix_checksum();
	expect_error("video mode");
}

Test(loader, refuses_unknown_required_flag)
{
	img.mb[1] |= 0x0100;
	fix_checksum();
	expect_error("unknown features");
}

Test(loader, accepts_unknown_optional_flag)
{
	img.mb[1] |= 0x00200000; /* bits 16-31 are hints */
	fix_checksum();
	cr_assert_eq(parse(), 0, "%s", err.msg);
}

Test(loader, refuses_segment_past_end_of_file)
{
	img.ph[0].p_filesz = img.ph[0].p_memsz = 0x10000;
	expect_error("runs past the end of the file");
}

Test(loader, refuses_segment_offset_overflow)
{
	img.ph[0].p_offset = 0xfffffff0;
	expect_error("runs past the end of the file");
}

Test(loader, refuses_filesz_above_memsz)
{
	img.ph[0].p_memsz = 0x10;
	expect_error("more file bytes");
}

Test(loader, refuses_segment_in_reserved_low_memory)
{
	img.ph[0].p_paddr = 0x9000;
	expect_error("reserved low memory");
}

Test(loader, refuses_segment_outside_guest_memory)
{
	img.ph[1].p_paddr = MEM - 0x1000;
	expect_error("outside guest memory");
}

Test(loader, refuses_segment_wrapping_around_4g)
{
	img.ph[1].p_paddr = 0xfffff000;
	expect_error("outside guest memory");
}

Test(loader, refuses_segment_in_vmm_virtual_area)
{
	img.ph[1].p_vaddr = VMM_RESERVED_VA - 0x1000;
	expect_error("VMM's reserved virtual area");
}

Test(loader, refuses_image_larger_than_memory)
{
	img.ph[1].p_memsz = MEM;
	expect_error("image needs");
}

Test(loader, refuses_overlapping_segments)
{
	img.ph[1].p_paddr = 0x100080;
	expect_error("overlap");
}

Test(loader, refuses_no_loadable_segment)
{
	img.ph[0].p_type = PT_NOTE;
	img.ph[1].p_type = PT_NOTE;
	expect_error("no loadable");
}

Test(loader, refuses_dynamic_executable)
{
	img.ph[1].p_type = PT_INTERP;
	expect_error("dynamically linked");
}

Test(loader, refuses_entry_outside_segments)
{
	img.eh->e_entry = 0xc0100000; /* a virtual address: the classic mistake */
	expect_error("entry point 0xc0100000");
}

Test(loader, refuses_tiny_memory)
{
	cr_assert_eq(loader_parse("k.img", img.buf, img.size, 1u << 20, &out, &err), -1);
	cr_assert(strstr(err.msg, "larger than 1 MiB"), "%s", err.msg);
}

Test(loader, read_file_names_missing_file)
{
	uint8_t *data;
	size_t size;

	cr_assert_eq(loader_read_file("/nonexistent/guest.img", &data, &size, &err), -1);
	cr_assert(strstr(err.msg, "/nonexistent/guest.img"), "%s", err.msg);
	cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
}

Test(loader, read_file_refuses_directory)
{
	uint8_t *data;
	size_t size;

	cr_assert_eq(loader_read_file("/", &data, &size, &err), -1);
	cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
}
