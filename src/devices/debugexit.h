/*
 * debugexit.h - the debug-exit port, QEMU's isa-debug-exit device.
 */
#ifndef KVMSHADOW_DEBUGEXIT_H
#define KVMSHADOW_DEBUGEXIT_H

#include <stdbool.h>
#include <stdint.h>

struct debugexit {
	bool fired;
	uint32_t value;
};

void debugexit_write(void *dev, uint16_t port, int size, uint32_t value);

#endif
