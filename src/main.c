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
#include "stats.h"
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

/* Read and check the image; img->data stays allocated for the copy. */
static int main_load(const struct options *opts, struct loader_image *img, struct error *err)
{
	uint8_t *data;
	size_t size;

	if (loader_read_file(opts->image, &data, &size, err))
		return -1;
	if (loader_parse(opts->image, data, size, opts->mem_bytes, img, err)) {
		free(data);
		return -1;
	}
	return 0;
}

/* How the run ended, reported and turned into our exit status. */
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
static int main_boot_hw(const struct options *opts, struct guest *g,
			const struct loader_image *img, struct trace *trace)
{
	struct vcpu_stop stop = {0};
	struct stats st = {0};
	struct kvm kvm;
	struct error err;
	int status;

	if (kvm_open(&kvm, &err) || kvm_add_memory(&kvm, 0, 0, g->mem, g->mem_bytes, &err) ||
	    kvm_create_vcpu(&kvm, false, &err) || boot_set_entry_state(&kvm, img->entry, &err)) {
		kvm_close(&kvm);
		return main_fail(EXIT_VMM_ERROR, &err);
	}
	g->marker.st = &st;
	vcpu_run(&kvm, g, NULL, opts->timeout_sec, trace, &st, &stop);
	status = main_finish(opts, g, &st, &stop);
	kvm_close(&kvm);
	return status;
}

/*
 * Machine memory for one guest: its own frames, plus the monitor's pages
 * and the shadow's pool of at most SHADOW_MAX_PAGES (1024) page tables
 * and directories, with room to spare.
 */
static uint32_t main_machine_frames(const struct options *opts)
{
	return (uint32_t)(opts->mem_bytes >> PAGE_SHIFT) + 2048;
}

/*
 * --canary: after the run (before the guest's frames go back to the
 * pool), every frame no guest owns must still hold its canary, and the
 * monitor its code.
 */
static int main_check_canary(struct machine *m, struct vm *vm, int status)
{
	struct error err;

	if (!machine_monitor_intact(m)) {
		fprintf(stderr, "kvmshadow: %s: isolation broken: the monitor's code changed\n",
			vm->name);
		return EXIT_VMM_ERROR;
	}
	if (p2m_pool_canary_check(&m->pool, &err)) {
		fprintf(stderr, "kvmshadow: %s: %s\n", vm->name, err.msg);
		return EXIT_VMM_ERROR;
	}
	return status;
}

/* shadow mode: kvmshadow owns the machine, and the guest is deprivileged. */
static int main_boot_shadow(const struct options *opts, struct guest *g,
			    const struct loader_image *img, struct trace *trace)
{
	struct vcpu_stop stop = {0};
	struct stats st = {0};
	struct machine m;
	struct vm vm = {
	    .st = &st, .trace = trace, .stop = &stop, .check_shadow = opts->check_shadow};
	struct error err;
	int status;

	if (machine_init(&m, main_machine_frames(opts), &err))
		return main_fail(EXIT_VMM_ERROR, &err);
	if (opts->canary)
		p2m_pool_canary_on(&m.pool);
	if (vm_init(&vm, &m, g, img, &err) ||
	    vm_enter(&vm, img->entry, &err)) {
		vm_destroy(&vm);
		machine_destroy(&m);
		return main_fail(EXIT_VMM_ERROR, &err);
	}
	st.patch_sites = vm.patch.n;
	if (!m.kvm.umip)
		fprintf(stderr, "kvmshadow: warning: this CPU has no UMIP: the guest kernel's sgdt, "
				"sidt, sldt, str and smsw will show the monitor's values\n");
	g->marker.st = &st;
	vcpu_run(&m.kvm, g, &vm, opts->timeout_sec, trace, &st, &stop);
	status = main_finish(opts, g, &st, &stop);
	if (opts->canary)
		status = main_check_canary(&m, &vm, status);
	vm_destroy(&vm);
	machine_destroy(&m);
	return status;
}

static int main_boot(const struct options *opts)
{
	struct loader_image img;
	struct trace trace;
	struct guest g;
	struct error err;
	int status;

	if (guest_init(&g, "vm0", opts->mem_bytes, stdout, stderr, &err))
		return main_fail(EXIT_VMM_ERROR, &err);
	if (main_load(opts, &img, &err)) {
		guest_free(&g);
		return main_fail(EXIT_BAD_IMAGE, &err);
	}
	/* The guest's memory as a boot loader leaves it; shadow mode moves it
	 * into machine frames.  Only the command line can make this fail. */
	loader_copy(&img, g.mem);
	if (boot_write_info(g.mem, g.mem_bytes, opts->image, opts->cmdline, &err)) {
		free((void *)img.data);
		guest_free(&g);
		return main_fail(EXIT_USAGE, &err);
	}
	/* A trace is tens of thousands of lines: one write(2) per line would
	 * cost more than the run itself.  Buffering all of stderr (not just
	 * the trace) keeps the lines in order; exit flushes. */
	if (opts->trace)
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
	trace = (struct trace){.mask = opts->trace, .out = stderr, .name = g.name};
	if (opts->mode == MODE_HW)
		status = main_boot_hw(opts, &g, &img, &trace);
	else
		status = main_boot_shadow(opts, &g, &img, &trace);
	free((void *)img.data);
	guest_free(&g);
	return status;
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
