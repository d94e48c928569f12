/*
 * pic.c - a model of the two cascaded 8259A interrupt controllers.
 *
 * A device raises a line; the PIC latches it in its request register
 * (IRR).  When the highest-priority unmasked request outranks everything
 * in service, the PIC asserts INTR to the CPU.  When the CPU takes the
 * interrupt it acknowledges, and the PIC answers with a vector and moves
 * the request to its in-service register (ISR) until the kernel's
 * end-of-interrupt command clears it.  Lower IRQ numbers have higher
 * priority.  The slave's output is wired to the master's IRQ 2.
 *
 * This is the model a guest kernel of the 1990s expects: the ICW1-ICW4
 * initialisation sequence, masking with OCW1, EOI with OCW2, reading IRR or
 * ISR after OCW3.  Rotation, special mask and poll modes are not modelled
 * (OCW2 rotate commands act as the matching EOI; see
 * Documentation/devices.md).
 */
#include "pic.h"
#include "ports.h"

#define PIC_CASCADE_IRQ 2

void pic_init(struct pic *pic)
{
	*pic = (struct pic){0};
	pic->chip[0].vector_base = 0x08; /* the BIOS's choice on a PC */
	pic->chip[1].vector_base = 0x70;
	pic->chip[0].imr = 0xff;
	pic->chip[1].imr = 0xff;
}

/* Highest-priority bit set in mask, or -1. */
static int pic_first_bit(uint8_t mask)
{
	for (int i = 0; i < 8; i++)
		if (mask & (1u << i))
			return i;
	return -1;
}

/* The line this chip would raise INTR for, or -1. */
static int pic_chip_pending(const struct pic_chip *chip, uint8_t extra_irr)
{
	int request = pic_first_bit((uint8_t)((chip->irr | extra_irr) & ~chip->imr));
	int service = pic_first_bit(chip->isr);

	if (request < 0)
		return -1;
	if (service >= 0 && service <= request)
		return -1;
	return request;
}

static uint8_t pic_slave_output(const struct pic *pic)
{
	return pic_chip_pending(&pic->chip[1], 0) >= 0 ? 1u << PIC_CASCADE_IRQ : 0;
}

void pic_raise_irq(struct pic *pic, int irq)
{
	if (irq < 0 || irq > 15)
		return;
	pic->raised[irq]++;
	pic->chip[irq >> 3].irr |= (uint8_t)(1u << (irq & 7));
}

bool pic_has_interrupt(const struct pic *pic)
{
	return pic_chip_pending(&pic->chip[0], pic_slave_output(pic)) >= 0;
}

static void pic_chip_take(struct pic_chip *chip, int line)
{
	chip->irr &= (uint8_t) ~(1u << line);
	if (!chip->auto_eoi)
		chip->isr |= (uint8_t)(1u << line);
}

uint8_t pic_acknowledge(struct pic *pic)
{
	struct pic_chip *master = &pic->chip[0], *slave = &pic->chip[1];
	int line = pic_chip_pending(master, pic_slave_output(pic));
	int sline;

	/* A request that vanished before the acknowledge (masked in the
	 * meantime) yields the spurious IRQ 7, as on the real chip. */
	if (line < 0)
		return master->vector_base + 7;
	if (line != PIC_CASCADE_IRQ || master->single) {
		pic_chip_take(master, line);
		return master->vector_base + line;
	}
	pic_chip_take(master, line);
	sline = pic_chip_pending(slave, 0);
	if (sline < 0)
		return slave->vector_base + 7;
	pic_chip_take(slave, sline);
	return slave->vector_base + sline;
}

static void pic_icw1(struct pic_chip *chip, uint8_t value)
{
	chip->irr = 0;
	chip->isr = 0;
	chip->imr = 0;
	chip->auto_eoi = false;
	chip->read_isr = false;
	chip->need_icw4 = value & 0x01;
	chip->single = value & 0x02;
	chip->init_step = 2;
}

static void pic_ocw2(struct pic_chip *chip, uint8_t value)
{
	int command = value >> 5;
	int line;

	switch (command) {
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		line = pic_first_bit(chip->isr);
		if (line >= 0)
			chip->isr &= (uint8_t) ~(1u << line);
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		chip->isr &= (uint8_t) ~(1u << (value & 7));
		break;
	default: /* set priority, rotate in auto-EOI mode: no effect here */
		break;
	}
}

static void pic_write_command(struct pic_chip *chip, uint8_t value)
{
	if (value & 0x10)
		pic_icw1(chip, value);
	else if (value & 0x08) {
		if (value & 0x02)
			chip->read_isr = value & 0x01;
	} else
		pic_ocw2(chip, value);
}

static void pic_write_data(struct pic_chip *chip, uint8_t value)
{
	switch (chip->init_step) {
	case 2:
		chip->vector_base = value & 0xf8;
		chip->init_step = chip->single ? (chip->need_icw4 ? 4 : 0) : 3;
		break;
	case 3: /* ICW3: the cascade wiring, fixed on a PC */
		chip->init_step = chip->need_icw4 ? 4 : 0;
		break;
	case 4:
		chip->auto_eoi = value & 0x02;
		chip->init_step = 0;
		break;
	default:
		chip->imr = value;
		break;
	}
}

static struct pic_chip *pic_chip_of(struct pic *pic, uint16_t port)
{
	return &pic->chip[port == PORT_PIC2_CMD || port == PORT_PIC2_DATA];
}

uint32_t pic_read(void *dev, uint16_t port, int size)
{
	struct pic_chip *chip = pic_chip_of(dev, port);

	(void)size;
	if (port == PORT_PIC1_DATA || port == PORT_PIC2_DATA)
		return chip->imr;
	return chip->read_isr ? chip->isr : chip->irr;
}

void pic_write(void *dev, uint16_t port, int size, uint32_t value)
{
	struct pic_chip *chip = pic_chip_of(dev, port);

	(void)size;
	if (port == PORT_PIC1_DATA || port == PORT_PIC2_DATA)
		pic_write_data(chip, (uint8_t)value);
	else
		pic_write_command(chip, (uint8_t)value);
}
