/*
 * tiny.S - one-page Multiboot kernels that each make the VMM face one
 * situation: a triple fault, a halt with interrupts off, an endless loop,
 * an out-of-range exit value, unknown ports and unbacked memory, and a
 * kernel without a Multiboot header, one too big for its memory, and
 * three hostile ones for shadow mode (wrmon, badcr3, mapmon).  Built
 * once per variant with -DVARIANT_<name> (see TINY_VARIANTS in the Makefile); the real guest
 * kernel in guest/ covers the ordinary paths.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003
#define COM1		0x3f8
#define DEBUG_EXIT	0xf4

	.section .text
	.align 4
#if !defined(VARIANT_nomultiboot)
multiboot_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
#endif

	.globl _start
_start:
	mov	$0x90000, %esp
#if defined(VARIANT_triple)
	/* An empty IDT: the breakpoint cannot be delivered (#GP), nor can
	 * the #GP (#DF), nor the double fault: the CPU shuts down. */
	lidt	empty_idt
	int3
#elif defined(VARIANT_halt)
	cli
	hlt
#elif defined(VARIANT_spin) || defined(VARIANT_nomultiboot) || defined(VARIANT_bigbss)
1:	jmp	1b
#elif defined(VARIANT_bigexit)
	mov	$100, %eax
	out	%eax, $DEBUG_EXIT
#elif defined(VARIANT_probe)
	/* Say hello, read an unknown port twice and memory past the end of
	 * RAM, print what came back, and exit with 5. */
	mov	$hello, %esi
	call	puts
	in	$0x61, %al
	call	puthex
	in	$0x61, %al
	call	puthex
	mov	0xe0000000, %eax
	call	puthex
	mov	$newline, %esi
	call	puts
	mov	$5, %eax
	out	%al, $DEBUG_EXIT
#elif defined(VARIANT_wrmon)
	/* A hostile kernel (paging off, so virtual = physical): scribble
	 * over the monitor's writable page - its stack and control block -
	 * then trap through the monitor (the out below), then try to write
	 * the monitor's code.  The first must change nothing the VMM relies
	 * on; the second must stop us with a report. */
	mov	$0xffc04000, %edi
	mov	$0xdeadbeef, %eax
	mov	$1024, %ecx
	rep stosl
	mov	$hello, %esi
	call	puts
	movl	$0xdeadbeef, 0xffc00000
#elif defined(VARIANT_badcr3)
	/* Turn on paging with a page directory far outside memory. */
	mov	$hello, %esi
	call	puts
	mov	$0xf0000000, %eax
	mov	%eax, %cr3
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
#elif defined(VARIANT_mapmon)
	/* Turn on paging with a page directory whose last entry maps the
	 * top 4 MiB, which the VMM reserves for its monitor. */
	mov	$hello, %esi
	call	puts
	movl	$0x00000083, mapmon_pd + 4 * 1023	/* a 4 MiB page: P, RW, PS */
	movl	$0x00000083, mapmon_pd			/* and identity for our code */
	mov	%cr4, %eax
	or	$0x10, %eax				/* PSE */
	mov	%eax, %cr4
	mov	$mapmon_pd, %eax
	mov	%eax, %cr3
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
#else
#error "choose a VARIANT_"
#endif
	/* Not reached unless the VMM failed to stop us. */
2:	jmp	2b

#if defined(VARIANT_probe) || defined(VARIANT_wrmon) || defined(VARIANT_badcr3) || defined(VARIANT_mapmon)
/* Print the string at %esi. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	mov	$COM1, %dx
	out	%al, %dx
	jmp	puts
1:	ret

/* Print %al as two hex digits and a space. */
puthex:
	mov	%al, %bl
	mov	$COM1, %dx
	shr	$4, %al
	call	hexdigit
	mov	%bl, %al
	and	$0xf, %al
	call	hexdigit
	mov	$' ', %al
	out	%al, %dx
	ret
hexdigit:
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	1f
	add	$('a' - '0' - 10), %al
1:	out	%al, %dx
	ret

hello:	.asciz	"tiny: hello\n"
newline: .asciz	"\n"
#endif

#if defined(VARIANT_mapmon)
	.section .bss
	.align	4096
mapmon_pd:
	.skip	4096
	.section .text
#endif

#if defined(VARIANT_bigbss)
	/* 4 MiB of bss: too much for a guest with --mem 4M. */
	.section .bss
	.skip	0x400000
	.section .text
#endif

	.align 8
empty_idt:
	.word	0
	.long	0
