/*
 * fuzz_ptwalk.c - libFuzzer harness: the page walker takes any page
 * tables.
 *
 * The guest writes its page tables; the VMM walks them on every hidden
 * fault.  The input is CR0, CR3, CR4, the address, the access, and the
 * rest as guest-physical memory from 0.  The walk must not crash or read
 * outside that memory, must say PTWALK_BAD_TABLE rather than follow an
 * entry out of it, and must only ever set accessed and dirty bits.
 */
#include <stdlib.h>
#include <string.h>

#include "ptwalk.h"

#define FUZZ_MEM 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[FUZZ_MEM], before[FUZZ_MEM];
	struct ptwalk_flat flat;
	struct ptwalk_result w;
	uint32_t in[5]; /* cr0, cr3, cr4, va, access */
	size_t n;

	if (size < sizeof(in))
		return 0;
	memcpy(in, data, sizeof(in));
	n = size - sizeof(in) < FUZZ_MEM ? size - sizeof(in) : FUZZ_MEM;
	n &= ~(size_t)3;
	memcpy(mem, data + sizeof(in), n);
	memcpy(before, mem, n);
	ptwalk_flat_init(&flat, mem, n);
	ptwalk(&flat.mem, in[0], in[1], in[2], in[3], in[4], &w);
	if (w.status > PTWALK_UNSUPPORTED)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((mem[i] & ~before[i]) & ~(i % 4 == 0 ? 0x60u : 0u))
			abort(); /* a bit set that is not A or D */
		else if (before[i] & ~mem[i])
			abort(); /* a bit cleared */
	return 0;
}
