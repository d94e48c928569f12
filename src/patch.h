/*
 * patch.h - make the guest kernel's silent instructions trap.
 *
 * Three one-byte instructions behave differently in ring 1 without
 * trapping: pushf shows the real interrupt flag, popf silently keeps it,
 * and iret cannot be caught on its way back to ring 1.  Before the guest
 * runs, we find them in its kernel code with capstone and overwrite each
 * opcode byte with hlt (0xf4), which always traps outside ring 0.  The
 * trap handler asks patch_find whether a hlt is really one of ours, and
 * emulates the original instruction.  Documentation/emulate.md has the
 * details and the limits.
 */
#ifndef KVMSHADOW_PATCH_H
#define KVMSHADOW_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "loader.h"

#define PATCH_OPCODE 0xf4 /* hlt */

/* At most this many sites (a kernel's pushf, popf and iret). */
#define PATCH_MAX 65536

struct patch {
	uint32_t gpa;	 /* guest-physical address of the instruction's first byte */
	uint8_t len;	 /* its length, prefixes included */
	uint8_t orig;	 /* the opcode byte we replaced (its last byte) */
	char name[8];	 /* "pushf", "popf", "iret" */
};

struct patch_set {
	struct patch *v; /* sorted by gpa */
	size_t n;
	uint32_t *pfns; /* the guest frames holding patches, sorted, unique */
	size_t npfns;
};

/*
 * Scan the executable segments of img, already copied into flat guest
 * memory 'mem' of mem_bytes, and patch them in place.
 */
int patch_scan(struct patch_set *ps, uint8_t *mem, uint64_t mem_bytes,
	       const struct loader_image *img, struct error *err);
void patch_free(struct patch_set *ps);

const struct patch *patch_find(const struct patch_set *ps, uint32_t gpa);
bool patch_in_frame(const struct patch_set *ps, uint32_t pfn);
bool patch_overlaps(const struct patch_set *ps, uint32_t gpa, unsigned len);

#endif
