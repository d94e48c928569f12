/*
 * ktest_bench.c - the kernel half of the benchmark program (guest/user/bench.c).
 *
 * Adams and Agesen's nanobenchmarks (ASPLOS 2006) each time one thing a
 * VMM must step in for.  Some of those things only a kernel can do - an
 * `in` from a device, a write to a control register - so bench asks the
 * kernel to do exactly one of them per system call, and the reader
 * subtracts the cost of a null system call (bench's own `syscall`).
 * The tools here are kept as small as the instruction they stand for:
 * anything more would be measured too.
 *
 * Two more tools serve the measurement, not the measured:
 *  - a phase mark, one `outb` to PORT_MARKER, a port no PC device
 *    listens on, so that a VMM counting its own interventions can tell
 *    which benchmark they belong to (kvmshadow's src/devices/marker.c).
 *    On a real PC or under plain QEMU the byte goes nowhere.
 *  - a resume point for divide errors: bench's `divzero` needs a user
 *    exception that the kernel hands back to the program, which carries
 *    on - what a signal handler is for.  This kernel has no signals (any
 *    user exception kills the process: traps.c), so a process may name
 *    one user address where it wants to resume after a #DE.  It is the
 *    smallest thing that makes the round trip user -> kernel -> user on
 *    an exception, with no frame pushed and no handler called; test-only,
 *    like everything reached through ktest.
 */
#include "cpu.h"
#include "guest_abi.h"
#include "ktest.h"
#include "ktest_abi.h"
#include "memlayout.h"
#include "ports.h"
#include "proc.h"

int ktest_bench_mark(uint32_t index, uint32_t b)
{
	(void)b;
	outb(PORT_MARKER, (uint8_t)index);
	return 0;
}

/* One read of the UART's line status: harmless, and answered by a device model. */
int ktest_bench_in(uint32_t a, uint32_t b)
{
	(void)a;
	(void)b;
	return inb(PORT_COM1 + UART_LSR);
}

/*
 * CR0 written with the value it has.  Reading it first is a privileged
 * instruction too (mov from a control register is), so under a
 * trap-and-emulate VMM this is two trips, not one: the kernel keeps no
 * copy of CR0 that it could write instead.
 */
int ktest_bench_crwr(uint32_t a, uint32_t b)
{
	(void)a;
	(void)b;
	lcr0(rcr0());
	return 0;
}

/* Resume at user address eip after this process's next divide errors; 0 turns it off. */
int ktest_bench_de_resume(uint32_t eip, uint32_t b)
{
	(void)b;
	if (eip >= KERNEL_BASE)
		return -GUEST_EFAULT;
	proc_current->de_resume = eip;
	return 0;
}
