/*
 * printk.c - formatted kernel messages, and the end of the line: panic.
 *
 * A panic means the kernel found itself in a state it cannot explain - a
 * page fault in kernel code, a corrupted stack, a broken boot loader
 * promise.  It says so in one line starting "panic: ", tells the machine
 * to stop with DEBUG_EXIT_PANIC on the debug-exit port (QEMU's
 * isa-debug-exit, or kvmshadow's), and if nobody is listening on that
 * port, halts with interrupts off for good.
 */
#include <stdarg.h>

#include "cpu.h"
#include "fmt.h"
#include "ports.h"
#include "printk.h"
#include "uart.h"

static void printk_emit(void *ctx, char c)
{
	(void)ctx;
	uart_putc(c);
}

static void printk_v(const char *fmt, va_list ap)
{
	uint32_t flags = irq_save();	/* one message, uninterrupted */

	fmt_vformat(printk_emit, 0, fmt, ap);
	irq_restore(flags);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printk_v(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	cli();
	printk("panic: ");
	va_start(ap, fmt);
	printk_v(fmt, ap);
	va_end(ap);
	printk("\n");
	outb(PORT_DEBUG_EXIT, DEBUG_EXIT_PANIC);
	for (;;)
		asm volatile("cli; hlt");
}
