/*
 * entry.S - the guest fuzzer kernel's assembly: the Multiboot entry, the
 * 256 trap stubs, the jump buffer that brings a fuzzing operation back
 * after a fault, the way into user mode, and the snippets: one privileged
 * or page-table instruction each, run with registers fuzz.c chose.
 *
 * Everything here runs in the guest.  fuzz.c explains the whole design.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003
#define KDATA		0x10
#define UDATA		0x23
#define UCODE		0x1b

	.section .multiboot, "ax"
	.long	MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl	_start
_start:
	mov	$fz_stack_top, %esp
	push	%ebx			/* the Multiboot information */
	call	fz_main
1:	hlt
	jmp	1b

/*
 * Trap stubs.  The CPU pushes an error code for vectors 8, 10-14, 17, 21,
 * 29 and 30; for the rest we push a 0 so that every frame looks alike.
 */
	.macro	stub n
	.align	8
fz_stub_\n:
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushl	$0
	.endif
	pushl	$\n
	jmp	fz_common
	.endm

	.altmacro
	.set	i, 0
	.rept	256
	stub	%i
	.set	i, i + 1
	.endr

	.macro	stubaddr n
	.long	fz_stub_\n
	.endm
	.section .rodata
	.globl	fz_stubs
fz_stubs:
	.set	i, 0
	.rept	256
	stubaddr %i
	.set	i, i + 1
	.endr
	.noaltmacro

	.text
/*
 * The common path: save everything as a struct fz_frame, give the C
 * handler our data segments, and either resume (it returns 0) or abandon
 * the operation that trapped (it returns 1): back to the last fz_setjmp.
 */
fz_common:
	pusha
	push	%ds
	push	%es
	push	%fs
	push	%gs
	mov	$KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %fs
	mov	%eax, %gs
	cld				/* the C code's ABI, whatever ring 3 left */
	push	%esp
	call	fz_trap
	add	$4, %esp
	test	%eax, %eax
	jnz	fz_abandon
	pop	%gs
	pop	%fs
	pop	%es
	pop	%ds
	popa
	add	$8, %esp
	iret

fz_abandon:
	mov	$fz_jb, %eax
	mov	$1, %edx
	jmp	fz_longjmp_edx

/* int fz_setjmp(struct fz_jmp *jb): 0 now, 1 when an operation is abandoned. */
	.globl	fz_setjmp
fz_setjmp:
	mov	4(%esp), %eax
	mov	%ebx, 0(%eax)
	mov	%esi, 4(%eax)
	mov	%edi, 8(%eax)
	mov	%ebp, 12(%eax)
	lea	4(%esp), %ecx
	mov	%ecx, 16(%eax)
	mov	(%esp), %ecx
	mov	%ecx, 20(%eax)
	xor	%eax, %eax
	ret

fz_longjmp_edx:
	mov	$KDATA, %ecx
	mov	%ecx, %ss
	mov	16(%eax), %esp
	mov	0(%eax), %ebx
	mov	4(%eax), %esi
	mov	8(%eax), %edi
	mov	12(%eax), %ebp
	push	20(%eax)
	mov	%edx, %eax
	ret

/*
 * uint32_t fz_call(void (*snippet)(void), struct fz_regs *r): run one
 * snippet with eax, ebx, ecx, edx, esi and edi taken from r; returns the
 * snippet's eax.
 */
	.globl	fz_call
fz_call:
	push	%ebp
	push	%ebx
	push	%esi
	push	%edi
	mov	24(%esp), %ebp
	push	20(%esp)		/* the snippet */
	mov	0(%ebp), %eax
	mov	4(%ebp), %ebx
	mov	8(%ebp), %ecx
	mov	12(%ebp), %edx
	mov	16(%ebp), %esi
	mov	20(%ebp), %edi
	pop	%ebp
	call	*%ebp
	pop	%edi
	pop	%esi
	pop	%ebx
	pop	%ebp
	ret

/*
 * void fz_user_enter(struct fz_regs *r, uint32_t eip, uint32_t esp,
 * uint32_t eflags): iret to ring 3 with r's registers and the user data
 * segment in every data segment register.  It never returns: the chunk
 * ends in a trap, and fz_trap abandons it back to the last fz_setjmp.
 */
	.globl	fz_user_enter
fz_user_enter:
	mov	4(%esp), %ebp
	pushl	$UDATA
	pushl	16(%esp)		/* esp */
	pushl	24(%esp)		/* eflags */
	pushl	$UCODE
	pushl	24(%esp)		/* eip */
	mov	$UDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %fs
	mov	%eax, %gs
	mov	0(%ebp), %eax
	mov	4(%ebp), %ebx
	mov	8(%ebp), %ecx
	mov	12(%ebp), %edx
	mov	16(%ebp), %esi
	mov	20(%ebp), %edi
	mov	24(%ebp), %ebp
	iret

/* Reload our own segments, after a snippet changed them. */
	.globl	fz_reload_segments
fz_reload_segments:
	ljmp	$0x08, $1f
1:	mov	$KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%eax, %ss
	ret

	.globl	fz_far_target
fz_far_target:
	lret

/*
 * The snippets.  Each is one instruction (or a short fixed sequence)
 * followed by ret; fz_call gives it the registers.  fuzz.c's table says
 * what each register means for each snippet.
 */
	.macro	snip name
	.globl	s_\name
s_\name:
	.endm

snip cr0_write;	mov %eax, %cr0;	ret
snip cr3_write;	mov %eax, %cr3;	ret
snip cr4_write;	mov %eax, %cr4;	ret
snip cr_read;	mov %cr0, %eax; mov %cr2, %ebx; mov %cr3, %ecx; mov %cr4, %edx; ret
snip lgdt;	lgdt (%esi);	ret
snip lidt;	lidt (%esi);	ret
snip sdt;	sgdt (%esi); sidt 8(%esi); sldt %ax; str %bx; smsw %cx; smsw 16(%esi); ret
snip lldt;	lldt %ax;	ret
snip ltr;	ltr %ax;	ret
snip lmsw;	lmsw %ax;	ret
snip clts;	clts;		ret
snip invlpg;	invlpg (%esi);	ret
snip wbinvd;	wbinvd;		ret
snip load_fs;	mov %eax, %fs; mov %fs:(%esi), %ecx; ret
snip load_gs;	mov %eax, %gs; movl %ecx, %gs:(%edi); ret
snip load_ds;	push %ds; mov %eax, %ds; mov (%esi), %ecx; pop %ds; ret
snip load_es;	mov %eax, %es; rep stosb; ret
snip load_ss;	mov %ss, %edx; mov %eax, %ss; mov %edx, %ss; ret
snip pushpop_seg; push %cs; pop %eax; push %ds; pop %fs; push %ss; pop %gs; ret
snip lcall;	lcall *(%esi);	ret
snip lar;	lar %eax, %ebx; lsl %eax, %ecx; verr %ax; verw %ax; ret
snip iret3;	push %ecx; push %eax; push $1f; iret; 1: ret
snip popf;	push %eax; popf; pushf; pop %eax; ret
snip cli_sti;	cli; pushf; sti; pop %eax; ret
snip hlt;	sti; hlt;	ret
snip in;	in %dx, %al; in %dx, %ax; in %dx, %eax; ret
snip out;	out %al, %dx;	ret
snip outw;	out %ax, %dx;	ret
snip ins;	rep insb;	ret
snip outs;	rep outsb;	ret
snip cpuid;	cpuid;		ret
snip rdmsr;	rdmsr;		ret
snip dr;	mov %dr7, %eax; mov %ebx, %dr0; mov %dr6, %ecx; ret
snip int3;	int3;		ret
snip into;	add %eax, %eax; into; ret
snip icebp;	.byte 0xf1;	ret
snip ud2;	ud2;		ret
snip st_mov;	mov %eax, (%edi); ret
snip st_movw;	mov %ax, (%edi); ret
snip st_movb;	mov %al, (%edi); ret
snip st_movah;	mov %ah, (%edi); ret
snip st_or;	or %eax, (%edi); ret
snip st_and;	and %eax, (%edi); ret
snip st_xor;	xor %eax, (%edi); ret
snip st_add;	add %eax, (%edi); ret
snip st_sub;	subw %ax, (%edi); ret
snip st_xchg;	xchg %eax, (%edi); ret
snip st_cmpxchg; lock cmpxchg %ebx, (%edi); ret
snip st_cmpxchg8b; lock cmpxchg8b (%edi); ret
snip st_bts;	bts %ebx, (%edi); ret
snip st_stos;	cld; rep stosl; ret
snip st_stosb;	cld; stosb; ret
snip st_movs;	cld; rep movsb; ret
snip st_imm;	movl $0x00000067, (%edi); ret
snip ld;	mov (%esi), %eax; ret
snip ldb;	movzbl (%esi), %eax; ret
snip push_mem;	push (%esi); pop %eax; ret
snip pop_mem;	push %eax; pop (%edi); ret
snip rand;	jmp *fz_rand_code_ptr

/* int $n for every n: 256 pieces of 4 bytes, "int $n; ret; nop". */
	.globl	fz_int_table
	.align	4
fz_int_table:
	.set	i, 0
	.rept	256
	.byte	0xcd, i, 0xc3, 0x90
	.set	i, i + 1
	.endr

	.section .bss
	.align	4096
	.globl	fz_stack_top
	.skip	65536
fz_stack_top:
