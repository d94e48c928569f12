/*
 * test_serial.c - the console UART and the port bus.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "devices/debugexit.h"
#include "devices/portio.h"
#include "devices/serial.h"
#include "ports.h"

static char *text;
static size_t text_len;
static FILE *out;
static struct serial uart;

static void setup(void)
{
	out = open_memstream(&text, &text_len);
	serial_init(&uart, out);
}

static void teardown(void)
{
	fclose(out);
	free(text);
}

static void put(const char *s)
{
	for (; *s; s++)
		serial_write(&uart, PORT_COM1 + UART_THR, 1, (uint8_t)*s);
}

TestSuite(serial, .init = setup, .fini = teardown);

Test(serial, transmits_whole_lines)
{
	put("hello\nwor");
	fflush(out);
	cr_assert_str_eq(text, "hello\n");
	serial_flush(&uart);
	cr_assert_str_eq(text, "hello\nwor");
	cr_assert_eq(uart.bytes, 9);
}

Test(serial, long_line_is_not_lost)
{
	char line[1000];

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	put(line);
	serial_flush(&uart);
	cr_assert_eq(strlen(text), sizeof(line) - 1);
}

Test(serial, always_ready_to_transmit)
{
	uint32_t lsr = serial_read(&uart, PORT_COM1 + UART_LSR, 1);

	cr_assert(lsr & UART_LSR_THRE);
	cr_assert(lsr & UART_LSR_TEMT);
	cr_assert_not(lsr & UART_LSR_DR, "nothing is ever received");
}

Test(serial, divisor_latch_does_not_transmit)
{
	serial_write(&uart, PORT_COM1 + UART_LCR, 1, 0x83);
	serial_write(&uart, PORT_COM1 + UART_THR, 1, 3); /* 38400 baud */
	serial_write(&uart, PORT_COM1 + UART_IER, 1, 0);
	cr_assert_eq(serial_read(&uart, PORT_COM1 + UART_RBR, 1), 3);
	serial_write(&uart, PORT_COM1 + UART_LCR, 1, 0x03);
	serial_flush(&uart);
	cr_assert_eq(uart.bytes, 0);
	cr_assert_eq(serial_read(&uart, PORT_COM1 + UART_LCR, 1), 0x03);
}

Test(serial, scratch_register_reads_back)
{
	serial_write(&uart, PORT_COM1 + UART_SCR, 1, 0x5a);
	cr_assert_eq(serial_read(&uart, PORT_COM1 + UART_SCR, 1), 0x5a);
}

static uint32_t fake_read(void *dev, uint16_t port, int size)
{
	(void)dev;
	(void)size;
	return 0x12345600u | (port & 0xff);
}

Test(portio, dispatches_and_masks_to_size)
{
	struct portio bus;
	int dev;

	portio_init(&bus, NULL, "vm0");
	cr_assert_eq(portio_register(&bus, 0x100, 4, "fake", &dev, fake_read, NULL), 0);
	cr_assert_eq(portio_read(&bus, 0x102, 1), 0x02);
	cr_assert_eq(portio_read(&bus, 0x103, 2), 0x5603);
	cr_assert_eq(bus.ranges[0].accesses, 2);
}

Test(portio, refuses_overlap_and_bad_ranges)
{
	struct portio bus;

	portio_init(&bus, NULL, "vm0");
	cr_assert_eq(portio_register(&bus, 0x100, 4, "a", NULL, fake_read, NULL), 0);
	cr_assert_eq(portio_register(&bus, 0x103, 4, "b", NULL, fake_read, NULL), -1);
	cr_assert_eq(portio_register(&bus, 0xfffe, 4, "c", NULL, fake_read, NULL), -1);
	cr_assert_eq(portio_register(&bus, 0x200, 0, "d", NULL, fake_read, NULL), -1);
}

Test(portio, unknown_port_reads_all_ones_and_is_reported_once)
{
	struct portio bus;
	char *log;
	size_t len;
	FILE *f = open_memstream(&log, &len);

	portio_init(&bus, f, "vm0");
	cr_assert_eq(portio_read(&bus, 0x61, 1), 0xff);
	cr_assert_eq(portio_read(&bus, 0x61, 2), 0xffff);
	cr_assert_eq(portio_read(&bus, 0x61, 4), 0xffffffffu);
	portio_write(&bus, 0x80, 1, 0x42);
	portio_write(&bus, 0x80, 1, 0x43);
	fclose(f);
	cr_assert_eq(bus.unknown_accesses, 5);
	cr_assert_str_eq(
	    log, "kvmshadow: vm0: guest read unknown port 0x0061 (size 1); reads as 0xff "
		 "(reported once per port)\n"
		 "kvmshadow: vm0: guest wrote 0x42 to unknown port 0x0080 (size 1); ignored "
		 "(reported once per port)\n");
	free(log);
}

Test(portio, write_only_device_reads_all_ones)
{
	struct portio bus;
	struct debugexit dx = {0};

	portio_init(&bus, NULL, "vm0");
	portio_register(&bus, PORT_DEBUG_EXIT, 4, "debug-exit", &dx, NULL, debugexit_write);
	cr_assert_eq(portio_read(&bus, PORT_DEBUG_EXIT, 1), 0xff);
	portio_write(&bus, PORT_DEBUG_EXIT, 4, 7);
	portio_write(&bus, PORT_DEBUG_EXIT, 4, 9);
	cr_assert(dx.fired);
	cr_assert_eq(dx.value, 7, "the first value written is the one that counts");
}
