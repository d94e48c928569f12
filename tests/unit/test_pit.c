/*
 * test_pit.c - the 8254 model against a fake clock.
 */
#include <criterion/criterion.h>

#include "devices/pit.h"
#include "ports.h"

static uint64_t fake_now;
static struct pit pit;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void setup(void)
{
	fake_now = 1000000000ull;
	pit_init(&pit, fake_clock);
}

/* What the guest kernel does for 100 Hz: mode 2, lobyte/hibyte. */
static void program(uint8_t mode, uint16_t divisor)
{
	pit_write(&pit, PORT_PIT_MODE, 1, 0x30 | (unsigned)(mode << 1));
	pit_write(&pit, PORT_PIT_CH0, 1, divisor & 0xff);
	pit_write(&pit, PORT_PIT_CH0, 1, divisor >> 8);
}

TestSuite(pit, .init = setup);

Test(pit, idle_until_programmed)
{
	cr_assert_eq(pit_next_deadline(&pit), 0);
	fake_now += 1000000000ull;
	cr_assert_eq(pit_edges_due(&pit, fake_now), 0);
}

Test(pit, periodic_100hz)
{
	uint64_t start = fake_now;

	program(2, 11932); /* 1193182 / 100 */
	cr_assert_eq(pit_next_deadline(&pit), start + 11932ull * 1000000000ull / PIT_HZ);
	cr_assert_eq(pit_edges_due(&pit, start + 9000000), 0, "not yet after 9 ms");
	cr_assert_eq(pit_edges_due(&pit, start + 10100000), 1, "one edge after 10.1 ms");
	cr_assert_eq(pit_edges_due(&pit, start + 10200000), 0, "and only one");
	cr_assert_eq(pit_edges_due(&pit, start + 50100000), 4, "four more by 50.1 ms");
	cr_assert_gt(pit_next_deadline(&pit), start + 50100000);
}

Test(pit, square_wave_is_periodic_too)
{
	program(3, 1193);
	cr_assert_eq(pit_edges_due(&pit, fake_now + 3000000), 3, "edges at 1.0, 2.0 and 3.0 ms");
}

Test(pit, one_shot_fires_once)
{
	program(0, 1193); /* about 1 ms */
	cr_assert_eq(pit_edges_due(&pit, fake_now + 5000000), 1);
	cr_assert_eq(pit_edges_due(&pit, fake_now + 50000000), 0);
	cr_assert_eq(pit_next_deadline(&pit), 0);
}

Test(pit, zero_divisor_means_65536)
{
	program(2, 0);
	cr_assert_eq(pit_next_deadline(&pit) - fake_now, 65536ull * 1000000000ull / PIT_HZ);
}

Test(pit, latch_reads_count_down)
{
	uint16_t count;

	program(2, 10000);
	fake_now += 1000000;			 /* 1 ms: about 1193 input clocks */
	pit_write(&pit, PORT_PIT_MODE, 1, 0x00); /* latch counter 0 */
	fake_now += 5000000;			 /* later reads still see the latched value */
	count = (uint16_t)pit_read(&pit, PORT_PIT_CH0, 1);
	count |= (uint16_t)(pit_read(&pit, PORT_PIT_CH0, 1) << 8);
	cr_assert(count >= 10000 - 1194 && count <= 10000 - 1192, "count %u", count);
}

Test(pit, new_mode_stops_counter)
{
	program(2, 1000);
	pit_write(&pit, PORT_PIT_MODE, 1, 0x34);
	cr_assert_eq(pit_next_deadline(&pit), 0, "reprogramming waits for a new count");
}

Test(pit, lobyte_only_access)
{
	pit_write(&pit, PORT_PIT_MODE, 1, 0x14); /* counter 0, lobyte, mode 2 */
	pit_write(&pit, PORT_PIT_CH0, 1, 100);
	cr_assert_eq(pit_next_deadline(&pit) - fake_now, 100ull * 1000000000ull / PIT_HZ);
}

Test(pit, mode_register_reads_all_ones)
{
	cr_assert_eq(pit_read(&pit, PORT_PIT_MODE, 1), 0xff);
}

Test(pit, gated_modes_never_start)
{
	program(1, 100);
	cr_assert_eq(pit_next_deadline(&pit), 0, "mode 1 waits for a GATE edge");
	program(5, 100);
	cr_assert_eq(pit_next_deadline(&pit), 0, "mode 5 waits for a GATE edge");
	program(4, 1193);
	cr_assert_eq(pit_edges_due(&pit, fake_now + 2000000), 1, "mode 4 strobes once");
}

Test(pit, count_after_hours)
{
	uint16_t count;

	program(2, 10000);
	fake_now += 5 * 3600 * 1000000000ull + 1000000; /* 5 h and 1 ms */
	pit_write(&pit, PORT_PIT_MODE, 1, 0x00);
	count = (uint16_t)pit_read(&pit, PORT_PIT_CH0, 1);
	count |= (uint16_t)(pit_read(&pit, PORT_PIT_CH0, 1) << 8);
	/* 5 h is a whole number of 10000-clock periods to within the rounding
	 * of the 1 ms: the count must be near 10000 - 1193, not wrapped junk. */
	cr_assert(count <= 10000, "count %u", count);
}
