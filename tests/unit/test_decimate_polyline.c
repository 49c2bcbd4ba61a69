/* test_decimate_polyline.c - the path simplification after decimation:
 * every dropped point stays within tolerance, spikes and turns stay. */
#include "harness.h"

#include "../../plot/polyline.h"

#include <math.h>
#include <stdlib.h>

struct pts {
	double xy[4096][2];
	int n, firsts;
};

static void collect(void *ctx, double x, double y, int first)
{
	struct pts *p = ctx;

	if (p->n < 4096) {
		p->xy[p->n][0] = x;
		p->xy[p->n][1] = y;
		p->n++;
	}
	p->firsts += first;
}

static double seg_dist(double px, double py, const double *a, const double *b)
{
	double dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
	double t = l2 > 0 ? ((px - a[0]) * dx + (py - a[1]) * dy) / l2 : 0;

	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

static long simplify(struct pts *out, const double (*in)[2], int n, double tol)
{
	struct polyline pl;

	out->n = out->firsts = 0;
	polyline_start(&pl, tol, collect, out);
	for (int i = 0; i < n; i++)
		polyline_add(&pl, in[i][0], in[i][1]);
	return polyline_end(&pl);
}

TEST(polyline_straight_line_is_two_points)
{
	static double in[1000][2];
	static struct pts out;

	for (int i = 0; i < 1000; i++) {
		in[i][0] = i;
		in[i][1] = 500 - 0.37 * i;
	}
	CHECK_EQ_INT(simplify(&out, in, 1000, 0.2), 2);
	CHECK_EQ_INT(out.firsts, 1);
	CHECK(out.xy[0][0] == 0 && out.xy[1][0] == 999);
}

TEST(polyline_keeps_spike_and_vertical_turns)
{
	static double in[1001][2];
	static struct pts out;
	int apex = 0;

	for (int i = 0; i <= 1000; i++) {
		in[i][0] = i;
		in[i][1] = i == 600 ? 10 : 400;
	}
	simplify(&out, in, 1001, 0.2);
	for (int i = 0; i < out.n; i++)
		apex |= out.xy[i][0] == 600 && out.xy[i][1] == 10;
	CHECK(apex);
	CHECK(out.n <= 5);
	/* Up and back down at one x: the top is beyond the segment that
	 * would skip it, so it stays. */
	{
		const double v[][2] = {{5, 50}, {5, 10}, {5, 40}};

		CHECK_EQ_INT(simplify(&out, v, 3, 0.2), 3);
	}
	/* Repeats of one point are one point. */
	{
		const double v[][2] = {{1, 1}, {1, 1}, {1, 1}};

		CHECK_EQ_INT(simplify(&out, v, 3, 0.2), 1);
	}
}

TEST(polyline_every_point_within_tolerance)
{
	static double in[3000][2];
	static struct pts out;
	double y = 300;

	srand(11);
	for (int i = 0; i < 3000; i++) {
		/* A slow curve with bursts of noise: the mix a chart sees. */
		y += sin(i / 150.0) * 0.3;
		if (i % 500 < 40)
			y += rand() % 21 - 10;
		in[i][0] = i / 2.5;
		in[i][1] = y;
	}
	simplify(&out, in, 3000, 0.2);
	CHECK(out.n < 3000);
	for (int i = 0; i < 3000; i++) {
		double best = HUGE_VAL;

		for (int j = 0; j + 1 < out.n; j++)
			best = fmin(best, seg_dist(in[i][0], in[i][1],
						   out.xy[j], out.xy[j + 1]));
		CHECK(best <= 0.2 + 1e-9);
	}
}
