/*
 * hostile.S - small Multiboot kernels that each try one thing a careless
 * VMM gets wrong, written while reviewing shadow mode.  They set up a flat
 * GDT, an IDT whose every vector prints "trap <eip> <cs>" and exits 9, a
 * TSS, then (one variant each, -DV_<name>):
 *
 *   iretlim  iret to eip 0xffc00010: past the end of every guest segment
 *   gatelim  an interrupt gate whose handler is at 0xffc00000
 *   prefint  a prefixed int (3e cd 30) from ring 1
 *   usint    the same from ring 3
 *   usgdt    sgdt fs:[0] from ring 3 (a form our emulator refuses)
 *   gbit     a G=1 data segment based 2 KiB below the monitor: print the
 *            real GDT's copy of it (it must end below 0xffc00000)
 *   pushcs   pushf; push %cs; push $1f; iret (Linux's iret_to_self)
 *   sse      set CR4.OSFXSR|OSXMMEXCPT, then use an SSE instruction
 *   stihlt   sti; hlt with the timer interrupt already pending: the
 *            interrupt must come in at the hlt, not before it
 *   repstos  paging on; rep stos zeroes a page table the shadow
 *            write-protects (a store kvmshadow does not emulate: it must
 *            stop shadowing that page and let the instruction run), then
 *            invlpg and a load through it: a page fault
 *   stospd   the same rep stos onto the page directory in CR3, which
 *            kvmshadow cannot stop shadowing: it runs one step with the
 *            directory writable
 *   selfbts  bts on a page table that maps this code and itself
 *   selfmap  bts on a page table through the page table itself (a
 *            retry after unshadowing would need it shadowed again)
 *   dsbase   a page-table store through DS based at 0x1000: must land
 *            at base + offset
 *   (selfbts, selfmap and dsbase are from the review of persistent
 *   shadows: each looped or wrote the wrong page before the fix.)
 *   patchdata  stores (a mov, a rep stos) to data in the page of an iret
 *            kvmshadow patched: allowed, made by the VMM
 *   patchcode  a store over that iret itself: refused
 *
 * tests/integration/shadow.sh runs each and checks what it prints.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003
#define COM1		0x3f8
	.section .text
textstart:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.globl _start
_start:
	mov	$0x90000, %esp
	lgdt	gdtr
	ljmp	$0x08, $1f
1:	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	call	build_idt
	lidt	idtr
	mov	$0x28, %eax
	ltr	%ax
	mov	$hello, %esi
	call	puts
#if defined(V_iretlim)
	pushl	$0x2
	pushl	$0x08
	pushl	$0xffc00010
	iret
#elif defined(V_gatelim)
	movl	$0xffc00000, %eax
	movw	%ax, idt + 3*8
	shr	$16, %eax
	movw	%ax, idt + 3*8 + 6
	int3
#elif defined(V_prefint)
	.byte 0x3e, 0xcd, 0x30
#elif defined(V_usgdt) || defined(V_usint) || defined(V_uspf)
	pushl	$0x23
	pushl	$0x80000
	pushl	$0x202
	pushl	$0x1b
	pushl	$user
	iret
#elif defined(V_gbit)
	mov	$0xffc02000 + 6*8, %esi
	mov	(%esi), %eax
	call	puthex32
	mov	4(%esi), %eax
	call	puthex32
#elif defined(V_pushcs)
	mov	%esp, %ebx
	pushf
	push	%cs
	push	$1f
	iret
1:	mov	%esp, %eax
	sub	%ebx, %eax
	call	puthex32
#elif defined(V_sse)
	mov	%cr4, %eax
	or	$0x600, %eax
	mov	%eax, %cr4
	xorps	%xmm0, %xmm0
	mov	$ssemsg, %esi
	call	puts
#elif defined(V_tfleak)
	call	pic_pit_init
	movl	$tfuser_int, %eax
	movw	%ax, idt + 0x80*8
	shr	$16, %eax
	movw	%ax, idt + 0x80*8 + 6
	movw	$0xee00, idt + 0x80*8 + 4
	movl	$timer2, %eax
	movw	%ax, idt + 0x20*8
	shr	$16, %eax
	movw	%ax, idt + 0x20*8 + 6
	pushl	$0x23
	pushl	$0x80000
	pushl	$0x202
	movl	$0x00a9589c, ucode
	movl	$0x74000001, ucode+4
	movl	$0xeb80cdf7, ucode+8
	movl	$0x000000fe, ucode+12
	pushl	$0x1b
	pushl	$ucode
	iret
#elif defined(V_repstos) || defined(V_stospd)
	call	paging_on
	mov	0x400000, %eax		/* now the shadow has pt1, write-protected */
	cld
	xor	%eax, %eax
#if defined(V_repstos)
	mov	$pt1, %edi
	mov	$1024, %ecx
	rep stosl
	invlpg	0x400000
	mov	$stosmsg, %esi
	call	puts
	mov	0x400000, %eax		/* unmapped: #PF, "trap 00000000 <eip>" */
#else
	mov	$pd + 8, %edi
	mov	$1, %ecx
	rep stosl
#endif
#elif defined(V_selfbts)
	call	paging_on
	mov	pt0, %eax		/* pt0 maps this code and itself */
	btsl	$9, pt0			/* not a store emulate_store knows */
	mov	$btsmsg, %esi
	call	puts
#elif defined(V_selfmap)
	call	paging_on
	mov	$pt1 + 3, %eax
	mov	%eax, pt1		/* va 0x400000 -> pt1 itself */
	invlpg	0x400000
	mov	0x400000, %eax		/* shadow pt1, write-protected */
	btsl	$9, 0x400014		/* entry 5 of pt1, through pt1 itself */
	mov	$btsmsg, %esi
	call	puts
#elif defined(V_dsbase)
	call	paging_on
	mov	0x400000, %eax		/* shadow pt1 */
	mov	$0x38, %ax
	mov	%ax, %ds		/* base 0x1000 */
	movl	$0x0badf000, pt1 - 0x1000	/* linear: pt1[0] */
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	pt1, %eax
	call	puthex32
	mov	pt0, %eax
	call	puthex32
#elif defined(V_patchdata)
	mov	$timer_iret, %eax	/* the tss shares the page of a patched iret */
	movl	$0x12345678, tss + 8	/* a plain store: the VMM makes it */
	mov	tss + 8, %eax
	call	puthex32
	mov	$tss + 12, %edi		/* rep stos: one single-step */
	mov	$0x41, %al
	mov	$4, %ecx
	cld
	rep stosb
	mov	tss + 12, %eax
	call	puthex32
#elif defined(V_patchcode)
	movb	$0x90, timer_iret	/* over the patched iret itself */
#elif defined(V_stihlt)
	call	pic_pit_init
	cli
2:	mov	$0x0a, %al		/* OCW3: read IRR */
	out	%al, $0x20
	in	$0x20, %al
	test	$1, %al
	jz	2b
	sti
hlt_at:	hlt
after_hlt:
	mov	saved_eip, %eax
	call	puthex32
	mov	$hlt_at, %eax
	call	puthex32
#endif
	mov	$nl, %esi
	call	puts
	mov	$0, %al
	out	%al, $0xf4
3:	jmp	3b

tfuser:
	pushf
	pop	%eax
	test	$0x100, %eax
	jz	tfuser
	int	$0x80
tfuser_int:
	mov	$tfmsg, %esi
	call	puts
	mov	$7, %al
	out	%al, $0xf4
timer2:
	push	%eax
	mov	$0x20, %al
	out	%al, $0x20
1:	mov	$0x0a, %al
	out	%al, $0x20
	in	$0x20, %al
	test	$1, %al
	jz	1b
	pop	%eax
	iret
user:
#if defined(V_usgdt)
	.byte 0x64, 0x0f, 0x01, 0x05, 0, 0, 0, 0   /* sgdt %fs:0 */
#elif defined(V_usint)
	.byte 0x3e, 0xcd, 0x30
#endif
4:	jmp	4b

/* Every vector: print "trap" and exit 9.  0x20: timer. */
build_idt:
	xor	%ecx, %ecx
1:	mov	$generic, %eax
	cmp	$0x20, %ecx
	jne	2f
	mov	$timer, %eax
2:	movw	%ax, idt(,%ecx,8)
	movw	$0x08, idt+2(,%ecx,8)
	movw	$0x8e00, idt+4(,%ecx,8)
	shr	$16, %eax
	movw	%ax, idt+6(,%ecx,8)
	inc	%ecx
	cmp	$256, %ecx
	jne	1b
	ret
generic:
	mov	$trapmsg, %esi
	call	puts
	mov	(%esp), %eax
	call	puthex32
	mov	4(%esp), %eax
	call	puthex32
	mov	$9, %al
	out	%al, $0xf4
timer:
	push	%eax
	mov	4(%esp), %eax
	mov	%eax, saved_eip
	mov	$0x20, %al
	out	%al, $0x20
	pop	%eax
timer_iret:
	iret

pic_pit_init:
	mov	$0x11, %al
	out	%al, $0x20
	mov	$0x20, %al
	out	%al, $0x21
	mov	$0x04, %al
	out	%al, $0x21
	mov	$0x01, %al
	out	%al, $0x21
	mov	$0xfe, %al
	out	%al, $0x21
	mov	$0x34, %al
	out	%al, $0x43
	mov	$0x9c, %al
	out	%al, $0x40
	mov	$0x2e, %al
	out	%al, $0x40
	ret

/* Paging on: 0-8 MiB mapped to itself through pt0 and pt1. */
paging_on:
	mov	$pt0, %edi
	mov	$0x003, %eax
	mov	$2048, %ecx
1:	stosl
	add	$0x1000, %eax
	loop	1b
	movl	$pt0 + 3, pd
	movl	$pt1 + 3, pd + 4
	mov	$pd, %eax
	mov	%eax, %cr3
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
	ret

puts:
	lodsb
	test	%al, %al
	jz	1f
	mov	$COM1, %dx
	out	%al, %dx
	jmp	puts
1:	ret
puthex32:
	mov	$8, %ecx
1:	rol	$4, %eax
	push	%eax
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	2f
	add	$('a' - '0' - 10), %al
2:	mov	$COM1, %dx
	out	%al, %dx
	pop	%eax
	loop	1b
	mov	$' ', %al
	out	%al, %dx
	ret

hello:	.asciz	"rv: start\n"
ssemsg:	.asciz	"sse ok"
tfmsg:	.asciz	"user pushf saw TF=1"
stosmsg: .asciz	"rep stos done "
btsmsg: .asciz	"bts done "
trapmsg: .asciz	"trap "
nl:	.asciz	"\n"
	.align 8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08 kernel code */
	.quad	0x00cf92000000ffff	/* 0x10 kernel data */
	.quad	0x00cffa000000ffff	/* 0x18 user code */
	.quad	0x00cff2000000ffff	/* 0x20 user data */
	.word	0x67, tss - textstart, 0x8910, 0	/* 0x28 TSS */
	.quad	0xffcf92bff800ffff	/* 0x30 base 0xffbff800, G, limit 0xfffff */
	.quad	0x00cf92001000ffff	/* 0x38 data, base 0x1000 */
gdt_end:
gdtr:	.word	gdt_end - gdt - 1
	.long	gdt
idtr:	.word	256*8 - 1
	.long	idt
	.align 4
tss:	.long	0, 0x90000, 0x10
	.skip	0x68 - 12
	.section .bss
	.align 4096
saved_eip: .long 0
	.align 4096
ucode:	.skip 4096
	.align 8
idt:	.skip	256*8
	.align 4096
pd:	.skip	4096
pt0:	.skip	4096
pt1:	.skip	4096
