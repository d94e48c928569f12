/*
 * main.c - the guest kernel's life, from boot.S to the debug-exit port.
 *
 * kmain runs once, on the boot stack, with interrupts off: it sets up the
 * machine in the order each piece needs the one before - console first,
 * so that anything that goes wrong can say so - starts the first process,
 * init, and becomes the scheduler loop.
 *
 * The kernel ends when init exits.  init runs the built-in programs and
 * exits 0 if all of them behaved; we check that every page of memory came
 * back to the allocator (no process leaked its page tables or pages) and
 * that no process is left, then tell the machine PASS or FAIL through the
 * debug-exit port: QEMU's isa-debug-exit device, or kvmshadow's.
 */
#include "bootinfo.h"
#include "cpu.h"
#include "guest_abi.h"
#include "ktest.h"
#include "main.h"
#include "memlayout.h"
#include "palloc.h"
#include "pic.h"
#include "pit.h"
#include "ports.h"
#include "printk.h"
#include "proc.h"
#include "sched.h"
#include "segments.h"
#include "traps.h"
#include "uart.h"
#include "vm.h"

#define MAIN_MIN_MEMORY	0x00400000u	/* 4 MiB: what vm_init maps with a page table */

static uint32_t main_boot_free_pages;	/* free pages just before init existed */

/*
 * No floating point: the kernel saves only the integer registers when it
 * switches processes, so a process using the x87 would silently share
 * its registers with every other one.  With CR0.EM set, every x87
 * instruction traps instead (#NM, "device not available"), and the
 * process is killed, like any other process that breaks the rules.
 */
static void main_disable_fpu(void)
{
	lcr0((rcr0() | CR0_EM) & ~CR0_MP);
}

void kmain(uint32_t magic, uint32_t info_pa)
{
	uint32_t map_end, big_pa;

	uart_init();
	bootinfo_read(magic, info_pa);
	printk("kvmshadow guest kernel, %u MiB\n", bootinfo.mem_mib);
	if (bootinfo.mem_end < MAIN_MIN_MEMORY)
		panic("%u KiB of memory; the guest kernel needs at least 4 MiB",
		      bootinfo.mem_end >> 10);

	segments_init();
	traps_init();
	main_disable_fpu();
	vm_init(bootinfo.mem_end);
	map_end = vm_direct_map_end(bootinfo.mem_end);
	big_pa = ktest_mm_reserve(map_end);
	palloc_init(V2P(kernel_end), map_end, big_pa, big_pa ? LARGE_PAGE_SIZE : 0);
	pic_init();
	pit_init(GUEST_HZ);

	main_boot_free_pages = palloc_free_pages();
	proc_create_init(bootinfo.cmdline);
	sched_loop();
}

/* Processes other than init (the caller) that still exist. */
static int main_live_processes(void)
{
	int n = 0;

	for (int i = 0; i < NPROC; i++)
		if (proc_table[i].state != PROC_UNUSED && &proc_table[i] != proc_current)
			n++;
	return n;
}

/* init has exited with init_status, and its memory is already freed. */
void main_shutdown(int init_status)
{
	uint32_t free_pages = palloc_free_pages();
	int live = main_live_processes();
	int pass = init_status == 0;

	cli();
	printk("guest: init exited with status %d\n", init_status);
	if (live) {
		printk("guest: %d processes still exist\n", live);
		pass = 0;
	} else if (free_pages != main_boot_free_pages) {
		printk("guest: %d pages were never freed\n",
		       (int)(main_boot_free_pages - free_pages));
		pass = 0;
	} else {
		printk("guest: every page was returned to the allocator\n");
	}
	printk("guest: %s\n", pass ? "PASS" : "FAIL");
	outb(PORT_DEBUG_EXIT, pass ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL);

	printk("guest: no debug-exit device at port 0x%x; halting\n", PORT_DEBUG_EXIT);
	for (;;)
		asm volatile("cli; hlt");
}
