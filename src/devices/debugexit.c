/*
 * debugexit.c - the guest's way to end the machine with a status.
 *
 * QEMU's isa-debug-exit device makes QEMU exit when the guest writes to
 * its port.  kvmshadow offers the same port so that one guest image
 * reports pass or fail under both; the vCPU loop stops as soon as 'fired'
 * is set and main() turns 'value' into our exit status (src/exitcode.h).
 */
#include "debugexit.h"

void debugexit_write(void *dev, uint16_t port, int size, uint32_t value)
{
	struct debugexit *dx = dev;

	(void)port;
	(void)size;
	if (dx->fired)
		return; /* the first word is the last */
	dx->fired = true;
	dx->value = value;
}
