/*
 * portio.c - dispatch port I/O to the device models (see portio.h).
 *
 * A handful of ranges, so a linear search is the clearest choice; the cost
 * of a VM exit dwarfs it.
 */
#include "portio.h"

void portio_init(struct portio *bus, FILE *log, const char *owner)
{
	*bus = (struct portio){.log = log, .owner = owner};
}

int portio_register(struct portio *bus, uint16_t base, uint16_t len, const char *name, void *dev,
		    portio_read_fn read, portio_write_fn write)
{
	uint32_t end = (uint32_t)base + len;

	if (bus->nranges == PORTIO_MAX_RANGES || len == 0 || end > 0x10000)
		return -1;
	for (int i = 0; i < bus->nranges; i++) {
		const struct portio_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < end)
			return -1;
	}
	bus->ranges[bus->nranges++] = (struct portio_range){
	    .base = base,
	    .len = len,
	    .name = name,
	    .dev = dev,
	    .read = read,
	    .write = write,
	};
	return 0;
}

static struct portio_range *portio_find(struct portio *bus, uint16_t port)
{
	for (int i = 0; i < bus->nranges; i++) {
		struct portio_range *r = &bus->ranges[i];

		if (port >= r->base && port - r->base < r->len)
			return r;
	}
	return NULL;
}

const char *portio_name(struct portio *bus, uint16_t port)
{
	struct portio_range *r = portio_find(bus, port);

	return r ? r->name : "unknown";
}

static uint32_t portio_all_ones(int size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void portio_unknown(struct portio *bus, uint16_t port, int size, bool write, uint32_t value)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));

	bus->unknown_accesses++;
	if (bus->warned[port >> 3] & bit)
		return;
	bus->warned[port >> 3] |= bit;
	if (!bus->log)
		return;
	if (write)
		fprintf(bus->log,
			"kvmshadow: %s: guest wrote 0x%x to unknown port 0x%04x (size %d); "
			"ignored (reported once per port)\n",
			bus->owner, value, port, size);
	else
		fprintf(bus->log,
			"kvmshadow: %s: guest read unknown port 0x%04x (size %d); reads as "
			"0x%x (reported once per port)\n",
			bus->owner, port, size, portio_all_ones(size));
}

uint32_t portio_read(struct portio *bus, uint16_t port, int size)
{
	struct portio_range *r = portio_find(bus, port);

	if (!r || !r->read) {
		portio_unknown(bus, port, size, false, 0);
		return portio_all_ones(size);
	}
	r->accesses++;
	return r->read(r->dev, port, size) & portio_all_ones(size);
}

void portio_write(struct portio *bus, uint16_t port, int size, uint32_t value)
{
	struct portio_range *r = portio_find(bus, port);

	if (!r || !r->write) {
		portio_unknown(bus, port, size, true, value);
		return;
	}
	r->accesses++;
	r->write(r->dev, port, size, value & portio_all_ones(size));
}
