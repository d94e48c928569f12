/*
 * test_options.c - the command line: what parses, and the one-line error
 * for everything that does not.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"
#include "trace.h"

static struct options opts;
static struct error err;

#define ARGV(...)  ((char *[]){"kvmshadow", __VA_ARGS__, NULL})
#define ARGC(...)  ((int)(sizeof((char *[]){"kvmshadow", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(...) options_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &opts, &err)

static void expect_error(int ret, const char *fragment)
{
	cr_assert_eq(ret, -1, "accepted; expected an error containing '%s'", fragment);
	cr_assert(strstr(err.msg, fragment), "error '%s' lacks '%s'", err.msg, fragment);
	cr_assert(!strchr(err.msg, '\n'));
}

Test(options, boot_with_defaults)
{
	cr_assert_eq(PARSE("boot", "guest.img"), 0, "%s", err.msg);
	cr_assert_eq(opts.action, ACTION_BOOT);
	cr_assert_eq(opts.mode, MODE_SHADOW);
	cr_assert_eq(opts.guest[0].mem_bytes, 64ull << 20);
	cr_assert_str_eq(opts.guest[0].image, "guest.img");
	cr_assert_not(opts.stats);
	cr_assert_eq(opts.timeout_sec, 0);
	cr_assert_null(opts.guest[0].cmdline);
}

Test(options, all_options)
{
	cr_assert_eq(PARSE("boot", "-m", "128M", "--mode=hw", "--stats", "--timeout", "2.5",
			   "--cmdline", "run=hello", "g.img"),
		     0, "%s", err.msg);
	cr_assert_eq(opts.guest[0].mem_bytes, 128ull << 20);
	cr_assert(opts.stats);
	cr_assert_float_eq(opts.timeout_sec, 2.5, 1e-9);
	cr_assert_str_eq(opts.guest[0].cmdline, "run=hello");
	cr_assert_str_eq(opts.guest[0].image, "g.img");
}

Test(options, options_after_the_image)
{
	cr_assert_eq(PARSE("boot", "g.img", "--mem=1G", "--stats"), 0, "%s", err.msg);
	cr_assert_eq(opts.guest[0].mem_bytes, 1ull << 30);
	cr_assert(opts.stats);
}

Test(options, help_and_version)
{
	cr_assert_eq(PARSE("--help"), 0);
	cr_assert_eq(opts.action, ACTION_HELP);
	cr_assert_eq(PARSE("-V"), 0);
	cr_assert_eq(opts.action, ACTION_VERSION);
	cr_assert_eq(PARSE("boot", "--help"), 0);
	cr_assert_eq(opts.action, ACTION_HELP);
}

Test(options, sizes)
{
	uint64_t b;

	cr_assert_eq(options_parse_size("65536K", &b), 0);
	cr_assert_eq(b, 64ull << 20);
	cr_assert_eq(options_parse_size("2G", &b), 0);
	cr_assert_eq(b, 2ull << 30);
	cr_assert_eq(options_parse_size("64MiB", &b), 0);
	cr_assert_eq(b, 64ull << 20);
	cr_assert_eq(options_parse_size("4096", &b), 0);
	cr_assert_eq(b, 4096);
	cr_assert_eq(options_parse_size("", &b), -1);
	cr_assert_eq(options_parse_size("-1M", &b), -1);
	cr_assert_eq(options_parse_size("12Q", &b), -1);
	cr_assert_eq(options_parse_size("99999999999999999999G", &b), -1);
	cr_assert_eq(options_parse_size("17179869184G", &b), -1, "overflows 64 bits");
	cr_assert_eq(options_parse_size(" 64M", &b), -1, "leading space");
	cr_assert_eq(options_parse_size("+64M", &b), -1, "sign");
}

Test(options, no_command)
{
	expect_error(options_parse(1, (char *[]){"kvmshadow", NULL}, &opts, &err),
		     "missing command");
}

Test(options, unknown_command)
{
	expect_error(PARSE("run", "g.img"), "unknown command 'run'");
}

Test(options, missing_image)
{
	expect_error(PARSE("boot"), "missing guest image");
}

Test(options, several_guests)
{
	cr_assert_eq(PARSE("boot", "-m", "32M", "--cmdline", "run=a", "--cmdline", "run=b",
			   "--weight", "3", "a.img", "b.img"),
		     0, "%s", err.msg);
	cr_assert_eq(opts.nguests, 2);
	cr_assert_str_eq(opts.guest[0].image, "a.img");
	cr_assert_str_eq(opts.guest[1].image, "b.img");
	cr_assert_eq(opts.guest[1].mem_bytes, 32ull << 20, "-m once applies to every guest");
	cr_assert_str_eq(opts.guest[0].cmdline, "run=a");
	cr_assert_str_eq(opts.guest[1].cmdline, "run=b");
	cr_assert_eq(opts.guest[0].weight, 3);
	cr_assert_eq(opts.guest[1].weight, 3);
	cr_assert_float_eq(opts.slice_ms, OPTIONS_DEFAULT_SLICE_MS, 1e-9);
	cr_assert_eq(opts.machine_mem, 0);
}

Test(options, per_guest_option_counts)
{
	expect_error(PARSE("boot", "-m", "8M", "-m", "8M", "-m", "8M", "a.img", "b.img"),
		     "--mem given 3 times for 2 guests");
	expect_error(PARSE("boot", "--weight", "1", "--weight", "2", "a.img"),
		     "--weight given 2 times for 1 guest");
	expect_error(PARSE("boot", "--mode=hw", "a.img", "b.img"), "need --mode=shadow");
	expect_error(PARSE("boot", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
		     "kvmshadow runs at most 8");
}

Test(options, machine_options)
{
	cr_assert_eq(PARSE("boot", "--machine-mem", "48M", "--swap", "/tmp/s", "--slice", "0.2",
			   "--console-dir", "out", "a.img", "b.img"),
		     0, "%s", err.msg);
	cr_assert_eq(opts.machine_mem, 48ull << 20);
	cr_assert_str_eq(opts.swap_path, "/tmp/s");
	cr_assert_float_eq(opts.slice_ms, 0.2, 1e-9);
	cr_assert_str_eq(opts.console_dir, "out");
	expect_error(PARSE("boot", "--weight", "0", "a.img"), "--weight '0' is not a whole number");
	expect_error(PARSE("boot", "--weight", "101", "a.img"), "from 1 to 100");
	expect_error(PARSE("boot", "--slice", "0.01", "a.img"), "--slice '0.01'");
	expect_error(PARSE("boot", "--slice", "x", "a.img"), "--slice 'x'");
	expect_error(PARSE("boot", "--machine-mem", "lots", "a.img"), "not a size");
	expect_error(PARSE("boot", "--machine-mem", "48M", "--mode=hw", "a.img"),
		     "--machine-mem needs --mode=shadow");
	expect_error(PARSE("boot", "--swap", "f", "--mode=hw", "a.img"),
		     "--swap needs --mode=shadow");
	expect_error(PARSE("boot", "--console-dir", "out", "--mode=hw", "a.img"),
		     "--console-dir needs --mode=shadow");
	expect_error(PARSE("boot", "--machine-mem", "13G", "a.img"),
		     "--machine-mem 13G is out of range (2M to 12G)");
	expect_error(PARSE("boot", "--machine-mem", "4097K", "a.img"),
		     "--machine-mem 4097K is not a multiple of 4K");
}

Test(options, unknown_option)
{
	expect_error(PARSE("boot", "--frobnicate", "g.img"), "unknown option '--frobnicate'");
}

Test(options, unknown_short_option)
{
	expect_error(PARSE("boot", "-z", "g.img"), "unknown option '-z'");
}

Test(options, option_needs_value)
{
	expect_error(PARSE("boot", "g.img", "--mem"), "needs a value");
}

Test(options, bad_mem)
{
	expect_error(PARSE("boot", "-m", "lots", "g.img"), "not a size");
	expect_error(PARSE("boot", "-m", "1M", "g.img"), "out of range");
	expect_error(PARSE("boot", "-m", "4G", "g.img"), "out of range");
	expect_error(PARSE("boot", "-m", "4097K", "g.img"), "multiple of 4K");
}

Test(options, both_modes)
{
	cr_assert_eq(PARSE("boot", "--mode=shadow", "g.img"), 0, "%s", err.msg);
	cr_assert_eq(opts.mode, MODE_SHADOW);
	cr_assert_str_eq(options_mode_name(opts.mode), "shadow");
	cr_assert_eq(PARSE("boot", "--mode", "hw", "g.img"), 0, "%s", err.msg);
	cr_assert_eq(opts.mode, MODE_HW);
	cr_assert_str_eq(options_mode_name(opts.mode), "hw");
}

Test(options, check_shadow_is_for_shadow_mode)
{
	cr_assert_eq(PARSE("boot", "g.img"), 0, "%s", err.msg);
	cr_assert_not(opts.check_shadow);
	cr_assert_eq(PARSE("boot", "--check-shadow", "g.img"), 0, "%s", err.msg);
	cr_assert(opts.check_shadow);
	expect_error(PARSE("boot", "--check-shadow", "--mode=hw", "g.img"),
		     "--check-shadow needs --mode=shadow");
	cr_assert_eq(PARSE("boot", "--canary", "g.img"), 0, "%s", err.msg);
	cr_assert(opts.canary);
	expect_error(PARSE("boot", "--canary", "--mode=hw", "g.img"),
		     "--canary needs --mode=shadow");
}

Test(options, bad_mode)
{
	expect_error(PARSE("boot", "--mode=turbo", "g.img"), "unknown --mode 'turbo'");
}

Test(options, trace)
{
	cr_assert_eq(PARSE("boot", "--trace=io,irq", "g.img"), 0, "%s", err.msg);
	cr_assert_eq(opts.trace, TRACE_IO | TRACE_IRQ);
	expect_error(PARSE("boot", "--trace", "bogus", "g.img"),
		     "unknown --trace category 'bogus'");
}

Test(options, bad_timeout)
{
	expect_error(PARSE("boot", "--timeout=0", "g.img"), "positive number");
	expect_error(PARSE("boot", "--timeout=abc", "g.img"), "positive number");
	expect_error(PARSE("boot", "--timeout=nan", "g.img"), "positive number");
	expect_error(PARSE("boot", "--timeout=-3", "g.img"), "positive number");
	expect_error(PARSE("boot", "--timeout=1e19", "g.img"), "too large");
	cr_assert_eq(PARSE("boot", "--timeout=1e9", "g.img"), 0, "%s", err.msg);
}
