/*
 * memlayout.h - where things live in the guest kernel's address spaces.
 *
 * Every process has its own page directory.  The bottom 3 GiB belong to
 * the process; the kernel is the same in all of them from 3 GiB up; the
 * top 4 MiB are never mapped, because that is where a VMM like
 * kvmshadow puts itself (include/layout.h).
 *
 *   0xffffffff +--------------------------+
 *              | reserved for the VMM     |  4 MiB, never mapped
 *   0xffc00000 +--------------------------+
 *              | (unused)                 |
 *              +--------------------------+  KERNEL_BASE + end of RAM
 *              | direct map of all RAM    |  kernel VA = physical + 3 GiB
 *              |  kernel image at +1 MiB  |
 *   0xc0000000 +--------------------------+  KERNEL_BASE = USER_STACK_TOP
 *              | user stack (grows down)  |  1 MiB, pages zero-filled on demand
 *   0xbff00000 +--------------------------+  USER_STACK_BOTTOM = USER_HEAP_LIMIT
 *              | (free)                   |
 *              | heap (sbrk, grows up)    |  zero-filled on demand
 *              +--------------------------+  page after the program's end
 *              | program: text, data, bss |  from the ELF, at 0x08048000
 *   0x00001000 +--------------------------+
 *              | never mapped             |  so null pointers fault
 *   0x00000000 +--------------------------+
 */
#ifndef GUEST_MEMLAYOUT_H
#define GUEST_MEMLAYOUT_H

#include <stdint.h>

#include "layout.h"
#include "x86.h"

#define KERNEL_BASE		GUEST_KERNEL_BASE
/* The most RAM the direct map can hold without touching the VMM's area. */
#define DIRECT_MAP_LIMIT	(VMM_RESERVED_VA - KERNEL_BASE)

/* Physical <-> kernel virtual, through the direct map. */
#define P2V(pa)			((void *)((uint32_t)(pa) + KERNEL_BASE))
#define V2P(va)			((uint32_t)(va) - KERNEL_BASE)

#define USER_MIN		0x00001000u
#define USER_STACK_TOP		KERNEL_BASE
#define USER_STACK_SIZE		0x00100000u
#define USER_STACK_BOTTOM	(USER_STACK_TOP - USER_STACK_SIZE)
#define USER_HEAP_LIMIT		USER_STACK_BOTTOM

#define PAGE_ROUND_DOWN(a)	((uint32_t)(a) & PAGE_MASK)
#define PAGE_ROUND_UP(a)	(((uint32_t)(a) + PAGE_SIZE - 1) & PAGE_MASK)

/* Symbols from the linker script (guest/kernel.ld). */
extern char kernel_start[], kernel_text_end[], kernel_end[];

#endif
