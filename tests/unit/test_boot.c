/*
 * test_boot.c - the Multiboot information a kernel finds at EBX.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "layout.h"
#include "multiboot.h"

#define MEM (32u << 20)

static uint8_t *mem;
static struct error err;

static void setup(void)
{
	mem = calloc(1, KERNEL_MIN_PA); /* only low memory is written */
}

static void teardown(void)
{
	free(mem);
}

static struct multiboot_info info(void)
{
	struct multiboot_info mi;

	memcpy(&mi, mem + BOOT_INFO_PA, sizeof(mi));
	return mi;
}

TestSuite(boot, .init = setup, .fini = teardown);

Test(boot, memory_fields)
{
	struct multiboot_info mi;

	cr_assert_eq(boot_write_info(mem, MEM, "guest.img", NULL, &err), 0);
	mi = info();
	cr_assert(mi.flags & MULTIBOOT_INFO_MEMORY);
	cr_assert_eq(mi.mem_lower, 640);
	cr_assert_eq(mi.mem_upper, (MEM >> 10) - 1024);
}

Test(boot, memory_map_covers_ram)
{
	struct multiboot_info mi;
	uint64_t available = 0;

	boot_write_info(mem, MEM, "guest.img", NULL, &err);
	mi = info();
	cr_assert(mi.flags & MULTIBOOT_INFO_MEM_MAP);
	for (uint32_t off = 0; off < mi.mmap_length;) {
		struct multiboot_mmap_entry e;

		memcpy(&e, mem + mi.mmap_addr + off, sizeof(e));
		if (e.type == MULTIBOOT_MEMORY_AVAILABLE)
			available += e.len;
		off += e.size + sizeof(e.size);
	}
	cr_assert_eq(available, MEM - KERNEL_MIN_PA + 640 * 1024);
}

Test(boot, command_line_is_image_then_text)
{
	struct multiboot_info mi;

	boot_write_info(mem, MEM, "build/guest.img", "run=hello", &err);
	mi = info();
	cr_assert(mi.flags & MULTIBOOT_INFO_CMDLINE);
	cr_assert_str_eq((char *)mem + mi.cmdline, "build/guest.img run=hello");
	cr_assert_str_eq((char *)mem + mi.boot_loader_name, "kvmshadow");
}

Test(boot, command_line_too_long)
{
	char *text = malloc(4096);

	memset(text, 'a', 4095);
	text[4095] = 0;
	cr_assert_eq(boot_write_info(mem, MEM, "g", text, &err), -1);
	cr_assert(strstr(err.msg, "command line"), "%s", err.msg);
	free(text);
}

Test(boot, flat_gdt_in_low_memory)
{
	uint64_t gdt[3];

	boot_write_info(mem, MEM, "g", NULL, &err);
	memcpy(gdt, mem + BOOT_GDT_PA, sizeof(gdt));
	cr_assert_eq(gdt[0], 0);
	cr_assert_eq(gdt[1], 0x00cf9a000000ffffull);
	cr_assert_eq(gdt[2], 0x00cf92000000ffffull);
}
