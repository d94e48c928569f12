/*
 * serial.h - COM1, a 16550 UART that only ever transmits.
 */
#ifndef KVMSHADOW_SERIAL_H
#define KVMSHADOW_SERIAL_H

#include <stdint.h>
#include <stdio.h>

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	FILE *out;	    /* the guest's console goes here */
	const char *prefix; /* written before each line (several guests), or NULL */
	int mid_line;	    /* the last byte passed on was not a newline */
	char line[256];	    /* bytes waiting for a newline */
	size_t len;
	uint64_t bytes; /* transmitted so far */
};

void serial_init(struct serial *uart, FILE *out);
uint32_t serial_read(void *dev, uint16_t port, int size);
void serial_write(void *dev, uint16_t port, int size, uint32_t value);
void serial_flush(struct serial *uart);

#endif
