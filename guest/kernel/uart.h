/* uart.h - the serial console (COM1). */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stddef.h>

void uart_init(void);
void uart_putc(char c);
void uart_write(const char *buf, size_t len);

#endif
