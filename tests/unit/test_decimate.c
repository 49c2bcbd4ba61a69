/* test_decimate.c - min/max decimation: extremes survive, windows clip,
 * re-bucketing keeps every value. */
#include "harness.h"

#include "decimate_same.h"

#include "../../plot/decimate.h"

#include <math.h>
#include <stdlib.h>

TEST(decimate_keeps_first_last_min_max)
{
	struct decimate d;
	const struct decimate_col *c;

	CHECK_EQ_INT(decimate_init(&d, 0, 10, 10, 0, 10), 0);
	decimate_add(&d, 0.1, 5);
	decimate_add(&d, 0.2, 9);
	decimate_add(&d, 0.3, 1);
	decimate_add(&d, 0.9, 4);
	c = decimate_get(&d, 0);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_INT(c->n, 4);
		CHECK(c->first == 5 && c->last == 4);
		CHECK(c->min == 1 && c->max == 9);
	}
	CHECK(decimate_get(&d, 1) == NULL);
	CHECK_EQ_INT(d.n, 4);
	CHECK(d.vmin == 1 && d.vmax == 9);
	decimate_free(&d);
}

TEST(decimate_one_sample_spike_survives)
{
	struct decimate d;
	size_t n = 1000000, spike = 654321, hit = 0;

	CHECK_EQ_INT(
		decimate_init(&d, 0, (double)(n - 1), 1000, 0, (double)(n - 1)),
		0);
	for (size_t i = 0; i < n; i++)
		decimate_add(&d, (double)i,
			     i == spike ? 1000 : 10 + (double)(i % 7));
	CHECK_EQ_INT(d.n, n);
	CHECK(d.vmax == 1000);
	for (size_t i = 0; i < d.ncols; i++) {
		const struct decimate_col *c = decimate_get(&d, i);

		CHECK(c != NULL);
		if (c && c->max == 1000) {
			hit++;
			CHECK_EQ_INT(i, decimate_col_of(&d, (double)spike));
			CHECK(c->min == 10);
		} else if (c) {
			CHECK(c->max == 16 && c->min == 10);
		}
	}
	CHECK_EQ_INT(hit, 1);
	decimate_free(&d);
}

TEST(decimate_window_clips_and_keeps_neighbours)
{
	struct decimate d;

	CHECK_EQ_INT(decimate_init(&d, 1.05, 1.25, 100, 0, 3), 0);
	for (int t = 0; t <= 30; t++)
		decimate_add(&d, t * 0.1, t);
	/* Inside: 1.1 and 1.2 only. */
	CHECK_EQ_INT(d.n, 2);
	CHECK(d.vmin == 11 && d.vmax == 12);
	CHECK(d.has_pre && d.pre_v == 10);
	CHECK(d.has_post && d.post_v == 13);
	CHECK(fabs(d.pre_x - 1.0) < 1e-9 && fabs(d.post_x - 1.3) < 1e-9);
	decimate_free(&d);
}

TEST(decimate_edges_land_in_end_columns)
{
	struct decimate d;

	CHECK_EQ_INT(decimate_init(&d, 0, 10, 5, 1, 0), 0);
	decimate_add(&d, 0, 1);
	decimate_add(&d, 10, 2);
	CHECK(decimate_get(&d, 0) != NULL && decimate_get(&d, 0)->max == 1);
	CHECK(decimate_get(&d, 4) != NULL && decimate_get(&d, 4)->max == 2);
	CHECK_EQ_INT(decimate_col_of(&d, -5), 0);
	CHECK_EQ_INT(decimate_col_of(&d, 50), 4);
	CHECK(fabs(decimate_col_x(&d, 0) - 1) < 1e-12);
	decimate_free(&d);
}

TEST(decimate_grows_outside_its_hint)
{
	struct decimate d;

	/* The hint covers columns 40..50; samples arrive from 10 to 90. */
	CHECK_EQ_INT(decimate_init(&d, 0, 100, 100, 40, 50), 0);
	CHECK(d.hi - d.lo <= 12);
	for (int x = 10; x <= 90; x++)
		decimate_add(&d, x + 0.5, x);
	CHECK_EQ_INT(d.err, 0);
	for (int x = 10; x <= 90; x++) {
		const struct decimate_col *c = decimate_get(&d, (size_t)x);

		CHECK(c != NULL && c->min == x && c->max == x);
	}
	CHECK(decimate_get(&d, 9) == NULL);
	CHECK(decimate_get(&d, 91) == NULL);
	decimate_free(&d);
}

TEST(decimate_short_series_allocates_little)
{
	struct decimate d;

	CHECK_EQ_INT(decimate_init(&d, 0, 3600, 1200, 100, 101), 0);
	CHECK(d.hi - d.lo <= 2);
	decimate_free(&d);
	CHECK_EQ_INT(decimate_init(&d, 0, 3600, 1200, 5000, 6000), 0);
	CHECK_EQ_INT(d.hi - d.lo, 0);
	decimate_free(&d);
	CHECK(decimate_init(&d, 5, 5, 10, 0, 1) < 0);
	decimate_free(&d);
	CHECK(decimate_init(&d, 0, 1, 0, 0, 1) < 0);
	decimate_free(&d);
}

TEST(decimate_resample_merges_columns)
{
	struct decimate src, dst;
	double vmax = 0;

	CHECK_EQ_INT(decimate_init(&src, 0, 1200, 1200, 0, 1200), 0);
	srand(7);
	for (int i = 0; i < 120000; i++) {
		double v = rand() % 1000;

		if (i == 77777)
			v = 5000;
		vmax = fmax(vmax, v);
		decimate_add(&src, i / 100.0, v);
	}
	CHECK_EQ_INT(decimate_resample(&src, &dst, 1000), 0);
	CHECK_EQ_INT(dst.n, src.n);
	CHECK(dst.vmax == vmax && dst.vmax == 5000);
	/* Each destination column holds exactly the extremes of the source
	 * columns whose centres fall in it, with first and last in order. */
	for (size_t j = 0; j < dst.ncols; j++) {
		const struct decimate_col *c = decimate_get(&dst, j);
		double mn = HUGE_VAL, mx = -HUGE_VAL, first = NAN, last = NAN;

		for (size_t i = 0; i < src.ncols; i++) {
			const struct decimate_col *s = decimate_get(&src, i);

			if (!s ||
			    decimate_col_of(&dst, decimate_col_x(&src, i)) != j)
				continue;
			if (isnan(first))
				first = s->first;
			last = s->last;
			mn = fmin(mn, s->min);
			mx = fmax(mx, s->max);
		}
		CHECK(c != NULL);
		if (c)
			CHECK(c->min == mn && c->max == mx &&
			      c->first == first && c->last == last);
	}
	decimate_free(&src);
	decimate_free(&dst);
}

TEST(decimate_merge_of_halves_equals_whole)
{
	/* 3000 samples 0.01 s apart over [0, 30) s, a window of [5, 25] s in
	 * 7 columns (so columns straddle any split), a spike at 12.34 s. */
	enum { N = 3000 };
	/* Splits: before the window, inside a column, on the spike, right
	 * after it, after the window, and with an empty half each side. */
	const size_t splits[] = {0, 250, 1234, 1235, 1500, 2600, N};
	double v[N];

	srand(11);
	for (size_t i = 0; i < N; i++)
		v[i] = 100 + rand() % 50 + (i == 1234 ? 9000 : 0);
	for (size_t k = 0; k < sizeof splits / sizeof *splits; k++) {
		struct decimate whole, a, b;

		CHECK_EQ_INT(decimate_init(&whole, 5, 25, 7, 0, 30), 0);
		CHECK_EQ_INT(decimate_init(&a, 5, 25, 7, 0, 30), 0);
		CHECK_EQ_INT(decimate_init(&b, 5, 25, 7, 1, 0), 0);
		for (size_t i = 0; i < N; i++) {
			decimate_add(&whole, (double)i / 100, v[i]);
			decimate_add(i < splits[k] ? &a : &b, (double)i / 100,
				     v[i]);
		}
		CHECK_EQ_INT(decimate_merge(&a, &b), 0);
		CHECK(whole.vmax == v[1234]);
		CHECK(whole.has_pre && whole.has_post);
		if (!decimate_same(&a, &whole))
			fprintf(stderr, "  split at sample %zu differs\n",
				splits[k]);
		CHECK(decimate_same(&a, &whole));
		decimate_free(&whole);
		decimate_free(&a);
		decimate_free(&b);
	}
}
