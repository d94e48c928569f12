/*
 * fmt.c - the formatting engine behind printk and printf.
 *
 * The engine knows nothing about where output goes: it hands each
 * character to an emit function.  The kernel's emit function writes to
 * the serial port; the user library's collects a buffer and makes one
 * write() system call per printf, so that one printf is one line on the
 * console even when several processes print.
 */
#include <stdint.h>

#include "fmt.h"

struct fmt_spec {
	int left;	/* '-': pad on the right */
	char pad;	/* ' ' or '0' */
	int width;
};

struct fmt_out {
	fmt_emit_fn emit;
	void *ctx;
	int count;
};

static void fmt_putc(struct fmt_out *out, char c)
{
	out->emit(out->ctx, c);
	out->count++;
}

/* Emit len bytes of s, padded to the field width. */
static void fmt_field(struct fmt_out *out, const struct fmt_spec *spec, const char *s, int len)
{
	int fill = spec->width > len ? spec->width - len : 0;
	char pad = spec->left ? ' ' : spec->pad;

	/* Zero padding goes after a sign: -0042, not 00-42. */
	if (pad == '0' && len > 0 && *s == '-') {
		fmt_putc(out, *s++);
		len--;
	}
	if (!spec->left)
		while (fill--)
			fmt_putc(out, pad);
	while (len--)
		fmt_putc(out, *s++);
	if (spec->left)
		while (fill-- > 0)
			fmt_putc(out, ' ');
}

/* Digits of v in the given base, written backwards from the end of buf. */
static char *fmt_digits(char *end, uint32_t v, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return p;
}

static void fmt_number(struct fmt_out *out, const struct fmt_spec *spec, uint32_t v,
		       unsigned base, int is_signed, int upper)
{
	char buf[16];
	char *end = buf + sizeof(buf);
	int negative = is_signed && (int32_t)v < 0;
	char *p = fmt_digits(end, negative ? -v : v, base, upper);

	if (negative)
		*--p = '-';
	fmt_field(out, spec, p, (int)(end - p));
}

static void fmt_string(struct fmt_out *out, const struct fmt_spec *spec, const char *s)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len])
		len++;
	fmt_field(out, spec, s, len);
}

/* Parse the flags and width after '%'; return the conversion character. */
static const char *fmt_parse_spec(const char *fmt, struct fmt_spec *spec)
{
	*spec = (struct fmt_spec){ .pad = ' ' };
	for (;; fmt++) {
		if (*fmt == '-')
			spec->left = 1;
		else if (*fmt == '0')
			spec->pad = '0';
		else
			break;
	}
	while (*fmt >= '0' && *fmt <= '9')
		spec->width = spec->width * 10 + (*fmt++ - '0');
	while (*fmt == 'l')
		fmt++;
	return fmt;
}

int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out out = { .emit = emit, .ctx = ctx };
	struct fmt_spec spec;

	for (; *fmt; fmt++) {
		char c;

		if (*fmt != '%') {
			fmt_putc(&out, *fmt);
			continue;
		}
		fmt = fmt_parse_spec(fmt + 1, &spec);
		switch (*fmt) {
		case 'd':
		case 'i':
			fmt_number(&out, &spec, va_arg(ap, uint32_t), 10, 1, 0);
			break;
		case 'u':
			fmt_number(&out, &spec, va_arg(ap, uint32_t), 10, 0, 0);
			break;
		case 'x':
		case 'X':
			fmt_number(&out, &spec, va_arg(ap, uint32_t), 16, 0, *fmt == 'X');
			break;
		case 'p':
			fmt_putc(&out, '0');
			fmt_putc(&out, 'x');
			spec = (struct fmt_spec){ .pad = '0', .width = 8 };
			fmt_number(&out, &spec, (uint32_t)(uintptr_t)va_arg(ap, void *), 16, 0, 0);
			break;
		case 's':
			fmt_string(&out, &spec, va_arg(ap, const char *));
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			fmt_field(&out, &spec, &c, 1);
			break;
		case '%':
			fmt_putc(&out, '%');
			break;
		case '\0':
			fmt--;	/* a lone '%' at the end: stop there */
			break;
		default:
			fmt_putc(&out, '%');
			fmt_putc(&out, *fmt);
			break;
		}
	}
	return out.count;
}

struct fmt_buf {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_buf_emit(void *ctx, char c)
{
	struct fmt_buf *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

/* Like vsnprintf: always terminates, returns the length it wanted. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { .buf = buf, .size = size };
	int n = fmt_vformat(fmt_buf_emit, &b, fmt, ap);

	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
