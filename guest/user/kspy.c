/*
 * kspy.c - a program that tries to look where it may not: the kernel,
 * the kernel's page tables, and the VMM's corner of the address space.
 *
 * Each attempt runs in a child, which the kernel must kill with one line
 * saying what the page fault was; the parent checks the kill status.
 * faulter already writes to 0xc0000000; here are the rest:
 *
 *  - reading the kernel's memory, reading and writing its code: present
 *    pages, but supervisor-only, so "protection";
 *  - reading and writing the kernel's page directory through its
 *    direct-map address (entry 1023, which is always empty, so even a
 *    write that wrongly succeeded would change nothing);
 *  - reading, writing and jumping into 0xffc00000-0xffffffff, which the
 *    guest never maps (include/layout.h): "not present".
 *
 * And one line from the kernel's side: the kernel reads its own memory,
 * but finds nothing at all in the VMM's area.
 *
 * A VMM whose guest kernel shares the address space from ring 1 must
 * make all of this look as the guest's page tables say: kernel pages
 * supervisor-only although the VMM maps them for ring 1, the guest's page
 * tables protected like any kernel page although the VMM watches them,
 * and its own pages at the top absent - for the guest's user programs
 * and for the guest kernel alike - although they are really there.
 */
#include "ulib.h"
#include "x86.h"

#define KERNEL_MEMORY	0xc0000000u	/* GUEST_KERNEL_BASE */
#define KERNEL_CODE	0xc0100000u	/* + KERNEL_MIN_PA: the kernel's first code page */
#define VMM_AREA	0xffc00000u	/* VMM_RESERVED_VA */
#define VMM_AREA_LAST	0xfffffffcu

static volatile uint32_t zero;
static uint32_t kernel_pgdir;	/* set before the children are forked */

static void read_kernel_memory(void)
{
	(void)*(volatile uint32_t *)(KERNEL_MEMORY + zero);
}

static void read_kernel_code(void)
{
	(void)*(volatile uint32_t *)(KERNEL_CODE + zero);
}

static void write_kernel_code(void)
{
	*(volatile uint32_t *)(KERNEL_CODE + zero) = 0;
}

static void read_page_directory(void)
{
	(void)*(volatile uint32_t *)(kernel_pgdir + zero);
}

static void write_page_directory(void)
{
	*(volatile uint32_t *)(kernel_pgdir + 1023 * 4 + zero) = 0;
}

static void read_vmm_area(void)
{
	(void)*(volatile uint32_t *)(VMM_AREA + zero);
}

static void write_vmm_area(void)
{
	*(volatile uint32_t *)(VMM_AREA_LAST + zero) = 0;
}

static void jump_vmm_area(void)
{
	void (*volatile fn)(void) = (void (*)(void))VMM_AREA;

	fn();
}

struct kspy_case {
	const char *what;
	void (*fn)(void);
};

static const struct kspy_case cases[] = {
	{ "read kernel memory", read_kernel_memory },
	{ "read kernel code", read_kernel_code },
	{ "write kernel code", write_kernel_code },
	{ "read the kernel's page directory", read_page_directory },
	{ "write the kernel's page directory", write_page_directory },
	{ "read the VMM's area", read_vmm_area },
	{ "write the VMM's area", write_vmm_area },
	{ "jump into the VMM's area", jump_vmm_area },
};

/* Kernel-mode loads: its own code yes; the VMM's area, first and last word, no. */
static int kernel_finds_nothing(void)
{
	const int not_present = KTEST_FAULTED(T_PF, 0);

	return ktest(KTEST_PROBE, KERNEL_CODE, 0) == 0 &&
	       ktest(KTEST_PROBE, kernel_pgdir, 0) == 0 &&
	       ktest(KTEST_PROBE, VMM_AREA, 0) == not_present &&
	       ktest(KTEST_PROBE, VMM_AREA_LAST, 0) == not_present;
}

int main(const char *arg)
{
	int failed = 0, ok;

	(void)arg;
	kernel_pgdir = (uint32_t)ktest(KTEST_KERNEL_PGDIR, 0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		failed += expect_killed("kspy", cases[i].what, cases[i].fn);
	ok = kernel_finds_nothing();
	printf("kspy: the kernel reads its own memory but finds nothing in the VMM's area: %s\n",
	       ok ? "PASS" : "FAIL");
	return failed || !ok ? 1 : 0;
}
