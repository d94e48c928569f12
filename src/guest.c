/*
 * guest.c - build the virtual PC of one guest.
 *
 * A PC of the 1990s, as much of it as a small kernel needs: RAM from
 * address 0, a serial port for the console, the interrupt controllers, the
 * interval timer, and QEMU's debug-exit port to report a result.  The same
 * devices serve every mode (hw now, shadow later): only how the CPU and
 * memory are virtualised changes.
 */
#include <sys/mman.h>

#include "guest.h"
#include "ports.h"

static int guest_add_devices(struct guest *g, struct error *err)
{
	struct portio *bus = &g->bus;

	if (portio_register(bus, PORT_COM1, 8, "com1", &g->com1, serial_read, serial_write) ||
	    portio_register(bus, PORT_PIC1_CMD, 2, "pic", &g->pic, pic_read, pic_write) ||
	    portio_register(bus, PORT_PIC2_CMD, 2, "pic", &g->pic, pic_read, pic_write) ||
	    portio_register(bus, PORT_PIT_CH0, 4, "pit", &g->pit, pit_read, pit_write) ||
	    portio_register(bus, PORT_DEBUG_EXIT, 4, "debug-exit", &g->debugexit, NULL,
			    debugexit_write) ||
	    portio_register(bus, PORT_MARKER, 1, "marker", &g->marker, NULL, marker_write))
		return error_set(err, "internal error: device port ranges overlap");
	return 0;
}

int guest_init(struct guest *g, const char *name, uint64_t mem_bytes, FILE *console, FILE *log,
	       struct error *err)
{
	*g = (struct guest){.name = name, .mem_bytes = mem_bytes};
	/* Anonymous memory comes zeroed from the host kernel, so the guest
	 * never sees anyone else's data. */
	g->mem = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return error_errno(err, "cannot allocate %llu MiB of guest memory",
				   (unsigned long long)(mem_bytes >> 20));
	}
	portio_init(&g->bus, log, name);
	serial_init(&g->com1, console);
	pic_init(&g->pic);
	pit_init(&g->pit, pit_host_clock);
	if (guest_add_devices(g, err)) {
		guest_free(g);
		return -1;
	}
	return 0;
}

void guest_free(struct guest *g)
{
	serial_flush(&g->com1);
	if (g->mem)
		munmap(g->mem, g->mem_bytes);
	g->mem = NULL;
}
