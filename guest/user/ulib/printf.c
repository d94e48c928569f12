/*
 * printf.c - formatted output to the console, one write() per call.
 *
 * The formatting is guest/lib/fmt.c, the same code as the kernel's
 * printk.  The text is collected in a buffer and written with a single
 * system call (or one per 256 bytes), so a line printed by one printf is
 * never split by another process's output.
 */
#include <stdarg.h>

#include "fmt.h"
#include "ulib.h"

struct printf_buf {
	char data[256];
	int len;
};

static void printf_flush(struct printf_buf *b)
{
	if (b->len)
		write(1, b->data, b->len);
	b->len = 0;
}

static void printf_emit(void *ctx, char c)
{
	struct printf_buf *b = ctx;

	if (b->len == (int)sizeof(b->data))
		printf_flush(b);
	b->data[b->len++] = c;
}

int printf(const char *fmt, ...)
{
	struct printf_buf b = { .len = 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(printf_emit, &b, fmt, ap);
	va_end(ap);
	printf_flush(&b);
	return n;
}
