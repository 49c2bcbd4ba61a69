/* polyline.c - tolerance-bounded point dropping (see polyline.h). */
#include "polyline.h"

#include <math.h>

void polyline_start(struct polyline *p, double tol, polyline_emit_fn emit,
		    void *ctx)
{
	p->tol = tol;
	p->emit = emit;
	p->ctx = ctx;
	p->kept = 0;
	p->pending = 0;
}

static void reset_cone(struct polyline *p)
{
	p->lo = -HUGE_VAL;
	p->hi = HUGE_VAL;
	p->reach = 0;
}

static void keep(struct polyline *p, double x, double y)
{
	p->emit(p->ctx, x, y, p->kept == 0);
	p->kept++;
	p->ax = x;
	p->ay = y;
	reset_cone(p);
}

void polyline_add(struct polyline *p, double x, double y)
{
	double dx, dy, d, th, lo, hi, cx, cy, cd, cth;

	if (p->kept == 0) {
		keep(p, x, y);
		return;
	}
	if (!p->pending) {
		if (x == p->ax && y == p->ay)
			return;
		p->pending = 1;
		p->bx = x;
		p->by = y;
		return;
	}
	/* The directions from a that pass within tol of the pending point:
	 * any, when it is that close to a itself. */
	dx = p->bx - p->ax;
	dy = p->by - p->ay;
	d = hypot(dx, dy);
	lo = p->lo;
	hi = p->hi;
	if (d > p->tol) {
		double half = asin(p->tol / d);

		th = atan2(dy, dx);
		lo = fmax(lo, th - half);
		hi = fmin(hi, th + half);
	}
	/* The new point may replace the pending one when its direction lies
	 * in that cone and it reaches past every point it stands in for (a
	 * span that doubles back at one x is not a shortcut). */
	cx = x - p->ax;
	cy = y - p->ay;
	cd = hypot(cx, cy);
	cth = atan2(cy, cx);
	if (lo <= hi && cth >= lo && cth <= hi && cd >= fmax(p->reach, d)) {
		p->lo = lo;
		p->hi = hi;
		p->reach = fmax(p->reach, d);
	} else {
		keep(p, p->bx, p->by);
	}
	p->bx = x;
	p->by = y;
}

long polyline_end(struct polyline *p)
{
	if (p->pending)
		keep(p, p->bx, p->by);
	p->pending = 0;
	return p->kept;
}
