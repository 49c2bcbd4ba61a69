/* decimate.c - per-column min/max/first/last buckets (see decimate.h). */
#include "decimate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int decimate_init(struct decimate *d, double x0, double x1, size_t ncols,
		  double xa, double xb)
{
	memset(d, 0, sizeof *d);
	if (!(x1 > x0) || !isfinite(x0) || !isfinite(x1) || ncols == 0)
		return -EINVAL;
	d->x0 = x0;
	d->x1 = x1;
	d->ncols = ncols;
	d->scale = (double)ncols / (x1 - x0);
	if (xa > xb || xb < x0 || xa > x1)
		return 0;
	d->lo = decimate_col_of(d, xa);
	d->hi = decimate_col_of(d, xb) + 1;
	d->col = calloc(d->hi - d->lo, sizeof *d->col);
	if (!d->col) {
		d->lo = d->hi = 0;
		return d->err = -ENOMEM;
	}
	return 0;
}

void decimate_free(struct decimate *d)
{
	free(d->col);
	d->col = NULL;
	d->lo = d->hi = 0;
}

size_t decimate_col_of(const struct decimate *d, double x)
{
	double c = (x - d->x0) * d->scale;

	/* floor(c) without calling it: the cast truncates, which is the
	 * same for c >= 1, and this is once a sample. */
	if (!(c >= 1))
		return 0;
	if (c >= (double)d->ncols)
		return d->ncols - 1;
	return (size_t)c;
}

double decimate_col_x(const struct decimate *d, size_t i)
{
	return d->x0 + ((double)i + 0.5) / d->scale;
}

const struct decimate_col *decimate_get(const struct decimate *d, size_t i)
{
	if (i < d->lo || i >= d->hi || d->col[i - d->lo].n == 0)
		return NULL;
	return &d->col[i - d->lo];
}

/* Widens the allocation to hold column c.  Samples come in increasing x, so
 * growing upwards is the common case: grow by a quarter of the window at a
 * time to keep it amortised. */
static int grow(struct decimate *d, size_t c)
{
	size_t lo = d->lo, hi = d->hi, step = d->ncols / 4 + 1;
	struct decimate_col *col;

	if (hi == lo)
		lo = hi = c;
	if (c < lo)
		lo = c;
	if (c >= hi)
		hi = c + step < d->ncols ? c + step : d->ncols;
	col = calloc(hi - lo, sizeof *col);
	if (!col)
		return d->err = -ENOMEM;
	if (d->col)
		memcpy(col + (d->lo - lo), d->col,
		       (d->hi - d->lo) * sizeof *col);
	free(d->col);
	d->col = col;
	d->lo = lo;
	d->hi = hi;
	return 0;
}

void decimate_break(struct decimate *d)
{
	d->gap = 1;
}

/* Column c (index i) is about to take a sample inside the window: it
 * starts a new piece of line after a decimate_break(), unless the last
 * sample fell in it too.  The first one of d keeps the break too: d may
 * be the later half of a read, merged after another (decimate_merge). */
static void mark_break(struct decimate *d, struct decimate_col *c, size_t i)
{
	if (d->gap && c->n == 0 && (d->n == 0 || i != d->last_i))
		c->brk = 1;
	d->gap = 0;
	d->last_i = i;
}

void decimate_add(struct decimate *d, double x, double v)
{
	struct decimate_col *c;
	size_t i;

	if (x < d->x0) {
		d->has_pre = 1;
		d->pre_x = x;
		d->pre_v = v;
		d->gap = 0;
		return;
	}
	if (x > d->x1) {
		if (!d->has_post) {
			d->has_post = 1;
			d->post_x = x;
			d->post_v = v;
			d->post_brk = d->gap;
		}
		return;
	}
	i = decimate_col_of(d, x);
	if ((i < d->lo || i >= d->hi) && grow(d, i) < 0)
		return;
	c = &d->col[i - d->lo];
	mark_break(d, c, i);
	/* Noise makes the comparisons unpredictable: these forms compile to
	 * minsd and maxsd instead of branches. */
	if (c->n++ == 0) {
		c->first = c->last = c->min = c->max = c->sum = v;
	} else {
		c->last = v;
		c->sum += v;
		c->min = v < c->min ? v : c->min;
		c->max = v > c->max ? v : c->max;
	}
	if (d->n++ == 0) {
		d->vmin = d->vmax = v;
	} else {
		d->vmin = v < d->vmin ? v : d->vmin;
		d->vmax = v > d->vmax ? v : d->vmax;
	}
}

void decimate_add_span(struct decimate *d, double x, double vmin, double vmax,
		       double mean, uint32_t n)
{
	decimate_add_bucket(d, x, vmin, vmin, vmax, vmax, mean, n);
}

void decimate_add_bucket(struct decimate *d, double x, double first,
			 double vmin, double vmax, double last, double mean,
			 uint32_t n)
{
	struct decimate_col *c;
	size_t i;

	if (n == 0)
		return;
	if (x < d->x0 || x > d->x1) {
		decimate_add(d, x, mean);
		return;
	}
	i = decimate_col_of(d, x);
	if ((i < d->lo || i >= d->hi) && grow(d, i) < 0)
		return;
	c = &d->col[i - d->lo];
	mark_break(d, c, i);
	if (c->n == 0) {
		c->first = first;
		c->min = vmin;
		c->max = vmax;
		c->sum = 0;
	} else {
		c->min = fmin(c->min, vmin);
		c->max = fmax(c->max, vmax);
	}
	c->last = last;
	c->sum += mean * n;
	c->n += n;
	if (d->n == 0) {
		d->vmin = vmin;
		d->vmax = vmax;
	} else {
		d->vmin = fmin(d->vmin, vmin);
		d->vmax = fmax(d->vmax, vmax);
	}
	d->n += n;
}

void decimate_add_ranged(struct decimate *d, double x, double v, double vmin,
			 double vmax)
{
	size_t n = d->n;

	decimate_add(d, x, v);
	if (d->n == n)
		return;
	d->vmin = fmin(d->vmin, vmin);
	d->vmax = fmax(d->vmax, vmax);
}

/* Folds column s, whose samples all come after c's, into c. */
static void col_merge(struct decimate_col *c, const struct decimate_col *s)
{
	if (c->n == 0) {
		*c = *s;
		return;
	}
	c->last = s->last;
	c->n += s->n;
	c->sum += s->sum;
	if (s->min < c->min)
		c->min = s->min;
	if (s->max > c->max)
		c->max = s->max;
}

int decimate_merge(struct decimate *dst, const struct decimate *src)
{
	for (size_t i = src->lo; i < src->hi; i++) {
		const struct decimate_col *s = &src->col[i - src->lo];

		if (s->n == 0)
			continue;
		if ((i < dst->lo || i >= dst->hi) && grow(dst, i) < 0)
			return dst->err;
		col_merge(&dst->col[i - dst->lo], s);
	}
	if (src->n && dst->n == 0) {
		dst->vmin = src->vmin;
		dst->vmax = src->vmax;
	} else if (src->n) {
		dst->vmin = fmin(dst->vmin, src->vmin);
		dst->vmax = fmax(dst->vmax, src->vmax);
	}
	dst->n += src->n;
	/* The last sample before the window is src's when it has one, the
	 * first after it dst's: src's samples all come later. */
	if (src->has_pre) {
		dst->has_pre = 1;
		dst->pre_x = src->pre_x;
		dst->pre_v = src->pre_v;
	}
	if (!dst->has_post && src->has_post) {
		dst->has_post = 1;
		dst->post_brk = src->post_brk;
		dst->post_x = src->post_x;
		dst->post_v = src->post_v;
	}
	if (!dst->err)
		dst->err = src->err;
	return dst->err;
}

int decimate_resample(const struct decimate *src, struct decimate *dst,
		      size_t ncols)
{
	int err;

	if (src->hi > src->lo)
		err = decimate_init(dst, src->x0, src->x1, ncols,
				    decimate_col_x(src, src->lo),
				    decimate_col_x(src, src->hi - 1));
	else
		err = decimate_init(dst, src->x0, src->x1, ncols, 1, 0);
	if (err)
		return err;
	for (size_t i = src->lo; i < src->hi; i++) {
		const struct decimate_col *s = &src->col[i - src->lo];
		size_t j;

		if (s->n == 0)
			continue;
		j = decimate_col_of(dst, decimate_col_x(src, i));
		if ((j < dst->lo || j >= dst->hi) && grow(dst, j) < 0)
			return dst->err;
		col_merge(&dst->col[j - dst->lo], s);
	}
	dst->n = src->n;
	dst->vmin = src->vmin;
	dst->vmax = src->vmax;
	dst->has_pre = src->has_pre;
	dst->pre_x = src->pre_x;
	dst->pre_v = src->pre_v;
	dst->has_post = src->has_post;
	dst->post_brk = src->post_brk;
	dst->post_x = src->post_x;
	dst->post_v = src->post_v;
	return 0;
}
