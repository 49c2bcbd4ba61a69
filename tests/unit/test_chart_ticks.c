/* test_chart_ticks.c - nice 1-2-5 ticks, byte units and their labels. */
#include "harness.h"

#include "../../plot/ticks.h"

#include <math.h>
#include <string.h>

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

TEST(ticks_step_is_1_2_5)
{
	CHECK(near(ticks_step(10, 11), 1));
	CHECK(near(ticks_step(10, 6), 2));
	CHECK(near(ticks_step(10, 3), 5));
	CHECK(near(ticks_step(10, 2), 10));
	CHECK(near(ticks_step(301.2, 8), 50));
	CHECK(near(ticks_step(0.37, 8), 0.05));
	CHECK(near(ticks_step(86400, 10), 10000));
	CHECK(near(ticks_step(1e-3, 5), 0.0005));
	CHECK(near(ticks_step(0, 5), 1));
	CHECK(near(ticks_step(NAN, 5), 1));
}

TEST(ticks_nice_covers_range_within_budget)
{
	static const double ranges[][2] = {
		{0, 1},       {0, 7.3}, {0, 59.94}, {0, 301.2},  {0.5, 3.7},
		{12.3, 12.9}, {0, 1e6}, {3, 1000},  {0, 0.0123}, {100, 86400},
	};

	for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
		for (int max = 2; max <= 12; max++) {
			struct ticks t;
			double lo = ranges[r][0], hi = ranges[r][1];

			ticks_nice(lo, hi, max, &t);
			CHECK(t.n >= 1);
			CHECK(t.n <= max);
			CHECK(ticks_value(&t, 0) >= lo - 1e-9 * hi);
			CHECK(ticks_value(&t, t.n - 1) <= hi + 1e-9 * hi);
			/* Every tick is a whole multiple of the step. */
			for (int i = 0; i < t.n; i++) {
				double k = ticks_value(&t, i) / t.step;

				CHECK(fabs(k - round(k)) < 1e-6);
			}
			/* No room left for a tick beyond either end. */
			CHECK(ticks_value(&t, 0) - t.step < lo + 1e-9);
			CHECK(ticks_value(&t, t.n - 1) + t.step > hi - 1e-9);
		}
	}
}

TEST(ticks_nice_examples)
{
	struct ticks t;

	ticks_nice(0, 59.94, 13, &t);
	CHECK(near(t.step, 5));
	CHECK_EQ_INT(t.n, 12);
	CHECK_EQ_INT(t.decimals, 0);
	ticks_nice(0, 1.5, 8, &t);
	CHECK(near(t.step, 0.2));
	CHECK_EQ_INT(t.n, 8);
	CHECK_EQ_INT(t.decimals, 1);
	ticks_nice(1.05, 1.25, 6, &t);
	CHECK(near(t.step, 0.05));
	CHECK(near(ticks_value(&t, 0), 1.05));
	CHECK_EQ_INT(t.decimals, 2);
	ticks_nice(5, 5, 6, &t);
	CHECK_EQ_INT(t.n, 1);
}

TEST(ticks_format_has_no_float_noise)
{
	struct ticks t;
	char buf[32];

	ticks_nice(0, 1, 11, &t);
	CHECK_EQ_STR(ticks_format(&t, ticks_value(&t, 3), buf, sizeof buf),
		     "0.3");
	CHECK_EQ_STR(ticks_format(&t, ticks_value(&t, 0), buf, sizeof buf),
		     "0.0");
	CHECK_EQ_STR(ticks_format(&t, -0.0, buf, sizeof buf), "0.0");
	CHECK_EQ_STR(ticks_format(&t, -1e-12, buf, sizeof buf), "0.0");
	ticks_nice(0, 350, 8, &t);
	CHECK_EQ_STR(ticks_format(&t, ticks_value(&t, 7), buf, sizeof buf),
		     "350");
}

TEST(ticks_unit_follows_the_data)
{
	CHECK_EQ_STR(ticks_unit_bytes(0)->name, "MiB");
	CHECK_EQ_STR(ticks_unit_bytes(-5)->name, "MiB");
	CHECK_EQ_STR(ticks_unit_bytes(100)->name, "KiB");
	CHECK_EQ_STR(ticks_unit_bytes(900.0 * 1024)->name, "KiB");
	CHECK_EQ_STR(ticks_unit_bytes(1024.0 * 1024)->name, "MiB");
	CHECK_EQ_STR(ticks_unit_bytes(301.2 * 1048576)->name, "MiB");
	CHECK_EQ_STR(ticks_unit_bytes(1023.0 * 1048576)->name, "MiB");
	CHECK_EQ_STR(ticks_unit_bytes(1.5 * 1073741824)->name, "GiB");
	CHECK_EQ_STR(ticks_unit_bytes(5000.0 * 1073741824)->name, "TiB");
	CHECK(near(ticks_unit_bytes(2.0 * 1073741824)->bytes, 1073741824.0));
}

TEST(ticks_format_bytes_keeps_four_digits)
{
	const struct ticks_unit *mib = ticks_unit_bytes(1048576);
	const struct ticks_unit *gib = ticks_unit_bytes(2 * 1073741824.0);
	char buf[32];

	CHECK_EQ_STR(ticks_format_bytes(301.2 * 1048576, mib, buf, sizeof buf),
		     "301.2 MiB");
	CHECK_EQ_STR(ticks_format_bytes(9.88 * 1048576, mib, buf, sizeof buf),
		     "9.88 MiB");
	CHECK_EQ_STR(
		ticks_format_bytes(1.53 * 1073741824, gib, buf, sizeof buf),
		"1.53 GiB");
}
