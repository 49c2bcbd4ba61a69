/* weigh.c - how much each marker of a chart matters (see weigh.h). */
#include "weigh.h"

#include <math.h>

/* Moments that all weigh more than any span: a run's milestones. */
#define MILESTONES 20

/* The value of d before time t: the last sample of a column before t's,
 * else the first of t's; -1 when there is none.  A span's first sample
 * is already its own (it starts before it allocates). */
static double value_before(const struct decimate *d, double t)
{
	size_t i = decimate_col_of(d, t);
	const struct decimate_col *col;

	for (size_t k = i; k-- > d->lo;)
		if ((col = decimate_get(d, k)))
			return col->last;
	if (d->has_pre)
		return d->pre_v;
	return (col = decimate_get(d, i)) ? col->first : -1;
}

/* The value of d at time t: the last sample of t's column, else the last
 * one before it; -1 when there is none. */
static double value_at(const struct decimate *d, double t)
{
	const struct decimate_col *col = decimate_get(d, decimate_col_of(d, t));

	return col ? col->last : value_before(d, t);
}

void markers_weigh(struct chart *c, const struct decimate *d)
{
	size_t moments = 0;

	for (size_t i = 0; i < c->nmarkers; i++)
		moments += c->markers[i].t1 < c->markers[i].t0;
	for (size_t i = 0; i < c->nmarkers; i++) {
		struct chart_marker *mk = &c->markers[i];
		double v0, v1, peak = -1;
		long a, z;

		if (mk->t1 < mk->t0) {
			mk->weight = moments <= MILESTONES ? HUGE_VAL : 0;
			continue;
		}
		if ((v0 = value_before(d, mk->t0)) < 0)
			continue;
		/* The columns wholly in the span (the one of its middle, when
		 * there is none): a neighbour's spike in a column they share
		 * is not this span's. */
		a = (long)decimate_col_of(d, mk->t0);
		z = (long)decimate_col_of(d, mk->t1);
		if (decimate_col_x(d, (size_t)a) - 0.5 / d->scale < mk->t0)
			a++;
		if (decimate_col_x(d, (size_t)z) + 0.5 / d->scale > mk->t1)
			z--;
		if (a > z)
			a = z = (long)decimate_col_of(d, (mk->t0 + mk->t1) / 2);
		for (long k = a; k <= z; k++) {
			const struct decimate_col *col =
				decimate_get(d, (size_t)k);

			if (col)
				peak = fmax(peak, col->max);
		}
		mk->weight = fmax(0, peak - v0);
		if ((v1 = value_at(d, mk->t1)) >= 0)
			mk->weight = fmax(mk->weight, v1 - v0);
	}
}
