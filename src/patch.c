/*
 * patch.c - find and patch pushf, popf and iret in the guest kernel's code
 * (see patch.h).
 *
 * A linear sweep: decode from the start of each executable segment to its
 * end, one instruction after another.  That is sound only for code that
 * holds no data, which is why the guest's linker script gives code pages
 * of their own (guest/kernel.ld); the one piece of data a Multiboot kernel
 * must put in its code, the Multiboot header, is recognised and skipped.
 * Bytes capstone cannot decode are stepped over one at a time.
 */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "multiboot.h"
#include "patch.h"
#include "x86.h"

struct patch_scan_ctx {
	struct patch_set *ps;
	size_t cap;
	csh cs;
	cs_insn *insn;
};

static const char *patch_kind(unsigned id)
{
	switch (id) {
	case X86_INS_PUSHF:
	case X86_INS_PUSHFD:
		return "pushf";
	case X86_INS_POPF:
	case X86_INS_POPFD:
		return "popf";
	case X86_INS_IRET:
	case X86_INS_IRETD:
		return "iret";
	default:
		return NULL;
	}
}

static int patch_add(struct patch_scan_ctx *c, uint32_t gpa, uint8_t *code, const char *name,
		     struct error *err)
{
	struct patch_set *ps = c->ps;
	size_t len = c->insn->size;

	/* The image is the guest's: without a bound, a kernel of nothing but
	 * pushf bytes would cost us 24 bytes of table per byte of image. */
	if (ps->n == PATCH_MAX)
		return error_set(err,
				 "the guest kernel has more than %d pushf, popf and iret "
				 "instructions; kvmshadow patches at most that many",
				 PATCH_MAX);
	if (ps->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct patch *v = realloc(ps->v, cap * sizeof(*v));

		if (!v)
			return error_set(err, "out of memory for the patch table");
		ps->v = v;
		c->cap = cap;
	}
	ps->v[ps->n] = (struct patch){.gpa = gpa, .len = (uint8_t)len, .orig = code[len - 1]};
	snprintf(ps->v[ps->n].name, sizeof(ps->v[ps->n].name), "%s", name);
	ps->n++;
	code[len - 1] = PATCH_OPCODE;
	return 0;
}

/* The Multiboot header, if it starts this segment's first 8 KiB: its size. */
static uint32_t patch_header_size(const uint8_t *code, uint32_t size)
{
	for (uint32_t off = 0; off + 12 <= size && off < MULTIBOOT_SEARCH; off += 4) {
		uint32_t magic, flags;

		memcpy(&magic, code + off, 4);
		memcpy(&flags, code + off + 4, 4);
		if (magic == MULTIBOOT_HEADER_MAGIC)
			return off + ((flags & MULTIBOOT_AOUT_KLUDGE) ? 32 : 12);
	}
	return 0;
}

static int patch_sweep(struct patch_scan_ctx *c, uint8_t *code, uint32_t gpa, uint32_t size,
		       struct error *err)
{
	uint32_t off = patch_header_size(code, size);

	while (off < size) {
		const uint8_t *p = code + off;
		size_t left = size - off;
		uint64_t addr = gpa + off;
		const char *name;

		if (!cs_disasm_iter(c->cs, &p, &left, &addr, c->insn)) {
			off++;
			continue;
		}
		name = patch_kind(c->insn->id);
		if (name && patch_add(c, gpa + off, code + off, name, err))
			return -1;
		off += c->insn->size;
	}
	return 0;
}

static int patch_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int patch_cmp(const void *a, const void *b)
{
	return patch_cmp_u32(&((const struct patch *)a)->gpa, &((const struct patch *)b)->gpa);
}

/* Sort the patches and list the frames that hold them (an instruction may
 * straddle two). */
static int patch_index(struct patch_set *ps, struct error *err)
{
	if (ps->n)
		qsort(ps->v, ps->n, sizeof(*ps->v), patch_cmp);
	ps->pfns = calloc(2 * ps->n + 1, sizeof(*ps->pfns));
	if (!ps->pfns)
		return error_set(err, "out of memory for the patch table");
	for (size_t i = 0; i < ps->n; i++) {
		ps->pfns[ps->npfns++] = ps->v[i].gpa >> PAGE_SHIFT;
		ps->pfns[ps->npfns++] = (ps->v[i].gpa + ps->v[i].len - 1) >> PAGE_SHIFT;
	}
	qsort(ps->pfns, ps->npfns, sizeof(*ps->pfns), patch_cmp_u32);
	size_t n = 0;
	for (size_t i = 0; i < ps->npfns; i++)
		if (!n || ps->pfns[n - 1] != ps->pfns[i])
			ps->pfns[n++] = ps->pfns[i];
	ps->npfns = n;
	return 0;
}

int patch_scan(struct patch_set *ps, uint8_t *mem, uint64_t mem_bytes,
	       const struct loader_image *img, struct error *err)
{
	struct patch_scan_ctx c = {.ps = ps};
	int ret = 0;

	*ps = (struct patch_set){0};
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &c.cs) != CS_ERR_OK)
		return error_set(err, "capstone cannot decode 32-bit x86");
	c.insn = cs_malloc(c.cs);
	for (int i = 0; i < img->nsegments && !ret; i++) {
		const struct loader_segment *s = &img->seg[i];

		if (!(s->flags & LOADER_SEG_X) || (uint64_t)s->paddr + s->filesz > mem_bytes)
			continue;
		ret = patch_sweep(&c, mem + s->paddr, s->paddr, s->filesz, err);
	}
	cs_free(c.insn, 1);
	cs_close(&c.cs);
	if (!ret)
		ret = patch_index(ps, err);
	if (ret)
		patch_free(ps);
	return ret;
}

void patch_free(struct patch_set *ps)
{
	free(ps->v);
	free(ps->pfns);
	*ps = (struct patch_set){0};
}

const struct patch *patch_find(const struct patch_set *ps, uint32_t gpa)
{
	struct patch key = {.gpa = gpa};

	if (!ps->n)
		return NULL;
	return bsearch(&key, ps->v, ps->n, sizeof(*ps->v), patch_cmp);
}

bool patch_in_frame(const struct patch_set *ps, uint32_t pfn)
{
	if (!ps->npfns)
		return false;
	return bsearch(&pfn, ps->pfns, ps->npfns, sizeof(*ps->pfns), patch_cmp_u32) != NULL;
}

/*
 * Does [gpa, gpa+len) cover a byte we replaced?  Only the opcode byte we
 * wrote matters: the rest of the frame is the guest's to write (a small
 * kernel may keep its GDT or TSS in the page of an iret).
 */
bool patch_overlaps(const struct patch_set *ps, uint32_t gpa, unsigned len)
{
	size_t lo = 0, hi = ps->n;

	if (!len || !patch_in_frame(ps, gpa >> PAGE_SHIFT))
		return false;
	while (lo < hi) { /* the first patch at or after gpa - 15 */
		size_t mid = (lo + hi) / 2;

		if (ps->v[mid].gpa + 15 < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ps->n && ps->v[i].gpa < gpa + len; i++) {
		uint32_t byte = ps->v[i].gpa + ps->v[i].len - 1;

		if (byte >= gpa && byte - gpa < len)
			return true;
	}
	return false;
}
