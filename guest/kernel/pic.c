/*
 * pic.c - the two cascaded 8259A programmable interrupt controllers.
 *
 * A PC's devices raise interrupt request lines IRQ 0-15; the master PIC
 * takes 0-7, the slave 8-15 and reports them on the master's IRQ 2.  A
 * PIC turns a request into a vector number for the CPU and then holds
 * back requests of equal or lower priority until the kernel says
 * end-of-interrupt (EOI).
 *
 * The BIOS leaves the master delivering IRQ 0-7 at vectors 8-15, right on
 * top of the CPU's own exceptions (8 is the double fault!), so the first
 * thing any protected-mode kernel does is reprogram both chips: master at
 * IRQ_BASE (0x20), slave at IRQ_BASE + 8 (0x28).
 *
 * We only ever unmask the timer (pit.c).  A masked line can still produce
 * a "spurious" IRQ 7 (or 15): the chip had a request that vanished before
 * the CPU acknowledged it, and answered with its lowest-priority vector.
 * Such an interrupt is not in service, so it must not be acknowledged.
 */
#include "cpu.h"
#include "pic.h"
#include "ports.h"
#include "traps.h"

#define PIC_ICW1_INIT	0x11	/* edge triggered, cascaded, ICW4 follows */
#define PIC_ICW3_MASTER	0x04	/* a slave hangs on IRQ 2 */
#define PIC_ICW3_SLAVE	0x02	/* ...and this is its id */
#define PIC_ICW4_8086	0x01	/* 8086 mode, normal (not automatic) EOI */
#define PIC_OCW2_EOI	0x20	/* non-specific end of interrupt */
#define PIC_OCW3_ISR	0x0b	/* the next command-port read returns the ISR */
#define PIC_CASCADE_IRQ	2
#define PIC_SPURIOUS	7	/* the line a vanished request is reported on */

static uint8_t pic_mask[2] = { 0xff, 0xff };

static void pic_init_chip(uint16_t cmd, uint16_t data, uint8_t vector_base, uint8_t icw3,
			  uint8_t mask)
{
	outb(cmd, PIC_ICW1_INIT);
	outb(data, vector_base);
	outb(data, icw3);
	outb(data, PIC_ICW4_8086);
	outb(data, mask);
}

void pic_init(void)
{
	pic_init_chip(PORT_PIC1_CMD, PORT_PIC1_DATA, IRQ_BASE, PIC_ICW3_MASTER, pic_mask[0]);
	pic_init_chip(PORT_PIC2_CMD, PORT_PIC2_DATA, IRQ_BASE + 8, PIC_ICW3_SLAVE, pic_mask[1]);
}

void pic_unmask(int irq)
{
	if (irq >= 8) {
		pic_mask[1] &= (uint8_t)~(1u << (irq - 8));
		outb(PORT_PIC2_DATA, pic_mask[1]);
		irq = PIC_CASCADE_IRQ;
	}
	pic_mask[0] &= (uint8_t)~(1u << irq);
	outb(PORT_PIC1_DATA, pic_mask[0]);
}

static uint8_t pic_in_service(uint16_t cmd)
{
	outb(cmd, PIC_OCW3_ISR);
	return inb(cmd);
}

/*
 * Is this IRQ 7 or 15 one that no device raised?  A spurious IRQ 15 did go
 * through the master's cascade line, so the master still wants its EOI.
 */
bool pic_spurious(int irq)
{
	if (irq == PIC_SPURIOUS)
		return !(pic_in_service(PORT_PIC1_CMD) & (1u << PIC_SPURIOUS));
	if (irq == 8 + PIC_SPURIOUS && !(pic_in_service(PORT_PIC2_CMD) & (1u << PIC_SPURIOUS))) {
		outb(PORT_PIC1_CMD, PIC_OCW2_EOI);
		return true;
	}
	return false;
}

void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PORT_PIC2_CMD, PIC_OCW2_EOI);
	outb(PORT_PIC1_CMD, PIC_OCW2_EOI);
}
