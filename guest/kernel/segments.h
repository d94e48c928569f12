/*
 * segments.h - the kernel's GDT slots and selectors.
 *
 * Usable from assembly (trapentry.S loads the kernel data selector), so
 * the selectors are spelled out as plain numbers: index * 8 + RPL.
 */
#ifndef GUEST_SEGMENTS_H
#define GUEST_SEGMENTS_H

#define GDT_KERNEL_CODE	1
#define GDT_KERNEL_DATA	2
#define GDT_USER_CODE	3
#define GDT_USER_DATA	4
#define GDT_TSS		5
#define GDT_ENTRIES	6

#define KERNEL_CS	0x08	/* GDT_KERNEL_CODE << 3 | 0 */
#define KERNEL_DS	0x10	/* GDT_KERNEL_DATA << 3 | 0 */
#define USER_CS		0x1b	/* GDT_USER_CODE << 3 | 3 */
#define USER_DS		0x23	/* GDT_USER_DATA << 3 | 3 */
#define TSS_SEL		0x28	/* GDT_TSS << 3 | 0 */

#ifndef __ASSEMBLER__
#include <stdint.h>

void segments_init(void);
void segments_set_kernel_stack(uint32_t esp0);
#endif

#endif
