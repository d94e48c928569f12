/*
 * fuzz_loader.c - libFuzzer harness: the image loader takes any bytes.
 *
 * A guest image is the first thing a guest controls.  loader_parse must
 * accept a valid Multiboot ELF and refuse anything else with an error,
 * never read outside the file, and never describe a segment outside the
 * guest's memory; loader_copy then writes only inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define FUZZ_MEM (8u << 20) /* kernels load at 1 MiB */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct loader_image img;
	struct error err;

	if (!mem && !(mem = malloc(FUZZ_MEM)))
		abort();
	if (loader_parse("fuzz", data, size, FUZZ_MEM, &img, &err))
		return 0;
	for (int i = 0; i < img.nsegments; i++)
		if ((uint64_t)img.seg[i].paddr + img.seg[i].memsz > FUZZ_MEM ||
		    img.seg[i].filesz > img.seg[i].memsz)
			abort(); /* accepted a segment it cannot load */
	loader_copy(&img, mem);
	return 0;
}
