/*
 * pic.h - the pair of 8259A interrupt controllers of a PC.
 */
#ifndef KVMSHADOW_PIC_H
#define KVMSHADOW_PIC_H

#include <stdbool.h>
#include <stdint.h>

struct pic_chip {
	uint8_t irr;	     /* interrupt request register: raised, not yet taken */
	uint8_t isr;	     /* in-service register: taken, not yet EOI'd */
	uint8_t imr;	     /* interrupt mask register */
	uint8_t vector_base; /* ICW2: vector of IRQ 0 of this chip */
	uint8_t init_step;   /* 0: operating; 2..4: expecting ICW2..ICW4 */
	bool need_icw4;
	bool single; /* ICW1 said: no slave */
	bool auto_eoi;
	bool read_isr; /* OCW3 selected ISR for reads of the command port */
};

struct pic {
	struct pic_chip chip[2]; /* 0: master (IRQ 0-7), 1: slave (IRQ 8-15) */
	uint64_t raised[16];	 /* IRQ edges seen, for --stats */
};

void pic_init(struct pic *pic);
/* An edge on line irq (0-15). */
void pic_raise_irq(struct pic *pic, int irq);
/* Would the PIC interrupt the CPU now (if the CPU's IF allowed it)? */
bool pic_has_interrupt(const struct pic *pic);
/* The CPU's interrupt-acknowledge cycle: returns the vector to deliver. */
uint8_t pic_acknowledge(struct pic *pic);

uint32_t pic_read(void *dev, uint16_t port, int size);
void pic_write(void *dev, uint16_t port, int size, uint32_t value);

#endif
