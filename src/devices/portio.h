/*
 * portio.h - the I/O port bus: which device answers which port.
 *
 * When the guest executes 'in' or 'out', KVM stops the VM and hands us the
 * port, size and data (KVM_EXIT_IO).  The bus looks the port up among the
 * ranges the device models registered and calls that device.  A port that
 * nobody claims reads as all ones, as on a PC with nothing at that address,
 * and is reported once so that a guest probing for hardware is visible.
 */
#ifndef KVMSHADOW_PORTIO_H
#define KVMSHADOW_PORTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef uint32_t (*portio_read_fn)(void *dev, uint16_t port, int size);
typedef void (*portio_write_fn)(void *dev, uint16_t port, int size, uint32_t value);

struct portio_range {
	uint16_t base;
	uint16_t len;
	const char *name;
	void *dev;
	portio_read_fn read;
	portio_write_fn write;
	uint64_t accesses;
};

#define PORTIO_MAX_RANGES 16

struct portio {
	struct portio_range ranges[PORTIO_MAX_RANGES];
	int nranges;
	uint8_t warned[65536 / 8]; /* unknown ports already reported */
	uint64_t unknown_accesses;
	FILE *log;	   /* where "unknown port" notes go */
	const char *owner; /* the guest's name, for those notes */
};

void portio_init(struct portio *bus, FILE *log, const char *owner);
/* Returns -1 if the range overlaps another or the table is full. */
int portio_register(struct portio *bus, uint16_t base, uint16_t len, const char *name, void *dev,
		    portio_read_fn read, portio_write_fn write);
uint32_t portio_read(struct portio *bus, uint16_t port, int size);
/* The name of the device at 'port', or "unknown". */
const char *portio_name(struct portio *bus, uint16_t port);
void portio_write(struct portio *bus, uint16_t port, int size, uint32_t value);

#endif
