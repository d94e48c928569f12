/*
 * ports.h - the I/O ports of the virtual PC that kvmshadow emulates.
 *
 * The guest kernel drives these ports exactly as it would on a real PC,
 * and the host VMM's device models (src/devices/) answer them.  Keeping
 * the numbers in one header shared by both sides means the guest and the
 * VMM can never disagree about where a device lives.
 */
#ifndef KVMSHADOW_PORTS_H
#define KVMSHADOW_PORTS_H

/* 8259A programmable interrupt controllers, master and slave. */
#define PORT_PIC1_CMD	0x20
#define PORT_PIC1_DATA	0x21
#define PORT_PIC2_CMD	0xa0
#define PORT_PIC2_DATA	0xa1

/* 8254 programmable interval timer: three counters and a mode register. */
#define PORT_PIT_CH0	0x40
#define PORT_PIT_CH1	0x41
#define PORT_PIT_CH2	0x42
#define PORT_PIT_MODE	0x43
#define PIT_HZ		1193182		/* the 8254's input clock */

/* COM1, a 16550 UART: eight registers from the base. */
#define PORT_COM1	0x3f8
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_IIR	2	/* interrupt identification (read) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3	/* line control; bit 7 is DLAB */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_MSR	6	/* modem status */
#define UART_SCR	7	/* scratch */
#define UART_LCR_DLAB	0x80
#define UART_LSR_DR	0x01	/* data ready */
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */

/*
 * The debug-exit port, after QEMU's isa-debug-exit device
 * (-device isa-debug-exit,iobase=0xf4,iosize=0x04).  A guest writes a
 * status value v here to end the machine.  QEMU then exits with status
 * (v << 1) | 1; kvmshadow exits with v itself (see
 * Documentation/exit-status.md).
 */
#define PORT_DEBUG_EXIT	0xf4

/*
 * kvmshadow's benchmark phase marks (src/devices/marker.h).  0xe0 is
 * unused on a PC and on QEMU's pc machine, so under plain QEMU the marks
 * go nowhere.  (Not 0xf5: QEMU's debug-exit device, as our tests
 * configure it, covers 0xf4-0xf7 and would end the machine.)
 */
#define PORT_MARKER	0xe0

/* The values our guest kernel writes to the debug-exit port. */
#define DEBUG_EXIT_PASS	0	/* every built-in program behaved */
#define DEBUG_EXIT_FAIL	1	/* some program misbehaved */
#define DEBUG_EXIT_PANIC 2	/* the guest kernel panicked */

#endif
