/*
 * test_pic.c - the 8259A pair behaves as a guest kernel expects.
 */
#include <criterion/criterion.h>

#include "devices/pic.h"
#include "ports.h"

static struct pic pic;

/* The initialisation every PC kernel does: vectors 0x20 and 0x28. */
static void pic_remap(void)
{
	pic_init(&pic);
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x11);
	pic_write(&pic, PORT_PIC2_CMD, 1, 0x11);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x20);
	pic_write(&pic, PORT_PIC2_DATA, 1, 0x28);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x04);
	pic_write(&pic, PORT_PIC2_DATA, 1, 0x02);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x01);
	pic_write(&pic, PORT_PIC2_DATA, 1, 0x01);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x00); /* unmask all */
	pic_write(&pic, PORT_PIC2_DATA, 1, 0x00);
}

static void eoi_master(void)
{
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x20);
}

TestSuite(pic, .init = pic_remap);

Test(pic, masked_after_reset)
{
	pic_init(&pic);
	pic_raise_irq(&pic, 0);
	cr_assert_not(pic_has_interrupt(&pic), "the BIOS-state PIC masks everything");
}

Test(pic, delivers_remapped_vector)
{
	pic_raise_irq(&pic, 0);
	cr_assert(pic_has_interrupt(&pic));
	cr_assert_eq(pic_acknowledge(&pic), 0x20);
	cr_assert_not(pic_has_interrupt(&pic));
}

Test(pic, in_service_blocks_same_and_lower_priority)
{
	pic_raise_irq(&pic, 3);
	cr_assert_eq(pic_acknowledge(&pic), 0x23);
	pic_raise_irq(&pic, 3);
	pic_raise_irq(&pic, 5);
	cr_assert_not(pic_has_interrupt(&pic), "IRQ 3 in service blocks 3 and 5");
	pic_raise_irq(&pic, 1);
	cr_assert(pic_has_interrupt(&pic), "IRQ 1 outranks IRQ 3");
	cr_assert_eq(pic_acknowledge(&pic), 0x21);
	eoi_master(); /* ends IRQ 1, the highest in service */
	cr_assert_not(pic_has_interrupt(&pic));
	eoi_master(); /* ends IRQ 3 */
	cr_assert_eq(pic_acknowledge(&pic), 0x23);
}

Test(pic, mask_hides_request_until_unmasked)
{
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x01);
	cr_assert_eq(pic_read(&pic, PORT_PIC1_DATA, 1), 0x01);
	pic_raise_irq(&pic, 0);
	cr_assert_not(pic_has_interrupt(&pic));
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x00);
	cr_assert(pic_has_interrupt(&pic), "the request was latched while masked");
}

Test(pic, edges_merge_while_pending)
{
	pic_raise_irq(&pic, 0);
	pic_raise_irq(&pic, 0);
	cr_assert_eq(pic_acknowledge(&pic), 0x20);
	eoi_master();
	cr_assert_not(pic_has_interrupt(&pic), "two edges before the ack are one interrupt");
}

Test(pic, slave_cascades_through_irq2)
{
	pic_raise_irq(&pic, 12);
	cr_assert(pic_has_interrupt(&pic));
	cr_assert_eq(pic_acknowledge(&pic), 0x2c);
	cr_assert_eq(pic.chip[0].isr, 0x04, "master has IRQ 2 in service");
	cr_assert_eq(pic.chip[1].isr, 0x10, "slave has its IRQ 4 in service");
}

Test(pic, specific_eoi)
{
	pic_raise_irq(&pic, 4);
	pic_acknowledge(&pic);
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x60 | 4);
	cr_assert_eq(pic.chip[0].isr, 0);
}

Test(pic, ocw3_selects_isr_or_irr)
{
	pic_write(&pic, PORT_PIC1_DATA, 1, 0xff);
	pic_raise_irq(&pic, 6);
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x0a); /* read IRR */
	cr_assert_eq(pic_read(&pic, PORT_PIC1_CMD, 1), 0x40);
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x0b); /* read ISR */
	cr_assert_eq(pic_read(&pic, PORT_PIC1_CMD, 1), 0x00);
}

Test(pic, auto_eoi_leaves_nothing_in_service)
{
	pic_write(&pic, PORT_PIC1_CMD, 1, 0x11);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x20);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x04);
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x03); /* ICW4: 8086, auto EOI */
	pic_write(&pic, PORT_PIC1_DATA, 1, 0x00);
	pic_raise_irq(&pic, 0);
	cr_assert_eq(pic_acknowledge(&pic), 0x20);
	cr_assert_eq(pic.chip[0].isr, 0);
}

Test(pic, spurious_when_request_vanishes)
{
	cr_assert_eq(pic_acknowledge(&pic), 0x27, "no request: spurious IRQ 7");
}

Test(pic, ignores_out_of_range_irq)
{
	pic_raise_irq(&pic, 16);
	pic_raise_irq(&pic, -1);
	cr_assert_not(pic_has_interrupt(&pic));
}
