/*
 * pit.c - a model of the 8254 interval timer.
 *
 * The real chip counts down a 1.193182 MHz clock.  We do not tick: a
 * counter remembers when it was loaded, and its current count, and the
 * times of its interrupts, are computed from the host's monotonic clock
 * when someone asks.  The vCPU loop asks pit_edges_due() after every exit
 * and sleeps until pit_next_deadline() when the guest halts; a host timer
 * (src/vcpu.c) makes sure we get control back in time while the guest runs.
 *
 * Counter 0 drives IRQ 0.  Modes 2 (rate generator) and 3 (square wave)
 * interrupt once per period; modes 0 (interrupt on terminal count) and 4
 * (software strobe) once.  Modes 1 and 5 wait for a gate edge that never
 * comes on a PC.
 * When the host falls behind, edges that were missed are merged into one,
 * as a real PIC merges edges that arrive while the line is still pending:
 * a guest must not count ticks to tell time, and ours does not.  Counters
 * 1 and 2 count but are wired to nothing.
 */
#include <time.h>

#include "pit.h"
#include "ports.h"

#define NSEC_PER_SEC 1000000000ull

uint64_t pit_host_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void pit_init(struct pit *pit, pit_clock_fn clock)
{
	*pit = (struct pit){.clock = clock};
	for (int i = 0; i < 3; i++) {
		pit->counter[i].reload = 65536;
		pit->counter[i].access = 3;
	}
}

static uint64_t pit_clocks_to_ns(uint64_t clocks)
{
	return clocks * NSEC_PER_SEC / PIT_HZ;
}

static bool pit_periodic(uint8_t mode)
{
	return mode == 2 || mode == 3;
}

/* Counter 0 was (re)loaded: compute when it will first interrupt. */
static void pit_schedule(struct pit *pit)
{
	struct pit_counter *c = &pit->counter[0];

	pit->period = pit_clocks_to_ns(c->reload);
	if (pit->period == 0)
		pit->period = 1;
	pit->next_irq = c->start + pit->period;
}

uint64_t pit_edges_due(struct pit *pit, uint64_t now)
{
	struct pit_counter *c = &pit->counter[0];
	uint64_t edges;

	if (!c->armed || now < pit->next_irq)
		return 0;
	if (!pit_periodic(c->mode)) {
		c->armed = false; /* one shot: terminal count reached */
		return 1;
	}
	edges = (now - pit->next_irq) / pit->period + 1;
	pit->next_irq += edges * pit->period;
	return edges;
}

uint64_t pit_next_deadline(const struct pit *pit)
{
	return pit->counter[0].armed ? pit->next_irq : 0;
}

/* The count the chip would show now. */
static uint16_t pit_current_count(const struct pit *pit, const struct pit_counter *c)
{
	uint64_t now, elapsed;

	if (!c->armed)
		return (uint16_t)(pit_periodic(c->mode) ? c->reload : 0);
	now = pit->clock();
	/* 128-bit product: ns * 1.19 MHz overflows 64 bits after 4.3 hours. */
	elapsed = now > c->start
		      ? (uint64_t)((unsigned __int128)(now - c->start) * PIT_HZ / NSEC_PER_SEC)
		      : 0;
	if (pit_periodic(c->mode))
		return (uint16_t)(c->reload - elapsed % c->reload);
	return elapsed >= c->reload ? 0 : (uint16_t)(c->reload - elapsed);
}

static void pit_load(struct pit *pit, int index, uint32_t count)
{
	struct pit_counter *c = &pit->counter[index];

	c->reload = count ? count : 65536;
	c->start = pit->clock();
	/* Modes 1 and 5 start counting on a rising edge of GATE, and on a PC
	 * counter 0's gate is tied high: they never start. */
	c->armed = c->mode != 1 && c->mode != 5;
	if (index == 0)
		pit_schedule(pit);
}

static void pit_write_control(struct pit *pit, uint8_t value)
{
	int index = value >> 6;
	struct pit_counter *c;

	if (index == 3)
		return; /* read-back command: not modelled */
	c = &pit->counter[index];
	if ((value & 0x30) == 0) { /* counter latch command */
		if (!c->latched) {
			c->latch = pit_current_count(pit, c);
			c->latched = true;
		}
		return;
	}
	c->access = (value >> 4) & 3;
	c->mode = (value >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
	c->write_hi = false;
	c->read_hi = false;
	c->latched = false;
	c->armed = false; /* a new mode stops the count until loaded */
}

static void pit_write_counter(struct pit *pit, int index, uint8_t value)
{
	struct pit_counter *c = &pit->counter[index];

	switch (c->access) {
	case 1:
		pit_load(pit, index, value);
		break;
	case 2:
		pit_load(pit, index, (uint32_t)value << 8);
		break;
	default:
		if (!c->write_hi) {
			c->low_byte = value;
			c->write_hi = true;
		} else {
			c->write_hi = false;
			pit_load(pit, index, (uint32_t)value << 8 | c->low_byte);
		}
		break;
	}
}

static uint8_t pit_read_counter(struct pit *pit, int index)
{
	struct pit_counter *c = &pit->counter[index];
	uint16_t count = c->latched ? c->latch : pit_current_count(pit, c);
	uint8_t byte;

	switch (c->access) {
	case 1:
		c->latched = false;
		return (uint8_t)count;
	case 2:
		c->latched = false;
		return (uint8_t)(count >> 8);
	default:
		byte = c->read_hi ? (uint8_t)(count >> 8) : (uint8_t)count;
		if (c->read_hi)
			c->latched = false;
		c->read_hi = !c->read_hi;
		return byte;
	}
}

uint32_t pit_read(void *dev, uint16_t port, int size)
{
	(void)size;
	if (port == PORT_PIT_MODE)
		return 0xff; /* the mode register cannot be read */
	return pit_read_counter(dev, port - PORT_PIT_CH0);
}

void pit_write(void *dev, uint16_t port, int size, uint32_t value)
{
	(void)size;
	if (port == PORT_PIT_MODE)
		pit_write_control(dev, (uint8_t)value);
	else
		pit_write_counter(dev, port - PORT_PIT_CH0, (uint8_t)value);
}
