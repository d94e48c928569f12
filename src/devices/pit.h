/*
 * pit.h - the 8254 programmable interval timer, counter 0 wired to IRQ 0.
 */
#ifndef KVMSHADOW_PIT_H
#define KVMSHADOW_PIT_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t (*pit_clock_fn)(void); /* nanoseconds, monotonic */

struct pit_counter {
	uint32_t reload;  /* 1..65536 input clocks per period */
	uint8_t mode;	  /* 0..5 */
	uint8_t access;	  /* 1: lobyte, 2: hibyte, 3: lobyte then hibyte */
	bool write_hi;	  /* next write of a lo/hi pair is the high byte */
	bool read_hi;	  /* next read of a lo/hi pair is the high byte */
	uint8_t low_byte; /* first half of a lo/hi write */
	bool latched;
	uint16_t latch;
	bool armed;	/* counting since 'start' */
	uint64_t start; /* ns when the count was loaded */
};

struct pit {
	struct pit_counter counter[3];
	pit_clock_fn clock;
	uint64_t next_irq; /* ns of the next IRQ 0 edge; valid if counter 0 armed */
	uint64_t period;   /* ns between edges in the periodic modes */
};

void pit_init(struct pit *pit, pit_clock_fn clock);
/* How many IRQ 0 edges have happened by 'now' since the last call. */
uint64_t pit_edges_due(struct pit *pit, uint64_t now);
/* ns of the next IRQ 0 edge, or 0 if counter 0 is not running. */
uint64_t pit_next_deadline(const struct pit *pit);

uint32_t pit_read(void *dev, uint16_t port, int size);
void pit_write(void *dev, uint16_t port, int size, uint32_t value);

/* Host monotonic clock in ns, the default clock. */
uint64_t pit_host_clock(void);

#endif
