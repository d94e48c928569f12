/*
 * uart.c - the console: COM1, a 16550 UART, driven by polling.
 *
 * Every byte the guest shows the world goes out here, through two I/O
 * ports: wait until the line status register says the transmit holding
 * register is empty, then write the byte.  No interrupts, no buffering -
 * the way boot loaders and early kernels talk to a serial line.  Under a
 * VMM each of those port accesses is a trap into the monitor, which is
 * what makes the console a good first device to virtualize.
 *
 * Bytes go out exactly as given: "\n" is not turned into "\r\n", because
 * the host compares the output byte for byte with what it expects.
 */
#include "cpu.h"
#include "ports.h"
#include "uart.h"

#define UART_DIVISOR	1	/* 115200 baud: the 16550's 1.8432 MHz / 16 / 1 */
#define UART_LCR_8N1	0x03	/* 8 data bits, no parity, 1 stop bit */
#define UART_FCR_ENABLE	0x07	/* enable and clear both FIFOs */
#define UART_MCR_DTR_RTS 0x03

void uart_init(void)
{
	outb(PORT_COM1 + UART_IER, 0);			/* we poll: no interrupts */
	outb(PORT_COM1 + UART_LCR, UART_LCR_DLAB);	/* the next two set the divisor */
	outb(PORT_COM1 + UART_THR, UART_DIVISOR & 0xff);
	outb(PORT_COM1 + UART_IER, UART_DIVISOR >> 8);
	outb(PORT_COM1 + UART_LCR, UART_LCR_8N1);
	outb(PORT_COM1 + UART_FCR, UART_FCR_ENABLE);
	outb(PORT_COM1 + UART_MCR, UART_MCR_DTR_RTS);
}

void uart_putc(char c)
{
	while (!(inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(PORT_COM1 + UART_THR, (uint8_t)c);
}

/*
 * A whole buffer with interrupts off, so that nothing an interrupt
 * handler prints (only a panic does) lands in the middle of it.
 */
void uart_write(const char *buf, size_t len)
{
	uint32_t flags = irq_save();

	while (len--)
		uart_putc(*buf++);
	irq_restore(flags);
}
