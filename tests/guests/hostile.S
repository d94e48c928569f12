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
 * Descriptor tables (issue 7):
 *   lgdtmon  lgdt with base 0xffc02000 (the monitor's GDT), then mov ds
 *   lgdtend  lgdt of a table whose last 32 of 64 bytes lie past the end
 *            of memory, then mov ds of an entry inside it
 *   lidtmon  lidt with base 0xffc03000 (the monitor's IDT), then int3
 *   lidtend  an IDT running past the end of memory; int $1 through the
 *            gate in its last 8 bytes of memory
 *   lldtmon  lldt of an LDT based at 0xffc02000, then mov ds of an LDT
 *            selector
 *   ldt      the same with an LDT in guest memory
 *   ltrmon   ltr of a TSS at 0xffc03800, then int3 from ring 3
 * Privilege:
 *   conf     ljmp to a conforming DPL-0 code segment, print CS
 *   dpl1     mov ds of a DPL-1 data segment
 *   segnp    mov ds of a not-present segment (#NP)
 *   ssnp     mov ss of it (#SS)
 *   ssrpl3   mov ss of kernel data with RPL 3 (#GP)
 *   callgate lcall through a DPL-0 call gate to 0x08:callee
 *   callmon  lcall through a call gate to 0x08:0xffc00000
 *   iretrpl3, iretnull, iretoob, iretss, iretcs3  iret frames with CS
 *            0x0b, 0x00, 0x400 (past the GDT), SS 0x10 with CS 0x1b, CS
 *            0x18 (user code with RPL 0)
 * Page tables:
 *   ptbeyond a PTE mapping 256 MiB, past the end of memory: read, write
 *   pdebig   a 4 MiB page at 60 MiB (run with 62 MiB of memory): read
 *            below and past the end
 *   ptself   a PDE pointing at the directory, used as a page table
 *   ptcycle  two page tables that map each other
 * Faulting fetches and operands (#PF: "pf <cr2> <error> <eip>"):
 *   strad, stradcr3, stradlgdt  mov $imm, mov to cr3, lgdt, each cut
 *            by the end of the mapped memory at 0x400000
 *   lgdtpf   lgdt from 0x3ffffc: 4 bytes mapped, 2 not
 *   sgdtro   sgdt to a read-only page: allowed with CR0.WP clear, #PF(3)
 *            with it set
 * Interrupts:
 *   storm    the PIT at count 200 (6 kHz), 2000 ticks, then done
 *   clispin  the PIT running, then cli; jmp . (ended by --timeout)
 *   holdhang the timer handler returns with the next tick already
 *            pending, to cli; jmp .: the interrupt-pacing hold left over
 *            from that return once stood in for every deadline, and
 *            --timeout never fired (found by the resource review)
 *
 * LAYOUT: the data lives in .text (tiny.ld), and kvmshadow's linear sweep
 * (src/patch.c) patches the 0xcf, 0x9c and 0x9d bytes it decodes there
 * as iret, pushf and popf: the GDT's 0xcf flags bytes become 0xf4 in
 * shadow mode (segments of 1.25 GiB instead of 4 GiB, harmless here).  A
 * patched byte in the TSS descriptor would make ltr's busy-bit write stop
 * the guest, so the TSS is 256-byte aligned: the low byte of its base,
 * the one byte there that varies, is 0.
 *
 * tests/integration/shadow.sh runs each and checks what it prints.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003
#define COM1		0x3f8
#define ENDMEM		0x4000000	/* the end of 64 MiB */
#define ENDGDT		(ENDMEM - 32)
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
#elif defined(V_usgdt) || defined(V_usint) || defined(V_uspf) || defined(V_ltrmon)
#if defined(V_ltrmon)
	mov	$0x70, %eax		/* a TSS at 0xffc03800 */
	ltr	%ax
#endif
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
#elif defined(V_lgdtmon)
	lgdt	mongdtr			/* base 0xffc02000: the monitor's GDT */
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	$dsmsg, %esi
	call	puts
#elif defined(V_lgdtend)
	mov	$gdt, %esi		/* entries 0-3 into the last 32 bytes */
	mov	$ENDGDT, %edi
	mov	$8, %ecx
	cld
	rep movsl
	lgdt	endgdtr			/* limit 0x3f: 32 bytes past the end */
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	$dsmsg, %esi
	call	puts
#elif defined(V_lidtmon)
	lidt	monidtr			/* base 0xffc03000: the monitor's IDT */
	int3
#elif defined(V_lidtend)
	mov	idt + 8, %eax		/* gate 1 into the last 8 bytes */
	mov	%eax, ENDMEM - 8
	mov	idt + 12, %eax
	mov	%eax, ENDMEM - 4
	lidt	endidtr			/* base ENDMEM - 16, limit 0x7ff */
	int	$0x01
#elif defined(V_lldtmon) || defined(V_ldt)
#if defined(V_lldtmon)
	mov	$0x60, %eax		/* an LDT at 0xffc02000 */
#else
	mov	$0x68, %eax		/* an LDT in guest memory */
#endif
	lldt	%ax
	mov	$0x0c, %eax		/* LDT entry 1: flat data, DPL 0 */
	mov	%eax, %ds
	mov	%ds, %eax
	call	puthex32
#elif defined(V_conf)
	ljmp	$0x40, $1f		/* conforming code, DPL 0 */
1:	mov	%cs, %eax
	call	puthex32
#elif defined(V_dpl1)
	mov	$0x48, %eax		/* data, DPL 1 */
	mov	%eax, %ds
	mov	%ds, %eax
	call	puthex32
#elif defined(V_segnp) || defined(V_ssnp)
	call	name_gates		/* #NP, #SS and #GP say which they are */
	mov	$0x78, %eax		/* not present */
#if defined(V_segnp)
	mov	%eax, %ds
#else
	mov	%eax, %ss
#endif
#elif defined(V_ssrpl3)
	call	name_gates
	mov	$0x13, %eax		/* kernel data with RPL 3 */
	mov	%eax, %ss
#elif defined(V_callgate) || defined(V_callmon)
	mov	$14, %ecx
	mov	$pfh, %eax
	call	set_gate
	call	paging_on
#if defined(V_callgate)
	lcall	$0x50, $0		/* call gate, DPL 0, to 0x08:callee */
#else
	lcall	$0x58, $0		/* call gate, DPL 0, to 0x08:0xffc00000 */
#endif
	mov	$callmsg, %esi
	call	puts
#elif defined(V_iretrpl3) || defined(V_iretnull) || defined(V_iretoob) || \
	defined(V_iretss) || defined(V_iretcs3)
#if defined(V_iretss)
	pushl	$0x10			/* ss: kernel data, RPL 0 */
#else
	pushl	$0x23
#endif
	pushl	$0x80000
	pushl	$0x2
#if defined(V_iretrpl3)
	pushl	$0x0b			/* kernel code, RPL 3 */
#elif defined(V_iretnull)
	pushl	$0x00			/* null */
#elif defined(V_iretoob)
	pushl	$0x400			/* beyond the GDT's limit */
#elif defined(V_iretss)
	pushl	$0x1b
#else
	pushl	$0x18			/* user code, RPL 0 */
#endif
	pushl	$user
	iret
#elif defined(V_ptbeyond)
	call	paging_on
	movl	$0x10000003, pt1	/* va 0x400000 -> pa 256 MiB */
	invlpg	0x400000
	mov	0x400000, %eax
	call	puthex32
	movl	$0x12345678, 0x400000
	mov	0x400000, %eax
	call	puthex32
#elif defined(V_pdebig)
	call	paging_on
	mov	%cr4, %eax
	or	$0x10, %eax		/* PSE */
	mov	%eax, %cr4
	movl	$0x03c00083, pd + 8	/* va 8 MiB -> pa 60-64 MiB, 4 MiB page */
	movl	$0xcafe, 0x800000	/* pa 60 MiB: memory */
	mov	0x800000, %eax
	call	puthex32
	mov	0xa00000, %eax		/* pa 62 MiB: past the end of 62 MiB */
	call	puthex32
#elif defined(V_ptself)
	call	paging_on
	movl	$pd + 3, pd + 4		/* pde 1 -> the directory itself */
	invlpg	0x400000
	mov	0x401004, %eax		/* pd[1] through the directory as a table */
	call	puthex32
	movl	$pt0 + 3, 0x401008	/* pd[2] = pt0, written through itself */
	mov	0x800000 + magic, %eax
	call	puthex32
#elif defined(V_ptcycle)
	movl	$pt3 + 3, pt2		/* pt2[0] -> pt3, pt3[0] -> pt2 */
	movl	$pt2 + 3, pt3
	call	paging_on
	movl	$pt2 + 3, pd + 8
	movl	$pt3 + 3, pd + 12
	mov	0x800000, %eax		/* page pt3: pt3[0] */
	call	puthex32
	movl	$pt2 + 3, 0x800004	/* pt3[1] = pt2, through pt2 */
	mov	0xc01000, %eax		/* page pt2 through pt3[1]: pt2[0] */
	call	puthex32
#elif defined(V_strad) || defined(V_stradcr3) || defined(V_stradlgdt) || defined(V_lgdtpf)
	mov	$14, %ecx
	mov	$pfh, %eax
	call	set_gate
	call	paging_on
	movl	$0, pd + 4		/* 0x400000 and up: not present */
	mov	$pd, %eax
	mov	%eax, %cr3
#if defined(V_lgdtpf)
	lgdt	0x3ffffc		/* 4 bytes mapped, 2 not */
#else
	mov	$sbytes, %esi
	mov	$0x400000 - (sbytes_mid - sbytes), %edi
	mov	%edi, %ebx
	mov	$sbytes_mid - sbytes, %ecx
	rep movsb
	jmp	*%ebx
sbytes:
#if defined(V_strad)
	.byte	0xb8, 0x78, 0x56	/* mov $0x12345678, %eax */
sbytes_mid:
#elif defined(V_stradcr3)
	.byte	0x0f			/* mov %eax, %cr3 */
sbytes_mid:
#else
	.byte	0x0f, 0x01, 0x15	/* lgdt gdtr */
sbytes_mid:
#endif
#endif
#elif defined(V_sgdtro)
	mov	$14, %ecx
	mov	$pfh, %eax
	call	set_gate
	call	paging_on
	mov	$ucode, %eax
	shr	$10, %eax
	andl	$~2, pt0(%eax)		/* ucode: read-only */
	invlpg	ucode
	sgdt	ucode			/* CR0.WP clear: ring 0 may write */
	movzwl	ucode, %eax
	call	puthex32
	mov	%cr0, %eax
	or	$0x10000, %eax		/* CR0.WP */
	mov	%eax, %cr0
	sgdt	ucode			/* now #PF(3) */
#elif defined(V_storm)
	mov	$0x20, %ecx
	mov	$tick, %eax
	call	set_gate
	call	pic_pit_init
	mov	$0x34, %al		/* counter 0 reloaded with 200: 6 kHz */
	out	%al, $0x43
	mov	$200, %al
	out	%al, $0x40
	mov	$0, %al
	out	%al, $0x40
	sti
1:	cmpl	$2000, ticks
	jb	1b
	cli
	mov	ticks, %eax
	call	puthex32
	mov	$stormmsg, %esi
	call	puts
#elif defined(V_clispin)
	call	pic_pit_init
	cli
1:	jmp	1b
#elif defined(V_holdhang)
	call	pic_pit_init
	movl	$slowtimer, %eax
	movw	%ax, idt + 0x20*8
	shr	$16, %eax
	movw	%ax, idt + 0x20*8 + 6
	sti
5:	jmp	5b
slowtimer:				/* EOI, wait for the next tick, return to a hang */
	mov	$0x20, %al
	out	%al, $0x20
1:	mov	$0x0a, %al
	out	%al, $0x20
	in	$0x20, %al
	test	$1, %al
	jz	1b
	movl	$hang, (%esp)
	iret
hang:	cli
6:	jmp	6b
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
#elif defined(V_ltrmon)
	int3
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

/* Gate for vector %ecx: interrupt gate to 0x08:%eax. */
set_gate:
	movw	%ax, idt(,%ecx,8)
	shr	$16, %eax
	movw	%ax, idt+6(,%ecx,8)
	ret
/* #NP, #SS, #GP: print "np", "ss" or "gp", then what generic prints. */
name_gates:
	mov	$11, %ecx
	mov	$nph, %eax
	call	set_gate
	mov	$12, %ecx
	mov	$ssh, %eax
	call	set_gate
	mov	$13, %ecx
	mov	$gph, %eax
	call	set_gate
	ret
nph:	mov	$npmsg, %esi
	call	puts
	jmp	generic
ssh:	mov	$ssmsg, %esi
	call	puts
	jmp	generic
gph:	mov	$gpmsg, %esi
	call	puts
	jmp	generic
/* #PF: print "pf <cr2> <error> <eip>" and exit 9. */
pfh:
	mov	$pfmsg, %esi
	call	puts
	mov	%cr2, %eax
	call	puthex32
	mov	(%esp), %eax
	call	puthex32
	mov	4(%esp), %eax
	call	puthex32
	mov	$9, %al
	out	%al, $0xf4
/* The target of the call gate at 0x50: print CS. */
callee:
	mov	%cs, %eax
	call	puthex32
	lret
/* The storm's timer: count, EOI, and at 2000 mask the timer at the PIC
 * (a handler slower than the tick would otherwise never let the
 * interrupted loop run, on hardware too). */
tick:
	push	%eax
	incl	ticks
	cmpl	$2000, ticks
	jb	1f
	mov	$0xff, %al
	out	%al, $0x21
1:	mov	$0x20, %al
	out	%al, $0x20
	pop	%eax
	iret

hello:	.asciz	"rv: start\n"
ssemsg:	.asciz	"sse ok"
tfmsg:	.asciz	"user pushf saw TF=1"
stosmsg: .asciz	"rep stos done "
btsmsg: .asciz	"bts done "
trapmsg: .asciz	"trap "
nl:	.asciz	"\n"
dsmsg:	.asciz	"ds loaded "
callmsg: .asciz	"returned "
stormmsg: .asciz	"ticks "
pfmsg:	.asciz	"pf "
npmsg:	.asciz	"np "
ssmsg:	.asciz	"ss "
gpmsg:	.asciz	"gp "
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
	.quad	0x00cf9e000000ffff	/* 0x40 conforming code, DPL 0 */
	.quad	0x00cfb2000000ffff	/* 0x48 data, DPL 1 */
	.word	callee - textstart, 0x08, 0x8c00, 0x0010	/* 0x50 call gate */
	.word	0x0000, 0x08, 0x8c00, 0xffc0	/* 0x58 call gate to 0xffc00000 */
	.word	0x0fff, 0x2000, 0x82c0, 0xff00	/* 0x60 LDT at 0xffc02000 */
	.word	0x000f, ldt - textstart, 0x8210, 0	/* 0x68 LDT in memory */
	.word	0x0067, 0x3800, 0x89c0, 0xff00	/* 0x70 TSS at 0xffc03800 */
	.quad	0x00cf12000000ffff	/* 0x78 data, DPL 0, not present */
gdt_end:
gdtr:	.word	gdt_end - gdt - 1
	.long	gdt
idtr:	.word	256*8 - 1
	.long	idt
mongdtr: .word	0x2f
	.long	0xffc02000
endgdtr: .word	0x3f
	.long	ENDGDT
monidtr: .word	0x7ff
	.long	0xffc03000
endidtr: .word	0x7ff
	.long	ENDMEM - 16
	.align 8
ldt:	.quad	0
	.quad	0x00cf92000000ffff	/* 0x0c: flat data, DPL 0 */
magic:	.long	0x5a5a1234
	.balign 256			/* see LAYOUT above */
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
pt2:	.skip	4096
pt3:	.skip	4096
ticks:	.long	0
