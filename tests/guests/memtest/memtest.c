/*
 * memtest.c - the multi-guest test kernel (issue 5).  One small image,
 * run in several guests at once, each told by its command line what part
 * to play.  It runs where Multiboot leaves it: flat 32-bit protected mode,
 * paging off, at 1 MiB.  It touches only COM1 (what it says), the PIT and
 * the PICs (a 100 Hz tick) and the debug-exit port (its verdict).
 *
 * "All its memory" is every 4 KiB page from 0 to 1 MiB + mem_upper KiB,
 * except the pages of this image (code, data, bss and stack: the
 * constants and variables the scan compares against).  Under a boot
 * loader other than kvmshadow (plain QEMU, to check this kernel alone)
 * the PC's legacy hole 0xa0000-0xfffff is skipped too: it holds VGA
 * memory and ROM there, not RAM.  kvmshadow backs it with RAM, so under
 * kvmshadow nothing else is skipped.
 *
 * The modes, and what each is for:
 *
 *   mode=secret [keep=1] [seed=N]
 *	Isolation, the writing side.  Fill all our memory with a secret that
 *	names where it was written: each 16-byte unit at physical address pa
 *	gets {S, ~S, pa, pa ^ S}, S = 0x5ec2e7a1 ^ seed.  With keep=1 it
 *	then keeps rereading and rewriting it forever, so that its frames
 *	stay in use (and, when the host overcommits, keep being swapped).
 *   mode=scan [passes=P] [wait=T] [seed=N] [plant=1]
 *	Isolation, the reading side, and overcommit with swapping.  After
 *	waiting T ticks (for the secret writers to get going), P passes over
 *	all our memory, a page at a time: read the page looking for anyone's
 *	secret (exit 3: the VMM let us see memory that was not ours); from
 *	the second pass on, check that the page still holds exactly what
 *	the previous pass wrote, a marker {M, pa, pass - 1, ~pa} per unit
 *	(exit 4: the VMM lost or swapped in the wrong data); then write this
 *	pass's marker.  plant=1 writes one secret unit into a page first,
 *	so that a test can prove the scanner does fail when it should.
 *   mode=idle [ticks=T] [hz=H]  (hz= sets the timer's rate for every mode, default 100)
 *	Idle detection: wait for T ticks in a bare hlt loop (interrupts
 *	on).  A VMM should see the hlt and give the CPU to another guest
 *	meanwhile.
 *   mode=spin [ticks=T]
 *	The same wait, spinning on the tick count with interrupts on: an
 *	idle loop a VMM cannot see, which it must preempt on its own timer.
 *   mode=busy [loops=N]
 *	Pure computation, no I/O and no interrupts: N rounds of xorshift32.
 *   mode=clibusy [loops=N]
 *	The same after a cli, never undone: a guest that never enables
 *	interrupts, which the VMM must still preempt (and can, because the
 *	real interrupt flag is the VMM's, not the guest's).
 *
 * Exit status (debug-exit port; kvmshadow exits with it, QEMU with 2v+1):
 * 0 done, 2 bad command line or boot information, 3 a secret seen,
 * 4 data lost, 5 an unexpected trap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"
#include "ports.h"

#define PAGE_SIZE	 4096u
#define UNIT_WORDS	 4 /* a 16-byte unit: four words */
#define SECRET_BASE	 0x5ec2e7a1u
#define MARKER		 0x6d656d74u /* "memt" */
#define TICK_HZ		 100 /* the default of hz= */
#define VEC_IRQ0	 0x20
#define CMDLINE_MAX	 512
#define LEGACY_HOLE	 0x000a0000u /* to 1 MiB: VGA memory and ROM on a PC */
#define LOW_END		 0x00100000u
#define KVMSHADOW_LOADER "kvmshadow" /* src/boot.h's BOOT_LOADER_NAME */

#define EXIT_OK	    0
#define EXIT_USAGE  2
#define EXIT_SECRET 3
#define EXIT_LOST   4
#define EXIT_TRAP   5

/* What entry.S's stubs push: pusha's registers, then the vector. */
struct mt_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vec, err, eip, cs, eflags;
};

struct __attribute__((packed)) mt_dtr {
	uint16_t limit;
	uint32_t base;
};

/* entry.S and memtest.ld */
extern const uint32_t mt_stubs[48];
extern char mt_image_start[], mt_end_[];
void mt_main(const struct multiboot_info *mbi);
void mt_trap(struct mt_frame *f);

static uint64_t idt[48] __attribute__((aligned(8)));
static volatile uint32_t ticks;
static char cmdline[CMDLINE_MAX + 1];
static uint32_t mem_top, image_start, image_end, hole_start, hole_end;
static uint32_t secret; /* S; ~S is never stored, so no unit of ours holds both */

static struct {
	const char *mode;
	uint32_t seed, keep, passes, wait, ticks, loops, plant, hz;
} opt = {.passes = 2, .ticks = 200, .loops = 20000000, .hz = TICK_HZ};

/* ---- ports, the serial line, printing ------------------------------------------------------ */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void serial_putc(char c)
{
	while (!(inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(PORT_COM1 + UART_THR, (uint8_t)c);
}

static void put_num(uint32_t v, unsigned base, unsigned width, char pad)
{
	char buf[12];
	unsigned n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width > n && width--)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]);
}

/* printf for what we print: %u, %x, %s, with a width and 0 padding. */
static void mt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		char pad = ' ';
		unsigned width = 0;

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		if (*++fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		if (*fmt == 'u' || *fmt == 'x') {
			put_num(va_arg(ap, uint32_t), *fmt == 'u' ? 10 : 16, width, pad);
		} else if (*fmt == 's') {
			for (const char *s = va_arg(ap, const char *); *s; s++)
				serial_putc(*s);
		} else {
			serial_putc(*fmt);
			if (!*fmt)
				break;
		}
	}
	va_end(ap);
}

static void __attribute__((noreturn)) mt_exit(uint32_t status)
{
	for (;;) {
		outl(PORT_DEBUG_EXIT, status);
		__asm__ volatile("cli; hlt");
	}
}

/* ---- the command line ---------------------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Decimal, or hexadecimal after 0x; -1 if the word is not a number. */
static int parse_number(const char *s, uint32_t *v)
{
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	if (!*s)
		return -1;
	for (*v = 0; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (unsigned)((*s | 0x20) - 'a' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		*v = *v * base + d;
	}
	return 0;
}

static void option_set(char *word)
{
	static const struct {
		const char *key;
		uint32_t *value;
	} numbers[] = {
	    {"seed", &opt.seed},   {"keep", &opt.keep},	  {"passes", &opt.passes},
	    {"wait", &opt.wait},   {"ticks", &opt.ticks}, {"loops", &opt.loops},
	    {"plant", &opt.plant}, {"hz", &opt.hz},
	};
	char *value = word;

	while (*value && *value != '=')
		value++;
	if (*value == '=') {
		*value++ = 0;
		if (streq(word, "mode")) {
			opt.mode = value;
			return;
		}
		for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
			if (!streq(word, numbers[i].key))
				continue;
			if (parse_number(value, numbers[i].value) < 0) {
				mt_printf("memtest: option %s wants a number, not '%s'\n", word,
					  value);
				mt_exit(EXIT_USAGE);
			}
			return;
		}
		value[-1] = '=';
	}
	mt_printf("memtest: unknown option %s\n", word);
	mt_exit(EXIT_USAGE);
}

/*
 * The line lives in low memory, which we are about to write over: copy it
 * first.  Its first word is the image's name (QEMU and kvmshadow both put
 * it there, as GRUB does); the options follow.
 */
static void cmdline_parse(const char *line)
{
	char *p = cmdline;

	for (size_t i = 0; line && line[i] && i < CMDLINE_MAX; i++)
		cmdline[i] = line[i];
	while (*p && *p != ' ')
		p++;
	for (;;) {
		char *word;

		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		option_set(word);
	}
}

/* ---- interrupts: our IDT, the PICs, the PIT ------------------------------------------------- */

static uint64_t gate(uint32_t offset, uint16_t sel, uint8_t type_attr)
{
	return (uint64_t)(offset & 0xffff) | (uint64_t)sel << 16 | (uint64_t)type_attr << 40 |
	       (uint64_t)(offset >> 16) << 48;
}

/* 32-bit interrupt gates: the CPU clears IF on the way in. */
static void idt_load(void)
{
	struct mt_dtr d = {sizeof(idt) - 1, (uint32_t)idt};

	for (int v = 0; v < 48; v++)
		idt[v] = gate(mt_stubs[v], 0x08, 0x8e);
	__asm__ volatile("lidt %0" : : "m"(d));
}

/*
 * The only interrupt we unmask is IRQ0.  Any other vector from 0x20 up is
 * a spurious IRQ 7 or 15, which asks for nothing; below 0x20 it is an
 * exception, which this kernel never means to cause.
 */
void mt_trap(struct mt_frame *f)
{
	if (f->vec == VEC_IRQ0) {
		ticks++;
		outb(PORT_PIC1_CMD, 0x20); /* non-specific EOI */
		return;
	}
	if (f->vec >= VEC_IRQ0)
		return;
	mt_printf("memtest: unexpected trap %u, error code %x, at eip 0x%08x\n", f->vec, f->err,
		  f->eip);
	mt_exit(EXIT_TRAP);
}

/*
 * Remap the PICs to vectors 0x20-0x2f, out of the exceptions' way, with
 * only IRQ0 open; then the PIT's counter 0 in mode 2 at 100 Hz.
 */
static void timer_start(void)
{
	static const uint8_t init[][2] = {
	    {PORT_PIC1_CMD, 0x11},  {PORT_PIC1_DATA, 0x20}, {PORT_PIC1_DATA, 0x04},
	    {PORT_PIC1_DATA, 0x01}, {PORT_PIC1_DATA, 0xfe}, {PORT_PIC2_CMD, 0x11},
	    {PORT_PIC2_DATA, 0x28}, {PORT_PIC2_DATA, 0x02}, {PORT_PIC2_DATA, 0x01},
	    {PORT_PIC2_DATA, 0xff},
	};

	idt_load();
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		outb(init[i][0], init[i][1]);
	outb(PORT_PIT_MODE, 0x34); /* counter 0, low then high byte, mode 2 */
	/* hz= from 19 (the PIT's 16-bit count) to 1000; 100 by default. */
	uint32_t hz = opt.hz < 19 ? 19 : opt.hz > 1000 ? 1000 : opt.hz;
	uint32_t count = (PIT_HZ + hz / 2) / hz;

	outb(PORT_PIT_CH0, count & 0xff);
	outb(PORT_PIT_CH0, count >> 8);
	__asm__ volatile("sti");
}

static void timer_stop(void)
{
	__asm__ volatile("cli");
	outb(PORT_PIC1_DATA, 0xff);
}

/*
 * Sleep until n ticks have passed.  The check runs with interrupts off
 * and sti; hlt reopens them only as the CPU halts (sti takes effect after
 * the next instruction), so a tick cannot slip in between and leave us
 * halted for good.
 */
static void wait_halted(uint32_t n)
{
	for (;;) {
		__asm__ volatile("cli");
		if (ticks >= n)
			break;
		__asm__ volatile("sti; hlt");
	}
}

/* ---- our memory ---------------------------------------------------------------------------- */

/*
 * Physical page 0 is ordinary memory here, but to C it is the null
 * pointer, and GCC may replace an access it can prove goes through null
 * with a trap.  Hiding the address behind an empty asm keeps every access.
 */
static inline volatile uint32_t *phys(uint32_t pa)
{
	__asm__("" : "+r"(pa));
	return (volatile uint32_t *)pa;
}

static int page_ours(uint32_t pa)
{
	if (pa >= image_start && pa < image_end)
		return 0;
	return pa < hole_start || pa >= hole_end;
}

static uint32_t kib_ours(void)
{
	uint32_t kib = 0;

	for (uint32_t pa = 0; pa < mem_top; pa += PAGE_SIZE)
		if (page_ours(pa))
			kib += PAGE_SIZE >> 10;
	return kib;
}

static void memory_find(const struct multiboot_info *mbi)
{
	uint64_t top;
	const char *loader = (mbi->flags & MULTIBOOT_INFO_BOOT_LOADER_NAME)
				 ? (const char *)mbi->boot_loader_name
				 : "";

	if (!(mbi->flags & MULTIBOOT_INFO_MEMORY)) {
		mt_printf("memtest: the boot loader gave no memory size (mem_upper)\n");
		mt_exit(EXIT_USAGE);
	}
	top = LOW_END + ((uint64_t)mbi->mem_upper << 10);
	mem_top = top > 0xfffff000u ? 0xfffff000u : (uint32_t)top & ~(PAGE_SIZE - 1);
	image_start = (uint32_t)mt_image_start & ~(PAGE_SIZE - 1);
	image_end = ((uint32_t)mt_end_ + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!streq(loader, KVMSHADOW_LOADER)) {
		hole_start = LEGACY_HOLE;
		hole_end = LOW_END;
	}
}

static void secret_write_unit(uint32_t pa)
{
	volatile uint32_t *u = phys(pa);

	u[0] = secret;
	u[1] = ~secret;
	u[2] = pa;
	u[3] = pa ^ secret;
}

/* ---- the modes ----------------------------------------------------------------------------- */

/* Write the secret over all our memory; with reread, read each unit first. */
static void secret_fill(int reread)
{
	for (uint32_t pa = 0; pa < mem_top; pa += PAGE_SIZE) {
		if (!page_ours(pa))
			continue;
		for (uint32_t off = 0; off < PAGE_SIZE; off += UNIT_WORDS * 4) {
			volatile uint32_t *u = phys(pa + off);

			if (reread)
				(void)u[0], (void)u[1], (void)u[2], (void)u[3];
			secret_write_unit(pa + off);
		}
	}
}

static void mode_secret(void)
{
	secret_fill(0);
	mt_printf("memtest: secret written over %u KiB\n", kib_ours());
	if (!opt.keep)
		mt_exit(EXIT_OK);
	for (;;) /* busy for ever, every frame in use */
		secret_fill(1);
}

/*
 * One page of one pass: read it all, first for a secret (which wins over
 * anything else the page shows), then for the last pass's marker; only
 * then write this pass's.
 */
static void scan_page(uint32_t pa, uint32_t pass)
{
	volatile uint32_t *p = phys(pa);
	uint32_t lost_at = 0, lost[UNIT_WORDS] = {0};
	int is_lost = 0;

	for (uint32_t i = 0; i < PAGE_SIZE / 4; i += UNIT_WORDS) {
		uint32_t w0 = p[i], w1 = p[i + 1], w2 = p[i + 2], w3 = p[i + 3];
		uint32_t upa = pa + i * 4;

		if (w0 == secret && w1 == ~secret) {
			mt_printf("memtest: SECRET SEEN at pa 0x%08x (written at pa 0x%08x)\n", upa,
				  w2);
			mt_exit(EXIT_SECRET);
		}
		if (pass > 1 && !is_lost &&
		    (w0 != MARKER || w1 != upa || w2 != pass - 1 || w3 != ~upa)) {
			is_lost = 1;
			lost_at = upa;
			lost[0] = w0, lost[1] = w1, lost[2] = w2, lost[3] = w3;
		}
	}
	if (is_lost) {
		mt_printf("memtest: DATA LOST at pa 0x%08x pass %u: found %08x %08x %08x %08x\n",
			  lost_at, pass, lost[0], lost[1], lost[2], lost[3]);
		mt_exit(EXIT_LOST);
	}
	for (uint32_t i = 0; i < PAGE_SIZE / 4; i += UNIT_WORDS) {
		uint32_t upa = pa + i * 4;

		p[i] = MARKER;
		p[i + 1] = upa;
		p[i + 2] = pass;
		p[i + 3] = ~upa;
	}
}

/* plant=1: one secret unit, in the last unit of a page mid-memory. */
static void scan_plant(void)
{
	uint32_t pa = (mem_top / 2) & ~(PAGE_SIZE - 1);

	while (!page_ours(pa))
		pa += PAGE_SIZE;
	pa += PAGE_SIZE - UNIT_WORDS * 4;
	secret_write_unit(pa);
	mt_printf("memtest: planted a secret unit at pa 0x%08x\n", pa);
}

static void mode_scan(void)
{
	uint32_t kib = kib_ours();

	if (opt.wait) {
		timer_start();
		wait_halted(opt.wait);
		timer_stop();
	}
	if (opt.plant)
		scan_plant();
	for (uint32_t pass = 1; pass <= opt.passes; pass++) {
		for (uint32_t pa = 0; pa < mem_top; pa += PAGE_SIZE)
			if (page_ours(pa))
				scan_page(pa, pass);
		mt_printf("memtest: pass %u of %u: %u KiB ok\n", pass, opt.passes, kib);
	}
	mt_printf("memtest: scan done\n");
	mt_exit(EXIT_OK);
}

/*
 * An idle loop as lean as an idle loop gets: interrupts stay on, and each
 * tick is the interrupt, its EOI and iret, and one hlt.  (A tick landing
 * between the check and the hlt only makes us wait one more tick.)
 */
static void wait_idle(uint32_t n)
{
	while (ticks < n)
		__asm__ volatile("hlt");
}

static void mode_idle(void)
{
	timer_start();
	wait_idle(opt.ticks);
	timer_stop();
	mt_printf("memtest: idle done after %u ticks\n", ticks);
	mt_exit(EXIT_OK);
}

static void mode_spin(void)
{
	timer_start();
	while (ticks < opt.ticks)
		;
	timer_stop();
	mt_printf("memtest: spin done after %u ticks\n", ticks);
	mt_exit(EXIT_OK);
}

/* Marsaglia's xorshift32: nothing a compiler could shorten. */
static uint32_t busy_loop(uint32_t loops)
{
	uint32_t x = 2463534242u;

	for (uint32_t i = 0; i < loops; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	return x;
}

static void mode_busy(void)
{
	mt_printf("memtest: busy done, result 0x%08x\n", busy_loop(opt.loops));
	mt_exit(EXIT_OK);
}

static void mode_clibusy(void)
{
	__asm__ volatile("cli");
	mt_printf("memtest: clibusy done, result 0x%08x\n", busy_loop(opt.loops));
	mt_exit(EXIT_OK);
}

static const struct {
	const char *name;
	void (*run)(void);
} modes[] = {
    {"secret", mode_secret}, {"scan", mode_scan}, {"idle", mode_idle},
    {"spin", mode_spin},     {"busy", mode_busy}, {"clibusy", mode_clibusy},
};

void mt_main(const struct multiboot_info *mbi)
{
	cmdline_parse((mbi->flags & MULTIBOOT_INFO_CMDLINE) ? (const char *)mbi->cmdline : NULL);
	memory_find(mbi);
	/* At run time from the seed: the word S is in no constant of ours. */
	secret = SECRET_BASE ^ opt.seed;
	for (size_t i = 0; opt.mode && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (streq(opt.mode, modes[i].name))
			modes[i].run();
	if (opt.mode)
		mt_printf("memtest: unknown mode %s\n", opt.mode);
	else
		mt_printf("memtest: no mode= (secret, scan, idle, spin, busy or clibusy)\n");
	mt_exit(EXIT_USAGE);
}
