/*
 * x86.h - architectural definitions of the 32-bit x86, shared by the guest
 * kernel and the host VMM.
 *
 * Both sides speak the same hardware language: the guest kernel builds
 * page tables and descriptors with these bits, and the VMM (later, its
 * shadow MMU and emulator) reads the very same structures out of guest
 * memory.  One definition, used by both, so they cannot drift apart.
 */
#ifndef KVMSHADOW_X86_H
#define KVMSHADOW_X86_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* Paging: 2-level, non-PAE, 4 KiB pages, optional 4 MiB pages. */
#define PAGE_SHIFT	12
#define PAGE_SIZE	0x1000u
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define LARGE_PAGE_SIZE	0x400000u	/* 4 MiB, with CR4.PSE */
#define PT_ENTRIES	1024
#define PDE_INDEX(va)	(((va) >> 22) & 0x3ff)
#define PTE_INDEX(va)	(((va) >> 12) & 0x3ff)

#define PTE_P		0x001	/* present */
#define PTE_W		0x002	/* writable */
#define PTE_U		0x004	/* user accessible */
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_A		0x020	/* accessed */
#define PTE_D		0x040	/* dirty */
#define PTE_PS		0x080	/* in a PDE: 4 MiB page */
#define PTE_G		0x100	/* global (CR4.PGE) */
#define PTE_FRAME	0xfffff000u
#define PDE_LARGE_FRAME	0xffc00000u

/* Page-fault error code bits. */
#define PF_P		0x01	/* protection violation, not a missing page */
#define PF_W		0x02	/* the access was a write */
#define PF_U		0x04	/* the access came from CPL 3 */
#define PF_RSVD		0x08
#define PF_I		0x10	/* instruction fetch */

/* Control registers. */
#define CR0_PE		0x00000001u
#define CR0_MP		0x00000002u
#define CR0_EM		0x00000004u
#define CR0_TS		0x00000008u
#define CR0_ET		0x00000010u
#define CR0_NE		0x00000020u
#define CR0_WP		0x00010000u
#define CR0_AM		0x00040000u
#define CR0_NW		0x20000000u
#define CR0_CD		0x40000000u
#define CR0_PG		0x80000000u

#define CR4_VME		0x00000001u
#define CR4_PVI		0x00000002u
#define CR4_TSD		0x00000004u
#define CR4_DE		0x00000008u
#define CR4_PSE		0x00000010u
#define CR4_PAE		0x00000020u
#define CR4_PGE		0x00000080u
#define CR4_OSFXSR	0x00000200u
#define CR4_OSXMMEXCPT	0x00000400u
#define CR4_UMIP	0x00000800u

/* EFLAGS. */
#define FL_CF		0x00000001u
#define FL_FIXED	0x00000002u	/* bit 1 always reads as one */
#define FL_ZF		0x00000040u
#define FL_TF		0x00000100u
#define FL_IF		0x00000200u
#define FL_DF		0x00000400u
#define FL_IOPL_MASK	0x00003000u
#define FL_NT		0x00004000u
#define FL_RF		0x00010000u
#define FL_VM		0x00020000u
#define FL_AC		0x00040000u
#define FL_VIF		0x00080000u
#define FL_VIP		0x00100000u
#define FL_ID		0x00200000u

/* Exception vectors. */
#define T_DE		0	/* divide error */
#define T_DB		1
#define T_NMI		2
#define T_BP		3	/* breakpoint */
#define T_OF		4
#define T_BR		5
#define T_UD		6	/* invalid opcode */
#define T_NM		7
#define T_DF		8	/* double fault */
#define T_TS		10
#define T_NP		11
#define T_SS		12
#define T_GP		13	/* general protection */
#define T_PF		14	/* page fault */
#define T_MF		16
#define T_AC		17
#define T_MC		18	/* machine check */

#ifndef __ASSEMBLER__
/* Selectors: index << 3 | table indicator << 2 | requested privilege. */
#define SEL_RPL_MASK	3
#define SEL_TI		4
#define SEL(index, rpl)	((uint16_t)(((index) << 3) | (rpl)))

/*
 * A segment descriptor, as 8 bytes in the GDT or LDT.  The guest builds
 * these; the VMM must read them back when it emulates segment loads.
 */
struct x86_desc {
	uint16_t limit_lo;
	uint16_t base_lo;
	uint8_t base_mid;
	uint8_t access;		/* P | DPL(2) | S | type(4) */
	uint8_t limit_hi_flags;	/* G | D/B | L | AVL | limit 19:16 */
	uint8_t base_hi;
} __attribute__((packed));

#define DESC_P		0x80
#define DESC_DPL(d)	(((d) & 3) << 5)
#define DESC_S		0x10	/* code/data rather than system */
#define DESC_CODE	0x08	/* with DESC_S: executable */
#define DESC_RW		0x02	/* code: readable; data: writable */
#define DESC_ACCESSED	0x01
#define DESC_TSS32	0x09	/* system type: available 32-bit TSS */
#define DESC_TSS32_BUSY	0x0b
#define DESC_INTGATE32	0x0e
#define DESC_TRAPGATE32	0x0f
#define DESC_G		0x80	/* limit in 4 KiB units */
#define DESC_DB		0x40	/* 32-bit segment */

/* An interrupt or trap gate, as 8 bytes in the IDT. */
struct x86_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;	/* P | DPL(2) | 0 | type(4) */
	uint16_t offset_hi;
} __attribute__((packed));

/* The operand of lgdt/lidt/sgdt/sidt. */
struct x86_dtr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* The 32-bit task-state segment.  Only ss0:esp0 (and ss1:esp1) matter to
 * us: the CPU loads them when an interrupt raises the privilege level. */
struct x86_tss {
	uint32_t link;
	uint32_t esp0, ss0;
	uint32_t esp1, ss1;
	uint32_t esp2, ss2;
	uint32_t cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
} __attribute__((packed));

#endif /* !__ASSEMBLER__ */
#endif
