/*
 * programs.S - the user programs, built into the kernel image.
 *
 * The guest has no disk: every program it can run is an ELF file
 * (built from guest/user/ by guest.mk) pulled in here with .incbin and
 * listed in exec_programs[], the table exec.c searches by name.  To add
 * a program, add a PROGRAM line here and its name to GUEST_PROGRAMS in
 * guest/guest.mk.
 *
 * Each entry of the table is struct exec_program_image (exec.c):
 * name, start of the ELF image, its size in bytes.
 */

.macro	PROGRAM name
	.section .rodata.program_images, "a"
	.balign	16
image_\name:
	.incbin	"\name\().elf"
image_\name\()_end:

	.section .rodata.program_names, "a"
name_\name:
	.asciz	"\name"

	.section .rodata.program_table, "a"
	.long	name_\name, image_\name, image_\name\()_end - image_\name
.endm

	.section .rodata.program_table, "a"
	.balign	4
	.globl	exec_programs
exec_programs:
	PROGRAM	init
	PROGRAM	hello
	PROGRAM	forkstress
	PROGRAM	memtest
	PROGRAM	faulter
	PROGRAM	sysinfo
	PROGRAM	privtest
	PROGRAM	inttest
	PROGRAM	wptest
	PROGRAM	bigpage
	PROGRAM	kspy
	PROGRAM	syscalls
	PROGRAM	ptshadow
	PROGRAM	pingpong
	PROGRAM	retouch
	PROGRAM	forkchurn
	PROGRAM	ptupdate
	PROGRAM	bench
	.section .rodata.program_table, "a"
	.globl	exec_programs_end
exec_programs_end:

	.section .note.GNU-stack, "", @progbits
