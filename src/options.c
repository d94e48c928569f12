/*
 * options.c - parse kvmshadow's command line.
 *
 *	kvmshadow boot [options] guest.img
 *	kvmshadow --help | --version
 *
 * Every mistake gets one line that names it; main() prints it and exits
 * with EXIT_USAGE.  Parsing is kept apart from doing so that the unit tests
 * (tests/unit/test_options.c) can feed it any argv.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "trace.h"
#include "version.h"

/* One option a line; clang-format would pack them, so it is told not to. */
// clang-format off
static const struct option options_long[] = {
	{ "mem", required_argument, NULL, 'm' },
	{ "mode", required_argument, NULL, 'M' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "stats", no_argument, NULL, 's' },
	{ "check-shadow", no_argument, NULL, 'C' },
	{ "canary", no_argument, NULL, 'K' },
	{ "trace", required_argument, NULL, 'T' },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
// clang-format on

void options_print_help(void)
{
	printf("Usage: kvmshadow boot [options] guest.img\n"
	       "       kvmshadow --help | --version\n"
	       "\n"
	       "Boot a 32-bit Multiboot (v1) ELF kernel in a KVM virtual machine.\n"
	       "The guest's COM1 serial port is written to standard output.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --mem SIZE      guest memory; suffix K, M or G (default 64M,\n"
	       "                      from 2M to 3G)\n"
	       "      --mode MODE     how to virtualize the guest (default shadow):\n"
	       "                        shadow  guest kernel deprivileged to ring 1 under\n"
	       "                                kvmshadow's monitor; kvmshadow emulates its\n"
	       "                                privileged instructions, reflects its traps\n"
	       "                                and keeps shadow page tables\n"
	       "                        hw      guest kernel in ring 0 of the VM, paging by\n"
	       "                                KVM (nested paging or KVM's shadow MMU)\n"
	       "      --cmdline TEXT  append TEXT to the Multiboot command line\n"
	       "                      (our guest kernel reads run=PROG,PROG...)\n"
	       "      --stats         print the VMM's counters at the end (exits, and in\n"
	       "                      shadow mode traps, reflections, emulated\n"
	       "                      instructions, hidden page faults)\n"
	       "      --check-shadow  shadow mode: before every return to the guest,\n"
	       "                      compare every shadow page-table entry in use with\n"
	       "                      the guest's own tables; stop (status 70) at the\n"
	       "                      first difference.  Slow: for tests and debugging\n"
	       "      --canary        shadow mode: fill the machine memory no guest owns\n"
	       "                      with a mark, and check at the end that it and the\n"
	       "                      monitor's code are unchanged (status 70 if not).\n"
	       "                      For isolation tests (Documentation/security.md)\n"
	       "      --trace LIST    print a line on stderr for each VMM intervention\n"
	       "                      of these kinds: io, irq, hlt, exit, syscall, iret,\n"
	       "                      cr3, pagefault, priv, exception, or all\n"
	       "      --timeout SECS  stop the guest after SECS seconds (status 73)\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       show the version\n"
	       "\n"
	       "Exit status:\n"
	       "  0-63  the value the guest wrote to the debug-exit port 0xf4\n"
	       "  64    bad command line          65  guest image refused\n"
	       "  70    KVM or host failure       71  guest triple fault\n"
	       "  72    guest shut down / halted  73  timeout\n"
	       "  74    debug-exit value > 63     75  guest instruction refused\n"
	       "See Documentation/exit-status.md.\n");
}

const char *options_mode_name(enum vmm_mode mode)
{
	switch (mode) {
	case MODE_HW:
		return "hw";
	case MODE_SHADOW:
		return "shadow";
	}
	return "?";
}

int options_parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long value, shift = 0;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1; /* also refuses signs and spaces, which strtoull takes */
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end == 'i' && shift) /* accept "64Mi" too */
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || value > (~0ull >> shift))
		return -1;
	*bytes = value << shift;
	return 0;
}

static int options_parse_mode(const char *text, struct options *opts, struct error *err)
{
	if (!strcmp(text, "hw")) {
		opts->mode = MODE_HW;
		return 0;
	}
	if (!strcmp(text, "shadow")) {
		opts->mode = MODE_SHADOW;
		return 0;
	}
	return error_set(err, "unknown --mode '%s' (known: shadow, hw)", text);
}

static int options_parse_mem(const char *text, struct options *opts, struct error *err)
{
	uint64_t bytes;

	if (options_parse_size(text, &bytes))
		return error_set(err, "--mem '%s' is not a size (examples: 64M, 1G)", text);
	if (bytes < OPTIONS_MIN_MEM || bytes > OPTIONS_MAX_MEM)
		return error_set(err, "--mem %s is out of range (2M to 3G)", text);
	if (bytes % 4096)
		return error_set(err, "--mem %s is not a multiple of 4K", text);
	opts->mem_bytes = bytes;
	return 0;
}

static int options_parse_timeout(const char *text, struct options *opts, struct error *err)
{
	char *end;
	double sec;

	errno = 0;
	sec = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(sec) || sec <= 0)
		return error_set(err, "--timeout '%s' is not a positive number of seconds", text);
	if (sec > OPTIONS_MAX_TIMEOUT)
		return error_set(err, "--timeout %s is too large (at most %g s)", text,
				 OPTIONS_MAX_TIMEOUT);
	opts->timeout_sec = sec;
	return 0;
}

static int options_parse_one(int c, const char *arg, const char *word, struct options *opts,
			     struct error *err)
{
	switch (c) {
	case 'm':
		return options_parse_mem(arg, opts, err);
	case 'M':
		return options_parse_mode(arg, opts, err);
	case 'c':
		opts->cmdline = arg;
		return 0;
	case 's':
		opts->stats = true;
		return 0;
	case 'C':
		opts->check_shadow = true;
		return 0;
	case 'K':
		opts->canary = true;
		return 0;
	case 't':
		return options_parse_timeout(arg, opts, err);
	case 'T':
		return trace_parse(arg, &opts->trace, err);
	case 'h':
		opts->action = ACTION_HELP;
		return 0;
	case 'V':
		opts->action = ACTION_VERSION;
		return 0;
	case ':':
		return error_set(err, "option '%s' needs a value", word);
	default:
		return error_set(err, "unknown option '%s'; try 'kvmshadow --help'", word);
	}
}

static void options_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->action = ACTION_BOOT;
	opts->mode = MODE_SHADOW;
	opts->mem_bytes = OPTIONS_DEFAULT_MEM;
}

/*
 * getopt_long keeps its state in globals; optind = 0 makes glibc start
 * afresh, which the unit tests need since they parse many command lines.
 */
int options_parse(int argc, char **argv, struct options *opts, struct error *err)
{
	bool boot;
	int c;

	options_defaults(opts);
	if (argc < 2)
		return error_set(err, "missing command; try 'kvmshadow --help'");
	boot = !strcmp(argv[1], "boot");
	if (!boot && argv[1][0] != '-')
		return error_set(err, "unknown command '%s'; try 'kvmshadow --help'", argv[1]);
	if (boot) {
		argc--;
		argv++;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:hV", options_long, NULL)) != -1) {
		const char *word = argv[optind - 1];

		if (c == '?' && optopt && optopt != '?') {
			static char shortopt[3] = "-?";

			shortopt[1] = (char)optopt;
			word = shortopt;
		}
		if (options_parse_one(c, optarg, word, opts, err))
			return -1;
	}
	if (opts->action != ACTION_BOOT)
		return 0;
	if (!boot)
		return error_set(err, "missing command 'boot'; try 'kvmshadow --help'");
	if (opts->check_shadow && opts->mode != MODE_SHADOW)
		return error_set(err, "--check-shadow needs --mode=shadow: hw mode has no shadow "
				      "page tables of ours to check");
	if (opts->canary && opts->mode != MODE_SHADOW)
		return error_set(err, "--canary needs --mode=shadow: in hw mode the guest's memory "
				      "is all of the VM's, with no free machine frames to mark");
	if (optind >= argc)
		return error_set(err,
				 "missing guest image; usage: kvmshadow boot [options] guest.img");
	if (optind + 1 < argc)
		return error_set(err, "unexpected argument '%s' after the guest image",
				 argv[optind + 1]);
	opts->image = argv[optind];
	return 0;
}
