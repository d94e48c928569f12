/*
 * monitor_image.S - carry the monitor (src/monitor.S, assembled for
 * 32-bit x86 and linked at MONITOR_BASE into a flat binary by the
 * Makefile) inside the kvmshadow executable, so that machine.c can copy
 * it into machine memory.
 */
	.section .rodata
	.balign	16
	.globl	monitor_image
	.globl	monitor_image_end
monitor_image:
	.incbin	"monitor.bin"
monitor_image_end:

	.section .note.GNU-stack, "", @progbits
