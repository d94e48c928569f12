/*
 * canary.c - the pattern (see canary.h).
 */
#include <string.h>

#include "canary.h"
#include "x86.h"

static void canary_unit(uint32_t unit[2], uint32_t mfn)
{
	unit[0] = CANARY_WORD;
	unit[1] = mfn;
}

void canary_fill(uint8_t *mem, uint32_t mfn)
{
	uint32_t unit[2];

	canary_unit(unit, mfn);
	for (uint32_t off = 0; off < PAGE_SIZE; off += sizeof(unit))
		memcpy(mem + off, unit, sizeof(unit));
}

bool canary_intact(const uint8_t *mem, uint32_t mfn, uint32_t *off)
{
	uint32_t unit[2];

	canary_unit(unit, mfn);
	for (uint32_t o = 0; o < PAGE_SIZE; o += sizeof(unit)) {
		if (memcmp(mem + o, unit, sizeof(unit)) == 0)
			continue;
		for (*off = o; mem[*off] == ((const uint8_t *)unit)[*off - o]; ++*off)
			;
		return false;
	}
	return true;
}
