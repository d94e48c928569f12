/*
 * serial.c - a 16550 UART model for the guest's console.
 *
 * The guest polls the line status register until "transmit holding
 * register empty" and then writes a byte.  Our transmitter is infinitely
 * fast, so the status always says empty and every byte goes straight to
 * the output.  Bytes are passed on a line at a time so that the console
 * and kvmshadow's own messages on stderr interleave sensibly.
 *
 * Nothing is ever received and no interrupt is ever raised: the guest
 * kernel uses the UART by polling, as early kernels and boot loaders do.
 * The registers a driver writes during set-up (divisor, line and modem
 * control, scratch) read back what was written, so a probe that checks
 * the scratch register finds a UART.
 */
#include "ports.h"
#include "serial.h"

void serial_init(struct serial *uart, FILE *out)
{
	*uart = (struct serial){.out = out, .dll = 12 /* 9600 baud */};
}

/* With several guests on one stdout, each line says whose it is. */
void serial_flush(struct serial *uart)
{
	if (uart->len && uart->out) {
		if (uart->prefix && !uart->mid_line)
			fputs(uart->prefix, uart->out);
		fwrite(uart->line, 1, uart->len, uart->out);
		fflush(uart->out);
		uart->mid_line = uart->line[uart->len - 1] != '\n';
	}
	uart->len = 0;
}

static void serial_transmit(struct serial *uart, uint8_t byte)
{
	uart->bytes++;
	uart->line[uart->len++] = (char)byte;
	if (byte == '\n' || uart->len == sizeof(uart->line))
		serial_flush(uart);
}

uint32_t serial_read(void *dev, uint16_t port, int size)
{
	struct serial *uart = dev;
	int dlab = uart->lcr & UART_LCR_DLAB;

	(void)size;
	switch (port - PORT_COM1) {
	case UART_RBR:
		return dlab ? uart->dll : 0;
	case UART_IER:
		return dlab ? uart->dlm : uart->ier;
	case UART_IIR:
		return 0x01; /* no interrupt pending, FIFOs off */
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		/* With loopback on, a driver's self-test expects its own
		 * modem-control outputs mirrored here; otherwise report
		 * carrier, data-set-ready and clear-to-send. */
		if (uart->mcr & 0x10)
			return (uint32_t)((uart->mcr & 0x0c) << 4 | (uart->mcr & 0x01) << 5 |
					  (uart->mcr & 0x02) << 3);
		return 0xb0;
	default:
		return uart->scr;
	}
}

void serial_write(void *dev, uint16_t port, int size, uint32_t value)
{
	struct serial *uart = dev;
	uint8_t byte = (uint8_t)value;
	int dlab = uart->lcr & UART_LCR_DLAB;

	(void)size;
	switch (port - PORT_COM1) {
	case UART_THR:
		if (dlab)
			uart->dll = byte;
		else
			serial_transmit(uart, byte);
		break;
	case UART_IER:
		if (dlab)
			uart->dlm = byte;
		else
			uart->ier = byte & 0x0f;
		break;
	case UART_FCR:
		break; /* FIFOs make no difference to an instant line */
	case UART_LCR:
		uart->lcr = byte;
		break;
	case UART_MCR:
		uart->mcr = byte & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	default:
		uart->scr = byte;
		break;
	}
}
