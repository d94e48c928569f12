/*
 * trace.c - parse --trace and print trace lines (see trace.h).
 *
 * A trace line says what the VMM just did and why, in the words of the
 * book chapter, e.g.
 *
 *	[vm0] out port 0x3f8 <- 0x68: com1
 *	[vm0] IRQ 0 raised on the PIC: 1 PIT period has passed
 *	[vm0] inject vector 0x20 with KVM_INTERRUPT
 *
 * The lines go to stderr, the guest's console to stdout, so the two can be
 * read together or apart.  Documentation/architecture.md shows the flows
 * of hw mode as tables built from real trace output.
 */
#include <stdarg.h>
#include <string.h>

#include "trace.h"

static const struct {
	const char *name;
	unsigned mask;
} trace_names[] = {
    {"io", TRACE_IO},		{"irq", TRACE_IRQ},
    {"hlt", TRACE_HLT},		{"exit", TRACE_EXIT},
    {"syscall", TRACE_SYSCALL}, {"iret", TRACE_IRET},
    {"cr3", TRACE_CR3},		{"pagefault", TRACE_PAGEFAULT},
    {"priv", TRACE_PRIV},	{"exception", TRACE_EXCEPTION},
    {"sched", TRACE_SCHED},	{"swap", TRACE_SWAP},
    {"all", TRACE_ALL},
};

static int trace_parse_word(const char *word, size_t len, unsigned *mask, struct error *err)
{
	for (size_t i = 0; i < sizeof(trace_names) / sizeof(trace_names[0]); i++) {
		if (strlen(trace_names[i].name) == len &&
		    !strncmp(word, trace_names[i].name, len)) {
			*mask |= trace_names[i].mask;
			return 0;
		}
	}
	return error_set(err,
			 "unknown --trace category '%.*s' (known: io, irq, hlt, exit, syscall, "
			 "iret, cr3, pagefault, priv, exception, sched, swap, all)",
			 (int)len, word);
}

int trace_parse(const char *list, unsigned *mask, struct error *err)
{
	const char *p = list;

	*mask = 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return error_set(err, "--trace '%s' has an empty category", list);
		if (trace_parse_word(p, len, mask, err))
			return -1;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

void trace_line(const struct trace *t, const char *fmt, ...)
{
	va_list ap;

	fprintf(t->out, "[%s] ", t->name);
	va_start(ap, fmt);
	vfprintf(t->out, fmt, ap);
	va_end(ap);
	fputc('\n', t->out);
}
