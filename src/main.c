/*
 * main.c - kvmshadow's top level: parse the command line, load the guest,
 * run it, and turn how it ended into an exit status.
 *
 * This is also the one place that prints errors: everything below returns
 * a struct error, and we print it as "kvmshadow: <message>".
 */
#include <stdio.h>
#include <stdlib.h>

#include "boot.h"
#include "exitcode.h"
#include "guest.h"
#include "kvm.h"
#include "loader.h"
#include "machine.h"
#include "options.h"
#include "sched.h"
#include "stats.h"
#include "swap.h"
#include "switch.h"
#include "trace.h"
#include "vcpu.h"
#include "version.h"
#include "vm.h"

static int main_fail(int status, const struct error *err)
{
	fflush(stdout);
	fprintf(stderr, "kvmshadow: %s\n", err->msg);
	return status;
}

/* How the guest ended, as our exit status (see src/exitcode.h). */
static int main_status(const struct guest *g, const struct vcpu_stop *stop)
{
	switch (stop->reason) {
	case VCPU_STOP_DEBUG_EXIT:
		if (stop->value <= EXIT_GUEST_MAX)
			return (int)stop->value;
		fprintf(stderr, "kvmshadow: %s: debug-exit value %u is above %d\n", g->name,
			stop->value, EXIT_GUEST_MAX);
		return EXIT_GUEST_RANGE;
	case VCPU_STOP_TRIPLE_FAULT:
		return EXIT_TRIPLE_FAULT;
	case VCPU_STOP_SHUTDOWN:
		return EXIT_SHUTDOWN;
	case VCPU_STOP_TIMEOUT:
		return EXIT_TIMEOUT;
	case VCPU_STOP_GUEST_ERROR:
		return EXIT_GUEST_ERROR;
	case VCPU_STOP_VMM_ERROR:
		break;
	}
	return EXIT_VMM_ERROR;
}

static void main_report(const struct guest *g, const struct vcpu_stop *stop, bool verbose)
{
	if (stop->reason == VCPU_STOP_DEBUG_EXIT && !verbose)
		return;
	if (stop->eip_known)
		fprintf(stderr, "kvmshadow: %s: %s at eip=0x%08x\n", g->name, stop->detail,
			stop->eip);
	else
		fprintf(stderr, "kvmshadow: %s: %s (eip unknown: %s)\n", g->name, stop->detail,
			stop->regs_failed ? "KVM_GET_REGS failed" : "KVM reset the vCPU");
}

/* Read and check one image; img->data stays allocated for the copy. */
static int main_load(const struct options_guest *og, struct loader_image *img, struct error *err)
{
	uint8_t *data;
	size_t size;

	if (loader_read_file(og->image, &data, &size, err))
		return -1;
	if (loader_parse(og->image, data, size, og->mem_bytes, img, err)) {
		free(data);
		img->data = NULL; /* loader_parse may have pointed it at data */
		return -1;
	}
	return 0;
}

/*
 * The guest's memory as a boot loader leaves it: the image and the
 * Multiboot information (shadow mode then moves it into machine frames).
 * Returns an exit status, 0 on success.
 */
static int main_prepare(const struct options_guest *og, const char *name, FILE *console,
			struct guest *g, struct loader_image *img, struct error *err)
{
	if (guest_init(g, name, og->mem_bytes, console, stderr, err))
		return EXIT_VMM_ERROR;
	if (main_load(og, img, err))
		return EXIT_BAD_IMAGE;
	loader_copy(img, g->mem);
	/* Only the command line can make this fail. */
	if (boot_write_info(g->mem, g->mem_bytes, og->image, og->cmdline, err)) {
		free((void *)img->data);
		img->data = NULL;
		return EXIT_USAGE;
	}
	return 0;
}

/* How one guest's run ended, reported and turned into an exit status. */
static int main_finish(const struct options *opts, struct guest *g, struct stats *st,
		       const struct vcpu_stop *stop)
{
	int status;

	serial_flush(&g->com1);
	marker_finish(&g->marker);
	status = main_status(g, stop);
	main_report(g, stop, opts->stats);
	if (opts->stats)
		stats_print(stderr, st, g, options_mode_name(opts->mode));
	return status;
}

/* hw mode: the guest's memory is the KVM VM's memory, and its kernel runs
 * in ring 0; KVM does the rest. */
static int main_boot_hw(const struct options *opts, struct trace *trace)
{
	struct vcpu_stop stop = {0};
	struct stats st = {0};
	struct loader_image img = {0};
	struct guest g;
	struct kvm kvm;
	struct error err;
	int status;

	status = main_prepare(&opts->guest[0], "vm0", stdout, &g, &img, &err);
	if (status) {
		guest_free(&g);
		return main_fail(status, &err);
	}
	trace->name = g.name;
	if (kvm_open(&kvm, &err) || kvm_add_memory(&kvm, 0, 0, g.mem, g.mem_bytes, &err) ||
	    kvm_create_vcpu(&kvm, false, &err) || boot_set_entry_state(&kvm, img.entry, &err)) {
		kvm_close(&kvm);
		free((void *)img.data);
		guest_free(&g);
		return main_fail(EXIT_VMM_ERROR, &err);
	}
	g.marker.st = &st;
	vcpu_run(&kvm, &g, opts->timeout_sec, trace, &st, &stop);
	status = main_finish(opts, &g, &st, &stop);
	kvm_close(&kvm);
	free((void *)img.data);
	guest_free(&g);
	return status;
}

/*
 * Machine memory, unless --machine-mem says: every guest's frames, plus
 * for each the shadow's pool of at most SHADOW_MAX_PAGES (1024) page
 * tables and directories, its all-ones page, and the monitor's pages,
 * with room to spare.
 */
static uint32_t main_machine_frames(const struct options *opts)
{
	uint64_t frames = 0;

	if (opts->machine_mem)
		return (uint32_t)(opts->machine_mem >> PAGE_SHIFT);
	for (unsigned i = 0; i < opts->nguests; i++)
		frames += (opts->guest[i].mem_bytes >> PAGE_SHIFT) + 2048;
	return (uint32_t)frames;
}

/*
 * --canary: after the run (every guest's frames are back in the pool,
 * scrubbed and marked again), every free frame must still hold its
 * canary, and the monitor its code.
 */
static int main_check_canary(struct machine *m, int status)
{
	struct error err;

	if (!machine_monitor_intact(m)) {
		fprintf(stderr, "kvmshadow: isolation broken: the monitor's code changed\n");
		return EXIT_VMM_ERROR;
	}
	if (p2m_pool_canary_check(&m->pool, &err)) {
		fprintf(stderr, "kvmshadow: %s\n", err.msg);
		return EXIT_VMM_ERROR;
	}
	return status;
}

/* Everything main_boot_shadow sets up, to be torn down in one place. */
struct main_shadow {
	struct machine m;
	struct swap swap;
	struct sched sched;
	struct sched_guest *guest;
	struct loader_image img[OPTIONS_MAX_GUESTS];
	char name[OPTIONS_MAX_GUESTS][16];
	char prefix[OPTIONS_MAX_GUESTS][20]; /* "vmN| ", before each console line */
	FILE *console[OPTIONS_MAX_GUESTS];   /* --console-dir files, or NULL */
	struct switch_state *pristine;	     /* the monitor pages as machine_init left them */
	unsigned built;			     /* guests whose vm was initialised */
};

/* Where guest i's console goes: its own file, or stdout (prefixed when
 * there are several guests). */
static FILE *main_console(const struct options *opts, struct main_shadow *ms, unsigned i,
			  struct error *err)
{
	char path[4096];

	if (!opts->console_dir)
		return stdout;
	snprintf(path, sizeof(path), "%s/%s.console", opts->console_dir, ms->name[i]);
	ms->console[i] = fopen(path, "w");
	if (!ms->console[i]) {
		error_errno(err, "--console-dir: cannot create %s", path);
		return NULL;
	}
	return ms->console[i];
}

/*
 * Guest i's virtual PC, as a boot loader leaves it: checked before
 * anything else, so that a bad image or command line is reported as such
 * even where KVM is missing.
 */
static int main_prepare_guest(const struct options *opts, struct main_shadow *ms, unsigned i,
			      struct error *err)
{
	struct sched_guest *sg = &ms->guest[i];
	FILE *console;
	int status;

	snprintf(ms->name[i], sizeof(ms->name[i]), "vm%u", i);
	console = main_console(opts, ms, i, err);
	if (!console)
		return EXIT_USAGE;
	status = main_prepare(&opts->guest[i], ms->name[i], console, &sg->g, &ms->img[i], err);
	if (status)
		return status;
	if (opts->nguests > 1 && !opts->console_dir) {
		snprintf(ms->prefix[i], sizeof(ms->prefix[i]), "vm%u| ", i);
		sg->g.com1.prefix = ms->prefix[i];
	}
	sg->trace = (struct trace){.mask = opts->trace, .out = stderr, .name = sg->g.name};
	sg->vm = (struct vm){.st = &sg->st,
			     .trace = &sg->trace,
			     .stop = &sg->stop,
			     .check_shadow = opts->check_shadow};
	sg->weight = opts->guest[i].weight;
	return 0;
}

/*
 * Build guest i on the machine: its memory in machine frames, its
 * monitor pages (starting from the pristine ones), and its first machine
 * state, saved for its first turn.
 */
static int main_place_guest(struct main_shadow *ms, unsigned i, struct error *err)
{
	struct sched_guest *sg = &ms->guest[i];

	switch_load_monitor(&ms->m, ms->pristine);
	ms->built = i + 1;
	if (vm_init(&sg->vm, &ms->m, &sg->g, &ms->img[i], err) ||
	    swap_add_vm(&ms->swap, &sg->vm, err) || vm_enter(&sg->vm, ms->img[i].entry, err) ||
	    sched_save_built(sg, err))
		return EXIT_VMM_ERROR;
	sg->st.patch_sites = sg->vm.patch.n;
	sg->g.marker.st = &sg->st;
	return 0;
}

static void main_teardown(struct main_shadow *ms, unsigned n)
{
	for (unsigned i = 0; i < ms->built; i++)
		vm_destroy(&ms->guest[i].vm);
	for (unsigned i = 0; ms->guest && i < n; i++) {
		guest_free(&ms->guest[i].g);
		free(ms->guest[i].saved);
		free((void *)ms->img[i].data);
		if (ms->console[i])
			fclose(ms->console[i]);
	}
	free(ms->guest);
	free(ms->pristine);
	swap_fini(&ms->swap);
	machine_destroy(&ms->m);
}

static int main_setup_shadow(const struct options *opts, struct main_shadow *ms, struct error *err)
{
	int status;

	ms->guest = calloc(opts->nguests, sizeof(*ms->guest));
	ms->pristine = calloc(1, sizeof(*ms->pristine));
	if (!ms->guest || !ms->pristine)
		return error_set(err, "out of memory for %u guests", opts->nguests), EXIT_VMM_ERROR;
	for (unsigned i = 0; i < opts->nguests; i++)
		if ((status = main_prepare_guest(opts, ms, i, err)))
			return status;
	if (machine_init(&ms->m, main_machine_frames(opts), err))
		return EXIT_VMM_ERROR;
	if (opts->canary)
		p2m_pool_canary_on(&ms->m.pool);
	if (swap_init(&ms->swap, &ms->m.pool, opts->swap_path, err))
		return EXIT_USAGE;
	switch_save_monitor(&ms->m, ms->pristine);
	ms->sched = (struct sched){.m = &ms->m,
				   .swap = &ms->swap,
				   .guest = ms->guest,
				   .n = opts->nguests,
				   .slice_ns = (uint64_t)(opts->slice_ms * 1e6)};
	for (unsigned i = 0; i < opts->nguests; i++)
		if ((status = main_place_guest(ms, i, err)))
			return status;
	return 0;
}

/* Several guests: each one's status on stderr, and the first that is not
 * 0 (in image order) is kvmshadow's. */
static int main_summary(const struct options *opts, const int *status)
{
	int first = 0;

	for (unsigned i = 0; i < opts->nguests; i++) {
		if (opts->nguests > 1)
			fprintf(stderr, "kvmshadow: vm%u (%s): exit status %d\n", i,
				opts->guest[i].image, status[i]);
		if (!first)
			first = status[i];
	}
	return first;
}

/* The pool's counters for one guest, into its --stats. */
static void main_memory_stats(struct sched_guest *sg)
{
	sg->st.first_touches = sg->vm.p2m.first_touches;
	sg->st.swap_outs = sg->vm.p2m.swap_outs;
	sg->st.swap_zero = sg->vm.p2m.swap_zero;
	sg->st.swap_ins = sg->vm.p2m.swap_ins;
}

/* shadow mode: kvmshadow owns the machine, and the guests are deprivileged. */
static int main_boot_shadow(const struct options *opts)
{
	struct main_shadow *ms = calloc(1, sizeof(*ms));
	int status[OPTIONS_MAX_GUESTS], result;
	struct error err;

	if (!ms)
		return fprintf(stderr, "kvmshadow: out of memory\n"), EXIT_VMM_ERROR;
	ms->m.kvm = (struct kvm){.sys_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
	ms->swap.fd = -1;
	result = main_setup_shadow(opts, ms, &err);
	if (result) {
		main_teardown(ms, opts->nguests);
		free(ms);
		return main_fail(result, &err);
	}
	if (!ms->m.kvm.umip)
		fprintf(stderr,
			"kvmshadow: warning: this CPU has no UMIP: the guest kernel's sgdt, "
			"sidt, sldt, str and smsw will show the monitor's values\n");
	sched_run(&ms->sched, opts->timeout_sec);
	for (unsigned i = 0; i < opts->nguests; i++) {
		main_memory_stats(&ms->guest[i]);
		status[i] =
		    main_finish(opts, &ms->guest[i].g, &ms->guest[i].st, &ms->guest[i].stop);
	}
	if (opts->stats && opts->nguests > 1)
		sched_print_stats(stderr, &ms->sched);
	result = main_summary(opts, status);
	if (opts->canary)
		result = main_check_canary(&ms->m, result);
	main_teardown(ms, opts->nguests);
	free(ms);
	return result;
}

static int main_boot(const struct options *opts)
{
	struct trace trace;

	/* A trace is tens of thousands of lines: one write(2) per line would
	 * cost more than the run itself.  Buffering all of stderr (not just
	 * the trace) keeps the lines in order; exit flushes. */
	if (opts->trace)
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	if (opts->mode == MODE_HW) {
		trace = (struct trace){.mask = opts->trace, .out = stderr, .name = "vm0"};
		return main_boot_hw(opts, &trace);
	}
	return main_boot_shadow(opts);
}

int main(int argc, char **argv)
{
	struct options opts;
	struct error err;

	if (options_parse(argc, argv, &opts, &err))
		return main_fail(EXIT_USAGE, &err);
	switch (opts.action) {
	case ACTION_HELP:
		options_print_help();
		return 0;
	case ACTION_VERSION:
		printf("kvmshadow %s\n", KVMSHADOW_VERSION);
		return 0;
	case ACTION_BOOT:
		break;
	}
	return main_boot(&opts);
}
