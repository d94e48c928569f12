/*
 * faulter.c - programs behaving badly, on purpose.
 *
 * Each case runs in a child that does one forbidden thing: touch memory
 * it does not have, write to memory it may only read, divide by zero,
 * run a privileged instruction...  The kernel must kill just that child,
 * with one line saying why ("faulter: killed: ..."), and carry on; the
 * parent checks that wait() reports the kill status, GUEST_EXIT_KILLED.
 *
 * Under a VMM each of these is a trap that the monitor has to reflect
 * into the guest kernel exactly as the hardware would have delivered it:
 * the right vector, the right error code, the right CR2.
 */
#include "ulib.h"

#define KERNEL_ADDRESS	0xc0000000u	/* GUEST_KERNEL_BASE */
#define UNMAPPED	0x40000000u	/* between the heap and the stack */

/* volatile, so the compiler cannot see what we are about to do. */
static volatile uint32_t zero;

static void read_null(void)
{
	(void)*(volatile int *)zero;
}

static void write_kernel(void)
{
	*(volatile int *)(KERNEL_ADDRESS + zero) = 1;
}

static void write_code(void)
{
	*(volatile uint8_t *)((uint32_t)write_code + zero) = 0xc3;
}

static void jump_unmapped(void)
{
	void (*volatile fn)(void) = (void (*)(void))UNMAPPED;

	fn();
}

static void overflow_stack(void)
{
	volatile uint8_t frame[4000];

	frame[zero] = 1;
	if (frame[0])
		overflow_stack();
	frame[1] = frame[0];
}

static void divide_by_zero(void)
{
	/* Both operands unknown at compile time: GCC turns 1 / x into a
	 * comparison, with no division to fault. */
	volatile int x = (int)(zero + 100) / (int)zero;

	(void)x;
}

static void invalid_opcode(void)
{
	asm volatile("ud2");
}

static void breakpoint(void)
{
	asm volatile("int3");
}

static void privileged(void)
{
	asm volatile("cli");
}

static void port_io(void)
{
	/* The debug-exit port: if this worked, the whole machine would stop. */
	asm volatile("outb %%al, $0xf4" : : "a"(0));
}

static void use_fpu(void)
{
	asm volatile("fninit");	/* no FPU for processes: CR0.EM is set */
}

static void kernel_only_gate(void)
{
	asm volatile("int $0x21");	/* an IRQ vector: DPL 0 */
}

struct faulter_case {
	const char *what;
	void (*fn)(void);
};

static const struct faulter_case cases[] = {
	{ "read address 0", read_null },
	{ "write kernel memory", write_kernel },
	{ "write own code", write_code },
	{ "jump to unmapped memory", jump_unmapped },
	{ "overflow the stack", overflow_stack },
	{ "divide by zero", divide_by_zero },
	{ "invalid opcode", invalid_opcode },
	{ "breakpoint", breakpoint },
	{ "cli in user mode", privileged },
	{ "out to an I/O port", port_io },
	{ "int to a kernel-only vector", kernel_only_gate },
	{ "use the FPU", use_fpu },
};

int main(const char *arg)
{
	int failed = 0;

	(void)arg;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		failed += expect_killed("faulter", cases[i].what, cases[i].fn);
	return failed ? 1 : 0;
}
