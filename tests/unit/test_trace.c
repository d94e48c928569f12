/*
 * test_trace.c - the --trace category list.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "trace.h"

static struct error err;

Test(trace, single_and_lists)
{
	unsigned mask;

	cr_assert_eq(trace_parse("io", &mask, &err), 0);
	cr_assert_eq(mask, TRACE_IO);
	cr_assert_eq(trace_parse("irq,hlt", &mask, &err), 0);
	cr_assert_eq(mask, TRACE_IRQ | TRACE_HLT);
	cr_assert_eq(trace_parse("all", &mask, &err), 0);
	cr_assert_eq(mask, TRACE_ALL);
	cr_assert_eq(trace_parse("exit,io,exit", &mask, &err), 0);
	cr_assert_eq(mask, TRACE_EXIT | TRACE_IO);
}

Test(trace, refuses_unknown_and_empty)
{
	unsigned mask;

	cr_assert_eq(trace_parse("io,syscal", &mask, &err), -1);
	cr_assert_str_eq(err.msg,
			 "unknown --trace category 'syscal' (known: io, irq, hlt, exit, syscall, iret, cr3, pagefault, priv, exception, sched, swap, all)");
	cr_assert_eq(trace_parse("", &mask, &err), -1);
	cr_assert(strstr(err.msg, "empty category"), "%s", err.msg);
	cr_assert_eq(trace_parse("io,", &mask, &err), -1);
	cr_assert_eq(trace_parse(",io", &mask, &err), -1);
	cr_assert_eq(trace_parse("IO", &mask, &err), -1, "names are lower case");
}

Test(trace, off_means_off)
{
	struct trace t = {.mask = TRACE_IRQ};

	cr_assert(trace_on(&t, TRACE_IRQ));
	cr_assert_not(trace_on(&t, TRACE_IO));
	cr_assert_not(trace_on(NULL, TRACE_IO));
}

Test(trace, line_format)
{
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	struct trace t = {.mask = TRACE_ALL, .out = out, .name = "vm0"};

	trace_line(&t, "inject vector 0x%02x", 0x20);
	fclose(out);
	cr_assert_str_eq(text, "[vm0] inject vector 0x20\n");
	free(text);
}
