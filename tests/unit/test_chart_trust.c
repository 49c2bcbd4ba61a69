/* test_chart_trust.c - the arithmetic behind charts you can trust: breaks
 * in a line where nothing existed (kept across re-bucketing and merging),
 * a process counted for the part of a column it lived, labels placed by
 * weight, the trend's units. */
#include "harness.h"

#include "../../plot/chart.h"
#include "../../plot/decimate.h"
#include "../../plot/lanes.h"
#include "../../plot/slope.h"
#include "../../plot/weigh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIB 1048576.0

TEST(decimate_break_marks_the_next_column)
{
	struct decimate d, r;
	const struct decimate_col *c;

	CHECK_EQ_INT(decimate_init(&d, 0, 100, 100, 0, 100), 0);
	decimate_add(&d, 10.5, 1);
	decimate_break(&d);
	/* In the same column: the column's span covers the gap. */
	decimate_add(&d, 10.7, 2);
	decimate_add(&d, 20.5, 3);
	decimate_break(&d);
	decimate_add(&d, 40.5, 4);
	CHECK((c = decimate_get(&d, 10)) && !c->brk);
	CHECK((c = decimate_get(&d, 20)) && !c->brk);
	CHECK((c = decimate_get(&d, 40)) && c->brk);
	/* Re-bucketed into 10 columns, the break stays with its column, and
	 * goes when a column holds both sides. */
	CHECK_EQ_INT(decimate_resample(&d, &r, 10), 0);
	CHECK((c = decimate_get(&r, 4)) && c->brk);
	decimate_free(&r);
	CHECK_EQ_INT(decimate_resample(&d, &r, 2), 0);
	CHECK((c = decimate_get(&r, 0)) && !c->brk);
	decimate_free(&r);
	decimate_free(&d);
}

TEST(decimate_break_survives_a_merge_of_halves)
{
	struct decimate a, b;
	const struct decimate_col *c;

	CHECK_EQ_INT(decimate_init(&a, 0, 100, 100, 1, 0), 0);
	CHECK_EQ_INT(decimate_init(&b, 0, 100, 100, 1, 0), 0);
	decimate_add(&a, 10.5, 1);
	decimate_add(&b, 60.5, 2); /* first of its half, not after a gap */
	decimate_break(&b);
	decimate_add(&b, 80.5, 3);
	CHECK_EQ_INT(decimate_merge(&a, &b), 0);
	CHECK((c = decimate_get(&a, 60)) && !c->brk);
	CHECK((c = decimate_get(&a, 80)) && c->brk);
	decimate_free(&a);
	decimate_free(&b);
	/* A later half that starts after a gap: its first column breaks. */
	CHECK_EQ_INT(decimate_init(&a, 0, 100, 100, 1, 0), 0);
	CHECK_EQ_INT(decimate_init(&b, 0, 100, 100, 1, 0), 0);
	decimate_add(&a, 10.5, 1);
	decimate_break(&b);
	decimate_add(&b, 70.5, 2);
	CHECK_EQ_INT(decimate_merge(&a, &b), 0);
	CHECK((c = decimate_get(&a, 70)) && c->brk);
	decimate_free(&a);
	decimate_free(&b);
}

TEST(series_counts_the_part_of_a_column_it_lived)
{
	struct chart c;
	double v[10];
	char alive[10];
	long s;

	CHECK_EQ_INT(chart_init(&c, 10, 10, 0, 10), 0);
	s = chart_add_series(&c, NULL, 0, CHART_NORMAL, 0, 10);
	/* 100 MiB from 2.0 s to 2.3 s (its samples every 0.1 s): a third of
	 * column 2, nothing elsewhere. */
	for (int i = 0; i < 3; i++)
		decimate_add(&c.series[s].dec, 2.0 + 0.1 * i, 100 * MIB);
	c.series[s].life_a = 2.0;
	c.series[s].life_b = 2.3;
	chart_series_columns(&c.series[s], v, alive);
	CHECK(fabs(v[2] - 30 * MIB) < 1);
	CHECK(alive[2] && !alive[1] && !alive[3]);
	CHECK(v[1] == 0 && v[3] == 0);
	/* Without a known life: whole, between its first and last columns. */
	c.series[s].life_a = 1;
	c.series[s].life_b = 0;
	chart_series_columns(&c.series[s], v, alive);
	CHECK(v[2] == 100 * MIB);
	chart_free(&c);
}

TEST(lanes_ranked_place_the_heaviest_first)
{
	/* Three overlapping labels, one lane: the one listed first wins,
	 * whatever its place in time. */
	double a[] = {0, 5, 10}, b[] = {8, 13, 18};
	size_t order[] = {1};
	int lane[3];

	CHECK_EQ_INT(lanes_assign_ranked(a, b, 3, 1, 1, order, 1, lane), 1);
	CHECK(lane[0] == -1 && lane[1] == 0 && lane[2] == -1);
	{
		size_t all[] = {2, 0, 1};

		CHECK_EQ_INT(lanes_assign_ranked(a, b, 3, 1, 2, all, 3, lane),
			     2);
		CHECK(lane[2] == 0 && lane[0] == 0 && lane[1] == 1);
	}
}

TEST(trend_rate_in_units_that_fit_the_window)
{
	char buf[64];

	CHECK_EQ_STR(ticks_format_rate(2 * MIB, 35, 1, buf, sizeof buf),
		     "+2.00 MiB/s");
	CHECK_EQ_STR(ticks_format_rate(-30 * MIB / 3600, 86400, 1, buf,
				       sizeof buf),
		     "-30.0 MiB/h");
	CHECK_EQ_STR(ticks_format_rate(512 * 1024.0 / 3600, 7200, 1, buf,
				       sizeof buf),
		     "+512.0 KiB/h");
	CHECK_EQ_STR(ticks_format_rate(0.5, 60, 0, buf, sizeof buf), "+0.5/s");
}

TEST(markers_weigh_by_rise_and_growth_not_a_neighbours_spike)
{
	struct chart c;
	struct decimate d;

	/* A sample every 10 ms for 10 s in 1000 columns: 60 MiB; a spike of
	 * 300 MiB from 5.00 s to 5.10 s; 40 MiB kept from 2.05 s on. */
	CHECK_EQ_INT(chart_init(&c, 100, 100, 0, 10), 0);
	CHECK_EQ_INT(decimate_init(&d, 0, 10, 1000, 0, 10), 0);
	for (int k = 0; k < 1000; k++) {
		double t = k / 100.0 + 0.005, v = 60;

		if (k >= 500 && k <= 510)
			v += 300;
		if (k >= 205)
			v += 40;
		decimate_add(&d, t, v * MIB);
	}
	chart_add_marker(&c, "before_spike", 4.89, 4.99, 0);
	chart_add_marker(&c, "spike", 5.00, 5.11, 0);
	chart_add_marker(&c, "after_spike", 5.12, 5.22, 0);
	chart_add_marker(&c, "leak", 2.00, 2.10, 0);
	chart_add_marker(&c, "deploy", 7, 6, 0);
	markers_weigh(&c, &d);
	CHECK(fabs(c.markers[0].weight) < 1);
	CHECK(fabs(c.markers[1].weight - 300 * MIB) < 1);
	CHECK(fabs(c.markers[2].weight) < 1);
	CHECK(fabs(c.markers[3].weight - 40 * MIB) < 1);
	CHECK(isinf(c.markers[4].weight));
	decimate_free(&d);
	chart_free(&c);
}
