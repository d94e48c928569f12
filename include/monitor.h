/*
 * monitor.h - the contract between the monitor (src/monitor.S, ring 0 of
 * the machine) and the host VMM (src/machine.c, src/trap.c).
 *
 * In shadow mode the monitor sits in the top 4 MiB of every address space
 * (VMM_RESERVED_VA, include/layout.h).  It is the only code that ever runs
 * in ring 0, and it has no policy at all: every trap enters one of its
 * 256 entry stubs, which saves the guest's registers as a struct
 * monitor_frame on the monitor stack and does one `out` to MONITOR_PORT.
 * That `out` is the single KVM exit of a trap.  The host VMM reads and
 * rewrites the frame directly in machine memory (no ioctl), fills in the
 * control block, and resumes; the monitor then does what the control
 * block asks (load CR3, flush the TLB), pops the frame and irets to
 * wherever the frame now says.
 *
 * The pages, at VMM_RESERVED_VA + n * 4 KiB:
 *
 *	0-1	code (the stubs)	read-only
 *	2	GDT (512 entries)	read-only
 *	3	IDT, then the TSS	read-only
 *	4	control block, stack	writable by ring 0 and, alas, ring 1
 *
 * Paging cannot tell ring 1 from ring 0 (both are "supervisor"), so the
 * guest kernel can read every monitor page and write page 4.  With CR0.WP
 * set, nobody - not even ring 0 - writes the read-only pages.  Page 4 is
 * therefore hostile input: the host rewrites all of it that the monitor
 * will use before every resume, and validates what it reads.
 */
#ifndef KVMSHADOW_MONITOR_H
#define KVMSHADOW_MONITOR_H

#include "layout.h"

#define MONITOR_BASE		VMM_RESERVED_VA
#define MONITOR_CODE_PAGES	2
#define MONITOR_GDT_VA		(MONITOR_BASE + 0x2000)
#define MONITOR_IDT_VA		(MONITOR_BASE + 0x3000)
#define MONITOR_TSS_VA		(MONITOR_BASE + 0x3800)
#define MONITOR_DATA_VA		(MONITOR_BASE + 0x4000)
#define MONITOR_CTL_VA		MONITOR_DATA_VA
#define MONITOR_STACK_TOP	(MONITOR_BASE + 0x5000)
#define MONITOR_PAGES		5
#define MONITOR_RO_PAGES	4	/* pages 0-3 */

/* The `out` port of the monitor's exit.  Guest in/out never reaches the
 * hardware (it traps at CPL 1 and 3), so every real port exit is ours. */
#define MONITOR_PORT		0xf0

/* The vector the host injects with KVM_INTERRUPT to get a frame when an
 * interrupt for the guest is due and the guest is running. */
#define MONITOR_IRQ_VECTOR	0xf0

/*
 * The real GDT: the guest's descriptors are mirrored at their own indices
 * (1 .. MONITOR_GDT_GUEST_MAX), their DPL 0 turned into 1; the monitor's
 * own descriptors sit at the top.
 */
#define MONITOR_GDT_ENTRIES	512
#define MONITOR_GDT_GUEST_MAX	507
#define MONITOR_CS		0xfe0	/* index 508, ring 0 code */
#define MONITOR_DS		0xfe8	/* index 509, ring 0 data */
#define MONITOR_TSS_SEL		0xff0	/* index 510 */

/* Control block fields (offsets from MONITOR_CTL_VA), written by the host
 * before every resume and acted on by the monitor before its iret. */
#define CTL_CR3			0	/* nonzero: load this into CR3 (flushes the TLB) */
#define CTL_INVLPG		4	/* nonzero: invlpg this address */
#define CTL_FRAME		8	/* the monitor stores its frame pointer here */
#define CTL_CR0			12	/* nonzero: load this into CR0 (the guest's TS, EM, MP) */
#define CTL_CR4			16	/* bit 31 set: load the rest into CR4 (OSFXSR...) */
#define CTL_LOAD		0x80000000u

/* struct monitor_frame, byte offsets, lowest address first. */
#define FRAME_CR2		0
#define FRAME_ES		4
#define FRAME_DS		8
#define FRAME_EDI		12
#define FRAME_EAX		40
#define FRAME_VECTOR		44
#define FRAME_SIZE		72

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * What a trap leaves on the monitor stack.  The CPU pushed ss..eip (a
 * trap from ring 1 or 3 always switches to the monitor stack, so ss and
 * esp are always there) and, for some exceptions, the error code; the
 * stub pushed the rest.  The frame always ends at MONITOR_STACK_TOP.
 */
struct monitor_frame {
	uint32_t cr2;
	uint32_t es, ds;
	uint32_t edi, esi, ebp, esp_monitor, ebx, edx, ecx, eax; /* pushal */
	uint32_t vector, error;
	uint32_t eip, cs, eflags, esp, ss;
};

_Static_assert(sizeof(struct monitor_frame) == FRAME_SIZE, "frame layout");

#define MONITOR_FRAME_VA (MONITOR_STACK_TOP - FRAME_SIZE)

struct monitor_ctl {
	uint32_t cr3;
	uint32_t invlpg;
	uint32_t frame;
	uint32_t cr0;
	uint32_t cr4;
};

/* The real CR0 in shadow mode, before the guest's TS, EM and MP. */
#define MONITOR_CR0 0x80010031u /* PG | WP | NE | ET | PE */
#endif

#endif
