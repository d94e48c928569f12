/*
 * guest.h - the virtual PC that one guest operating system sees: its
 * "physical" memory and its devices.
 */
#ifndef KVMSHADOW_GUEST_H
#define KVMSHADOW_GUEST_H

#include <stdint.h>
#include <stdio.h>

#include "devices/debugexit.h"
#include "devices/marker.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/portio.h"
#include "devices/serial.h"
#include "error.h"

struct guest {
	const char *name; /* "vm0", prefixes trace and report lines */
	uint8_t *mem;	  /* guest-physical address 0 in our address space */
	uint64_t mem_bytes;
	struct portio bus;
	struct serial com1;
	struct pic pic;
	struct pit pit;
	struct debugexit debugexit;
	struct marker marker; /* inert until its st is set */
};

/* Allocate zeroed guest memory and wire up the devices; console output
 * goes to 'console', VMM notes (unknown ports) to 'log'. */
int guest_init(struct guest *g, const char *name, uint64_t mem_bytes, FILE *console, FILE *log,
	       struct error *err);
void guest_free(struct guest *g);

#endif
