/*
 * options.c - parse kvmshadow's command line.
 *
 *	kvmshadow boot [options] guest.img [guest.img...]
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
	{ "weight", required_argument, NULL, 'w' },
	{ "slice", required_argument, NULL, 'S' },
	{ "machine-mem", required_argument, NULL, 'P' },
	{ "swap", required_argument, NULL, 'W' },
	{ "console-dir", required_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
// clang-format on

void options_print_help(void)
{
	printf("Usage: kvmshadow boot [options] guest.img [guest.img...]\n"
	       "       kvmshadow --help | --version\n"
	       "\n"
	       "Boot 32-bit Multiboot (v1) ELF kernels in a KVM virtual machine.  With\n"
	       "several images, kvmshadow runs them all on one virtual CPU (shadow mode),\n"
	       "switching between them itself: they are guest vm0, vm1, ... in order.\n"
	       "Each guest's COM1 serial port is written to standard output (with\n"
	       "several guests, each line starts with 'vmN| ').\n"
	       "\n"
	       "Options (those marked * may be given once per guest, in image order;\n"
	       "given once, they apply to every guest):\n"
	       "  -m, --mem SIZE      * guest memory; suffix K, M or G (default 64M,\n"
	       "                      from 2M to 3G)\n"
	       "      --mode MODE     how to virtualize the guest (default shadow):\n"
	       "                        shadow  guest kernel deprivileged to ring 1 under\n"
	       "                                kvmshadow's monitor; kvmshadow emulates its\n"
	       "                                privileged instructions, reflects its traps\n"
	       "                                and keeps shadow page tables\n"
	       "                        hw      guest kernel in ring 0 of the VM, paging by\n"
	       "                                KVM (nested paging or KVM's shadow MMU);\n"
	       "                                one guest only\n"
	       "      --cmdline TEXT  * append TEXT to the Multiboot command line\n"
	       "                      (our guest kernel reads run=PROG,PROG...)\n"
	       "      --stats         print the VMM's counters at the end (exits, and in\n"
	       "                      shadow mode traps, reflections, emulated\n"
	       "                      instructions, hidden page faults; with several\n"
	       "                      guests, each one's CPU share, switches, swapping)\n"
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
	       "                      cr3, pagefault, priv, exception, sched, swap, or all\n"
	       "      --timeout SECS  stop every guest still running after SECS seconds\n"
	       "                      (status 73)\n"
	       "\n"
	       "Several guests (shadow mode; Documentation/multiplexing.md):\n"
	       "      --slice MS      a guest's time slice at weight 1, in milliseconds\n"
	       "                      (default 10, from 0.1 to 10000)\n"
	       "      --weight N      * a guest's slice is N times --slice (1 to 100,\n"
	       "                      default 1)\n"
	       "      --machine-mem SIZE  machine memory for all guests together, the\n"
	       "                      VMM's own pages included (default: enough for every\n"
	       "                      guest's memory).  Less than that overcommits: the\n"
	       "                      VMM then swaps guest frames out to --swap\n"
	       "      --swap FILE     the swap file; it must not exist or be empty, and\n"
	       "                      is emptied at exit (default: a temporary file,\n"
	       "                      deleted at once)\n"
	       "      --console-dir DIR  write each guest's console to DIR/vmN.console\n"
	       "                      instead of prefixed lines on standard output\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       show the version\n"
	       "\n"
	       "Exit status (with several guests: the first guest's, in image order,\n"
	       "that is not 0; each guest's is printed on stderr):\n"
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

/*
 * Options given per guest: each use adds one value, for the next guest
 * in image order.  Checked against the number of images at the end.
 */
struct options_lists {
	uint64_t mem[OPTIONS_MAX_GUESTS];
	const char *cmdline[OPTIONS_MAX_GUESTS];
	unsigned weight[OPTIONS_MAX_GUESTS];
	unsigned nmem, ncmdline, nweight;
};

static int options_list_full(unsigned n, const char *name, struct error *err)
{
	if (n < OPTIONS_MAX_GUESTS)
		return 0;
	return error_set(err, "%s given more than %d times (at most %d guests)", name,
			 OPTIONS_MAX_GUESTS, OPTIONS_MAX_GUESTS);
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

/*
 * A memory size for option 'name': a multiple of 4K from 'min' to 'max'
 * ('range' says the same to a person).
 */
static int options_parse_mem_size(const char *name, const char *text, uint64_t min, uint64_t max,
				  const char *range, uint64_t *bytes, struct error *err)
{
	if (options_parse_size(text, bytes))
		return error_set(err, "%s '%s' is not a size (examples: 64M, 1G)", name, text);
	if (*bytes < min || *bytes > max)
		return error_set(err, "%s %s is out of range (%s)", name, text, range);
	if (*bytes % 4096)
		return error_set(err, "%s %s is not a multiple of 4K", name, text);
	return 0;
}

static int options_parse_mem(const char *text, struct options_lists *l, struct error *err)
{
	uint64_t bytes;

	if (options_parse_mem_size("--mem", text, OPTIONS_MIN_MEM, OPTIONS_MAX_MEM, "2M to 3G",
				   &bytes, err) ||
	    options_list_full(l->nmem, "--mem", err))
		return -1;
	l->mem[l->nmem++] = bytes;
	return 0;
}

static int options_parse_machine_mem(const char *text, struct options *opts, struct error *err)
{
	return options_parse_mem_size("--machine-mem", text, OPTIONS_MIN_MEM, 4 * OPTIONS_MAX_MEM,
				      "2M to 12G", &opts->machine_mem, err);
}

static int options_parse_weight(const char *text, struct options_lists *l, struct error *err)
{
	char *end;
	unsigned long w;

	errno = 0;
	w = strtoul(text, &end, 10);
	if (!isdigit((unsigned char)text[0]) || errno || *end || w < 1 || w > OPTIONS_MAX_WEIGHT)
		return error_set(err, "--weight '%s' is not a whole number from 1 to %d", text,
				 OPTIONS_MAX_WEIGHT);
	if (options_list_full(l->nweight, "--weight", err))
		return -1;
	l->weight[l->nweight++] = (unsigned)w;
	return 0;
}

static int options_parse_slice(const char *text, struct options *opts, struct error *err)
{
	char *end;
	double ms;

	errno = 0;
	ms = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(ms) || ms < OPTIONS_MIN_SLICE_MS ||
	    ms > OPTIONS_MAX_SLICE_MS)
		return error_set(err, "--slice '%s' is not a number of milliseconds from %g to %g",
				 text, OPTIONS_MIN_SLICE_MS, OPTIONS_MAX_SLICE_MS);
	opts->slice_ms = ms;
	return 0;
}

static int options_parse_cmdline(const char *text, struct options_lists *l, struct error *err)
{
	if (options_list_full(l->ncmdline, "--cmdline", err))
		return -1;
	l->cmdline[l->ncmdline++] = text;
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
			     struct options_lists *l, struct error *err)
{
	switch (c) {
	case 'm':
		return options_parse_mem(arg, l, err);
	case 'M':
		return options_parse_mode(arg, opts, err);
	case 'c':
		return options_parse_cmdline(arg, l, err);
	case 'w':
		return options_parse_weight(arg, l, err);
	case 'S':
		return options_parse_slice(arg, opts, err);
	case 'P':
		return options_parse_machine_mem(arg, opts, err);
	case 'W':
		opts->swap_path = arg;
		return 0;
	case 'D':
		opts->console_dir = arg;
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
	opts->slice_ms = OPTIONS_DEFAULT_SLICE_MS;
}

/* A per-guest option given 0 times (the default), once (for all), or once per guest. */
static int options_list_count(unsigned n, unsigned nguests, const char *name, struct error *err)
{
	if (n <= 1 || n == nguests)
		return 0;
	return error_set(err,
			 "%s given %u times for %u guest%s: give it once (for every guest) "
			 "or once per guest",
			 name, n, nguests, nguests == 1 ? "" : "s");
}

static int options_guests(struct options *opts, const struct options_lists *l, char **images,
			  unsigned n, struct error *err)
{
	if (n > OPTIONS_MAX_GUESTS)
		return error_set(err, "%u guest images: kvmshadow runs at most %d", n,
				 OPTIONS_MAX_GUESTS);
	if (n > 1 && opts->mode != MODE_SHADOW)
		return error_set(err,
				 "%u guest images need --mode=shadow: in hw mode the guest "
				 "is the whole VM",
				 n);
	if (options_list_count(l->nmem, n, "--mem", err) ||
	    options_list_count(l->ncmdline, n, "--cmdline", err) ||
	    options_list_count(l->nweight, n, "--weight", err))
		return -1;
	opts->nguests = n;
	for (unsigned i = 0; i < n; i++) {
		struct options_guest *g = &opts->guest[i];

		g->image = images[i];
		g->mem_bytes = l->nmem ? l->mem[l->nmem == 1 ? 0 : i] : OPTIONS_DEFAULT_MEM;
		g->cmdline = l->ncmdline ? l->cmdline[l->ncmdline == 1 ? 0 : i] : NULL;
		g->weight = l->nweight ? l->weight[l->nweight == 1 ? 0 : i] : 1;
	}
	return 0;
}

/* The options of several guests and of overcommit mean nothing in hw mode. */
static int options_shadow_only(const struct options *opts, struct error *err)
{
	if (opts->mode == MODE_SHADOW)
		return 0;
	if (opts->machine_mem)
		return error_set(err, "--machine-mem needs --mode=shadow: in hw mode KVM owns "
				      "the machine's memory");
	if (opts->swap_path)
		return error_set(err, "--swap needs --mode=shadow: in hw mode kvmshadow does not "
				      "swap");
	if (opts->console_dir)
		return error_set(err, "--console-dir needs --mode=shadow: in hw mode the one "
				      "guest's console is standard output");
	return 0;
}

/*
 * getopt_long keeps its state in globals; optind = 0 makes glibc start
 * afresh, which the unit tests need since they parse many command lines.
 */
int options_parse(int argc, char **argv, struct options *opts, struct error *err)
{
	struct options_lists lists = {0};
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
		if (options_parse_one(c, optarg, word, opts, &lists, err))
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
	if (options_shadow_only(opts, err))
		return -1;
	if (optind >= argc)
		return error_set(err,
				 "missing guest image; usage: kvmshadow boot [options] guest.img");
	return options_guests(opts, &lists, argv + optind, (unsigned)(argc - optind), err);
}
