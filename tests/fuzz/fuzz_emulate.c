/*
 * fuzz_emulate.c - libFuzzer harness: the instruction emulator takes any
 * bytes, any registers and any guest memory.
 *
 * Every byte of an instruction the VMM emulates comes from guest memory,
 * and so do its operands.  The input is read as: one byte choosing
 * emulate_insn (privileged instructions) or emulate_store (page-table
 * stores), 15 instruction bytes, the registers, the virtual control
 * registers, and the rest as the guest's memory at FUZZ_BASE.  The
 * emulator must not crash or read outside what it was given, and must
 * keep its contract: on a fault or a refusal, nothing changed.
 */
#include <stdlib.h>
#include <string.h>

#include "emulate.h"

#define FUZZ_BASE 0x00010000u
#define FUZZ_MEM  0x2000u

struct fuzz_mem {
	uint8_t bytes[FUZZ_MEM];
	size_t size;
};

static int fuzz_access(struct fuzz_mem *m, uint32_t va, unsigned len, struct emulate_fault *f)
{
	if (va < FUZZ_BASE || va - FUZZ_BASE > m->size || len > m->size - (va - FUZZ_BASE)) {
		*f = (struct emulate_fault){.vector = 14, .has_error = true, .cr2 = va};
		return -1;
	}
	return 0;
}

static int fuzz_read(void *ctx, uint32_t va, void *buf, unsigned len, struct emulate_fault *f)
{
	struct fuzz_mem *m = ctx;

	if (len > 16)
		abort(); /* the contract: never more than a few bytes */
	if (fuzz_access(m, va, len, f))
		return -1;
	memcpy(buf, m->bytes + (va - FUZZ_BASE), len);
	return 0;
}

static int fuzz_write(void *ctx, uint32_t va, const void *buf, unsigned len,
		      struct emulate_fault *f)
{
	struct fuzz_mem *m = ctx;

	if (len > 16)
		abort();
	if (fuzz_access(m, va, len, f))
		return -1;
	memcpy(m->bytes + (va - FUZZ_BASE), buf, len);
	return 0;
}

static uint32_t fuzz_in(void *ctx, uint16_t port, int size)
{
	(void)ctx;
	if (size != 1 && size != 2 && size != 4)
		abort();
	return port * 0x01010101u;
}

static void fuzz_out(void *ctx, uint16_t port, int size, uint32_t value)
{
	(void)ctx, (void)port, (void)value;
	if (size != 1 && size != 2 && size != 4)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emulator em;
	static int ready;
	static struct fuzz_mem mem;
	struct emulate_ops ops = {&mem, fuzz_read, fuzz_write, fuzz_in, fuzz_out};
	struct emulate_regs regs, before;
	struct emulate_sys sys, sys_before;
	struct emulate_result res;
	uint8_t insn[EMULATE_MAX_INSN];
	struct error err;
	bool store;

	if (!ready) {
		if (emulate_init(&em, &err))
			abort();
		ready = 1;
	}
	if (size < 1 + sizeof(insn) + sizeof(regs) + 4 * 4)
		return 0;
	store = data[0] & 1;
	memcpy(insn, data + 1, sizeof(insn));
	memcpy(&regs, data + 1 + sizeof(insn), sizeof(regs));
	memset(&sys, 0, sizeof(sys));
	memcpy(&sys.cr0, data + 1 + sizeof(insn) + sizeof(regs), 4 * 4); /* cr0, cr2, cr3, cr4 */
	size -= 1 + sizeof(insn) + sizeof(regs) + 4 * 4;
	data += 1 + sizeof(insn) + sizeof(regs) + 4 * 4;
	mem.size = size < FUZZ_MEM ? size : FUZZ_MEM;
	memcpy(mem.bytes, data, mem.size);
	before = regs;
	sys_before = sys;
	if (store)
		emulate_store(&em, insn, sizeof(insn), NULL, &regs, &ops, &res);
	else
		emulate_insn(&em, insn, sizeof(insn), NULL, &regs, &sys, &ops, &res);
	if (res.status == EMULATE_UNSUPPORTED &&
	    (memcmp(&regs, &before, sizeof(regs)) || memcmp(&sys, &sys_before, sizeof(sys))))
		abort(); /* a refusal changed the guest's state */
	return 0;
}
