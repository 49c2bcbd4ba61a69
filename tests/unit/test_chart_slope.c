/* test_chart_slope.c - the -s trend: a garbage collector's sawtooth and a
 * few bursts over a slow leak give the leak, where least squares (mprof's
 * -s) is far off; the cost stays bounded. */
#include "harness.h"

#include "../../plot/decimate.h"
#include "../../plot/slope.h"

#include <math.h>

#define MIB 1048576.0

/* Two hours at 1 s: 200 MiB live, leaking 12 MiB/h, a sawtooth of 40 MiB
 * every 30 s (garbage piling up, then collected), and in the last third a
 * burst of +150 MiB for 6 s every 97 s.  Decimated into 1200 columns as
 * the chart does. */
static void sawtooth(struct decimate *d, double period, int bursts)
{
	decimate_init(d, 0, 7200, 1200, 0, 7200);
	for (int i = 0; i < 7200; i++) {
		double t = i, v = 200 * MIB + 12 * MIB * t / 3600 +
				  40 * MIB * fmod(t / period, 1.0);

		if (bursts && t > 4800 && i % 97 < 6)
			v += 150 * MIB;
		decimate_add(d, t, v);
	}
}

/* The least-squares slope of the same column means, MiB/h. */
static double least_squares(const struct decimate *d)
{
	double x[1200], v[1200];
	size_t n = 0;
	struct slope s;

	for (size_t i = 0; i < d->ncols; i++) {
		const struct decimate_col *c = decimate_get(d, i);

		if (!c)
			continue;
		x[n] = decimate_col_x(d, i);
		v[n++] = c->sum / c->n;
	}
	if (slope_least_squares(x, v, n, &s))
		return NAN;
	return s.per_s * 3600 / MIB;
}

TEST(slope_theil_sen_sees_the_leak_through_a_sawtooth)
{
	struct decimate d;
	struct slope s;
	double ls;

	sawtooth(&d, 30, 1);
	CHECK_EQ_INT(slope_of_decimate(&d, &s), 0);
	CHECK(fabs(s.per_s * 3600 / MIB - 12) < 0.36); /* within 3 % */
	ls = least_squares(&d);
	CHECK(fabs(ls - 12) > 4); /* the bursts pull it a third off */
	CHECK(s.points >= 500 && s.points <= SLOPE_MAX_POINTS);
	decimate_free(&d);

	sawtooth(&d, 30, 0);
	CHECK_EQ_INT(slope_of_decimate(&d, &s), 0);
	CHECK(fabs(s.per_s * 3600 / MIB - 12) < 0.36);
	decimate_free(&d);
}

TEST(slope_of_a_line_and_of_too_little)
{
	double x[5] = {0, 1, 2, 3, 4}, v[5] = {1, 3, 5, 7, 1000};
	struct slope s;
	struct decimate d;

	CHECK_EQ_INT(slope_theil_sen(x, v, 5, &s), 0);
	CHECK(fabs(s.per_s - 2) < 1e-12);
	CHECK(fabs(s.intercept - 1) < 1e-12);
	CHECK(slope_theil_sen(x, v, 1, &s) < 0);
	decimate_init(&d, 0, 10, 100, 0, 10);
	decimate_add(&d, 5, 1);
	CHECK(slope_of_decimate(&d, &s) < 0);
	decimate_free(&d);
}

TEST(slope_is_bounded_on_wide_canvases)
{
	struct decimate d;
	struct slope s;

	/* 16000 columns, a steady 1 unit/s: merged down, still exact. */
	decimate_init(&d, 0, 16000, 16000, 0, 16000);
	for (int i = 0; i < 160000; i++)
		decimate_add(&d, i * 0.1, 5 + i * 0.1);
	CHECK_EQ_INT(slope_of_decimate(&d, &s), 0);
	CHECK(s.points <= SLOPE_MAX_POINTS);
	CHECK(fabs(s.per_s - 1) < 1e-9);
	decimate_free(&d);
}
