/*
 * fuzz.c - the guest fuzzer's kernel (issue 7).  One image, fed by a seed.
 *
 * kvmshadow treats every byte a guest writes as hostile.  This kernel is
 * the hostile guest, made random: from the seed on its command line it
 * draws a long run of operations that a VMM of our kind has to get right,
 * and does them from its kernel (ring 0 as it believes; ring 1 in shadow
 * mode) and from user mode.  It checks almost nothing itself.  The checks
 * are the VMM's invariants, and tools/fuzz-guest checks them around it:
 * kvmshadow must not crash, hang or trip a sanitizer; --check-shadow must
 * find the shadow equal to these page tables before every resume; and
 * --canary must find every machine frame that is not ours untouched.
 *
 * The kernel phase (ops=N) does N operations, each one of:
 *   - a store to one of its page tables or to a directory slot, with one
 *     of the store forms the VMM emulates (mov, or, and, xchg, cmpxchg...)
 *     or does not (bts, rep movs, cmpxchg8b, pop to memory), aligned or
 *     not, of 1, 2 or 4 bytes; the new entry may name a data frame, a page
 *     table (cyclic and self-referencing tables), the directory itself, a
 *     frame past the end of memory, or a 4 MiB page straddling the end;
 *   - a load or store through the "playground" (0x40000000-0x40ffffff)
 *     those tables map;
 *   - invlpg, CR3 switches between two directories, CR0 and CR4 bit flips;
 *   - a random descriptor (code, data, conforming, call gate, TSS, LDT,
 *     any DPL, any base and limit) in a spare GDT slot, then a segment
 *     load, far call, lldt, ltr or lar with a selector for it;
 *   - a privileged instruction the VMM emulates, with random operands;
 *   - int n for any n, int3, into, icebp, ud2;
 *   - a few random bytes, run as code.
 * An operation that faults is abandoned: the trap handler jumps back to
 * the loop (fz_setjmp), which puts back the few things an operation may
 * have broken (segments, GDT, IDT, TR, paging bits) and goes on.  A timer
 * at 100 Hz abandons an operation that runs too long.  Some operations
 * still break the kernel for good (a random CR3, a random IDT); the run
 * then ends, with a triple fault or a report from kvmshadow, and that is
 * an outcome like any other: what matters is how the VMM came through.
 *
 * The user phase (user=N) runs N chunks of random bytes in ring 3, each
 * from the same registers and memory in every mode, and hashes how each
 * one ended: the vector, error code and eip offset, the registers and the
 * two user data pages.  It prints the hash every 64 chunks.  These lines
 * must be the same under --mode=hw and shadow mode: user mode runs on the
 * real CPU in both, so any difference is the VMM's (tools/fuzz-guest
 * --diff compares them).
 *
 * At the end the kernel reads all its memory, and every page its
 * playground maps, looking for kvmshadow's canary (--canary fills every
 * machine frame the guest does not own with it): seeing one means the VMM
 * let the guest read memory that is not its own, and the kernel exits 3.
 *
 * Command line: seed=N ops=N user=N (defaults 1, 2000, 256).
 * Exit status (debug-exit port): 0 done, 2 the kernel broke itself
 * (a trap outside any operation), 3 a canary was seen.
 */
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"

#define COM1	     0x3f8
#define PORT_EXIT    0xf4
#define KCODE	     0x08
#define KDATA	     0x10
#define UCODE	     0x1b
#define UDATA	     0x23
#define TSS_SEL	     0x28
#define SPARE_FIRST  6
#define GDT_ENTRIES  16
#define PLAY_BASE    0x40000000u
#define PLAY_SLOTS   4 /* directory slots 256..259: 16 MiB */
#define PLAY_SLOT0   (PLAY_BASE >> 22)
#define USER_BASE    0x08000000u
#define USER_SLOT    (USER_BASE >> 22)
#define USER_DATA    (USER_BASE + 0x1000)
#define USER_STACK   (USER_BASE + 0x2800)
#define DATA_FRAMES  64
#define KMAP_MAX     (16u << 20) /* we map at most 16 MiB of memory */
#define WATCHDOG     5		 /* ticks (50 ms) an operation may take */
#define VEC_DONE     0x81	 /* user mode's "chunk over" */
#define VEC_HANG     0xff	 /* our marks for the hash: the watchdog... */
#define VEC_MONHOLE  0xfe	 /* ...and a fault in the monitor's 4 MiB */
#define MONITOR_BASE 0xffc00000u

#define PTE_P	0x001
#define PTE_W	0x002
#define PTE_U	0x004
#define PTE_A	0x020
#define PTE_D	0x040
#define PTE_PS	0x080
#define PTE_G	0x100
#define CR0_PE	0x00000001u
#define CR0_WP	0x00010000u
#define CR0_PG	0x80000000u
#define CR4_PAE 0x00000020u

struct fz_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
};

struct fz_frame {
	uint32_t gs, fs, es, ds, edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vec, err, eip, cs, eflags, esp, ss;
};

struct fz_jmp {
	uint32_t ebx, esi, edi, ebp, esp, eip;
};

struct __attribute__((packed)) fz_dtr {
	uint16_t limit;
	uint32_t base;
};

/* entry.S */
typedef void fz_snippet(void);
int fz_setjmp(struct fz_jmp *jb);
uint32_t fz_call(fz_snippet *s, struct fz_regs *r);
void fz_user_enter(struct fz_regs *r, uint32_t eip, uint32_t esp, uint32_t eflags)
    __attribute__((noreturn));
void fz_reload_segments(void);
extern const uint32_t fz_stubs[256];
extern char fz_far_target[], fz_int_table[], fz_text_end[], fz_end_[];
fz_snippet s_cr0_write, s_cr3_write, s_cr4_write, s_cr_read, s_lgdt, s_lidt, s_sdt, s_lldt, s_ltr,
    s_lmsw, s_clts, s_invlpg, s_wbinvd, s_load_fs, s_load_gs, s_load_ds, s_load_es, s_load_ss,
    s_pushpop_seg, s_lcall, s_lar, s_iret3, s_popf, s_cli_sti, s_hlt, s_in, s_out, s_outw, s_ins,
    s_outs, s_cpuid, s_rdmsr, s_dr, s_int3, s_into, s_icebp, s_ud2, s_st_mov, s_st_movw, s_st_movb,
    s_st_movah, s_st_or, s_st_and, s_st_xor, s_st_add, s_st_sub, s_st_xchg, s_st_cmpxchg,
    s_st_cmpxchg8b, s_st_bts, s_st_stos, s_st_stosb, s_st_movs, s_st_imm, s_ld, s_ldb, s_push_mem,
    s_pop_mem, s_rand;

/* The machine we build.  Page-aligned things first. */
static uint32_t kpd[1024] __attribute__((aligned(4096)));
static uint32_t kpd2[1024] __attribute__((aligned(4096)));
static uint32_t kpt[KMAP_MAX >> 22][1024] __attribute__((aligned(4096)));
static uint32_t ppt[PLAY_SLOTS][1024] __attribute__((aligned(4096)));
static uint32_t upt[1024] __attribute__((aligned(4096)));
static uint8_t pdata[DATA_FRAMES][4096] __attribute__((aligned(4096)));
static uint8_t ucode[4096] __attribute__((aligned(4096)));
static uint8_t udata[2][4096] __attribute__((aligned(4096)));
static uint8_t rand_code[4096] __attribute__((aligned(4096)));
static uint8_t scratch[4096] __attribute__((aligned(4096)));
static uint8_t trap_stack[16384] __attribute__((aligned(4096)));
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
static uint32_t tss[26];
uint8_t *fz_rand_code_ptr = rand_code;
struct fz_jmp fz_jb;

static uint32_t mem_bytes, kmap_bytes, fz_end;
static uint32_t rng = 1;
static uint32_t verbose; /* verbose=1: print each user chunk's code first */
static uint32_t good_cr0, good_cr4;
static volatile uint32_t ticks, op_start;
static volatile int in_op; /* 0: no operation; 1: kernel; 3: user */

/* What the operations saw, for the summary line. */
static uint32_t n_ops, n_abandoned, n_hangs, n_debug;
static uint32_t vec_seen[8]; /* bitmap of vectors that abandoned an operation */

/* The user phase's record of how the chunk ended. */
static struct fz_frame user_end;
static uint32_t user_cr2;

/* ---- tiny helpers ------------------------------------------------------ */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t read_cr2(void)
{
	uint32_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void fz_exit(uint8_t status)
{
	for (;;)
		outb(PORT_EXIT, status);
}

static void puts(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

static void putdec(uint32_t v)
{
	char buf[12];
	int i = 11;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts(buf + i);
}

static void puthex(uint32_t v)
{
	char buf[11] = "0x";

	for (int i = 0; i < 8; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
	buf[10] = 0;
	puts(buf);
}

/* Marsaglia's xorshift32, seeded from the command line. */
static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t rnd(uint32_t n)
{
	return rnd32() % n;
}

static void fz_memset(void *p, int c, size_t n)
{
	uint8_t *d = p;

	while (n--)
		*d++ = (uint8_t)c;
}

/* FNV-1a, 32 bits: the user phase's hash. */
static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static uint32_t hash_word(uint32_t h, uint32_t w)
{
	return hash_bytes(h, &w, sizeof(w));
}

/*
 * No iret (0xcf) in random code: QEMU's TCG, the CPU of our sandbox,
 * lets an iret at any privilege enter virtual-8086 mode when the popped
 * EFLAGS has VM set (a real CPU does so only at CPL 0), and what follows
 * is the emulator's, not kvmshadow's (Documentation/security.md).
 */
static void no_iret(uint8_t *code, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (code[i] == 0xcf)
			code[i] = 0x90;
}

/* ---- the command line ---------------------------------------------------- */

static uint32_t arg_value(const char *cmdline, const char *key, uint32_t dflt)
{
	for (const char *p = cmdline; p && *p; p++) {
		const char *k = key, *q = p;
		uint32_t v = 0;

		if (p != cmdline && p[-1] != ' ')
			continue;
		while (*k && *q == *k)
			k++, q++;
		if (*k || *q != '=')
			continue;
		for (q++; *q >= '0' && *q <= '9'; q++)
			v = v * 10 + (uint32_t)(*q - '0');
		return v;
	}
	return dflt;
}

/* ---- descriptors ----------------------------------------------------------- */

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf0) << 48 | (uint64_t)(base >> 24) << 56;
}

static uint64_t gate(uint32_t offset, uint16_t sel, uint8_t type_attr)
{
	return (uint64_t)(offset & 0xffff) | (uint64_t)sel << 16 | (uint64_t)type_attr << 40 |
	       (uint64_t)(offset >> 16) << 48;
}

static void tss_desc_reset(void)
{
	gdt[TSS_SEL >> 3] = desc((uint32_t)tss, sizeof(tss) - 1, 0x89, 0);
}

/*
 * The user segments end at 0xffbfffff: in shadow mode the top 4 MiB is the
 * monitor's, and a guest segment that reached it would be cut there
 * anyway, so with this limit both modes fault the same way at the top.
 */
static void gdt_build(void)
{
	gdt[0] = 0;
	gdt[KCODE >> 3] = desc(0, 0xfffff, 0x9a, 0xc0);
	gdt[KDATA >> 3] = desc(0, 0xfffff, 0x92, 0xc0);
	gdt[UCODE >> 3] = desc(0, 0xffbff, 0xfa, 0xc0);
	gdt[UDATA >> 3] = desc(0, 0xffbff, 0xf2, 0xc0);
	tss_desc_reset();
	for (int i = SPARE_FIRST; i < GDT_ENTRIES; i++)
		gdt[i] = 0;
}

static void idt_build(void)
{
	for (int v = 0; v < 256; v++) {
		int dpl = (v == 3 || v == 4 || v == VEC_DONE) ? 3 : 0;

		idt[v] = gate(fz_stubs[v], KCODE, (uint8_t)(0x8e | dpl << 5));
	}
}

static void load_tables(void)
{
	struct fz_dtr g = {sizeof(gdt) - 1, (uint32_t)gdt};
	struct fz_dtr i = {sizeof(idt) - 1, (uint32_t)idt};

	__asm__ volatile("lgdt %0; lidt %1" : : "m"(g), "m"(i));
	fz_reload_segments();
}

/* ltr marks the TSS busy, and a busy TSS cannot be loaded again. */
static void load_tr(void)
{
	tss_desc_reset();
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

static uint16_t read_tr(void)
{
	uint16_t tr;

	__asm__ volatile("str %0" : "=r"(tr));
	return tr;
}

/* ---- paging ------------------------------------------------------------------- */

static void paging_build(void)
{
	uint32_t text_end = ((uint32_t)fz_text_end + 4095) & ~4095u;

	for (uint32_t pa = 0; pa < kmap_bytes; pa += 4096) {
		uint32_t flags = PTE_P | PTE_W;

		if (pa >= 0x100000 && pa < text_end)
			flags = PTE_P; /* our code: read-only, with CR0.WP */
		kpt[pa >> 22][(pa >> 12) & 1023] = pa | flags;
	}
	for (uint32_t i = 0; i < (kmap_bytes + (4u << 20) - 1) >> 22; i++)
		kpd[i] = (uint32_t)kpt[i] | PTE_P | PTE_W;
	for (int s = 0; s < PLAY_SLOTS; s++) {
		for (int i = 0; i < 1024; i++)
			ppt[s][i] =
			    (uint32_t)pdata[(s * 1024 + i) % DATA_FRAMES] | PTE_P | PTE_W | PTE_U;
		kpd[PLAY_SLOT0 + s] = (uint32_t)ppt[s] | PTE_P | PTE_W | PTE_U;
	}
	upt[0] = (uint32_t)ucode | PTE_P | PTE_U;
	upt[1] = (uint32_t)udata[0] | PTE_P | PTE_W | PTE_U;
	upt[2] = (uint32_t)udata[1] | PTE_P | PTE_W | PTE_U;
	kpd[USER_SLOT] = (uint32_t)upt | PTE_P | PTE_W | PTE_U;
	for (int i = 0; i < 1024; i++)
		kpd2[i] = kpd[i];
	/* The second directory sees the playground's tables in another order. */
	for (int s = 0; s < PLAY_SLOTS; s++)
		kpd2[PLAY_SLOT0 + s] = (uint32_t)ppt[PLAY_SLOTS - 1 - s] | PTE_P | PTE_W | PTE_U;
}

static uint32_t read_cr(int n)
{
	uint32_t v = 0;

	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void paging_on(void)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(kpd));
	good_cr0 = read_cr(0) | CR0_PG | CR0_WP | CR0_PE;
	__asm__ volatile("mov %0, %%cr0" : : "r"(good_cr0));
	good_cr4 = read_cr(4);
}

/* ---- the PIC and the PIT: a 100 Hz watchdog ------------------------------------ */

static void timer_start(void)
{
	static const uint8_t pic[][2] = {
	    {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfe},
	    {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01}, {0xa1, 0xff},
	};

	for (size_t i = 0; i < sizeof(pic) / sizeof(pic[0]); i++)
		outb(pic[i][0], pic[i][1]);
	outb(0x43, 0x34);
	outb(0x40, 11932 & 0xff); /* 1193182 Hz / 11932: 100 Hz */
	outb(0x40, 11932 >> 8);
	__asm__ volatile("sti");
}

/* ---- traps ------------------------------------------------------------------------ */

static void record_vector(uint32_t v)
{
	vec_seen[(v & 0xff) >> 5] |= 1u << (v & 31);
}

/*
 * Every trap comes here.  Return 0 to resume where it happened, 1 to
 * abandon the operation (back to fz_setjmp in the loop).
 */
int fz_trap(struct fz_frame *f);
int fz_trap(struct fz_frame *f)
{
	if (f->vec >= 0x20 && f->vec < 0x30) {
		if (f->vec >= 0x28)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);
		if (f->vec == 0x20)
			ticks++;
		if (in_op && ticks - op_start > WATCHDOG) {
			n_hangs++;
			user_end.vec = VEC_HANG;
			return 1;
		}
		return 0;
	}
	/* A single-step trap after a popf that set TF: clear it, go on. */
	if (f->vec == 1 && in_op == 1 && (f->eflags & 0x100)) {
		f->eflags &= ~0x100u;
		n_debug++;
		return 0;
	}
	if (!in_op) {
		puts("fuzz: trap ");
		puthex(f->vec);
		puts(" error ");
		puthex(f->err);
		puts(" at ");
		puthex(f->eip);
		puts(" outside any operation: the kernel broke itself\n");
		fz_exit(2);
	}
	record_vector(f->vec);
	if (in_op == 3) {
		user_end = *f;
		user_cr2 = f->vec == 14 ? read_cr2() : 0;
	}
	return 1;
}

/* ---- the kernel phase ------------------------------------------------------------------ */

static uint32_t play_va(void)
{
	uint32_t va = PLAY_BASE + rnd(PLAY_SLOTS << 22);

	switch (rnd(4)) {
	case 0:
		return va & ~3u;
	case 1:
		return (va | 0xfff) - rnd(4); /* the last bytes of a page */
	default:
		return va;
	}
}

/*
 * A frame a page-table entry may name.  *ro is set for our own
 * directories: mapped writable, one stray store through the alias would
 * unmap the kernel at once, and the run would end there.
 */
static uint32_t target_frame(int *ro)
{
	uint32_t roll = rnd(64);

	*ro = 0;
	if (roll < 24)
		return (uint32_t)pdata[rnd(DATA_FRAMES)];
	if (roll < 32)
		return (uint32_t)ppt[rnd(PLAY_SLOTS)]; /* a page table: cycles */
	if (roll < 38) {
		*ro = 1;
		return rnd(2) ? (uint32_t)kpd : (uint32_t)kpd2; /* a directory */
	}
	/* Past the end of memory: kvmshadow stops a guest whose page walk
	 * leaves its memory, so this ends the run - now and then only. */
	if (roll == 38)
		return rnd(2) ? mem_bytes + rnd(64) * 4096 : rnd32() & ~4095u;
	if (roll < 44)
		return (uint32_t)udata[rnd(2)];
	/* Memory that is not our kernel's: below 1 MiB, or above us. */
	if (rnd(2))
		return rnd(256) << 12;
	return fz_end + (rnd((mem_bytes - fz_end) >> 12) << 12);
}

static uint32_t random_flags(int pde)
{
	uint32_t f = rnd32() & 0xfff;

	if (rnd(8))
		f |= PTE_P;
	if (!pde || rnd(4))
		f &= ~PTE_PS;
	return f;
}

static uint32_t random_pte(void)
{
	int ro;
	uint32_t frame = target_frame(&ro);

	return frame | (random_flags(0) & (ro ? ~(uint32_t)PTE_W : ~0u));
}

static uint32_t random_pde(void)
{
	uint32_t f = random_flags(1);

	if (f & PTE_PS) {
		/* A 4 MiB page: below, across or past the end of memory. */
		uint32_t base = rnd(4) ? rnd((mem_bytes >> 22) + 2) << 22 : rnd32() & ~0x3fffffu;

		return base | (base < kmap_bytes ? f & ~(uint32_t)PTE_W : f);
	}
	return random_pte() | (f & PTE_PS);
}

/* A page-table entry or a playground directory slot, by its address. */
static uint32_t *random_entry(void)
{
	switch (rnd(8)) {
	case 0:
		return &kpd[PLAY_SLOT0 + rnd(PLAY_SLOTS)];
	case 1:
		return &kpd2[PLAY_SLOT0 + rnd(PLAY_SLOTS)];
	case 2:
		return &upt[rnd(4)];
	default:
		return &ppt[rnd(PLAY_SLOTS)][rnd(1024)];
	}
}

static fz_snippet *const store_forms[] = {
    s_st_mov,  s_st_mov,   s_st_mov,	   s_st_movw, s_st_movb, s_st_movah,   s_st_or,
    s_st_and,  s_st_xor,   s_st_add,	   s_st_sub,  s_st_xchg, s_st_cmpxchg, s_st_bts,
    s_st_stos, s_st_stosb, s_st_cmpxchg8b, s_st_movs, s_st_imm,	 s_pop_mem,
};

/* A store to a page table or directory, in one of many forms. */
static void op_pt_store(struct fz_regs *r)
{
	uint32_t *e = random_entry();
	fz_snippet *s = store_forms[rnd(sizeof(store_forms) / sizeof(store_forms[0]))];
	uint32_t value = (e >= &kpd[0] && e < &kpd[1024]) || (e >= &kpd2[0] && e < &kpd2[1024])
			     ? random_pde()
			     : random_pte();

	r->edi = (uint32_t)e + (rnd(8) ? 0 : 1 + rnd(3)); /* now and then misaligned */
	if (rnd(8) == 0)
		r->edi = play_va(); /* through the playground: perhaps a table's alias */
	r->eax = value;
	r->ebx = s == s_st_bts ? rnd(32) : value;
	if (s == s_st_cmpxchg && rnd(4))
		r->eax = *e; /* usually the right old value */
	if (s == s_st_cmpxchg8b) {
		r->eax = *e;
		r->edx = e[1];
		r->ecx = rnd32();
	}
	r->ecx = s == s_st_stos ? 1 + rnd(4) : s == s_st_movs ? 1 + rnd(16) : r->ecx;
	r->esi = (uint32_t)pdata[rnd(DATA_FRAMES)] + rnd(4000);
	fz_call(s, r);
}

static fz_snippet *const access_forms[] = {s_ld,       s_ldb,	  s_st_mov,  s_st_movb,
					   s_push_mem, s_pop_mem, s_st_movs, s_st_xchg};

static void op_access(struct fz_regs *r)
{
	r->esi = play_va();
	r->edi = play_va();
	r->ecx = 1 + rnd(64);
	fz_call(access_forms[rnd(sizeof(access_forms) / sizeof(access_forms[0]))], r);
}

/* invlpg, CR3 switches, CR0 and CR4 bits. */
static void op_tlb_cr(struct fz_regs *r)
{
	static const uint32_t cr0_bits[] = {CR0_WP,  0x8,	 0x2,	     0x4,   0x20,
					    0x40000, 0x20000000, 0x40000000, CR0_PG};
	/* Not PAE: our tables would mean something else at the next fetch.
	 * Not SMEP: QEMU's TCG (the sandbox's CPU) spins forever on that
	 * mov to CR4 (seen with seed 1). */
	static const uint32_t cr4_bits[] = {0x10, 0x80, 0x4, 0x8, 0x1, 0x2, 0x200, 0x800};

	switch (rnd(8)) {
	case 0:
	case 1:
		r->esi = play_va();
		fz_call(s_invlpg, r);
		break;
	case 2:
	case 3: {
		uint32_t roll = rnd(64);

		int ro;

		r->eax = roll == 0   ? target_frame(&ro)
			 : roll == 1 ? mem_bytes + 4096 * rnd(16) /* outside memory */
			 : rnd(2)    ? (uint32_t)kpd
				     : (uint32_t)kpd2;
		r->eax |= rnd32() & 0x18; /* PWT, PCD */
		fz_call(s_cr3_write, r);
		break;
	}
	case 4:
		r->eax = read_cr(0) ^ cr0_bits[rnd(sizeof(cr0_bits) / sizeof(cr0_bits[0]))];
		fz_call(s_cr0_write, r);
		break;
	case 5:
		r->eax = read_cr(4) ^ cr4_bits[rnd(sizeof(cr4_bits) / sizeof(cr4_bits[0]))];
		fz_call(s_cr4_write, r);
		break;
	case 6:
		r->eax = rnd32();
		fz_call(s_lmsw, r);
		break;
	default:
		fz_call(rnd(2) ? s_cr_read : s_clts, r);
		break;
	}
}

static uint32_t random_base(void)
{
	switch (rnd(5)) {
	case 0:
		return 0;
	case 1:
		return MONITOR_BASE + rnd(1u << 22);
	case 2:
		return mem_bytes - rnd(8192);
	case 3:
		return (uint32_t)gdt;
	default:
		return rnd32();
	}
}

/* A random descriptor in a spare GDT slot; returns its selector. */
static uint16_t random_descriptor(void)
{
	static const uint8_t types[] = {0x9a, 0x92, 0x98, 0x90, 0x9e, 0x96, 0x9c,
					0x89, 0x82, 0x8c, 0x85, 0x84, 0x8e, 0x8b};
	int slot = SPARE_FIRST + (int)rnd(GDT_ENTRIES - SPARE_FIRST);
	/* Mostly plain code and data of DPL 0 or 3: kvmshadow stops a guest
	 * kernel that loads anything else (it keeps rings 1 and 2, and does
	 * not mirror gates, TSSs, LDTs or conforming code). */
	uint8_t type = types[rnd(4) ? rnd(4) : rnd(sizeof(types))];
	uint8_t dpl = (uint8_t)(rnd(8) ? rnd(2) * 3 : rnd(4));
	uint8_t access = (uint8_t)(type | dpl << 5);
	uint64_t d;

	if (!rnd(10))
		access &= 0x7f; /* not present */
	if ((access & 0x1f) == 0x0c || (access & 0x1f) == 0x04) {
		/* A call gate, to our code or to a random selector. */
		uint16_t sel = rnd(2) ? KCODE : (uint16_t)(rnd(GDT_ENTRIES) << 3 | rnd(4));
		uint32_t off = rnd(4) ? (uint32_t)fz_far_target : random_base();

		d = gate(off, sel, access) | (uint64_t)rnd(4) << 32;
	} else {
		d = desc(random_base(), rnd(2) ? 0xfffff : rnd32(), access,
			 (uint8_t)(rnd32() & 0xd0));
	}
	gdt[slot] = d;
	return (uint16_t)(slot << 3 | rnd(4) | (rnd(8) ? 0 : 4));
}

static void op_descriptor(struct fz_regs *r)
{
	static fz_snippet *const users[] = {s_load_fs, s_load_gs, s_load_ds, s_load_es, s_load_ss,
					    s_lcall,   s_lar,	  s_lldt,    s_ltr,	s_iret3};
	uint32_t *far = (uint32_t *)scratch;
	fz_snippet *s = users[rnd(sizeof(users) / sizeof(users[0]))];

	r->eax = random_descriptor();
	r->esi = (uint32_t)scratch + 64 + rnd(64);
	r->edi = r->esi + 128;
	r->ecx = rnd(16);
	if (s == s_lcall) {
		far[0] = rnd(4) ? (uint32_t)fz_far_target : random_base();
		far[1] = r->eax;
		r->esi = (uint32_t)far;
	}
	if (s == s_iret3)
		r->ecx = 0x202 | (rnd32() & 0x4cd5); /* eflags, NT now and then */
	fz_call(s, r);
}

/* lgdt, lidt and the store forms of the descriptor-table registers. */
static void op_tables(struct fz_regs *r)
{
	struct fz_dtr *d = (struct fz_dtr *)scratch;

	/* A bad table kills us at the next fault (even the CPU cannot
	 * deliver it), so mostly ours, and a bad one only now and then. */
	d->base = rnd(8) ? (uint32_t)gdt : random_base();
	d->limit = (uint16_t)(rnd(2) ? sizeof(gdt) - 1 : rnd32());
	r->esi = (uint32_t)d;
	switch (rnd(6)) {
	case 0:
		fz_call(s_lgdt, r);
		r->eax = rnd(GDT_ENTRIES * 2) << 3;
		fz_call(s_load_fs, r);
		break;
	case 1:
		if (rnd(4))
			d->base = (uint32_t)idt;
		fz_call(s_lidt, r);
		fz_call(s_int3, r);
		break;
	default:
		r->esi = rnd(4) ? (uint32_t)scratch + 256 : play_va();
		fz_call(s_sdt, r);
		break;
	}
}

static uint16_t random_port(void)
{
	static const uint16_t ports[] = {
	    0x20, 0x21,	 0x40,	0x41,  0x42,  0x60,  0x61,  0x64,  0x70,  0x71,	 0x80,	0xa0, 0xa1,
	    0xe0, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0xcf8, 0xcfc, 0x2f8, 0x1f0};
	uint16_t p = rnd(4) ? ports[rnd(sizeof(ports) / sizeof(ports[0]))] : (uint16_t)rnd32();

	/* Not the debug-exit port (it would end the run), nor the PIT's
	 * channel 0 and mode or the master PIC (they would stop our
	 * watchdog: a command there can start the PIC's initialization). */
	if ((p >= PORT_EXIT && p < PORT_EXIT + 4) || p == 0x43 || p == 0x40 || p == 0x20 ||
	    p == 0x21)
		p = 0x80;
	return p;
}

static void op_priv(struct fz_regs *r)
{
	static fz_snippet *const forms[] = {
	    s_in,      s_out,	      s_outw,	s_ins,	s_outs, s_cpuid, s_rdmsr, s_dr, s_popf,
	    s_cli_sti, s_pushpop_seg, s_wbinvd, s_int3, s_into, s_icebp, s_ud2,	  s_hlt};
	fz_snippet *s = forms[rnd(sizeof(forms) / sizeof(forms[0]))];

	r->edx = random_port();
	r->ecx = rnd(16);
	r->esi = (uint32_t)scratch + rnd(2048);
	r->edi = r->esi + 1024;
	if (s == s_rdmsr)
		r->ecx = rnd(2) ? rnd32() : 0xc0000080u + rnd(0x110);
	if (s == s_popf)
		r->eax = (rnd32() & 0x3f7fd7) | 2;
	if (s == s_cpuid)
		r->eax = rnd(2) ? rnd(32) : 0x80000000u + rnd(32);
	if (s == s_hlt && rnd(4))
		s = s_cli_sti; /* hlt waits for the timer: 10 ms each */
	fz_call(s, r);
}

static void op_int(struct fz_regs *r)
{
	fz_call((fz_snippet *)(fz_int_table + 4 * rnd(256)), r);
}

static void op_random_code(struct fz_regs *r)
{
	uint32_t n = 4 + rnd(20);

	for (uint32_t i = 0; i < n; i++)
		rand_code[i] = (uint8_t)rnd32();
	rand_code[n] = 0xc3;
	no_iret(rand_code, n);
	r->esi = play_va();
	r->edi = (uint32_t)scratch + rnd(4096);
	fz_call(s_rand, r);
}

/* What a kernel operation may have broken, put back. */
static void kernel_repair(void)
{
	uint32_t cr0 = read_cr(0), cr3 = read_cr(3) & ~0xfffu, cr4 = read_cr(4);

	load_tables();
	__asm__ volatile("lldt %w0" : : "r"(0));
	if (read_tr() != TSS_SEL)
		load_tr();
	/* CR0.WP=0 lets our stores through read-only aliases of our own
	 * tables: keep such a state for a few operations only. */
	if ((cr0 & (CR0_PG | CR0_PE)) != (CR0_PG | CR0_PE) || rnd(4) == 0)
		__asm__ volatile("mov %0, %%cr0" : : "r"(good_cr0));
	if (cr4 & CR4_PAE)
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~CR4_PAE));
	if (cr3 != (uint32_t)kpd && cr3 != (uint32_t)kpd2)
		__asm__ volatile("mov %0, %%cr3" : : "r"(kpd));
	/* Keep our own directory slots sane: they map us. */
	for (uint32_t i = 0; i < (kmap_bytes + (4u << 20) - 1) >> 22; i++) {
		uint32_t want = (uint32_t)kpt[i] | PTE_P | PTE_W | PTE_A;

		/* Only if changed: each store is a trap in shadow mode. */
		if ((kpd[i] | PTE_A) != want)
			kpd[i] = want;
		if ((kpd2[i] | PTE_A) != want)
			kpd2[i] = want;
	}
	__asm__ volatile("sti");
}

static void random_regs(struct fz_regs *r)
{
	r->eax = rnd32();
	r->ebx = rnd32();
	r->ecx = rnd(64);
	r->edx = rnd32();
	r->esi = (uint32_t)scratch + rnd(4096);
	r->edi = (uint32_t)scratch + rnd(4096);
	r->ebp = rnd32();
}

static void kernel_op(void)
{
	struct fz_regs r;
	uint32_t roll = rnd(100);

	random_regs(&r);
	if (roll < 35)
		op_pt_store(&r);
	else if (roll < 58)
		op_access(&r);
	else if (roll < 75)
		op_tlb_cr(&r);
	else if (roll < 82)
		op_descriptor(&r);
	else if (roll < 85)
		op_tables(&r);
	else if (roll < 94)
		op_priv(&r);
	else if (roll < 97)
		op_int(&r);
	else
		op_random_code(&r);
}

static void progress(uint32_t i)
{
	puts("fuzz: kernel operation ");
	putdec(i);
	puts("\n");
}

static void kernel_phase(uint32_t ops)
{
	for (uint32_t i = 0; i < ops; i++) {
		op_start = ticks;
		n_ops++;
		if (i % 500 == 0 && i)
			progress(i);
		if (fz_setjmp(&fz_jb) == 0) {
			in_op = 1;
			kernel_op();
			in_op = 0;
		} else {
			in_op = 0;
			n_abandoned++;
		}
		kernel_repair();
	}
	puts("fuzz: kernel phase: ");
	putdec(n_ops);
	puts(" operations, ");
	putdec(n_abandoned);
	puts(" abandoned (");
	putdec(n_hangs);
	puts(" by the watchdog), ");
	putdec(n_debug);
	puts(" single-steps; vectors");
	for (int v = 0; v < 256; v++)
		if (vec_seen[v >> 5] & 1u << (v & 31)) {
			puts(" ");
			putdec((uint32_t)v);
		}
	puts("\n");
}

/* ---- the user phase ------------------------------------------------------------------------ */

/*
 * Instructions whose result is not the CPU's state but the moment or the
 * host: rdtsc, rdtscp (0f 01 f9), rdpmc, cpuid, rdrand/rdseed/cmpxchg8b's
 * group, and lar, lsl, verr, verw, sldt, str (0f 00), which read the real
 * GDT: in shadow mode the VMM's copy, with its own DPLs and limits - the
 * "information gap" the other way round (Documentation/security.md).
 * Their opcodes are replaced wherever they occur, so no instruction
 * boundary can reach them.  sgdt, sidt and smsw (0f 01) stay: UMIP makes
 * them trap in shadow mode, and the VMM must answer with the guest's view.
 */
static void user_filter(uint8_t *code, uint32_t n)
{
	for (int again = 1; again;) {
		again = 0;
		for (uint32_t i = 0; i + 1 < n; i++) {
			uint8_t b = code[i + 1];

			if ((code[i] == 0x0f && (b == 0x31 || b == 0x33 || b == 0xa2 || b == 0xc7 ||
						 b == 0x02 || b == 0x03 || b == 0x00)) ||
			    (code[i] == 0x01 && i > 0 && code[i - 1] == 0x0f && b == 0xf9)) {
				code[i + 1] = 0x90;
				again = 1;
			}
		}
	}
}

static uint32_t user_reg(void)
{
	switch (rnd(4)) {
	case 0:
	case 1:
		return USER_DATA + rnd(8192);
	case 2:
		return rnd(256);
	default:
		return rnd32();
	}
}

/* One chunk: random code, registers and data in; what it left, hashed. */
static uint32_t user_chunk(uint32_t h)
{
	struct fz_regs r = {user_reg(), user_reg(), user_reg(), user_reg(),
			    user_reg(), user_reg(), user_reg()};
	uint32_t n = 8 + rnd(56), eflags = 0x202 | (rnd32() & 0x8d5);
	const struct fz_frame *e = &user_end;

	for (uint32_t i = 0; i < n; i++)
		ucode[i] = (uint8_t)rnd32();
	/* int3 to the end of the page: a jump to any offset ends the chunk. */
	fz_memset(ucode + n, 0xcc, sizeof(ucode) - n);
	user_filter(ucode, n + 1);
	no_iret(ucode, n);
	for (uint32_t i = 0; i < sizeof(udata); i += 4)
		*(uint32_t *)((uint8_t *)udata + i) = rnd32();
	no_iret((uint8_t *)udata, sizeof(udata)); /* ring 3 may jump into its data too */
	if (rnd(16) == 0)
		eflags |= 0x100; /* TF */
	if (verbose) {
		puts("user: code");
		for (uint32_t i = 0; i < n; i++) {
			puts(" ");
			puthex(ucode[i]);
		}
		puts("\n");
	}
	user_end = (struct fz_frame){0};
	op_start = ticks;
	if (fz_setjmp(&fz_jb) == 0) {
		in_op = 3;
		fz_user_enter(&r, USER_BASE, USER_STACK, eflags);
	}
	in_op = 0;
	__asm__ volatile("sti");
	if (verbose) {
		puts("user: end vec ");
		puthex(e->vec);
		puts(" err ");
		puthex(e->err);
		puts(" eip ");
		puthex(e->eip);
		puts(" cr2 ");
		puthex(user_cr2);
		puts(" eax ");
		puthex(e->eax);
		puts(" ecx ");
		puthex(e->ecx);
		puts(" esp ");
		puthex(e->esp);
		puts(" eflags ");
		puthex(e->eflags);
		puts(" data ");
		puthex(hash_bytes(2166136261u, udata, sizeof(udata)));
		puts("\n");
	}
	if (e->vec == VEC_HANG)
		return hash_word(h, VEC_HANG);
	/* The monitor's 4 MiB.  Our user segments end below it, so a real
	 * CPU gives #GP(0) there in both modes; QEMU's TCG checks no segment
	 * limits, and gives #PF - with P clear in hw mode (we map nothing
	 * there), set in shadow mode (the monitor's pages).  Count it alike. */
	if (e->vec == 14 && user_cr2 >= MONITOR_BASE)
		return hash_word(h, VEC_MONHOLE);
	h = hash_word(h, e->vec);
	h = hash_word(h, e->err);
	h = hash_word(h, e->eip - USER_BASE);
	h = hash_word(h, user_cr2);
	h = hash_bytes(h, &e->edi, 3 * 4); /* edi, esi, ebp */
	h = hash_bytes(h, &e->ebx, 4 * 4); /* ebx, edx, ecx, eax */
	h = hash_word(h, e->eflags & 0x40dd5);
	h = hash_word(h, e->esp);
	h = hash_word(h, (e->ds & 0xffff) | e->es << 16);
	h = hash_word(h, (e->fs & 0xffff) | e->gs << 16);
	return hash_bytes(h, udata, sizeof(udata));
}

static void user_phase(uint32_t chunks)
{
	uint32_t h = 2166136261u;

	for (uint32_t c = 1; c <= chunks; c++) {
		h = user_chunk(h);
		if (c % 64 == 0 || c == chunks) {
			puts("user: chunk ");
			putdec(c);
			puts(" hash ");
			puthex(h);
			puts("\n");
		}
	}
}

/* ---- the canary scan ----------------------------------------------------------------------------
 */

#define CANARY 0x59524e43u /* "CNRY", kvmshadow --canary's mark */

static int canary_in(const uint32_t *p)
{
	for (int i = 0; i < 1024; i += 2)
		if (p[i] == CANARY && i + 6 < 1024 && p[i + 2] == CANARY && p[i + 4] == CANARY &&
		    p[i + 6] == CANARY)
			return 1;
	return 0;
}

static void canary_found(const char *where, uint32_t va)
{
	puts("fuzz: CANARY seen in ");
	puts(where);
	puts(" at va ");
	puthex(va);
	puts(": memory that is not this guest's\n");
	fz_exit(3);
}

static void canary_scan(void)
{
	uint32_t pages = 0;

	for (uint32_t va = 0; va < kmap_bytes; va += 4096, pages++)
		if (canary_in((const uint32_t *)va))
			canary_found("its memory", va);
	for (uint32_t va = PLAY_BASE; va < PLAY_BASE + (PLAY_SLOTS << 22); va += 4096) {
		op_start = ticks;
		if (fz_setjmp(&fz_jb) == 0) {
			in_op = 1;
			if (canary_in((const uint32_t *)va))
				canary_found("the playground", va);
			pages++;
		}
		in_op = 0;
		__asm__ volatile("sti");
	}
	puts("fuzz: canary scan: ");
	putdec(pages);
	puts(" pages read, no canary\n");
}

/* ---- main
 * ------------------------------------------------------------------------------------------- */

static void memory_size(const struct multiboot_info *mbi)
{
	mem_bytes = 16u << 20;
	if (mbi->flags & MULTIBOOT_INFO_MEMORY)
		mem_bytes = (mbi->mem_upper + 1024) << 10;
	kmap_bytes = mem_bytes < KMAP_MAX ? mem_bytes : KMAP_MAX;
	fz_end = ((uint32_t)fz_end_ + 4095) & ~4095u;
}

void fz_main(const struct multiboot_info *mbi);
void fz_main(const struct multiboot_info *mbi)
{
	const char *cmdline =
	    (mbi->flags & MULTIBOOT_INFO_CMDLINE) ? (const char *)mbi->cmdline : NULL;
	uint32_t seed = arg_value(cmdline, "seed", 1);
	uint32_t ops = arg_value(cmdline, "ops", 2000);
	uint32_t user = arg_value(cmdline, "user", 256);

	verbose = arg_value(cmdline, "verbose", 0);

	rng = seed * 2654435761u + 0x9e3779b9u;
	if (!rng)
		rng = 1;
	memory_size(mbi);
	puts("fuzz: seed ");
	putdec(seed);
	puts(" ops ");
	putdec(ops);
	puts(" user ");
	putdec(user);
	puts("\n");
	gdt_build();
	idt_build();
	load_tables();
	tss[1] = (uint32_t)trap_stack + sizeof(trap_stack); /* esp0: ring 3's traps */
	tss[2] = KDATA;					    /* ss0 */
	tss[25] = sizeof(tss) << 16; /* the I/O bitmap past the limit: no ports for ring 3 */
	load_tr();
	paging_build();
	paging_on();
	timer_start();
	fz_memset(scratch, 0, sizeof(scratch));
	/* The user phase first: kernel operations may break the kernel. */
	user_phase(user);
	kernel_phase(ops);
	canary_scan();
	fz_exit(0);
}
