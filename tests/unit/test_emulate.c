/*
 * test_emulate.c - the instruction emulator does to the virtual CPU what
 * each privileged instruction would do to a real one, faults where the
 * CPU would fault (leaving the state untouched), and survives anything.
 *
 * Instructions are byte-exact encodings (the comment is what 'as --32'
 * assembled them from).  Guest memory is a fake: 64 KiB at virtual address
 * MEM_BASE, whose last page is read-only; everything else page-faults.
 * Ports are a fake that records the last access.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "emulate.h"
#include "x86.h"

#define MEM_BASE 0x10000u
#define MEM_SIZE 0x10000u
#define MEM_END	 (MEM_BASE + MEM_SIZE)
#define RO_PAGE	 (MEM_END - PAGE_SIZE) /* writes fault with PF_P | PF_W */
#define EIP	 0xc0001000u
#define STACK	 (MEM_BASE + 0x8000u)

static struct emulator em;
static struct emulate_regs regs, old_regs;
static struct emulate_sys sys, old_sys;
static struct emulate_result res;
static uint8_t mem[MEM_SIZE];

static struct {
	unsigned ins, outs; /* port accesses */
	uint16_t port;	    /* the last one */
	int size;
	uint32_t value;		/* the last value written */
	unsigned reads, writes; /* memory accesses */
} io;

/* The page-fault a CPL-0 access outside the fake memory would take. */
static int mem_fault(struct emulate_fault *f, uint32_t va, bool write, bool protection)
{
	f->vector = T_PF;
	f->has_error = true;
	f->error_code = (write ? PF_W : 0) | (protection ? PF_P : 0);
	f->cr2 = va;
	return -1;
}

/*
 * Is [va, va + len) inside the fake memory?  If not, *missing is the first
 * byte that is not.  The emulator promises small ranges that never wrap.
 */
static bool mem_inside(uint32_t va, unsigned len, uint32_t *missing)
{
	cr_assert(len >= 1 && len <= 6, "the emulator never accesses %u bytes", len);
	cr_assert((uint64_t)va + len <= 0x100000000ull, "range wraps past 4 GiB");
	*missing = va;
	if (va < MEM_BASE || va >= MEM_END)
		return false;
	*missing = MEM_END;
	return (uint64_t)va + len <= MEM_END;
}

static int mem_read(void *ctx, uint32_t va, void *buf, unsigned len, struct emulate_fault *f)
{
	uint32_t missing;

	(void)ctx;
	io.reads++;
	if (!mem_inside(va, len, &missing))
		return mem_fault(f, missing, false, false);
	memcpy(buf, mem + (va - MEM_BASE), len);
	return 0;
}

static int mem_write(void *ctx, uint32_t va, const void *buf, unsigned len, struct emulate_fault *f)
{
	uint32_t missing;

	(void)ctx;
	io.writes++;
	if (!mem_inside(va, len, &missing))
		return mem_fault(f, missing, true, false);
	if (va + len > RO_PAGE)
		return mem_fault(f, va > RO_PAGE ? va : RO_PAGE, true, true);
	memcpy(mem + (va - MEM_BASE), buf, len);
	return 0;
}

/* A port reads as a pattern made of its number, wider than any access. */
static uint32_t port_value(uint16_t port)
{
	return 0xa5a50000u | port;
}

static uint32_t port_in(void *ctx, uint16_t port, int size)
{
	(void)ctx;
	io.ins++;
	io.port = port;
	io.size = size;
	return port_value(port) ^ 0x5a000000u; /* upper junk the emulator must mask */
}

static void port_out(void *ctx, uint16_t port, int size, uint32_t value)
{
	(void)ctx;
	io.outs++;
	io.port = port;
	io.size = size;
	io.value = value;
}

/* clang-format off */
static const struct emulate_ops ops = {
	.read = mem_read,
	.write = mem_write,
	.in = port_in,
	.out = port_out,
};
/* clang-format on */

static uint8_t *at(uint32_t va)
{
	return mem + (va - MEM_BASE);
}

static uint32_t get32(uint32_t va)
{
	uint32_t v;

	memcpy(&v, at(va), 4);
	return v;
}

static void put32(uint32_t va, uint32_t v)
{
	memcpy(at(va), &v, 4);
}

/* Registers with recognisable values, a stack in the middle of the memory. */
/* clang-format off */
static const struct emulate_regs initial_regs = {
	.eax = 0x11111111, .ecx = 0x22222222, .edx = 0x33333333, .ebx = 0x44444444,
	.esp = STACK, .ebp = 0x66666666, .esi = 0x77777777, .edi = 0x88888888,
	.eip = EIP, .eflags = FL_FIXED | FL_IF,
};
/* clang-format on */

static void setup(void)
{
	struct error err;

	cr_assert_eq(emulate_init(&em, &err), 0, "%s", err.msg);
	memset(mem, 0xcc, sizeof(mem));
	memset(&io, 0, sizeof(io));
	memset(&sys, 0, sizeof(sys));
	regs = initial_regs;
	sys.cr0 = CR0_PE | CR0_ET | CR0_PG | CR0_WP;
	sys.cr3 = 0x00100000;
	sys.cr4 = CR4_PSE;
}

static void teardown(void)
{
	emulate_fini(&em);
}

TestSuite(emulate, .init = setup, .fini = teardown);

/* Emulate 'n' fetched bytes, remembering the state before. */
static void run_fetch(const uint8_t *bytes, size_t n, const struct emulate_fault *fetch_fault)
{
	old_regs = regs;
	old_sys = sys;
	memset(&res, 0x5a, sizeof(res)); /* the emulator must fill every field */
	emulate_insn(&em, bytes, n, fetch_fault, &regs, &sys, &ops, &res);
}

/* ... when the fetch got every byte there is. */
static void run(const uint8_t *bytes, size_t n)
{
	run_fetch(bytes, n, NULL);
}

#define EMU(...)                                                                                   \
	do {                                                                                       \
		static const uint8_t insn_[] = {__VA_ARGS__};                                      \
		run(insn_, sizeof(insn_));                                                         \
	} while (0)

static bool sys_equal(const struct emulate_sys *a, const struct emulate_sys *b)
{
	return a->cr0 == b->cr0 && a->cr2 == b->cr2 && a->cr3 == b->cr3 && a->cr4 == b->cr4 &&
	       a->gdtr.base == b->gdtr.base && a->gdtr.limit == b->gdtr.limit &&
	       a->idtr.base == b->idtr.base && a->idtr.limit == b->idtr.limit &&
	       a->ldtr == b->ldtr && a->tr == b->tr && !memcmp(a->dr, b->dr, sizeof(a->dr)) &&
	       a->msr_sysenter_cs == b->msr_sysenter_cs &&
	       a->msr_sysenter_esp == b->msr_sysenter_esp &&
	       a->msr_sysenter_eip == b->msr_sysenter_eip && a->halted == b->halted;
}

static bool regs_equal(const struct emulate_regs *a, const struct emulate_regs *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Only eip moved. */
static void assert_only_eip_changed(void)
{
	struct emulate_regs r = regs;

	r.eip = old_regs.eip;
	cr_assert(regs_equal(&r, &old_regs), "a register other than eip changed");
	cr_assert(sys_equal(&sys, &old_sys), "virtual state changed");
}

/* DONE, eip moved past the 'size'-byte instruction, named 'mnemonic'. */
static void assert_done(unsigned size, const char *mnemonic, unsigned effects)
{
	cr_assert_eq(res.status, EMULATE_DONE, "status %d: %s", res.status, res.text);
	cr_assert_eq(regs.eip, old_regs.eip + size, "eip %#x", regs.eip);
	cr_assert_str_eq(res.mnemonic, mnemonic);
	cr_assert_eq(res.effects, effects, "effects %#x, expected %#x", res.effects, effects);
}

/* A fault, and not a trace of the instruction in the guest's state. */
static void assert_fault(uint8_t vector, bool has_error, uint32_t error_code)
{
	cr_assert_eq(res.status, EMULATE_FAULT, "status %d: %s", res.status, res.text);
	cr_assert_eq(res.fault.vector, vector, "vector %u", res.fault.vector);
	cr_assert_eq(res.fault.has_error, has_error);
	if (has_error)
		cr_assert_eq(res.fault.error_code, error_code, "error code %#x",
			     res.fault.error_code);
	cr_assert_eq(res.effects, 0);
	cr_assert(regs_equal(&regs, &old_regs), "registers changed");
	cr_assert(sys_equal(&sys, &old_sys), "virtual state changed");
}

static void assert_gp0(void)
{
	assert_fault(T_GP, true, 0);
}

static void assert_pf(uint32_t error_code, uint32_t cr2)
{
	assert_fault(T_PF, true, error_code);
	cr_assert_eq(res.fault.cr2, cr2, "cr2 %#x", res.fault.cr2);
}

static void assert_unsupported(const char *needle)
{
	char eip[16];

	snprintf(eip, sizeof(eip), "0x%08x", regs.eip);
	cr_assert_eq(res.status, EMULATE_UNSUPPORTED, "status %d: %s", res.status, res.text);
	cr_assert(strstr(res.text, needle), "'%s' does not mention '%s'", res.text, needle);
	cr_assert(strstr(res.text, eip), "'%s' does not give the eip", res.text);
	cr_assert(regs_equal(&regs, &old_regs), "registers changed");
	cr_assert(sys_equal(&sys, &old_sys), "virtual state changed");
}

/* --- cli, sti, hlt -------------------------------------------------------- */

Test(emulate, cli_clears_virtual_if)
{
	EMU(0xfa); /* cli */
	assert_done(1, "cli", 0);
	cr_assert_eq(regs.eflags, FL_FIXED);
	cr_assert_str_eq(res.text, "cli");
}

Test(emulate, sti_sets_if_and_asks_for_delivery_only_on_a_change)
{
	regs.eflags = FL_FIXED;
	EMU(0xfb); /* sti */
	assert_done(1, "sti", EMULATE_EFFECT_IF_ON);
	cr_assert_eq(regs.eflags, FL_FIXED | FL_IF);
	EMU(0xfb);
	assert_done(1, "sti", 0);
}

Test(emulate, hlt_halts)
{
	EMU(0xf4); /* hlt */
	assert_done(1, "hlt", EMULATE_EFFECT_HALT);
	cr_assert(sys.halted);
}

/* --- pushf, popf ---------------------------------------------------------- */

Test(emulate, pushf_pushes_flags_without_vm_and_rf)
{
	regs.eflags = FL_IF | FL_CF | FL_DF | (1u << 12) | FL_RF | FL_VM; /* bit 1 clear */
	EMU(0x9c);							  /* pushfd */
	assert_done(1, "pushf", 0);
	cr_assert_eq(regs.esp, STACK - 4);
	cr_assert_eq(get32(STACK - 4), FL_FIXED | FL_IF | FL_CF | FL_DF | (1u << 12));
	cr_assert_eq(regs.eflags, old_regs.eflags, "pushf changes no flag");
}

Test(emulate, pushf_to_a_missing_page_faults_without_moving_esp)
{
	regs.esp = MEM_BASE;
	EMU(0x9c); /* pushfd */
	assert_pf(PF_W, MEM_BASE - 4);
}

Test(emulate, pushf_to_a_readonly_page_faults)
{
	regs.esp = RO_PAGE + 8;
	EMU(0x9c); /* pushfd */
	assert_pf(PF_P | PF_W, RO_PAGE + 4);
}

Test(emulate, pushf_at_esp_2_runs_past_the_limit)
{
	regs.esp = 2; /* pushes at 0xfffffffe: 4 bytes cross 4 GiB */
	EMU(0x9c);
	assert_fault(T_SS, true, 0);
}

Test(emulate, pushf_16bit_is_unsupported)
{
	EMU(0x66, 0x9c); /* pushfw */
	assert_unsupported("pushf");
	cr_assert_str_eq(res.mnemonic, "pushf");
}

Test(emulate, popf_loads_every_flag_ring0_may_change)
{
	regs.eflags = FL_FIXED;
	put32(STACK, 0xffffffffu);
	EMU(0x9d); /* popfd */
	assert_done(1, "popf", EMULATE_EFFECT_IF_ON);
	/* CF PF AF ZF SF TF IF DF OF IOPL NT AC ID, bit 1; not VM, RF, VIF, VIP, reserved */
	cr_assert_eq(regs.eflags, 0x00247fd7u, "eflags %#x", regs.eflags);
	cr_assert_eq(regs.esp, STACK + 4);
}

Test(emulate, popf_sets_bit1_and_clears_reserved_bits)
{
	put32(STACK, 0);
	EMU(0x9d); /* popfd */
	assert_done(1, "popf", 0);
	cr_assert_eq(regs.eflags, FL_FIXED, "IF cleared, bit 1 kept");
}

Test(emulate, popf_loads_iopl)
{
	put32(STACK, FL_IF | FL_IOPL_MASK);
	EMU(0x9d); /* popfd */
	assert_done(1, "popf", 0);
	cr_assert_eq(regs.eflags, FL_FIXED | FL_IF | FL_IOPL_MASK);
}

Test(emulate, popf_keeps_vif_and_vip)
{
	regs.eflags = FL_FIXED | FL_VIF | FL_VIP;
	put32(STACK, FL_IF);
	EMU(0x9d); /* popfd */
	assert_done(1, "popf", EMULATE_EFFECT_IF_ON);
	cr_assert_eq(regs.eflags, FL_FIXED | FL_IF | FL_VIF | FL_VIP);
}

Test(emulate, popf_from_a_missing_page_faults)
{
	regs.esp = MEM_END - 2;
	EMU(0x9d); /* popfd */
	assert_pf(0, MEM_END);
}

Test(emulate, popf_16bit_is_unsupported)
{
	EMU(0x66, 0x9d); /* popfw */
	assert_unsupported("popf");
}

/* --- iret ----------------------------------------------------------------- */

static void push_frame(uint32_t eip, uint32_t cs, uint32_t eflags, uint32_t esp, uint32_t ss)
{
	put32(STACK, eip);
	put32(STACK + 4, cs | 0xdead0000u); /* the upper half of a pushed selector is junk */
	put32(STACK + 8, eflags);
	put32(STACK + 12, esp);
	put32(STACK + 16, ss | 0xbeef0000u);
}

Test(emulate, iret_to_the_same_ring_pops_three_words)
{
	regs.eflags = FL_FIXED;
	push_frame(0xc0002000, 0x08, FL_FIXED | FL_IF | FL_ZF, 0x12345678, 0x10);
	EMU(0xcf); /* iretd */
	assert_done(0, "iret", EMULATE_EFFECT_IRET | EMULATE_EFFECT_IF_ON);
	cr_assert_eq(res.iret.eip, 0xc0002000);
	cr_assert_eq(res.iret.cs, 0x08);
	cr_assert_eq(res.iret.eflags, FL_FIXED | FL_IF | FL_ZF);
	cr_assert_not(res.iret.to_outer);
	cr_assert_eq(regs.esp, STACK + 12);
	cr_assert_eq(regs.eflags, FL_FIXED, "the caller applies the popped flags");
}

/* In shadow mode the kernel's CS as the CPU shows it (push %cs) has RPL 1:
 * an iret to it is to the same ring, as Linux's iret_to_self does. */
Test(emulate, iret_to_the_kernels_real_cs_pops_three_words)
{
	push_frame(0xc0002000, 0x09, FL_FIXED, 0x12345678, 0x10);
	EMU(0xcf); /* iretd */
	assert_done(0, "iret", EMULATE_EFFECT_IRET);
	cr_assert_not(res.iret.to_outer);
	cr_assert_eq(res.iret.cs, 0x09);
	cr_assert_eq(regs.esp, STACK + 12);
}

Test(emulate, iret_to_an_outer_ring_pops_five_words)
{
	push_frame(0x08048000, 0x1b, FL_FIXED | FL_IF, 0xbffff000, 0x23);
	EMU(0xcf); /* iretd */
	assert_done(0, "iret", EMULATE_EFFECT_IRET);
	cr_assert(res.iret.to_outer);
	cr_assert_eq(res.iret.eip, 0x08048000);
	cr_assert_eq(res.iret.cs, 0x1b);
	cr_assert_eq(res.iret.esp, 0xbffff000);
	cr_assert_eq(res.iret.ss, 0x23);
	cr_assert_eq(regs.esp, STACK + 20);
}

Test(emulate, iret_reduces_the_popped_flags)
{
	push_frame(0, 0x08, ~FL_VM, 0, 0);
	EMU(0xcf); /* iretd */
	assert_done(0, "iret", EMULATE_EFFECT_IRET);
	cr_assert_eq(res.iret.eflags, 0x00247fd7u | FL_RF, "eflags %#x", res.iret.eflags);
}

Test(emulate, iret_with_the_outer_words_on_a_missing_page_faults)
{
	regs.esp = MEM_END - 12;
	put32(MEM_END - 8, 0x1b); /* cs: outer ring, so esp and ss must follow */
	EMU(0xcf);		  /* iretd */
	assert_pf(0, MEM_END);
}

Test(emulate, iret_to_virtual_8086_mode_is_unsupported)
{
	push_frame(0, 0x08, FL_FIXED | FL_VM, 0, 0);
	EMU(0xcf); /* iretd */
	assert_unsupported("virtual-8086");
}

Test(emulate, nested_task_iret_is_unsupported)
{
	regs.eflags |= FL_NT;
	push_frame(0, 0x08, FL_FIXED, 0, 0);
	EMU(0xcf); /* iretd */
	assert_unsupported("task");
}

Test(emulate, iret_16bit_is_unsupported)
{
	EMU(0x66, 0xcf); /* iretw */
	assert_unsupported("iret");
}

/* --- Control registers ---------------------------------------------------- */

Test(emulate, mov_to_each_control_register)
{
	regs.eax = CR0_PE | CR0_PG | CR0_WP | CR0_TS;
	EMU(0x0f, 0x22, 0xc0); /* mov cr0, eax */
	assert_done(3, "mov cr0", 0);
	cr_assert_eq(sys.cr0, CR0_PE | CR0_PG | CR0_WP | CR0_TS | CR0_ET, "ET reads as 1");
	cr_assert_str_eq(res.text, "mov cr0, eax");

	regs.edx = 0xdeadbeef;
	EMU(0x0f, 0x22, 0xd2); /* mov cr2, edx */
	assert_done(3, "mov cr2", 0);
	cr_assert_eq(sys.cr2, 0xdeadbeef);

	regs.ecx = 0x00200018;
	EMU(0x0f, 0x22, 0xd9); /* mov cr3, ecx */
	assert_done(3, "mov cr3", EMULATE_EFFECT_CR3);
	cr_assert_eq(sys.cr3, 0x00200018);

	regs.ebx = CR4_PSE | CR4_TSD;
	EMU(0x0f, 0x22, 0xe3); /* mov cr4, ebx */
	assert_done(3, "mov cr4", 0);
	cr_assert_eq(sys.cr4, CR4_PSE | CR4_TSD);
}

Test(emulate, mov_from_each_control_register)
{
	sys.cr2 = 0x0badf00d;
	EMU(0x0f, 0x20, 0xc0); /* mov eax, cr0 */
	assert_done(3, "mov from cr0", 0);
	cr_assert_eq(regs.eax, sys.cr0);
	EMU(0x0f, 0x20, 0xd3); /* mov ebx, cr2 */
	assert_done(3, "mov from cr2", 0);
	cr_assert_eq(regs.ebx, 0x0badf00d);
	EMU(0x0f, 0x20, 0xde); /* mov esi, cr3 */
	assert_done(3, "mov from cr3", 0);
	cr_assert_eq(regs.esi, 0x00100000);
	EMU(0x0f, 0x20, 0xe7); /* mov edi, cr4 */
	assert_done(3, "mov from cr4", 0);
	cr_assert_eq(regs.edi, CR4_PSE);
	cr_assert(sys_equal(&sys, &old_sys));
}

Test(emulate, cr3_reload_with_the_same_value_still_flushes)
{
	regs.ecx = sys.cr3;
	EMU(0x0f, 0x22, 0xd9); /* mov cr3, ecx */
	assert_done(3, "mov cr3", EMULATE_EFFECT_CR3);
}

Test(emulate, cr0_paging_bits_report_a_paging_change)
{
	regs.eax = CR0_PE | CR0_WP; /* paging off */
	EMU(0x0f, 0x22, 0xc0);	    /* mov cr0, eax */
	assert_done(3, "mov cr0", EMULATE_EFFECT_PAGING);
	regs.eax = CR0_PE; /* WP off */
	EMU(0x0f, 0x22, 0xc0);
	assert_done(3, "mov cr0", EMULATE_EFFECT_PAGING);
	regs.eax = CR0_PE | CR0_TS | CR0_MP | CR0_NE;
	EMU(0x0f, 0x22, 0xc0);
	assert_done(3, "mov cr0", 0);
}

Test(emulate, cr0_reserved_bits_are_dropped)
{
	regs.eax = sys.cr0 | 0x1ffaffc0u; /* every reserved bit */
	EMU(0x0f, 0x22, 0xc0);		  /* mov cr0, eax */
	assert_done(3, "mov cr0", 0);
	cr_assert_eq(sys.cr0, old_sys.cr0);
}

Test(emulate, cr0_paging_without_protection_is_gp)
{
	regs.eax = CR0_PG;
	EMU(0x0f, 0x22, 0xc0); /* mov cr0, eax */
	assert_gp0();
	cr_assert_str_eq(res.mnemonic, "mov cr0");
}

Test(emulate, cr0_nw_without_cd_is_gp)
{
	regs.eax = CR0_PE | CR0_NW;
	EMU(0x0f, 0x22, 0xc0); /* mov cr0, eax */
	assert_gp0();
}

Test(emulate, leaving_protected_mode_is_unsupported)
{
	regs.eax = 0;
	EMU(0x0f, 0x22, 0xc0); /* mov cr0, eax */
	assert_unsupported("real mode");
}

Test(emulate, cr4_pae_and_reserved_bits_are_gp)
{
	regs.ebx = CR4_PSE | CR4_PAE;
	EMU(0x0f, 0x22, 0xe3); /* mov cr4, ebx */
	assert_gp0();
	regs.ebx = CR4_PSE | 0x00008000u; /* bit 15: reserved */
	EMU(0x0f, 0x22, 0xe3);
	assert_gp0();
	regs.ebx = CR4_VME; /* not offered */
	EMU(0x0f, 0x22, 0xe3);
	assert_gp0();
}

Test(emulate, cr4_pse_and_pge_report_a_paging_change)
{
	regs.ebx = CR4_PSE | CR4_PGE;
	EMU(0x0f, 0x22, 0xe3); /* mov cr4, ebx */
	assert_done(3, "mov cr4", EMULATE_EFFECT_PAGING);
	regs.ebx = CR4_PGE;
	EMU(0x0f, 0x22, 0xe3);
	assert_done(3, "mov cr4", EMULATE_EFFECT_PAGING);
	regs.ebx = CR4_PGE | CR4_DE | CR4_TSD;
	EMU(0x0f, 0x22, 0xe3);
	assert_done(3, "mov cr4", 0);
}

Test(emulate, nonexistent_control_registers_are_ud)
{
	EMU(0x0f, 0x22, 0xc8); /* mov cr1, eax */
	assert_fault(T_UD, false, 0);
	cr_assert_str_eq(res.mnemonic, "mov cr");
	EMU(0x0f, 0x20, 0xe8); /* mov eax, cr5 */
	assert_fault(T_UD, false, 0);
	cr_assert_str_eq(res.mnemonic, "mov from cr");
	EMU(0x0f, 0x22, 0xf0); /* mov cr6, eax */
	assert_fault(T_UD, false, 0);
	EMU(0x0f, 0x20, 0xf8); /* mov eax, cr7 */
	assert_fault(T_UD, false, 0);
	EMU(0xf0, 0x0f, 0x22, 0xc0); /* lock mov cr0, eax: AMD's spelling of cr8 */
	assert_fault(T_UD, false, 0);
}

Test(emulate, mov_cr_ignores_mod_and_operand_size)
{
	regs.eax = 0x00300000;
	EMU(0x0f, 0x22, 0x18); /* mov cr3, eax (mod 00: still a register) */
	assert_done(3, "mov cr3", EMULATE_EFFECT_CR3);
	cr_assert_eq(sys.cr3, 0x00300000);
	EMU(0x66, 0x0f, 0x20, 0xd9); /* mov ecx, cr3 with a 66 prefix */
	assert_done(4, "mov from cr3", 0);
	cr_assert_eq(regs.ecx, 0x00300000);
}

Test(emulate, clts_clears_ts)
{
	sys.cr0 |= CR0_TS;
	EMU(0x0f, 0x06); /* clts */
	assert_done(2, "clts", 0);
	cr_assert_eq(sys.cr0, old_sys.cr0 & ~CR0_TS);
}

Test(emulate, lmsw_from_register_and_memory)
{
	regs.eax = 0xffff0000u | CR0_MP | CR0_TS; /* PE clear: lmsw cannot clear it */
	EMU(0x0f, 0x01, 0xf0);			  /* lmsw ax */
	assert_done(3, "lmsw", 0);
	cr_assert_eq(sys.cr0, old_sys.cr0 | CR0_MP | CR0_TS);

	regs.ebx = MEM_BASE + 0x100;
	at(MEM_BASE + 0x100)[0] = CR0_EM;
	at(MEM_BASE + 0x100)[1] = 0xff;
	EMU(0x0f, 0x01, 0x33); /* lmsw word ptr [ebx] */
	assert_done(3, "lmsw", 0);
	cr_assert_eq(sys.cr0, (old_sys.cr0 & ~(CR0_MP | CR0_TS)) | CR0_EM);
}

Test(emulate, lmsw_from_a_missing_page_faults)
{
	regs.ebx = 0x1000;
	EMU(0x0f, 0x01, 0x33); /* lmsw word ptr [ebx] */
	assert_pf(0, 0x1000);
}

Test(emulate, smsw_to_registers_and_memory)
{
	sys.cr0 |= CR0_TS;
	EMU(0x0f, 0x01, 0xe0); /* smsw eax: all of CR0, as P6 and later store it */
	assert_done(3, "smsw", 0);
	cr_assert_eq(regs.eax, sys.cr0);

	regs.eax = 0x12345678;
	EMU(0x66, 0x0f, 0x01, 0xe0); /* smsw ax */
	assert_done(4, "smsw", 0);
	cr_assert_eq(regs.eax, 0x12340000u | (sys.cr0 & 0xffff));

	regs.ebx = MEM_BASE + 0x200;
	EMU(0x0f, 0x01, 0x23); /* smsw word ptr [ebx] */
	assert_done(3, "smsw", 0);
	cr_assert_eq(at(MEM_BASE + 0x200)[0], (uint8_t)sys.cr0);
	cr_assert_eq(at(MEM_BASE + 0x200)[1], (uint8_t)(sys.cr0 >> 8));
	cr_assert_eq(at(MEM_BASE + 0x200)[2], 0xcc, "a word, no more");
}

/* --- Debug registers ------------------------------------------------------ */

Test(emulate, debug_registers_are_kept)
{
	regs.eax = 0xc0001234;
	EMU(0x0f, 0x23, 0xc0); /* mov dr0, eax */
	assert_done(3, "mov dr", 0);
	cr_assert_eq(sys.dr[0], 0xc0001234);
	regs.esi = 0xc0005678;
	EMU(0x0f, 0x23, 0xde); /* mov dr3, esi */
	assert_done(3, "mov dr", 0);
	EMU(0x0f, 0x21, 0xca); /* mov edx, dr1 */
	assert_done(3, "mov from dr", 0);
	cr_assert_eq(regs.edx, 0);
	cr_assert_eq(sys.dr[3], 0xc0005678);
}

Test(emulate, dr6_and_dr7_fixed_bits)
{
	regs.ebx = 0xffffffffu;
	EMU(0x0f, 0x23, 0xfb); /* mov dr7, ebx */
	assert_done(3, "mov dr", 0);
	cr_assert_eq(sys.dr[7], 0xffff27ffu, "dr7 %#x", sys.dr[7]);
	regs.ecx = 0;
	EMU(0x0f, 0x23, 0xf1); /* mov dr6, ecx */
	assert_done(3, "mov dr", 0);
	cr_assert_eq(sys.dr[6], 0xffff0ff0u);
}

Test(emulate, dr4_and_dr5_alias_dr6_and_dr7_unless_cr4_de)
{
	sys.dr[6] = 0xffff0ff1u;
	EMU(0x0f, 0x21, 0xe0); /* mov eax, dr4 */
	assert_done(3, "mov from dr", 0);
	cr_assert_eq(regs.eax, 0xffff0ff1u);
	sys.cr4 |= CR4_DE;
	EMU(0x0f, 0x21, 0xe0); /* mov eax, dr4 */
	assert_fault(T_UD, false, 0);
	EMU(0x0f, 0x23, 0xe8); /* mov dr5, eax */
	assert_fault(T_UD, false, 0);
}

/* --- Descriptor tables ---------------------------------------------------- */

Test(emulate, lgdt_reads_limit_and_base)
{
	static const uint8_t dtr[6] = {0xff, 0x07, 0x00, 0x20, 0x10, 0xc0};

	regs.eax = MEM_BASE + 0x300;
	memcpy(at(MEM_BASE + 0x300), dtr, 6);
	EMU(0x0f, 0x01, 0x10); /* lgdt [eax] */
	assert_done(3, "lgdt", EMULATE_EFFECT_GDT);
	cr_assert_eq(sys.gdtr.limit, 0x07ff);
	cr_assert_eq(sys.gdtr.base, 0xc0102000);
}

Test(emulate, lidt_with_base_index_scale_and_displacement)
{
	static const uint8_t dtr[6] = {0xff, 0x01, 0x00, 0x30, 0x10, 0xc0};

	regs.ebx = MEM_BASE + 0x400;
	regs.ecx = 3;
	memcpy(at(MEM_BASE + 0x400 + 3 * 4 + 0x10), dtr, 6);
	EMU(0x0f, 0x01, 0x5c, 0x8b, 0x10); /* lidt [ebx + ecx*4 + 0x10] */
	assert_done(5, "lidt", EMULATE_EFFECT_IDT);
	cr_assert_eq(sys.idtr.limit, 0x01ff);
	cr_assert_eq(sys.idtr.base, 0xc0103000);
	cr_assert(sys.gdtr.base == 0 && sys.gdtr.limit == 0);
}

Test(emulate, lgdt_straddling_into_a_missing_page_faults)
{
	regs.eax = MEM_END - 4; /* 4 bytes mapped, 2 not */
	EMU(0x0f, 0x01, 0x10);	/* lgdt [eax] */
	assert_pf(0, MEM_END);
}

Test(emulate, sgdt_and_sidt_write_six_bytes)
{
	sys.gdtr.base = 0xc0102000;
	sys.gdtr.limit = 0x07ff;
	sys.idtr.base = 0xc0103000;
	sys.idtr.limit = 0x01ff;
	regs.eax = MEM_BASE + 0x500;
	EMU(0x0f, 0x01, 0x00); /* sgdt [eax] */
	assert_done(3, "sgdt", 0);
	cr_assert_arr_eq(at(MEM_BASE + 0x500),
			 ((uint8_t[]){0xff, 0x07, 0x00, 0x20, 0x10, 0xc0, 0xcc}), 7);

	regs.esp = MEM_BASE + 0x600;
	EMU(0x0f, 0x01, 0x4c, 0x24, 0x04); /* sidt [esp + 4] */
	assert_done(5, "sidt", 0);
	cr_assert_arr_eq(at(MEM_BASE + 0x604),
			 ((uint8_t[]){0xff, 0x01, 0x00, 0x30, 0x10, 0xc0, 0xcc}), 7);
	cr_assert(sys_equal(&sys, &old_sys));
}

Test(emulate, sgdt_to_a_readonly_page_faults)
{
	regs.eax = RO_PAGE - 2;
	EMU(0x0f, 0x01, 0x00); /* sgdt [eax] */
	assert_pf(PF_P | PF_W, RO_PAGE);
	cr_assert_eq(at(RO_PAGE - 2)[0], 0xcc, "nothing written");
}

Test(emulate, descriptor_table_operand_forms_we_refuse)
{
	regs.eax = MEM_BASE;
	EMU(0x66, 0x0f, 0x01, 0x10); /* lgdtw [eax]: a 24-bit base */
	assert_unsupported("16-bit operand size");
	EMU(0x67, 0x0f, 0x01, 0x17); /* lgdt [bx] */
	assert_unsupported("16-bit addressing");
	EMU(0x64, 0x0f, 0x01, 0x10); /* lgdt fs:[eax] */
	assert_unsupported("fs/gs");
	EMU(0x65, 0x0f, 0x01, 0x08); /* sidt gs:[eax] */
	assert_unsupported("fs/gs");
}

Test(emulate, flat_segment_overrides_are_accepted)
{
	regs.eax = MEM_BASE + 0x300;
	EMU(0x3e, 0x0f, 0x01, 0x10); /* lgdt ds:[eax] */
	assert_done(4, "lgdt", EMULATE_EFFECT_GDT);
	EMU(0x26, 0x0f, 0x01, 0x10); /* lgdt es:[eax] */
	assert_done(4, "lgdt", EMULATE_EFFECT_GDT);
}

Test(emulate, lldt_and_ltr_from_registers_and_memory)
{
	regs.eax = 0xffff0028;
	EMU(0x0f, 0x00, 0xd0); /* lldt ax */
	assert_done(3, "lldt", EMULATE_EFFECT_GDT);
	cr_assert_eq(sys.ldtr, 0x28);

	regs.ecx = 0x00000030;
	EMU(0x0f, 0x00, 0xd9); /* ltr cx */
	assert_done(3, "ltr", EMULATE_EFFECT_GDT);
	cr_assert_eq(sys.tr, 0x30);

	regs.ebx = MEM_BASE + 0x700;
	at(MEM_BASE + 0x700)[0] = 0x38;
	at(MEM_BASE + 0x700)[1] = 0x00;
	at(MEM_BASE + 0x702)[0] = 0x40;
	at(MEM_BASE + 0x702)[1] = 0x00;
	EMU(0x0f, 0x00, 0x13); /* lldt word ptr [ebx] */
	assert_done(3, "lldt", EMULATE_EFFECT_GDT);
	cr_assert_eq(sys.ldtr, 0x38);
	EMU(0x0f, 0x00, 0x5b, 0x02); /* ltr word ptr [ebx + 2] */
	assert_done(4, "ltr", EMULATE_EFFECT_GDT);
	cr_assert_eq(sys.tr, 0x40);
}

Test(emulate, ltr_from_a_missing_page_faults)
{
	regs.ebx = 0xfffffff0;
	EMU(0x0f, 0x00, 0x5b, 0x02); /* ltr word ptr [ebx + 2] */
	assert_pf(0, 0xfffffff2);
}

Test(emulate, sldt_and_str_to_registers_and_memory)
{
	sys.ldtr = 0x28;
	sys.tr = 0x30;
	EMU(0x0f, 0x00, 0xc0); /* sldt eax: zero-extended */
	assert_done(3, "sldt", 0);
	cr_assert_eq(regs.eax, 0x28);
	regs.eax = 0x12345678;
	EMU(0x66, 0x0f, 0x00, 0xc0); /* sldt ax */
	assert_done(4, "sldt", 0);
	cr_assert_eq(regs.eax, 0x12340028);
	EMU(0x0f, 0x00, 0xc8); /* str eax */
	assert_done(3, "str", 0);
	cr_assert_eq(regs.eax, 0x30);

	regs.ebx = MEM_BASE + 0x800;
	regs.ecx = MEM_BASE + 0x810;
	EMU(0x0f, 0x00, 0x03); /* sldt word ptr [ebx] */
	assert_done(3, "sldt", 0);
	EMU(0x0f, 0x00, 0x09); /* str word ptr [ecx] */
	assert_done(3, "str", 0);
	cr_assert_arr_eq(at(MEM_BASE + 0x800), ((uint8_t[]){0x28, 0x00, 0xcc}), 3);
	cr_assert_arr_eq(at(MEM_BASE + 0x810), ((uint8_t[]){0x30, 0x00, 0xcc}), 3);
}

/* --- Ports ---------------------------------------------------------------- */

static void assert_in(unsigned insn_size, uint16_t port, int size, uint32_t eax)
{
	assert_done(insn_size, "in", 0);
	cr_assert_eq(io.port, port);
	cr_assert_eq(io.size, size);
	cr_assert_eq(regs.eax, eax, "eax %#x, expected %#x", regs.eax, eax);
	regs.eax = 0x11111111;
}

Test(emulate, in_from_an_immediate_port_in_each_size)
{
	EMU(0xe4, 0x60); /* in al, 0x60 */
	assert_in(2, 0x60, 1, 0x11111160);
	EMU(0x66, 0xe5, 0x60); /* in ax, 0x60 */
	assert_in(3, 0x60, 2, 0x11110060);
	EMU(0xe5, 0x60); /* in eax, 0x60 */
	assert_in(2, 0x60, 4, 0xffa50060);
}

Test(emulate, in_from_dx_in_each_size)
{
	regs.edx = 0xabcd03f8;
	EMU(0xec); /* in al, dx */
	assert_in(1, 0x3f8, 1, 0x111111f8);
	EMU(0x66, 0xed); /* in ax, dx */
	assert_in(2, 0x3f8, 2, 0x111103f8);
	EMU(0xed); /* in eax, dx */
	assert_in(1, 0x3f8, 4, 0xffa503f8);
	cr_assert_eq(io.ins, 3);
}

static void assert_out(unsigned insn_size, uint16_t port, int size, uint32_t value)
{
	assert_done(insn_size, "out", 0);
	cr_assert_eq(io.port, port);
	cr_assert_eq(io.size, size);
	cr_assert_eq(io.value, value, "value %#x, expected %#x", io.value, value);
	assert_only_eip_changed();
}

Test(emulate, out_to_an_immediate_port_in_each_size)
{
	regs.eax = 0xdeadbeef;
	EMU(0xe6, 0x80); /* out 0x80, al */
	assert_out(2, 0x80, 1, 0xef);
	EMU(0x66, 0xe7, 0x80); /* out 0x80, ax */
	assert_out(3, 0x80, 2, 0xbeef);
	EMU(0xe7, 0x80); /* out 0x80, eax */
	assert_out(2, 0x80, 4, 0xdeadbeef);
}

Test(emulate, out_to_dx_in_each_size)
{
	regs.eax = 0xdeadbeef;
	regs.edx = 0xffff00f4;
	EMU(0xee); /* out dx, al */
	assert_out(1, 0xf4, 1, 0xef);
	EMU(0x66, 0xef); /* out dx, ax */
	assert_out(2, 0xf4, 2, 0xbeef);
	EMU(0xef); /* out dx, eax */
	assert_out(1, 0xf4, 4, 0xdeadbeef);
	cr_assert_eq(io.outs, 3);
	cr_assert_eq(regs.eax, 0xdeadbeef);
}

/* --- String I/O ----------------------------------------------------------- */

Test(emulate, insb_reads_one_byte_to_es_edi)
{
	regs.edx = 0x1f0;
	regs.edi = MEM_BASE + 0x900;
	EMU(0x6c); /* insb */
	assert_done(1, "ins", 0);
	cr_assert_eq(at(MEM_BASE + 0x900)[0], 0xf0);
	cr_assert_eq(at(MEM_BASE + 0x900)[1], 0xcc);
	cr_assert_eq(regs.edi, MEM_BASE + 0x901);
	cr_assert_eq(regs.ecx, old_regs.ecx, "no rep: ecx untouched");
}

Test(emulate, rep_insw_fills_a_buffer)
{
	regs.edx = 0x1f0;
	regs.edi = MEM_BASE + 0x900;
	regs.ecx = 8;
	EMU(0x66, 0xf3, 0x6d); /* rep insw */
	assert_done(3, "ins", 0);
	cr_assert_eq(io.ins, 8);
	cr_assert_eq(io.size, 2);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(at(MEM_BASE + 0x900 + 2 * i)[0], 0xf0);
	cr_assert_eq(regs.edi, MEM_BASE + 0x910);
	cr_assert_eq(regs.ecx, 0);
}

Test(emulate, outsd_and_rep_outsb_backwards)
{
	regs.edx = 0xe9;
	regs.esi = MEM_BASE + 0xa00;
	put32(MEM_BASE + 0xa00, 0xcafef00d);
	EMU(0x6f); /* outsd */
	assert_done(1, "outs", 0);
	cr_assert_eq(io.value, 0xcafef00d);
	cr_assert_eq(io.size, 4);
	cr_assert_eq(regs.esi, MEM_BASE + 0xa04);

	regs.eflags |= FL_DF;
	regs.esi = MEM_BASE + 0xa03;
	regs.ecx = 4;
	EMU(0xf3, 0x6e); /* rep outsb, DF set: esi counts down */
	assert_done(2, "outs", 0);
	cr_assert_eq(io.outs, 5);
	cr_assert_eq(io.value, 0x0d, "the last byte out is the lowest");
	cr_assert_eq(regs.esi, MEM_BASE + 0x9ff);
	cr_assert_eq(regs.ecx, 0);
}

Test(emulate, rep_with_ecx_zero_does_nothing)
{
	regs.ecx = 0;
	EMU(0xf3, 0x6e); /* rep outsb */
	assert_done(2, "outs", 0);
	cr_assert_eq(io.outs, 0);
	cr_assert_eq(io.reads, 0);
	assert_only_eip_changed();
}

Test(emulate, rep_ins_fault_keeps_the_elements_done)
{
	regs.edx = 0x60;
	regs.edi = RO_PAGE - 2; /* two bytes fit, the third is read-only */
	regs.ecx = 5;
	EMU(0xf3, 0x6c); /* rep insb */
	cr_assert_eq(res.status, EMULATE_FAULT);
	cr_assert_eq(res.fault.vector, T_PF);
	cr_assert_eq(res.fault.error_code, PF_P | PF_W);
	cr_assert_eq(io.ins, 2, "the port is not read for an element that cannot be stored");
	cr_assert_eq(regs.edi, RO_PAGE);
	cr_assert_eq(regs.ecx, 3);
	cr_assert_eq(regs.eip, EIP, "eip stays on the instruction");
}

Test(emulate, rep_outs_yields_after_a_bounded_number_of_elements)
{
	regs.edx = 0x80;
	regs.esi = MEM_BASE;
	regs.ecx = EMULATE_REP_MAX + 10;
	EMU(0xf3, 0x6e); /* rep outsb */
	cr_assert_eq(res.status, EMULATE_DONE);
	cr_assert_eq(regs.eip, EIP, "not finished: the guest will trap on it again");
	cr_assert_eq(regs.ecx, 10);
	cr_assert_eq(io.outs, EMULATE_REP_MAX);
	EMU(0xf3, 0x6e);
	assert_done(2, "outs", 0);
	cr_assert_eq(regs.ecx, 0);
	cr_assert_eq(regs.esi, MEM_BASE + EMULATE_REP_MAX + 10);
}

/* capstone 4 drops a 0x66 that comes before f2/f3; the CPU does not. */
Test(emulate, operand_size_prefix_before_rep_still_counts)
{
	regs.edx = 0x1f0;
	EMU(0x66, 0xf3, 0xed); /* rep in ax, dx (rep is ignored) */
	assert_in(3, 0x1f0, 2, 0x111101f0);
	regs.esi = MEM_BASE + 0xb00;
	regs.ecx = 1;
	put32(MEM_BASE + 0xb00, 0x12345678);
	EMU(0x66, 0xf2, 0x6f); /* repne outsw */
	assert_done(3, "outs", 0);
	cr_assert_eq(io.size, 2);
	cr_assert_eq(io.value, 0x5678);
	cr_assert_eq(regs.esi, MEM_BASE + 0xb02);
	EMU(0x66, 0xf3, 0x9c); /* pushfw */
	assert_unsupported("16-bit operand size");
}

Test(emulate, string_io_forms_we_refuse)
{
	EMU(0x64, 0x6e); /* outsb dx, fs:[esi] */
	assert_unsupported("fs/gs");
	EMU(0x67, 0x6c); /* insb es:[di], dx */
	assert_unsupported("16-bit addressing");
}

/* --- TLB, MSRs, caches ---------------------------------------------------- */

static void assert_invlpg(unsigned size, uint32_t va)
{
	assert_done(size, "invlpg", EMULATE_EFFECT_INVLPG);
	cr_assert_eq(res.invlpg_va, va, "invlpg_va %#x, expected %#x", res.invlpg_va, va);
	cr_assert_eq(io.reads + io.writes, 0, "invlpg does not access memory");
}

Test(emulate, invlpg_effective_addresses)
{
	regs.eax = 0xc0400000;
	EMU(0x0f, 0x01, 0x38); /* invlpg [eax] */
	assert_invlpg(3, 0xc0400000);
	regs.ebx = 0xc0000000;
	regs.esi = 0x100;
	EMU(0x0f, 0x01, 0xbc, 0xf3, 0x34, 0x12, 0x00, 0x00); /* invlpg [ebx + esi*8 + 0x1234] */
	assert_invlpg(8, 0xc0001a34);
	EMU(0x0f, 0x01, 0x3d, 0x34, 0x12, 0x00, 0x00); /* invlpg [0x1234] */
	assert_invlpg(7, 0x1234);
	regs.ebp = 4;
	EMU(0x0f, 0x01, 0x7d, 0xf8); /* invlpg [ebp - 8]: wraps */
	assert_invlpg(4, 0xfffffffc);
	regs.esp = 0xbffff000;
	EMU(0x0f, 0x01, 0x3c, 0x24); /* invlpg [esp] */
	assert_invlpg(4, 0xbffff000);
}

Test(emulate, sysenter_msrs_read_and_write)
{
	regs.ecx = 0x174;
	regs.edx = 0;
	regs.eax = 0x08;
	EMU(0x0f, 0x30); /* wrmsr */
	assert_done(2, "wrmsr", EMULATE_EFFECT_MSR);
	cr_assert_eq(sys.msr_sysenter_cs, 0x08);
	regs.ecx = 0x176;
	regs.eax = 0xc0001234;
	EMU(0x0f, 0x30); /* wrmsr */
	assert_done(2, "wrmsr", EMULATE_EFFECT_MSR);
	cr_assert_eq(sys.msr_sysenter_eip, 0xc0001234);

	regs.eax = regs.edx = 0xffffffff;
	EMU(0x0f, 0x32); /* rdmsr */
	assert_done(2, "rdmsr", 0);
	cr_assert_eq(regs.eax, 0xc0001234);
	cr_assert_eq(regs.edx, 0);
	regs.ecx = 0x174;
	EMU(0x0f, 0x32); /* rdmsr */
	cr_assert_eq(regs.eax, 0x08);
}

Test(emulate, unknown_msrs_are_gp)
{
	regs.ecx = 0x10; /* IA32_TSC: not kept */
	EMU(0x0f, 0x32); /* rdmsr */
	assert_gp0();
	cr_assert_str_eq(res.mnemonic, "rdmsr");
	regs.ecx = 0xc0000080; /* EFER */
	EMU(0x0f, 0x30);       /* wrmsr */
	assert_gp0();
}

Test(emulate, non_canonical_sysenter_address_is_gp)
{
	regs.ecx = 0x175;
	regs.edx = 0x00010000;
	regs.eax = 0;
	EMU(0x0f, 0x30); /* wrmsr */
	assert_gp0();
}

Test(emulate, cache_flushes_do_nothing)
{
	EMU(0x0f, 0x09); /* wbinvd */
	assert_done(2, "wbinvd", 0);
	EMU(0x0f, 0x08); /* invd */
	assert_done(2, "invd", 0);
	assert_only_eip_changed();
}

/* --- What we do not emulate ----------------------------------------------- */

Test(emulate, ordinary_instructions_are_unsupported)
{
	EMU(0x01, 0xd8); /* add eax, ebx */
	assert_unsupported("add eax, ebx");
	cr_assert_str_eq(res.mnemonic, "add");
	EMU(0xcd, 0x80); /* int 0x80 */
	assert_unsupported("int 0x80");
	EMU(0x8e, 0xe0); /* mov fs, eax: only ss, ds and es loads are emulated */
	assert_unsupported("mov fs, eax");
	EMU(0x0f, 0x35); /* sysexit */
	assert_unsupported("sysexit");
	cr_assert_eq(res.effects, 0);
}

/* mov ss with an RPL-0 selector faults in ring 1: the caller loads it. */
Test(emulate, mov_ss_from_register_hands_over_the_selector)
{
	regs.eax = 0x12340010;
	old_regs = regs;
	EMU(0x8e, 0xd0); /* mov ss, eax */
	assert_done(2, "mov sreg", EMULATE_EFFECT_SREG);
	assert_only_eip_changed();
	cr_assert_eq(res.sreg.reg, EMULATE_SREG_SS);
	cr_assert_eq(res.sreg.sel, 0x0010);
}

Test(emulate, mov_ds_from_memory_reads_a_word)
{
	put32(MEM_BASE + 0x2000, 0xabcd0023);
	regs.ebx = MEM_BASE + 0x2000;
	old_regs = regs;
	EMU(0x8e, 0x1b); /* mov ds, word ptr [ebx] */
	assert_done(2, "mov sreg", EMULATE_EFFECT_SREG);
	cr_assert_eq(res.sreg.reg, EMULATE_SREG_DS);
	cr_assert_eq(res.sreg.sel, 0x0023);
}

Test(emulate, mov_es_from_unmapped_memory_faults)
{
	regs.ebx = MEM_BASE + MEM_SIZE + 0x1000;
	old_regs = regs;
	EMU(0x8e, 0x03); /* mov es, word ptr [ebx] */
	assert_pf(0, MEM_BASE + MEM_SIZE + 0x1000);
}

/* Segment truncation (trap.c) needs the operands of instructions we do
 * not emulate: their addresses, sizes and directions. */
Test(emulate, memory_operands_of_an_ordinary_instruction)
{
	struct emulate_mem_operand op[4];

	regs.ebx = 0xffbffff0;
	regs.ecx = 3;
	regs.edx = 0xffc00010;
	EMU(0x8b, 0x44, 0x8b, 0x10); /* mov eax, [ebx + ecx*4 + 0x10] */
	cr_assert_eq(res.status, EMULATE_UNSUPPORTED);
	cr_assert_eq(emulate_mem_operands(&em, &regs, op, 4), 1);
	cr_assert_eq(op[0].va, 0xffc0000c);
	cr_assert_eq(op[0].size, 4);
	cr_assert_not(op[0].write);
	EMU(0x66, 0x89, 0x02); /* mov [edx], ax */
	cr_assert_eq(emulate_mem_operands(&em, &regs, op, 4), 1);
	cr_assert_eq(op[0].va, 0xffc00010);
	cr_assert_eq(op[0].size, 2);
	cr_assert(op[0].write);
	EMU(0x01, 0xd8); /* add eax, ebx: none */
	cr_assert_eq(emulate_mem_operands(&em, &regs, op, 4), 0);
	EMU(0x64, 0x8b, 0x02); /* mov eax, fs:[edx]: FS may have a base, left out */
	cr_assert_eq(emulate_mem_operands(&em, &regs, op, 4), 0);
}

Test(emulate, ud2_is_reflected_as_ud)
{
	EMU(0x0f, 0x0b); /* ud2 */
	assert_fault(T_UD, false, 0);
	cr_assert_str_eq(res.mnemonic, "ud");
}

Test(emulate, undecodable_bytes_are_ud)
{
	EMU(0x0f, 0x01, 0x28, 0x00); /* 0f 01 /5 with memory: no such instruction */
	assert_fault(T_UD, false, 0);
	cr_assert_str_eq(res.mnemonic, "(bad)");
	cr_assert(strstr(res.text, "0f 01 28"), "%s", res.text);
	EMU(0xf0, 0xfa); /* lock cli */
	assert_fault(T_UD, false, 0);
}

Test(emulate, nothing_to_decode_is_ud)
{
	run(NULL, 0);
	assert_fault(T_UD, false, 0);
}

/* The page fault of an instruction fetch that ran into a missing page. */
/* clang-format off */
static const struct emulate_fault fetch_pf = {
	.vector = T_PF,
	.has_error = true,
	.error_code = 0,
	.cr2 = 0xc0002000,
};
/* clang-format on */

Test(emulate, truncated_instruction_takes_the_fetch_fault)
{
	static const uint8_t lgdt[] = {0x0f, 0x01}; /* lgdt [eax] is 0f 01 10 */

	run_fetch(lgdt, sizeof(lgdt), &fetch_pf);
	assert_pf(0, 0xc0002000);
	cr_assert_str_eq(res.mnemonic, "(fetch)");
	run_fetch(lgdt, 0, &fetch_pf); /* the first byte is already missing */
	assert_pf(0, 0xc0002000);
}

Test(emulate, truncated_instruction_without_a_fetch_fault_is_ud)
{
	static const uint8_t movcr[] = {0x0f, 0x22}; /* mov cr0, eax is 0f 22 c0 */

	run(movcr, sizeof(movcr));
	assert_fault(T_UD, false, 0);
}

Test(emulate, an_instruction_that_fits_ignores_the_fetch_fault)
{
	static const uint8_t cli[] = {0xfa};

	run_fetch(cli, sizeof(cli), &fetch_pf);
	assert_done(1, "cli", 0);
}

Test(emulate, undefined_bytes_before_the_fetch_fault_are_ud)
{
	static const uint8_t bad[] = {0x0f, 0x01, 0x28, 0x00};

	run_fetch(bad, sizeof(bad), &fetch_pf);
	assert_fault(T_UD, false, 0);
}

Test(emulate, more_than_fifteen_bytes_is_gp)
{
	uint8_t bytes[EMULATE_MAX_INSN];

	memset(bytes, 0x66, sizeof(bytes));
	run(bytes, sizeof(bytes)); /* fifteen prefixes and no opcode yet */
	assert_gp0();
	memset(bytes, 0x3e, sizeof(bytes));
	memcpy(bytes + 12, ((uint8_t[]){0x0f, 0x01, 0x10}), 3); /* lgdt ds:[eax], 12 prefixes */
	regs.eax = MEM_BASE;
	run(bytes, sizeof(bytes));
	assert_done(15, "lgdt", EMULATE_EFFECT_GDT);
	memcpy(bytes + 12, ((uint8_t[]){0x3e, 0x0f, 0x01}), 3); /* the same, 13 prefixes */
	run(bytes, sizeof(bytes));
	assert_gp0();
}

/* --- Robustness ----------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Half the time a register points into the fake memory, so memory forms get far. */
static uint32_t random_value(void)
{
	return (rng() & 1) ? MEM_BASE + (rng() % (MEM_SIZE + 16)) - 8 : rng();
}

/* Opcode starts that lead into the instructions we emulate. */
/* clang-format off */
static const uint8_t interesting[][2] = {
	{ 0x0f, 0x00 }, { 0x0f, 0x01 }, { 0x0f, 0x20 }, { 0x0f, 0x21 }, { 0x0f, 0x22 },
	{ 0x0f, 0x23 }, { 0x0f, 0x06 }, { 0x0f, 0x30 }, { 0x0f, 0x32 }, { 0x9c, 0x9d },
	{ 0x9d, 0x9c }, { 0xcf, 0xcf }, { 0xf3, 0x6c }, { 0xf3, 0x6f }, { 0x66, 0xed },
	{ 0xe4, 0x00 }, { 0x66, 0x0f }, { 0x67, 0x0f }, { 0x64, 0x0f }, { 0xf0, 0x0f },
};
/* clang-format on */

static void random_instruction(uint8_t *bytes)
{
	for (int i = 0; i < EMULATE_MAX_INSN; i++)
		bytes[i] = (uint8_t)rng();
	if (rng() % 4 != 0) {
		const uint8_t *start = interesting[rng() % (sizeof(interesting) / 2)];

		bytes[0] = start[0];
		bytes[1] = start[1];
	}
}

/* rep counts stay small, mostly: every element costs three callbacks. */
static void random_state(void)
{
	uint32_t ecx = (rng() % 64 == 0) ? rng() : rng() % 64;

	regs.eax = random_value();
	regs.ecx = ecx;
	regs.edx = random_value();
	regs.ebx = random_value();
	regs.esp = random_value();
	regs.ebp = random_value();
	regs.esi = random_value();
	regs.edi = random_value();
	regs.eip = rng();
	regs.eflags = rng();
	sys.cr0 = rng();
	sys.cr4 = rng() & 0xff;
	sys.cr3 = rng();
}

Test(emulate, random_bytes_never_break_it, .timeout = 30)
{
	uint8_t bytes[EMULATE_MAX_INSN];
	struct emulate_fault fetch = fetch_pf;
	unsigned count[3] = {0};

	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)rng();
	for (int n = 0; n < 300000; n++) {
		size_t len = (rng() % 8 == 0) ? rng() % EMULATE_MAX_INSN : EMULATE_MAX_INSN;
		bool is_string_io;

		random_instruction(bytes);
		random_state();
		run_fetch(bytes, len, (len < EMULATE_MAX_INSN && (rng() & 1)) ? &fetch : NULL);
		cr_assert(memchr(res.text, 0, sizeof(res.text)), "text not terminated");
		cr_assert(memchr(res.mnemonic, 0, sizeof(res.mnemonic)), "mnemonic not terminated");
		is_string_io = !strcmp(res.mnemonic, "ins") || !strcmp(res.mnemonic, "outs");
		switch (res.status) {
		case EMULATE_DONE:
			cr_assert_leq(regs.eip - old_regs.eip, EMULATE_MAX_INSN, "%s", res.text);
			break;
		case EMULATE_FAULT:
			cr_assert(res.fault.vector == T_UD || res.fault.vector == T_GP ||
				      res.fault.vector == T_SS || res.fault.vector == T_PF,
				  "vector %u", res.fault.vector);
			cr_assert_eq(res.effects, 0);
			cr_assert(sys_equal(&sys, &old_sys), "%s", res.text);
			cr_assert(is_string_io || regs_equal(&regs, &old_regs), "%s", res.text);
			cr_assert_eq(regs.eip, old_regs.eip, "%s", res.text);
			break;
		case EMULATE_UNSUPPORTED:
			cr_assert_eq(res.effects, 0);
			cr_assert(sys_equal(&sys, &old_sys), "%s", res.text);
			cr_assert(regs_equal(&regs, &old_regs), "%s", res.text);
			break;
		default:
			cr_assert_fail("status %d", res.status);
		}
		count[res.status]++;
	}
	/* About a third each: the mix keeps reaching every outcome. */
	for (int st = EMULATE_DONE; st <= EMULATE_UNSUPPORTED; st++)
		cr_assert_gt(count[st], 50000, "status %d only %u times", st, count[st]);
}

/* --- Ordinary stores: the guest writing its page tables (emulate_store) ---- */

static void run_store(const uint8_t *bytes, size_t n)
{
	old_regs = regs;
	old_sys = sys;
	memset(&res, 0x5a, sizeof(res));
	emulate_store(&em, bytes, n, NULL, &regs, &ops, &res);
}

#define STORE(...)                                                                                 \
	do {                                                                                       \
		static const uint8_t insn_[] = {__VA_ARGS__};                                      \
		run_store(insn_, sizeof(insn_));                                                   \
	} while (0)

#define PTE_AT (MEM_BASE + 0x2004u)

Test(emulate, store_mov_writes_1_2_and_4_bytes)
{
	put32(PTE_AT, 0xaabbccdd);
	regs.edx = PTE_AT;
	regs.eax = 0x00123067;
	STORE(0x89, 0x02); /* mov [edx], eax */
	assert_done(2, "mov", 0);
	cr_assert_eq(get32(PTE_AT), 0x00123067);
	regs.eax = 0x11112207; /* mov [edx], ax: the low word only */
	STORE(0x66, 0x89, 0x02);
	cr_assert_eq(get32(PTE_AT), 0x00122207);
	regs.eax = 0x11111105; /* mov [edx+1], ah */
	STORE(0x88, 0x62, 0x01);
	cr_assert_eq(get32(PTE_AT), 0x00121107);
	STORE(0xc7, 0x42, 0x04, 0x01, 0x20, 0x00, 0x00); /* mov dword [edx+4], 0x2001 */
	assert_done(7, "mov", 0);
	cr_assert_eq(get32(PTE_AT + 4), 0x2001);
	cr_assert_eq(regs.eflags, old_regs.eflags, "mov sets no flags");
}

Test(emulate, store_or_and_set_flags_like_the_cpu)
{
	put32(PTE_AT, 0x00005005);
	regs.edx = PTE_AT;
	STORE(0x83, 0x0a, 0x02); /* or dword [edx], 2 */
	assert_done(3, "or", 0);
	cr_assert_eq(get32(PTE_AT), 0x00005007);
	cr_assert_eq(regs.eflags & (FL_ZF | FL_CF), 0);
	STORE(0x83, 0x22, 0x00); /* and dword [edx], 0 */
	cr_assert_eq(get32(PTE_AT), 0);
	cr_assert(regs.eflags & FL_ZF, "zero result");
	put32(PTE_AT, 1);
	STORE(0x83, 0x2a, 0x02); /* sub dword [edx], 2: borrow, negative */
	assert_done(3, "sub", 0);
	cr_assert_eq(get32(PTE_AT), 0xffffffffu);
	cr_assert(regs.eflags & FL_CF, "borrow");
	cr_assert(regs.eflags & 0x80u, "sign");
}

Test(emulate, store_xchg_swaps_an_entry_out)
{
	put32(PTE_AT, 0x00042067);
	regs.edx = PTE_AT;
	regs.eax = 0;
	STORE(0x87, 0x02); /* xchg [edx], eax */
	assert_done(2, "xchg", 0);
	cr_assert_eq(get32(PTE_AT), 0);
	cr_assert_eq(regs.eax, 0x00042067);
}

Test(emulate, store_cmpxchg_swaps_only_what_it_expects)
{
	put32(PTE_AT, 0x00042067);
	regs.edx = PTE_AT;
	regs.eax = 0x00042067;
	regs.ecx = 0x00043067;
	STORE(0x0f, 0xb1, 0x0a); /* cmpxchg [edx], ecx: equal, so stored */
	assert_done(3, "cmpxchg", 0);
	cr_assert_eq(get32(PTE_AT), 0x00043067);
	cr_assert(regs.eflags & FL_ZF);
	cr_assert_eq(regs.eax, 0x00042067);
	STORE(0x0f, 0xb1, 0x0a); /* not equal now: eax gets the entry */
	cr_assert_eq(get32(PTE_AT), 0x00043067);
	cr_assert_eq(regs.eflags & FL_ZF, 0);
	cr_assert_eq(regs.eax, 0x00043067);
}

Test(emulate, store_single_stos_but_not_rep_stos)
{
	regs.edi = PTE_AT;
	regs.eax = 0x7;
	STORE(0xab); /* stosd */
	assert_done(1, "stos", 0);
	cr_assert_eq(get32(PTE_AT), 7);
	cr_assert_eq(regs.edi, PTE_AT + 4);
	STORE(0xf3, 0xab); /* rep stosd: a memset, for the caller to unshadow */
	assert_unsupported("rep stos");
}

Test(emulate, store_faults_and_refusals)
{
	regs.edx = MEM_END - 2; /* the dword runs off the end of memory */
	STORE(0x89, 0x02);
	assert_pf(PF_W, MEM_END);
	STORE(0x0f, 0xc1, 0x0a); /* xadd [edx], ecx */
	assert_unsupported("not a store we emulate");
	STORE(0x8b, 0x02); /* mov eax, [edx]: a load */
	assert_unsupported("not a store to memory");
}
