/*
 * fmt.h - printf-style formatting, shared by the kernel's printk and the
 * user library's printf.
 *
 * Conversions: %d %i %u %x %X %s %c %p %%, with an optional '-' (left
 * justify) or '0' (zero pad) flag and a decimal field width, as in
 * "%08x" or "%-10s".  %p prints 0x and eight hex digits.  No floating
 * point, no precision, no length modifiers beyond an ignored 'l': every
 * integer argument is 32 bits.
 */
#ifndef GUEST_LIB_FMT_H
#define GUEST_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Where formatted characters go, one at a time. */
typedef void (*fmt_emit_fn)(void *ctx, char c);

int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap);
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
