/* slope.h - a robust trend of a decimated series: the Theil-Sen slope (the
 * median of the slopes between every pair of points) of the columns' means.
 *
 * The leak hint of mprof's -s is a least-squares line, which a garbage
 * collector's sawtooth cut by the window's ends, or a few bursts, pull far
 * off; the median of pairwise slopes is not moved by them as long as they
 * are less than about a third of the pairs.  Working on column means (one
 * point a pixel column, at most SLOPE_MAX_POINTS) keeps it bounded: the
 * same cost for ten samples or ten million.  Pure arithmetic. */
#ifndef MEMTIDE_PLOT_SLOPE_H
#define MEMTIDE_PLOT_SLOPE_H

#include <stddef.h>

#include "decimate.h"

/* More points are merged pairwise first: ~520k pairs, a few ms. */
#define SLOPE_MAX_POINTS 1024

struct slope {
	double per_s;     /* value units (bytes) per second */
	double intercept; /* value at x = x_ref */
	double x_ref;     /* seconds (the first point's x) */
	double xa, xb;    /* the span of the points, seconds */
	size_t points;    /* how many went in */
};

/* The Theil-Sen line through the n points (x[i], v[i]), x increasing.
 * Returns 0, -EINVAL for fewer than two distinct x, or -ENOMEM. */
int slope_theil_sen(const double *x, const double *v, size_t n,
		    struct slope *out);

/* The least-squares line through the same points, for comparison in tests
 * (what mprof draws).  Returns 0 or -EINVAL. */
int slope_least_squares(const double *x, const double *v, size_t n,
			struct slope *out);

/* slope_theil_sen() over the means of d's filled columns, at their centres
 * (merged down to SLOPE_MAX_POINTS).  Returns 0, -EINVAL (fewer than two
 * columns) or -ENOMEM. */
int slope_of_decimate(const struct decimate *d, struct slope *out);

#endif
