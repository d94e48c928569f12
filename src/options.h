/*
 * options.h - kvmshadow's command line.
 */
#ifndef KVMSHADOW_OPTIONS_H
#define KVMSHADOW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum vmm_mode {
	MODE_SHADOW, /* guest kernel in ring 1 under our monitor, our shadow paging */
	MODE_HW,     /* guest kernel in ring 0, KVM's own paging */
};

enum options_action {
	ACTION_BOOT,
	ACTION_HELP,
	ACTION_VERSION,
};

/* What one guest OS is given; several guests share one machine (sched.c). */
struct options_guest {
	const char *image;   /* path of its image */
	uint64_t mem_bytes;  /* its guest-physical memory */
	const char *cmdline; /* extra Multiboot command line, or NULL */
	unsigned weight;     /* its share of the CPU, relative to the others' */
};

#define OPTIONS_MAX_GUESTS 8

struct options {
	enum options_action action;
	enum vmm_mode mode;
	double timeout_sec; /* 0: none */
	bool stats;
	bool check_shadow; /* --check-shadow: audit the shadow before every resume */
	bool canary;	   /* --canary: mark and check the machine frames no guest owns */
	unsigned trace;	   /* trace_category bits from --trace */

	/* Every guest, in command-line order. */
	unsigned nguests;
	struct options_guest guest[OPTIONS_MAX_GUESTS];
	uint64_t machine_mem;	 /* --machine-mem: the pool of machine memory; 0: enough for all */
	const char *swap_path;	 /* --swap FILE, or NULL for a temporary file */
	double slice_ms;	 /* --slice: a guest's time slice at weight 1 */
	const char *console_dir; /* --console-dir: one file per guest, or NULL: prefixed stdout */
};

#define OPTIONS_DEFAULT_MEM	 (64ull << 20)
#define OPTIONS_MIN_MEM		 (2ull << 20)
#define OPTIONS_MAX_TIMEOUT	 1e9 /* s: keeps the deadline in 64-bit ns */
#define OPTIONS_MAX_MEM		 (3ull << 30)
#define OPTIONS_DEFAULT_SLICE_MS 10.0
#define OPTIONS_MIN_SLICE_MS	 0.1
#define OPTIONS_MAX_SLICE_MS	 10000.0
#define OPTIONS_MAX_WEIGHT	 100

/* Parse argv into opts; on a bad command line fill err and return -1. */
int options_parse(int argc, char **argv, struct options *opts, struct error *err);

/* Parse "64M", "1G", "65536K" or a byte count. */
int options_parse_size(const char *text, uint64_t *bytes);

void options_print_help(void);
const char *options_mode_name(enum vmm_mode mode);

#endif
