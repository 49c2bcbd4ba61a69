/* slope.c - Theil-Sen trend over decimated columns (see slope.h). */
#include "slope.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The k-th smallest of v[0..n-1] (Wirth's selection; reorders v).  The
 * values are finite: x is strictly increasing between any pair taken. */
static double select_kth(double *v, size_t n, size_t k)
{
	long lo = 0, hi = (long)n - 1, kk = (long)k;

	while (lo < hi) {
		double pivot = v[kk];
		long i = lo, j = hi;

		do {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j) {
				double t = v[i];

				v[i++] = v[j];
				v[j--] = t;
			}
		} while (i <= j);
		if (j < kk)
			lo = i;
		if (kk < i)
			hi = j;
	}
	return v[kk];
}

static double median(double *v, size_t n)
{
	double a = select_kth(v, n, n / 2), b;

	if (n % 2)
		return a;
	b = select_kth(v, n, n / 2 - 1);
	return (a + b) / 2;
}

int slope_theil_sen(const double *x, const double *v, size_t n,
		    struct slope *out)
{
	size_t m = 0;
	double *s;

	if (n < 2 || !(x[n - 1] > x[0]))
		return -EINVAL;
	if (!(s = malloc(n * (n - 1) / 2 * sizeof *s)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (x[j] > x[i])
				s[m++] = (v[j] - v[i]) / (x[j] - x[i]);
	out->per_s = median(s, m);
	for (size_t i = 0; i < n; i++)
		s[i] = v[i] - out->per_s * (x[i] - x[0]);
	out->intercept = median(s, n);
	out->x_ref = x[0];
	out->xa = x[0];
	out->xb = x[n - 1];
	out->points = n;
	free(s);
	return 0;
}

int slope_least_squares(const double *x, const double *v, size_t n,
			struct slope *out)
{
	double mx = 0, mv = 0, sxx = 0, sxv = 0;

	if (n < 2 || !(x[n - 1] > x[0]))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		mv += v[i];
	}
	mx /= (double)n;
	mv /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxv += (x[i] - mx) * (v[i] - mv);
	}
	out->per_s = sxv / sxx;
	out->x_ref = x[0];
	out->intercept = mv - out->per_s * (mx - x[0]);
	out->xa = x[0];
	out->xb = x[n - 1];
	out->points = n;
	return 0;
}

int slope_of_decimate(const struct decimate *d, struct slope *out)
{
	size_t n = 0, cap = d->hi - d->lo, group, m = 0;
	double *x, *v;
	int err;

	if (cap < 2)
		return -EINVAL;
	x = malloc(cap * sizeof *x);
	v = malloc(cap * sizeof *v);
	if (!x || !v) {
		free(x);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = d->lo; i < d->hi; i++) {
		const struct decimate_col *c = decimate_get(d, i);

		if (!c)
			continue;
		x[n] = decimate_col_x(d, i);
		v[n++] = c->sum / c->n;
	}
	/* Merges runs of group neighbours, so that the pairs stay bounded. */
	group = (n + SLOPE_MAX_POINTS - 1) / SLOPE_MAX_POINTS;
	if (group > 1) {
		for (size_t i = 0; i < n; i += group) {
			double sx = 0, sv = 0;
			size_t k = 0;

			for (; k < group && i + k < n; k++) {
				sx += x[i + k];
				sv += v[i + k];
			}
			x[m] = sx / (double)k;
			v[m++] = sv / (double)k;
		}
		n = m;
	}
	err = slope_theil_sen(x, v, n, out);
	free(x);
	free(v);
	return err;
}
