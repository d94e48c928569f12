/*
 * loader.h - check and load a Multiboot ELF kernel image.
 */
#ifndef KVMSHADOW_LOADER_H
#define KVMSHADOW_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define LOADER_MAX_SEGMENTS 16
#define LOADER_MAX_FILE	    (1u << 30) /* refuse to read more than 1 GiB */

/* p_flags bits (ELF's PF_X, PF_W, PF_R; x86.h's PF_W means something else). */
#define LOADER_SEG_X 0x1
#define LOADER_SEG_W 0x2
#define LOADER_SEG_R 0x4

struct loader_segment {
	uint32_t paddr;	 /* guest-physical load address */
	uint32_t vaddr;	 /* where the kernel will map it */
	uint32_t offset; /* in the file */
	uint32_t filesz; /* bytes copied from the file */
	uint32_t memsz;	 /* filesz plus zero fill */
	uint32_t flags;	 /* the program header's p_flags: LOADER_SEG_X ... */
};

struct loader_image {
	const uint8_t *data; /* the whole file */
	size_t size;
	uint32_t entry;	   /* guest-physical entry point */
	uint32_t mb_flags; /* the Multiboot header's flags */
	int nsegments;
	struct loader_segment seg[LOADER_MAX_SEGMENTS];
};

/* Read a whole file into a malloc'ed buffer. */
int loader_read_file(const char *path, uint8_t **data, size_t *size, struct error *err);

/*
 * Check that data[0..size) is a 32-bit x86 Multiboot ELF whose segments
 * all fit in mem_bytes of guest memory outside the VMM's reserved areas.
 * Fills img on success.  'name' prefixes error messages.
 */
int loader_parse(const char *name, const uint8_t *data, size_t size, uint64_t mem_bytes,
		 struct loader_image *img, struct error *err);

/* Copy the checked segments into guest memory and zero their bss. */
void loader_copy(const struct loader_image *img, uint8_t *guest_mem);

#endif
